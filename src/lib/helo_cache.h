/* helo_cache.h: the store's memory of this host's canonical name (helo_cache.c), so the EHLO name
 * is not looked up again by every command. */
#ifndef OUTBOX_HELO_CACHE_H
#define OUTBOX_HELO_CACHE_H

#include <stddef.h>
#include "outbox/error.h"

/* 1 and `canonical` ("" for none) when the store has a lookup of `host` younger than a day, else
 * 0 (a handle without a store, as setup's probes use, has none); the handle's error is left as it
 * was. */
int helo_cache_get(outbox *h, const char *host, char *canonical, size_t size);
/* Remember what the lookup of `host` gave. A commit that waits for no disk: a lost line only
 * means one more lookup. Failures (a read-only handle, a transaction already open) are ignored. */
void helo_cache_put(outbox *h, const char *host, const char *canonical);

#endif
