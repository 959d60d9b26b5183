/* login_cmd.c: `outbox server login NAME [--device|--browser]` and `outbox server logout NAME`:
 * show the code or open the browser, wait, report. The grants and the token store are the library's. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"

static const char login_help[] =
	"Usage: outbox server login NAME [--device | --browser] [--json] [-v]\n"
	"\n"
	"Sign in to an OAuth 2.0 server (one added with --oauth) and keep its tokens in the keyring,\n"
	"else a 0600 file, never in the database.\n"
	"\n"
	"Options:\n"
	"  --device    show a code to enter at the provider's page, on any device\n"
	"  --browser   open the provider's page in a browser here ($BROWSER, else xdg-open);\n"
	"              the address is always printed too\n"
	"  --json      print the outcome as a JSON object\n"
	"  -v          show the requests to the provider and its answers on standard error\n"
	"              (tokens, codes and secrets hidden)\n"
	"Without either, the provider's preferred way: Google the browser, Microsoft the code.\n"
	"\n"
	"Exit status: 0 signed in, 77 refused, cancelled or the code expired, 75 the provider could\n"
	"not be reached, 78 a setting is wrong.\n";

static const char logout_help[] =
	"Usage: outbox server logout NAME\n"
	"\n"
	"Forget the server's OAuth tokens, revoking them first where the provider offers it.\n";

static volatile sig_atomic_t login_interrupted;

static void login_on_signal(int sig)
{
	(void)sig;
	login_interrupted = 1;
}

struct login_out {
	int json, live, verbose;
};

/* The device grant's instructions go to stdout when they are the output, stderr under --json. */
static void login_device_code(void *ctx, const char *uri, const char *code, const char *complete)
{
	const struct login_out *o = ctx;
	FILE *f = o->json ? stderr : stdout;

	fprintf(f, "To sign in, open %s and enter the code %s\n", uri, code);
	if (complete)
		fprintf(f, "(or open %s)\n", complete);
	fflush(f);
}

static void login_browser_url(void *ctx, const char *url)
{
	const struct login_out *o = ctx;
	FILE *f = o->json ? stderr : stdout;

	/* Started first, so the words can say whether a browser is on its way. */
	int opened = outbox_browser_open(url);

	fprintf(f, "To sign in, open this address in a browser%s:\n%s\n",
		opened ? " (opening it now)"
		       : " on this machine (no browser found: set $BROWSER, or sign in with --device instead)",
		url);
	fflush(f);
}

static int login_progress(void *ctx, long long left)
{
	const struct login_out *o = ctx;

	if (login_interrupted)
		return 1;
	/* The countdown would be torn by the transcript's lines. */
	if (o->live && !o->verbose) {
		fprintf(stderr, "\rWaiting for the sign-in: %lld s left  ", left);
		fflush(stderr);
	}
	return 0;
}

static void login_transcript(void *ctx, char direction, const char *line, size_t len)
{
	(void)ctx;
	cli_print_transcript(direction, line, len);
}

static void login_time(long long at, char *out, size_t size)
{
	time_t t = (time_t)at;
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL || strftime(out, size, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		snprintf(out, size, "%lld", at);
}

static int login_parse(int argc, char **argv, const char *verb, struct login_out *o, outbox_signin_grant *grant,
		       const char **name)
{
	int i;

	*name = NULL;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 && o)
			o->json = 1;
		else if ((strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) && o)
			o->verbose = 1;
		else if (strcmp(argv[i], "--device") == 0 && grant)
			*grant = OUTBOX_SIGNIN_DEVICE;
		else if (strcmp(argv[i], "--browser") == 0 && grant)
			*grant = OUTBOX_SIGNIN_BROWSER;
		else if (argv[i][0] == '-')
			return cli_usage("server", "%s: unknown option \"%s\"", verb, argv[i]);
		else if (*name == NULL)
			*name = argv[i];
		else
			return cli_usage("server", "%s takes one server name", verb);
	}
	if (*name == NULL)
		return cli_usage("server", "%s: name the server", verb);
	return 0;
}

int cmd_server_login(int argc, char **argv)
{
	struct login_out o = {0, isatty(STDERR_FILENO), 0};
	outbox_signin_events ev = {login_device_code, login_browser_url, login_progress, &o, NULL};
	outbox_signin_grant grant = OUTBOX_SIGNIN_PREFERRED;
	struct sigaction sa, old_int, old_term;
	outbox_server *s = NULL;
	const char *name;
	long long until = 0;
	char when[64];
	outbox *h = NULL;
	int rc;

	if (cli_wants_help(argc, argv)) {
		fputs(login_help, stdout);
		return 0;
	}
	if ((rc = login_parse(argc, argv, "login", &o, &grant, &name)) != 0)
		return rc;
	if (o.verbose)
		ev.transcript = login_transcript;
	if ((rc = cli_open(&h)) != 0)
		return rc;
	/* Ctrl-C ends the wait between polls: nothing is stored until the sign-in succeeds. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = login_on_signal;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	rc = outbox_server_login(h, name, grant, &ev, &until);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (o.live && !o.verbose)
		fputs("\r\033[K", stderr);
	if (rc < 0) {
		rc = cli_fail(h, rc);
		goto out;
	}
	if ((rc = outbox_server_load(h, name, &s)) < 0) {
		rc = cli_fail(h, rc);
		goto out;
	}
	login_time(until, when, sizeof when);
	if (o.json) {
		struct json j;
		json_init(&j, stdout);
		json_begin_object(&j);
		json_member_string(&j, "server", name);
		json_member_string(&j, "user", outbox_server_get(s, OUTBOX_SERVER_USER));
		json_key(&j, "signed-in");
		json_raw(&j, "true");
		json_member_int(&j, "access-valid-until", until);
		json_end_object(&j);
		json_end(&j);
	} else {
		printf("Signed in to %s as %s; access valid until %s\n", name,
		       outbox_server_get(s, OUTBOX_SERVER_USER), when);
	}
out:
	outbox_server_free(s);
	outbox_close(h);
	return rc;
}

int cmd_server_logout(int argc, char **argv)
{
	const char *name;
	char *warning = NULL;
	outbox *h = NULL;
	int rc;

	if (cli_wants_help(argc, argv)) {
		fputs(logout_help, stdout);
		return 0;
	}
	if ((rc = login_parse(argc, argv, "logout", NULL, NULL, &name)) != 0)
		return rc;
	if ((rc = cli_open(&h)) != 0)
		return rc;
	rc = outbox_server_logout(h, name, &warning);
	if (warning)
		fprintf(stderr, "outbox: warning: the provider did not revoke the sign-in: %s\n", warning);
	free(warning);
	if (rc < 0)
		rc = cli_fail(h, rc);
	else
		printf("Signed out of %s; its tokens are deleted\n", name);
	outbox_close(h);
	return rc;
}
