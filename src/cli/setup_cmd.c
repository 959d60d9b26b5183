/* setup_cmd.c: `outbox setup ADDRESS`: finds, probes and verifies a server from an address and saves
 * it with an account, explaining each source and candidate; the library does the work. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"

enum {
	OPT_NAME = 3000,
	OPT_PASSWORD_STDIN,
	OPT_PASSWORD_PROMPT,
	OPT_PASSWORD_COMMAND,
	OPT_OAUTH_CLIENT_ID,
	OPT_DRY_RUN,
	OPT_JSON
};

struct setup_args {
	const char *address;
	const char *full_name;
	int password_stdin, password_prompt, dry_run, json;
	outbox_setup_options o;
};

static void setup_help(void)
{
	printf("Usage: outbox setup ADDRESS [OPTIONS]\n"
	       "\n"
	       "Find the outgoing server of ADDRESS (the provider's autoconfig, the ISPDB, SRV and MX\n"
	       "records, then guesses), connect to each server found, choose the best, check the login\n"
	       "when a password is given, and save the server and an account for ADDRESS.\n"
	       "\n"
	       "Options:\n"
	       "  --name \"Full Name\"            the account's name for From\n"
	       "  --password-stdin               read the password from standard input\n"
	       "  --password-prompt              ask for it on the terminal, without echo\n"
	       "  --password-command CMD         run CMD for the password; only CMD is stored\n"
	       "  --oauth-client-id ID           sign in with OAuth 2.0 later (outbox server login)\n"
	       "  --dry-run                      show what would be saved; save nothing\n"
	       "  --json                         print the sources, candidates and choice as JSON\n"
	       "  --ispdb URL                    the ISPDB's base URL (default Thunderbird's)\n"
	       "  --resolver HOST:PORT           send every DNS query to this server\n"
	       "  --tls-ca FILE                  trust this CA for the lookups; stored on the server\n"
	       "  --timeout SECONDS              the limit of each stage (default 5)\n"
	       "\n"
	       "Nothing is saved unless a server was found, probed over verified TLS and, with a\n"
	       "password, logged in to. A server that takes a password is chosen, with a password or\n"
	       "without, only when it is in ADDRESS's domain or the provider's autoconfig or the ISPDB\n"
	       "names it. Exit status 69 when no server is usable, 77 when the login was refused,\n"
	       "65 when the save would be refused (--dry-run too); an address that has an account\n"
	       "already is refused before any lookup. 'outbox undo' takes a saved setup back: its\n"
	       "account and server go.\n");
}

static int setup_parse(int argc, char **argv, struct setup_args *a)
{
	static const struct option opts[] = {
		{"name", required_argument, NULL, OPT_NAME},
		{"password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN},
		{"password-prompt", no_argument, NULL, OPT_PASSWORD_PROMPT},
		{"password-command", required_argument, NULL, OPT_PASSWORD_COMMAND},
		{"oauth-client-id", required_argument, NULL, OPT_OAUTH_CLIENT_ID},
		{"dry-run", no_argument, NULL, OPT_DRY_RUN},
		{"json", no_argument, NULL, OPT_JSON},
		SETUP_DISCOVERY_LONG_OPTIONS,
		{NULL, 0, NULL, 0}};
	int c, rc;

	memset(a, 0, sizeof *a);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if ((rc = setup_discovery_option("setup", c, optarg, &a->o)) == 0)
			continue;
		if (rc > 0)
			return rc;
		switch (c) {
		case OPT_NAME: a->full_name = optarg; break;
		case OPT_PASSWORD_STDIN: a->password_stdin = 1; break;
		case OPT_PASSWORD_PROMPT: a->password_prompt = 1; break;
		case OPT_PASSWORD_COMMAND: a->o.password_command = optarg; break;
		case OPT_OAUTH_CLIENT_ID: a->o.oauth_client_id = optarg; break;
		case OPT_DRY_RUN: a->dry_run = 1; break;
		case OPT_JSON: a->json = 1; break;
		case ':': return cli_usage("setup", "%s needs a value", argv[optind - 1]);
		default:
			return cli_usage("setup", "unknown option \"%s\"", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return cli_usage("setup", optind >= argc ? "setup needs an address" : "setup takes one address");
	a->address = argv[optind];
	if (a->o.oauth_client_id && *a->o.oauth_client_id == '\0')
		return cli_usage("setup", "oauth-client-id: is empty; give your app's client ID");
	if (a->password_stdin + a->password_prompt + (a->o.password_command != NULL) +
	    (a->o.oauth_client_id != NULL) > 1)
		return cli_usage("setup", "choose one of --password-stdin, --password-prompt, "
					  "--password-command and --oauth-client-id");
	return 0;
}

/* Read the password before any lookup, as `server add` reads it before connecting. */
static int setup_read_password(const struct setup_args *a, char **password)
{
	char prompt[400];

	snprintf(prompt, sizeof prompt, "Password for %.300s: ", a->address);
	return cli_read_password(a->password_stdin, a->password_prompt, prompt, password);
}

int setup_discovery_option(const char *command, int c, const char *value, outbox_setup_options *o)
{
	char *end;
	long seconds;

	switch (c) {
	case SETUP_OPT_ISPDB: o->ispdb = value; return 0;
	case SETUP_OPT_RESOLVER: o->resolver = value; return 0;
	case SETUP_OPT_TLS_CA: o->tls_ca = value; return 0;
	case SETUP_OPT_TIMEOUT:
		errno = 0;
		seconds = strtol(value, &end, 10);
		if (errno || end == value || *end || seconds < 1 || seconds > 300)
			return cli_usage(command, "timeout: \"%s\" is not a number of seconds from 1 to 300", value);
		o->timeout_ms = seconds * 1000;
		return 0;
	default: return -1;
	}
}

/* Live on a terminal only: a stage as it begins ("...") and, indented under it, each lookup and
 * probe as it ends, in the order they end; the explanation on stdout says it all again in order.
 * A command runs to the end (Ctrl-C ends the process): never cancels. */
int setup_progress(void *ctx, const char *what)
{
	size_t n;

	if (what == NULL || !isatty(STDERR_FILENO))
		return 0;
	n = strlen(what);
	fprintf(stderr, "outbox: %s%s\n", n >= 3 && strcmp(what + n - 3, "...") == 0 ? "" : "  ", what);
	return 0;
}

void setup_print_text(const outbox_setup_result *r)
{
	size_t i;

	printf("Looked up %s (%.1f s):\n", r->domain, r->lookups_ms / 1000.0);
	for (i = 0; i < r->nlookups; i++) {
		const outbox_setup_lookup *l = &r->lookups[i];

		printf("  %-10s  %s\n", l->source, l->what);
		if (l->redirected_to[0])
			printf("              redirected to %s\n", l->redirected_to);
		printf("              %s%s%s (%lld ms)\n", l->outcome, l->detail[0] ? ": " : "", l->detail, l->ms);
	}
	printf("Probed (%.1f s):\n", r->probes_ms / 1000.0);
	for (i = 0; i < r->ncandidates; i++) {
		const outbox_setup_candidate *c = &r->candidates[i];

		printf("  %s %s port %d %s, from %s\n      probe: %s%s%s%s%s\n", c->chosen ? "*" : " ", c->host,
		       c->port,
		       c->security, c->source, c->probe, c->tls[0] ? ", " : "", c->tls,
		       c->offered_auth[0] ? ", AUTH " : "", c->offered_auth);
		printf("      %s\n", c->why);
	}
	if (r->chosen >= 0) {
		const outbox_setup_candidate *c = &r->candidates[r->chosen];

		printf("Chosen: %s port %d, %s, auth %s, from %s (%s).\n", c->host, c->port, c->security, c->auth,
		       c->source, c->origin);
	}
	if (r->login_checked)
		printf("Login: %s%s%s%s (tried %s).\n", r->login_user[0] ? "logged in as " : "refused",
		       r->login_user, r->login_form[0] ? ", " : "", r->login_form, r->login_tried);
}

void setup_json_result(struct json *j, const outbox_setup_result *r)
{
	size_t i;

	json_member_string(j, "address", r->address);
	json_member_string(j, "domain", r->domain);
	json_key(j, "sources");
	json_begin_array(j);
	for (i = 0; i < r->nlookups; i++) {
		json_begin_object(j);
		json_member_string(j, "source", r->lookups[i].source);
		json_member_string(j, "what", r->lookups[i].what);
		json_member_string(j, "outcome", r->lookups[i].outcome);
		json_member_int(j, "ms", r->lookups[i].ms);
		json_member_string(j, "detail", r->lookups[i].detail);
		json_key(j, "redirected_to"); /* null: the URL itself answered */
		if (r->lookups[i].redirected_to[0])
			json_string(j, r->lookups[i].redirected_to);
		else
			json_raw(j, "null");
		json_member_int(j, "done-ms", r->lookups[i].done_ms);
		json_end_object(j);
	}
	json_end_array(j);
	json_key(j, "candidates");
	json_begin_array(j);
	for (i = 0; i < r->ncandidates; i++) {
		const outbox_setup_candidate *c = &r->candidates[i];

		json_begin_object(j);
		json_member_string(j, "host", c->host);
		json_member_int(j, "port", c->port);
		json_member_string(j, "security", c->security);
		json_member_string(j, "source", c->source);
		json_member_string(j, "origin", c->origin);
		json_member_string(j, "display-name", c->display_name);
		json_member_string(j, "probe", c->probe);
		json_member_string(j, "probe-error", c->probe_error);
		json_member_string(j, "tls", c->tls);
		json_member_string(j, "offered-auth", c->offered_auth);
		json_key(j, "usable");
		json_raw(j, c->usable ? "true" : "false");
		json_key(j, "chosen");
		json_raw(j, c->chosen ? "true" : "false");
		json_member_string(j, "auth", c->auth);
		json_member_string(j, "why", c->why);
		json_member_int(j, "probe-began-ms", c->probe_began_ms);
		json_member_int(j, "probe-done-ms", c->probe_done_ms);
		json_end_object(j);
	}
	json_end_array(j);
	json_key(j, "chosen");
	if (r->chosen >= 0) {
		char index[24];

		snprintf(index, sizeof index, "%ld", r->chosen);
		json_raw(j, index);
	} else {
		json_raw(j, "null");
	}
	json_key(j, "login");
	json_begin_object(j);
	json_key(j, "checked");
	json_raw(j, r->login_checked ? "true" : "false");
	json_member_string(j, "user", r->login_user);
	json_member_string(j, "form", r->login_form);
	json_member_string(j, "tried", r->login_tried);
	json_end_object(j);
	json_member_int(j, "lookups-ms", r->lookups_ms);
	json_member_int(j, "probes-ms", r->probes_ms);
	json_member_int(j, "login-ms", r->login_ms);
}

/* What is (or would be) saved, as text or JSON. */
static void setup_print_drafts(struct json *j, const outbox_server *s, const outbox_account *a, int saved)
{
	static const outbox_server_field_id shown[] = {OUTBOX_SERVER_NAME, OUTBOX_SERVER_DESCRIPTION,
						       OUTBOX_SERVER_HOST, OUTBOX_SERVER_PORT,
						       OUTBOX_SERVER_SECURITY, OUTBOX_SERVER_AUTH,
						       OUTBOX_SERVER_USER, OUTBOX_SERVER_TLS_CA,
						       OUTBOX_SERVER_OAUTH};
	size_t i;

	if (j) {
		json_key(j, saved ? "saved" : "would-save");
		json_begin_object(j);
		json_key(j, "server");
		json_begin_object(j);
		for (i = 0; i < sizeof shown / sizeof shown[0]; i++)
			json_member_string(j, outbox_server_field_info(shown[i])->key, outbox_server_get(s, shown[i]));
		json_end_object(j);
		json_key(j, "account");
		json_begin_object(j);
		json_member_string(j, "address", outbox_account_get(a, OUTBOX_ACCOUNT_ADDRESS));
		json_member_string(j, "name", outbox_account_get(a, OUTBOX_ACCOUNT_NAME));
		json_member_string(j, "server", outbox_account_get(a, OUTBOX_ACCOUNT_SERVER));
		json_end_object(j);
		json_end_object(j);
		return;
	}
	printf("%s server \"%s\" (%s): %s port %s, %s, auth %s%s%s.\n", saved ? "Saved" : "Would save",
	       outbox_server_get(s, OUTBOX_SERVER_NAME), outbox_server_get(s, OUTBOX_SERVER_DESCRIPTION),
	       outbox_server_get(s, OUTBOX_SERVER_HOST), outbox_server_get(s, OUTBOX_SERVER_PORT),
	       outbox_server_get(s, OUTBOX_SERVER_SECURITY), outbox_server_get(s, OUTBOX_SERVER_AUTH),
	       *outbox_server_get(s, OUTBOX_SERVER_USER) ? ", user " : "", outbox_server_get(s, OUTBOX_SERVER_USER));
	printf("%s account %s%s%s%s using it.\n", saved ? "Saved" : "Would save",
	       outbox_account_get(a, OUTBOX_ACCOUNT_ADDRESS), *outbox_account_get(a, OUTBOX_ACCOUNT_NAME) ? " (" : "",
	       outbox_account_get(a, OUTBOX_ACCOUNT_NAME), *outbox_account_get(a, OUTBOX_ACCOUNT_NAME) ? ")" : "");
	if (saved)
		printf("Undo with: outbox undo\n");
	else
		printf("Nothing saved (--dry-run).\n");
}

int cmd_setup(int argc, char **argv)
{
	struct setup_args a;
	outbox *h = NULL;
	outbox_setup_result *r = NULL;
	outbox_setup_save_options so = {0};
	outbox_server *s = NULL;
	outbox_account *acct = NULL;
	struct json j, *jp = NULL;
	char *password = NULL, name[300];
	int rc, found;

	if (cli_wants_help(argc, argv)) {
		setup_help();
		return 0;
	}
	if ((rc = setup_parse(argc, argv, &a)) != 0 || (rc = a.dry_run ? cli_open_to_read(&h) : cli_open(&h)) != 0)
		goto out;
	/* A bad address or name, or an address that already has an account, is refused before the
	 * password is asked for and before any lookup: the whole discovery would end in the same
	 * refusal. */
	if ((rc = outbox_setup_check_input(h, a.address, a.full_name)) < 0) {
		rc = cli_fail(h, rc);
		goto out;
	}
	if ((rc = setup_read_password(&a, &password)) != 0)
		goto out;
	a.o.password = password;
	found = outbox_setup_discover(h, a.address, &a.o, a.json ? NULL : setup_progress, NULL, &r);
	if (r == NULL) {
		rc = cli_fail(h, found);
		goto out;
	}
	so.full_name = a.full_name;
	so.password = password;
	so.password_command = a.o.password_command;
	so.oauth_client_id = a.o.oauth_client_id;
	so.tls_ca = a.o.tls_ca;
	if (found == 0)
		found = outbox_setup_drafts(h, r, &so, &s, &acct);
	if (found == 0 && !a.dry_run)
		found = outbox_setup_save(h, r, &so, name, sizeof name);
	if (a.json) {
		json_init(&j, stdout);
		jp = &j;
		json_begin_object(jp);
		setup_json_result(jp, r);
	} else {
		setup_print_text(r);
	}
	if (found == 0) {
		setup_print_drafts(jp, s, acct, !a.dry_run);
		rc = 0;
	} else {
		if (jp)
			json_member_string(jp, "error", outbox_errmsg(h));
		rc = outbox_exit_code(found);
	}
	if (jp) {
		json_end_object(jp);
		json_end(jp);
	}
	if (found < 0)
		fprintf(stderr, "outbox: %s; nothing saved\n", outbox_errmsg(h));
out:
	cli_wipe(password);
	outbox_setup_result_free(r);
	outbox_server_free(s);
	outbox_account_free(acct);
	outbox_close(h);
	return rc;
}
