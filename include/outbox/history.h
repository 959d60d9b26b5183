/* outbox/history.h: the record of every delivery attempt: when, which account and server, to
 * whom, how it ended and what the server said. `outbox log` shows it. */
#ifndef OUTBOX_HISTORY_H
#define OUTBOX_HISTORY_H

#include <stddef.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
	long long id;
	long long time;        /* seconds since the epoch */
	const char *account;
	const char *server;
	const char *sender;
	const char *recipients; /* comma-separated */
	const char *outcome;    /* "delivered", "partial", "refused", "deferred", "failed" */
	const char *reply;      /* the server's words, or outbox's when it got no reply */
	long long size;
	const char *message_id;
} outbox_history_entry;

typedef struct outbox_history outbox_history;

/* The newest `limit` attempts (0: all), newest first. */
int outbox_history_list(outbox *h, size_t limit, outbox_history **out);
size_t outbox_history_count(const outbox_history *l);
const outbox_history_entry *outbox_history_at(const outbox_history *l, size_t i);
void outbox_history_free(outbox_history *l);

#ifdef __cplusplus
}
#endif
#endif
