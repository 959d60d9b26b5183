/* setup_discover.c: the discovery run of `outbox setup`: each source in a thread of its own under
 * one deadline, their candidates joined in the sources' order, then probe, choose and verify. */
#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoconfig_fetch.h"
#include "buf.h"
#include "handle_internal.h"
#include "net.h"
#include "setup_discover.h"
#include "setup_dns.h"
#include "validate.h"

enum discover_kind { DISCOVER_HTTPS, DISCOVER_SRV, DISCOVER_MX };

/* One source's lookup: a thread writes only here, through a handle of its own. */
struct discover_job {
	enum discover_kind kind;
	enum setup_source source; /* DISCOVER_HTTPS: which URL */
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
	int started;
};

const char *setup_discover_outcome_word(enum setup_outcome o)
{
	static const char *const words[] = {"found", "not offered", "no answer", "failed"};

	return words[o];
}

static int discover_resolver_given(const struct setup_discover_options *o)
{
	return o->resolver && o->resolver->given;
}

static int discover_is_ip(const char *host)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

/* The one place an HTTPS lookup's host is pinned or not, for its first URL and every redirect's:
 * with --resolver, the host the URL names (as libcurl parses it) is looked up there and pinned,
 * so libcurl connects where that server said and asks no other; an IP literal needs no pin;
 * without --resolver, the system resolves it. */
static int discover_pin(void *ctx, outbox *h, const char *url, const struct http_pin **pins, size_t *n)
{
	struct discover_job *j = ctx;
	size_t i;
	int rc;

	*pins = j->pins;
	*n = 0;
	if (!discover_resolver_given(j->o))
		return 0;
	if ((rc = http_url_host(h, url, j->pin_host, sizeof j->pin_host)) < 0)
		return rc;
	if (j->pin_host[0] == '\0' || discover_is_ip(j->pin_host))
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

/* Ask one HTTPS source (the ISPDB for `domain` when source is SETUP_SOURCE_MX), into the job's
 * next report. */
static void discover_fetch(struct discover_job *j, enum setup_source source, const char *domain)
{
	struct autoconfig_fetch f = {0};
	struct setup_report *report = &j->reports[j->nreports];
	struct buf url = BUF_INIT;

	f.address = j->o->address;
	f.ispdb = j->o->ispdb;
	f.ca_file = j->o->tls_ca;
	f.deadline_ms = j->deadline_ms;
	f.oauth_usable = j->o->login == SETUP_LOGIN_OAUTH;
	if ((j->rc = autoconfig_fetch_url(&j->h, &f, source, domain, &url)) < 0) {
		buf_free(&url);
		return;
	}
	f.pin = discover_pin;
	f.pin_ctx = j;
	j->nreports++; /* from here on the report is always filled */
	j->rc = autoconfig_fetch(&j->h, &f, source, domain, &j->list, report);
	buf_free(&url);
}

static void *discover_thread(void *arg)
{
	struct discover_job *j = arg;
	struct setup_mx mx;
	char domains[SETUP_DISCOVER_MX_DOMAINS][DNS_NAME_SIZE];
	size_t n, i;

	switch (j->kind) {
	case DISCOVER_HTTPS:
		discover_fetch(j, j->source, NULL);
		break;
	case DISCOVER_SRV:
		j->nreports = 2;
		j->rc = setup_dns_srv(&j->h, j->o->resolver, j->domain, j->deadline_ms, &j->list, j->reports);
		break;
	case DISCOVER_MX:
		j->nreports = 1;
		j->rc = setup_dns_mx(&j->h, j->o->resolver, j->domain, j->deadline_ms, &mx, &j->reports[0]);
		if (j->rc < 0 || j->reports[0].outcome != SETUP_FOUND)
			break;
		n = setup_dns_mx_domains(&mx, domains, SETUP_DISCOVER_MX_DOMAINS);
		for (i = 0; i < n && j->rc == 0; i++)
			/* The ISPDB was asked for the domain itself already. */
			if (strcmp(domains[i], j->domain) != 0)
				discover_fetch(j, SETUP_SOURCE_MX, domains[i]);
		break;
	}
	return NULL;
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

/* The address's domain, lowercased, checked as a host name. */
static int discover_domain(outbox *h, const char *address, char *out, size_t size)
{
	const char *at = address ? strrchr(address, '@') : NULL;
	size_t i;

	if (at == NULL || at == address || at[1] == '\0' || strlen(at + 1) >= size)
		return outbox_fail(h, OUTBOX_EINVALID, "address",
				   "\"%.300s\" is not an address: it needs a local part, \"@\" and a domain",
				   address ? address : "");
	for (i = 0; at[1 + i]; i++)
		out[i] = (char)tolower((unsigned char)at[1 + i]);
	out[i] = '\0';
	if (i > 0 && out[i - 1] == '.')
		out[i - 1] = '\0';
	if (validate_host(h, "address", out) < 0)
		return outbox_fail(h, OUTBOX_EINVALID, "address", "the domain of %.300s is no host name", address);
	return 0;
}

static void discover_progress(const struct setup_discover_options *o, const char *doing, const char *what)
{
	char words[400];

	if (o->progress == NULL)
		return;
	snprintf(words, sizeof words, "%s %s", doing, what);
	o->progress(o->ctx, words);
}

/* Start every source's thread; guesses need none. The jobs' order is the sources' order. */
static int discover_lookups(outbox *h, const struct setup_discover_options *o, struct setup_discovery *d,
			    long long deadline_ms)
{
	static const struct {
		enum discover_kind kind;
		enum setup_source source;
	} plan[] = {{DISCOVER_HTTPS, SETUP_SOURCE_AUTOCONFIG},
		    {DISCOVER_HTTPS, SETUP_SOURCE_WELL_KNOWN},
		    {DISCOVER_HTTPS, SETUP_SOURCE_ISPDB},
		    {DISCOVER_SRV, SETUP_SOURCE_SRV},
		    {DISCOVER_MX, SETUP_SOURCE_MX}};
	enum { NJOBS = sizeof plan / sizeof plan[0] };
	struct discover_job *jobs = calloc(NJOBS, sizeof *jobs);
	struct setup_candidates guesses = {0};
	size_t i, k;
	int rc = 0;

	if (jobs == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	for (i = 0; i < NJOBS; i++) {
		jobs[i].kind = plan[i].kind;
		jobs[i].source = plan[i].source;
		jobs[i].o = o;
		jobs[i].domain = d->domain;
		jobs[i].deadline_ms = deadline_ms;
		jobs[i].started = pthread_create(&jobs[i].thread, NULL, discover_thread, &jobs[i]) == 0;
		if (!jobs[i].started) /* no thread to spare: ask it here */
			discover_thread(&jobs[i]);
	}
	rc = discover_guesses(h, d->domain, &guesses, &d->reports[SETUP_DISCOVER_MAX_REPORTS - 1]);
	/* Each lookup ends by the deadline on its own (libcurl's and the DNS waits are cut to it). */
	for (i = 0; i < NJOBS; i++)
		if (jobs[i].started)
			pthread_join(jobs[i].thread, NULL);
	for (i = 0; i < NJOBS; i++) {
		if (rc == 0 && jobs[i].rc < 0) {
			struct outbox_error_copy e;

			outbox_error_save(&jobs[i].h, &e);
			outbox_error_restore(h, &e);
			rc = jobs[i].rc;
		}
		for (k = 0; k < jobs[i].nreports; k++)
			d->reports[d->nreports++] = jobs[i].reports[k];
		for (k = 0; rc == 0 && k < jobs[i].list.n; k++)
			rc = setup_candidates_add(h, &d->candidates, &jobs[i].list.v[k]);
		setup_candidates_free(&jobs[i].list);
	}
	d->reports[d->nreports++] = d->reports[SETUP_DISCOVER_MAX_REPORTS - 1];
	for (k = 0; rc == 0 && k < guesses.n; k++)
		rc = setup_candidates_add(h, &d->candidates, &guesses.v[k]);
	setup_candidates_free(&guesses);
	free(jobs);
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
	if ((rc = discover_domain(h, o->address, d->domain, sizeof d->domain)) < 0 ||
	    (rc = discover_check(h, o, d->domain)) < 0)
		return rc;

	discover_progress(o, "looking up the settings of", d->domain);
	start = net_now_ms();
	if ((rc = discover_lookups(h, o, d, start + timeout)) < 0)
		goto fail;
	d->lookups_ms = net_now_ms() - start;

	discover_progress(o, "probing the servers found for", d->domain);
	start = net_now_ms();
	po.deadline_ms = start + timeout;
	po.tls_ca = o->tls_ca;
	po.resolver = o->resolver;
	if ((rc = setup_probe_run(h, &d->candidates, &po, &d->probes)) < 0 ||
	    (rc = setup_choose(h, o->address, o->login, &d->candidates, &d->probes, &d->choice)) < 0)
		goto fail;
	d->probes_ms = net_now_ms() - start;

	if (d->choice.winner >= 0 && o->login == SETUP_LOGIN_PASSWORD) {
		discover_progress(o, "checking the login on", d->candidates.v[d->choice.winner].host);
		start = net_now_ms();
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
