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

#ifdef __cplusplus
}
#endif
#endif
