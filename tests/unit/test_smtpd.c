/* test_smtpd.c: the `sendmail -bs` engine as a table of sessions (the bytes a client sends, the
 * reply codes it must get in order, the message and envelope that come out), and its driver on pipes. */
#include "unit.h"

#include "smtpd.h"

#define CRLF "\r\n"

struct outcome {
	char codes[1024];   /* each reply's code (a multi-line reply's last), space separated */
	char replies[4096]; /* every reply, as written */
	char data[1024];    /* the last message's data */
	char current[1024]; /* the data of the message being read */
	char envelope[512]; /* "sender>rcpt,rcpt" of the last message */
	char dsn[256];      /* "RET|ENVID|NOTIFY" of the last message, "" for each not given */
	int quit;
};

/* The check a driver installs: one address refused, with the words a server would use. */
static int refuse_blocked(void *ctx, const char *field, const char *address, char *why, size_t size)
{
	(void)ctx;
	if (strcmp(address, "blocked@example.test") != 0)
		return 0;
	snprintf(why, size, "553 5.1.3 %s: not accepted\x1b[2J", field);
	return -1;
}

static void add(char *to, size_t size, const char *s, size_t n)
{
	size_t have = strlen(to);

	if (have + n >= size)
		fail_msg("test buffer too small");
	memcpy(to + have, s, n);
	to[have + n] = '\0';
}

/* Feed `in` to a fresh engine `chunk` bytes at a time (0: all at once), as a driver would. */
static void run(const char *in, size_t chunk, size_t max_rcpt, struct outcome *o)
{
	struct smtpd_config cfg = {"mx.example.test", max_rcpt, refuse_blocked, NULL};
	struct smtpd s;
	size_t off = 0, len = strlen(in);

	memset(o, 0, sizeof *o);
	smtpd_init(&s, &cfg);
	smtpd_greeting(&s);
	add(o->replies, sizeof o->replies, s.reply, s.reply_len);
	add(o->codes, sizeof o->codes, "220", 3);
	while (off < len && !o->quit) {
		size_t end = chunk && off + chunk < len ? off + chunk : len;
		enum smtpd_event ev = SMTPD_MORE;

		while (off < end && !o->quit) {
			off += smtpd_feed(&s, in + off, end - off, &ev);
			if (ev == SMTPD_DATA)
				add(o->current, sizeof o->current, s.data, s.data_len);
			if (ev == SMTPD_MESSAGE) {
				size_t i;
				memcpy(o->data, o->current, sizeof o->data);
				o->current[0] = '\0';
				o->envelope[0] = '\0';
				add(o->envelope, sizeof o->envelope, s.sender, strlen(s.sender));
				for (i = 0; i < s.nrecipients; i++) {
					add(o->envelope, sizeof o->envelope, i ? "," : ">", 1);
					add(o->envelope, sizeof o->envelope, s.recipients[i], strlen(s.recipients[i]));
				}
				snprintf(o->dsn, sizeof o->dsn, "%s|%s|%s", s.dsn.ret, s.dsn.envid, s.dsn.notify);
				smtpd_delivered(&s, 250, "2.0.0", "Ok: delivered");
			}
			if (ev == SMTPD_REPLY || ev == SMTPD_MESSAGE || ev == SMTPD_QUIT) {
				const char *last = s.reply, *p;
				for (p = s.reply; p + 2 < s.reply + s.reply_len; p++)
					if (p[0] == '\n')
						last = p + 1;
				add(o->codes, sizeof o->codes, " ", 1);
				add(o->codes, sizeof o->codes, last, 3);
				add(o->replies, sizeof o->replies, s.reply, s.reply_len);
				o->quit = ev == SMTPD_QUIT;
			}
		}
	}
	smtpd_free(&s);
}

struct session_case {
	const char *name, *in, *codes, *data, *envelope;
	size_t max_rcpt;
};

static const struct session_case sessions[] = {
	{"a message, its dot-stuffing undone",
	 "EHLO client.example" CRLF "MAIL FROM:<a@example.test>" CRLF "RCPT TO:<b@example.test>" CRLF
	 "RCPT TO:<c@example.test>" CRLF "DATA" CRLF "Subject: x" CRLF CRLF "..dot" CRLF ".." CRLF "end" CRLF
	 "." CRLF "QUIT" CRLF,
	 "220 250 250 250 250 354 250 221", "Subject: x" CRLF CRLF ".dot" CRLF "." CRLF "end" CRLF,
	 "a@example.test>b@example.test,c@example.test", 0},
	{"two messages in one session, RSET between",
	 "HELO c" CRLF "MAIL FROM:<a@x.test>" CRLF "RCPT TO:<b@x.test>" CRLF "DATA" CRLF "one" CRLF "." CRLF
	 "MAIL FROM:<z@x.test>" CRLF "RSET" CRLF "MAIL FROM:<>" CRLF "RCPT TO:<d@x.test>" CRLF "DATA" CRLF
	 "two" CRLF "." CRLF "QUIT" CRLF,
	 "220 250 250 250 354 250 250 250 250 250 354 250 221", "two" CRLF, ">d@x.test", 0},
	{"lines ending in a bare LF, and the end of data as .LF",
	 "EHLO c\nMAIL FROM:<a@x.test>\nRCPT TO:<b@x.test>\nDATA\nl1\n.\nQUIT\n",
	 "220 250 250 250 354 250 221", "l1\n", "a@x.test>b@x.test", 0},
	{"a dot then CR and more on the line: only the dot goes",
	 "EHLO c" CRLF "MAIL FROM:<a@x.test>" CRLF "RCPT TO:<b@x.test>" CRLF "DATA" CRLF ".\rX" CRLF "." CRLF,
	 "220 250 250 250 354 250", "\rX" CRLF, "a@x.test>b@x.test", 0},
	{"the order of commands",
	 "MAIL FROM:<a@x.test>" CRLF "EHLO c" CRLF "RCPT TO:<b@x.test>" CRLF "DATA" CRLF
	 "MAIL FROM:<a@x.test>" CRLF "DATA" CRLF "MAIL FROM:<a@x.test>" CRLF "QUIT" CRLF,
	 "220 503 250 503 503 250 554 503 221", "", "", 0},
	{"syntax of MAIL and RCPT",
	 "EHLO c" CRLF "MAIL FROM:a@x.test" CRLF "MAIL TO:<a@x.test>" CRLF "MAIL FROM:<a>" CRLF
	 "MAIL FROM:<a@x.test> SIZE=100" CRLF "MAIL FROM:<a@x.test> BODY=BINARYMIME" CRLF
	 "mail from: <a@x.test> body=8bitmime" CRLF "RCPT TO:<b@x.test> FROB=1" CRLF "RCPT TO:<>" CRLF
	 "RCPT TO:<b c@x.test>" CRLF "RCPT TO:<@relay.test,@r2.test:b@x.test>" CRLF
	 "RCPT TO:<\"q >\"@x.test>" CRLF "QUIT" CRLF,
	 "220 250 501 501 501 555 501 250 555 501 501 250 250 221", "", "", 0},
	{"UTF-8 addresses need SMTPUTF8",
	 "EHLO c" CRLF "MAIL FROM:<j\xc3\xb6@x.test>" CRLF "MAIL FROM:<a@x.test>" CRLF
	 "RCPT TO:<j\xc3\xb6@x.test>" CRLF "RSET" CRLF "MAIL FROM:<j\xc3\xb6@x.test> SMTPUTF8" CRLF
	 "RCPT TO:<j\xc3\xb6@x.test>" CRLF "QUIT" CRLF,
	 "220 250 553 250 553 250 250 250 221", "", "", 0},
	{"other commands",
	 "NOOP anything" CRLF "HELP" CRLF "VRFY bob" CRLF "VRFY" CRLF "EXPN list" CRLF "STARTTLS" CRLF
	 "AUTH PLAIN" CRLF "BDAT 10 LAST" CRLF "FROB" CRLF "" CRLF "EHLO" CRLF "EHLO two words" CRLF
	 "RSET x" CRLF "QUIT now" CRLF "QUIT" CRLF,
	 "220 250 214 252 501 502 502 502 502 500 500 501 501 501 501 221", "", "", 0},
	{"a control character in a command",
	 "EHLO c" CRLF "NOOP \x01" CRLF "MA\x7fIL" CRLF "QUIT" CRLF,
	 "220 250 500 500 221", "", "", 0},
	{"recipients past the limit get 452, and the message goes to the others",
	 "EHLO c" CRLF "MAIL FROM:<a@x.test>" CRLF "RCPT TO:<b@x.test>" CRLF "RCPT TO:<c@x.test>" CRLF
	 "RCPT TO:<d@x.test>" CRLF "DATA" CRLF "." CRLF "QUIT" CRLF,
	 "220 250 250 250 250 452 354 250 221", "", "a@x.test>b@x.test,c@x.test", 2},
	{"the driver's check refuses an address with its own words",
	 "EHLO c" CRLF "MAIL FROM:<blocked@example.test>" CRLF "MAIL FROM:<a@x.test>" CRLF
	 "RCPT TO:<blocked@example.test>" CRLF "QUIT" CRLF,
	 "220 250 553 250 553 221", "", "", 0},
	{"a new EHLO ends the transaction",
	 "EHLO c" CRLF "MAIL FROM:<a@x.test>" CRLF "EHLO c" CRLF "RCPT TO:<b@x.test>" CRLF "QUIT" CRLF,
	 "220 250 250 250 503 221", "", "", 0},
};

static void test_sessions(void **state)
{
	static const size_t chunks[] = {0, 1, 7};
	size_t i, c;
	struct outcome o;

	(void)state;
	for (i = 0; i < sizeof sessions / sizeof sessions[0]; i++) {
		const struct session_case *t = &sessions[i];
		/* Byte by byte, in odd pieces and all at once (pipelined): the same replies. */
		for (c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
			char what[200];

			run(t->in, chunks[c], t->max_rcpt, &o);
			snprintf(what, sizeof what, "%s (pieces of %zu): reply codes", t->name, chunks[c]);
			EXPECT_STR(o.codes, t->codes, what);
			snprintf(what, sizeof what, "%s (pieces of %zu): data", t->name, chunks[c]);
			EXPECT_STR(o.data, t->data, what);
			snprintf(what, sizeof what, "%s (pieces of %zu): envelope", t->name, chunks[c]);
			EXPECT_STR(o.envelope, t->envelope, what);
		}
	}
}

static const struct dsn_case {
	const char *name, *in, *codes, *envelope, *dsn;
} dsn_sessions[] = {
	{"RET, ENVID (xtext decoded) and NOTIFY reach the message; ORCPT is taken",
	 "EHLO c" CRLF "MAIL FROM:<a@x.test> RET=hdrs ENVID=QQ+2Bx+3D1" CRLF
	 "RCPT TO:<b@x.test> NOTIFY=success,delay ORCPT=rfc822;b+2Bz@x.test" CRLF
	 "RCPT TO:<c@x.test> NOTIFY=DELAY,SUCCESS,DELAY,SUCCESS" CRLF "DATA" CRLF "." CRLF "QUIT" CRLF,
	 "220 250 250 250 250 354 250 221", "a@x.test>b@x.test,c@x.test", "HDRS|QQ+x=1|SUCCESS,DELAY"},
	{"a recipient asking another NOTIFY gets 455, and the message goes to the others",
	 "EHLO c" CRLF "MAIL FROM:<a@x.test>" CRLF "RCPT TO:<b@x.test> NOTIFY=SUCCESS" CRLF
	 "RCPT TO:<c@x.test>" CRLF "RCPT TO:<d@x.test> NOTIFY=NEVER" CRLF "RCPT TO:<e@x.test> NOTIFY=SUCCESS" CRLF
	 "DATA" CRLF "." CRLF "QUIT" CRLF,
	 "220 250 250 250 455 455 250 354 250 221", "a@x.test>b@x.test,e@x.test", "||SUCCESS"},
	{"no NOTIFY is not FAILURE,DELAY: it takes the command line's -N, which may differ",
	 "EHLO c" CRLF "MAIL FROM:<a@x.test> RET=FULL" CRLF "RCPT TO:<b@x.test>" CRLF
	 "RCPT TO:<c@x.test> NOTIFY=delay,failure" CRLF "RCPT TO:<d@x.test>" CRLF "DATA" CRLF "." CRLF
	 "QUIT" CRLF,
	 "220 250 250 250 455 250 354 250 221", "a@x.test>b@x.test,d@x.test", "FULL||"},
	{"a refused first recipient sets no NOTIFY; RSET forgets RET and ENVID",
	 "EHLO c" CRLF "MAIL FROM:<a@x.test> RET=FULL ENVID=e1" CRLF "RSET" CRLF "MAIL FROM:<a@x.test>" CRLF
	 "RCPT TO:<blocked@example.test> NOTIFY=SUCCESS" CRLF "RCPT TO:<b@x.test> NOTIFY=NEVER" CRLF "DATA" CRLF
	 "." CRLF "QUIT" CRLF,
	 "220 250 250 250 250 553 250 354 250 221", "a@x.test>b@x.test", "||NEVER"},
	{"bad DSN parameters are 501, ones on the wrong command 555",
	 "EHLO c" CRLF "MAIL FROM:<a@x.test> RET=BOTH" CRLF "MAIL FROM:<a@x.test> RET=FULL RET=HDRS" CRLF
	 "MAIL FROM:<a@x.test> ENVID=a+2" CRLF "MAIL FROM:<a@x.test> ENVID=a+2b" CRLF
	 "MAIL FROM:<a@x.test> ENVID=+0A" CRLF "MAIL FROM:<a@x.test> ENVID=+00" CRLF
	 "MAIL FROM:<a@x.test> ENVID=a=b" CRLF "MAIL FROM:<a@x.test> ENVID=" CRLF
	 "MAIL FROM:<a@x.test> ENVID=x ENVID=y" CRLF "MAIL FROM:<a@x.test> NOTIFY=NEVER" CRLF
	 "MAIL FROM:<a@x.test>" CRLF "RCPT TO:<b@x.test> NOTIFY=NEVER,SUCCESS" CRLF "RCPT TO:<b@x.test> NOTIFY=" CRLF
	 "RCPT TO:<b@x.test> NOTIFY=NEVER NOTIFY=NEVER" CRLF "RCPT TO:<b@x.test> ORCPT=b@x.test" CRLF
	 "RCPT TO:<b@x.test> ORCPT=;b@x.test" CRLF "RCPT TO:<b@x.test> ORCPT=rfc822;" CRLF
	 "RCPT TO:<b@x.test> ORCPT=rfc822;b+2@x.test" CRLF "RCPT TO:<b@x.test> RET=FULL" CRLF "QUIT" CRLF,
	 "220 250 501 501 501 501 501 501 501 501 501 555 250 501 501 501 501 501 501 501 555 221", "", ""},
};

/* 100 octets of ENVID as xtext ("+2B" counts three) are taken; 101 are one too many. */
static void test_dsn_envid_length(void **state)
{
	char in[512], envid[128];
	struct outcome o;

	(void)state;
	memset(envid, 'e', 97);
	snprintf(envid + 97, sizeof envid - 97, "+2B");
	snprintf(in, sizeof in, "EHLO c" CRLF "MAIL FROM:<a@x.test> ENVID=%s" CRLF "QUIT" CRLF, envid);
	run(in, 0, 0, &o);
	EXPECT_STR(o.codes, "220 250 250 221", "ENVID of 100 octets");
	snprintf(in, sizeof in, "EHLO c" CRLF "MAIL FROM:<a@x.test> ENVID=e%s" CRLF "QUIT" CRLF, envid);
	run(in, 0, 0, &o);
	EXPECT_STR(o.codes, "220 250 501 221", "ENVID of 101 octets");
	EXPECT_CONTAINS(o.replies, "501 5.5.4 ENVID: the envelope id is longer than 100 octets", "the words");
}

static void test_dsn_sessions(void **state)
{
	static const size_t chunks[] = {0, 1, 5};
	size_t i, c;
	struct outcome o;

	(void)state;
	for (i = 0; i < sizeof dsn_sessions / sizeof dsn_sessions[0]; i++) {
		const struct dsn_case *t = &dsn_sessions[i];
		for (c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
			char what[200];

			run(t->in, chunks[c], 0, &o);
			snprintf(what, sizeof what, "%s (pieces of %zu): reply codes", t->name, chunks[c]);
			EXPECT_STR(o.codes, t->codes, what);
			snprintf(what, sizeof what, "%s (pieces of %zu): envelope", t->name, chunks[c]);
			EXPECT_STR(o.envelope, t->envelope, what);
			snprintf(what, sizeof what, "%s (pieces of %zu): RET|ENVID|NOTIFY", t->name, chunks[c]);
			EXPECT_STR(o.dsn, t->dsn, what);
		}
	}
	run(dsn_sessions[1].in, 0, 0, &o);
	EXPECT_CONTAINS(o.replies, "455 4.5.4 One NOTIFY per message: send this recipient in a separate transaction",
			"the 455's words");
}

static void test_ehlo_offers_only_what_is_implemented(void **state)
{
	struct outcome o;

	(void)state;
	run("EHLO c" CRLF "QUIT" CRLF, 0, 0, &o);
	EXPECT_STR(o.replies,
		   "220 mx.example.test ESMTP outbox" CRLF "250-mx.example.test" CRLF "250-PIPELINING" CRLF
		   "250-8BITMIME" CRLF "250-SMTPUTF8" CRLF "250-DSN" CRLF "250-ENHANCEDSTATUSCODES" CRLF
		   "250 HELP" CRLF
		   "221 2.0.0 Bye" CRLF,
		   "greeting, EHLO and QUIT");
}

static void test_check_words_are_made_printable(void **state)
{
	struct outcome o;

	(void)state;
	run("EHLO c" CRLF "MAIL FROM:<blocked@example.test>" CRLF, 0, 0, &o);
	EXPECT_CONTAINS(o.replies, "553 5.1.3 from: not accepted?[2J" CRLF, "the refusal, escape shown as ?");
}

static void test_long_line_refused_and_session_goes_on(void **state)
{
	char in[3000];
	struct outcome o;

	(void)state;
	/* 1200 octets of NOOP argument, then a NOOP that must still work. */
	snprintf(in, sizeof in, "EHLO c" CRLF "NOOP %01200d" CRLF "NOOP" CRLF "QUIT" CRLF, 0);
	run(in, 0, 0, &o);
	EXPECT_STR(o.codes, "220 250 500 250 221", "a 1200-octet line, then NOOP");
	EXPECT_CONTAINS(o.replies, "500 5.5.2 Error: line too long", "the words for a long line");
	/* 998 octets and CRLF: the longest line taken. */
	snprintf(in, sizeof in, "NOOP %0*d" CRLF "QUIT" CRLF, SMTPD_MAX_LINE - 2 - 5, 0);
	run(in, 0, 0, &o);
	EXPECT_STR(o.codes, "220 250 221", "a 1000-octet line");
	snprintf(in, sizeof in, "NOOP %0*d" CRLF "QUIT" CRLF, SMTPD_MAX_LINE - 2 - 4, 0);
	run(in, 0, 0, &o);
	EXPECT_STR(o.codes, "220 500 221", "a 1001-octet line");
}

static void test_too_many_errors_end_the_session(void **state)
{
	char in[2000] = "";
	struct outcome o;
	size_t used = 0;
	int i;

	(void)state;
	for (i = 0; i < SMTPD_MAX_ERRORS + 5; i++)
		used += (size_t)snprintf(in + used, sizeof in - used, "FROB" CRLF);
	run(in, 0, 0, &o);
	EXPECT_CONTAINS(o.codes, " 500 421", "the 21st bad command");
	EXPECT_INT(o.quit, 1, "the session ended");
	EXPECT_CONTAINS(o.replies, "421 4.7.0 mx.example.test Error: too many errors", "the 421 words");
}

static void test_eof_says_whether_a_message_was_open(void **state)
{
	struct smtpd_config cfg = {NULL, 0, NULL, NULL};
	const char *in = "EHLO c" CRLF "MAIL FROM:<a@x.test>" CRLF "RCPT TO:<b@x.test>" CRLF "DATA" CRLF "half";
	struct smtpd s;
	enum smtpd_event ev;
	size_t off = 0;

	(void)state;
	smtpd_init(&s, &cfg);
	while (off < strlen(in))
		off += smtpd_feed(&s, in + off, strlen(in) - off, &ev);
	EXPECT_INT(smtpd_eof(&s), 1, "input ending in the data");
	smtpd_free(&s);
	smtpd_init(&s, &cfg);
	off = smtpd_feed(&s, "EHLO c" CRLF, 8, &ev);
	EXPECT_INT(smtpd_eof(&s), 0, "input ending after EHLO");
	smtpd_free(&s);
}

/* The driver on pipes: what it wrote, and what it returned. */
static int serve_on_pipes(const char *in, int keep_open, char *out, size_t size)
{
	struct unit_store *f = unit_store_open("smtpd");
	outbox_serve_options opt;
	int to_server[2], from_server[2], rc;
	size_t have = 0;
	ssize_t n;

	assert_non_null(f);
	assert_int_equal(pipe(to_server), 0);
	assert_int_equal(pipe(from_server), 0);
	assert_int_equal(write(to_server[1], in, strlen(in)), (ssize_t)strlen(in));
	if (!keep_open)
		close(to_server[1]);
	memset(&opt, 0, sizeof opt);
	opt.idle_seconds = 1;
	rc = outbox_serve_stdio(f->h, to_server[0], from_server[1], &opt);
	close(from_server[1]);
	while (have + 1 < size && (n = read(from_server[0], out + have, size - 1 - have)) > 0)
		have += (size_t)n;
	out[have] = '\0';
	if (rc != 0)
		print_message("serve: %s\n", outbox_errmsg(f->h));
	close(from_server[0]);
	close(to_server[0]);
	if (keep_open)
		close(to_server[1]);
	unit_store_close(f);
	return rc;
}

static void test_serve_ends_with_421_when_the_client_goes_quiet(void **state)
{
	char out[2048];

	(void)state;
	EXPECT_INT(serve_on_pipes("EHLO c" CRLF "MAIL FROM:<a@example.test>" CRLF, 1, out, sizeof out),
		   OUTBOX_ETEMPFAIL, "a client silent past the idle time");
	EXPECT_CONTAINS(out, "250 2.1.0 Ok" CRLF "421 4.4.2 Error: timeout exceeded" CRLF, "the replies");
}

static void test_serve_input_ending_between_messages_is_not_an_error(void **state)
{
	char out[2048];

	(void)state;
	EXPECT_INT(serve_on_pipes("EHLO c" CRLF "NOOP" CRLF, 0, out, sizeof out), 0, "input ending after NOOP");
	EXPECT_CONTAINS(out, "250 2.0.0 Ok" CRLF, "the NOOP's reply");
	EXPECT_INT(strstr(out, "421") == NULL, 1, "no 421 to a client that left cleanly");
	EXPECT_INT(serve_on_pipes("EHLO c" CRLF "MAIL FROM:<a@example.test>" CRLF, 0, out, sizeof out),
		   OUTBOX_ETEMPFAIL, "input ending inside a transaction");
}

static void test_verdict_table(void **state)
{
	static const struct {
		int rc, code;
		const char *enhanced, *why;
	} cases[] = {
		{OUTBOX_OK, 250, "2.0.0", "delivered or queued: outbox owns it"},
		{OUTBOX_EREFUSED, 554, "5.0.0", "a recipient refused by the server"},
		{OUTBOX_EINVALID, 554, "5.6.0", "the message cannot go as it is"},
		{OUTBOX_ETEMPFAIL, 451, "4.3.0", "temporary, not queued (--no-queue)"},
		{OUTBOX_EIO, 451, "4.3.0", "the disk"},
		{OUTBOX_EAUTH, 451, "4.3.5", "login refused: the user must fix it"},
		{OUTBOX_ECONFIG, 451, "4.3.5", "no account"},
		{OUTBOX_EUNAVAILABLE, 451, "4.3.5", "TLS or a missing feature"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *enhanced = "";
		EXPECT_INT(smtpd_verdict(cases[i].rc, &enhanced), cases[i].code, cases[i].why);
		EXPECT_STR(enhanced, cases[i].enhanced, cases[i].why);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_ehlo_offers_only_what_is_implemented),
		cmocka_unit_test(test_dsn_sessions),
		cmocka_unit_test(test_dsn_envid_length),
		cmocka_unit_test(test_check_words_are_made_printable),
		cmocka_unit_test(test_long_line_refused_and_session_goes_on),
		cmocka_unit_test(test_too_many_errors_end_the_session),
		cmocka_unit_test(test_eof_says_whether_a_message_was_open),
		cmocka_unit_test(test_verdict_table),
		cmocka_unit_test(test_serve_ends_with_421_when_the_client_goes_quiet),
		cmocka_unit_test(test_serve_input_ending_between_messages_is_not_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
