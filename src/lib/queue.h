/* queue.h: the outbox's store layer: queued messages and their recipients in the database, claimed
 * by a runner with a lease, rescheduled by the retry policy, listed, retried and removed. */
#ifndef OUTBOX_QUEUE_H
#define OUTBOX_QUEUE_H

#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>
#include "handle_internal.h"
#include "outbox/history.h"
#include "dsn.h"
#include "retry.h"

enum queue_state { QUEUE_QUEUED, QUEUE_FAILED, QUEUE_DONE, QUEUE_REMOVED };
enum queue_rcpt_state { QUEUE_RCPT_PENDING, QUEUE_RCPT_DELIVERED, QUEUE_RCPT_REFUSED };

/* The words stored in the database ("queued", "pending", ...), also what `--json` shows. */
const char *queue_state_name(enum queue_state s);
const char *queue_rcpt_state_name(enum queue_rcpt_state s);

/* A message to queue. Its body is already in the spool, durably: the spool file is written,
 * fsync'd, linked and its directory fsync'd before queue_add commits the row (invariant 1). */
struct queue_entry_in {
	const char *spool_name;        /* 32 lowercase hex digits: the spool file's name */
	const char *account;           /* the account's address */
	const char *server;            /* a server name, or NULL/"" for the account's server */
	const char *sender;            /* envelope sender; "" is the null sender <> */
	const char *message_id;        /* kept so a retry after a lost reply reuses it */
	long long size;                /* bytes in the spool file, for SIZE= and listings */
	int body_8bit, smtputf8;       /* what the body needs from the server */
	const struct dsn_request *dsn; /* -N, -R, -V as dsn_check gave them; NULL for the defaults */
	const char *const *recipients; /* NULL-terminated, at least one; duplicates kept once */
	const char *const *replies;    /* each recipient's words so far (recipients' order), or NULL */
	long long not_before;          /* first attempt no earlier than this; 0 means now */
	int uncertain;                 /* an attempt already lost its reply after the data */
	const char *last_reply;        /* why it is queued (the failed attempt's words), or NULL */
	/* An attempt was made before queueing (send's own): it counts as the first, so the retry
	 * schedule and the give-up time run from it, and it is logged with this server. */
	int attempted;
	const char *attempt_server;
};

struct queue_recipient {
	char *address;
	enum queue_rcpt_state state;
	char *reply; /* the server's last words about this recipient, "" before any */
};

struct queue_attempt {
	long long at;
	char *server, *outcome, *reply;
};

/* One queued message as the store has it. Claims carry only the pending recipients; listings
 * carry all of them; queue_get also fills the attempts. Free with queue_item_free(). */
struct queue_item {
	long long id;
	char *spool_name, *account, *server, *sender, *message_id, *last_reply;
	long long size;
	int body_8bit, smtputf8;
	enum queue_state state;
	int uncertain; /* a reply was lost after the final ".": it may have been delivered */
	int attempts;
	long long created_at, first_attempt_at, next_attempt_at; /* first_attempt_at 0: none yet */
	char *lease_owner;                                       /* NULL when not claimed */
	long long lease_until;
	long long sending_since; /* a runner began sending it at this time and has not finished */
	char *quarantine;        /* why its spool file was refused (spool_judge), "" when it was not */
	struct dsn_request dsn;  /* what it asks of status notifications, "" for each default */
	struct queue_recipient *rcpts;
	size_t nrcpts;
	struct queue_attempt *log; /* oldest first; only from queue_get */
	size_t nlog;
};

void queue_item_free(struct queue_item *it);
/* Free an array from queue_claim or queue_list and the items in it. */
void queue_items_free(struct queue_item **items, size_t n);

/* Queue a message in one transaction: the row (queued, due at not_before or now) and its pending
 * recipients. *id is the new row's id. */
int queue_add(outbox *h, const struct queue_entry_in *in, long long *id);

/* Claim up to `max` due messages for `owner` for `lease_seconds`, in one BEGIN IMMEDIATE
 * transaction, so two runners never claim the same message: due means queued, next attempt
 * reached, and no lease, an expired one, or one whose runner is dead (queue_owner.h: its lock
 * was released; a runner that cannot be checked keeps its lease). Oldest due first. A message
 * a dead runner was sending comes back marked uncertain. `server_filter` (NULL for all)
 * matches the row's server, or for a row with server '' the server the account uses now; a row
 * whose account is gone matches no filter and is left to an unfiltered run to report.
 * `id_filter` (0 for all) claims only that message, for a run that sends one. */
int queue_claim(outbox *h, const char *owner, long long lease_seconds, const char *server_filter,
		long long id_filter, size_t max, struct queue_item ***out, size_t *n);

/* A recipient's outcome in one attempt. PENDING with a reply records a temporary refusal (4xx);
 * recipients left out of the result stay as they were. */
struct queue_rcpt_result {
	const char *address;
	enum queue_rcpt_state state;
	const char *reply;
};

/* The outcome of one attempt at a claimed message. */
struct queue_result {
	long long id;
	const char *owner;   /* must hold the claim */
	const char *server;  /* the server that carried the attempt, for the attempt log */
	const char *outcome; /* a short word for the log: "delivered", "deferred", "refused", ... */
	const char *reply;   /* the attempt's reply as the user should read it */
	const struct queue_rcpt_result *rcpts;
	size_t nrcpts;
	int uncertain;                     /* the reply after the final "." was lost */
	/* The spool file was refused (spool_judge) and nothing was sent: why, in words for `queue
	 * show`. The message is failed at once, whatever the retry policy says: trying again would
	 * find the same file. NULL for an attempt that read the file. */
	const char *quarantine;
	const struct retry_policy *policy; /* NULL for retry_default */
	/* A history line to record in the same transaction (its outcome is set from the new
	 * state), or NULL. */
	const outbox_history_entry *history;
};

/* Record an attempt at a message `r->owner` claimed, in one transaction: recipients' outcomes
 * (a delivered or refused recipient never goes back to pending), an attempts row, the counters;
 * then 'done' when no recipient is pending, else rescheduled by the retry policy or 'failed' when
 * it gives up; the lease is released. OUTBOX_ECONFLICT when the claim is not (or no longer)
 * owner's or the message was removed meanwhile. *state (may be NULL) is the new state. */
int queue_finish(outbox *h, const struct queue_result *r, enum queue_state *state);

/* Record the attempts at several claimed messages in one transaction, each as queue_finish
 * would: rcs[i] is its result (a message that fails, such as one removed meanwhile, is left as it
 * was), states[i] its new state. Only these messages change: one marked by
 * queue_mark_sending_group but not tried keeps its mark until the group that tries it marks it
 * again. Returns a failure of the transaction itself, which every rcs[i] then carries. */
int queue_finish_group(outbox *h, const struct queue_result *const *r, size_t n, int *rcs, enum queue_state *states);

/* Mark several claimed messages as being sent, in one transaction, and renew their claims for
 * lease_seconds; marked[i] is 0 for a message that is no longer owner's (purged meanwhile, or its
 * claim lost), which must not be sent. Renewing here keeps a claim made long before (a runner
 * claims many messages at once) from running out while its message is on the wire. Should the
 * runner die before recording the outcome, the next claim of a marked message says it may have
 * been delivered. */
int queue_mark_sending_group(outbox *h, const char *owner, long long lease_seconds, const long long *ids, size_t n,
			     int *marked);

/* Drop owner's claim without recording an attempt (a runner stopping early). */
int queue_release(outbox *h, long long id, const char *owner);

/* Messages for `queue list`, queued and failed (only failed with failed_only), oldest first,
 * with all their recipients. */
int queue_list(outbox *h, int failed_only, struct queue_item ***out, size_t *n);
/* One message in any state, with its recipients and its attempts, for `queue show`. */
int queue_get(outbox *h, long long id, struct queue_item **out);

/* Make one message (id > 0) or every queued and failed one (id 0) due now. A failed message is
 * queued again with a fresh give-up window, as the user asked for another round; a quarantined
 * one is no longer, and the next run judges its file again. */
int queue_retry(outbox *h, long long id);

/* Remove a message: softly (state 'removed', the spool file kept, journalled in removals so
 * outbox_undo can bring it back), or with
 * `purge` delete the row and copy its spool name to spool_name, for the caller to unlink the file
 * after this commit. spool_name is "" after a soft removal. */
int queue_remove(outbox *h, long long id, int purge, char spool_name[33]);

/* The spool names of every row that still needs its file (all but 'done' and quarantined ones,
 * whose files are not the message), NULL-terminated, for
 * finding orphan spool files. A file is spooled before its row is committed, so a caller must
 * spare young files that are not listed (a send may be between the two). Free with strv_free. */
int queue_spool_names(outbox *h, char ***names);
/* Of the spool names `among` (NULL-terminated), those of 'done' rows: files a runner left for the
 * next one to delete (their rows are done, so nothing reads them again). Free with strv_free. */
int queue_spool_names_done(outbox *h, char *const *among, char ***names);

/* When the next queued message that a run with `server_filter` (NULL or "" for all) would claim
 * falls due (*at), or 0 when nothing is queued. A claimed message is due when its lease runs out,
 * or at its own time when its runner is dead. */
int queue_next_due(outbox *h, const char *server_filter, long long *at);

/* Make every queued message (only those through `server_filter` when given, only message
 * `id_filter` when above 0) due now, for a run that sends everything; failed ones stay failed
 * (queue_retry is for those). */
int queue_due_now(outbox *h, const char *server_filter, long long id_filter);

/* Shared by queue.c and queue_claim.c only. */
struct queue_buf {
	struct queue_item **v;
	size_t n;
};
int queue_oom(outbox *h);
/* SELECT the item columns FROM queue q WHERE `where_order` (SQL with bound parameters only). */
int queue_prepare_select(outbox *h, sqlite3_stmt **st, const char *where_order);
/* Read the current row of a queue_prepare_select statement and append it. */
int queue_buf_push_row(outbox *h, struct queue_buf *b, sqlite3_stmt *st);
/* A statement for queue_read_rcpts: ?1 the id, ?2 whether only pending ones. */
int queue_prepare_rcpts(outbox *h, sqlite3_stmt **st);
int queue_read_rcpts(outbox *h, sqlite3_stmt *st, struct queue_item *it, int pending_only);

#endif
