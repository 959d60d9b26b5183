/* account_cmd.c: `outbox account add|edit|remove|list|show|set-server`: mail accounts and the
 * outgoing server each one sends through. It parses and prints; the rules live in the library. */
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "json.h"

enum { OPT_RENAME = 2000, OPT_PURGE, OPT_JSON, OPT_HELP };

static const outbox_field *account_info(int i)
{
	return outbox_account_field_info((outbox_account_field_id)i);
}

static const char account_help[] =
	"Usage: outbox account COMMAND [ARGS]\n"
	"\n"
	"Manage mail accounts and the outgoing server each sends through.\n"
	"\n"
	"Commands:\n"
	"  add ADDRESS [--server NAME] [OPTIONS]   add an account\n"
	"  edit ADDRESS [OPTIONS]                  change an account (--rename NEW for a new address)\n"
	"  set-server ADDRESS NAME                 choose the account's outgoing server\n"
	"  remove ADDRESS [--purge]                remove an account (undo with: outbox undo)\n"
	"  list [--json]                           list accounts and their servers\n"
	"  show ADDRESS [--json]                   show one account\n"
	"\n"
	"Run 'outbox account add --help' for the settings.\n";

struct account_args {
	struct cli_field_arg *set;
	size_t nset;
	const char *positional[2];
	int npositional;
	const char *rename;
	int purge, json;
};

static int account_parse(int argc, char **argv, const char *verb, int allow_fields, int want_positional,
			 struct account_args *a)
{
	static const struct option extra[] = {{"rename", required_argument, NULL, OPT_RENAME},
					      {"purge", no_argument, NULL, OPT_PURGE},
					      {"json", no_argument, NULL, OPT_JSON},
					      {"help", no_argument, NULL, OPT_HELP},
					      {NULL, 0, NULL, 0}};
	struct option *opts = cli_field_options(account_info, 1, OUTBOX_ACCOUNT_FIELD_COUNT, extra);
	char command[64];
	int c, rc = 0;

	snprintf(command, sizeof command, "account %s", verb);
	memset(a, 0, sizeof *a);
	if (opts == NULL || (a->set = calloc((size_t)argc, sizeof *a->set)) == NULL) {
		free(opts);
		return EX_OSERR;
	}
	optind = 0;
	opterr = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		int is_field = (c >= 0 && c < OUTBOX_ACCOUNT_FIELD_COUNT) ||
			       (c >= CLI_NEGATE && c < CLI_NEGATE + OUTBOX_ACCOUNT_FIELD_COUNT);
		if (c == '?' || c == ':') {
			rc = cli_usage(command, c == ':' ? "%s needs a value" : "unknown option %s", argv[optind - 1]);
		} else if (is_field && !allow_fields) {
			rc = cli_usage(command, "%s does not take %s", command, argv[optind - 1]);
		} else if (is_field) {
			a->set[a->nset].field = c >= CLI_NEGATE ? c - CLI_NEGATE : c;
			a->set[a->nset++].value = c >= CLI_NEGATE ? "false" : optarg ? optarg : "true";
		} else if (c == OPT_RENAME) {
			if (strcmp(verb, "edit") != 0)
				rc = cli_usage(command, "--rename is for: outbox account edit ADDRESS --rename NEW");
			a->rename = optarg;
		} else if (c == OPT_PURGE) {
			if (strcmp(verb, "remove") != 0)
				rc = cli_usage(command, "--purge is for: outbox account remove");
			a->purge = 1;
		} else if (c == OPT_JSON) {
			if (strcmp(verb, "list") != 0 && strcmp(verb, "show") != 0)
				rc = cli_usage(command, "--json is for list and show");
			a->json = 1;
		}
	}
	free(opts);
	if (rc)
		return rc;
	while (optind < argc && a->npositional < 2)
		a->positional[a->npositional++] = argv[optind++];
	if (optind < argc || a->npositional > want_positional)
		return cli_usage(command, "unexpected argument \"%s\"",
				 optind < argc ? argv[optind] : a->positional[a->npositional - 1]);
	if (a->npositional < want_positional)
		return cli_usage(command, want_positional == 2 ? "give the account's ADDRESS and the server's NAME"
							       : "which account? give its ADDRESS");
	return 0;
}

static void account_json(struct json *j, const outbox_account *a)
{
	int i;

	json_begin_object(j);
	for (i = 0; i < OUTBOX_ACCOUNT_FIELD_COUNT; i++) {
		const outbox_field *f = outbox_account_field_info((outbox_account_field_id)i);
		json_key(j, f->key);
		if (f->kind == OUTBOX_FIELD_BOOL) {
			json_raw(j, outbox_account_get(a, (outbox_account_field_id)i));
		} else if (f->kind == OUTBOX_FIELD_LIST) {
			json_begin_array(j);
			for (const char *const *n = outbox_account_fallbacks(a); *n; n++)
				json_string(j, *n);
			json_end_array(j);
		} else {
			json_string(j, outbox_account_get(a, (outbox_account_field_id)i));
		}
	}
	json_end_object(j);
}

static void account_print(const outbox_account *a)
{
	struct cli_table t;
	int i;

	cli_table_init(&t, 2);
	for (i = 0; i < OUTBOX_ACCOUNT_FIELD_COUNT; i++) {
		const outbox_field *f = outbox_account_field_info((outbox_account_field_id)i);
		const char *v = outbox_account_get(a, (outbox_account_field_id)i);
		char label[80];
		const char *row[2] = {label, *v ? v : "-"};
		snprintf(label, sizeof label, "%s:", f->label);
		if (f->kind == OUTBOX_FIELD_BOOL)
			row[1] = strcmp(v, "true") == 0 ? "yes" : "no";
		cli_table_add(&t, row);
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
}

/* The command line's changes, applied to a fresh draft or, for edit, to the account as loaded
 * inside the save's transaction. */
static int account_apply(outbox *h, outbox_account *a, void *ctx)
{
	const struct account_args *args = ctx;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < args->nset; i++)
		rc = outbox_account_set(h, a, (outbox_account_field_id)args->set[i].field, args->set[i].value);
	if (rc == 0 && args->rename)
		rc = outbox_account_set(h, a, OUTBOX_ACCOUNT_ADDRESS, args->rename);
	return rc;
}

static int account_add_or_edit(int argc, char **argv, int adding)
{
	struct account_args args;
	outbox *h = NULL;
	outbox_account *a = NULL;
	int rc;

	if ((rc = account_parse(argc, argv, adding ? "add" : "edit", 1, 1, &args)) != 0 || (rc = cli_open(&h)) != 0)
		goto out;
	if (!adding) {
		rc = outbox_account_edit(h, args.positional[0], account_apply, &args, &a);
	} else if ((a = outbox_account_new()) == NULL) {
		rc = EX_OSERR;
		goto out;
	} else if ((rc = outbox_account_set(h, a, OUTBOX_ACCOUNT_ADDRESS, args.positional[0])) == 0 &&
		   (rc = account_apply(h, a, &args)) == 0) {
		rc = outbox_account_save(h, a);
	}
	if (rc < 0) {
		rc = cli_fail(h, rc);
		goto out;
	}
	printf("%s account %s: sends through \"%s\"%s%s%s%s.\n", adding ? "Added" : "Updated",
	       outbox_account_get(a, OUTBOX_ACCOUNT_ADDRESS), outbox_account_get(a, OUTBOX_ACCOUNT_SERVER),
	       *outbox_account_get(a, OUTBOX_ACCOUNT_FALLBACK) ? ", then " : "",
	       outbox_account_get(a, OUTBOX_ACCOUNT_FALLBACK),
	       strcmp(outbox_account_get(a, OUTBOX_ACCOUNT_ONLY_THIS_SERVER), "true") == 0 ? " (only this server)" : "",
	       strcmp(outbox_account_get(a, OUTBOX_ACCOUNT_DEFAULT), "true") == 0 ? "; the default account" : "");
out:
	outbox_account_free(a);
	outbox_close(h);
	free(args.set);
	return rc;
}

static int account_set_server(int argc, char **argv)
{
	struct account_args args;
	outbox *h = NULL;
	int rc;

	if ((rc = account_parse(argc, argv, "set-server", 0, 2, &args)) != 0 || (rc = cli_open(&h)) != 0)
		goto out;
	if ((rc = outbox_account_set_server(h, args.positional[0], args.positional[1])) < 0) {
		rc = cli_fail(h, rc);
		goto out;
	}
	printf("Account %s now sends through \"%s\".\n", args.positional[0], args.positional[1]);
out:
	outbox_close(h);
	free(args.set);
	return rc;
}

static int account_show_or_list(int argc, char **argv, int listing)
{
	struct account_args args;
	outbox *h = NULL;
	outbox_account **list = NULL, *one = NULL;
	size_t n = 0, i;
	struct json j;
	int rc;

	if ((rc = account_parse(argc, argv, listing ? "list" : "show", 0, listing ? 0 : 1, &args)) != 0 ||
	    (rc = cli_open_to_read(&h)) != 0)
		goto out;
	rc = listing ? outbox_account_list(h, &list, &n) : outbox_account_load(h, args.positional[0], &one);
	if (rc < 0) {
		rc = cli_fail(h, rc);
		goto out;
	}
	if (!listing) {
		if (args.json) {
			json_init(&j, stdout);
			account_json(&j, one);
			json_end(&j);
		} else {
			account_print(one);
		}
	} else if (args.json) {
		json_init(&j, stdout);
		json_begin_array(&j);
		for (i = 0; i < n; i++)
			account_json(&j, list[i]);
		json_end_array(&j);
		json_end(&j);
	} else if (n == 0) {
		printf("No accounts yet. Add one with: outbox account add ADDRESS --server NAME\n");
	} else {
		struct cli_table t;
		static const char *const head[] = {"", "ADDRESS", "NAME", "SERVER", "FALLBACKS"};
		cli_table_init(&t, 5);
		cli_table_add(&t, head);
		for (i = 0; i < n; i++) {
			const outbox_account *a = list[i];
			char server[200];
			snprintf(server, sizeof server, "%s%s", outbox_account_get(a, OUTBOX_ACCOUNT_SERVER),
				 strcmp(outbox_account_get(a, OUTBOX_ACCOUNT_ONLY_THIS_SERVER), "true") == 0 ? " (only)" : "");
			const char *row[5] = {
				strcmp(outbox_account_get(a, OUTBOX_ACCOUNT_DEFAULT), "true") == 0 ? "*" : "",
				outbox_account_get(a, OUTBOX_ACCOUNT_ADDRESS),
				*outbox_account_get(a, OUTBOX_ACCOUNT_NAME) ? outbox_account_get(a, OUTBOX_ACCOUNT_NAME) : "-",
				server,
				*outbox_account_get(a, OUTBOX_ACCOUNT_FALLBACK) ? outbox_account_get(a, OUTBOX_ACCOUNT_FALLBACK) : "-"};
			cli_table_add(&t, row);
		}
		cli_table_print(&t, stdout);
		cli_table_free(&t);
		printf("(* the default account)\n");
	}
out:
	outbox_account_list_free(list, n);
	outbox_account_free(one);
	outbox_close(h);
	free(args.set);
	return rc;
}

static int account_remove(int argc, char **argv)
{
	struct account_args args;
	outbox *h = NULL;
	int rc;

	if ((rc = account_parse(argc, argv, "remove", 0, 1, &args)) != 0 || (rc = cli_open(&h)) != 0)
		goto out;
	if ((rc = outbox_account_remove(h, args.positional[0], args.purge ? OUTBOX_REMOVE_PURGE : 0)) < 0) {
		rc = cli_fail(h, rc);
		goto out;
	}
	printf("Removed account %s%s.\n", args.positional[0], args.purge ? " for good" : "");
	if (!args.purge)
		printf("Undo with: outbox undo\n");
out:
	outbox_close(h);
	free(args.set);
	return rc;
}

static int account_verb_help(const char *verb)
{
	if (strcmp(verb, "add") == 0 || strcmp(verb, "edit") == 0) {
		printf("Usage: outbox account %s ADDRESS [OPTIONS]\n\n%s\n\nSettings:\n", verb,
		       strcmp(verb, "add") == 0
			       ? "Add a mail account. Without --server it uses the default server; the first\n"
				 "account added becomes the default account."
			       : "Change an account; settings not named stay as they are.");
		cli_print_field_help(stdout, account_info, 1, OUTBOX_ACCOUNT_FIELD_COUNT);
		if (strcmp(verb, "edit") == 0)
			printf("  --rename NEW                   give the account a new address\n");
	} else if (strcmp(verb, "set-server") == 0) {
		printf("Usage: outbox account set-server ADDRESS NAME\n\nChoose the server the account sends "
		       "through (its \"Outgoing Mail Server\").\n");
	} else if (strcmp(verb, "remove") == 0) {
		printf("Usage: outbox account remove ADDRESS [--purge]\n\nRemove an account; undo with "
		       "'outbox undo'. --purge removes it for good.\n");
	} else if (strcmp(verb, "list") == 0) {
		printf("Usage: outbox account list [--json]\n\nList accounts (* marks the default) with their "
		       "servers and fallbacks.\n");
	} else if (strcmp(verb, "show") == 0) {
		printf("Usage: outbox account show ADDRESS [--json]\n\nShow every setting of one account.\n");
	} else {
		return cli_usage("account", "unknown command \"%s\"", verb);
	}
	return 0;
}

int cmd_account(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : NULL;

	if (verb == NULL || strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0 || strcmp(verb, "help") == 0) {
		fputs(account_help, verb ? stdout : stderr);
		return verb ? 0 : EX_USAGE;
	}
	if (cli_wants_help(argc - 1, argv + 1))
		return account_verb_help(verb);
	if (strcmp(verb, "add") == 0)
		return account_add_or_edit(argc - 1, argv + 1, 1);
	if (strcmp(verb, "edit") == 0)
		return account_add_or_edit(argc - 1, argv + 1, 0);
	if (strcmp(verb, "set-server") == 0)
		return account_set_server(argc - 1, argv + 1);
	if (strcmp(verb, "remove") == 0 || strcmp(verb, "rm") == 0)
		return account_remove(argc - 1, argv + 1);
	if (strcmp(verb, "list") == 0 || strcmp(verb, "ls") == 0)
		return account_show_or_list(argc - 1, argv + 1, 1);
	if (strcmp(verb, "show") == 0)
		return account_show_or_list(argc - 1, argv + 1, 0);
	return cli_usage("account", "unknown command \"%s\"", verb);
}
