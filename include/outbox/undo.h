/* outbox/undo.h: taking back the last change in the journal: a removal, or a setup.
 * Removals are journalled so that a server returns with the accounts that pointed at it. */
#ifndef OUTBOX_UNDO_H
#define OUTBOX_UNDO_H

#include <stddef.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Take back the most recent journal entry not undone already: restore a removal that was not
 * purged, or remove for good the account and server an `outbox setup` saved (OUTBOX_EINUSE, nothing
 * changed, when that would lose queued mail or another account's server). `what` receives what
 * was done as a sentence without its full stop ("Restored server \"work\"", "Took back the setup
 * of ann@example.test: removed account ann@example.test and server \"example.test\"").
 * OUTBOX_ENOTHING when there is none. */
int outbox_undo(outbox *h, char *what, size_t what_size);

#ifdef __cplusplus
}
#endif
#endif
