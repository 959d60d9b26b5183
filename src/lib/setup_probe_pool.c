/* setup_probe_pool.c: the probes of `outbox setup` as a queue the discovery fills while its
 * lookups still run: each distinct server once, at most a few threads, a deadline per probe, and
 * each verdict posted to the caller's signal so it is reported on the caller's thread. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "handle_internal.h"
#include "net.h"
#include "session.h"
#include "setup_probe_pool.h"
#include "setup_threads.h"
#include "validate.h"

enum entry_state { ENTRY_QUEUED, ENTRY_RUNNING, ENTRY_FINISHED };

/* One distinct (host, port, security) asked for. Its verdict comes from the worker that ran it, or
 * from the caller once its deadline passed; whichever is first stands. */
struct pool_entry {
	struct setup_probe p;             /* what it learnt so far, then the verdict */
	enum setup_probe_step under_way;  /* so a probe given up on says where it waited */
	enum entry_state state;
	int verdict, taken;
	long long added_at, deadline_ms;
};

struct pool_worker {
	struct setup_probe_pool *pool;
	pthread_t thread;
	int busy; /* in a probe, or closing one (QUIT) */
	/* Made before the thread starts, so a worker that exists can always work: the worker's own. */
	outbox *h;
	struct probe_run *run;
};

/* Everything below `lock` is read and written under it. The caller holds one reference until
 * setup_probe_pool_finish, each worker one; the last to let go frees the pool. */
struct setup_probe_pool {
	pthread_mutex_t lock;
	pthread_cond_t changed; /* work queued, the pool closed, a worker idle again */
	int refs;
	int closed;             /* the caller has finished: begin nothing new, post nothing */
	struct pool_entry *v;
	size_t n, cap, next;    /* entries are begun in the order they were added */
	struct pool_worker *workers;
	size_t nworkers, maxworkers, waiting, busy;
	struct setup_signal *signal;
	char tls_ca[4200];
	struct dns_resolver resolver;
};

static void pool_release(struct setup_probe_pool *pool)
{
	int last;

	pthread_mutex_lock(&pool->lock);
	last = --pool->refs == 0;
	pthread_mutex_unlock(&pool->lock);
	if (!last)
		return;
	pthread_cond_destroy(&pool->changed);
	pthread_mutex_destroy(&pool->lock);
	free(pool->v);
	free(pool->workers);
	free(pool);
}

/* --- one probe ---------------------------------------------------------------------------- */

/* A probe under way on a worker: its own copy of the result, filled as the session reports. */
struct probe_run {
	struct setup_probe_pool *pool;
	size_t index;
	struct setup_probe p;
	long long deadline_ms, step_started;
	outbox_server *server; /* the draft the session was opened on */
};

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
	struct pool_entry *e;

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
	/* So a probe the caller gives up on says which step it was waiting in, and what it learnt. */
	pthread_mutex_lock(&r->pool->lock);
	e = &r->pool->v[r->index];
	if (!e->verdict) {
		e->under_way = next;
		e->p = r->p;
	}
	pthread_mutex_unlock(&r->pool->lock);
}

/* Connect, TLS, EHLO: everything but a login. The session, when it opened, is the caller's to
 * close (QUIT) once the result is out: a server slow to answer QUIT has answered the probe. */
static struct session *probe_one(outbox *h, struct probe_run *r)
{
	struct setup_probe_pool *pool = r->pool;
	struct session *sess = NULL;
	outbox_server *srv;
	int rc;

	r->p.connect_ms = r->p.tls_ms = r->p.ehlo_ms = -1;
	r->p.step = SETUP_PROBE_CONNECT;
	r->step_started = net_now_ms();
	outbox_clear_error(h);
	srv = setup_probe_server(h, r->p.host, r->p.port, r->p.security, "none", "",
				 pool->tls_ca[0] ? pool->tls_ca : NULL, r->deadline_ms);
	rc = srv ? setup_probe_open(h, srv, NULL, &pool->resolver, r->deadline_ms, probe_on_step, r, &sess)
		 : OUTBOX_EINVALID; /* the handle says which value */
	if (rc == OUTBOX_ETEMPFAIL && net_now_ms() >= r->deadline_ms) {
		/* The deadline cut the step short (a DNS wait or a connect ends there): unanswered, in
		 * the words the caller's give-up uses, whichever side sees the deadline first. */
		setup_probe_unanswered(&r->p, r->p.step, 1, net_now_ms() - r->p.began_at);
		r->p.rc = rc;
	} else if (rc < 0) {
		r->p.state = SETUP_PROBE_FAILED;
		r->p.rc = rc;
		snprintf(r->p.error, sizeof r->p.error, "%s", outbox_errmsg(h));
	} else {
		r->p.state = SETUP_PROBE_OK;
	}
	r->server = srv; /* the session uses it until it is closed */
	return sess;
}

/* The next entry whose turn has come in time, marked running; SIZE_MAX when the pool closed. Called
 * and returns with the lock held. */
static size_t worker_next(struct setup_probe_pool *pool)
{
	for (;;) {
		struct pool_entry *e;

		while (!pool->closed && pool->next == pool->n) {
			pool->waiting++;
			pthread_cond_wait(&pool->changed, &pool->lock);
			pool->waiting--;
		}
		if (pool->closed)
			return SIZE_MAX;
		e = &pool->v[pool->next++];
		/* Its deadline passed before its turn: the caller says so; nothing is begun that late. */
		if (e->verdict || net_now_ms() >= e->deadline_ms)
			continue;
		e->state = ENTRY_RUNNING;
		e->p.began_at = net_now_ms();
		return pool->next - 1;
	}
}

static void *pool_worker(void *arg)
{
	struct pool_worker *slot = arg;
	struct setup_probe_pool *pool = slot->pool;
	outbox *h = slot->h; /* a handle of its own: errors are per thread */
	struct probe_run *r = slot->run;
	struct session *sess;
	size_t index;

	pthread_mutex_lock(&pool->lock);
	while ((index = worker_next(pool)) != SIZE_MAX) {
		struct pool_entry *e = &pool->v[index];

		memset(r, 0, sizeof *r);
		r->pool = pool;
		r->index = index;
		r->p = e->p;
		r->deadline_ms = e->deadline_ms;
		slot->busy = 1;
		pool->busy++;
		pthread_mutex_unlock(&pool->lock);

		sess = probe_one(h, r);

		pthread_mutex_lock(&pool->lock);
		e = &pool->v[index]; /* the caller may have grown the array meanwhile */
		e->state = ENTRY_FINISHED;
		if (!e->verdict) {
			e->p = r->p;
			e->p.done_at = net_now_ms();
			e->verdict = 1;
			if (!pool->closed)
				setup_signal_post(pool->signal);
		}
		pthread_mutex_unlock(&pool->lock);

		session_close(h, sess); /* still busy: a caller finishing now does not wait for QUIT */
		outbox_server_free(r->server);
		pthread_mutex_lock(&pool->lock);
		slot->busy = 0;
		pool->busy--;
		pthread_cond_broadcast(&pool->changed);
	}
	pthread_mutex_unlock(&pool->lock);
	free(r);
	free(h);
	pool_release(pool);
	setup_threads_leave();
	return NULL;
}

/* --- the caller's side ---------------------------------------------------------------------- */

int setup_probe_pool_new(outbox *h, const struct setup_probe_options *o, struct setup_signal *signal,
			 struct setup_probe_pool **out)
{
	struct setup_probe_pool *pool;
	pthread_condattr_t ca;
	size_t parallel = o->parallel > 0 ? (size_t)o->parallel : SETUP_PROBE_PARALLEL;

	*out = NULL;
	if ((pool = calloc(1, sizeof *pool)) == NULL ||
	    (pool->workers = calloc(parallel, sizeof *pool->workers)) == NULL) {
		free(pool);
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	/* The CA file is checked here, once, as the server field checks it: one line naming it. */
	if (o->tls_ca && *o->tls_ca) {
		outbox_server *check = outbox_server_new();
		int rc = check ? outbox_server_set(h, check, OUTBOX_SERVER_TLS_CA, o->tls_ca)
			       : outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");

		if (rc == 0)
			snprintf(pool->tls_ca, sizeof pool->tls_ca, "%s", outbox_server_get(check, OUTBOX_SERVER_TLS_CA));
		outbox_server_free(check);
		if (rc < 0) {
			free(pool->workers);
			free(pool);
			return rc;
		}
	}
	if (o->resolver)
		pool->resolver = *o->resolver;
	pool->maxworkers = parallel;
	pool->signal = signal;
	pool->refs = 1;
	pthread_mutex_init(&pool->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&pool->changed, &ca);
	pthread_condattr_destroy(&ca);
	*out = pool;
	return 0;
}

static int pool_same(const struct setup_probe *p, const char *host, int port, enum setup_security security)
{
	return p->port == port && p->security == security && strcasecmp(p->host, host) == 0;
}

/* A worker for the new entry: an idle one is woken, else one more is started while the bound
 * allows; else it waits its turn. Called with the lock held. */
static int pool_staff(outbox *h, struct setup_probe_pool *pool)
{
	struct pool_worker *slot;

	/* An idle worker takes one entry; entries queued faster than idle workers wake (a source
	 * names several servers at once) need more workers, up to the bound. */
	pthread_cond_broadcast(&pool->changed);
	if (pool->n - pool->next <= pool->waiting || pool->nworkers == pool->maxworkers)
		return 0;
	slot = &pool->workers[pool->nworkers];
	slot->pool = pool;
	slot->h = calloc(1, sizeof *slot->h);
	slot->run = malloc(sizeof *slot->run);
	pool->refs++;
	setup_threads_enter();
	if (slot->h == NULL || slot->run == NULL || pthread_create(&slot->thread, NULL, pool_worker, slot) != 0) {
		setup_threads_not_started();
		free(slot->h);
		free(slot->run);
		slot->h = NULL;
		slot->run = NULL;
		pool->refs--;
		if (pool->nworkers == 0)
			return outbox_fail(h, OUTBOX_ENOMEM, NULL, "cannot start a thread to probe with: %s",
					   strerror(errno));
		return 0; /* the ones there are will get to it */
	}
	pool->nworkers++;
	return 0;
}

int setup_probe_pool_add(outbox *h, struct setup_probe_pool *pool, const char *host, int port,
			 enum setup_security security, long long deadline_ms)
{
	struct pool_entry *e;
	size_t i;
	int rc = 0;

	pthread_mutex_lock(&pool->lock);
	for (i = 0; i < pool->n; i++)
		if (pool_same(&pool->v[i].p, host, port, security))
			goto out;
	if (pool->n == pool->cap) {
		size_t cap = pool->cap ? pool->cap * 2 : 16;
		struct pool_entry *v = realloc(pool->v, cap * sizeof *v);

		if (v == NULL) {
			rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
			goto out;
		}
		pool->v = v;
		pool->cap = cap;
	}
	e = &pool->v[pool->n];
	memset(e, 0, sizeof *e);
	snprintf(e->p.host, sizeof e->p.host, "%s", host);
	e->p.port = port;
	e->p.security = security;
	e->p.connect_ms = e->p.tls_ms = e->p.ehlo_ms = -1;
	e->p.began_at = e->p.done_at = -1;
	e->added_at = net_now_ms();
	e->deadline_ms = deadline_ms;
	pool->n++;
	if ((rc = pool_staff(h, pool)) < 0)
		pool->n--;
out:
	pthread_mutex_unlock(&pool->lock);
	return rc;
}

/* The caller's verdict on a probe the deadline caught. Called with the lock held. */
static void pool_give_up(struct pool_entry *e, long long now)
{
	/* Waited since it began (a probe may have waited its turn first), as the progress says it. */
	setup_probe_unanswered(&e->p, e->under_way, e->state != ENTRY_QUEUED,
			       now - (e->p.began_at >= 0 ? e->p.began_at : e->added_at));
	e->p.done_at = now;
	e->verdict = 1;
}

int setup_probe_pool_take(struct setup_probe_pool *pool, long long now, struct setup_probe *out)
{
	size_t i;
	int found = 0;

	pthread_mutex_lock(&pool->lock);
	for (i = 0; i < pool->n && !found; i++) {
		struct pool_entry *e = &pool->v[i];

		if (e->taken)
			continue;
		if (!e->verdict && now >= e->deadline_ms)
			pool_give_up(e, now);
		if (e->verdict) {
			e->taken = 1;
			*out = e->p;
			found = 1;
		}
	}
	pthread_mutex_unlock(&pool->lock);
	return found;
}

size_t setup_probe_pool_pending(struct setup_probe_pool *pool, long long *next_deadline)
{
	size_t i, n = 0;

	*next_deadline = LLONG_MAX;
	pthread_mutex_lock(&pool->lock);
	for (i = 0; i < pool->n; i++)
		if (!pool->v[i].taken) {
			n++;
			if (pool->v[i].deadline_ms < *next_deadline)
				*next_deadline = pool->v[i].deadline_ms;
		}
	pthread_mutex_unlock(&pool->lock);
	return n;
}

/* Close the pool (the lock held): nothing new begins and nothing more is posted. A worker between
 * probes is about to end and is joined, so a program that exits next leaves no thread behind; one
 * still in a probe is detached, and its own waits end it soon after its deadline. */
static void pool_close(struct setup_probe_pool *pool)
{
	size_t i, n = pool->nworkers;
	int *join = calloc(n ? n : 1, sizeof *join);

	pool->closed = 1;
	pthread_cond_broadcast(&pool->changed);
	for (i = 0; i < n; i++)
		if (join)
			join[i] = !pool->workers[i].busy;
	pthread_mutex_unlock(&pool->lock);
	for (i = 0; i < n; i++) {
		if (join && join[i])
			pthread_join(pool->workers[i].thread, NULL);
		else
			pthread_detach(pool->workers[i].thread);
	}
	free(join);
}

int setup_probe_pool_finish(outbox *h, struct setup_probe_pool *pool, long long until_ms,
			    const struct setup_candidates *list, struct setup_probes *out)
{
	struct timespec until;
	long long now;
	size_t i, k;
	int rc;

	if (until_ms < 0) /* a negative time is no moment to wait for: do not wait */
		until_ms = 0;
	until.tv_sec = (time_t)(until_ms / 1000);
	until.tv_nsec = (long)(until_ms % 1000) * 1000000;
	pthread_mutex_lock(&pool->lock);
	/* Every QUIT (session_close waits 2 s at most), but nothing past until_ms: a worker left
	 * closing is detached like one left probing. Any answer but a wake-up (the time is up, or an
	 * error) ends the wait: looping on it would hold the lock the workers need. */
	while (pool->busy > 0 && pthread_cond_timedwait(&pool->changed, &pool->lock, &until) == 0)
		;
	now = net_now_ms();
	for (i = 0; i < pool->n; i++)
		if (!pool->v[i].verdict)
			pool_give_up(&pool->v[i], now);
	if ((rc = setup_probes_plan(h, list, out)) == 0)
		for (k = 0; k < out->n; k++) {
			struct setup_probe *p = &out->v[k];

			if (p->state == SETUP_PROBE_SKIPPED)
				continue;
			for (i = 0; i < pool->n && !pool_same(&pool->v[i].p, p->host, p->port, p->security); i++)
				;
			if (i == pool->n) { /* never asked for: a caller that stopped early */
				setup_probe_unanswered(p, SETUP_PROBE_CONNECT, 0, 0);
				continue;
			}
			/* The verdict, under the host's spelling of the candidate that named it first. */
			char host[sizeof p->host];
			memcpy(host, p->host, sizeof host);
			*p = pool->v[i].p;
			memcpy(p->host, host, sizeof host);
		}
	pool_close(pool); /* unlocks */
	pool_release(pool);
	return rc;
}
