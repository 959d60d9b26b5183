/* history_internal.h: how the delivery code records an attempt in the history table. */
#ifndef OUTBOX_HISTORY_INTERNAL_H
#define OUTBOX_HISTORY_INTERNAL_H

#include "outbox/history.h"

/* Append one attempt; entry->id and entry->time are ignored (time is now). Failing to record is
 * reported but must never turn a delivered message into a failure. */
int history_record(outbox *h, const outbox_history_entry *entry);

#endif
