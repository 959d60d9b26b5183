/* queue_ahead.c: the runner claims its next batch while it sends the one before, in the recorder's
 * thread, and lets the workers' marks go first, since a message waits for its mark. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handle_internal.h"
#include "queue_recorder.h"
#include "queue_run_internal.h"

void run_mark_begin(struct run_shared *sh)
{
	pthread_mutex_lock(&sh->lock);
	sh->marking++;
	pthread_mutex_unlock(&sh->lock);
}

void run_mark_end(struct run_shared *sh)
{
	pthread_mutex_lock(&sh->lock);
	sh->marking--;
	pthread_cond_broadcast(&sh->marks_done);
	pthread_mutex_unlock(&sh->lock);
}

/* Between a claim's steps: let the workers' marks go first. */
static void run_wait_marks(struct run_shared *sh)
{
	pthread_mutex_lock(&sh->lock);
	while (sh->marking > 0)
		pthread_cond_wait(&sh->marks_done, &sh->lock);
	pthread_mutex_unlock(&sh->lock);
}

/* In the recorder's thread, with its handle, a group's worth at a time: each claim holds the
 * store's write lock while it runs, and a worker's mark would wait for it. */
static void run_claim_ahead(outbox *h, void *ctx)
{
	struct run_ahead *a = ctx;
	struct queue_item **part = NULL, **grown;
	size_t got = 0;

	do {
		size_t want = a->want - a->n < RECORDER_GROUP_MAX ? a->want - a->n : RECORDER_GROUP_MAX;
		run_wait_marks(a->sh);
		if ((a->rc = run_claim_with(h, a->sh, want, &part, &got)) < 0)
			break;
		if (got > 0 && (grown = realloc(a->items, (a->n + got) * sizeof *grown)) == NULL) {
			/* Not taken now: these claims end with the run, and the next run sends them. */
			queue_items_free(part, got);
			a->rc = queue_oom(h);
			break;
		}
		if (got > 0) {
			a->items = grown;
			memcpy(a->items + a->n, part, got * sizeof *part);
			a->n += got;
		}
		free(part);
		part = NULL;
		if (got < want)
			break;
	} while (a->n < a->want);
	if (a->rc < 0)
		snprintf(a->why, sizeof a->why, "%s", outbox_errmsg(h));
}

int run_claim_with(outbox *h, struct run_shared *sh, size_t want, struct queue_item ***items, size_t *n)
{
	const outbox_queue_run_options *o = sh->o;

	return queue_claim(h, sh->owner.name, RUN_LEASE_SECONDS, o ? o->server : NULL, o ? o->id : 0, want, items, n);
}

/* The claim run_ahead_ask left to hand over, taken so that it is handed over once. */
static struct run_ahead *run_ahead_pending(struct run_shared *sh)
{
	struct run_ahead *a;

	pthread_mutex_lock(&sh->lock);
	a = sh->ahead;
	sh->ahead = NULL;
	pthread_mutex_unlock(&sh->lock);
	return a;
}

/* Hand the claim to the recorder. */
static void run_hand_over(struct run_ahead *a)
{
	a->ticket = recorder_call(a->sh->recorder, run_claim_ahead, a);
}

void run_marked(struct run_shared *sh)
{
	struct run_ahead *a = run_ahead_pending(sh);

	if (a)
		run_hand_over(a);
}

void run_ahead_ask(struct run_shared *sh, size_t want, struct run_ahead *a)
{
	memset(a, 0, sizeof *a);
	a->sh = sh;
	a->want = want;
	pthread_mutex_lock(&sh->lock);
	sh->ahead = a;
	pthread_mutex_unlock(&sh->lock);
}

void run_ahead_late(struct run_shared *sh, int still)
{
	struct run_ahead *a = run_ahead_pending(sh);

	if (a && still)
		run_hand_over(a);
}

int run_ahead_take(struct run_shared *sh, struct run_ahead *a, struct queue_item ***items, size_t *n)
{
	*items = NULL;
	*n = 0;
	if (a->ticket == 0)
		return 0;
	recorder_wait(sh->recorder, a->ticket);
	a->ticket = 0;
	if (a->rc < 0) {
		/* What it took before it failed ends with the run, as any claim not sent does. */
		queue_items_free(a->items, a->n);
		return a->rc;
	}
	*items = a->items;
	*n = a->n;
	return 0;
}
