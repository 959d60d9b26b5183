/* setup_probe_pool.h: probes that can be asked for one at a time while a discovery runs: each
 * distinct server once, a bounded number of threads, each probe under a deadline of its own. */
#ifndef OUTBOX_SETUP_PROBE_POOL_H
#define OUTBOX_SETUP_PROBE_POOL_H

#include <stddef.h>

#include "setup_probe.h"
#include "setup_signal.h"

struct setup_probe_pool;

/* A pool probing as o says (o->deadline_ms is not used: each probe brings its own), at most
 * o->parallel (0: SETUP_PROBE_PARALLEL) at once; each verdict is posted to `signal`, which must
 * outlive the pool's setup_probe_pool_finish. OUTBOX_EINVALID naming "tls-ca" for a CA file the
 * server field refuses, OUTBOX_ENOMEM. */
int setup_probe_pool_new(outbox *h, const struct setup_probe_options *o, struct setup_signal *signal,
			 struct setup_probe_pool **out);
/* Probe (host, port, security) by deadline_ms, unless it was asked for already (the host's case
 * aside): then nothing changes. Plain text must not be asked for. 0, OUTBOX_ENOMEM, or
 * OUTBOX_ENOMEM naming no field when not even one thread could be started. */
int setup_probe_pool_add(outbox *h, struct setup_probe_pool *pool, const char *host, int port,
			 enum setup_security security, long long deadline_ms);
/* The next verdict not yet taken, into *out: a probe done, or one whose deadline is past at
 * `now` (then NO_ANSWER, saying where it waited). 1 with *out, 0 when there is none now. */
int setup_probe_pool_take(struct setup_probe_pool *pool, long long now, struct setup_probe *out);
/* Probes with no verdict yet, and the earliest of their deadlines (LLONG_MAX when none). */
size_t setup_probe_pool_pending(struct setup_probe_pool *pool, long long *next_deadline);
/* What a pool's end waits past the last probe's deadline, so that a probe ending at its deadline
 * (each of its waits is cut to it) is joined, not left running as the program exits. */
#define SETUP_PROBE_POOL_GRACE_MS 250

/* End the pool: wait for the probes' QUITs until until_ms at most, then join each thread that is
 * between probes and leave the rest to end on their own (their waits are cut to their probe's
 * deadline); then fill `out` for `list` (setup_probes_plan's, each planned probe the pool's
 * verdict for it) and free the pool. 0, or OUTBOX_ENOMEM with *out empty. */
int setup_probe_pool_finish(outbox *h, struct setup_probe_pool *pool, long long until_ms,
			    const struct setup_candidates *list, struct setup_probes *out);

#endif
