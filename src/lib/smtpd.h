/* smtpd.h: the server side of SMTP (RFC 5321) as `sendmail -bs` speaks it on standard input and
 * output: a bounded state machine without I/O. Bytes in; replies, message bytes and events out. */
#ifndef OUTBOX_SMTPD_H
#define OUTBOX_SMTPD_H

#include <stddef.h>

#include "dsn.h"

/* Octets in one command line, CRLF included. RFC 5321 4.5.3.1.4 asks 512 at least; its
 * extensions (SMTPUTF8 addresses, parameters) may go past that, so a little more is taken. */
#define SMTPD_MAX_LINE 1000
/* A reply the engine writes: an EHLO list, or one line with the words of a delivery. */
#define SMTPD_MAX_REPLY 600
/* Commands that fail in one session before it is ended with 421, so that a client stuck in a
 * loop cannot keep it alive (Postfix's smtpd_hard_error_limit is 20 as well). */
#define SMTPD_MAX_ERRORS 20

enum smtpd_event {
	SMTPD_MORE,    /* every byte given was taken: read more */
	SMTPD_REPLY,   /* write reply[0..reply_len) */
	SMTPD_DATA,    /* append data[0..data_len) (dot-stuffing undone) to the message */
	SMTPD_MESSAGE, /* the message ended: deliver it to the envelope, then call smtpd_delivered */
	SMTPD_QUIT     /* write the reply, then end the session */
};

/* Says whether an address may be used (0), or why not (an SMTP reply line without CRLF, such as
 * "553 5.1.3 ..."), into why. `field` is "from" or "recipient". */
typedef int (*smtpd_check_fn)(void *ctx, const char *field, const char *address, char *why, size_t size);

struct smtpd_config {
	const char *hostname;   /* the name in the greeting and the EHLO reply */
	size_t max_recipients;  /* RCPT beyond this gets 452; 0 for OUTBOX_SEND_MAX_RECIPIENTS */
	smtpd_check_fn check;   /* NULL: the syntax checks only */
	void *ctx;
};

struct smtpd {
	struct smtpd_config cfg;
	int state;               /* enum smtpd_state, in smtpd.c */
	int data_state;          /* where DATA stands in its line, in smtpd.c */
	int errors;              /* failed commands so far */
	int overlong;            /* the command line went past SMTPD_MAX_LINE: skipping to its end */
	char line[SMTPD_MAX_LINE];
	size_t line_len;
	char reply[SMTPD_MAX_REPLY];
	size_t reply_len;
	const char *data;        /* with SMTPD_DATA: into the input, or a CR the engine held back */
	size_t data_len;
	/* The envelope of the transaction, valid from SMTPD_MESSAGE until smtpd_delivered. */
	char *sender;            /* "" for the null reverse-path <> */
	char **recipients;       /* NULL-terminated, nrecipients long */
	size_t nrecipients, cap;
	int smtputf8;            /* MAIL came with SMTPUTF8 */
	/* The DSN parameters (RFC 3461) in dsn.c's canonical form, "" where the client gave none:
	 * RET and ENVID (decoded) from MAIL, NOTIFY from the first recipient, as outbox_send takes
	 * one NOTIFY for the whole message. */
	struct dsn_request dsn;
};

void smtpd_init(struct smtpd *s, const struct smtpd_config *cfg);
void smtpd_free(struct smtpd *s);
/* The 220 greeting into s->reply. */
void smtpd_greeting(struct smtpd *s);
/* Take bytes from in[0..len) up to the next event; returns how many were taken, and *ev. Call
 * again with the rest until SMTPD_MORE; after SMTPD_MESSAGE, call smtpd_delivered first, and
 * after SMTPD_QUIT not at all. Replies come one per command, in order, so pipelined commands
 * (RFC 2920) are answered as they were sent. Only memory: the envelope's addresses. */
size_t smtpd_feed(struct smtpd *s, const char *in, size_t len, enum smtpd_event *ev);
/* The end of the input: ends the session. Returns 1 when a transaction was open (its message
 * was not accepted, which the caller reports), 0 when the client had nothing pending. */
int smtpd_eof(struct smtpd *s);
/* The reply to the message of SMTPD_MESSAGE: `code` and `enhanced` ("2.0.0") from
 * smtpd_verdict, and words (anything not printable ASCII is shown as '?', cut to fit). Ends the
 * transaction; the EHLO stays. */
void smtpd_delivered(struct smtpd *s, int code, const char *enhanced, const char *words);
/* The one mapping of outbox_send's result (0 or an outbox error code) to the reply for the whole
 * message, as RFC 5321 has one reply to DATA: 250 when every recipient has it or waits for it in
 * the outbox; 554 when the server refused one (even when others got it: the client must learn
 * of the refusal, and a repeat beats a silent loss); 451 for what may pass. */
int smtpd_verdict(int rc, const char **enhanced);

#endif
