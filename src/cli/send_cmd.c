/* send_cmd.c: `outbox send` and the sendmail drop-in: sendmail's option grammar as Postfix reads
 * it (used, ignored or refused), -bs, envelope checks before connecting, per-recipient results. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char send_help[] =
	"Usage: outbox send [OPTIONS] [--] [RECIPIENT...] < message\n"
	"       sendmail [OPTIONS] [RECIPIENT...] < message\n"
	"\n"
	"Send a message read from standard input through its account's server.\n"
	"The account is --account, else the one whose address is -f, else the one in the\n"
	"message's From: header, else the default account.\n"
	"A RECIPIENT without a domain (root) goes to the addresses of its alias, else of the\n"
	"\"default\" alias (see: outbox alias); without either, it is refused (exit status 67).\n"
	"\n"
	"Options:\n"
	"  -t                 also send to the To, Cc and Bcc recipients\n"
	"  -f ADDRESS         the envelope sender (bounces go there); a bare name gets the\n"
	"                     account's domain, and '' or '<>' is the null sender\n"
	"  -F \"FULL NAME\"     the name for a From: header outbox adds\n"
	"  -i, -oi, -o i      as sendmail, a line with a single \".\" no longer ends the message\n"
	"                     (outbox send always reads to the end of its input)\n"
	"  -N NOTIFY          delivery notices wanted: never, or a comma list of success,\n"
	"                     failure and delay (default failure,delay)\n"
	"  -R hdrs|full       what a bounce returns of the message (default hdrs)\n"
	"  -V ENVID           the envelope id a notice names (default the Message-ID)\n"
	"  --account ADDRESS  send as this account\n"
	"  --server NAME      send through this server instead of the account's\n"
	"  -v, --verbose      show the conversation with the server (passwords redacted)\n"
	"  --quiet            print nothing when every recipient got the message\n"
	"  --queue-only, -odq put the message in the outbox without trying now\n"
	"  --no-queue         on a temporary failure exit 75 instead of queueing the message\n"
	"  -bs                speak SMTP on standard input and output (as PHP's Symfony Mailer\n"
	"                     does); each message goes to its RCPT TO recipients from MAIL FROM\n"
	"Options combine as with getopt: -ti is -t -i, -tif ADDRESS is -t -i -f ADDRESS.\n"
	"A recipient is an address list: \"Bob <bob@example.com>\", \"a@example.com,b@example.org\".\n"
	"A Bcc: header is always removed, and a first line \"From \" (mbox) is dropped.\n"
	"-N, -R and -V reach a server that offers DSN, also when the message is queued.\n"
	"Accepted for compatibility and ignored, as Postfix does: -odi, -oem, -bm, -oXXX, -B TYPE,\n"
	"-A X, -L TAG, -O OPT=VALUE, -e X, -h COUNT, -G, -U, -c, -m, -n, -x.\n"
	"Refused: -X FILE and -C FILE (a log or configuration named by the caller).\n"
	"As sendmail: -bp lists the outbox in mailq's layout and -q sends everything in it now.\n"
	"\n"
	"When the server fails (no connection, TLS, the login, a 421), the account's fallback\n"
	"servers take over in turn, and a warning says why. What is left for now (a 4xx, a server\n"
	"that is down, a reply lost after the data) waits in the outbox and the exit status is 0;\n"
	"the schedule retries it, and 'outbox queue run --all' sends it at once. A server that\n"
	"cannot be used as set up (login refused, TLS, a setting) is reported, not queued.\n"
	"\n"
	"Exit status: 0 delivered (or queued) for every recipient, 65 refused, 69 server unusable\n"
	"as set up, 75 temporary failure with --no-queue, 77 login refused, 78 configuration, 64 usage.\n";

struct send_args {
	outbox_send_request req;
	const char **recipients;
	size_t nrecipients;
	int verbose, quiet, sendmail;
	int serve; /* -bs */
	char queue_mode; /* sendmail -bp ('p') or -q ('q') */
};

/* Installed with -v only. */
static void send_transcript(void *ctx, char direction, const char *line, size_t len)
{
	(void)ctx;
	cli_print_transcript(direction, line, len);
}

static void send_notice(void *ctx, const char *text)
{
	(void)ctx;
	fprintf(stderr, "outbox: warning: %s\n", text);
}

/* Options Postfix's sendmail takes and ignores (its getopt list), and which of them take a value:
 * -B TYPE, -A ARG, -L TAG, -O OPT=VALUE, -e X, -h COUNT; -G, -U, -c, -m, -n, -x take none. */
#define SEND_IGNORED_WITH_VALUE "BALOeh"
#define SEND_IGNORED_FLAGS "GUcmnx"

static int send_ignored(const char *arg)
{
	if (arg[1] == '\0' || strchr(SEND_IGNORED_WITH_VALUE, arg[1]) == NULL)
		return arg[1] != '\0' && strchr(SEND_IGNORED_FLAGS, arg[1]) != NULL && arg[2] == '\0';
	return 1;
}

/* An option's value: the rest of this argument ("-fme@x") or the next one ("-f me@x"). */
static const char *send_value(int argc, char **argv, int *i, size_t skip, const char *name)
{
	if (argv[*i][skip])
		return argv[*i] + skip;
	if (*i + 1 >= argc) {
		cli_usage("send", "%s needs a value", name);
		return NULL;
	}
	return argv[++*i];
}

static int send_check_value(const char *what, const char *v)
{
	if (v[0] == '-')
		return cli_usage("send", "%s \"%s\" starts with \"-\"; refusing it", what, v);
	if (strpbrk(v, "\r\n"))
		return cli_usage("send", "%s contains a line break; refusing it", what);
	return 0;
}

/* Postfix's sendmail reads its options with getopt, so "-ti" is -t -i and "-tfme@x" is -t then
 * -f me@x: letters that take no value may share one word, the last of them followed by one that
 * does. Those are spread one option a word (into `pieces`, owned by the caller) so send_parse
 * reads each as if given alone. A word that is an option's value is never spread. */
#define SEND_FLAG_LETTERS "GUcimntvx"
#define SEND_VALUE_LETTERS "ABCFLNORVXbefhopqr"

struct send_words {
	char **argv;   /* argv[0], then the words */
	int argc;
	char **pieces; /* what was allocated here */
	size_t npieces;
};

static int send_takes_next(const char *arg)
{
	if (strcmp(arg, "--account") == 0 || strcmp(arg, "--server") == 0)
		return 1;
	return arg[0] == '-' && arg[1] != '\0' && arg[2] == '\0' && strchr(SEND_VALUE_LETTERS, arg[1]) != NULL;
}

static int send_spread(int argc, char **argv, struct send_words *w)
{
	size_t cap = 1;
	int i;

	for (i = 1; i < argc; i++)
		cap += strlen(argv[i]) + 1;
	memset(w, 0, sizeof *w);
	w->argv = calloc(cap + 1, sizeof *w->argv);
	w->pieces = calloc(2 * cap + 1, sizeof *w->pieces);
	if (w->argv == NULL || w->pieces == NULL)
		return EX_OSERR;
	w->argv[w->argc++] = argv[0];
	for (i = 1; i < argc; i++) {
		char *arg = argv[i];
		if (strcmp(arg, "--") == 0) {
			while (i < argc)
				w->argv[w->argc++] = argv[i++];
			break;
		}
		while (arg[0] == '-' && arg[1] != '\0' && arg[2] != '\0' && strchr(SEND_FLAG_LETTERS, arg[1])) {
			char *flag = malloc(3), *rest;
			if (flag == NULL || (rest = malloc(strlen(arg + 2) + 2)) == NULL) {
				free(flag);
				return EX_OSERR;
			}
			snprintf(flag, 3, "-%c", arg[1]);
			snprintf(rest, strlen(arg + 2) + 2, "-%s", arg + 2);
			w->pieces[w->npieces++] = flag;
			w->pieces[w->npieces++] = rest;
			w->argv[w->argc++] = flag;
			arg = rest;
		}
		w->argv[w->argc++] = arg;
		if (send_takes_next(arg) && i + 1 < argc)
			w->argv[w->argc++] = argv[++i];
	}
	return 0;
}

static void send_words_free(struct send_words *w)
{
	size_t i;

	for (i = 0; w->pieces && i < w->npieces; i++)
		free(w->pieces[i]);
	free(w->pieces);
	free(w->argv);
}

static int send_parse(int argc, char **argv, struct send_args *a)
{
	int i, only_recipients = 0;

	a->recipients = calloc((size_t)argc + 1, sizeof *a->recipients);
	if (a->recipients == NULL)
		return EX_OSERR;
	/* Under its own name outbox reads to the end of input, as msmtp does, so a line holding only
	 * "." never cuts a piped file short; as sendmail it keeps the traditional rule. */
	a->req.dot_ends_input = a->sendmail;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *v;
		if (only_recipients || arg[0] != '-' || arg[1] == '\0') {
			if (send_check_value("recipient", arg))
				return EX_USAGE;
			a->recipients[a->nrecipients++] = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			only_recipients = 1;
		} else if (strcmp(arg, "--account") == 0 || strncmp(arg, "--account=", 10) == 0) {
			if ((v = arg[9] == '=' ? arg + 10 : send_value(argc, argv, &i, 9, "--account")) == NULL)
				return EX_USAGE;
			a->req.account = v;
		} else if (strcmp(arg, "--server") == 0 || strncmp(arg, "--server=", 9) == 0) {
			if ((v = arg[8] == '=' ? arg + 9 : send_value(argc, argv, &i, 8, "--server")) == NULL)
				return EX_USAGE;
			a->req.server = v;
		} else if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0) {
			a->verbose = 1;
		} else if (strcmp(arg, "--quiet") == 0 || (!a->sendmail && strcmp(arg, "-q") == 0)) {
			a->quiet = 1;
		} else if (strcmp(arg, "--queue-only") == 0 || strcmp(arg, "-odq") == 0) {
			a->req.queue_only = 1;
		} else if (strcmp(arg, "--no-queue") == 0) {
			a->req.no_queue = 1;
		} else if (a->sendmail && (strcmp(arg, "-bp") == 0 || strncmp(arg, "-q", 2) == 0)) {
			a->queue_mode = arg[1] == 'b' ? 'p' : 'q';
		} else if (strcmp(arg, "-bs") == 0) {
			a->serve = 1;
		} else if (strcmp(arg, "-t") == 0) {
			a->req.extract_recipients = 1;
		} else if (strcmp(arg, "-i") == 0 || strcmp(arg, "-oi") == 0) {
			a->req.dot_ends_input = 0;
		} else if (strncmp(arg, "-f", 2) == 0 || strncmp(arg, "-r", 2) == 0) {
			if ((v = send_value(argc, argv, &i, 2, "-f")) == NULL)
				return EX_USAGE;
			if (send_check_value("-f", v))
				return EX_USAGE;
			a->req.envelope_from = v;
		} else if (strncmp(arg, "-F", 2) == 0) {
			if ((v = send_value(argc, argv, &i, 2, "-F")) == NULL)
				return EX_USAGE;
			if (strpbrk(v, "\r\n"))
				return cli_usage("send", "-F contains a line break; refusing it");
			a->req.full_name = v;
		} else if (strncmp(arg, "-N", 2) == 0 || strncmp(arg, "-R", 2) == 0 || strncmp(arg, "-V", 2) == 0) {
			/* DSN requests: the library checks their values, for every front end alike. */
			if ((v = send_value(argc, argv, &i, 2, arg)) == NULL)
				return EX_USAGE;
			*(arg[1] == 'N' ? &a->req.dsn_notify : arg[1] == 'R' ? &a->req.dsn_ret : &a->req.dsn_envid) = v;
		} else if (strcmp(arg, "-o") == 0) {
			/* "-o i", as getopt reads "-oi": the option is the next word. */
			if ((v = send_value(argc, argv, &i, 2, "-o")) == NULL)
				return EX_USAGE;
			if (strcmp(v, "i") == 0)
				a->req.dot_ends_input = 0;
		} else if (send_ignored(arg)) {
			/* What Postfix's sendmail accepts and ignores; those that take a value take it. */
			if (strchr(SEND_IGNORED_WITH_VALUE, arg[1]) && send_value(argc, argv, &i, 2, arg) == NULL)
				return EX_USAGE;
		} else if (strcmp(arg, "-bm") == 0 || strncmp(arg, "-o", 2) == 0) {
			/* -odi, -oem and other -o options change nothing here. */
		} else if (strncmp(arg, "-X", 2) == 0 || strncmp(arg, "-C", 2) == 0) {
			return cli_usage("send", "%.2s is refused: it would write a log or read a configuration "
						 "file named by the caller", arg);
		} else {
			return cli_usage("send", "unknown option %s", arg);
		}
	}
	a->req.recipients = a->recipients;
	return 0;
}

/* Each recipient's outcome, as the library words it, with the server's reply when it says more. */
static void send_print_recipients(const outbox_send_result *res, int many)
{
	size_t i, n = outbox_send_result_count(res);

	for (i = 0; many && i < n; i++) {
		outbox_rcpt_state st = outbox_send_result_state(res, i);
		const char *reply = outbox_send_result_reply(res, i);
		int quote = *reply && st != OUTBOX_RCPT_DELIVERED && st != OUTBOX_RCPT_QUEUED;
		fprintf(stderr, "outbox: %s: %s%s%s\n", outbox_send_result_address(res, i), outbox_send_result_words(res, i),
			quote ? ": " : "", quote ? reply : "");
	}
}

/* "at 14:05" today, or the date too when it is not today. */
static const char *send_when(long long t, char *buf, size_t size)
{
	time_t tt = (time_t)t, now = time(NULL);
	struct tm tm, today;

	localtime_r(&tt, &tm);
	localtime_r(&now, &today);
	if (tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday)
		strftime(buf, size, "at %H:%M", &tm);
	else
		strftime(buf, size, "on %Y-%m-%d at %H:%M", &tm);
	return buf;
}

/* -bs: the envelope comes from MAIL FROM and RCPT TO, so recipients, -t and -f have no part. */
static int send_serve(struct send_args *a)
{
	outbox_serve_options opt;
	outbox *h = NULL;
	int rc;

	if (a->nrecipients > 0 || a->req.extract_recipients)
		return cli_usage("send", "-bs takes its recipients from RCPT TO: drop %s",
				 a->nrecipients ? "the recipients" : "-t");
	memset(&opt, 0, sizeof opt);
	opt.send = a->req;
	opt.send.envelope_from = NULL;
	/* A client that goes away must not end outbox while it writes: the write fails instead. */
	signal(SIGPIPE, SIG_IGN);
	if ((rc = cli_open(&h)) == 0 && (rc = outbox_serve_stdio(h, STDIN_FILENO, STDOUT_FILENO, &opt)) < 0)
		rc = cli_fail(h, rc);
	outbox_close(h);
	return rc;
}

int cmd_send(int argc, char **argv, int as_sendmail)
{
	struct send_args a;
	struct send_words words;
	outbox *h = NULL;
	outbox_send_result *res = NULL;
	size_t n;
	int rc;

	memset(&a, 0, sizeof a);
	memset(&words, 0, sizeof words);
	a.sendmail = as_sendmail;
	if (!as_sendmail && cli_wants_help(argc, argv)) {
		fputs(send_help, stdout);
		return 0;
	}
	if ((rc = send_spread(argc, argv, &words)) != 0 || (rc = send_parse(words.argc, words.argv, &a)) != 0)
		goto out;
	if (a.queue_mode) {
		/* sendmail -q, as postqueue -f: everything queued goes now, whatever its schedule. */
		char *qargv[] = {"queue", "run", "--all", NULL}, *margv[] = {"mailq", NULL};
		rc = a.queue_mode == 'p' ? cmd_mailq(1, margv) : cmd_queue(3, qargv);
		goto out;
	}
	/* Only when it is shown: the library renders every line it hands out. */
	if (a.verbose)
		a.req.transcript = send_transcript;
	a.req.notice = send_notice;
	a.req.ctx = &a;
	if (a.serve) {
		rc = send_serve(&a);
		goto out;
	}
	if (a.nrecipients == 0 && !a.req.extract_recipients) {
		rc = cli_usage("send", "no recipients: name them, or use -t to read them from the message");
		goto out;
	}
	if ((rc = cli_open(&h)) != 0)
		goto out;
	rc = outbox_send(h, STDIN_FILENO, &a.req, &res);
	n = outbox_send_result_count(res);
	if (rc == 0 && outbox_send_result_queue_id(res)) {
		/* Queued is not failed, but the user should know, even as sendmail. */
		char when[32];
		fprintf(stderr, "outbox: queued as %lld for later (%s); next try %s, or now with 'outbox queue run --all'\n",
			outbox_send_result_queue_id(res), outbox_errmsg(h)[0] ? outbox_errmsg(h) : "as asked",
			send_when(outbox_send_result_next_attempt(res), when, sizeof when));
		send_print_recipients(res, n > 1);
	} else if (rc == 0) {
		if (!a.quiet && !a.sendmail)
			printf("Sent %s as %s through \"%s\" to %zu recipient%s.\n", outbox_send_result_message_id(res),
			       outbox_send_result_account(res), outbox_send_result_server(res), n, n == 1 ? "" : "s");
	} else {
		send_print_recipients(res, n > 1);
		rc = cli_fail(h, rc);
		if (outbox_send_result_queue_id(res))
			fprintf(stderr, "outbox: the others are queued as %lld; 'outbox queue run --all' sends them now\n",
				outbox_send_result_queue_id(res));
	}
out:
	outbox_send_result_free(res);
	outbox_close(h);
	free(a.recipients);
	send_words_free(&words);
	return rc;
}
