/* queue_recorder.h: the outbox runner's recorder: it commits the outcomes of each group of sent
 * messages in a thread of its own, so a worker sends the next group while the last is recorded. */
#ifndef OUTBOX_QUEUE_RECORDER_H
#define OUTBOX_QUEUE_RECORDER_H

#include <stddef.h>
#include "outbox/error.h"
#include "queue.h"

/* The most outcomes one submission may carry. */
#define RECORDER_GROUP_MAX 64

struct recorder;

/* Told in the recorder's thread once a group's outcomes are committed, with each message's code
 * (negative when its outcome could not be recorded: `error` then says why) and new state. From
 * then on the group is the callback's to free. */
typedef void recorder_done_fn(void *ctx, const int *rcs, const enum queue_state *states, const char *error);

/* Work other than a group that needs the store in the recorder's turn (a claim made while the
 * batch before it is sent), run in its thread with its handle. */
typedef void recorder_call_fn(outbox *h, void *ctx);

struct janitor;

/* Start one, with a handle of its own on the store `h` uses. Its commits do not wait for the
 * disk: the janitor `j` syncs them, and checkpoints the log it tells the janitor about (without a
 * janitor, SQLite checkpoints within its commits). Without a thread it still works, in its
 * caller's time. Fails (the handle says why) when the store cannot be opened. */
int recorder_start(outbox *h, struct janitor *j, struct recorder **out);
/* Record n (at most RECORDER_GROUP_MAX) outcomes with queue_finish_group, soon, then call done.
 * The results must stay valid until then. Waits while a few groups are waiting already: what a
 * crash loses is what was sent and not yet recorded, so the line is kept short. */
void recorder_submit(struct recorder *r, const struct queue_result *const *results, size_t n,
		     recorder_done_fn *done, void *ctx);
/* Run call(h, ctx) in the recorder's thread, on its handle, after what was handed in before it.
 * Returns its ticket for recorder_wait. */
unsigned long long recorder_call(struct recorder *r, recorder_call_fn *call, void *ctx);
/* The ticket of the last group or call handed in so far (0 for none). */
unsigned long long recorder_ticket(struct recorder *r);
/* Wait until everything handed in up to `ticket` is done, callbacks included. */
void recorder_wait(struct recorder *r, unsigned long long ticket);
/* Wait until every group submitted so far is recorded and its callback has returned. */
void recorder_drain(struct recorder *r);
/* Drain, stop the thread and close the handle. NULL is fine. */
void recorder_stop(struct recorder *r);

#endif
