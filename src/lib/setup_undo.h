/* setup_undo.h: `outbox setup` in the undo journal: the entry written with the save, and taking
 * it back when `outbox undo` reaches it. */
#ifndef OUTBOX_SETUP_UNDO_H
#define OUTBOX_SETUP_UNDO_H

#include <stddef.h>
#include "outbox/server.h"

/* Inside the save's transaction: journal that the setup of `address` created account
 * `account_id` and server `server_id`. */
int setup_undo_journal(outbox *h, long long account_id, long long server_id, const char *address);
/* Inside a purge's transaction, before the rows go: a record deleted for good is no longer a
 * setup's to take back, and SQLite gives its id to the next record added. The server's purge
 * covers the removed accounts that go with it. */
int setup_undo_forget_account(outbox *h, long long account_id);
int setup_undo_forget_server(outbox *h, long long server_id);
/* Inside outbox_undo's transaction: remove for good what the setup of `label` created and is
 * still there, or refuse (OUTBOX_EINUSE, one line, nothing changed) when that would lose queued
 * mail or another account's server. *forget gets the removed server, whose secrets the caller
 * forgets after its commit; `what` says what was taken back. */
int setup_undo_take_back(outbox *h, long long account_id, long long server_id, const char *label,
			 outbox_server **forget, char *what, size_t what_size);

#endif
