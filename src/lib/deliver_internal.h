/* deliver_internal.h: what the queue runner shares with one-shot delivery: fetching a server's
 * password. */
#ifndef OUTBOX_DELIVER_INTERNAL_H
#define OUTBOX_DELIVER_INTERNAL_H

#include "outbox/server.h"

/* The password from the keyring or file, or by running the server's command; NULL without one. */
int deliver_password(outbox *h, const outbox_server *s, char **password);

#endif
