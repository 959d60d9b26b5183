/* outbox/send.h: sending one message through its account's server, as `outbox send` and the
 * sendmail drop-in do, with an outcome for every recipient in the server's own words. */
#ifndef OUTBOX_SEND_H
#define OUTBOX_SEND_H

#include <stddef.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
	const char *account;        /* send as this account (--account); NULL: decide from the message */
	const char *server;         /* override the account's server (--server); NULL: the account's */
	const char *envelope_from;  /* -f: the envelope sender; NULL: the account's address */
	const char *full_name;      /* -F: display name for a From: header outbox adds */
	const char *const *recipients; /* NULL-terminated; may be empty with extract_recipients */
	int extract_recipients;     /* -t: also take recipients from To/Cc/Bcc, and remove Bcc */
	int dot_ends_input;         /* plain sendmail: a line of "." ends the message (not with -i) */
	int queue_only;             /* -odq, --queue-only: put it in the outbox without trying now */
	int no_queue;               /* --no-queue: fail (75) instead of queueing a temporary failure */
	/* The protocol transcript, AUTH lines redacted (-v); NULL for none. */
	void (*transcript)(void *ctx, char direction, const char *line, size_t len);
	/* Warnings the user must see on every send, such as verification being off. */
	void (*notice)(void *ctx, const char *text);
	void *ctx;
} outbox_send_request;

typedef enum {
	OUTBOX_RCPT_DELIVERED, /* the server took responsibility (250 after the data) */
	OUTBOX_RCPT_REFUSED,   /* refused for good (5xx) */
	OUTBOX_RCPT_DEFERRED,  /* refused for now (4xx), or not tried because the session failed */
	OUTBOX_RCPT_UNCERTAIN, /* the connection was lost after the data: may have been delivered */
	OUTBOX_RCPT_QUEUED     /* in the outbox, to be tried again (outbox queue run) */
} outbox_rcpt_state;

typedef struct outbox_send_result outbox_send_result;

/* Read the message from in_fd and deliver it, through the account's fallback servers when its own
 * is unavailable. A temporary failure puts the message durably in the outbox (unless no_queue):
 * then 0 is returned and the recipients say OUTBOX_RCPT_QUEUED. Returns 0 when every recipient
 * has it or is queued; otherwise
 * the first failure's code (OUTBOX_EREFUSED when a recipient was refused, OUTBOX_ETEMPFAIL,
 * OUTBOX_EUNAVAILABLE, OUTBOX_EAUTH, OUTBOX_ECONFIG, OUTBOX_EINVALID) with the message on the
 * handle. *out is set whenever the message was read, so each recipient's outcome can be shown. */
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
/* The outbox entry that holds the recipients still to be tried, or 0. */
long long outbox_send_result_queue_id(const outbox_send_result *r);
void outbox_send_result_free(outbox_send_result *r);

#ifdef __cplusplus
}
#endif
#endif
