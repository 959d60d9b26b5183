/* queue_janitor.h: the outbox runner's helper that, in the background, syncs the store's records
 * to disk and then deletes the files of the messages they record as delivered. */
#ifndef OUTBOX_QUEUE_JANITOR_H
#define OUTBOX_QUEUE_JANITOR_H

#include <stddef.h>
#include "outbox/error.h"

struct janitor;

/* Start one for the spool of the store `h` uses. Without a thread it still works, in its caller's
 * time; it fails (the handle says why) only when the spool cannot be opened or memory runs out. */
int janitor_start(outbox *h, struct janitor **out);
/* Soon, sync every commit made so far to disk, then delete these spool files (the names are
 * copied; n may be 0 for a sync alone). A file that cannot be deleted, or whose record could not
 * be synced, is left for the orphan sweep. Safe to call from several threads. */
void janitor_sync_and_remove(struct janitor *j, const char (*names)[33], size_t n);
/* Told, from a writer's commit (store_watch_log), how many frames the store's log holds: past a
 * few hundred, the janitor checkpoints it after its next sync. */
void janitor_log_length(void *janitor, int frames);
/* Finish what is waiting (the sync, then the deletions), then stop. With leave_rest, deletions
 * are still waited for only if at most one group's worth of files was ever handed over; otherwise
 * the files not yet deleted are left to the next run, whose sweep hands them back (their rows say
 * done). NULL is fine. */
void janitor_stop(struct janitor *j, int leave_rest);

#endif
