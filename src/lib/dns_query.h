/* dns_query.h: DNS queries under one deadline, through the system's resolver or a name server the
 * user names (--resolver HOST:PORT), with glibc's res_ninit/res_nquery; several run at once. */
#ifndef OUTBOX_DNS_QUERY_H
#define OUTBOX_DNS_QUERY_H

#include <netinet/in.h>
#include <stddef.h>

#include "dns_answer.h"
#include "outbox/error.h"

/* Where queries go. Zeroed, it is the system's resolver (/etc/resolv.conf). */
struct dns_resolver {
	int given;               /* 1: only `addr` is asked */
	struct sockaddr_in addr; /* an IPv4 address and port */
	char shown[32];          /* "127.0.0.1:5353", for messages */
};

/* Read --resolver's value: an IPv4 address and a port, "127.0.0.1:5353". IPv4 only, because
 * glibc's res_state keeps IPv6 servers in a private extension a program cannot set. Else
 * OUTBOX_EINVALID naming the field "resolver". */
int dns_resolver_parse(outbox *h, const char *spec, struct dns_resolver *out);
/* "127.0.0.1:5353" or "the system's resolver", for messages. */
const char *dns_resolver_name(const struct dns_resolver *r);

enum dns_query_result {
	DNS_QUERY_ANSWERED,  /* the server answered: see answer.status */
	DNS_QUERY_NO_ANSWER, /* nothing answered before the deadline (or nothing listens there) */
	DNS_QUERY_FAILED     /* it answered with an error or something broken: see detail */
};

struct dns_query {
	/* Set by the caller: the name as sent (ASCII: see dns_query_name) and its type (ns_t_srv,
	 * ns_t_mx, ns_t_a, ns_t_aaaa). */
	char name[DNS_NAME_SIZE];
	int type;
	/* Set by dns_query_run. */
	enum dns_query_result result;
	struct dns_answer answer; /* DNS_QUERY_ANSWERED only */
	long long ms;             /* from the start of the run to its answer, or to the deadline */
	char detail[256];         /* NO_ANSWER and FAILED: what happened, one line */
};

/* The name to query: `prefix` (may be "", else like "_submission._tcp.") and `host` converted to
 * ASCII with IDNA2008 when it is not, checked as a host name (no IP literal). Else
 * OUTBOX_EINVALID naming `field`. */
int dns_query_name(outbox *h, const char *field, const char *prefix, const char *host, char *out,
		   size_t size);

/* Run the n queries at once, each in a thread of its own, and wait for them until deadline_ms
 * (net_now_ms's clock). A query without an answer by then is DNS_QUERY_NO_ANSWER; its thread
 * is left to finish on its own (glibc's wait is set to end soon after the deadline) and frees
 * what it used. Returns 0 (each query says how it went), or OUTBOX_ENOMEM, or OUTBOX_ECONFIG when
 * libresolv is missing; then the queries' results are not set. */
int dns_query_run(outbox *h, const struct dns_resolver *r, struct dns_query *q, size_t n,
		  long long deadline_ms);

#endif
