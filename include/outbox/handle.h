/* outbox/handle.h: opening the store that holds servers, accounts and the outbox.
 * One handle per thread; it owns the database connection and the last error message. */
#ifndef OUTBOX_HANDLE_H
#define OUTBOX_HANDLE_H

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OUTBOX_VERSION "0.1.0"

/* Open (creating it 0700, its database 0600, when missing) the store in `home`; NULL means
 * $OUTBOX_HOME, else $XDG_DATA_HOME/outbox, else ~/.local/share/outbox. *out is set even when
 * this fails, so the message can be read with outbox_errmsg(); close it either way. */
int outbox_open(outbox **out, const char *home);
void outbox_close(outbox *h);
/* The directory the handle's store lives in. */
const char *outbox_home(const outbox *h);
/* The schema version the database is at after opening (migrations already applied). */
int outbox_schema_version(const outbox *h);

/* 1 when another process has committed a change to the store since the previous call (the first
 * call only starts watching and returns 0), 0 when not, or a negative code. Cheap enough to poll
 * once a second, so a long-lived front end can refresh what it shows. */
int outbox_changed(outbox *h);

/* Open the store in `home` (as outbox_open) only to read it: nothing is created or written, so it
 * works on a store that cannot be written (a read-only mount, chmod a-w) and beside a process that
 * is writing it. A change through this handle fails with OUTBOX_ESTORE, "the store is read-only".
 * A store that does not exist yet is created, and one an older outbox made is upgraded, as
 * outbox_open would: there is nothing to read before that. */
int outbox_open_readonly(outbox **out, const char *home);

#ifdef __cplusplus
}
#endif
#endif
