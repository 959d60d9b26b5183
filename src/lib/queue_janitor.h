/* queue_janitor.h: the outbox runner's helper that, in the background, syncs the store's records
 * to disk and then deletes the files of the messages they record as delivered. */
#ifndef OUTBOX_QUEUE_JANITOR_H
#define OUTBOX_QUEUE_JANITOR_H

#include <stddef.h>

struct janitor;

/* Start one for the spool of the store in `home`; NULL when its directory cannot be opened (the
 * caller then deletes the files itself). */
struct janitor *janitor_start(const char *home);
/* Soon, sync every commit made so far to disk, then delete these spool files (the names are
 * copied; n may be 0 for a sync alone). A file that cannot be deleted, or whose record could not
 * be synced, is left for the orphan sweep. Safe to call from several threads. */
void janitor_sync_and_remove(struct janitor *j, const char (*names)[33], size_t n);
/* Finish what is waiting (the sync, then the deletions), then stop. NULL is fine. */
void janitor_stop(struct janitor *j);

#endif
