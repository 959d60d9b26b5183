/* outbox/undo.h: taking back the last removal.
 * Removals are journalled so that a server returns with the accounts that pointed at it. */
#ifndef OUTBOX_UNDO_H
#define OUTBOX_UNDO_H

#include <stddef.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Restore the most recent removal that was not purged or undone already. `what` receives a short
 * description ("server \"work\" and 2 accounts"). OUTBOX_ENOTHING when there is none. */
int outbox_undo(outbox *h, char *what, size_t what_size);

#ifdef __cplusplus
}
#endif
#endif
