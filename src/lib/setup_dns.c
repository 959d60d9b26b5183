/* setup_dns.c: what DNS tells `outbox setup`, as candidates and reports: RFC 6186's SRV records,
 * the MX hosts whose providers the ISPDB may know, and host addresses, all through one resolver. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dns_domain.h"
#include "handle_internal.h"
#include "net.h"
#include "setup_dns.h"
#include "validate.h"

/* Append to a report's detail, cutting with "..." rather than overflowing. */
static void detail_add(char *detail, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void detail_add(char *detail, size_t size, const char *fmt, ...)
{
	size_t used = strlen(detail);
	va_list ap;
	int n;

	if (used + 1 >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(detail + used, size - used, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n >= size - used && size >= 4)
		memcpy(detail + size - 4, "...", 4);
}

/* The one reading of a query's result as a source's outcome; a found answer's words are the
 * caller's (the records say more than a count). */
static void report_from(struct setup_report *rep, enum setup_source source, const struct dns_query *q)
{
	memset(rep, 0, sizeof *rep);
	rep->source = source;
	snprintf(rep->what, sizeof rep->what, "%s %s", q->name, dns_answer_type_name(q->type));
	rep->ms = q->ms;
	if (q->result == DNS_QUERY_NO_ANSWER) {
		rep->outcome = SETUP_NO_ANSWER;
		snprintf(rep->detail, sizeof rep->detail, "%s", q->detail);
		return;
	}
	if (q->result == DNS_QUERY_FAILED) {
		rep->outcome = SETUP_FAILED;
		snprintf(rep->detail, sizeof rep->detail, "%s", q->detail);
		return;
	}
	switch (q->answer.status) {
	case DNS_ANSWER_RECORDS:
		rep->outcome = SETUP_FOUND;
		break;
	case DNS_ANSWER_NXDOMAIN:
		rep->outcome = SETUP_NOT_OFFERED;
		snprintf(rep->detail, sizeof rep->detail, "no such name (NXDOMAIN)");
		break;
	case DNS_ANSWER_NODATA:
		rep->outcome = SETUP_NOT_OFFERED;
		snprintf(rep->detail, sizeof rep->detail, "no %s record", dns_answer_type_name(q->type));
		break;
	case DNS_ANSWER_NULL:
		rep->outcome = SETUP_NOT_OFFERED;
		snprintf(rep->detail, sizeof rep->detail,
			 q->type == ns_t_mx ? "a null MX (\".\"): the domain takes no mail"
					    : "the target is \".\": the service is not offered");
		break;
	}
}

static int srv_candidates(outbox *h, const struct dns_query *q, enum setup_security security, int *rank,
			  struct setup_candidates *list, size_t *added, struct setup_report *rep)
{
	size_t i;
	int rc;

	if (q->answer.dropped > 0)
		detail_add(rep->detail, sizeof rep->detail, "the first %zu of %zu: ", q->answer.n,
			   q->answer.n + q->answer.dropped);
	for (i = 0; i < q->answer.n; i++) {
		const struct dns_record *rec = &q->answer.v[i];
		struct setup_candidate c;

		memset(&c, 0, sizeof c);
		snprintf(c.host, sizeof c.host, "%s", rec->name);
		c.port = rec->port;
		c.security = security;
		c.source = SETUP_SOURCE_SRV;
		snprintf(c.origin, sizeof c.origin, "%.255s", q->name); /* a DNS name: 253 at most */
		c.rank = (*rank)++;
		if ((rc = setup_candidates_add(h, list, &c)) < 0)
			return rc;
		(*added)++;
		detail_add(rep->detail, sizeof rep->detail, "%s%s:%d (priority %d, weight %d)", i ? ", " : "",
			   rec->name, rec->port, rec->priority, rec->weight);
	}
	return 0;
}

int setup_dns_srv(outbox *h, const struct dns_resolver *r, const char *domain, long long deadline_ms,
		  struct setup_candidates *list, struct setup_report reports[2])
{
	static const char *const prefix[2] = {"_submissions._tcp.", "_submission._tcp."};
	static const enum setup_security security[2] = {SETUP_SECURITY_TLS, SETUP_SECURITY_STARTTLS};
	struct dns_query q[2];
	size_t i, added = 0;
	int rank = 0, rc;

	memset(q, 0, sizeof q);
	for (i = 0; i < 2; i++) {
		if ((rc = dns_query_name(h, "domain", prefix[i], domain, q[i].name, sizeof q[i].name)) < 0)
			return rc;
		q[i].type = ns_t_srv;
	}
	if ((rc = dns_query_run(h, r, q, 2, deadline_ms)) < 0)
		return rc;
	for (i = 0; i < 2; i++) {
		report_from(&reports[i], SETUP_SOURCE_SRV, &q[i]);
		if (reports[i].outcome != SETUP_FOUND)
			continue;
		if ((rc = srv_candidates(h, &q[i], security[i], &rank, list, &added, &reports[i])) < 0) {
			list->n -= added; /* nothing half-added */
			return rc;
		}
	}
	return 0;
}

int setup_dns_mx(outbox *h, const struct dns_resolver *r, const char *domain, long long deadline_ms,
		 struct setup_mx *out, struct setup_report *report)
{
	struct dns_query q;
	size_t i;
	int rc;

	memset(out, 0, sizeof *out);
	memset(&q, 0, sizeof q);
	if ((rc = dns_query_name(h, "domain", "", domain, q.name, sizeof q.name)) < 0)
		return rc;
	q.type = ns_t_mx;
	if ((rc = dns_query_run(h, r, &q, 1, deadline_ms)) < 0)
		return rc;
	report_from(report, SETUP_SOURCE_MX, &q);
	if (report->outcome != SETUP_FOUND)
		return 0;
	if (q.answer.dropped > 0)
		detail_add(report->detail, sizeof report->detail, "the first %zu of %zu: ", q.answer.n,
			   q.answer.n + q.answer.dropped);
	for (i = 0; i < q.answer.n; i++) {
		struct setup_mx_host *m = &out->v[out->n++];

		snprintf(m->host, sizeof m->host, "%s", q.answer.v[i].name);
		m->preference = q.answer.v[i].priority;
		dns_domain_registered(m->host, m->registered, sizeof m->registered);
		detail_add(report->detail, sizeof report->detail, "%s%s (preference %d, %s%s)", i ? ", " : "",
			   m->host, m->preference, m->registered[0] ? "registered domain " : "no registered domain",
			   m->registered);
	}
	return 0;
}

size_t setup_dns_mx_domains(const struct setup_mx *mx, char (*out)[DNS_NAME_SIZE], size_t max)
{
	size_t i, j, n = 0;

	for (i = 0; i < mx->n && n < max; i++) {
		if (mx->v[i].registered[0] == '\0')
			continue;
		for (j = 0; j < n && strcmp(out[j], mx->v[i].registered) != 0; j++)
			;
		if (j == n)
			memcpy(out[n++], mx->v[i].registered, DNS_NAME_SIZE);
	}
	return n;
}

static int addresses_literal(const char *host, struct setup_addresses *out)
{
	struct dns_record *rec = &out->v[0];

	if ((rec->family = net_ip_literal(host, rec->addr)) == 0)
		return 0;
	inet_ntop(rec->family, rec->addr, rec->name, sizeof rec->name);
	out->n = 1;
	return 1;
}

/* Without --resolver, the addresses every other command would connect to: getaddrinfo's, with
 * /etc/hosts and the rest of nsswitch, in its order (RFC 6724). */
static int addresses_from_system(outbox *h, const char *host, long long deadline_ms, struct setup_addresses *out)
{
	struct addrinfo *res = NULL, *ai;
	int rc = net_resolve(h, host, 0, deadline_ms, &res);

	if (rc < 0)
		return rc;
	for (ai = res; ai && out->n < sizeof out->v / sizeof out->v[0]; ai = ai->ai_next) {
		struct dns_record *rec = &out->v[out->n];
		const void *addr;
		size_t i;

		if (ai->ai_family == AF_INET)
			addr = &((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr;
		else if (ai->ai_family == AF_INET6)
			addr = &((const struct sockaddr_in6 *)(const void *)ai->ai_addr)->sin6_addr;
		else
			continue;
		memset(rec, 0, sizeof *rec);
		rec->family = ai->ai_family;
		memcpy(rec->addr, addr, ai->ai_family == AF_INET ? 4 : 16);
		inet_ntop(rec->family, rec->addr, rec->name, sizeof rec->name);
		for (i = 0; i < out->n && strcmp(out->v[i].name, rec->name) != 0; i++)
			;
		if (i == out->n)
			out->n++;
	}
	freeaddrinfo(res);
	if (out->n == 0)
		return outbox_fail(h, OUTBOX_EUNAVAILABLE, NULL, "cannot resolve %s: no addresses", host);
	return 0;
}

int setup_dns_addresses(outbox *h, const struct dns_resolver *r, const char *host, long long deadline_ms,
			struct setup_addresses *out)
{
	struct dns_query q[2];
	const char *server = dns_resolver_name(r);
	size_t i, k;
	int rc, nxdomain = 0, failed = -1;

	memset(out, 0, sizeof *out);
	if (addresses_literal(host, out))
		return 0;
	if ((rc = validate_host(h, "host", host)) < 0)
		return rc;
	if (r == NULL || !r->given)
		return addresses_from_system(h, host, deadline_ms, out);
	memset(q, 0, sizeof q);
	if ((rc = dns_query_name(h, "host", "", host, q[0].name, sizeof q[0].name)) < 0)
		return rc;
	memcpy(q[1].name, q[0].name, sizeof q[1].name);
	q[0].type = ns_t_aaaa;
	q[1].type = ns_t_a;
	if ((rc = dns_query_run(h, r, q, 2, deadline_ms)) < 0)
		return rc;
	for (i = 0; i < 2; i++) {
		if (q[i].result != DNS_QUERY_ANSWERED) {
			failed = (int)i;
			continue;
		}
		nxdomain |= q[i].answer.status == DNS_ANSWER_NXDOMAIN;
		for (k = 0; k < q[i].answer.n; k++)
			out->v[out->n++] = q[i].answer.v[k];
	}
	/* An address is enough to connect to, whatever the other family's query did. */
	if (out->n > 0)
		return 0;
	if (nxdomain)
		return outbox_fail(h, OUTBOX_EUNAVAILABLE, NULL, "cannot resolve %s: no such host (NXDOMAIN from %s)",
				   host, server);
	if (failed >= 0)
		return outbox_fail(h, OUTBOX_ETEMPFAIL, NULL, "cannot resolve %s: %s", host, q[failed].detail);
	return outbox_fail(h, OUTBOX_EUNAVAILABLE, NULL, "cannot resolve %s: %s has no address for it", host,
			   server);
}
