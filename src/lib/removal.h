/* removal.h: what removing a server for good means, shared by `outbox server remove --purge` and
 * the undo of a setup, so one place decides which rows and which secrets go with a server. */
#ifndef OUTBOX_REMOVAL_H
#define OUTBOX_REMOVAL_H

#include "outbox/server.h"

/* Inside the caller's transaction: delete server `id`'s row and the removed accounts still
 * pointing at it (they can never come back), with their journal entries. Live accounts must
 * have been moved off it first. */
int removal_purge_server_row(outbox *h, long long id);
/* After the commit that deleted the row: the server's password, OAuth client secret and tokens,
 * best effort (the row no longer points at them). */
void removal_forget_secrets(outbox *h, const outbox_server *s);

#endif
