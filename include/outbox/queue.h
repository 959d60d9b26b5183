/* outbox/queue.h: the outbox: messages waiting to be sent, each with its recipients' states and
 * every attempt's reply; running it delivers what is due, one connection per server. */
#ifndef OUTBOX_QUEUE_H_PUBLIC
#define OUTBOX_QUEUE_H_PUBLIC

#include <stddef.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
	const char *address;
	const char *state; /* "pending", "delivered", "refused" */
	const char *reply; /* the server's last words about it */
} outbox_queue_recipient;

typedef struct {
	long long at;
	const char *server;
	const char *outcome;
	const char *reply;
} outbox_queue_attempt;

typedef struct {
	long long id;
	const char *state; /* "queued", "failed" (given up), "done", "removed" */
	const char *account, *server, *sender, *message_id, *last_reply;
	long long size, created_at, next_attempt_at;
	int attempts;
	int uncertain; /* a reply was lost after the data: it may have been delivered already */
	const outbox_queue_recipient *recipients;
	size_t nrecipients;
	const outbox_queue_attempt *log; /* outbox_queue_show only; oldest first */
	size_t nlog;
	/* Why its spool file was refused and the message was not sent (state "failed"): the file
	 * is not the one queued (a FIFO, a device, a link, someone else's, another size). "" when
	 * it was not. */
	const char *quarantine;
} outbox_queue_message;

typedef struct outbox_queue_view outbox_queue_view;

/* Queued and failed messages (only failed with failed_only), oldest first. */
int outbox_queue_list(outbox *h, int failed_only, outbox_queue_view **out);
/* One message with its attempts; OUTBOX_ENOTFOUND when there is none. */
int outbox_queue_show(outbox *h, long long id, outbox_queue_view **out);
size_t outbox_queue_view_count(const outbox_queue_view *v);
const outbox_queue_message *outbox_queue_view_at(const outbox_queue_view *v, size_t i);
void outbox_queue_view_free(outbox_queue_view *v);

/* Make one message (id > 0) or all of them (0) due now; a failed one is queued again. */
int outbox_queue_retry(outbox *h, long long id);
/* Remove a message: softly, so outbox_undo() puts it back in the state it had, or with purge for
 * good, its file included. */
int outbox_queue_remove(outbox *h, long long id, int purge);

typedef struct {
	size_t delivered; /* messages every remaining recipient of which now has */
	size_t deferred;  /* messages left queued for a later try */
	size_t failed;    /* messages given up (kept as failed) */
	size_t refused;   /* recipients refused for good */
} outbox_queue_stats;

typedef struct {
	const char *server; /* only messages that go through this server; NULL for all */
	/* Called as the outcomes of each group of messages are recorded, with the running totals;
	 * NULL for none. */
	void (*progress)(void *ctx, const outbox_queue_stats *totals);
	void (*transcript)(void *ctx, char direction, const char *line, size_t len);
	void *ctx;
	/* Connections to different servers at once (each server's messages share one); 0 means 4. */
	int connections;
	/* Non-zero: send every queued message now, whatever its next attempt time, as `sendmail -q`
	 * or Postfix's `postqueue -f` do. Each is tried once in this run; one that fails again is
	 * rescheduled as usual. Given-up (failed) messages stay failed: outbox_queue_retry queues
	 * them again. 0 keeps to the retry schedule. */
	int all;
	/* Told once per server that fails in a run, with why, since its messages then go to their
	 * accounts' fallback servers or wait, and once per message whose spool file was refused
	 * (quarantined, not sent); NULL for none. */
	void (*notice)(void *ctx, const char *text);
	/* Above 0: send only this message, now, whatever its next attempt time (as `all` does for
	 * every message); a given-up one stays failed. 0 for every message the run would send. */
	long long id;
} outbox_queue_run_options;

/* Deliver every due message (every queued one with o->all): claim them (so no other runner sends
 * them, while a runner that died holds nothing), carry each server's over one connection, up to
 * o->connections servers at once, fall back to an account's other servers when its server is
 * unavailable (unless the account uses only that server), and record each recipient's outcome.
 * The callbacks may be called from threads of the run's own, but never by two threads at once,
 * and not after this returns. */
int outbox_queue_run(outbox *h, const outbox_queue_run_options *o, outbox_queue_stats *stats);
/* Sleep until the next queued message falls due or `send` queues a new one, at most max_seconds
 * (a signal also ends it), for `queue run --watch`. */
int outbox_queue_wait(outbox *h, long long max_seconds);
/* The same for a run that sends only what starts at `server` (outbox_queue_run_options.server;
 * NULL for all): other servers' messages falling due do not end the wait. */
int outbox_queue_wait_for(outbox *h, const char *server, long long max_seconds);

#ifdef __cplusplus
}
#endif
#endif
