/* alias_cmd.c: `outbox alias add|list|remove`: local names ("root") as recipients, each standing
 * for addresses with a domain. It parses and prints; the checks and the store are the library's. */
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "json.h"

static const char alias_help[] =
	"Usage: outbox alias COMMAND [ARGS]\n"
	"\n"
	"Local names as recipients: mail to \"root\" (from cron, mdadm, smartd) goes to the\n"
	"addresses its alias names. The alias \"default\" catches every local name without one.\n"
	"\n"
	"Commands:\n"
	"  add NAME ADDRESS[,ADDRESS...]   set the addresses NAME stands for (replacing what it had)\n"
	"  list [--json]                   list the aliases\n"
	"  remove NAME                     remove an alias\n"
	"\n"
	"ADDRESS is an address list as in a To: header (\"a@x, Bob <b@y>\"); every address needs\n"
	"a domain, as an alias is expanded once, never into another alias.\n";

static int alias_verb_help(const char *verb)
{
	if (strcmp(verb, "add") == 0)
		printf("Usage: outbox alias add NAME ADDRESS[,ADDRESS...] [ADDRESS...]\n\n"
		       "Mail to the local name NAME goes to the addresses given (an address list, as in\n"
		       "a To: header; several arguments are joined). An alias NAME already has is\n"
		       "replaced. NAME \"default\" catches every local name without its own alias.\n");
	else if (strcmp(verb, "list") == 0 || strcmp(verb, "ls") == 0)
		printf("Usage: outbox alias list [--json]\n\nList the aliases and their addresses, by name.\n");
	else if (strcmp(verb, "remove") == 0 || strcmp(verb, "rm") == 0)
		printf("Usage: outbox alias remove NAME\n\n"
		       "Remove an alias; mail to NAME then goes to the \"default\" alias, or is refused.\n"
		       "It is not kept for outbox undo: the command printed brings it back.\n");
	else
		return cli_usage("alias", "unknown command \"%s\"", verb);
	return 0;
}

/* Parse argv (argv[0] the verb): --json where allowed, then the positional arguments, of which
 * at least `min` and at most `max` (-1: no limit). Returns 0, or EX_USAGE after saying why. */
static int alias_parse(int argc, char **argv, int allow_json, int min, int max, int *json, int *first)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
	char command[32];
	int c, n;

	snprintf(command, sizeof command, "alias %s", argv[0]);
	*json = 0;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'j' && allow_json)
			*json = 1;
		else
			return cli_usage(command, "unknown option %s", argv[optind - 1]);
	}
	n = argc - optind;
	if (n < min)
		return cli_usage(command, "%s", min == 1 ? "the alias NAME is missing" : "NAME and ADDRESS are needed");
	if (max >= 0 && n > max)
		return cli_usage(command, "unexpected argument \"%s\"", argv[optind + max]);
	*first = optind;
	return 0;
}

static int alias_add(int argc, char **argv)
{
	outbox *h = NULL;
	outbox_alias *before = NULL, *after = NULL;
	char *joined = NULL;
	int rc, json, first;

	if ((rc = alias_parse(argc, argv, 0, 2, -1, &json, &first)) != 0)
		return rc;
	/* The arguments after NAME are one list: "a@x" "b@y" means "a@x, b@y". */
	if ((joined = cli_join((const char *const *)&argv[first + 1])) == NULL)
		return EX_OSERR;
	if ((rc = cli_open(&h)) != 0)
		goto out;
	if (outbox_alias_load(h, argv[first], &before) < 0)
		before = NULL;
	if ((rc = outbox_alias_set(h, argv[first], joined)) < 0 ||
	    (rc = outbox_alias_load(h, argv[first], &after)) < 0) {
		rc = cli_fail(h, rc);
		goto out;
	}
	if (before && strcmp(outbox_alias_addresses(before), outbox_alias_addresses(after)) != 0)
		printf("Alias %s now goes to %s (it went to %s).\n", outbox_alias_name(after),
		       outbox_alias_addresses(after), outbox_alias_addresses(before));
	else
		printf("Alias %s goes to %s.\n", outbox_alias_name(after), outbox_alias_addresses(after));
out:
	outbox_alias_free(before);
	outbox_alias_free(after);
	free(joined);
	outbox_close(h);
	return rc;
}

static int alias_list(int argc, char **argv)
{
	outbox *h = NULL;
	outbox_alias **list = NULL;
	size_t n = 0, i;
	struct json j;
	int rc, json, first;

	if ((rc = alias_parse(argc, argv, 1, 0, 0, &json, &first)) != 0 || (rc = cli_open_to_read(&h)) != 0)
		return rc;
	if ((rc = outbox_alias_list(h, &list, &n)) < 0) {
		rc = cli_fail(h, rc);
	} else if (json) {
		json_init(&j, stdout);
		json_begin_array(&j);
		for (i = 0; i < n; i++) {
			json_begin_object(&j);
			json_member_string(&j, "name", outbox_alias_name(list[i]));
			json_member_string(&j, "addresses", outbox_alias_addresses(list[i]));
			json_end_object(&j);
		}
		json_end_array(&j);
		json_end(&j);
	} else if (n == 0) {
		printf("No aliases yet. Add one with: outbox alias add root ADDRESS\n");
	} else {
		struct cli_table t;
		static const char *const head[] = {"NAME", "ADDRESSES"};
		cli_table_init(&t, 2);
		cli_table_add(&t, head);
		for (i = 0; i < n; i++) {
			const char *row[2] = {outbox_alias_name(list[i]), outbox_alias_addresses(list[i])};
			cli_table_add(&t, row);
		}
		cli_table_print(&t, stdout);
		cli_table_free(&t);
	}
	outbox_alias_list_free(list, n);
	outbox_close(h);
	return rc;
}

/* `s` as one shell word, so the line printed can be pasted back. */
static void alias_print_quoted(const char *s)
{
	putchar('\'');
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*s);
	}
	putchar('\'');
}

static int alias_remove(int argc, char **argv)
{
	outbox *h = NULL;
	outbox_alias *was = NULL;
	int rc, json, first;

	if ((rc = alias_parse(argc, argv, 0, 1, 1, &json, &first)) != 0 || (rc = cli_open(&h)) != 0)
		return rc;
	if ((rc = outbox_alias_load(h, argv[first], &was)) < 0 ||
	    (rc = outbox_alias_remove(h, argv[first])) < 0) {
		rc = cli_fail(h, rc);
	} else {
		printf("Removed alias %s (it went to %s).\n", outbox_alias_name(was), outbox_alias_addresses(was));
		fputs("To bring it back: outbox alias add ", stdout);
		alias_print_quoted(outbox_alias_name(was));
		putchar(' ');
		alias_print_quoted(outbox_alias_addresses(was));
		putchar('\n');
	}
	outbox_alias_free(was);
	outbox_close(h);
	return rc;
}

int cmd_alias(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : NULL;

	if (verb == NULL || strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0 || strcmp(verb, "help") == 0) {
		fputs(alias_help, verb ? stdout : stderr);
		return verb ? 0 : EX_USAGE;
	}
	if (cli_wants_help(argc - 1, argv + 1))
		return alias_verb_help(verb);
	if (strcmp(verb, "add") == 0 || strcmp(verb, "set") == 0)
		return alias_add(argc - 1, argv + 1);
	if (strcmp(verb, "list") == 0 || strcmp(verb, "ls") == 0)
		return alias_list(argc - 1, argv + 1);
	if (strcmp(verb, "remove") == 0 || strcmp(verb, "rm") == 0)
		return alias_remove(argc - 1, argv + 1);
	return cli_usage("alias", "unknown command \"%s\"", verb);
}
