/* secret_file.h: the fallback password store, one 0600 file per secret id under
 * $home/secrets, for machines with no keyring. Callers have checked the id is 32 hex digits. */
#ifndef OUTBOX_SECRET_FILE_H
#define OUTBOX_SECRET_FILE_H

#include "outbox/error.h"

/* Replace the file atomically: a crash leaves the old password or the new, never half of one. */
int secret_file_store(outbox *h, const char *id, const char *password);
/* A fresh malloc'd copy the caller wipes; refuses a file others could read. */
int secret_file_lookup(outbox *h, const char *id, char **password);
/* A missing file is not an error. */
int secret_file_delete(outbox *h, const char *id);

#endif
