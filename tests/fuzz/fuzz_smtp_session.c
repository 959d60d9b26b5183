/* fuzz_smtp_session.c: libFuzzer target for the SMTP engine as a whole: the server's bytes drive a
 * session from greeting through EHLO (its capability list), STARTTLS, AUTH and one transaction.
 *
 * Input: byte 0 picks the settings (security, login, auth method), byte 1 how the server's bytes
 * are cut into reads, the rest is what the server sends. The engine must end every session (no
 * loop without input), never show a password in its transcript, send only CRLF lines without NUL,
 * and leave each recipient's state in step with the reply it got. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handle_internal.h"
#include "smtp.h"
#include "fuzz.h"

/* Made up here, never used anywhere else; the transcript must never show either. */
#define FUZZ_USER "fuzz-user@example.org"
#define FUZZ_PASSWORD "Fuzz-made-up-pw-7q2"
/* base64 of "\0" FUZZ_USER "\0" FUZZ_PASSWORD, PLAIN's initial response. */
#define FUZZ_PLAIN_B64 "AGZ1enotdXNlckBleGFtcGxlLm9yZwBGdXp6LW1hZGUtdXAtcHctN3Ey"

/* Past this many engine steps the session is looping without end. */
#define SESSION_MAX_STEPS 100000

static const char *const auth_settings[] = {"auto",          "none",    "plain",  "login",
					    "scram-sha-256", "xoauth2", "oauthbearer", "cram-md5"};

/* What the client sent, as the transcript shows it; the server may echo anything back. */
static void check_transcript(void *ctx, char direction, const char *line, size_t len)
{
	(void)ctx;
	CHECK(direction == '>' || direction == '<');
	if (direction == '<')
		return;
	CHECK(memmem(line, len, FUZZ_PASSWORD, strlen(FUZZ_PASSWORD)) == NULL);
	CHECK(memmem(line, len, FUZZ_PLAIN_B64, strlen(FUZZ_PLAIN_B64)) == NULL);
}

/* What the client writes: whole CRLF lines, no NUL, no bare CR or LF. */
static void check_output(const char *out, size_t len)
{
	size_t i;

	CHECK(len >= 2 && out[len - 2] == '\r' && out[len - 1] == '\n');
	for (i = 0; i < len; i++) {
		CHECK(out[i] != '\0');
		if (out[i] == '\r')
			CHECK(i + 1 < len && out[i + 1] == '\n');
		if (out[i] == '\n')
			CHECK(i > 0 && out[i - 1] == '\r');
	}
}

/* A finished transaction: each recipient's state follows from the reply it got, and a reply to
 * the data only came when the data went out or DATA/BDAT was answered. */
static void check_txn(const struct smtp_txn *t)
{
	size_t i;

	for (i = 0; i < t->nrcpt; i++) {
		const struct smtp_rcpt *r = &t->rcpt[i];

		if (r->reply.code == 0)
			CHECK(r->state == SMTP_RCPT_PENDING);
		else
			CHECK(r->state == (r->reply.code / 100 == 2 ? SMTP_RCPT_ACCEPTED
								    : SMTP_RCPT_NOT_ACCEPTED));
	}
	CHECK(t->mail_reply.code == 0 || (t->mail_reply.code >= 200 && t->mail_reply.code <= 599));
	CHECK(t->data_reply.code == 0 || (t->data_reply.code >= 200 && t->data_reply.code <= 599));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char cb[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	struct smtp_rcpt rcpt[3] = {{.address = "a@example.org"},
				    {.address = "b@example.net"},
				    {.address = "c@example.com"}};
	struct smtp_txn txn = {.from = "fuzz@example.org", .rcpt = rcpt, .nrcpt = 3, .size = 42,
			       .envid = "<fuzz@example.org>", .last = 1};
	struct smtp_config cfg = {.helo_name = "client.example.org", .host = "mail.example.org",
				  .port = 587, .transcript = check_transcript};
	const char *in, *out;
	size_t in_len, off = 0, cut, out_len, steps = 0;
	struct smtp *e;
	outbox h;
	int begun = 0, done = 0, eof = 0;

	if (size < 2)
		return 0;
	cfg.security = (enum smtp_security)(data[0] % 3);
	cfg.auth = auth_settings[(data[0] >> 2) & 7];
	if (data[0] & 0x20) {
		cfg.user = FUZZ_USER;
		cfg.password = FUZZ_PASSWORD;
	}
	cfg.allow_insecure_auth = (data[0] & 0x40) != 0;
	txn.body_8bit = (data[0] & 0x80) != 0;
	cut = data[1] ? data[1] : 1;
	in = (const char *)data + 2;
	in_len = size - 2;
	memset(&h, 0, sizeof h);
	CHECK(smtp_new(&h, &cfg, &e) == 0);
	while (!done) {
		CHECK(++steps < SESSION_MAX_STEPS);
		switch (smtp_next(e)) {
		case SMTP_WRITE:
			out = smtp_output(e, &out_len);
			check_output(out, out_len);
			smtp_consume_output(e);
			break;
		case SMTP_READ: {
			size_t n = in_len - off < cut ? in_len - off : cut;

			/* The server closes once it has said everything; nothing after EOF. */
			CHECK(!eof);
			eof = n == 0;
			smtp_input(e, in + off, n);
			off += n;
			break;
		}
		case SMTP_START_TLS:
			smtp_tls_started(e, "tls-exporter", cb, sizeof cb);
			break;
		case SMTP_BODY:
			CHECK(begun);
			smtp_body_sent(e);
			break;
		case SMTP_READY:
			if (!begun) {
				begun = 1;
				if (smtp_begin(e, &txn) == 0)
					break;
				CHECK(h.err_message[0] != '\0');
			}
			if (smtp_can_quit(e))
				smtp_quit(e);
			else
				done = 1;
			break;
		case SMTP_TXN_DONE:
			check_txn(&txn);
			break;
		case SMTP_CLOSED:
			done = 1;
			break;
		case SMTP_FAILED:
			CHECK(smtp_error(e) < 0 && h.err_message[0] != '\0');
			if (smtp_can_quit(e) && !eof)
				smtp_quit(e);
			else
				done = 1;
			break;
		}
	}
	if (begun)
		check_txn(&txn);
	smtp_free(e);
	return 0;
}
