/* smtp.h: the SMTP client protocol engine, without I/O of its own. The caller moves bytes: it
 * asks smtp_next() what to do (write, read, start TLS, send the body...) and feeds replies in.
 * The same engine serves one-shot sending, the queue runner, the doctor and scripted tests. */
#ifndef OUTBOX_SMTP_H
#define OUTBOX_SMTP_H

#include <stddef.h>
#include <sys/types.h>
#include "buf.h"
#include "outbox/error.h"
#include "smtp_reply.h"

enum smtp_security { SMTP_SEC_NONE, SMTP_SEC_STARTTLS, SMTP_SEC_TLS };

#define SMTP_ADDRESS_MAX 512 /* an envelope address as sent, A-labels included (RFC 5321 4.5.3.1) */

struct smtp_config {
	const char *helo_name;       /* our name for EHLO (helo.c); read when EHLO is sent */
	enum smtp_security security; /* STARTTLS is required for SMTP_SEC_STARTTLS; TLS is up for TLS */
	const char *auth;            /* the server's auth setting: "auto", "none", "plain", ... */
	const char *user;            /* NULL or "" means no AUTH (unless auth is "external") */
	const char *password;        /* or OAuth token; wiped by the caller after the session */
	const char *host;            /* for OAUTHBEARER */
	const char *name;            /* the server's name, for the commands a refused login's words name */
	int oauth;                   /* the password is the token of outbox's own OAuth sign-in */
	int port;
	int allow_insecure_auth;
	/* Called for each line sent or received, AUTH data already redacted; may be NULL. */
	void (*transcript)(void *ctx, char direction, const char *line, size_t len);
	void *transcript_ctx;
};

enum smtp_action {
	SMTP_WRITE,     /* send smtp_output() bytes, then smtp_consume_output() */
	SMTP_READ,      /* read from the server and pass the bytes to smtp_input() (0 bytes: EOF) */
	SMTP_START_TLS, /* run the TLS handshake now, then call smtp_tls_started() */
	SMTP_BODY,      /* send the message body: dot-stuffed for DATA (smtp_body_is_bdat() false),
			   as is for BDAT; then smtp_body_sent() */
	SMTP_READY,     /* the session is open: smtp_begin() a transaction or smtp_quit() */
	SMTP_TXN_DONE,  /* the transaction's outcome is in the smtp_txn, for good: what the server
			   sends after it can only fail the session; the session is READY next */
	SMTP_CLOSED,    /* QUIT was answered, or the server closed after it */
	SMTP_FAILED     /* the session cannot continue: smtp_error() says why */
};

/* Where a recipient stands in the protocol: whether to send the data at all depends on it. What
 * becomes of it (delivered, refused, deferred) is the delivery policy's call (policy.h). */
enum smtp_rcpt_state { SMTP_RCPT_PENDING, SMTP_RCPT_ACCEPTED, SMTP_RCPT_NOT_ACCEPTED };

struct smtp_rcpt {
	const char *address;
	enum smtp_rcpt_state state;
	struct smtp_reply reply; /* the reply to its RCPT TO, code 0 before one came */
};

struct smtp_txn {
	const char *from;        /* envelope sender; "" for the null sender */
	struct smtp_rcpt *rcpt;
	size_t nrcpt;
	off_t size;              /* body bytes (CRLF form, before dot-stuffing) */
	int body_8bit;
	int smtputf8;            /* UTF-8 in the headers (addresses are looked at by the engine: a
				    UTF-8 domain goes as A-labels to a server without SMTPUTF8) */
	const char *envid;       /* DSN ENVID (-V, else the Message-ID), or NULL */
	const char *dsn_notify;  /* DSN NOTIFY and RET as dsn_check gives them; NULL or "" for the */
	const char *dsn_ret;     /* defaults (dsn.h) */
	int last;                /* QUIT follows: pipelined after the data when the server allows */
	/* what the server said, for the delivery policy (policy.h) to judge */
	struct smtp_reply mail_reply;
	struct smtp_reply data_reply; /* to DATA or BDAT when refused, else to the end of the data */
	int data_sent;           /* the end of data went out: a lost reply now means "may have been
				    delivered", never "not delivered" */
	int unsuitable;          /* the server cannot take the message as it is (SIZE, 8BITMIME,
				    SMTPUTF8): refused before anything was sent */
};

/* The data went out and no reply to it came: the server may have the message (invariant 1),
 * unless it had turned every recipient away. A reply to the data, even a 421 that ends the
 * session, means the server did not take it. */
static inline int smtp_txn_uncertain(const struct smtp_txn *t)
{
	size_t i;

	if (!t->data_sent || t->data_reply.code != 0)
		return 0;
	for (i = 0; i < t->nrcpt; i++)
		if (t->rcpt[i].state != SMTP_RCPT_NOT_ACCEPTED)
			return 1;
	return 0;
}

struct smtp;

int smtp_new(outbox *h, const struct smtp_config *cfg, struct smtp **out);
void smtp_free(struct smtp *e);

enum smtp_action smtp_next(struct smtp *e);
const char *smtp_output(const struct smtp *e, size_t *len);
void smtp_consume_output(struct smtp *e);
/* Feed bytes read from the server; len 0 means the server closed the connection. */
void smtp_input(struct smtp *e, const char *data, size_t len);
/* TLS is up: pass channel binding data (or NULL) for SCRAM-PLUS. */
void smtp_tls_started(struct smtp *e, const char *cb_type, const unsigned char *cb, size_t cb_len);
int smtp_begin(struct smtp *e, struct smtp_txn *txn);
/* What of `t` this server cannot take as it is, as convert.h's CONVERT_* flags (0: nothing): 8-bit
 * data without 8BITMIME (RFC 6152), UTF-8 headers without SMTPUTF8 (RFC 6531). The message goes
 * as a 7-bit copy (convert.c), or, when it cannot be made one, is refused by smtp_begin. */
unsigned smtp_needs_7bit(const struct smtp *e, const struct smtp_txn *t);
/* Begin `t` behind the current transaction, whose data has just been sent: with PIPELINING and
 * DATA, its MAIL, RCPT and DATA go out in the same flight as the final ".", saving a round trip
 * per message. The current one still ends first (SMTP_TXN_DONE); then `t` is current, and the
 * caller goes on with it without smtp_begin. Fails, changing nothing, when the server or the
 * moment does not allow it. */
int smtp_begin_next(struct smtp *e, struct smtp_txn *t);
/* Whether `t` is the transaction under way (begun, or begun behind the last one). */
int smtp_is_current(const struct smtp *e, const struct smtp_txn *t);
int smtp_body_is_bdat(const struct smtp *e);
void smtp_body_sent(struct smtp *e);
/* Whether QUIT can be said now: the session is ready, or it failed on a reply with nothing else
 * in flight (a 535 to AUTH, a refused STARTTLS or EHLO, a 554 greeting, AUTH not offered), so the
 * server waits for a command. Not after a 421, a timeout, a lost connection or a protocol error. */
int smtp_can_quit(const struct smtp *e);
/* Send QUIT, when smtp_can_quit(); after a failure, smtp_error() still tells it. */
void smtp_quit(struct smtp *e);
/* The failure, as an OUTBOX_E* code; the message is on the handle. */
int smtp_error(const struct smtp *e);
const struct smtp_caps *smtp_capabilities(const struct smtp *e);
/* The mechanism used to authenticate, or NULL. */
const char *smtp_auth_mechanism(const struct smtp *e);
int smtp_tls_active(const struct smtp *e);
/* Whether the server has not greeted yet (so silence may mean it waits for TLS). */
int smtp_awaiting_greeting(const struct smtp *e);
/* The command whose reply is due next, as smtp's messages name it ("EHLO", "RCPT TO:<a@b>",
 * "the connection (a greeting)"), for a caller that says what it waited for; "" when none is due.
 * *received: the bytes of replies not yet complete, so the caller can tell silence from slowness. */
const char *smtp_awaited(const struct smtp *e, char *out, size_t size, size_t *received);

#endif
