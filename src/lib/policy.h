/* policy.h: every decision about how a delivery attempt ended, in one place and without I/O: each
 * recipient's outcome, whether the next server takes over, what waits in the outbox, the exit code.
 * `send`, `queue run` and `server check` all decide through it; tests/data/policy.cases is its table. */
#ifndef OUTBOX_POLICY_H
#define OUTBOX_POLICY_H

#include <stddef.h>
#include "smtp.h"

/* A recipient's outcome after one attempt. */
enum policy_outcome {
	POLICY_DELIVERED, /* 250 to the data: the server took responsibility */
	POLICY_REFUSED,   /* refused for good: a 5xx, or the message cannot go as it is */
	POLICY_DEFERRED,  /* not delivered, for now: a 4xx, or the attempt failed before the data */
	POLICY_UNCERTAIN  /* the data went out and its answer never came: it may have been delivered */
};

/* Which of the server's answers explains an outcome: the caller quotes it. */
enum policy_reason {
	POLICY_BY_FAILURE, /* the attempt's failure (the handle's message): nothing specific to it */
	POLICY_BY_MAIL,    /* the reply to MAIL FROM */
	POLICY_BY_RCPT,    /* the reply to its own RCPT TO */
	POLICY_BY_DATA     /* the reply to DATA, BDAT or the end of the data */
};

struct policy_rcpt {
	enum policy_outcome outcome;
	enum policy_reason reason;
	int temporary; /* deferred or uncertain for a reason that may pass: a 4xx, a lost connection */
};

/* One attempt through one server, judged from the transaction's replies and the code the attempt
 * failed with. */
struct policy_attempt {
	int code;          /* OUTBOX_E*: the failure's code, else ETEMPFAIL when a recipient waits,
			      else EREFUSED when one was refused, else 0 */
	int server_failed; /* the server failed, not the message: no connection, TLS, login, 421, a
			      4xx to MAIL, a lost or broken reply before the data */
	int temporary;     /* what kept a recipient from its answer may pass: it can wait in the outbox */
	int refusal_code;  /* what its refusals exit with: EREFUSED, or the code of a message the
			      server cannot take as it is (EUNAVAILABLE for 8-bit data without 8BITMIME) */
	size_t delivered, refused, deferred, uncertain;
};

/* Judge one attempt. `t` holds the replies the engine recorded (mail_reply, each rcpt[i].reply,
 * data_reply, data_sent, unsuitable); `failure` is 0 when the transaction ran to its end, else the
 * OUTBOX_E* code the attempt failed with (a server that could not even be set up counts: its
 * settings or password). Fills out[i] for each of t's nrcpt recipients, and *a. */
void policy_judge(const struct smtp_txn *t, int failure, struct policy_rcpt *out, struct policy_attempt *a);

/* The words that explain recipient i's outcome (v, from policy_judge): the server's reply the
 * policy names, on one line, or `failure` (the attempt's failure message) when none does. */
const char *policy_reason_words(const struct smtp_txn *t, size_t i, const struct policy_rcpt *v,
				const char *failure, char *buf, size_t size);

/* A message's way along its servers (the account's server, then its fallbacks), attempt by
 * attempt. Start it zeroed. */
struct policy_route {
	int first_code;  /* the first attempt's code: the account's own server's problem comes first */
	int refusal_code; /* the first refusal's code */
	int temporary;   /* some attempt failed in a way that may pass */
	int uncertain;   /* some recipient may have been delivered */
	size_t attempts;
};

enum policy_step {
	POLICY_NEXT_SERVER, /* the server failed: the recipients it left go to the next server */
	POLICY_STOP         /* this attempt is the message's: what it left open is settled below */
};

/* After attempt `a`: the next server takes over only when this one failed (not the message),
 * nothing may have been delivered, a recipient is left to try, and there is a next server. */
enum policy_step policy_after_attempt(struct policy_route *r, const struct policy_attempt *a, int more_servers);

/* What becomes of the recipients the route left open (deferred or uncertain). */
enum policy_end {
	POLICY_END_NOTHING_OPEN, /* every recipient has its final answer */
	POLICY_END_QUEUE,        /* they wait in the outbox for the next attempt */
	POLICY_END_REPORT        /* they are reported as not sent, and not queued */
};

struct policy_context {
	int in_outbox; /* a queued message: it stays there whatever failed (until its schedule gives up) */
	int no_queue;  /* send --no-queue: report instead of queueing */
};

/* Open recipients wait in the outbox when it may pass (a 4xx, a lost reply, a server that is down
 * now, a run with no time to try them), or when the message is queued already; a server that
 * cannot be used as set up (login refused, TLS, a setting) is for the user to fix: send reports it
 * at once instead of retrying a wrong password on a schedule. */
enum policy_end policy_end(const struct policy_route *r, size_t open, const struct policy_context *c);

/* The exit code (OUTBOX_E*) for the route's end: for recipients reported as not sent the first
 * attempt's code (the account's own server's failure comes first); else, when one was refused, the
 * refusal's code (EREFUSED, or the code of a message the server cannot take as it is); else 0:
 * every recipient has the message or waits for it in the outbox. */
int policy_code(const struct policy_route *r, enum policy_end end, size_t refused);

/* Whether a failure of this code may pass by itself (retry later) or needs the user to change
 * something (a password, a setting, the server's TLS). */
int policy_code_is_temporary(int code);

/* What happens to mail while a server fails with this code, in a sentence for the connection
 * doctor: it waits in the outbox, or it is reported until the user fixes the setting. */
const char *policy_meanwhile(int code);

/* The word for the history (`outbox log`) of an attempt that ends with these counts of
 * recipients: delivered, partial, refused, deferred (some wait: in the outbox, or for the caller of
 * --no-queue to try again) or failed (some will not get it unless the user acts: a server that
 * cannot be used as set up, or a message given up). */
const char *policy_history_word(size_t delivered, size_t refused, size_t waiting, size_t failed);

#endif
