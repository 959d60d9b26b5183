/* dns_answer.h: what a name server's answer says, read with libresolv's ns_initparse/ns_parserr
 * (loaded with dlopen on first use): SRV, MX, A and AAAA records in the order a client uses them. */
#ifndef OUTBOX_DNS_ANSWER_H
#define OUTBOX_DNS_ANSWER_H

#include <stddef.h>

#include "outbox/error.h"

/* Records kept from one answer: the most preferred ones; the rest are dropped (dns_answer.dropped
 * says how many). A domain lists a handful of submission servers or mail exchangers, not dozens. */
#define DNS_MAX_RECORDS 32
/* A host name's presentation form fits in 253 characters and its NUL. */
#define DNS_NAME_SIZE 256

struct dns_record {
	/* SRV: the target; MX: the exchange; A/AAAA: the address as text ("192.0.2.1", "2001:db8::1"). */
	char name[DNS_NAME_SIZE];
	int priority; /* SRV priority, MX preference */
	int weight;   /* SRV */
	int port;     /* SRV */
	int family;   /* A: AF_INET, AAAA: AF_INET6; 0 for SRV and MX */
	unsigned char addr[16]; /* A: 4 bytes, AAAA: 16, in network order */
};

enum dns_answer_status {
	DNS_ANSWER_RECORDS,  /* at least one record of the type asked for */
	DNS_ANSWER_NODATA,   /* the name exists and has no record of that type */
	DNS_ANSWER_NXDOMAIN, /* the name does not exist */
	DNS_ANSWER_NULL      /* a single SRV target "." (RFC 2782) or null MX (RFC 7505): not offered */
};

struct dns_answer {
	enum dns_answer_status status;
	size_t n;      /* records in v, DNS_ANSWER_RECORDS only */
	size_t dropped; /* records past DNS_MAX_RECORDS, not kept */
	struct dns_record v[DNS_MAX_RECORDS];
};

/* 0 when libresolv could be loaded, else OUTBOX_ECONFIG saying what to install. Thread-safe. */
int dns_answer_ready(outbox *h);

/* Read the response `msg` (len bytes) to a query for `qname` (ASCII, no trailing dot) of `type`
 * (ns_t_srv, ns_t_mx, ns_t_a, ns_t_aaaa). Only records of that type and class IN owned by qname,
 * or by a name a CNAME in the answer leads to, count. SRV records are sorted by priority, then
 * weight (heaviest first, RFC 2782's selection made deterministic), then target and port; MX by
 * preference, then exchange; addresses stay in the server's order. Returns 0 with *out filled,
 * or OUTBOX_EPROTOCOL with one line of words (a broken message, an error code other than
 * NXDOMAIN, a target that is not a host name), *out then empty; OUTBOX_ECONFIG without libresolv. */
int dns_answer_parse(outbox *h, const unsigned char *msg, size_t len, const char *qname, int type,
		     struct dns_answer *out);

/* "SRV", "MX", "A", "AAAA" for a type this file reads, else "?". */
const char *dns_answer_type_name(int type);

#endif
