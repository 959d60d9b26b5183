/* setup_sources.c: the lookups of `outbox setup`, each source in a thread of its own under one
 * deadline (autoconfig, well-known, ISPDB, SRV, MX then the ISPDB for its domains), each report
 * and its candidates handed to the caller as they come, and all of it in the sources' order at the end. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoconfig_fetch.h"
#include "handle_internal.h"
#include "net.h"
#include "setup_dns.h"
#include "setup_sources.h"
#include "setup_threads.h"

enum sources_kind { SOURCES_HTTPS, SOURCES_SRV, SOURCES_MX };

/* One source's lookup: a thread writes only here, through a handle of its own. */
struct sources_job {
	struct setup_sources *all;
	enum sources_kind kind;
	enum setup_source source; /* SOURCES_HTTPS: which URL */
	const struct setup_discover_options *o;
	const char *domain;
	long long deadline_ms;
	outbox h;
	int rc;
	struct setup_candidates list;
	size_t nreports;
	struct setup_report reports[1 + 1 + SETUP_DISCOVER_MX_DOMAINS];
	char pin_host[256];               /* the pinned host, and its addresses through --resolver */
	struct setup_addresses addresses;
	struct http_pin pins[2 * DNS_MAX_RECORDS];
	pthread_t thread;
	int started;      /* the caller's: a thread was started, to join or detach */
	int holds_ref;    /* set before the thread starts: it lets go of the sources when it ends */
	/* Under the sources' lock: how much of reports and list the caller may read, and whether
	 * the lookup has ended; and how much of it the caller has taken. */
	size_t nreports_out, ncandidates_out, reports_taken, candidates_taken;
	int done;
};

/* autoconfig, well-known, ISPDB, SRV, MX: the sources that need a lookup, in their order. */
#define SOURCES_JOBS 5

/* The caller holds one reference until it finishes or abandons the lookups, each running thread
 * one; the last to let go frees it all. The threads read only the copies kept here, so a caller
 * that abandons them may free its options and return while they still wait. */
struct setup_sources {
	pthread_mutex_t lock; /* the jobs' published counts and done flags, refs, abandoned */
	int refs;
	int abandoned;        /* the caller has gone: post nothing to its signal */
	struct setup_signal *signal;
	struct setup_discover_options o; /* the caller's, with the copies below in place of its strings */
	struct dns_resolver resolver;
	char *address, *ispdb, *tls_ca;
	char domain[256];
	struct sources_job jobs[SOURCES_JOBS];
};

static void sources_release(struct setup_sources *s)
{
	size_t i;
	int last;

	pthread_mutex_lock(&s->lock);
	last = --s->refs == 0;
	pthread_mutex_unlock(&s->lock);
	if (!last)
		return;
	for (i = 0; i < SOURCES_JOBS; i++)
		setup_candidates_free(&s->jobs[i].list);
	pthread_mutex_destroy(&s->lock);
	free(s->address);
	free(s->ispdb);
	free(s->tls_ca);
	free(s);
}

static int sources_resolver_given(const struct setup_discover_options *o)
{
	return o->resolver && o->resolver->given;
}

/* The one place an HTTPS lookup's host is pinned or not, for its first URL and every redirect's:
 * with --resolver, the host the URL names (as libcurl parses it) is looked up there and pinned,
 * so libcurl connects where that server said and asks no other; an IP literal needs no pin;
 * without --resolver, the system resolves it. */
static int sources_pin(void *ctx, outbox *h, const char *url, const struct http_pin **pins, size_t *n)
{
	struct sources_job *j = ctx;
	size_t i;
	int rc;

	*pins = j->pins;
	*n = 0;
	if (!sources_resolver_given(j->o))
		return 0;
	if ((rc = http_url_host(h, url, j->pin_host, sizeof j->pin_host)) < 0)
		return rc;
	if (j->pin_host[0] == '\0' || net_ip_literal(j->pin_host, NULL))
		return 0;
	if ((rc = setup_dns_addresses(h, j->o->resolver, j->pin_host, j->deadline_ms, &j->addresses)) < 0)
		return rc;
	for (i = 0; i < j->addresses.n && i < sizeof j->pins / sizeof j->pins[0]; i++) {
		j->pins[i].host = j->pin_host;
		j->pins[i].address = j->addresses.v[i].name;
	}
	*n = i;
	return 0;
}

/* Let the caller see the job's reports and candidates so far (the reports stamped with the time
 * they came), and with `done` that the lookup has ended; then wake it. `found` joins the job's
 * list here, under the lock, so the caller never reads a list that is growing. */
static void sources_publish(struct sources_job *j, struct setup_candidates *found, int done)
{
	struct setup_sources *s = j->all;
	long long now = net_now_ms();
	size_t k;

	pthread_mutex_lock(&s->lock);
	for (k = 0; found && k < found->n && j->rc == 0; k++)
		j->rc = setup_candidates_add(&j->h, &j->list, &found->v[k]);
	for (k = j->nreports_out; k < j->nreports; k++)
		j->reports[k].done_at = now;
	j->nreports_out = j->nreports;
	j->ncandidates_out = j->list.n;
	j->done = done;
	if (!s->abandoned) /* under the lock: an abandoning caller destroys its signal after setting it */
		setup_signal_post(s->signal);
	pthread_mutex_unlock(&s->lock);
}

/* Ask one HTTPS source (the ISPDB for `domain` when source is SETUP_SOURCE_MX), into the job's
 * next report, and publish what it found. */
static void sources_fetch(struct sources_job *j, enum setup_source source, const char *domain)
{
	struct autoconfig_fetch f = {0};
	struct setup_report *report = &j->reports[j->nreports];
	struct setup_candidates found = {0};

	f.address = j->o->address;
	f.ispdb = j->o->ispdb;
	f.ca_file = j->o->tls_ca;
	f.deadline_ms = j->deadline_ms;
	f.oauth_usable = j->o->login == SETUP_LOGIN_OAUTH;
	f.pin = sources_pin;
	f.pin_ctx = j;
	j->nreports++; /* always filled: a domain it cannot ask (an MX's) is that lookup's "failed" */
	j->rc = autoconfig_fetch(&j->h, &f, source, domain, &found, report);
	sources_publish(j, &found, 0);
	setup_candidates_free(&found);
}

static void *sources_thread(void *arg)
{
	struct sources_job *j = arg;
	struct setup_mx mx;
	char domains[SETUP_DISCOVER_MX_DOMAINS][DNS_NAME_SIZE];
	size_t n, i;

	switch (j->kind) {
	case SOURCES_HTTPS:
		sources_fetch(j, j->source, NULL);
		break;
	case SOURCES_SRV:
		j->rc = setup_dns_srv(&j->h, j->o->resolver, j->domain, j->deadline_ms, &j->list, j->reports);
		/* Filled now when it worked (a failure fills none: the run fails with its error);
		 * the caller reads none of it before the publication below. */
		j->nreports = j->rc == 0 ? 2 : 0;
		break;
	case SOURCES_MX:
		j->rc = setup_dns_mx(&j->h, j->o->resolver, j->domain, j->deadline_ms, &mx, &j->reports[0]);
		j->nreports = j->rc == 0 ? 1 : 0;
		if (j->rc < 0 || j->reports[0].outcome != SETUP_FOUND)
			break;
		sources_publish(j, NULL, 0); /* the MX record, before its domains are asked */
		n = setup_dns_mx_domains(&mx, domains, SETUP_DISCOVER_MX_DOMAINS);
		for (i = 0; i < n && j->rc == 0; i++)
			/* The ISPDB was asked for the domain itself already. */
			if (strcmp(domains[i], j->domain) != 0)
				sources_fetch(j, SETUP_SOURCE_MX, domains[i]);
		break;
	}
	sources_publish(j, NULL, 1);
	if (j->holds_ref) {
		sources_release(j->all);
		setup_threads_leave();
	}
	return NULL;
}

/* Keep what the threads read for as long as they need it: a caller may abandon them. */
static int sources_copy(struct setup_sources *s, const struct setup_discover_options *o, const char *domain)
{
	s->o = *o;
	s->o.password = s->o.username = NULL; /* a lookup needs no secret */
	s->o.progress = NULL;
	s->o.ctx = NULL;
	if (o->resolver) {
		s->resolver = *o->resolver;
		s->o.resolver = &s->resolver;
	}
	s->o.address = s->address = o->address ? strdup(o->address) : NULL;
	s->o.ispdb = s->ispdb = o->ispdb ? strdup(o->ispdb) : NULL;
	s->o.tls_ca = s->tls_ca = o->tls_ca ? strdup(o->tls_ca) : NULL;
	snprintf(s->domain, sizeof s->domain, "%s", domain);
	return (o->address && !s->address) || (o->ispdb && !s->ispdb) || (o->tls_ca && !s->tls_ca) ? -1 : 0;
}

int setup_sources_start(outbox *h, const struct setup_discover_options *o, const char *domain,
			long long deadline_ms, struct setup_signal *signal, struct setup_sources **out)
{
	static const struct {
		enum sources_kind kind;
		enum setup_source source;
	} plan[] = {{SOURCES_HTTPS, SETUP_SOURCE_AUTOCONFIG},
		    {SOURCES_HTTPS, SETUP_SOURCE_WELL_KNOWN},
		    {SOURCES_HTTPS, SETUP_SOURCE_ISPDB},
		    {SOURCES_SRV, SETUP_SOURCE_SRV},
		    {SOURCES_MX, SETUP_SOURCE_MX}};
	struct setup_sources *s = calloc(1, sizeof *s);
	size_t i;

	*out = NULL;
	if (s == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	pthread_mutex_init(&s->lock, NULL);
	s->refs = 1;
	s->signal = signal;
	if (sources_copy(s, o, domain) < 0) {
		sources_release(s);
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	for (i = 0; i < SOURCES_JOBS; i++) {
		struct sources_job *j = &s->jobs[i];

		j->all = s;
		j->kind = plan[i].kind;
		j->source = plan[i].source;
		j->o = &s->o;
		j->domain = s->domain;
		j->deadline_ms = deadline_ms;
		pthread_mutex_lock(&s->lock);
		s->refs++; /* the thread's, taken before it can let go of it */
		pthread_mutex_unlock(&s->lock);
		j->holds_ref = 1;
		setup_threads_enter();
		j->started = pthread_create(&j->thread, NULL, sources_thread, j) == 0;
		if (!j->started) { /* no thread to spare: ask it here */
			j->holds_ref = 0;
			setup_threads_not_started();
			sources_release(s);
			sources_thread(j);
		}
	}
	*out = s;
	return 0;
}

size_t setup_sources_take(outbox *h, struct setup_sources *s, struct setup_report *reports, size_t max,
			  struct setup_candidates *fresh, int *rc)
{
	size_t i, k, n = 0;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < SOURCES_JOBS; i++) {
		struct sources_job *j = &s->jobs[i];

		for (; j->reports_taken < j->nreports_out && n < max; j->reports_taken++)
			reports[n++] = j->reports[j->reports_taken];
		for (k = j->candidates_taken; k < j->ncandidates_out && *rc == 0; k++)
			*rc = setup_candidates_add(h, fresh, &j->list.v[k]);
		j->candidates_taken = j->ncandidates_out;
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

int setup_sources_done(struct setup_sources *s)
{
	size_t i;
	int done = 1;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < SOURCES_JOBS; i++)
		done = done && s->jobs[i].done;
	pthread_mutex_unlock(&s->lock);
	return done;
}

int setup_sources_finish(outbox *h, struct setup_sources *s, struct setup_discovery *d)
{
	size_t i, k;
	int rc = 0;

	/* Each lookup ends by the deadline on its own (libcurl's and the DNS waits are cut to it). */
	for (i = 0; i < SOURCES_JOBS; i++)
		if (s->jobs[i].started)
			pthread_join(s->jobs[i].thread, NULL);
	/* The sources' order, each source's own order kept: the chooser's tie-breaks see them so. */
	for (i = 0; i < SOURCES_JOBS; i++) {
		struct sources_job *j = &s->jobs[i];

		if (rc == 0 && j->rc < 0) {
			struct outbox_error_copy e;

			outbox_error_save(&j->h, &e);
			outbox_error_restore(h, &e);
			rc = j->rc;
		}
		for (k = 0; k < j->nreports && d->nreports < SETUP_DISCOVER_MAX_REPORTS; k++)
			d->reports[d->nreports++] = j->reports[k];
		for (k = 0; rc == 0 && k < j->list.n; k++)
			rc = setup_candidates_add(h, &d->candidates, &j->list.v[k]);
	}
	sources_release(s);
	return rc;
}

void setup_sources_abandon(struct setup_sources *s)
{
	size_t i;

	pthread_mutex_lock(&s->lock);
	s->abandoned = 1;
	pthread_mutex_unlock(&s->lock);
	for (i = 0; i < SOURCES_JOBS; i++)
		if (s->jobs[i].started)
			pthread_detach(s->jobs[i].thread);
	sources_release(s);
}
