/* queue_janitor.h: the outbox runner's helper that deletes delivered messages' files in the
 * background, once their outcomes are on disk. */
#ifndef OUTBOX_QUEUE_JANITOR_H
#define OUTBOX_QUEUE_JANITOR_H

#include <stddef.h>

struct janitor;

/* Start one for the spool of the store in `home`; NULL when its directory cannot be opened (the
 * caller then deletes the files itself). */
struct janitor *janitor_start(const char *home);
/* Delete these spool files, soon; the names are copied. A file that cannot be deleted is left for
 * the orphan sweep. Safe to call from several threads. */
void janitor_remove(struct janitor *j, const char (*names)[33], size_t n);
/* Delete what is still waiting, then stop. NULL is fine. */
void janitor_stop(struct janitor *j);

#endif
