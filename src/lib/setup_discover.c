/* setup_discover.c: the discovery run of `outbox setup`: every source's lookup in a thread and the
 * guesses' probes at once, each source's servers probed as soon as it answers, every result told
 * to the caller's progress on its own thread; then choose, and verify the login. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoconfig_fetch.h"
#include "buf.h"
#include "handle_internal.h"
#include "net.h"
#include "setup_address.h"
#include "setup_discover.h"
#include "setup_probe_pool.h"
#include "setup_signal.h"
#include "setup_sources.h"
#include "validate.h"

const char *setup_discover_outcome_word(enum setup_outcome o)
{
	static const char *const words[] = {"found", "not offered", "no answer", "failed"};

	return words[o];
}

/* smtp.DOMAIN, mail.DOMAIN, DOMAIN, each on 465 (tls) and 587 (starttls): what people try. */
static int discover_guesses(outbox *h, const char *domain, struct setup_candidates *list,
			    struct setup_report *report)
{
	static const char *const prefixes[] = {"smtp.", "mail.", ""};
	struct setup_candidate c;
	size_t i, k;
	int rc;

	memset(report, 0, sizeof *report);
	report->source = SETUP_SOURCE_GUESS;
	/* Shown only: a domain near DNS's 253 characters is shown cut, three times over. */
	snprintf(report->what, sizeof report->what, "smtp.%.90s, mail.%.90s, %.90s on 465 and 587", domain,
		 domain, domain);
	report->outcome = SETUP_FOUND;
	for (i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		for (k = 0; k < 2; k++) {
			memset(&c, 0, sizeof c);
			snprintf(c.host, sizeof c.host, "%s%s", prefixes[i], domain);
			c.port = k == 0 ? 465 : 587;
			c.security = k == 0 ? SETUP_SECURITY_TLS : SETUP_SECURITY_STARTTLS;
			c.source = SETUP_SOURCE_GUESS;
			snprintf(c.origin, sizeof c.origin, "a guess");
			c.rank = (int)(2 * i + k);
			if (strlen(c.host) >= sizeof c.host - 1)
				continue; /* "smtp." made it too long: no such host can exist */
			if ((rc = setup_candidates_add(h, list, &c)) < 0)
				return rc;
		}
	snprintf(report->detail, sizeof report->detail, "%zu servers to probe", list->n);
	return 0;
}

static int discover_say(const struct setup_discover_options *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One line of progress for the caller, on its thread; its answer: nonzero when it wants the run
 * stopped. Every discover_say* returns it. */
static int discover_say(const struct setup_discover_options *o, const char *fmt, ...)
{
	char words[1200];
	va_list ap;

	if (o->progress == NULL)
		return 0;
	va_start(ap, fmt);
	vsnprintf(words, sizeof words, fmt, ap);
	va_end(ap);
	return o->progress(o->ctx, words);
}

/* No line, only the question: does the caller want the run stopped? */
static int discover_ask(const struct setup_discover_options *o)
{
	return o->progress ? o->progress(o->ctx, NULL) : 0;
}

static int discover_cancelled(outbox *h)
{
	return outbox_fail(h, OUTBOX_ECANCELLED, NULL, "the setup was cancelled: nothing was saved");
}

/* A lookup's result, in the words of the explanation (setup_result.c and its printers), what
 * came of it first so that a line cut short on a screen still says it. */
static int discover_say_report(const struct setup_discover_options *o, const struct setup_report *r)
{
	return discover_say(o, "%s: %s%s%s (%lld ms; %s)", setup_choose_source_word(r->source),
			    setup_discover_outcome_word(r->outcome), r->detail[0] ? ": " : "", r->detail, r->ms, r->what);
}

/* A probe's verdict, in the words of the explanation: what it offered, or why it is not usable. */
static int discover_say_probe(const struct setup_discover_options *o, const struct setup_probe *p)
{
	const char *security = setup_probe_security_word(p->security);
	long long took = p->done_at - p->began_at;

	if (p->state == SETUP_PROBE_OK)
		return discover_say(o, "probed %s port %d %s: ok (%lld ms), AUTH %s, %s", p->host, p->port, security, took,
				    p->caps.auth[0] ? p->caps.auth : "none offered", p->tls[0] ? p->tls : "TLS");
	else if (p->state == SETUP_PROBE_FAILED)
		return discover_say(o, "probed %s port %d %s: failed at %s: %s", p->host, p->port, security,
				    setup_probe_step_word(p->step), p->error);
	else if (p->began_at >= 0)
		return discover_say(o, "probed %s port %d %s: no answer in %lld.%lld s (%s)", p->host, p->port,
				    security, took / 1000, took % 1000 / 100, setup_probe_waiting_word(p, p->step));
	else
		return discover_say(o, "probed %s port %d %s: %s", p->host, p->port, security, p->error);
}

/* What the caller's thread keeps while the lookups and probes run. */
struct discover_pipe {
	struct setup_signal signal;
	struct setup_sources *sources;
	struct setup_probe_pool *pool;
	long long timeout, last_deadline, last_verdict;
};

/* Ask the pool to probe each candidate but plain text (never chosen), each with the whole timeout
 * from now: a server a late source names gets as long as one named at once. */
static int discover_probe(outbox *h, struct discover_pipe *pp, const struct setup_candidates *list)
{
	long long deadline = net_now_ms() + pp->timeout;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < list->n; i++)
		if (list->v[i].security != SETUP_SECURITY_NONE) {
			rc = setup_probe_pool_add(h, pp->pool, list->v[i].host, list->v[i].port, list->v[i].security,
						  deadline);
			pp->last_deadline = deadline;
		}
	return rc;
}

/* Until every lookup has ended and every probe has its verdict: each report told and its servers
 * probed as it comes, each verdict told as it comes, sleeping in between (and asking the caller
 * whether to stop every SETUP_DISCOVER_TICK_MS when nothing came). OUTBOX_ECANCELLED as soon as
 * the caller says stop, before anything more is begun. */
static int discover_wait_all(outbox *h, const struct setup_discover_options *o, struct discover_pipe *pp)
{
	struct setup_report got[SETUP_DISCOVER_MAX_REPORTS];
	struct setup_candidates fresh = {0};
	struct setup_probe verdict;
	unsigned long seen = 0;
	long long next, tick;
	size_t n, said;
	int rc = 0, ended, stop = 0;

	for (;;) {
		ended = setup_sources_done(pp->sources); /* before the take: nothing it published is missed */
		n = setup_sources_take(h, pp->sources, got, SETUP_DISCOVER_MAX_REPORTS, &fresh, &rc);
		for (said = 0; said < n && !stop; said++)
			stop = discover_say_report(o, &got[said]);
		if (rc == 0 && !stop)
			rc = discover_probe(h, pp, &fresh);
		setup_candidates_free(&fresh);
		if (rc < 0)
			return rc;
		while (!stop && setup_probe_pool_take(pp->pool, net_now_ms(), &verdict)) {
			stop = discover_say_probe(o, &verdict);
			if (verdict.done_at > pp->last_verdict) /* verdicts come in list order, not end order */
				pp->last_verdict = verdict.done_at;
			said++;
		}
		if (!stop && said == 0)
			stop = discover_ask(o);
		if (stop)
			return discover_cancelled(h);
		if (setup_probe_pool_pending(pp->pool, &next) == 0 && ended)
			return 0;
		tick = net_now_ms() + SETUP_DISCOVER_TICK_MS; /* the caller is asked at least this often */
		setup_signal_wait(&pp->signal, &seen, next < tick ? next : tick);
	}
}

/* The lookups and the probes, overlapped: the guesses are probed at once, each source's servers as
 * soon as it answers. Then the reports and candidates in the sources' order (guesses last) and
 * each candidate's probe, as if the stages had run one after the other. */
static int discover_lookups_and_probes(outbox *h, const struct setup_discover_options *o,
				       struct setup_discovery *d, long long timeout)
{
	struct discover_pipe pp = {.timeout = timeout};
	struct setup_probe_options po = {0};
	struct setup_candidates guesses = {0};
	struct setup_report guess_report;
	long long start = d->started_at;
	size_t k;
	int rc, rc2;

	setup_signal_init(&pp.signal);
	po.tls_ca = o->tls_ca;
	po.resolver = o->resolver;
	pp.last_deadline = pp.last_verdict = start;
	if ((rc = setup_probe_pool_new(h, &po, &pp.signal, &pp.pool)) < 0)
		goto out;
	if ((rc = setup_sources_start(h, o, d->domain, start + timeout, &pp.signal, &pp.sources)) < 0)
		goto out;
	if ((rc = discover_guesses(h, d->domain, &guesses, &guess_report)) == 0) {
		guess_report.done_at = net_now_ms();
		rc = discover_say_report(o, &guess_report) ? discover_cancelled(h)
							   : discover_probe(h, &pp, &guesses);
	}
	if (rc == 0)
		rc = discover_wait_all(h, o, &pp);

out:
	/* A cancelled run waits for no lookup: each ends by the deadline on its own thread. */
	if (pp.sources && rc == OUTBOX_ECANCELLED)
		setup_sources_abandon(pp.sources);
	else if (pp.sources && (rc2 = setup_sources_finish(h, pp.sources, d)) < 0 && rc == 0)
		rc = rc2;
	if (rc == 0) {
		d->reports[d->nreports++] = guess_report;
		for (k = 0; rc == 0 && k < guesses.n; k++)
			rc = setup_candidates_add(h, &d->candidates, &guesses.v[k]);
	}
	for (k = 0; k < d->nreports; k++)
		if (d->reports[k].source != SETUP_SOURCE_GUESS && d->reports[k].done_at - start > d->lookups_ms)
			d->lookups_ms = d->reports[k].done_at - start;
	d->probes_ms = pp.last_verdict - start;
	/* On a failure, no QUIT is waited for: the pool only stops. */
	if (pp.pool && (rc2 = setup_probe_pool_finish(h, pp.pool,
						       rc == 0 ? pp.last_deadline + SETUP_PROBE_POOL_GRACE_MS : net_now_ms(),
						       &d->candidates, &d->probes)) < 0 && rc == 0)
		rc = rc2;
	setup_candidates_free(&guesses);
	setup_signal_destroy(&pp.signal);
	return rc;
}

/* Refuse what every source would refuse, before anything is asked. */
static int discover_check(outbox *h, const struct setup_discover_options *o, const char *domain)
{
	struct autoconfig_fetch f = {0};
	struct buf url = BUF_INIT;
	int rc;

	f.address = o->address;
	f.ispdb = o->ispdb;
	rc = autoconfig_fetch_url(h, &f, SETUP_SOURCE_ISPDB, domain, &url);
	buf_free(&url);
	if (rc == 0 && o->tls_ca)
		rc = validate_readable_file(h, "tls-ca", o->tls_ca);
	if (rc == 0 && o->login == SETUP_LOGIN_PASSWORD && (o->password == NULL || o->password[0] == '\0'))
		rc = outbox_fail(h, OUTBOX_EINVALID, "password", "is empty");
	return rc;
}

int setup_discover_run(outbox *h, const struct setup_discover_options *o, struct setup_discovery *d)
{
	struct setup_probe_options po = {0};
	long long timeout = o->timeout_ms > 0 ? o->timeout_ms : SETUP_DISCOVER_TIMEOUT_MS, start;
	int rc;

	memset(d, 0, sizeof *d);
	d->choice.winner = -1;
	d->login.candidate = -1;
	if ((rc = setup_address_domain(h, "address", o->address, d->domain, sizeof d->domain, NULL)) < 0 ||
	    (rc = discover_check(h, o, d->domain)) < 0)
		return rc;

	if (discover_say(o, "looking up the settings of %s...", d->domain))
		return discover_cancelled(h);
	d->started_at = net_now_ms();
	if ((rc = discover_lookups_and_probes(h, o, d, timeout)) < 0 ||
	    (rc = setup_choose(h, o->address, o->login, &d->candidates, &d->probes, &d->choice)) < 0)
		goto fail;

	if (d->choice.winner >= 0 && o->login == SETUP_LOGIN_PASSWORD) {
		/* The last chance to stop before the password is sent anywhere. */
		if (discover_say(o, "checking the login on %s...", d->candidates.v[d->choice.winner].host)) {
			rc = discover_cancelled(h);
			goto fail;
		}
		start = net_now_ms();
		po.tls_ca = o->tls_ca;
		po.resolver = o->resolver;
		po.deadline_ms = start + timeout;
		d->login_checked = 1;
		rc = setup_verify_choice(h, o->address, o->username, o->password, &d->candidates, &d->probes,
					 &d->choice, &po, &d->login);
		d->login_ms = net_now_ms() - start;
		if (rc < 0)
			return rc; /* what was tried stays for the explanation */
	}
	if (d->choice.winner < 0)
		return outbox_fail(h, OUTBOX_EUNAVAILABLE, NULL,
				   "no usable server found for %s: %zu lookups, %zu candidates, none usable",
				   d->domain, d->nreports, d->candidates.n);
	return 0;

fail:
	setup_discovery_free(d);
	return rc;
}

void setup_discovery_free(struct setup_discovery *d)
{
	setup_candidates_free(&d->candidates);
	setup_probes_free(&d->probes);
	setup_choice_free(&d->choice);
	d->nreports = 0;
	d->choice.winner = -1;
}
