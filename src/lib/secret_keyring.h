/* secret_keyring.h: the Secret Service backend (libsecret), keyed by the schema
 * "org.outbox.Password" with attributes application=outbox and id=<32 hex digits>. */
#ifndef OUTBOX_SECRET_KEYRING_H
#define OUTBOX_SECRET_KEYRING_H

#include "outbox/error.h"

/* Whether a session bus is configured; without one libsecret would try to autolaunch a bus. */
int secret_keyring_reachable(void);
/* Failures are OUTBOX_ECONFIG with GLib's words, never the password. */
int secret_keyring_store(outbox *h, const char *id, const char *label, const char *password);
/* A fresh malloc'd copy the caller wipes; an absent item is OUTBOX_ECONFIG. */
int secret_keyring_lookup(outbox *h, const char *id, char **password);
/* An absent item is not an error. */
int secret_keyring_delete(outbox *h, const char *id);

#endif
