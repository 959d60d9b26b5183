/* queue_recorder.c: commits the runner's outcomes, a group at a time, in a thread with its own
 * store handle, in the order the groups were sent; the workers only wait when it falls behind. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "handle_internal.h"
#include "outbox/handle.h"
#include "queue_janitor.h"
#include "queue_recorder.h"
#include "store.h"

/* Groups waiting to be recorded, the one being recorded included. One is enough for a worker to
 * send while its last group is recorded; a few more let several workers do so at once. */
#define RECORDER_PENDING 4

/* A group to record, or (call set) other work that needs the store in the recorder's turn. */
struct pending {
	const struct queue_result *const *results;
	size_t n;
	recorder_done_fn *done;
	recorder_call_fn *call;
	void *ctx;
};

struct recorder {
	outbox *h; /* its own: a handle is used by one thread at a time */
	pthread_t thread;
	int running, stopping;
	pthread_mutex_t lock;
	pthread_cond_t work, room; /* work: something to record or stop; room: a slot or drained */
	struct pending ring[RECORDER_PENDING];
	size_t head, count;
	unsigned long long submitted, finished; /* tickets: how many were handed in, how many are done */
};

static void recorder_record(struct recorder *r, const struct pending *p)
{
	int rcs[RECORDER_GROUP_MAX];
	enum queue_state states[RECORDER_GROUP_MAX];

	if (p->call) {
		p->call(r->h, p->ctx);
		/* What it left in the handle is its own: a group's failure must not be told with it. */
		outbox_clear_error(r->h);
		return;
	}
	/* Failures are per message in rcs; the messages whose outcome was lost keep their claim and
	 * their "being sent" mark, so the next run resends them as "may have been delivered". */
	queue_finish_group(r->h, p->results, p->n, rcs, states);
	p->done(p->ctx, rcs, states, outbox_errmsg(r->h));
}

static void *recorder_main(void *arg)
{
	struct recorder *r = arg;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (r->count == 0 && !r->stopping)
			pthread_cond_wait(&r->work, &r->lock);
		if (r->count == 0)
			break;
		struct pending p = r->ring[r->head];
		pthread_mutex_unlock(&r->lock);
		recorder_record(r, &p);
		pthread_mutex_lock(&r->lock);
		/* Popped only now, so a drain waits for the callback too. */
		r->head = (r->head + 1) % RECORDER_PENDING;
		r->count--;
		r->finished++;
		pthread_cond_broadcast(&r->room);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

int recorder_start(outbox *h, struct janitor *j, struct recorder **out)
{
	struct recorder *r = calloc(1, sizeof *r);
	int rc;

	*out = NULL;
	if (r == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	if ((rc = outbox_open(&r->h, outbox_home(h))) < 0 ||
	    (rc = store_exec(r->h, "PRAGMA synchronous = NORMAL", "")) < 0) {
		if (r->h) {
			outbox_fail(h, rc, NULL, "%s", outbox_errmsg(r->h));
			outbox_close(r->h);
		}
		free(r);
		return rc;
	}
	/* Its commits never wait for a checkpoint: the janitor takes them when the log has grown. */
	if (j && (rc = store_watch_log(r->h, janitor_log_length, j)) < 0) {
		outbox_fail(h, rc, NULL, "%s", outbox_errmsg(r->h));
		outbox_close(r->h);
		free(r);
		return rc;
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->work, NULL);
	pthread_cond_init(&r->room, NULL);
	r->running = pthread_create(&r->thread, NULL, recorder_main, r) == 0;
	*out = r;
	return 0;
}

/* Hand p to the thread, waiting while the ring is full; or do it now when there is no thread.
 * Returns p's ticket. */
static unsigned long long recorder_push(struct recorder *r, const struct pending *p)
{
	unsigned long long ticket;

	if (!r->running) {
		recorder_record(r, p);
		return ++r->submitted;
	}
	pthread_mutex_lock(&r->lock);
	while (r->count == RECORDER_PENDING)
		pthread_cond_wait(&r->room, &r->lock);
	r->ring[(r->head + r->count) % RECORDER_PENDING] = *p;
	r->count++;
	ticket = ++r->submitted;
	pthread_cond_signal(&r->work);
	pthread_mutex_unlock(&r->lock);
	return ticket;
}

void recorder_submit(struct recorder *r, const struct queue_result *const *results, size_t n,
		     recorder_done_fn *done, void *ctx)
{
	struct pending p = {results, n, done, NULL, ctx};

	recorder_push(r, &p);
}

unsigned long long recorder_call(struct recorder *r, recorder_call_fn *call, void *ctx)
{
	struct pending p = {NULL, 0, NULL, call, ctx};

	return recorder_push(r, &p);
}

unsigned long long recorder_ticket(struct recorder *r)
{
	unsigned long long ticket;

	if (r == NULL)
		return 0;
	pthread_mutex_lock(&r->lock);
	ticket = r->submitted;
	pthread_mutex_unlock(&r->lock);
	return ticket;
}

void recorder_wait(struct recorder *r, unsigned long long ticket)
{
	if (r == NULL || !r->running)
		return;
	pthread_mutex_lock(&r->lock);
	while (r->finished < ticket)
		pthread_cond_wait(&r->room, &r->lock);
	pthread_mutex_unlock(&r->lock);
}

void recorder_drain(struct recorder *r)
{
	recorder_wait(r, recorder_ticket(r));
}

void recorder_stop(struct recorder *r)
{
	if (r == NULL)
		return;
	if (r->running) {
		pthread_mutex_lock(&r->lock);
		r->stopping = 1;
		pthread_cond_signal(&r->work);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->thread, NULL);
	}
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->work);
	pthread_cond_destroy(&r->room);
	outbox_close(r->h);
	free(r);
}
