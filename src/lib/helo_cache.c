/* helo_cache.c: the store's memory of this host's canonical name. Looking it up costs a thread,
 * the resolver's files and perhaps a name server (up to HELO_LOOKUP_MS): once a day is enough. */
#include <stdio.h>

#include "handle_internal.h"
#include "helo_cache.h"
#include "record.h"
#include "store.h"

/* A name changes when someone renames the host or edits its records: a day's delay is fine, and
 * a new host name is a new key at once. */
#define HELO_CACHE_SECONDS 86400

int helo_cache_get(outbox *h, const char *host, char *canonical, size_t size)
{
	struct outbox_error_copy saved;
	char **found = NULL;
	int got;

	if (h == NULL || h->db == NULL)
		return 0; /* a handle without a store: setup's probes */
	outbox_error_save(h, &saved);
	got = store_strings(h, &found, "reading this host's name",
			    "SELECT canonical FROM host_names WHERE host = ?1 AND looked_up_at > ?2", "ti", host,
			    store_now() - HELO_CACHE_SECONDS) == 0 &&
	      found && found[0];
	if (got)
		snprintf(canonical, size, "%s", found[0]);
	strv_free(found);
	outbox_error_restore(h, &saved);
	return got;
}

void helo_cache_put(outbox *h, const char *host, const char *canonical)
{
	struct outbox_error_copy saved;

	if (h == NULL || h->db == NULL || h->readonly)
		return;
	outbox_error_save(h, &saved);
	if (store_begin_unsynced(h) == 0) {
		if (store_exec(h, "INSERT OR REPLACE INTO host_names (host, canonical, looked_up_at) VALUES (?1, ?2, ?3)",
			       "tti", host, canonical, store_now()) == 0)
			store_commit(h);
		else
			store_rollback(h);
	}
	outbox_error_restore(h, &saved);
}
