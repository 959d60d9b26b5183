/* setup_probe.h: `outbox setup` connects to each distinct server its sources proposed (TLS
 * verified, EHLO read, no login) at once under one deadline, and records what each offers. */
#ifndef OUTBOX_SETUP_PROBE_H
#define OUTBOX_SETUP_PROBE_H

#include <stddef.h>

#include "dns_query.h"
#include "outbox/server.h"
#include "setup_candidate.h"
#include "smtp_reply.h"

/* How many servers are probed at once when the caller does not say. */
#define SETUP_PROBE_PARALLEL 8

enum setup_probe_state {
	SETUP_PROBE_OK,        /* connected, TLS verified, EHLO answered */
	SETUP_PROBE_FAILED,    /* a step failed: `step` and `error` say which and why */
	SETUP_PROBE_NO_ANSWER, /* not done by the deadline (or never begun before it) */
	SETUP_PROBE_SKIPPED    /* plain text: never probed, since it is never chosen */
};

/* The steps of a probe, in order; the one a failed probe stopped at. */
enum setup_probe_step { SETUP_PROBE_CONNECT, SETUP_PROBE_TLS, SETUP_PROBE_EHLO };

/* What one (host, port, security) answered. */
struct setup_probe {
	char host[256];
	int port;
	enum setup_security security;
	enum setup_probe_state state;
	enum setup_probe_step step; /* FAILED: the step that failed; NO_ANSWER: the one under way */
	int rc;                     /* FAILED: its OUTBOX_E* code; else 0 */
	char error[560];            /* FAILED and NO_ANSWER: one line, the server's or the
				       certificate's words included */
	char peer[64];              /* the address connected to, or "" */
	char tls[128];              /* "TLSv1.3 TLS_AES_256_GCM_SHA384", or "" */
	char greeting[256];         /* the greeting's first line, rendered safe, or "" */
	struct smtp_caps caps;      /* what EHLO offered (AUTH, SIZE, 8BITMIME, ...); OK only */
	/* How long each step took, in ms; -1 when it did not end. */
	long long connect_ms, tls_ms, ehlo_ms;
	/* When it began and when its verdict came, on net_now_ms's clock; -1: never. */
	long long began_at, done_at;
};

struct setup_probes {
	struct setup_probe *v; /* one per distinct (host, port, security), in the candidates' order */
	size_t n;
	size_t *of;            /* of[i]: the index in v of candidate i's probe */
	size_t ncandidates;
};

struct setup_probe_options {
	long long deadline_ms;               /* net_now_ms's clock: the whole run ends by then */
	const char *tls_ca;                  /* --tls-ca: trust this CA file, not the system's; or NULL */
	const struct dns_resolver *resolver; /* --resolver; NULL or zeroed: the system's */
	int parallel;                        /* at most this many at once; 0: SETUP_PROBE_PARALLEL */
};

/* Probe every distinct (host, port, security) of `list` (setup_probe_pool.c), `o->parallel` at a
 * time, each in a thread of its own, and wait until all are done (their QUIT answered) or the deadline, never
 * longer: a probe not done by then is NO_ANSWER, and its thread is left to end on its own (its
 * waits are cut to the time that was left). Plain-text candidates are SKIPPED. A STARTTLS server that does not offer
 * STARTTLS, and a certificate that does not verify, are FAILED with the reason. Nothing is
 * logged in to and no mail is sent (QUIT after EHLO). Returns 0 whatever the servers did (each
 * probe says); OUTBOX_EINVALID naming the field ("tls-ca") for options that cannot be used,
 * OUTBOX_ENOMEM; *out is then empty. Free *out with setup_probes_free. */
int setup_probe_run(outbox *h, const struct setup_candidates *list, const struct setup_probe_options *o,
		    struct setup_probes *out);
void setup_probes_free(struct setup_probes *p);

/* One probe per distinct (host, port, security) of `list` (the host's case aside), in the order
 * the candidates first name them, each not yet probed (plain text SKIPPED, never to be); of[]
 * filled. 0 or OUTBOX_ENOMEM (then *out is empty). */
int setup_probes_plan(outbox *h, const struct setup_candidates *list, struct setup_probes *out);
/* Make *p the verdict on a probe its deadline caught: NO_ANSWER, in step under_way when it had
 * begun, with the words saying where it waited and for how long (waited ms). */
void setup_probe_unanswered(struct setup_probe *p, enum setup_probe_step under_way, int begun, long long waited);

/* The probe of candidate i. */
const struct setup_probe *setup_probe_of(const struct setup_probes *p, size_t i);

/* "connecting", "TLS" or "EHLO": a step, in the words of a verdict. */
const char *setup_probe_step_word(enum setup_probe_step s);

/* What a probe caught in `step` was waiting for: "connecting", "the TLS handshake", ... */
const char *setup_probe_waiting_word(const struct setup_probe *p, enum setup_probe_step step);

/* "tls", "starttls" or "none": the server field's value for a security mode. */
const char *setup_probe_security_word(enum setup_security s);

/* One server draft for a connection to (host, port, security): TLS verified (against tls_ca when
 * given), the whole-second wait per step that fits in what is left until deadline_ms (at least
 * 1 s), `auth` and `user` as given ("" user: no login). For the probe and the login check alike;
 * NULL with the handle's error set when a value is refused. Free with outbox_server_free. */
outbox_server *setup_probe_server(outbox *h, const char *host, int port, enum setup_security security,
				  const char *auth, const char *user, const char *tls_ca, long long deadline_ms);

/* Open a session on `server` as setup does: when `resolver` is given, `host` is resolved through
 * it and each of its addresses tried in turn (TLS still checks the name); else as any connection.
 * `step` as session_params's, may be NULL. Returns session_open's code. */
struct session;
struct session_event;
int setup_probe_open(outbox *h, const outbox_server *server, const char *password,
		     const struct dns_resolver *resolver, long long deadline_ms,
		     void (*step)(void *ctx, const struct session_event *ev), void *ctx, struct session **out);

#endif
