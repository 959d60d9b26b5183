/* queue_run_internal.h: what the outbox runner's parts share: the run (claims, routes, the spread
 * over connections) in queue_run.c, the claim of its next batch in queue_ahead.c, and a worker (its
 * connections, one message's delivery and the bookkeeping of outcomes) in queue_worker.c. */
#ifndef OUTBOX_QUEUE_RUN_INTERNAL_H
#define OUTBOX_QUEUE_RUN_INTERNAL_H

#include <pthread.h>
#include "outbox/handle.h"
#include "outbox/queue.h"
#include "outbox/server.h"
#include "queue.h"
#include "queue_janitor.h"
#include "queue_owner.h"
#include "retry.h"
#include "spool.h"

#define RUN_MAX_SERVERS 32
/* How long a claim holds when its runner cannot be checked (on another host, for a store on a
 * shared disk): such a runner that dies leaves its messages to others after this. A runner on
 * this host is checked through its lock, and its claims end with it. */
#define RUN_LEASE_SECONDS 900

/* One server's connection in a worker: opened on first use, reused by every message the worker
 * sends through it, and remembered as down once it failed so later messages go to their
 * fallbacks at once. */
struct run_conn {
	char name[128];
	outbox_server *server;
	char *password;
	struct session *session;
	int down; /* the OUTBOX_E* code it failed with, once it did: later messages skip it */
	char why[600];
};

/* A claimed message with its route, worked out before it is handed to a worker. */
struct run_job {
	struct queue_item *it;
	char **chain; /* the servers to try, in order; NULL when there is none and `why` says why */
	struct retry_policy policy;
	char why[400];
};

/* What every worker of one run shares. */
struct run_shared {
	const outbox_queue_run_options *o;
	struct queue_owner owner; /* the run's name on its claims, and the lock that proves it alive */
	pthread_mutex_t lock;  /* guards stats and every call of the caller's callbacks */
	outbox_queue_stats stats;
	struct recorder *recorder; /* commits the outcomes of the groups the workers sent */
	struct janitor *janitor;   /* syncs those records, then deletes delivered files */
	/* The store refused a mark or a record (a full disk): the run stops sending, and ends with
	 * this code and why (guarded by lock). */
	int failed;
	char failure[700];
	size_t unrecorded; /* messages sent whose outcome could not be recorded */
	/* The claim ahead run_ahead_ask left for the first worker to mark a group to hand over
	 * (run_marked; guarded by lock). */
	struct run_ahead *ahead;
	/* Workers marking a group now (guarded by lock): a claim made ahead waits for them between
	 * its steps, since a message waits for its mark and no message waits for that claim. */
	int marking;
	pthread_cond_t marks_done;
};

/* The store failed with `code` (`why`): the first failure is kept, and every worker stops at its
 * next message, since what it sent could not be recorded. Safe from any of the run's threads. */
void run_failed(struct run_shared *sh, int code, const char *why);
/* Whether the run is stopping after such a failure. */
int run_stopping(struct run_shared *sh);
/* A worker begins to mark a group in its own time, and is done: a claim made ahead waits. */
void run_mark_begin(struct run_shared *sh);
void run_mark_end(struct run_shared *sh);
/* A group was marked, and the next one's mark asked for: the first call after run_ahead_ask
 * hands the claim ahead to the recorder, behind that mark. */
void run_marked(struct run_shared *sh);

/* The next batch, claimed in the recorder's thread while the one before it is sent
 * (queue_ahead.c): made between batches in the sending thread, a claim of 512 took about 3 ms
 * of the wire's time. It sees what a claim after the batch would have seen, less what that
 * batch leaves for later, which it would not have taken either: those messages are this run's
 * claims until recorded, and then not due yet. */
struct run_ahead {
	struct run_shared *sh;
	size_t want;
	struct queue_item **items; /* what it claimed, once made */
	size_t n;
	int rc;
	char why[1024];            /* when rc < 0 */
	unsigned long long ticket; /* the recorder's, once handed over; 0 before */
};

/* Ask for up to `want` messages to be claimed while this batch is sent. The claim goes to the
 * recorder once the round's first group is marked and the second's mark asked for (made earlier,
 * its write lock would meet the first mark, and the second would wait behind it), or after the
 * round (run_ahead_late). */
void run_ahead_ask(struct run_shared *sh, size_t want, struct run_ahead *a);
/* Claim up to `want` due messages for the run, on the handle `h` (the run's, or the recorder's). */
int run_claim_with(outbox *h, struct run_shared *sh, size_t want, struct queue_item ***items, size_t *n);
/* After the round: a claim asked for and not handed over (no group was marked: none could be
 * routed, or the round stopped first) is handed over now, or dropped unless `still`. */
void run_ahead_late(struct run_shared *sh, int still);
/* The claim once made: its messages (none when none was handed over), or its failure, with
 * a->why saying why. */
int run_ahead_take(struct run_shared *sh, struct run_ahead *a, struct queue_item ***items, size_t *n);

struct run_worker {
	struct run_shared *sh;
	outbox *h;      /* the caller's handle for worker 0, else one of its own: a handle per thread */
	int own_handle;
	struct spool sp;
	struct run_conn conns[RUN_MAX_SERVERS];
	size_t nconns;
	struct run_job **jobs; /* this round's messages, all of them for the servers it was given */
	size_t njobs, jobs_cap;
	struct worker_premark *premark; /* the next group's mark, made ahead by the recorder */
};

/* Ready a worker: its own handle on `home` unless `h` is given, the spool, and commits that do
 * not wait for the disk. On failure the handle (the caller's, or h when given) has the message. */
int worker_start(struct run_worker *w, struct run_shared *sh, outbox *h, const char *home);
/* Deliver the worker's jobs in order, then forget them. Their outcomes may still be on their
 * way to the store: the caller frees the jobs after recorder_drain. */
void worker_run_jobs(struct run_worker *w);
/* Close the connections, restore full durability and close the worker's own handle. */
void worker_stop(struct run_worker *w);

#endif
