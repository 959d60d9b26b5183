/* setup_sources.h: the lookups of `outbox setup` running in threads, what each source answered
 * handed to the caller as it comes (so its servers can be probed at once), then in their order. */
#ifndef OUTBOX_SETUP_SOURCES_H
#define OUTBOX_SETUP_SOURCES_H

#include <stddef.h>

#include "setup_discover.h"
#include "setup_signal.h"

struct setup_sources;

/* Start a thread per source for `domain` (autoconfig, well-known, ISPDB, SRV, MX and the ISPDB
 * for the MX hosts' registered domains), each ending by deadline_ms on its own, each posting to
 * `signal` when it has a report or ends. With a resolver, each HTTPS host is first looked up
 * there and pinned. A source with no thread to spare is asked here. 0 or OUTBOX_ENOMEM. */
int setup_sources_start(outbox *h, const struct setup_discover_options *o, const char *domain,
			long long deadline_ms, struct setup_signal *signal, struct setup_sources **out);
/* What came since the last call: up to max reports into reports[] (returned: how many; the rest
 * wait for the next call), and their candidates appended to *fresh (*rc: 0 or OUTBOX_ENOMEM). */
size_t setup_sources_take(outbox *h, struct setup_sources *s, struct setup_report *reports, size_t max,
			  struct setup_candidates *fresh, int *rc);
/* Whether every source's lookup has ended. */
int setup_sources_done(struct setup_sources *s);
/* Join every thread and append every report to d->reports and every candidate to d->candidates,
 * in the sources' order; free s. 0, or the first source's error (OUTBOX_ECONFIG without libcurl,
 * OUTBOX_ENOMEM, ...) with the handle saying it. */
int setup_sources_finish(outbox *h, struct setup_sources *s, struct setup_discovery *d);
/* Leave the lookups to end by their deadline on their own, taking nothing from them and waiting
 * for none (a cancelled run): from here on they post nothing to the signal, and the last of them
 * frees s. */
void setup_sources_abandon(struct setup_sources *s);

#endif
