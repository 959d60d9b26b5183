/* secret.h: where passwords live. The Secret Service keyring (libsecret) when a session bus with
 * a keyring answers, else a 0600 file under the store's directory. Nothing here logs a secret. */
#ifndef OUTBOX_SECRET_H
#define OUTBOX_SECRET_H

#include <stddef.h>
#include "outbox/server.h"

/* The most a stored secret (or a password command's line) may hold: an OAuth access token of up
 * to 16 KiB (OAUTH_MAX_TOKEN; Microsoft's are JWTs that pass 4 KiB with many group claims) with
 * its expiry in front. A password typed in keeps its own, smaller cap (server.c). */
#define SECRET_MAX (16 * 1024 + 64)

/* Store `password` for the server whose stable secret id is `id` (32 hex digits). Tries the
 * keyring first unless $OUTBOX_SECRET_BACKEND is "file" ("keyring" makes the keyring mandatory).
 * *where tells which backend took it. */
int secret_store(outbox *h, const char *id, const char *label, const char *password,
		 outbox_password_source *where);
/* Read the password back from `where` into a fresh string the caller wipes and frees. */
int secret_lookup(outbox *h, const char *id, outbox_password_source where, char **password);
/* Delete it; deleting what is not there is not an error. */
int secret_delete(outbox *h, const char *id, outbox_password_source where);
/* Run `command` with /bin/sh (no terminal input) and take the first line of its output. The
 * command has timeout_ms (the server's timeout) to print, close its output and exit; then it is
 * killed with everything it started in its process group, and the message names `server`
 * (OUTBOX_ETEMPFAIL). */
int secret_run_command(outbox *h, const char *command, const char *server, long long timeout_ms,
		       char **password);
/* Overwrite and free a string that held a secret. */
void secret_wipe(char *s);
/* A new random id of 32 lowercase hex digits and a NUL. */
int secret_new_id(outbox *h, char out[33]);

#endif
