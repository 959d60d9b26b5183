/* test_smtp.c: the protocol engine driven by scripted replies, without sockets: the exact commands
 * it sends for each server shape (pipelining, chunking, neither), and how it ends each fault. */
#include <stdlib.h>

#include "handle_internal.h"
#include "smtp.h"
#include "policy.h"
#include "unit.h"

/* What the delivery policy makes of recipient i after the transaction the engine recorded (the
 * engine keeps the replies; deciding is the policy's): what the user is told. */
static enum policy_outcome judged(const struct smtp_txn *t, int failure, size_t i)
{
	struct policy_rcpt v[8];
	struct policy_attempt a;

	assert_true(t->nrcpt <= 8);
	policy_judge(t, failure, v, &a);
	return v[i].outcome;
}

/* Run the engine against a script: each step gives the server's bytes for the next read; the
 * commands written are collected in `sent`. Body bytes are recorded as "<body>". */
struct run {
	struct buf sent;
	enum smtp_action stopped;
};

static void drive(struct smtp *e, const char *const *replies, struct smtp_txn *t, struct run *r, int start_txn)
{
	size_t next = 0;

	buf_init(&r->sent, 0);
	for (;;) {
		enum smtp_action a = smtp_next(e);
		if (a == SMTP_WRITE) {
			size_t len;
			const char *out = smtp_output(e, &len);
			buf_append(&r->sent, out, len);
			smtp_consume_output(e);
		} else if (a == SMTP_READ) {
			const char *in = replies[next] ? replies[next++] : "";
			smtp_input(e, in, strlen(in));
		} else if (a == SMTP_BODY) {
			buf_puts(&r->sent, "<body>");
			smtp_body_sent(e);
		} else if (a == SMTP_START_TLS) {
			buf_puts(&r->sent, "<tls>");
			smtp_tls_started(e, NULL, NULL, 0);
		} else if (a == SMTP_TXN_DONE && start_txn > 0) {
			continue; /* more transactions to start on this session */
		} else if (a == SMTP_READY && start_txn) {
			start_txn--;
			if (smtp_begin(e, t) < 0) {
				r->stopped = SMTP_FAILED;
				return;
			}
		} else {
			r->stopped = a;
			return;
		}
	}
}

static struct smtp *engine(outbox *h, enum smtp_security sec, const char *user, const char *password)
{
	struct smtp_config c;
	struct smtp *e;

	memset(&c, 0, sizeof c);
	c.helo_name = "client.test";
	c.security = sec;
	c.auth = "auto";
	c.user = user;
	c.password = password;
	c.host = "server.test";
	c.port = 587;
	assert_int_equal(smtp_new(h, &c, &e), 0);
	return e;
}

static void txn_init(struct smtp_txn *t, struct smtp_rcpt *r, size_t n)
{
	static const char *const names[] = {"a@x.test", "b@x.test", "c@x.test"};
	size_t i;

	memset(t, 0, sizeof *t);
	memset(r, 0, n * sizeof *r);
	for (i = 0; i < n; i++)
		r[i].address = names[i];
	t->from = "me@x.test";
	t->rcpt = r;
	t->nrcpt = n;
	t->size = 100;
	t->last = 1;
}

static void test_pipelining_and_chunking_is_one_round_trip(void **state)
{
	static const char *const replies[] = {
		"220 hi\r\n",
		"250-server.test\r\n250-PIPELINING\r\n250-CHUNKING\r\n250-SIZE 1000\r\n250 8BITMIME\r\n",
		"250 2.1.0 ok\r\n250 2.1.5 ok\r\n250 2.1.5 ok\r\n250 2.0.0 queued\r\n221 bye\r\n",
		NULL};
	outbox h;
	struct smtp *e;
	struct smtp_txn t;
	struct smtp_rcpt r[2];
	struct run run;

	(void)state;
	memset(&h, 0, sizeof h);
	e = engine(&h, SMTP_SEC_NONE, NULL, NULL);
	txn_init(&t, r, 2);
	drive(e, replies, &t, &run, 1);
	EXPECT_STR(run.sent.data,
		   "EHLO client.test\r\n"
		   "MAIL FROM:<me@x.test> SIZE=100\r\nRCPT TO:<a@x.test>\r\nRCPT TO:<b@x.test>\r\nBDAT 100 LAST\r\n"
		   "<body>QUIT\r\n", "commands on the wire");
	EXPECT_INT(run.stopped, SMTP_TXN_DONE, "engine stops at");
	EXPECT_INT(judged(&t, 0, 0), POLICY_DELIVERED, "first recipient");
	EXPECT_INT(judged(&t, 0, 1), POLICY_DELIVERED, "second recipient");
	EXPECT_INT(smtp_next(e), SMTP_CLOSED, "after QUIT's reply");
	buf_free(&run.sent);
	smtp_free(e);
}

/* The commands a server offering DSN (and SMTPUTF8) gets for a transaction, lockstep. */
static void dsn_commands(struct smtp_txn *t, struct buf *sent)
{
	static const char *const replies[] = {
		"220 hi\r\n", "250-server.test\r\n250-DSN\r\n250 SMTPUTF8\r\n", "250 ok\r\n", "250 ok\r\n",
		"250 ok\r\n", "354 go\r\n", "250 queued\r\n", "221 bye\r\n", NULL};
	outbox h;
	struct smtp *e;
	struct run run;

	memset(&h, 0, sizeof h);
	e = engine(&h, SMTP_SEC_NONE, NULL, NULL);
	drive(e, replies, t, &run, 1);
	*sent = run.sent;
	smtp_free(e);
}

/* What goes out with DSN offered: the defaults when nothing was asked (NOTIFY=FAILURE,DELAY,
 * RET=HDRS, the Message-ID as ENVID), else what -N, -R and -V asked, ENVID in xtext. */
static void test_dsn_parameters(void **state)
{
	static const struct {
		const char *name, *notify, *ret, *envid, *mail, *rcpt;
	} cases[] = {
		{"defaults", NULL, NULL, "id1@x.test", "MAIL FROM:<me@x.test> RET=HDRS ENVID=id1@x.test\r\n",
		 "RCPT TO:<a@x.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;a@x.test\r\n"},
		{"asked", "SUCCESS,FAILURE", "FULL", "env+1=2", "MAIL FROM:<me@x.test> RET=FULL ENVID=env+2B1+3D2\r\n",
		 "RCPT TO:<a@x.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@x.test\r\n"},
		{"never", "NEVER", "", NULL, "MAIL FROM:<me@x.test> RET=HDRS\r\n",
		 "RCPT TO:<a@x.test> NOTIFY=NEVER ORCPT=rfc822;a@x.test\r\n"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct smtp_txn t;
		struct smtp_rcpt r[1];
		struct buf sent;
		txn_init(&t, r, 1);
		t.dsn_notify = cases[i].notify;
		t.dsn_ret = cases[i].ret;
		t.envid = cases[i].envid;
		dsn_commands(&t, &sent);
		EXPECT_CONTAINS(sent.data, cases[i].mail, cases[i].name);
		EXPECT_CONTAINS(sent.data, cases[i].rcpt, cases[i].name);
		buf_free(&sent);
	}
}

/* A server without DSN gets none of its parameters, whatever was asked. */
static void test_dsn_only_when_offered(void **state)
{
	static const char *const replies[] = {
		"220 hi\r\n", "250 server.test\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 queued\r\n",
		"221 bye\r\n", NULL};
	outbox h;
	struct smtp *e;
	struct smtp_txn t;
	struct smtp_rcpt r[1];
	struct run run;

	(void)state;
	memset(&h, 0, sizeof h);
	e = engine(&h, SMTP_SEC_NONE, NULL, NULL);
	txn_init(&t, r, 1);
	t.dsn_notify = "SUCCESS";
	t.dsn_ret = "FULL";
	t.envid = "id1@x.test";
	drive(e, replies, &t, &run, 1);
	EXPECT_STR(run.sent.data, "EHLO client.test\r\nMAIL FROM:<me@x.test>\r\nRCPT TO:<a@x.test>\r\nDATA\r\n<body>.\r\n",
		   "commands on the wire");
	buf_free(&run.sent);
	smtp_free(e);
}

/* RFC 6533: a UTF-8 recipient's ORCPT is of type utf-8, each character that is not printable
 * ASCII (and "\", "+", "=") as \x{HEX}; an ASCII one in the same session stays rfc822 + xtext. */
static void test_orcpt_utf8(void **state)
{
	struct smtp_txn t;
	struct smtp_rcpt r[2];
	struct buf sent;

	(void)state;
	txn_init(&t, r, 2);
	r[0].address = "zo\xc3\xab+x@b\xc3\xbc" "cher.test"; /* zoë+x@bücher.test */
	r[1].address = "a+b@x.test";
	t.smtputf8 = 1;
	dsn_commands(&t, &sent);
	EXPECT_CONTAINS(sent.data, "MAIL FROM:<me@x.test> SMTPUTF8 RET=HDRS\r\n", "MAIL");
	EXPECT_CONTAINS(sent.data,
			"RCPT TO:<zo\xc3\xab+x@b\xc3\xbc" "cher.test> NOTIFY=FAILURE,DELAY "
			"ORCPT=utf-8;zo\\x{EB}\\x{2B}x@b\\x{FC}cher.test\r\n", "UTF-8 recipient");
	EXPECT_CONTAINS(sent.data, "RCPT TO:<a+b@x.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;a+2Bb@x.test\r\n",
			"ASCII recipient");
	buf_free(&sent);
}

static void test_no_extensions_falls_back_to_lockstep_data(void **state)
{
	static const char *const replies[] = {
		"220 hi\r\n", "250 server.test\r\n", "250 ok\r\n", "250 ok\r\n", "354 go\r\n", "250 queued\r\n",
		"221 bye\r\n", NULL};
	outbox h;
	struct smtp *e;
	struct smtp_txn t;
	struct smtp_rcpt r[1];
	struct run run;

	(void)state;
	memset(&h, 0, sizeof h);
	e = engine(&h, SMTP_SEC_NONE, NULL, NULL);
	txn_init(&t, r, 1);
	drive(e, replies, &t, &run, 1);
	EXPECT_STR(run.sent.data,
		   "EHLO client.test\r\nMAIL FROM:<me@x.test>\r\nRCPT TO:<a@x.test>\r\nDATA\r\n<body>.\r\n",
		   "commands on the wire");
	EXPECT_INT(judged(&t, 0, 0), POLICY_DELIVERED, "the recipient");
	buf_free(&run.sent);
	smtp_free(e);
}

static void test_partial_recipients(void **state)
{
	static const char *const replies[] = {
		"220 hi\r\n", "250-s\r\n250 PIPELINING\r\n",
		"250 ok\r\n250 ok\r\n550 5.1.1 no such user\r\n450 4.2.1 try later\r\n354 go\r\n",
		"250 queued\r\n221 bye\r\n", NULL};
	outbox h;
	struct smtp *e;
	struct smtp_txn t;
	struct smtp_rcpt r[3];
	struct run run;

	(void)state;
	memset(&h, 0, sizeof h);
	e = engine(&h, SMTP_SEC_NONE, NULL, NULL);
	txn_init(&t, r, 3);
	drive(e, replies, &t, &run, 1);
	EXPECT_INT(judged(&t, 0, 0), POLICY_DELIVERED, "250");
	EXPECT_INT(judged(&t, 0, 1), POLICY_REFUSED, "550");
	EXPECT_STR(r[1].reply.text, "no such user", "the server's words are kept");
	EXPECT_INT(judged(&t, 0, 2), POLICY_DEFERRED, "450");
	buf_free(&run.sent);
	smtp_free(e);
}

static void test_starttls_required_but_missing(void **state)
{
	static const char *const replies[] = {"220 hi\r\n", "250-s\r\n250 AUTH PLAIN\r\n", NULL};
	outbox h;
	struct smtp *e;
	struct run run;

	(void)state;
	memset(&h, 0, sizeof h);
	e = engine(&h, SMTP_SEC_STARTTLS, "me", "secret");
	drive(e, replies, NULL, &run, 0);
	EXPECT_INT(run.stopped, SMTP_FAILED, "engine stops at");
	EXPECT_INT(smtp_error(e), OUTBOX_EUNAVAILABLE, "error");
	EXPECT_CONTAINS(outbox_errmsg(&h), "does not offer STARTTLS", "message");
	EXPECT_STR(run.sent.data, "EHLO client.test\r\n", "nothing but EHLO went out in clear");
	buf_free(&run.sent);
	smtp_free(e);
}

static void test_starttls_reply_with_injected_bytes(void **state)
{
	static const char *const replies[] = {"220 hi\r\n", "250-s\r\n250 STARTTLS\r\n",
					      "220 go ahead\r\n250 injected\r\n", NULL};
	outbox h;
	struct smtp *e;
	struct run run;

	(void)state;
	memset(&h, 0, sizeof h);
	e = engine(&h, SMTP_SEC_STARTTLS, "me", "secret");
	drive(e, replies, NULL, &run, 0);
	EXPECT_INT(run.stopped, SMTP_FAILED, "engine stops at");
	EXPECT_CONTAINS(outbox_errmsg(&h), "before TLS started", "message");
	EXPECT_STR(run.sent.data, "EHLO client.test\r\nSTARTTLS\r\n", "no handshake, no AUTH");
	buf_free(&run.sent);
	smtp_free(e);
}

static void test_starttls_then_ehlo_again_then_auth(void **state)
{
	static const char *const replies[] = {
		"220 hi\r\n", "250-s\r\n250-AUTH PLAIN\r\n250 STARTTLS\r\n", "220 go\r\n",
		"250-s\r\n250 AUTH PLAIN LOGIN\r\n", "235 2.7.0 ok\r\n", NULL};
	outbox h;
	struct smtp *e;
	struct run run;

	(void)state;
	memset(&h, 0, sizeof h);
	e = engine(&h, SMTP_SEC_STARTTLS, "me", "secret");
	drive(e, replies, NULL, &run, 0);
	EXPECT_INT(run.stopped, SMTP_READY, "engine stops at");
	/* "\0me\0secret" in base64 */
	EXPECT_STR(run.sent.data,
		   "EHLO client.test\r\nSTARTTLS\r\n<tls>EHLO client.test\r\nAUTH PLAIN AG1lAHNlY3JldA==\r\n",
		   "commands on the wire");
	buf_free(&run.sent);
	smtp_free(e);
}

static void test_refused_starttls_never_continues_in_clear(void **state)
{
	static const char *const codes[] = {"502 5.5.1 no\r\n", "454 4.7.0 TLS not available\r\n"};
	static const int want[] = {OUTBOX_EUNAVAILABLE, OUTBOX_ETEMPFAIL};
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		const char *replies[] = {"220 hi\r\n", "250-s\r\n250 STARTTLS\r\n", codes[i], NULL};
		outbox h;
		struct smtp *e;
		struct run run;
		memset(&h, 0, sizeof h);
		e = engine(&h, SMTP_SEC_STARTTLS, "me", "secret");
		drive(e, replies, NULL, &run, 0);
		EXPECT_INT(smtp_error(e), want[i], codes[i]);
		EXPECT_STR(run.sent.data, "EHLO client.test\r\nSTARTTLS\r\n", "nothing more was sent");
		buf_free(&run.sent);
		smtp_free(e);
	}
}

static void test_auth_refused_is_eauth(void **state)
{
	static const char *const replies[] = {"220 hi\r\n", "250-s\r\n250 AUTH PLAIN\r\n",
					      "535 5.7.8 bad credentials\r\n", NULL};
	outbox h;
	struct smtp *e;
	struct smtp_config c;
	struct run run;

	(void)state;
	memset(&h, 0, sizeof h);
	memset(&c, 0, sizeof c);
	c.helo_name = "client.test";
	c.security = SMTP_SEC_TLS;
	c.auth = "auto";
	c.user = "me";
	c.password = "secret";
	assert_int_equal(smtp_new(&h, &c, &e), 0);
	drive(e, replies, NULL, &run, 0);
	EXPECT_INT(smtp_error(e), OUTBOX_EAUTH, "error");
	EXPECT_CONTAINS(outbox_errmsg(&h), "535 5.7.8 bad credentials", "the server's words");
	buf_free(&run.sent);
	smtp_free(e);
}

static void test_lost_reply_after_data_is_uncertain(void **state)
{
	static const char *const replies[] = {"220 hi\r\n", "250-s\r\n250 PIPELINING\r\n",
					      "250 ok\r\n250 ok\r\n354 go\r\n", "", NULL};
	outbox h;
	struct smtp *e;
	struct smtp_txn t;
	struct smtp_rcpt r[1];
	struct run run;

	(void)state;
	memset(&h, 0, sizeof h);
	e = engine(&h, SMTP_SEC_NONE, NULL, NULL);
	txn_init(&t, r, 1);
	drive(e, replies, &t, &run, 1);
	EXPECT_INT(run.stopped, SMTP_FAILED, "engine stops at");
	EXPECT_INT(t.data_sent, 1, "the data went out");
	EXPECT_CONTAINS(outbox_errmsg(&h), "may have been delivered", "message");
	buf_free(&run.sent);
	smtp_free(e);
}

static void test_greeting_and_ehlo_faults(void **state)
{
	static const struct {
		const char *greeting, *ehlo;
		enum smtp_security sec;
		int want;
		const char *sent;
	} cases[] = {
		{"421 4.3.2 busy\r\n", NULL, SMTP_SEC_NONE, OUTBOX_ETEMPFAIL, NULL},
		{"554 5.7.1 go away\r\n", NULL, SMTP_SEC_NONE, OUTBOX_EUNAVAILABLE, NULL},
		{"220 hi\r\n", "502 5.5.2 no EHLO\r\n", SMTP_SEC_STARTTLS, OUTBOX_EUNAVAILABLE, "EHLO client.test\r\n"},
		{"220 hi\r\n", "451 4.3.0 later\r\n", SMTP_SEC_NONE, OUTBOX_ETEMPFAIL, "EHLO client.test\r\n"},
		{"2x0 hi\r\n", NULL, SMTP_SEC_NONE, OUTBOX_EPROTOCOL, NULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *replies[] = {cases[i].greeting, cases[i].ehlo, NULL};
		outbox h;
		struct smtp *e;
		struct run run;
		memset(&h, 0, sizeof h);
		e = engine(&h, cases[i].sec, NULL, NULL);
		drive(e, replies, NULL, &run, 0);
		EXPECT_INT(smtp_error(e), cases[i].want, cases[i].greeting);
		if (cases[i].sent)
			EXPECT_STR(run.sent.data, cases[i].sent, "sent");
		buf_free(&run.sent);
		smtp_free(e);
	}
}

static void test_rset_after_a_refused_transaction(void **state)
{
	static const char *const replies[] = {
		"220 hi\r\n", "250-s\r\n250 PIPELINING\r\n",
		"250 ok\r\n550 5.1.1 no\r\n554 5.5.1 no valid recipients\r\n",
		"250 reset\r\n250 ok\r\n250 ok\r\n354 go\r\n", "250 queued\r\n", NULL};
	outbox h;
	struct smtp *e;
	struct smtp_txn t;
	struct smtp_rcpt r[1];
	struct run run;

	(void)state;
	memset(&h, 0, sizeof h);
	e = engine(&h, SMTP_SEC_NONE, NULL, NULL);
	txn_init(&t, r, 1);
	t.last = 0;
	drive(e, replies, &t, &run, 2);
	EXPECT_STR(run.sent.data,
		   "EHLO client.test\r\n"
		   "MAIL FROM:<me@x.test>\r\nRCPT TO:<a@x.test>\r\nDATA\r\n"
		   "RSET\r\nMAIL FROM:<me@x.test>\r\nRCPT TO:<a@x.test>\r\nDATA\r\n<body>.\r\n",
		   "a refused transaction is reset before the next, in the same flight");
	EXPECT_INT(judged(&t, 0, 0), POLICY_DELIVERED, "the second transaction's recipient");
	buf_free(&run.sent);
	smtp_free(e);
}

/* Two transactions with DATA (no CHUNKING): the second's MAIL, RCPT and DATA go out with the
 * first's final ".", and the replies of both, arriving together, are told apart: the first ends
 * first, then the second carries on without being begun again. One round trip per message. */
static void test_next_transaction_rides_behind_the_data(void **state)
{
	static const char *const replies[] = {
		"220 hi\r\n", "250-s\r\n250 PIPELINING\r\n",
		"250 ok\r\n250 ok\r\n354 go\r\n",
		"250 first queued\r\n250 ok\r\n250 ok\r\n354 go\r\n",
		"250 second queued\r\n", NULL};
	outbox h;
	struct smtp *e;
	struct smtp_txn t1, t2;
	struct smtp_rcpt r1[1], r2[1];
	struct buf sent = BUF_INIT;
	size_t next = 0, dones = 0;
	int begun_ahead = 0;

	(void)state;
	memset(&h, 0, sizeof h);
	e = engine(&h, SMTP_SEC_NONE, NULL, NULL);
	txn_init(&t1, r1, 1);
	txn_init(&t2, r2, 1);
	t1.last = t2.last = 0;
	t2.from = "other@x.test";
	for (;;) {
		enum smtp_action a = smtp_next(e);
		if (a == SMTP_WRITE) {
			size_t len;
			const char *out = smtp_output(e, &len);
			buf_append(&sent, out, len);
			buf_puts(&sent, "|"); /* one write = one flight */
			smtp_consume_output(e);
		} else if (a == SMTP_READ) {
			const char *in = replies[next] ? replies[next++] : "";
			smtp_input(e, in, strlen(in));
		} else if (a == SMTP_BODY) {
			buf_puts(&sent, "<body>");
			smtp_body_sent(e);
			if (!begun_ahead++)
				EXPECT_INT(smtp_begin_next(e, &t2), 0, "begin the second behind the first's data");
		} else if (a == SMTP_READY) {
			assert_int_equal(smtp_begin(e, &t1), 0);
		} else if (a == SMTP_TXN_DONE) {
			if (++dones == 1) {
				EXPECT_INT(judged(&t1, 0, 0), POLICY_DELIVERED, "the first ends first");
				EXPECT_INT(t2.data_reply.code, 0, "the second has no answer yet");
				EXPECT_INT(smtp_is_current(e, &t2), 1, "then the second is current");
			} else {
				break;
			}
		} else {
			fail_msg("engine stopped at %d", (int)a);
		}
	}
	EXPECT_STR(sent.data,
		   "EHLO client.test\r\n|"
		   "MAIL FROM:<me@x.test>\r\nRCPT TO:<a@x.test>\r\nDATA\r\n|"
		   "<body>.\r\nMAIL FROM:<other@x.test>\r\nRCPT TO:<a@x.test>\r\nDATA\r\n|"
		   "<body>.\r\n|",
		   "commands on the wire, flight by flight");
	EXPECT_STR(t1.data_reply.text, "first queued", "the first's reply");
	EXPECT_STR(t2.data_reply.text, "second queued", "the second's reply");
	EXPECT_INT(judged(&t2, 0, 0), POLICY_DELIVERED, "the second's outcome");
	buf_free(&sent);
	smtp_free(e);
}

/* Going ahead needs PIPELINING and DATA; otherwise it is refused and nothing is sent. */
static void test_next_transaction_needs_pipelining(void **state)
{
	static const char *const replies[] = {"220 hi\r\n", "250 s\r\n", "250 ok\r\n", "250 ok\r\n",
					      "354 go\r\n", "250 queued\r\n", NULL};
	outbox h;
	struct smtp *e;
	struct smtp_txn t1, t2;
	struct smtp_rcpt r1[1], r2[1];
	size_t next = 0;

	(void)state;
	memset(&h, 0, sizeof h);
	e = engine(&h, SMTP_SEC_NONE, NULL, NULL);
	txn_init(&t1, r1, 1);
	txn_init(&t2, r2, 1);
	t1.last = 0;
	for (;;) {
		enum smtp_action a = smtp_next(e);
		if (a == SMTP_WRITE) {
			smtp_consume_output(e);
		} else if (a == SMTP_READ) {
			const char *in = replies[next] ? replies[next++] : "";
			smtp_input(e, in, strlen(in));
		} else if (a == SMTP_BODY) {
			smtp_body_sent(e);
			EXPECT_INT(smtp_begin_next(e, &t2), OUTBOX_EINVALID, "no PIPELINING: no going ahead");
			EXPECT_INT(smtp_next(e), SMTP_WRITE, "only the final dot is queued");
			smtp_consume_output(e);
		} else if (a == SMTP_READY) {
			assert_int_equal(smtp_begin(e, &t1), 0);
		} else {
			EXPECT_INT(a, SMTP_TXN_DONE, "the first ends as usual");
			break;
		}
	}
	EXPECT_INT(smtp_is_current(e, &t2), 0, "the second was never begun");
	smtp_free(e);
}

static void test_helo_when_nothing_else_is_needed(void **state)
{
	static const char *const replies[] = {"220 hi\r\n", "500 what\r\n", "250 hello\r\n", NULL};
	outbox h;
	struct smtp *e;
	struct run run;

	(void)state;
	memset(&h, 0, sizeof h);
	e = engine(&h, SMTP_SEC_NONE, NULL, NULL);
	drive(e, replies, NULL, &run, 0);
	EXPECT_INT(run.stopped, SMTP_READY, "engine stops at");
	EXPECT_STR(run.sent.data, "EHLO client.test\r\nHELO client.test\r\n", "sent");
	buf_free(&run.sent);
	smtp_free(e);
}

/* A session given up before MAIL says QUIT when the server still waits for a command (RFC 5321
 * 4.1.1.10): after a refusal with nothing else in flight. Not after a 421 (the server is
 * closing), a lost connection, a protocol error or bytes injected before TLS. */
static void test_quit_after_a_refusal_in_step(void **state)
{
	static const struct {
		const char *name;
		enum smtp_security sec;
		const char *user;
		const char *replies[4];
		int want_error;
		int quit;
	} cases[] = {
		{"535 to AUTH", SMTP_SEC_TLS, "me",
		 {"220 hi\r\n", "250-s\r\n250 AUTH PLAIN\r\n", "535 5.7.8 bad credentials\r\n"}, OUTBOX_EAUTH, 1},
		{"454 to AUTH", SMTP_SEC_TLS, "me",
		 {"220 hi\r\n", "250-s\r\n250 AUTH PLAIN\r\n", "454 4.7.0 later\r\n"}, OUTBOX_ETEMPFAIL, 1},
		{"AUTH not offered", SMTP_SEC_TLS, "me", {"220 hi\r\n", "250-s\r\n250 PIPELINING\r\n"}, OUTBOX_EUNAVAILABLE, 1},
		{"STARTTLS not offered", SMTP_SEC_STARTTLS, "me", {"220 hi\r\n", "250-s\r\n250 AUTH PLAIN\r\n"},
		 OUTBOX_EUNAVAILABLE, 1},
		{"502 to STARTTLS", SMTP_SEC_STARTTLS, "me", {"220 hi\r\n", "250-s\r\n250 STARTTLS\r\n", "502 5.5.1 no\r\n"},
		 OUTBOX_EUNAVAILABLE, 1},
		{"454 to STARTTLS", SMTP_SEC_STARTTLS, "me",
		 {"220 hi\r\n", "250-s\r\n250 STARTTLS\r\n", "454 4.7.0 not now\r\n"}, OUTBOX_ETEMPFAIL, 1},
		{"502 to EHLO", SMTP_SEC_STARTTLS, NULL, {"220 hi\r\n", "502 5.5.2 no EHLO\r\n"}, OUTBOX_EUNAVAILABLE, 1},
		{"554 greeting", SMTP_SEC_NONE, NULL, {"554 5.3.2 no service\r\n"}, OUTBOX_EUNAVAILABLE, 1},
		{"421 greeting", SMTP_SEC_NONE, NULL, {"421 4.3.2 busy\r\n"}, OUTBOX_ETEMPFAIL, 0},
		{"421 to AUTH", SMTP_SEC_TLS, "me", {"220 hi\r\n", "250-s\r\n250 AUTH PLAIN\r\n", "421 4.3.2 bye\r\n"},
		 OUTBOX_ETEMPFAIL, 0},
		{"connection lost", SMTP_SEC_NONE, NULL, {"220 hi\r\n"}, OUTBOX_ETEMPFAIL, 0},
		{"reply not SMTP", SMTP_SEC_NONE, NULL, {"2x0 hi\r\n"}, OUTBOX_EPROTOCOL, 0},
		{"STARTTLS injection", SMTP_SEC_STARTTLS, "me",
		 {"220 hi\r\n", "250-s\r\n250 STARTTLS\r\n", "220 go\r\n250 injected\r\n"}, OUTBOX_EUNAVAILABLE, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		outbox h;
		struct smtp *e;
		struct run run;
		char what[128];
		size_t len;
		const char *out;
		enum smtp_action a;

		memset(&h, 0, sizeof h);
		e = engine(&h, cases[i].sec, cases[i].user, "secret");
		drive(e, cases[i].replies, NULL, &run, 0);
		snprintf(what, sizeof what, "%s: engine stops at", cases[i].name);
		EXPECT_INT(run.stopped, SMTP_FAILED, what);
		snprintf(what, sizeof what, "%s: error", cases[i].name);
		EXPECT_INT(smtp_error(e), cases[i].want_error, what);
		smtp_quit(e);
		a = smtp_next(e);
		snprintf(what, sizeof what, "%s: after smtp_quit (%d is WRITE, %d FAILED)", cases[i].name, SMTP_WRITE,
			 SMTP_FAILED);
		EXPECT_INT(a, cases[i].quit ? SMTP_WRITE : SMTP_FAILED, what);
		if (cases[i].quit) {
			out = smtp_output(e, &len);
			snprintf(what, sizeof what, "%s: written", cases[i].name);
			EXPECT_STR(out, "QUIT\r\n", what);
			smtp_consume_output(e);
			snprintf(what, sizeof what, "%s: waits for QUIT's reply", cases[i].name);
			EXPECT_INT(smtp_next(e), SMTP_READ, what);
			smtp_input(e, "221 bye\r\n", 9);
			snprintf(what, sizeof what, "%s: after QUIT's reply", cases[i].name);
			EXPECT_INT(smtp_next(e), SMTP_CLOSED, what);
			snprintf(what, sizeof what, "%s: the failure still stands", cases[i].name);
			EXPECT_INT(smtp_error(e), cases[i].want_error, what);
		}
		buf_free(&run.sent);
		smtp_free(e);
	}
}

/* A challenge our side cannot answer (a SCRAM server-first message that is not one) ends the login
 * with "*", as RFC 4954 asks, before QUIT: pipelined when the server allows it, else after the
 * server's answer to "*". The login's own failure stands throughout. */
static void test_an_unanswerable_challenge_is_cancelled(void **state)
{
	static const struct {
		const char *ehlo;
		const char *want_first;
		const char *want_after_cancel;
	} cases[] = {
		{"250-s\r\n250-PIPELINING\r\n250 AUTH SCRAM-SHA-256\r\n", "*\r\nQUIT\r\n", NULL},
		{"250-s\r\n250 AUTH SCRAM-SHA-256\r\n", "*\r\n", "QUIT\r\n"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *replies[] = {"220 hi\r\n", cases[i].ehlo, "334 bm90IGEgc2NyYW0gbWVzc2FnZQ==\r\n", NULL};
		outbox h;
		struct smtp *e;
		struct run run;
		size_t len;
		const char *out;
		int error;

		memset(&h, 0, sizeof h);
		e = engine(&h, SMTP_SEC_TLS, "me", "secret");
		drive(e, replies, NULL, &run, 0);
		EXPECT_INT(run.stopped, SMTP_FAILED, "engine stops at");
		error = smtp_error(e);
		assert_true(error < 0);
		smtp_quit(e);
		EXPECT_INT(smtp_next(e), SMTP_WRITE, "after smtp_quit");
		out = smtp_output(e, &len);
		EXPECT_STR(out, cases[i].want_first, "written to end the login");
		smtp_consume_output(e);
		EXPECT_INT(smtp_next(e), SMTP_READ, "waits for the answer to \"*\"");
		smtp_input(e, "501 5.7.0 cancelled\r\n", 21);
		if (cases[i].want_after_cancel) {
			EXPECT_INT(smtp_next(e), SMTP_WRITE, "after the answer to \"*\"");
			out = smtp_output(e, &len);
			EXPECT_STR(out, cases[i].want_after_cancel, "written after the answer to \"*\"");
			smtp_consume_output(e);
			EXPECT_INT(smtp_next(e), SMTP_READ, "waits for QUIT's reply");
		}
		smtp_input(e, "221 bye\r\n", 9);
		EXPECT_INT(smtp_next(e), SMTP_CLOSED, "after QUIT's reply");
		EXPECT_INT(smtp_error(e), error, "the login's failure still stands");
		buf_free(&run.sent);
		smtp_free(e);
	}
}

/* When the caller cannot begin the transaction (the server cannot take this message), the session
 * is still ready and ends with QUIT. */
static void test_quit_when_the_server_cannot_take_the_message(void **state)
{
	static const struct {
		const char *ehlo;
		int body_8bit, smtputf8;
		int want;
	} cases[] = {
		{"250-s\r\n250-8BITMIME\r\n250 SIZE 50\r\n", 0, 0, OUTBOX_EREFUSED},
		{"250-s\r\n250 PIPELINING\r\n", 1, 0, OUTBOX_EUNAVAILABLE},
		{"250-s\r\n250 8BITMIME\r\n", 0, 1, OUTBOX_EUNAVAILABLE},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *replies[] = {"220 hi\r\n", cases[i].ehlo, NULL};
		outbox h;
		struct smtp *e;
		struct smtp_txn t;
		struct smtp_rcpt r[1];
		struct run run;
		size_t len;

		memset(&h, 0, sizeof h);
		e = engine(&h, SMTP_SEC_NONE, NULL, NULL);
		txn_init(&t, r, 1);
		t.body_8bit = cases[i].body_8bit;
		t.smtputf8 = cases[i].smtputf8;
		drive(e, replies, NULL, &run, 0);
		EXPECT_INT(run.stopped, SMTP_READY, cases[i].ehlo);
		EXPECT_INT(smtp_begin(e, &t), cases[i].want, "smtp_begin refuses the message");
		EXPECT_INT(smtp_next(e), SMTP_READY, "the session is still ready");
		smtp_quit(e);
		EXPECT_INT(smtp_next(e), SMTP_WRITE, "after smtp_quit");
		EXPECT_STR(smtp_output(e, &len), "QUIT\r\n", "written");
		buf_free(&run.sent);
		smtp_free(e);
	}
}

/* A line nobody asked for after the 250 to the data: the transaction is delivered, and stays so.
 * With QUIT pipelined behind the data, the stray line is taken as QUIT's reply. */
static void test_stray_reply_after_the_data_with_quit_pipelined(void **state)
{
	static const char *const replies[] = {
		"220 hi\r\n", "250-s\r\n250 PIPELINING\r\n", "250 ok\r\n250 ok\r\n354 go\r\n",
		"250 2.0.0 queued\r\n250 extra\r\n221 2.0.0 bye\r\n", NULL};
	outbox h;
	struct smtp *e;
	struct smtp_txn t;
	struct smtp_rcpt r[1];
	struct run run;

	(void)state;
	memset(&h, 0, sizeof h);
	e = engine(&h, SMTP_SEC_NONE, NULL, NULL);
	txn_init(&t, r, 1);
	drive(e, replies, &t, &run, 1);
	EXPECT_STR(run.sent.data,
		   "EHLO client.test\r\nMAIL FROM:<me@x.test>\r\nRCPT TO:<a@x.test>\r\nDATA\r\n<body>.\r\nQUIT\r\n",
		   "commands on the wire");
	EXPECT_INT(run.stopped, SMTP_TXN_DONE, "engine stops at");
	EXPECT_INT(judged(&t, 0, 0), POLICY_DELIVERED, "recipient");
	EXPECT_STR(t.data_reply.text, "queued", "the data's reply");
	EXPECT_INT(smtp_next(e), SMTP_CLOSED, "after the transaction");
	EXPECT_INT(judged(&t, 0, 0), POLICY_DELIVERED, "recipient after the session ended");
	buf_free(&run.sent);
	smtp_free(e);
}

/* Without QUIT behind the data, the stray line fails the session, not the finished transaction:
 * the caller sees it delivered first, then the session cannot go on. */
static void test_stray_reply_after_the_data_fails_the_session_only(void **state)
{
	static const char *const replies[] = {
		"220 hi\r\n", "250-s\r\n250 PIPELINING\r\n", "250 ok\r\n250 ok\r\n354 go\r\n",
		"250 2.0.0 queued\r\n250 extra\r\n", NULL};
	outbox h;
	struct smtp *e;
	struct smtp_txn t, t2;
	struct smtp_rcpt r[1], r2[1];
	struct run run;

	(void)state;
	memset(&h, 0, sizeof h);
	e = engine(&h, SMTP_SEC_NONE, NULL, NULL);
	txn_init(&t, r, 1);
	txn_init(&t2, r2, 1);
	t.last = 0;
	drive(e, replies, &t, &run, 1);
	EXPECT_INT(run.stopped, SMTP_TXN_DONE, "engine stops at");
	EXPECT_INT(judged(&t, 0, 0), POLICY_DELIVERED, "recipient");
	EXPECT_INT(smtp_begin(e, &t2), OUTBOX_EPROTOCOL, "the next transaction on this session");
	EXPECT_CONTAINS(outbox_errmsg(&h), "250 extra", "the session's failure quotes the stray line");
	EXPECT_INT(smtp_next(e), SMTP_FAILED, "the session");
	EXPECT_INT(judged(&t, OUTBOX_EPROTOCOL, 0), POLICY_DELIVERED, "the finished transaction's recipient, whatever came after");
	buf_free(&run.sent);
	smtp_free(e);
}

/* A stray line between the first transaction's 250 and the replies of the one begun behind it:
 * the first stays delivered; the second's replies are out of step, and the one that cannot
 * answer its command (a 250 to DATA) fails the session before its data goes out. */
static void test_stray_reply_before_the_next_transaction(void **state)
{
	static const char *const replies[] = {
		"220 hi\r\n", "250-s\r\n250 PIPELINING\r\n", "250 ok\r\n250 ok\r\n354 go\r\n",
		"250 first queued\r\n250 extra\r\n250 mail ok\r\n250 rcpt ok\r\n354 go\r\n", NULL};
	outbox h;
	struct smtp *e;
	struct smtp_txn t1, t2;
	struct smtp_rcpt r1[1], r2[1];
	size_t next = 0, dones = 0;
	enum smtp_action a;

	(void)state;
	memset(&h, 0, sizeof h);
	e = engine(&h, SMTP_SEC_NONE, NULL, NULL);
	txn_init(&t1, r1, 1);
	txn_init(&t2, r2, 1);
	t1.last = t2.last = 0;
	for (;;) {
		a = smtp_next(e);
		if (a == SMTP_WRITE) {
			smtp_consume_output(e);
		} else if (a == SMTP_READ) {
			const char *in = replies[next] ? replies[next++] : "";
			smtp_input(e, in, strlen(in));
		} else if (a == SMTP_BODY) {
			EXPECT_INT(dones, 0, "only the first transaction's data goes out");
			smtp_body_sent(e);
			EXPECT_INT(smtp_begin_next(e, &t2), 0, "begin the second behind the first's data");
		} else if (a == SMTP_READY) {
			assert_int_equal(smtp_begin(e, &t1), 0);
		} else if (a == SMTP_TXN_DONE && ++dones == 1) {
			EXPECT_INT(judged(&t1, 0, 0), POLICY_DELIVERED, "the first ends first, delivered");
		} else {
			break;
		}
	}
	EXPECT_INT(dones, 1, "transactions ended");
	EXPECT_INT(a, SMTP_FAILED, "then the session");
	EXPECT_INT(smtp_error(e), OUTBOX_EPROTOCOL, "error");
	EXPECT_CONTAINS(outbox_errmsg(&h), "\"250 rcpt ok\" cannot answer DATA", "message");
	EXPECT_INT(judged(&t1, 0, 0), POLICY_DELIVERED, "the first transaction's recipient");
	EXPECT_INT(smtp_txn_uncertain(&t2), 0, "the second's data never went out");
	smtp_free(e);
}

/* Each command has the replies it can get; any other means replies and commands are out of step:
 * a protocol error (temporary), never a refusal, and "may have been delivered" once the data
 * is out. */
static void test_reply_that_cannot_answer_its_command(void **state)
{
	static const struct {
		const char *name;
		enum smtp_security sec;
		const char *user;
		const char *replies[6];
		int txns;
		const char *words;
		int uncertain;
	} cases[] = {
		{"pipelined replies out of order", SMTP_SEC_NONE, NULL,
		 {"220 hi\r\n", "250-s\r\n250 PIPELINING\r\n",
		  "354 go ahead\r\n250 ok\r\n250 ok\r\n550 5.1.1 no such user\r\n"},
		 1, "\"354 go ahead\" cannot answer MAIL FROM:<me@x.test>", 0},
		{"greeting 250", SMTP_SEC_NONE, NULL, {"250 hi\r\n"}, 0, "\"250 hi\" cannot answer the connection", 0},
		{"EHLO 220", SMTP_SEC_NONE, NULL, {"220 hi\r\n", "220 hi again\r\n"}, 0,
		 "\"220 hi again\" cannot answer EHLO", 0},
		{"STARTTLS 250", SMTP_SEC_STARTTLS, NULL, {"220 hi\r\n", "250-s\r\n250 STARTTLS\r\n", "250 ok\r\n"}, 0,
		 "\"250 ok\" cannot answer STARTTLS", 0},
		{"AUTH 250", SMTP_SEC_TLS, "me", {"220 hi\r\n", "250-s\r\n250 AUTH PLAIN\r\n", "250 ok\r\n"}, 0,
		 "\"250 ok\" cannot answer AUTH PLAIN", 0},
		{"RCPT 354", SMTP_SEC_NONE, NULL, {"220 hi\r\n", "250 s\r\n", "250 ok\r\n", "354 go\r\n"}, 1,
		 "\"354 go\" cannot answer RCPT TO:<a@x.test>", 0},
		{"DATA 250", SMTP_SEC_NONE, NULL,
		 {"220 hi\r\n", "250 s\r\n", "250 ok\r\n", "250 ok\r\n", "250 ok\r\n", "250 ok\r\n"}, 1,
		 "\"250 ok\" cannot answer DATA", 0},
		{"end of data 354", SMTP_SEC_NONE, NULL,
		 {"220 hi\r\n", "250-s\r\n250 PIPELINING\r\n", "250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n", "354 again\r\n"},
		 1,
		 "\"354 again\" cannot answer the end of the message data", 1},
		{"MAIL 354 after BDAT", SMTP_SEC_NONE, NULL,
		 {"220 hi\r\n", "250-s\r\n250-PIPELINING\r\n250 CHUNKING\r\n", "354 go\r\n250 ok\r\n250 ok\r\n"}, 1,
		 "\"354 go\" cannot answer MAIL FROM:<me@x.test>", 1},
		{"BDAT reply before its chunk", SMTP_SEC_NONE, NULL,
		 {"220 hi\r\n", "250-s\r\n250 CHUNKING\r\n", "250 ok\r\n", "250 ok\r\n", "250 ok\r\n250 early\r\n"}, 1,
		 "nobody asked for: 250 early", 0},
		{"RSET 354", SMTP_SEC_NONE, NULL,
		 {"220 hi\r\n", "250-s\r\n250 PIPELINING\r\n",
		  "250 ok\r\n550 5.1.1 no\r\n550 5.1.1 no\r\n554 5.5.1 no valid recipients\r\n",
		  "354 what\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n"},
		 2, "\"354 what\" cannot answer RSET", 0},
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		outbox h;
		struct smtp *e;
		struct smtp_txn t;
		struct smtp_rcpt r[2];
		struct run run;
		char what[128];

		memset(&h, 0, sizeof h);
		e = engine(&h, cases[i].sec, cases[i].user, "secret");
		txn_init(&t, r, 2);
		drive(e, cases[i].replies, &t, &run, cases[i].txns);
		snprintf(what, sizeof what, "%s: engine stops at (%d is FAILED)", cases[i].name, SMTP_FAILED);
		EXPECT_INT(run.stopped, SMTP_FAILED, what);
		snprintf(what, sizeof what, "%s: error", cases[i].name);
		EXPECT_INT(smtp_error(e), OUTBOX_EPROTOCOL, what);
		snprintf(what, sizeof what, "%s: message", cases[i].name);
		EXPECT_CONTAINS(outbox_errmsg(&h), "protocol error", what);
		EXPECT_CONTAINS(outbox_errmsg(&h), cases[i].words, what);
		if (cases[i].uncertain)
			EXPECT_CONTAINS(outbox_errmsg(&h), "may have been delivered", what);
		snprintf(what, sizeof what, "%s: may have been delivered", cases[i].name);
		EXPECT_INT(smtp_txn_uncertain(&t), cases[i].uncertain, what);
		for (k = 0; cases[i].txns && k < 2; k++) {
			snprintf(what, sizeof what, "%s: recipient %zu is not refused (%d is REFUSED)", cases[i].name, k,
				 POLICY_REFUSED);
			if (judged(&t, smtp_error(e), k) == POLICY_REFUSED)
				fail_msg("%s: got %d", what, (int)judged(&t, smtp_error(e), k));
		}
		smtp_quit(e);
		snprintf(what, sizeof what, "%s: no QUIT after a protocol error", cases[i].name);
		EXPECT_INT(smtp_next(e), SMTP_FAILED, what);
		buf_free(&run.sent);
		smtp_free(e);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipelining_and_chunking_is_one_round_trip),
		cmocka_unit_test(test_no_extensions_falls_back_to_lockstep_data),
		cmocka_unit_test(test_partial_recipients),
		cmocka_unit_test(test_dsn_parameters),
		cmocka_unit_test(test_dsn_only_when_offered),
		cmocka_unit_test(test_orcpt_utf8),
		cmocka_unit_test(test_starttls_required_but_missing),
		cmocka_unit_test(test_starttls_reply_with_injected_bytes),
		cmocka_unit_test(test_starttls_then_ehlo_again_then_auth),
		cmocka_unit_test(test_refused_starttls_never_continues_in_clear),
		cmocka_unit_test(test_auth_refused_is_eauth),
		cmocka_unit_test(test_lost_reply_after_data_is_uncertain),
		cmocka_unit_test(test_greeting_and_ehlo_faults),
		cmocka_unit_test(test_next_transaction_rides_behind_the_data),
		cmocka_unit_test(test_next_transaction_needs_pipelining),
		cmocka_unit_test(test_helo_when_nothing_else_is_needed),
		cmocka_unit_test(test_rset_after_a_refused_transaction),
		cmocka_unit_test(test_quit_after_a_refusal_in_step),
		cmocka_unit_test(test_an_unanswerable_challenge_is_cancelled),
		cmocka_unit_test(test_quit_when_the_server_cannot_take_the_message),
		cmocka_unit_test(test_stray_reply_after_the_data_with_quit_pipelined),
		cmocka_unit_test(test_stray_reply_after_the_data_fails_the_session_only),
		cmocka_unit_test(test_stray_reply_before_the_next_transaction),
		cmocka_unit_test(test_reply_that_cannot_answer_its_command),
	};
	return cmocka_run_group_tests_name("smtp", tests, NULL, NULL);
}
