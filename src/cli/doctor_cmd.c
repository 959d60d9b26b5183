/* doctor_cmd.c: `outbox server check NAME`, the connection doctor on the command line: a line per
 * step as it ends, what to fix under a failed one, or the steps as JSON. The checking is the library's. */
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"

static const char check_help[] =
	"Usage: outbox server check NAME [--json] [--verbose]\n"
	"\n"
	"Check that a server can be used, step by step, without sending mail: resolve its host name,\n"
	"connect, set up TLS and verify the certificate, read the greeting and capabilities (EHLO),\n"
	"and log in. The check stops at the first step that fails and says what to change. A server\n"
	"with --oauth first shows its sign-in (as whom, the access token valid until when, whether\n"
	"it can be renewed), and logs in with the access token as sending does.\n"
	"\n"
	"Options:\n"
	"  --json           print the steps as a JSON array (name, status, title, detail, advice,\n"
	"                   elapsed_ms, fix: the fields the advice sets as field and value, [] when\n"
	"                   no change of fields is the fix; the signin step also has signin:\n"
	"                   signed_in, user, expires_at, refresh_possible)\n"
	"  -v, --verbose    also show the conversation with the server (passwords redacted)\n"
	"\n"
	"Exit status: 0 when every step passed, else that of the failed step: 69 the server cannot\n"
	"be used as configured (name, TLS, certificate), 75 temporary (refused connection, timeout),\n"
	"77 the login was refused, 78 a setting is missing or wrong.\n";

struct check_out {
	int json, verbose, colour, live;
	int line_open; /* a "running" line is on the terminal, to be replaced by the result */
	struct json j;
};

static const char *check_status_word(outbox_step_status st, int colour, const char **on)
{
	*on = "";
	switch (st) {
	case OUTBOX_STEP_OK:
		*on = colour ? "\033[32m" : "";
		return "ok";
	case OUTBOX_STEP_FAILED:
		*on = colour ? "\033[1;31m" : "";
		return "FAIL";
	case OUTBOX_STEP_SKIPPED:
		*on = colour ? "\033[2m" : "";
		return "skip";
	default:
		return "..";
	}
}

static const char *check_status_json(outbox_step_status st)
{
	switch (st) {
	case OUTBOX_STEP_OK: return "ok";
	case OUTBOX_STEP_FAILED: return "failed";
	case OUTBOX_STEP_SKIPPED: return "skipped";
	default: return "running";
	}
}

static void check_report(void *ctx, const outbox_doctor_report *r)
{
	struct check_out *o = ctx;
	const char *on, *word = check_status_word(r->status, o->colour, &on), *off = *on ? "\033[0m" : "";

	if (o->json) {
		if (r->status == OUTBOX_STEP_RUNNING)
			return;
		json_begin_object(&o->j);
		json_member_string(&o->j, "name", r->name);
		json_member_string(&o->j, "status", check_status_json(r->status));
		json_member_string(&o->j, "title", r->title);
		json_member_string(&o->j, "detail", r->detail);
		json_member_string(&o->j, "advice", r->advice);
		json_member_int(&o->j, "elapsed_ms", r->elapsed_ms);
		/* The fields the advice sets, when a change of fields is the fix: [] otherwise. */
		json_key(&o->j, "fix");
		json_begin_array(&o->j);
		for (size_t i = 0; i < r->nfix; i++) {
			json_begin_object(&o->j);
			json_member_string(&o->j, "field", outbox_server_field_info(r->fix[i].field)->key);
			json_member_string(&o->j, "value", r->fix[i].value);
			json_end_object(&o->j);
		}
		json_end_array(&o->j);
		if (r->signin) {
			json_key(&o->j, "signin");
			cli_signin_json(&o->j, r->signin);
		}
		json_end_object(&o->j);
		return;
	}
	if (o->line_open) {
		fputs("\r\033[K", stdout); /* the running line gives way to the result */
		o->line_open = 0;
	}
	if (r->status == OUTBOX_STEP_RUNNING) {
		/* Only on a terminal, and not between transcript lines, where it would be torn. */
		if (o->live) {
			printf("  %s    %-7s  %s", word, r->name, r->title);
			fflush(stdout);
			o->line_open = 1;
		}
		return;
	}
	printf("  %s%-4s%s  %-7s  %s", on, word, off, r->name, *r->detail ? r->detail : r->title);
	/* The sign-in is read from this machine: its time says nothing. */
	if (r->status != OUTBOX_STEP_SKIPPED && r->step != OUTBOX_STEP_SIGNIN)
		printf(" (%lld ms)", r->elapsed_ms);
	putchar('\n');
	if (r->status == OUTBOX_STEP_FAILED && *r->advice)
		printf("        fix: %s\n", r->advice);
	fflush(stdout);
}

/* The conversation on stderr, each line of a reply with its own marker, as `outbox send -v`. */
static void check_transcript(void *ctx, char direction, const char *line, size_t len)
{
	(void)ctx;
	cli_print_transcript(direction, line, len);
}

static int check_parse(int argc, char **argv, const char **name, int *json, int *verbose)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"verbose", no_argument, NULL, 'v'},
		{NULL, 0, NULL, 0}};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":v", opts, NULL)) != -1) {
		if (c == 'j')
			*json = 1;
		else if (c == 'v')
			*verbose = 1;
		else
			return cli_usage("server check", "unknown option %s", argv[optind - 1]);
	}
	if (optind >= argc)
		return cli_usage("server check", "which server? give its NAME");
	*name = argv[optind++];
	if (optind < argc)
		return cli_usage("server check", "unexpected argument \"%s\"", argv[optind]);
	return 0;
}

int cmd_server_check(int argc, char **argv)
{
	struct check_out o;
	const char *name = NULL, *no_colour = getenv("NO_COLOR");
	outbox *h = NULL;
	outbox_server *s = NULL;
	int rc;

	if (cli_wants_help(argc, argv)) {
		fputs(check_help, stdout);
		return 0;
	}
	memset(&o, 0, sizeof o);
	if ((rc = check_parse(argc, argv, &name, &o.json, &o.verbose)) != 0)
		return rc;
	if ((rc = cli_open(&h)) != 0)
		return rc;
	if ((rc = outbox_server_load(h, name, &s)) < 0) {
		rc = cli_fail(h, rc);
		goto out;
	}
	o.colour = !o.json && isatty(STDOUT_FILENO) && !(no_colour && *no_colour);
	o.live = !o.json && !o.verbose && isatty(STDOUT_FILENO);
	if (o.json) {
		json_init(&o.j, stdout);
		json_begin_array(&o.j);
	} else {
		printf("Checking server \"%s\" (%s port %s, %s):\n", name, outbox_server_get(s, OUTBOX_SERVER_HOST),
		       outbox_server_get(s, OUTBOX_SERVER_PORT), outbox_server_get(s, OUTBOX_SERVER_SECURITY));
		fflush(stdout);
	}
	rc = outbox_doctor_check_transcript(h, s, check_report, o.verbose ? check_transcript : NULL, &o);
	if (o.line_open)
		fputs("\r\033[K", stdout);
	if (o.json) {
		json_end_array(&o.j);
		json_end(&o.j);
	} else if (rc == 0) {
		printf("Server \"%s\" is ready to send mail.\n", name);
	}
	fflush(stdout);
	rc = rc < 0 ? cli_fail(h, rc) : 0;
out:
	outbox_server_free(s);
	outbox_close(h);
	return rc;
}
