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
/* Wait until every group submitted so far is recorded and its callback has returned. */
void recorder_drain(struct recorder *r);
/* Drain, stop the thread and close the handle. NULL is fine. */
void recorder_stop(struct recorder *r);

#endif
