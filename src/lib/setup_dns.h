/* setup_dns.h: the DNS sources of `outbox setup`: RFC 6186 SRV records as candidates, the MX hosts
 * with their registered domains (for the ISPDB), and a host's addresses, all through one resolver. */
#ifndef OUTBOX_SETUP_DNS_H
#define OUTBOX_SETUP_DNS_H

#include "dns_query.h"
#include "setup_candidate.h"

/* Look up _submissions._tcp.DOMAIN and _submission._tcp.DOMAIN at once, through `r` (NULL or
 * zeroed: the system's resolver), until deadline_ms (net_now_ms's clock). Appends a candidate per
 * target to *list: those of _submissions (security tls) first, then those of _submission
 * (starttls), each in RFC 2782's order (priority, then weight); rank counts on across both,
 * origin is the query name, source SETUP_SOURCE_SRV. reports[0] and reports[1] say what each
 * query answered: found, not offered (NXDOMAIN, no SRV record, the target "."), no answer by
 * the deadline, or failed (SERVFAIL, a broken answer), with words. Returns 0 whatever the DNS
 * said; OUTBOX_EINVALID for a domain that is no host name (field "domain"), OUTBOX_ENOMEM (the
 * list then as it was), OUTBOX_ECONFIG without libresolv. */
int setup_dns_srv(outbox *h, const struct dns_resolver *r, const char *domain, long long deadline_ms,
		  struct setup_candidates *list, struct setup_report reports[2]);

struct setup_mx_host {
	char host[DNS_NAME_SIZE];
	int preference;
	/* The host's registered domain (dns_domain_registered), "" when it has none (a public suffix,
	 * a single label): the name to look up in the ISPDB. */
	char registered[DNS_NAME_SIZE];
};

struct setup_mx {
	size_t n;
	struct setup_mx_host v[DNS_MAX_RECORDS]; /* by preference, then name */
};

/* Look up DOMAIN's MX records, as setup_dns_srv does its SRV records; *report (source
 * SETUP_SOURCE_MX) is found with the hosts and their registered domains, not offered (NXDOMAIN,
 * no MX, a null MX), no answer or failed. Returns as setup_dns_srv. */
int setup_dns_mx(outbox *h, const struct dns_resolver *r, const char *domain, long long deadline_ms,
		 struct setup_mx *out, struct setup_report *report);

/* The distinct registered domains of mx's hosts, in preference order, into out[0..max-1]; their
 * count. */
size_t setup_dns_mx_domains(const struct setup_mx *mx, char (*out)[DNS_NAME_SIZE], size_t max);

struct setup_addresses {
	size_t n;
	/* Each with family, addr and the address as text in name: to connect to, or to pin a name to
	 * (libcurl's CURLOPT_RESOLVE) so an HTTPS request goes where this resolver said. */
	struct dns_record v[2 * DNS_MAX_RECORDS];
};

/* The addresses of `host`, the one way setup resolves a host: an IP literal as it is; with a
 * given resolver, its AAAA and A records asked at once of that server (AAAA first, as getaddrinfo
 * orders a host with both), so no lookup of the command escapes --resolver; without one,
 * net_resolve's (getaddrinfo: /etc/hosts too, as for any connection). Returns 0 with at least
 * one address; OUTBOX_EUNAVAILABLE when the name does not exist or has no address;
 * OUTBOX_ETEMPFAIL when neither query was answered by the deadline or the server failed (it
 * may answer later); OUTBOX_EINVALID for a host that is no host name (field "host"); the
 * message names the host and, with a given resolver, the server. */
int setup_dns_addresses(outbox *h, const struct dns_resolver *r, const char *host, long long deadline_ms,
			struct setup_addresses *out);

#endif
