/* setup_probe.c: the probes of `outbox setup`: each distinct server its sources proposed is opened
 * as `server check` opens one (session.c: connect, TLS, EHLO), without a login, a few at a time
 * in threads, and the caller waits for them until one deadline and not a moment longer. */
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
#include "validate.h"

const char *setup_probe_security_word(enum setup_security s)
{
	return s == SETUP_SECURITY_TLS ? "tls" : s == SETUP_SECURITY_STARTTLS ? "starttls" : "none";
}

outbox_server *setup_probe_server(outbox *h, const char *host, int port, enum setup_security security,
				  const char *auth, const char *user, const char *tls_ca, long long deadline_ms)
{
	outbox_server *s = outbox_server_new();
	long long left = deadline_ms - net_now_ms();
	char port_text[24], wait_text[24];

	if (s == NULL) {
		outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
		return NULL;
	}
	/* session.c bounds each wait by the server's timeout, in whole seconds: what is left of the
	 * run, rounded up, so no step outlives the deadline by more than a second. */
	snprintf(wait_text, sizeof wait_text, "%lld", left <= 1000 ? 1 : (left + 999) / 1000);
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

/* --- one probe ---------------------------------------------------------------------------- */

struct probe_batch;

/* A probe under way: its result, filled as the session reports each step. */
struct probe_run {
	struct probe_batch *b;
	size_t index;
	struct setup_probe p;
	long long step_started;
	outbox_server *server; /* the draft the session was opened on */
};

struct probe_worker_slot {
	struct probe_batch *b;
	pthread_t thread;
	int busy; /* in a probe now (under the batch's lock) */
};

struct probe_batch {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	int refs;         /* the caller until it returns, and each worker */
	int abandoned;    /* the caller has gone: begin nothing new */
	size_t next;      /* the next of `runnable` to begin */
	size_t finished;
	size_t busy;      /* workers in a probe, or closing one (QUIT) */
	size_t nrunnable;
	size_t *runnable; /* indices into v of the probes to run, in order */
	struct setup_probe *v;
	int *done;
	enum setup_probe_step *under_way;
	size_t n;
	/* The workers: each is joined when the caller leaves, unless it is still in a probe (busy),
	 * which the caller cannot wait for: that one is detached and ends on its own. */
	struct probe_worker_slot *workers;
	size_t nworkers;
	long long deadline_ms;
	char tls_ca[4200];
	struct dns_resolver resolver;
};

static void batch_release(struct probe_batch *b)
{
	int last;

	pthread_mutex_lock(&b->lock);
	last = --b->refs == 0;
	pthread_mutex_unlock(&b->lock);
	if (!last)
		return;
	pthread_cond_destroy(&b->changed);
	pthread_mutex_destroy(&b->lock);
	free(b->runnable);
	free(b->v);
	free(b->done);
	free(b->under_way);
	free(b->workers);
	free(b);
}

static enum setup_probe_step probe_step(enum session_step s)
{
	return s == SESSION_STEP_CONNECT ? SETUP_PROBE_CONNECT : s == SESSION_STEP_TLS ? SETUP_PROBE_TLS
											 : SETUP_PROBE_EHLO;
}

static void probe_on_step(void *ctx, const struct session_event *ev)
{
	struct probe_run *r = ctx;
	long long now = net_now_ms(), took = now - r->step_started;
	enum setup_probe_step next;

	if (ev->step == SESSION_STEP_AUTH)
		return; /* a probe never logs in */
	r->step_started = now;
	if (ev->rc < 0) {
		r->p.step = probe_step(ev->step);
		return;
	}
	switch (ev->step) {
	case SESSION_STEP_CONNECT:
		r->p.connect_ms = took;
		snprintf(r->p.peer, sizeof r->p.peer, "%s", ev->peer);
		next = r->p.security == SETUP_SECURITY_NONE ? SETUP_PROBE_EHLO : SETUP_PROBE_TLS;
		break;
	case SESSION_STEP_TLS:
		r->p.tls_ms = took;
		snprintf(r->p.tls, sizeof r->p.tls, "%s", ev->tls);
		next = SETUP_PROBE_EHLO;
		break;
	default:
		r->p.ehlo_ms = took;
		validate_display(r->p.greeting, sizeof r->p.greeting, ev->greeting, strlen(ev->greeting));
		r->p.caps = *ev->caps;
		next = SETUP_PROBE_EHLO;
		break;
	}
	/* So a probe the caller gives up on says which step it was waiting in. */
	pthread_mutex_lock(&r->b->lock);
	r->b->under_way[r->index] = next;
	r->b->v[r->index] = r->p; /* what it learnt so far */
	pthread_mutex_unlock(&r->b->lock);
}

/* Connect, TLS, EHLO: everything but a login. The session, when it opened, is the caller's to
 * close (QUIT) once the result is out: a server slow to answer QUIT has answered the probe. */
static struct session *probe_one(outbox *h, struct probe_run *r)
{
	struct probe_batch *b = r->b;
	struct session *sess = NULL;
	outbox_server *srv;
	int rc;

	r->p.connect_ms = r->p.tls_ms = r->p.ehlo_ms = -1;
	r->p.step = SETUP_PROBE_CONNECT;
	r->step_started = net_now_ms();
	outbox_clear_error(h);
	srv = setup_probe_server(h, r->p.host, r->p.port, r->p.security, "none", "", b->tls_ca[0] ? b->tls_ca : NULL,
				 b->deadline_ms);
	rc = srv ? setup_probe_open(h, srv, NULL, &b->resolver, b->deadline_ms, probe_on_step, r, &sess)
		 : OUTBOX_EINVALID; /* the handle says which value */
	if (rc < 0) {
		r->p.state = SETUP_PROBE_FAILED;
		r->p.rc = rc;
		snprintf(r->p.error, sizeof r->p.error, "%s", outbox_errmsg(h));
	} else {
		r->p.state = SETUP_PROBE_OK;
	}
	r->server = srv; /* the session uses it until it is closed */
	return sess;
}

static void *probe_worker(void *arg)
{
	struct probe_worker_slot *slot = arg;
	struct probe_batch *b = slot->b;
	outbox *h = calloc(1, sizeof *h); /* a handle of its own: errors are per thread */
	struct probe_run *r = malloc(sizeof *r);

	for (;;) {
		struct session *sess;
		size_t index;

		pthread_mutex_lock(&b->lock);
		if (h == NULL || r == NULL || b->abandoned || b->next == b->nrunnable ||
		    net_now_ms() >= b->deadline_ms) {
			pthread_mutex_unlock(&b->lock);
			break;
		}
		index = b->runnable[b->next++];
		memset(r, 0, sizeof *r);
		r->b = b;
		r->index = index;
		r->p = b->v[index];
		slot->busy = 1;
		b->busy++;
		pthread_mutex_unlock(&b->lock);

		sess = probe_one(h, r);

		pthread_mutex_lock(&b->lock);
		b->v[index] = r->p;
		b->done[index] = 1;
		b->finished++;
		pthread_cond_broadcast(&b->changed);
		pthread_mutex_unlock(&b->lock);

		session_close(h, sess); /* still busy: a caller leaving now does not wait for QUIT */
		outbox_server_free(r->server);
		pthread_mutex_lock(&b->lock);
		slot->busy = 0;
		b->busy--;
		pthread_cond_broadcast(&b->changed);
		pthread_mutex_unlock(&b->lock);
	}
	free(r);
	free(h);
	batch_release(b);
	return NULL;
}

/* --- the run ------------------------------------------------------------------------------- */

static int probes_same(const struct setup_probe *p, const struct setup_candidate *c)
{
	return p->port == c->port && p->security == c->security && strcasecmp(p->host, c->host) == 0;
}

/* One probe per distinct (host, port, security), in the order candidates first name them. */
static int probes_plan(outbox *h, const struct setup_candidates *list, struct setup_probes *out)
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
		if (c->security == SETUP_SECURITY_NONE) {
			p->state = SETUP_PROBE_SKIPPED;
			snprintf(p->error, sizeof p->error, "not probed: plain text is never chosen");
		}
	}
	return 0;
}

static struct probe_batch *batch_new(const struct setup_probes *plan, const struct setup_probe_options *o,
				     const char *tls_ca)
{
	struct probe_batch *b = calloc(1, sizeof *b);
	pthread_condattr_t ca;
	size_t i;

	if (b == NULL)
		return NULL;
	b->n = plan->n;
	b->v = calloc(plan->n, sizeof *b->v);
	b->done = calloc(plan->n, sizeof *b->done);
	b->under_way = calloc(plan->n, sizeof *b->under_way);
	b->runnable = calloc(plan->n, sizeof *b->runnable);
	if (b->v == NULL || b->done == NULL || b->under_way == NULL || b->runnable == NULL) {
		free(b->v);
		free(b->done);
		free(b->under_way);
		free(b->runnable);
		free(b);
		return NULL;
	}
	memcpy(b->v, plan->v, plan->n * sizeof *b->v);
	for (i = 0; i < plan->n; i++)
		if (plan->v[i].state != SETUP_PROBE_SKIPPED)
			b->runnable[b->nrunnable++] = i;
	b->deadline_ms = o->deadline_ms;
	snprintf(b->tls_ca, sizeof b->tls_ca, "%s", tls_ca);
	if (o->resolver)
		b->resolver = *o->resolver;
	b->refs = 1;
	pthread_mutex_init(&b->lock, NULL);
	/* The deadline is on the monotonic clock; so is the wait, so a clock change cannot stretch it. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->changed, &ca);
	pthread_condattr_destroy(&ca);
	return b;
}

static size_t batch_start(struct probe_batch *b, int parallel)
{
	size_t want = b->nrunnable < (size_t)parallel ? b->nrunnable : (size_t)parallel;

	if ((b->workers = calloc(want, sizeof *b->workers)) == NULL)
		return 0;
	for (; b->nworkers < want; b->nworkers++) {
		struct probe_worker_slot *slot = &b->workers[b->nworkers];

		slot->b = b;
		pthread_mutex_lock(&b->lock);
		b->refs++;
		pthread_mutex_unlock(&b->lock);
		if (pthread_create(&slot->thread, NULL, probe_worker, slot) != 0) {
			pthread_mutex_lock(&b->lock);
			b->refs--;
			pthread_mutex_unlock(&b->lock);
			break;
		}
	}
	return b->nworkers;
}

/* The caller leaves (the lock held, nothing new will begin): a worker between probes is about to
 * end and is joined, so a program that exits next leaves no thread behind; one still in a probe is
 * detached, and its own wait ends it about a second after the deadline at most. */
static void batch_leave(struct probe_batch *b)
{
	size_t i, n = b->nworkers;
	int *join = calloc(n ? n : 1, sizeof *join);

	for (i = 0; i < n; i++)
		if (join)
			join[i] = !b->workers[i].busy;
	pthread_mutex_unlock(&b->lock);
	for (i = 0; i < n; i++) {
		if (join && join[i])
			pthread_join(b->workers[i].thread, NULL);
		else
			pthread_detach(b->workers[i].thread);
	}
	free(join);
}

/* What a probe caught by the deadline was waiting for. Under STARTTLS the TLS step holds the
 * greeting and the first EHLO too (session.h). */
static const char *probe_waiting_for(const struct setup_probe *p, enum setup_probe_step step)
{
	if (step == SETUP_PROBE_CONNECT)
		return "connecting";
	if (step == SETUP_PROBE_EHLO)
		return p->security == SETUP_SECURITY_TLS ? "the greeting and EHLO" : "EHLO after STARTTLS";
	return p->security == SETUP_SECURITY_TLS ? "the TLS handshake" : "the greeting, EHLO and STARTTLS";
}

/* A probe the deadline caught: which step it was in, and for how long it was waited. */
static void probe_unanswered(struct setup_probe *p, enum setup_probe_step under_way, int begun, long long waited)
{
	p->state = SETUP_PROBE_NO_ANSWER;
	p->step = under_way;
	if (begun)
		snprintf(p->error, sizeof p->error, "no answer from %s port %d within %lld.%lld s (%s)", p->host,
			 p->port, waited / 1000, waited % 1000 / 100, probe_waiting_for(p, under_way));
	else
		snprintf(p->error, sizeof p->error, "not probed: the deadline passed before its turn");
}

int setup_probe_run(outbox *h, const struct setup_candidates *list, const struct setup_probe_options *o,
		    struct setup_probes *out)
{
	struct timespec until = {o->deadline_ms / 1000, (o->deadline_ms % 1000) * 1000000};
	long long started = net_now_ms();
	struct probe_batch *b;
	char tls_ca[4200] = "";
	size_t i;
	int rc;

	memset(out, 0, sizeof *out);
	/* The CA file is checked here, once, as the server field checks it: one line naming it. */
	if (o->tls_ca && *o->tls_ca) {
		outbox_server *check = outbox_server_new();

		if (check == NULL)
			return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
		rc = outbox_server_set(h, check, OUTBOX_SERVER_TLS_CA, o->tls_ca);
		if (rc == 0)
			snprintf(tls_ca, sizeof tls_ca, "%s", outbox_server_get(check, OUTBOX_SERVER_TLS_CA));
		outbox_server_free(check);
		if (rc < 0)
			return rc;
	}
	if ((rc = probes_plan(h, list, out)) < 0)
		return rc;
	if (out->n == 0)
		return 0;
	if ((b = batch_new(out, o, tls_ca)) == NULL) {
		setup_probes_free(out);
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	if (b->nrunnable > 0 && batch_start(b, o->parallel > 0 ? o->parallel : SETUP_PROBE_PARALLEL) == 0) {
		batch_release(b);
		setup_probes_free(out);
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "cannot start a thread to probe with: %s", strerror(errno));
	}
	pthread_mutex_lock(&b->lock);
	/* Every result, then every QUIT (session_close waits 2 s at most), but nothing past the
	 * deadline: a worker left closing is detached like one left probing. */
	while ((b->finished < b->nrunnable || b->busy > 0) &&
	       pthread_cond_timedwait(&b->changed, &b->lock, &until) != ETIMEDOUT)
		;
	b->abandoned = 1;
	for (i = 0; i < b->nrunnable; i++) {
		size_t k = b->runnable[i];

		out->v[k] = b->v[k];
		if (!b->done[k])
			probe_unanswered(&out->v[k], b->under_way[k], i < b->next, net_now_ms() - started);
	}
	batch_leave(b);
	batch_release(b);
	return 0;
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
