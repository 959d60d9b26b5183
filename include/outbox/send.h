/* outbox/send.h: sending one message through its account's server, as `outbox send` and the
 * sendmail drop-in do, with an outcome for every recipient in the server's own words. */
#ifndef OUTBOX_SEND_H
#define OUTBOX_SEND_H

#include <stddef.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most recipients (different addresses) one message may have: what a default Postfix takes
 * in one transaction (smtpd_recipient_limit). outbox_send refuses more with OUTBOX_EINVALID
 * before trying or queueing anything. */
#define OUTBOX_SEND_MAX_RECIPIENTS 1000

typedef struct {
	const char *account;        /* send as this account (--account); NULL: decide from the message */
	const char *server;         /* override the account's server (--server); NULL: the account's */
	/* -f: the envelope sender; NULL: the account's address. A bare name ("root") gets the
	 * sending account's domain, as Postfix appends $myorigin; "" and "<>" are the null sender
	 * (MAIL FROM:<>), for bounces and notices that must not bounce back. */
	const char *envelope_from;
	const char *full_name;      /* -F: display name for a From: header outbox adds */
	/* NULL-terminated; may be empty with extract_recipients. Each is an RFC 5322 address list
	 * ("Bob <bob@example.com>", "<bob@example.com>", "a@example.com, b@example.org"). */
	const char *const *recipients;
	int extract_recipients;     /* -t: also take recipients from To/Cc/Bcc (Bcc is always removed) */
	int dot_ends_input;         /* plain sendmail: a line of "." ends the message (not with -i) */
	int queue_only;             /* -odq, --queue-only: put it in the outbox without trying now */
	int no_queue;               /* --no-queue: fail (75) instead of queueing a temporary failure */
	/* Delivery status notifications (RFC 3461), sent only to a server that offers DSN, and kept
	 * with a queued message. NULL means the default, shown here; a bad value is OUTBOX_EINVALID
	 * naming the flag, before anything is read or sent. Case does not matter. */
	const char *dsn_notify;     /* -N, NOTIFY: "never" or a comma list of success, failure and
				       delay, for every recipient; default "failure,delay" */
	const char *dsn_ret;        /* -R, RET: "hdrs" or "full", what a bounce returns; default hdrs */
	const char *dsn_envid;      /* -V, ENVID: printable ASCII, at most 100 octets as xtext;
				       default the Message-ID */
	/* The protocol transcript, one line a call, AUTH lines redacted, the server's control and
	 * bidi characters shown as escapes (-v); NULL for none. */
	void (*transcript)(void *ctx, char direction, const char *line, size_t len);
	/* Warnings the user must see on every send, such as verification being off. */
	void (*notice)(void *ctx, const char *text);
	void *ctx;
} outbox_send_request;

typedef enum {
	OUTBOX_RCPT_DELIVERED, /* the server took responsibility (250 after the data) */
	OUTBOX_RCPT_REFUSED,   /* refused for good (5xx), or the message cannot go as it is (SIZE) */
	OUTBOX_RCPT_DEFERRED,  /* not delivered for now (a 4xx, no connection) and not queued:
				  only with no_queue */
	OUTBOX_RCPT_UNCERTAIN, /* the connection was lost after the data: may have been delivered;
				  queued when outbox_send_result_queue_id() says so */
	OUTBOX_RCPT_QUEUED,    /* in the outbox, to be tried again (outbox queue run) */
	OUTBOX_RCPT_NOT_SENT   /* not delivered: the server cannot be used as set up (the login, TLS,
				  a setting); not queued, as only the user can fix that */
} outbox_rcpt_state;

typedef struct outbox_send_result outbox_send_result;

/* Read the message from in_fd and deliver it. When the server fails (no connection, TLS, the
 * login, a 421 or a 4xx to the sender), the account's fallback servers take over in turn, and
 * `notice` says why; a refusal of the message or a recipient never moves on, as another server
 * would refuse it too. Recipients left for now (a 4xx, a server that is down, a reply lost after
 * the data) are put durably in the outbox (unless no_queue); a server that cannot be used as set
 * up (login refused, TLS, a setting) is reported instead, for the user to fix. Returns 0 when
 * every recipient has the message or waits for it in the outbox; EREFUSED (or the code of a
 * message the server cannot take as it is) when one was refused; otherwise, for recipients neither
 * delivered nor queued, the first server's failure (OUTBOX_ETEMPFAIL, OUTBOX_EUNAVAILABLE,
 * OUTBOX_EAUTH, OUTBOX_ECONFIG, ...). The handle says why. *out is set whenever the message was
 * read, so each recipient's outcome can be shown. */
int outbox_send(outbox *h, int in_fd, const outbox_send_request *req, outbox_send_result **out);

size_t outbox_send_result_count(const outbox_send_result *r);
const char *outbox_send_result_address(const outbox_send_result *r, size_t i);
outbox_rcpt_state outbox_send_result_state(const outbox_send_result *r, size_t i);
/* The server's reply for that recipient ("250 2.0.0 Ok: queued as 4Xy"), or the failure. */
const char *outbox_send_result_reply(const outbox_send_result *r, size_t i);
const char *outbox_send_result_account(const outbox_send_result *r);
const char *outbox_send_result_server(const outbox_send_result *r);
const char *outbox_send_result_message_id(const outbox_send_result *r);
long long outbox_send_result_size(const outbox_send_result *r);
/* How a person reads recipient i's outcome: "delivered", "refused", "queued", "not delivered
 * (temporary)", "not delivered", "may have been delivered; queued to be tried again". */
const char *outbox_send_result_words(const outbox_send_result *r, size_t i);
/* The outbox entry that holds the recipients still to be tried, or 0. */
long long outbox_send_result_queue_id(const outbox_send_result *r);
/* When that entry is tried next (seconds since the epoch), or 0 when nothing was queued. */
long long outbox_send_result_next_attempt(const outbox_send_result *r);
void outbox_send_result_free(outbox_send_result *r);

#ifdef __cplusplus
}
#endif
#endif
