/* setup_probe.c: the probes of `outbox setup`: each distinct server its sources proposed is opened
 * as `server check` opens one (session.c: connect, TLS, EHLO), without a login; the plan (one
 * probe per distinct server), the words for one the deadline caught, and a whole list at once
 * through setup_probe_pool.c, the caller waiting until one deadline and not a moment longer. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "handle_internal.h"
#include "net.h"
#include "session.h"
#include "setup_dns.h"
#include "setup_probe.h"
#include "setup_probe_pool.h"
#include "validate.h"

const char *setup_probe_security_word(enum setup_security s)
{
	return s == SETUP_SECURITY_TLS ? "tls" : s == SETUP_SECURITY_STARTTLS ? "starttls" : "none";
}

const char *setup_probe_step_word(enum setup_probe_step s)
{
	static const char *const words[] = {"connecting", "TLS", "EHLO"};

	return words[s];
}

outbox_server *setup_probe_server(outbox *h, const char *host, int port, enum setup_security security,
				  const char *auth, const char *user, const char *tls_ca, long long deadline_ms)
{
	outbox_server *s = outbox_server_new();
	char port_text[24], wait_text[24];

	if (s == NULL) {
		outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
		return NULL;
	}
	/* session.c bounds each wait by the server's timeout, in whole seconds: what is left of the
	 * run, rounded up, so no step outlives the deadline by more than a second. */
	snprintf(wait_text, sizeof wait_text, "%d", net_seconds_left(deadline_ms));
	snprintf(port_text, sizeof port_text, "%d", port);
	/* The security mode first: setting it moves a port that was not typed. */
	if (outbox_server_set(h, s, OUTBOX_SERVER_SECURITY, setup_probe_security_word(security)) < 0 ||
	    outbox_server_set(h, s, OUTBOX_SERVER_HOST, host) < 0 ||
	    outbox_server_set(h, s, OUTBOX_SERVER_PORT, port_text) < 0 ||
	    outbox_server_set(h, s, OUTBOX_SERVER_AUTH, auth) < 0 ||
	    outbox_server_set(h, s, OUTBOX_SERVER_USER, user) < 0 ||
	    outbox_server_set(h, s, OUTBOX_SERVER_TLS_VERIFY, "true") < 0 ||
	    outbox_server_set(h, s, OUTBOX_SERVER_TLS_CA, tls_ca ? tls_ca : "") < 0 ||
	    outbox_server_set(h, s, OUTBOX_SERVER_TIMEOUT, wait_text) < 0) {
		outbox_server_free(s);
		return NULL;
	}
	return s;
}

/* Passes each step's end on, noting whether the connection itself failed (so the next address
 * is worth a try) or a later step did (the server was reached: that is its answer). */
struct probe_open {
	void (*step)(void *ctx, const struct session_event *ev);
	void *ctx;
	int connect_failed;
};

static void probe_open_step(void *ctx, const struct session_event *ev)
{
	struct probe_open *o = ctx;

	o->connect_failed = ev->step == SESSION_STEP_CONNECT && ev->rc < 0;
	if (o->step)
		o->step(o->ctx, ev);
}

int setup_probe_open(outbox *h, const outbox_server *server, const char *password,
		     const struct dns_resolver *resolver, long long deadline_ms,
		     void (*step)(void *ctx, const struct session_event *ev), void *ctx, struct session **out)
{
	struct session_params sp;
	struct probe_open o = {step, ctx, 0};
	struct setup_addresses *addrs;
	size_t i;
	int rc;

	memset(&sp, 0, sizeof sp);
	sp.server = server;
	sp.password = password;
	sp.step = step;
	sp.step_ctx = ctx;
	/* Every wait of every step, over every address, ends by the probe's one deadline: a probe
	 * the run gave up on ends with it, not a server timeout per step later. */
	sp.deadline_ms = deadline_ms;
	if (resolver == NULL || !resolver->given)
		return session_open(h, &sp, out);
	/* With --resolver, no lookup escapes that server: setup_dns_addresses, then each address. */
	*out = NULL;
	if ((addrs = malloc(sizeof *addrs)) == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	rc = setup_dns_addresses(h, resolver, outbox_server_get(server, OUTBOX_SERVER_HOST), deadline_ms, addrs);
	sp.step = probe_open_step;
	sp.step_ctx = &o;
	for (i = 0; rc == 0 && i < addrs->n; i++) {
		sp.address = addrs->v[i].name;
		rc = session_open(h, &sp, out);
		if (rc == 0 || !o.connect_failed || i + 1 == addrs->n)
			break;
		rc = 0;
	}
	free(addrs);
	return rc;
}

static int probes_same(const struct setup_probe *p, const struct setup_candidate *c)
{
	return p->port == c->port && p->security == c->security && strcasecmp(p->host, c->host) == 0;
}

/* One probe per distinct (host, port, security), in the order candidates first name them. */
int setup_probes_plan(outbox *h, const struct setup_candidates *list, struct setup_probes *out)
{
	size_t i, j;

	memset(out, 0, sizeof *out);
	if (list->n == 0)
		return 0;
	out->v = calloc(list->n, sizeof *out->v);
	out->of = calloc(list->n, sizeof *out->of);
	if (out->v == NULL || out->of == NULL) {
		setup_probes_free(out);
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	out->ncandidates = list->n;
	for (i = 0; i < list->n; i++) {
		const struct setup_candidate *c = &list->v[i];

		for (j = 0; j < out->n && !probes_same(&out->v[j], c); j++)
			;
		out->of[i] = j;
		if (j < out->n)
			continue;
		struct setup_probe *p = &out->v[out->n++];
		snprintf(p->host, sizeof p->host, "%s", c->host);
		p->port = c->port;
		p->security = c->security;
		p->connect_ms = p->tls_ms = p->ehlo_ms = -1;
		p->began_at = p->done_at = -1;
		if (c->security == SETUP_SECURITY_NONE) {
			p->state = SETUP_PROBE_SKIPPED;
			snprintf(p->error, sizeof p->error, "not probed: plain text is never chosen");
		}
	}
	return 0;
}

/* What a probe caught by the deadline was waiting for. Under STARTTLS the TLS step holds the
 * greeting and the first EHLO too (session.h). */
const char *setup_probe_waiting_word(const struct setup_probe *p, enum setup_probe_step step)
{
	if (step == SETUP_PROBE_CONNECT)
		return "connecting";
	if (step == SETUP_PROBE_EHLO)
		return p->security == SETUP_SECURITY_TLS ? "the greeting and EHLO" : "EHLO after STARTTLS";
	return p->security == SETUP_SECURITY_TLS ? "the TLS handshake" : "the greeting, EHLO and STARTTLS";
}

/* A probe the deadline caught: which step it was in, and for how long it was waited. */
void setup_probe_unanswered(struct setup_probe *p, enum setup_probe_step under_way, int begun, long long waited)
{
	p->state = SETUP_PROBE_NO_ANSWER;
	p->step = under_way;
	if (begun)
		snprintf(p->error, sizeof p->error, "no answer from %s port %d within %lld.%lld s (%s)", p->host,
			 p->port, waited / 1000, waited % 1000 / 100, setup_probe_waiting_word(p, under_way));
	else
		snprintf(p->error, sizeof p->error, "not probed: the deadline passed before its turn");
}

int setup_probe_run(outbox *h, const struct setup_candidates *list, const struct setup_probe_options *o,
		    struct setup_probes *out)
{
	struct setup_signal signal;
	struct setup_probe_pool *pool;
	struct setup_probes plan;
	struct setup_probe verdict;
	unsigned long seen = 0;
	long long next;
	size_t i;
	int rc;

	memset(out, 0, sizeof *out);
	setup_signal_init(&signal);
	if ((rc = setup_probe_pool_new(h, o, &signal, &pool)) < 0)
		goto out;
	if ((rc = setup_probes_plan(h, list, &plan)) < 0) {
		static const struct setup_candidates none;

		setup_probe_pool_finish(h, pool, net_now_ms(), &none, out);
		goto out;
	}
	/* All at once under the one deadline; the caller wakes at each verdict and at the deadline. */
	for (i = 0; rc == 0 && i < plan.n; i++)
		if (plan.v[i].state != SETUP_PROBE_SKIPPED)
			rc = setup_probe_pool_add(h, pool, plan.v[i].host, plan.v[i].port, plan.v[i].security,
						  o->deadline_ms);
	setup_probes_free(&plan);
	while (rc == 0 && setup_probe_pool_pending(pool, &next) > 0) {
		setup_signal_wait(&signal, &seen, next);
		while (setup_probe_pool_take(pool, net_now_ms(), &verdict))
			;
	}
	if (setup_probe_pool_finish(h, pool, o->deadline_ms + SETUP_PROBE_POOL_GRACE_MS, list, out) < 0 && rc == 0)
		rc = OUTBOX_ENOMEM;
	if (rc < 0)
		setup_probes_free(out);
out:
	setup_signal_destroy(&signal);
	return rc;
}

void setup_probes_free(struct setup_probes *p)
{
	free(p->v);
	free(p->of);
	memset(p, 0, sizeof *p);
}

const struct setup_probe *setup_probe_of(const struct setup_probes *p, size_t i)
{
	return i < p->ncandidates ? &p->v[p->of[i]] : NULL;
}
