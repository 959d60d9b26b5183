/* deliver_internal.h: what the queue runner shares with one-shot delivery: fetching a server's
 * password and putting a reply into words. */
#ifndef OUTBOX_DELIVER_INTERNAL_H
#define OUTBOX_DELIVER_INTERNAL_H

#include <stddef.h>
#include "outbox/server.h"
#include "smtp_reply.h"

/* The password from the keyring or file, or by running the server's command; NULL without one. */
int deliver_password(outbox *h, const outbox_server *s, char **password);
/* "550 5.1.1 text" on one line; "" for no reply. */
void deliver_reply_text(const struct smtp_reply *r, char *buf, size_t size);

#endif
