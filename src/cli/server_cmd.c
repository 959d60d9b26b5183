/* server_cmd.c: `outbox server add|edit|remove|list|show`, the command-line face of the
 * outgoing server list. It parses and prints; every rule lives in the library. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"
#include "json.h"

enum {
	OPT_PASSWORD_STDIN = 2000,
	OPT_PASSWORD_PROMPT,
	OPT_NO_PASSWORD,
	OPT_RENAME,
	OPT_REASSIGN,
	OPT_PURGE,
	OPT_JSON,
	OPT_HELP,
	OPT_NO_OAUTH,
	OPT_CLIENT_SECRET_STDIN,
	OPT_NO_CLIENT_SECRET
};

static const outbox_field *server_info(int i)
{
	return outbox_server_field_info((outbox_server_field_id)i);
}

static const char server_help[] =
	"Usage: outbox server COMMAND [ARGS]\n"
	"\n"
	"Manage the outgoing (SMTP) servers that accounts send through.\n"
	"\n"
	"Commands:\n"
	"  add NAME --host HOST [OPTIONS]   add a server\n"
	"  edit NAME [OPTIONS]              change a server (--rename NEW to rename it)\n"
	"  remove NAME [--reassign OTHER] [--purge]\n"
	"                                   remove a server (undo with: outbox undo)\n"
	"  list [--json]                    list servers and the accounts using each\n"
	"  show NAME [--json]               show every setting of one server\n"
	"  check NAME [--json] [--verbose]  check the connection and login, step by step\n"
	"  login NAME [--device|--browser]  sign in to an OAuth 2.0 server\n"
	"  logout NAME                      forget (and revoke) its OAuth sign-in\n"
	"\n"
	"Run 'outbox server add --help' for the settings.\n";

static void server_print_edit_help(const char *verb)
{
	printf("Usage: outbox server %s NAME %s[OPTIONS]\n\n", verb, strcmp(verb, "add") == 0 ? "--host HOST " : "");
	printf("%s\n\nSettings:\n", strcmp(verb, "add") == 0
					? "Add an outgoing server. The first server added becomes the default."
					: "Change settings of an outgoing server; settings not named stay as they are.");
	cli_print_field_help(stdout, server_info, 1, OUTBOX_SERVER_FIELD_COUNT);
	printf("\nPassword (never on the command line):\n"
	       "  --password-stdin               read the password from standard input\n"
	       "  --password-prompt              ask for it on the terminal, without echo\n"
	       "  --password-command CMD         run CMD when sending; only CMD is stored\n"
	       "  --no-password                  forget the stored password\n");
	if (strcmp(verb, "edit") == 0)
		printf("  --rename NEW                   give the server a new name\n"
		       "\nAutomatic settings (outbox server edit NAME --auto [--dry-run] [--json]):\n"
		       "  --auto                         find host, port, security and auth again, as outbox\n"
		       "                                 setup does, for the server's user name (or its first\n"
		       "                                 account), logging in with its user name first; show\n"
		       "                                 the difference and save only that\n"
		       "  --dry-run, --json, --ispdb URL, --resolver HOST:PORT, --tls-ca FILE, --timeout SECONDS\n"
		       "                                 as for outbox setup\n");
	printf("\nOAuth 2.0 sign-in (instead of a password):\n"
	       "  --oauth microsoft --user ADDRESS --oauth-client-id ID\n"
	       "  --oauth google --user ADDRESS --oauth-client-id ID [--oauth-client-secret-stdin]\n"
	       "  --oauth custom --host HOST --user ADDRESS --oauth-client-id ID --oauth-token-url URL\n"
	       "      --oauth-scope SCOPE and --oauth-device-url URL or --oauth-authorize-url URL\n"
	       "  --oauth-client-secret-stdin    read the application's client secret from standard input\n"
	       "  --no-oauth-client-secret       forget the stored client secret\n"
	       "%s"
	       "A provider's preset fills host, port, security, auth, scope and endpoints; options given\n"
	       "win. Register your own application first: see OAUTH 2.0 SIGN-IN in man outbox.\n",
	       strcmp(verb, "edit") == 0 ? "  --no-oauth                     sign in with a password again\n" : "");
	printf("\nThe port follows --security unless given: 465 for tls, 587 for starttls, 25 for none.\n"
	       "Passwords go to the desktop keyring when one is running, else to a 0600 file.\n");
}

struct server_args {
	struct cli_field_arg *set;
	size_t nset;
	const char *name;
	const char *rename;
	const char *reassign;
	int password_stdin, password_prompt, no_password, purge, json;
	int oauth, client_secret_stdin, no_client_secret; /* oauth: --oauth or --no-oauth was given */
};

/* Parse argv (argv[0] is the verb) into `a`; return 0 or EX_USAGE after printing why. */
static int server_parse(int argc, char **argv, const char *verb, int allow_fields, struct server_args *a)
{
	static const struct option extra[] = {
		{"password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN},
		{"password-prompt", no_argument, NULL, OPT_PASSWORD_PROMPT},
		{"no-password", no_argument, NULL, OPT_NO_PASSWORD},
		{"rename", required_argument, NULL, OPT_RENAME},
		{"reassign", required_argument, NULL, OPT_REASSIGN},
		{"purge", no_argument, NULL, OPT_PURGE},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, OPT_HELP},
		{"no-oauth", no_argument, NULL, OPT_NO_OAUTH},
		{"oauth-client-secret-stdin", no_argument, NULL, OPT_CLIENT_SECRET_STDIN},
		{"no-oauth-client-secret", no_argument, NULL, OPT_NO_CLIENT_SECRET},
		{NULL, 0, NULL, 0}};
	struct option *opts = cli_field_options(server_info, 1, OUTBOX_SERVER_FIELD_COUNT, extra);
	char command[64];
	int c, rc = 0, password_ways;

	snprintf(command, sizeof command, "server %s", verb);
	memset(a, 0, sizeof *a);
	if (opts == NULL)
		return EX_OSERR;
	a->set = calloc((size_t)argc, sizeof *a->set);
	if (a->set == NULL) {
		free(opts);
		return EX_OSERR;
	}
	optind = 0;
	opterr = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		int is_field = (c >= 0 && c < OUTBOX_SERVER_FIELD_COUNT) ||
			       (c >= CLI_NEGATE && c < CLI_NEGATE + OUTBOX_SERVER_FIELD_COUNT);
		if (c == '?' || c == ':') {
			rc = cli_usage(command, c == ':' ? "%s needs a value" : "unknown option %s",
				       argv[optind - 1]);
			break;
		}
		if (is_field && !allow_fields) {
			rc = cli_usage(command, "%s does not take %s", command, argv[optind - 1]);
			break;
		}
		if (c >= CLI_NEGATE && c < CLI_NEGATE + OUTBOX_SERVER_FIELD_COUNT) {
			a->set[a->nset].field = c - CLI_NEGATE;
			a->set[a->nset++].value = "false";
			continue;
		}
		if (c < OUTBOX_SERVER_FIELD_COUNT) {
			a->oauth |= c == OUTBOX_SERVER_OAUTH;
			a->set[a->nset].field = c;
			a->set[a->nset++].value = optarg ? optarg : "true";
			continue;
		}
		switch (c) {
		case OPT_PASSWORD_STDIN: a->password_stdin = 1; break;
		case OPT_PASSWORD_PROMPT: a->password_prompt = 1; break;
		case OPT_NO_PASSWORD: a->no_password = 1; break;
		case OPT_RENAME: a->rename = optarg; break;
		case OPT_REASSIGN: a->reassign = optarg; break;
		case OPT_PURGE: a->purge = 1; break;
		case OPT_JSON: a->json = 1; break;
		case OPT_NO_OAUTH:
			/* The same as --oauth none, in the order given. */
			a->oauth = 1;
			a->set[a->nset].field = OUTBOX_SERVER_OAUTH;
			a->set[a->nset++].value = "none";
			break;
		case OPT_CLIENT_SECRET_STDIN: a->client_secret_stdin = 1; break;
		case OPT_NO_CLIENT_SECRET: a->no_client_secret = 1; break;
		default: rc = cli_usage(command, "unexpected option %s", argv[optind - 1]);
		}
		if ((c == OPT_PASSWORD_STDIN || c == OPT_PASSWORD_PROMPT || c == OPT_NO_PASSWORD ||
		     c == OPT_NO_OAUTH || c == OPT_CLIENT_SECRET_STDIN || c == OPT_NO_CLIENT_SECRET) && !allow_fields)
			rc = cli_usage(command, "%s does not take %s", command, argv[optind - 1]);
		if (c == OPT_RENAME && strcmp(verb, "edit") != 0)
			rc = cli_usage(command, "--rename is for: outbox server edit NAME --rename NEW");
		if ((c == OPT_REASSIGN || c == OPT_PURGE) && strcmp(verb, "remove") != 0)
			rc = cli_usage(command, "%s is for: outbox server remove", argv[optind - 1]);
		if (c == OPT_JSON && strcmp(verb, "list") != 0 && strcmp(verb, "show") != 0)
			rc = cli_usage(command, "--json is for list and show");
	}
	free(opts);
	if (rc)
		return rc;
	password_ways = a->password_stdin + a->password_prompt + a->no_password;
	for (size_t i = 0; i < a->nset; i++)
		if (a->set[i].field == OUTBOX_SERVER_PASSWORD_COMMAND) {
			password_ways++;
			break;
		}
	if (password_ways > 1)
		return cli_usage(command, "choose one of --password-stdin, --password-prompt, "
					  "--password-command and --no-password");
	if (a->client_secret_stdin && a->no_client_secret)
		return cli_usage(command, "choose one of --oauth-client-secret-stdin and --no-oauth-client-secret");
	if (a->client_secret_stdin && a->password_stdin)
		return cli_usage(command, "--oauth-client-secret-stdin and --password-stdin both read standard "
					  "input; an OAuth server has no password");
	if (strcmp(verb, "list") == 0) {
		if (optind < argc)
			return cli_usage(command, "unexpected argument \"%s\"", argv[optind]);
		return 0;
	}
	if (optind >= argc)
		return cli_usage(command, "which server? give its NAME");
	a->name = argv[optind++];
	if (optind < argc)
		return cli_usage(command, "unexpected argument \"%s\"", argv[optind]);
	if (strcmp(verb, "add") == 0) {
		int host = 0;
		for (size_t i = 0; i < a->nset; i++)
			host |= a->set[i].field == OUTBOX_SERVER_HOST;
		/* A provider's preset brings the host; without one the library says it is required. */
		if (!host && !a->oauth)
			return cli_usage(command, "--host is required");
	}
	return 0;
}

/* Read the new password, if one is asked for, before the store is opened: nobody should hold
 * the store's write lock while a person types. */
static int server_read_password(const struct server_args *a, char **password)
{
	char prompt[200];

	snprintf(prompt, sizeof prompt, "Password for %s: ", a->name);
	return cli_read_password(a->password_stdin, a->password_prompt, prompt, password);
}

/* The client secret, like a password, is read before the store is opened. */
static int server_read_client_secret(const struct server_args *a, char **secret)
{
	int e;

	*secret = NULL;
	if (!a->client_secret_stdin)
		return 0;
	if ((e = cli_read_password_stdin(secret)) < 0) {
		fprintf(stderr, "outbox: oauth-client-secret: cannot read it: %s\n", strerror(-e));
		return EX_IOERR;
	}
	return 0;
}

/* What the command line asks to change, applied to a fresh draft or, for edit, to the server as
 * loaded inside the save's transaction. */
struct server_changes {
	const struct server_args *args;
	const char *password; /* read already, or NULL */
	const char *client_secret; /* the same */
};

static int server_apply(outbox *h, outbox_server *s, void *ctx)
{
	const struct server_changes *c = ctx;
	const struct server_args *a = c->args;
	size_t i;
	int rc;

	for (i = 0; i < a->nset; i++)
		if ((rc = outbox_server_set(h, s, (outbox_server_field_id)a->set[i].field, a->set[i].value)) < 0)
			return rc;
	if (a->rename && (rc = outbox_server_set(h, s, OUTBOX_SERVER_NAME, a->rename)) < 0)
		return rc;
	if (a->no_password && (rc = outbox_server_set_password(h, s, NULL)) < 0)
		return rc;
	if (c->password && (rc = outbox_server_set_password(h, s, c->password)) < 0)
		return rc;
	if (a->no_client_secret && (rc = outbox_server_set_oauth_client_secret(h, s, NULL)) < 0)
		return rc;
	if (c->client_secret && (rc = outbox_server_set_oauth_client_secret(h, s, c->client_secret)) < 0)
		return rc;
	return 0;
}

static const char *server_password_words(const outbox_server *s)
{
	switch (outbox_server_password_source(s)) {
	case OUTBOX_PASSWORD_KEYRING: return "stored in the keyring";
	case OUTBOX_PASSWORD_FILE: return "stored in a private file";
	case OUTBOX_PASSWORD_COMMAND: return "from a command";
	default: return "none";
	}
}

static const char *server_secret_words(outbox_password_source src)
{
	switch (src) {
	case OUTBOX_PASSWORD_KEYRING: return "stored in the keyring";
	case OUTBOX_PASSWORD_FILE: return "stored in a private file";
	default: return "none";
	}
}

static int server_uses_oauth(const outbox_server *s)
{
	return strcmp(outbox_server_get(s, OUTBOX_SERVER_OAUTH), "none") != 0;
}

/* How the server signs in, for the line add and edit print: its password, or its OAuth provider. */
static void server_signin_words(const outbox_server *s, char *out, size_t size)
{
	if (server_uses_oauth(s))
		snprintf(out, size, "OAuth %s, client ID %s, client secret %s",
			 outbox_server_get(s, OUTBOX_SERVER_OAUTH), outbox_server_get(s, OUTBOX_SERVER_OAUTH_CLIENT_ID),
			 server_secret_words(outbox_server_oauth_client_secret_source(s)));
	else
		snprintf(out, size, "password %s", server_password_words(s));
}

static int server_add_or_edit(int argc, char **argv, int adding)
{
	struct server_args a;
	outbox *h = NULL;
	outbox_server *s = NULL;
	struct server_changes changes = {NULL, NULL, NULL};
	char *password = NULL, *client_secret = NULL, signin[600];
	int rc;

	if ((rc = server_parse(argc, argv, adding ? "add" : "edit", 1, &a)) != 0)
		goto out;
	changes.args = &a;
	if ((rc = server_read_password(&a, &password)) != 0 ||
	    (rc = server_read_client_secret(&a, &client_secret)) != 0 || (rc = cli_open(&h)) != 0)
		goto out;
	changes.password = password;
	changes.client_secret = client_secret;
	if (!adding) {
		rc = outbox_server_edit(h, a.name, server_apply, &changes, &s);
	} else if ((s = outbox_server_new()) == NULL) {
		rc = EX_OSERR;
		goto out;
	} else if ((rc = outbox_server_set(h, s, OUTBOX_SERVER_NAME, a.name)) == 0 &&
		   (rc = server_apply(h, s, &changes)) == 0) {
		rc = outbox_server_save(h, s);
	}
	if (rc < 0) {
		rc = cli_fail(h, rc);
		goto out;
	}
	server_signin_words(s, signin, sizeof signin);
	printf("%s server \"%s\": %s port %s, %s, auth %s, %s%s.\n", adding ? "Added" : "Updated",
	       outbox_server_get(s, OUTBOX_SERVER_NAME), outbox_server_get(s, OUTBOX_SERVER_HOST),
	       outbox_server_get(s, OUTBOX_SERVER_PORT), outbox_server_get(s, OUTBOX_SERVER_SECURITY),
	       outbox_server_get(s, OUTBOX_SERVER_AUTH), signin,
	       strcmp(outbox_server_get(s, OUTBOX_SERVER_DEFAULT), "true") == 0 ? "; the default server" : "");
	if (strcmp(outbox_server_get(s, OUTBOX_SERVER_TLS_VERIFY), "false") == 0 &&
	    strcmp(outbox_server_get(s, OUTBOX_SERVER_SECURITY), "none") != 0)
		fprintf(stderr, "outbox: warning: certificate verification is off for \"%s\": anyone on the "
				"path can read your mail and password\n", outbox_server_get(s, OUTBOX_SERVER_NAME));
	rc = 0;
out:
	cli_wipe(password);
	cli_wipe(client_secret);
	outbox_server_free(s);
	outbox_close(h);
	free(a.set);
	return rc;
}

static void server_json(outbox *h, struct json *j, const outbox_server *s)
{
	int i;

	json_begin_object(j);
	for (i = 0; i < OUTBOX_SERVER_FIELD_COUNT; i++) {
		const outbox_field *f = outbox_server_field_info((outbox_server_field_id)i);
		const char *v = outbox_server_get(s, (outbox_server_field_id)i);
		json_key(j, f->key);
		if (f->kind == OUTBOX_FIELD_NUMBER || f->kind == OUTBOX_FIELD_BOOL)
			json_raw(j, v);
		else
			json_string(j, v);
	}
	json_key(j, "password");
	json_string(j, outbox_password_source_name(outbox_server_password_source(s)));
	/* Where the client secret is kept, never the secret. */
	json_key(j, "oauth-client-secret");
	json_string(j, outbox_password_source_name(outbox_server_oauth_client_secret_source(s)));
	if (server_uses_oauth(s)) {
		outbox_signin in;
		outbox_server_signin(h, s, &in);
		json_key(j, "signed-in");
		json_raw(j, in.signed_in ? "true" : "false");
		json_member_int(j, "access-valid-until", in.expires_at);
		json_key(j, "signin");
		cli_signin_json(j, &in);
	}
	json_key(j, "used-by");
	json_begin_array(j);
	for (const char *const *n = outbox_server_used_by(s); *n; n++)
		json_string(j, *n);
	json_end_array(j);
	json_key(j, "fallback-for");
	json_begin_array(j);
	for (const char *const *n = outbox_server_fallback_for(s); *n; n++)
		json_string(j, *n);
	json_end_array(j);
	json_end_object(j);
}

static void server_print(outbox *h, const outbox_server *s)
{
	struct cli_table t;
	char *used = cli_join(outbox_server_used_by(s)), *fallback = cli_join(outbox_server_fallback_for(s));
	char helo[400];
	int i;

	cli_table_init(&t, 2);
	for (i = 0; i < OUTBOX_SERVER_FIELD_COUNT; i++) {
		const outbox_field *f = outbox_server_field_info((outbox_server_field_id)i);
		const char *v = outbox_server_get(s, (outbox_server_field_id)i);
		char label[80];
		const char *row[2];
		if (i == OUTBOX_SERVER_PASSWORD_COMMAND)
			continue;
		/* Without a provider the OAuth settings are all empty: only "OAuth Provider: none" shows. */
		if (i > OUTBOX_SERVER_OAUTH && i <= OUTBOX_SERVER_OAUTH_TLS_CA && !server_uses_oauth(s))
			continue;
		snprintf(label, sizeof label, "%s:", f->label);
		row[0] = label;
		row[1] = f->kind == OUTBOX_FIELD_BOOL ? (strcmp(v, "true") == 0 ? "yes" : "no") : (*v ? v : "-");
		if (i == OUTBOX_SERVER_HELO && !*v) {
			char fqdn[256];
			outbox_server_helo_automatic(fqdn, sizeof fqdn);
			snprintf(helo, sizeof helo, "automatic: %s", *fqdn ? fqdn
				 : "the connection's own address in brackets (this host has no domain name)");
			row[1] = helo;
		}
		cli_table_add(&t, row);
		if (i == OUTBOX_SERVER_USER) {
			char pw[2200];
			const char *cmd = outbox_server_get(s, OUTBOX_SERVER_PASSWORD_COMMAND);
			if (*cmd)
				snprintf(pw, sizeof pw, "from command: %s", cmd);
			else
				snprintf(pw, sizeof pw, "%s", server_password_words(s));
			row[0] = "Password:";
			row[1] = server_uses_oauth(s) && !*cmd ? "none (signs in with OAuth)" : pw;
			cli_table_add(&t, row);
		}
		if (i == OUTBOX_SERVER_OAUTH_CLIENT_ID) {
			row[0] = "OAuth Client Secret:";
			row[1] = server_secret_words(outbox_server_oauth_client_secret_source(s));
			cli_table_add(&t, row);
		}
		if (i == OUTBOX_SERVER_OAUTH && server_uses_oauth(s)) {
			/* The words `server check` shows too, from the same reading. */
			char words[800], fix[600];
			outbox_signin in;
			outbox_server_signin(h, s, &in);
			outbox_signin_words(&in, words, sizeof words);
			outbox_signin_advice(&in, outbox_server_get(s, OUTBOX_SERVER_NAME), fix, sizeof fix);
			if (*fix)
				snprintf(words + strlen(words), sizeof words - strlen(words), "; %s", fix);
			row[0] = "Signed In:";
			row[1] = words;
			cli_table_add(&t, row);
		}
	}
	{
		const char *row[2] = {"In Use By:", used && *used ? used : "-"};
		cli_table_add(&t, row);
		row[0] = "Fallback For:";
		row[1] = fallback && *fallback ? fallback : "-";
		cli_table_add(&t, row);
	}
	cli_table_print(&t, stdout);
	cli_table_free(&t);
	free(used);
	free(fallback);
}

static int server_show(int argc, char **argv)
{
	struct server_args a;
	outbox *h = NULL;
	outbox_server *s = NULL;
	struct json j;
	int rc;

	if ((rc = server_parse(argc, argv, "show", 0, &a)) != 0 || (rc = cli_open_to_read(&h)) != 0)
		goto out;
	if ((rc = outbox_server_load(h, a.name, &s)) < 0) {
		rc = cli_fail(h, rc);
		goto out;
	}
	if (a.json) {
		json_init(&j, stdout);
		server_json(h, &j, s);
		json_end(&j);
	} else {
		server_print(h, s);
	}
out:
	outbox_server_free(s);
	outbox_close(h);
	free(a.set);
	return rc;
}

static int server_list(int argc, char **argv)
{
	struct server_args a;
	outbox *h = NULL;
	outbox_server **list = NULL;
	size_t n = 0, i;
	struct json j;
	int rc;

	if ((rc = server_parse(argc, argv, "list", 0, &a)) != 0 || (rc = cli_open_to_read(&h)) != 0)
		goto out;
	if ((rc = outbox_server_list(h, &list, &n)) < 0) {
		rc = cli_fail(h, rc);
		goto out;
	}
	if (a.json) {
		json_init(&j, stdout);
		json_begin_array(&j);
		for (i = 0; i < n; i++)
			server_json(h, &j, list[i]);
		json_end_array(&j);
		json_end(&j);
	} else if (n == 0) {
		printf("No outgoing servers yet. Add one with: outbox server add NAME --host HOST\n");
	} else {
		struct cli_table t;
		static const char *const head[] = {"", "NAME", "DESCRIPTION", "SERVER", "SECURITY", "IN USE BY",
						   "OAUTH", "CLIENT ID"};
		int columns = 6;
		/* The OAuth columns only when a server signs in with OAuth: the rest need not see them. */
		for (i = 0; i < n; i++)
			if (server_uses_oauth(list[i]))
				columns = 8;
		cli_table_init(&t, columns);
		cli_table_add(&t, head);
		for (i = 0; i < n; i++) {
			const outbox_server *s = list[i];
			char hostport[300], *used = cli_join(outbox_server_used_by(s));
			const char *desc = outbox_server_get(s, OUTBOX_SERVER_DESCRIPTION);
			const char *row[8];
			snprintf(hostport, sizeof hostport, "%s:%s", outbox_server_get(s, OUTBOX_SERVER_HOST),
				 outbox_server_get(s, OUTBOX_SERVER_PORT));
			row[0] = strcmp(outbox_server_get(s, OUTBOX_SERVER_DEFAULT), "true") == 0 ? "*" : "";
			row[1] = outbox_server_get(s, OUTBOX_SERVER_NAME);
			row[2] = *desc ? desc : outbox_server_get(s, OUTBOX_SERVER_HOST);
			row[3] = hostport;
			row[4] = outbox_server_get(s, OUTBOX_SERVER_SECURITY);
			row[5] = used && *used ? used : "-";
			row[6] = server_uses_oauth(s) ? outbox_server_get(s, OUTBOX_SERVER_OAUTH) : "-";
			row[7] = server_uses_oauth(s) ? outbox_server_get(s, OUTBOX_SERVER_OAUTH_CLIENT_ID) : "-";
			cli_table_add(&t, row);
			free(used);
		}
		cli_table_print(&t, stdout);
		cli_table_free(&t);
		printf("(* the default server)\n");
	}
out:
	outbox_server_list_free(list, n);
	outbox_close(h);
	free(a.set);
	return rc;
}

/* What the removal changed, in the words of its plan (the library's one decision). */
static void server_remove_report(const outbox_server_removal *plan, const char *reassign)
{
	const char *next, *const *before, *const *after, *account;
	char *names = cli_join(outbox_server_removal_moved(plan));

	if (names && *names)
		printf("Moved %s to \"%s\".\n", names, reassign);
	free(names);
	if (outbox_server_removal_default(plan, &next)) {
		if (next)
			printf("\"%s\" is now the default server.\n", next);
		else
			printf("There is no default server now.\n");
	}
	for (size_t i = 0; (account = outbox_server_removal_fallback(plan, i, &before, &after)) != NULL; i++) {
		char *was = cli_join(before), *now = cli_join(after);
		printf("Fallbacks of %s: %s -> %s.\n", account, was ? was : "", now && *now ? now : "(none)");
		free(was);
		free(now);
	}
}

static int server_remove(int argc, char **argv)
{
	struct server_args a;
	outbox *h = NULL;
	outbox_server_removal *plan = NULL;
	int rc;

	if ((rc = server_parse(argc, argv, "remove", 0, &a)) != 0 || (rc = cli_open(&h)) != 0)
		goto out;
	/* Planned first only to report what changed: the removal decides the same way. */
	if ((rc = outbox_server_remove_plan(h, a.name, a.reassign, &plan)) < 0) {
		rc = cli_fail(h, rc);
		goto out;
	}
	if ((rc = outbox_server_remove(h, a.name, a.reassign, a.purge ? OUTBOX_REMOVE_PURGE : 0)) < 0) {
		rc = cli_fail(h, rc);
		goto out;
	}
	printf("Removed server \"%s\"%s.\n", a.name, a.purge ? " for good" : "");
	server_remove_report(plan, a.reassign);
	if (!a.purge)
		printf("Undo with: outbox undo\n");
out:
	outbox_server_removal_free(plan);
	outbox_close(h);
	free(a.set);
	return rc;
}

/* --auto makes edit a different command: discovery decides the settings, so it parses its own. */
static int server_wants_auto(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--auto") == 0)
			return 1;
	return 0;
}

int cmd_server(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : NULL;

	if (verb == NULL || strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0 || strcmp(verb, "help") == 0) {
		fputs(server_help, verb ? stdout : stderr);
		return verb ? 0 : EX_USAGE;
	}
	if (strcmp(verb, "check") == 0)
		return cmd_server_check(argc - 1, argv + 1);
	if (strcmp(verb, "login") == 0)
		return cmd_server_login(argc - 1, argv + 1);
	if (strcmp(verb, "logout") == 0)
		return cmd_server_logout(argc - 1, argv + 1);
	if (cli_wants_help(argc - 1, argv + 1)) {
		if (strcmp(verb, "add") == 0 || strcmp(verb, "edit") == 0)
			server_print_edit_help(verb);
		else if (strcmp(verb, "remove") == 0)
			printf("Usage: outbox server remove NAME [--reassign OTHER] [--purge]\n\n"
			       "Remove a server. Accounts using it must move: --reassign OTHER moves them, and\n"
			       "makes OTHER the default when NAME was. Undo with 'outbox undo'; --purge removes\n"
			       "it for good, with its stored password. It says each change it made: accounts\n"
			       "moved, the new default server, and fallback lists shortened.\n");
		else if (strcmp(verb, "list") == 0)
			printf("Usage: outbox server list [--json]\n\nList servers (* marks the default) with the "
			       "accounts that use each.\n--json prints every setting except secrets.\n");
		else if (strcmp(verb, "show") == 0)
			printf("Usage: outbox server show NAME [--json]\n\nShow every setting of one server; "
			       "passwords are never shown.\n");
		else
			return cli_usage("server", "unknown command \"%s\"", verb);
		return 0;
	}
	if (strcmp(verb, "add") == 0)
		return server_add_or_edit(argc - 1, argv + 1, 1);
	if (strcmp(verb, "edit") == 0 && server_wants_auto(argc - 1, argv + 1))
		return cmd_server_edit_auto(argc - 1, argv + 1);
	if (strcmp(verb, "edit") == 0)
		return server_add_or_edit(argc - 1, argv + 1, 0);
	if (strcmp(verb, "remove") == 0 || strcmp(verb, "rm") == 0)
		return server_remove(argc - 1, argv + 1);
	if (strcmp(verb, "list") == 0 || strcmp(verb, "ls") == 0)
		return server_list(argc - 1, argv + 1);
	if (strcmp(verb, "show") == 0)
		return server_show(argc - 1, argv + 1);
	return cli_usage("server", "unknown command \"%s\"", verb);
}
