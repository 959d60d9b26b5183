/* server_auto_cmd.c: `outbox server edit NAME --auto`: discovery again for a saved server, the
 * difference shown, and only the changed fields saved; the library does the work. */
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "json.h"

enum {
	OPT_AUTO = 4000,
	OPT_DRY_RUN,
	OPT_JSON
};

struct auto_args {
	const char *name;
	int dry_run, json;
	outbox_setup_options o;
};

static int auto_parse(int argc, char **argv, struct auto_args *a)
{
	static const struct option opts[] = {
		{"auto", no_argument, NULL, OPT_AUTO},
		{"dry-run", no_argument, NULL, OPT_DRY_RUN},
		{"json", no_argument, NULL, OPT_JSON},
		SETUP_DISCOVERY_LONG_OPTIONS,
		{NULL, 0, NULL, 0}};
	int c, rc;

	memset(a, 0, sizeof *a);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if ((rc = setup_discovery_option("server edit", c, optarg, &a->o)) == 0)
			continue;
		if (rc > 0)
			return rc;
		switch (c) {
		case OPT_AUTO: break;
		case OPT_DRY_RUN: a->dry_run = 1; break;
		case OPT_JSON: a->json = 1; break;
		case ':':
			return cli_usage("server edit", "%s needs a value", argv[optind - 1]);
		default:
			/* Discovery decides the settings: naming one as well would say two things. */
			return cli_usage("server edit", "--auto takes only --dry-run, --json, --ispdb, --resolver, "
							"--tls-ca and --timeout, not %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage("server edit", "which server? give its NAME");
	a->name = argv[optind++];
	if (optind < argc)
		return cli_usage("server edit", "unexpected argument \"%s\"", argv[optind]);
	return 0;
}

static const char *auto_label(outbox_server_field_id id)
{
	switch (id) {
	case OUTBOX_SERVER_HOST: return "Host";
	case OUTBOX_SERVER_SECURITY: return "Security";
	case OUTBOX_SERVER_PORT: return "Port";
	case OUTBOX_SERVER_USER: return "User Name";
	default: return "Auth";
	}
}

static void auto_print_changes(const outbox_setup_change *ch, size_t n)
{
	size_t i;

	if (n == 0)
		printf("no change: the settings are what discovery finds\n");
	for (i = 0; i < n; i++)
		printf("%s: %s \u2192 %s\n", auto_label(ch[i].field), ch[i].before, ch[i].after);
}

static void auto_json_changes(struct json *j, const outbox_setup_change *ch, size_t n)
{
	size_t i;

	json_key(j, "changes");
	json_begin_array(j);
	for (i = 0; i < n; i++) {
		json_begin_object(j);
		json_member_string(j, "field", outbox_server_field_info(ch[i].field)->key);
		json_member_string(j, "before", ch[i].before);
		json_member_string(j, "after", ch[i].after);
		json_end_object(j);
	}
	json_end_array(j);
}

int cmd_server_edit_auto(int argc, char **argv)
{
	struct auto_args a;
	outbox *h = NULL;
	outbox_server *s = NULL, *saved = NULL;
	outbox_setup_result *r = NULL;
	outbox_setup_change changes[OUTBOX_SETUP_AUTO_FIELDS];
	const char *address, *from;
	struct json j, *jp = NULL;
	size_t n = 0;
	int rc, found;

	if ((rc = auto_parse(argc, argv, &a)) != 0 ||
	    (rc = a.dry_run ? cli_open_to_read(&h) : cli_open(&h)) != 0)
		goto out;
	if ((rc = outbox_server_load(h, a.name, &s)) < 0 || (rc = outbox_setup_auto_address(h, s, &address, &from)) < 0) {
		rc = cli_fail(h, rc);
		goto out;
	}
	/* The server's own CA is what its provider's hosts are trusted by, unless another is named. */
	if (a.o.tls_ca == NULL && *outbox_server_get(s, OUTBOX_SERVER_TLS_CA))
		a.o.tls_ca = outbox_server_get(s, OUTBOX_SERVER_TLS_CA);
	if (!a.json)
		printf("Looking up %s (%s) for server \"%s\".\n", address, from, a.name);
	found = outbox_setup_auto_discover(h, s, address, &a.o, a.json ? NULL : setup_progress, NULL, &r);
	if (r == NULL) {
		rc = cli_fail(h, found);
		goto out;
	}
	if (found == 0) {
		n = outbox_setup_auto_changes(s, r, changes);
		if (n > 0 && !a.dry_run)
			found = outbox_setup_auto_save(h, a.name, changes, n, &saved);
	}
	if (a.json) {
		json_init(&j, stdout);
		jp = &j;
		json_begin_object(jp);
		json_member_string(jp, "server", a.name);
		json_member_string(jp, "address", address);
		json_member_string(jp, "address-from", from);
		json_key(jp, "discovery");
		json_begin_object(jp);
		setup_json_result(jp, r);
		json_end_object(jp);
		if (found == 0)
			auto_json_changes(jp, changes, n);
		json_key(jp, "saved");
		json_raw(jp, found == 0 && n > 0 && !a.dry_run ? "true" : "false");
		if (found < 0)
			json_member_string(jp, "error", outbox_errmsg(h));
		json_end_object(jp);
		json_end(jp);
	} else {
		setup_print_text(r);
		if (found == 0) {
			auto_print_changes(changes, n);
			if (n > 0 && a.dry_run)
				printf("Nothing saved (--dry-run).\n");
			else if (n > 0)
				printf("Updated server \"%s\".\n", a.name);
		}
	}
	rc = found < 0 ? outbox_exit_code(found) : 0;
	if (found < 0)
		fprintf(stderr, "outbox: %s; nothing saved\n", outbox_errmsg(h));
out:
	outbox_setup_result_free(r);
	outbox_server_free(s);
	outbox_server_free(saved);
	outbox_close(h);
	return rc;
}
