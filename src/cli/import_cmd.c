/* import_cmd.c: `outbox import msmtprc [FILE]`: msmtp's accounts become servers and accounts, and
 * the command reports each account and each line it left behind, as text or JSON. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "json.h"

static const char import_help[] =
	"Usage: outbox import msmtprc [FILE] [--dry-run] [--json]\n"
	"\n"
	"Import msmtp's configuration: each msmtp account with a host becomes a server of\n"
	"the same name, and its `from` an account sending through it; defaults and\n"
	"`account NAME : PARENT` inheritance apply as msmtp applies them, and msmtp's\n"
	"default account becomes the default when outbox has none. A password in the file\n"
	"goes to the secret store (never the database), a passwordeval becomes the password\n"
	"command, domain the EHLO name, and the aliases file's entries become aliases.\n"
	"Everything is written in one transaction, or nothing is. What the store has\n"
	"already is left as it is (reported as unchanged, or exists when it differs).\n"
	"\n"
	"FILE defaults to ~/.msmtprc, else $XDG_CONFIG_HOME/msmtp/config.\n"
	"\n"
	"Options:\n"
	"  --dry-run   report what would be imported; write nothing\n"
	"  --json      print the report as JSON\n"
	"\n"
	"Exit status: 0 when imported (or nothing new to import); 65 for a value outbox\n"
	"refuses, a line msmtp would refuse (each named with its line) or a file that does\n"
	"not exist; 74 when a file cannot be read.\n";

static void import_json(const outbox_msmtp_report *r, int dry_run)
{
	struct json j;
	size_t i;

	json_init(&j, stdout);
	json_begin_object(&j);
	json_member_string(&j, "file", r->path);
	json_key(&j, "dry_run");
	json_raw(&j, dry_run ? "true" : "false");
	json_key(&j, "accounts");
	json_begin_array(&j);
	for (i = 0; i < r->naccounts; i++) {
		const outbox_import_account *a = &r->accounts[i];

		json_begin_object(&j);
		json_member_string(&j, "msmtp_account", a->msmtp_account);
		json_member_int(&j, "line", a->line);
		json_member_string(&j, "server", a->server);
		json_member_string(&j, "server_outcome", outbox_import_outcome_name(a->server_outcome, 0));
		json_member_string(&j, "address", a->address);
		json_member_string(&j, "account_outcome", outbox_import_outcome_name(a->account_outcome, 0));
		json_key(&j, "default");
		json_raw(&j, a->is_default ? "true" : "false");
		json_member_string(&j, "detail", a->detail);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_key(&j, "aliases_file");
	if (r->aliases_path)
		json_string(&j, r->aliases_path);
	else
		json_raw(&j, "null");
	json_key(&j, "aliases");
	json_begin_array(&j);
	for (i = 0; i < r->naliases; i++) {
		json_begin_object(&j);
		json_member_string(&j, "name", r->aliases[i].name);
		json_member_string(&j, "addresses", r->aliases[i].addresses);
		json_member_string(&j, "outcome", outbox_import_outcome_name(r->aliases[i].outcome, 0));
		json_member_int(&j, "line", r->aliases[i].line);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_key(&j, "not_imported");
	json_begin_array(&j);
	for (i = 0; i < r->nnotes; i++) {
		json_begin_object(&j);
		json_member_int(&j, "line", r->notes[i].line);
		json_member_string(&j, "key", r->notes[i].key);
		json_member_string(&j, "why", r->notes[i].why);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_end_object(&j);
	json_end(&j);
}

/* "NAME (outcome)", or "-" for no such part. */
static void import_cell(char *out, size_t size, const char *name, outbox_import_outcome o, int dry_run)
{
	if (o == OUTBOX_IMPORT_NONE)
		snprintf(out, size, "-");
	else if (*name)
		snprintf(out, size, "%s (%s)", name, outbox_import_outcome_name(o, dry_run));
	else
		snprintf(out, size, "%s", outbox_import_outcome_name(o, dry_run));
}

static void import_text(const outbox_msmtp_report *r, int dry_run)
{
	static const char *const head[] = {"MSMTP ACCOUNT", "LINE", "SERVER", "ACCOUNT", "NOTE"};
	struct cli_table t;
	size_t i, added = 0;

	printf("%s %s:\n", dry_run ? "Would import from" : "Imported from", r->path);
	cli_table_init(&t, 5);
	cli_table_add(&t, head);
	for (i = 0; i < r->naccounts; i++) {
		const outbox_import_account *a = &r->accounts[i];
		char line[16], server[400], account[400], note[400];
		const char *row[5] = {a->msmtp_account, line, server, account, note};

		snprintf(line, sizeof line, "%d", a->line);
		import_cell(server, sizeof server, a->server, a->server_outcome, dry_run);
		import_cell(account, sizeof account, a->address, a->account_outcome, dry_run);
		snprintf(note, sizeof note, "%s%s%s", a->is_default ? "msmtp's default" : "",
			 a->is_default && *a->detail ? "; " : "", a->detail);
		added += (a->server_outcome == OUTBOX_IMPORT_ADDED) + (a->account_outcome == OUTBOX_IMPORT_ADDED);
		cli_table_add(&t, row);
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
	if (r->aliases_path) {
		printf("\nAliases from %s:\n", r->aliases_path);
		for (i = 0; i < r->naliases; i++) {
			printf("  %s: %s (%s)\n", r->aliases[i].name, r->aliases[i].addresses,
			       outbox_import_outcome_name(r->aliases[i].outcome, dry_run));
			added += r->aliases[i].outcome == OUTBOX_IMPORT_ADDED;
		}
	}
	if (r->nnotes) {
		printf("\nLines not imported:\n");
		for (i = 0; i < r->nnotes; i++)
			printf("  line %d: %s: %s\n", r->notes[i].line, r->notes[i].key, r->notes[i].why);
	}
	if (dry_run)
		printf("\nNothing was written (--dry-run).\n");
	else if (added == 0)
		printf("\nNothing new: the store has all of it already.\n");
}

int cmd_import(int argc, char **argv)
{
	enum { OPT_DRY_RUN = 1, OPT_JSON };
	static const struct option opts[] = {{"dry-run", no_argument, NULL, OPT_DRY_RUN},
					     {"json", no_argument, NULL, OPT_JSON},
					     {NULL, 0, NULL, 0}};
	outbox_msmtp_report *report = NULL;
	outbox *h = NULL;
	int c, rc, dry_run = 0, json = 0;

	if (cli_wants_help(argc, argv)) {
		fputs(import_help, stdout);
		return 0;
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case OPT_DRY_RUN: dry_run = 1; break;
		case OPT_JSON: json = 1; break;
		default: return cli_usage("import", "unknown option \"%s\"", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage("import", "import needs what to import: outbox import msmtprc [FILE]");
	if (strcmp(argv[optind], "msmtprc") != 0)
		return cli_usage("import", "cannot import \"%s\": outbox imports msmtprc", argv[optind]);
	if (argc - optind > 2)
		return cli_usage("import", "import msmtprc takes one file");
	if ((rc = cli_open(&h)) != 0)
		return rc;
	rc = outbox_msmtp_import(h, argc - optind == 2 ? argv[optind + 1] : NULL,
				 dry_run ? OUTBOX_IMPORT_DRY_RUN : 0, &report);
	if (rc < 0) {
		rc = cli_fail(h, rc);
	} else {
		if (json)
			import_json(report, dry_run);
		else
			import_text(report, dry_run);
		rc = 0;
	}
	outbox_msmtp_report_free(report);
	outbox_close(h);
	return rc;
}
