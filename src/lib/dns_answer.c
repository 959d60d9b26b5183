/* dns_answer.c: a name server's response turned into records, through libresolv's message parser
 * (ns_initparse, ns_parserr); only the fixed fields of SRV and MX data are read here. Pure. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <dlfcn.h>
#include <pthread.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns_answer.h"
#include "handle_internal.h"

/* ns_initparse and ns_parserr live in libresolv.so.2, which nothing else outbox links pulls in:
 * loaded when a lookup needs it, so a plain send never maps it. */
static struct {
	void *handle;
	int (*initparse)(const unsigned char *, int, ns_msg *);
	int (*parserr)(ns_msg *, ns_sect, int, ns_rr *);
	int (*getflag)(ns_msg, int);
} rs;
static pthread_once_t rs_once = PTHREAD_ONCE_INIT;

#define RESOLV_SYM(field, name) (*(void **)&rs.field = dlsym(handle, name)) != NULL

static void resolv_load(void)
{
	void *handle = dlopen("libresolv.so.2", RTLD_NOW | RTLD_LOCAL);

	if (handle == NULL)
		return;
	if (RESOLV_SYM(initparse, "ns_initparse") && RESOLV_SYM(parserr, "ns_parserr") &&
	    RESOLV_SYM(getflag, "ns_msg_getflag"))
		rs.handle = handle;
	else
		dlclose(handle);
}

int dns_answer_ready(outbox *h)
{
	pthread_once(&rs_once, resolv_load);
	if (rs.handle == NULL)
		return outbox_fail(h, OUTBOX_ECONFIG, NULL,
				   "DNS lookups need libresolv.so.2, part of the C library: reinstall libc6 "
				   "(Debian); it could not be loaded");
	return 0;
}

const char *dns_answer_type_name(int type)
{
	switch (type) {
	case ns_t_srv:
		return "SRV";
	case ns_t_mx:
		return "MX";
	case ns_t_a:
		return "A";
	case ns_t_aaaa:
		return "AAAA";
	default:
		return "?";
	}
}

static const char *rcode_name(int rcode)
{
	switch (rcode) {
	case ns_r_formerr:
		return "FORMERR (it could not read the query)";
	case ns_r_servfail:
		return "SERVFAIL (it could not get an answer)";
	case ns_r_notimpl:
		return "NOTIMP (it does not do such queries)";
	case ns_r_refused:
		return "REFUSED (it does not answer for this name)";
	default:
		return NULL;
	}
}

/* A host name a client can connect to: letters, digits, hyphens, non-empty labels; lowercased in
 * place. dn_expand writes any other byte as an escape, which this refuses. */
static int host_plausible(char *name)
{
	size_t len = strlen(name), label = 0, i;
	int digits_only = 1;

	if (len == 0 || len > 253)
		return 0;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (c == '.') {
			if (label == 0 || name[i - 1] == '-')
				return 0;
			label = 0;
			digits_only = 1;
			continue;
		}
		if (c >= 'A' && c <= 'Z')
			name[i] = (char)(c - 'A' + 'a');
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return 0;
		if (c == '-' && label == 0)
			return 0;
		digits_only &= c >= '0' && c <= '9';
		label++;
	}
	/* A last label of digits only is an address written where a name belongs ("192.0.2.1"): no
	 * top-level domain is all digits (RFC 3696 section 2), and taking it for a name would make
	 * "2.1" its registered domain. */
	return label > 0 && name[len - 1] != '-' && !digits_only;
}

static int get16(const unsigned char *p)
{
	return (p[0] << 8) | p[1];
}

/* The domain name in rdata at `at`, which must end exactly at `end`. "." for the root. */
static int rdata_name(ns_msg *m, const unsigned char *at, const unsigned char *end, char *out,
		      size_t size)
{
	char name[NS_MAXDNAME];
	int used = dn_expand(ns_msg_base(*m), ns_msg_end(*m), at, name, sizeof name);

	if (used <= 0 || at + used != end)
		return -1;
	if (name[0] == '\0')
		snprintf(name, sizeof name, ".");
	if (strlen(name) >= size)
		return -1;
	memcpy(out, name, strlen(name) + 1);
	return 0;
}

static int by_srv_order(const void *a, const void *b)
{
	const struct dns_record *x = a, *y = b;
	int c;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	return x->port - y->port;
}

static int by_preference(const void *a, const void *b)
{
	const struct dns_record *x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Keep rec among the DNS_MAX_RECORDS first in `order` (NULL: the first that came), so a long
 * answer drops its least preferred records, not whatever the server listed last. */
static void answer_keep(struct dns_answer *out, const struct dns_record *rec,
			int (*order)(const void *, const void *))
{
	size_t worst = 0, i;

	if (out->n < DNS_MAX_RECORDS) {
		out->v[out->n++] = *rec;
		return;
	}
	out->dropped++;
	if (order == NULL)
		return;
	for (i = 1; i < out->n; i++)
		if (order(&out->v[i], &out->v[worst]) > 0)
			worst = i;
	if (order(rec, &out->v[worst]) < 0)
		out->v[worst] = *rec;
}

/* The names the answer's records may be owned by: qname and the aliases CNAMEs lead to. */
#define DNS_MAX_ALIASES 8
struct owners {
	size_t n;
	char name[DNS_MAX_ALIASES + 1][NS_MAXDNAME];
};

static int owners_has(const struct owners *o, const char *name)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		if (strcasecmp(o->name[i], name) == 0)
			return 1;
	return 0;
}

static void owners_follow(ns_msg *m, struct owners *o)
{
	int count = ns_msg_count(*m, ns_s_an), i, moved = 1;
	ns_rr rr;

	while (moved && o->n <= DNS_MAX_ALIASES) {
		moved = 0;
		for (i = 0; i < count && o->n <= DNS_MAX_ALIASES; i++) {
			char alias[NS_MAXDNAME];

			if (rs.parserr(m, ns_s_an, i, &rr) != 0 || ns_rr_type(rr) != ns_t_cname ||
			    ns_rr_class(rr) != ns_c_in || strcasecmp(ns_rr_name(rr), o->name[o->n - 1]) != 0)
				continue;
			if (dn_expand(ns_msg_base(*m), ns_msg_end(*m), ns_rr_rdata(rr), alias, sizeof alias) <= 0 ||
			    owners_has(o, alias))
				continue;
			memcpy(o->name[o->n++], alias, sizeof alias);
			moved = 1;
		}
	}
}

/* One record of the wanted type into *rec; 1 when it is a "." target, 0 when kept, -1 broken. */
static int record_read(ns_msg *m, const ns_rr *rr, int type, struct dns_record *rec, const char **why)
{
	const unsigned char *d = ns_rr_rdata(*rr), *end = d + ns_rr_rdlen(*rr);
	size_t len = ns_rr_rdlen(*rr);

	memset(rec, 0, sizeof *rec);
	switch (type) {
	case ns_t_srv:
		if (len < 7 || rdata_name(m, d + 6, end, rec->name, sizeof rec->name) != 0) {
			*why = "an SRV record is cut short or its target is not a domain name";
			return -1;
		}
		rec->priority = get16(d);
		rec->weight = get16(d + 2);
		rec->port = get16(d + 4);
		break;
	case ns_t_mx:
		if (len < 3 || rdata_name(m, d + 2, end, rec->name, sizeof rec->name) != 0) {
			*why = "an MX record is cut short or its exchange is not a domain name";
			return -1;
		}
		rec->priority = get16(d);
		break;
	case ns_t_a:
	case ns_t_aaaa:
		rec->family = type == ns_t_a ? AF_INET : AF_INET6;
		if (len != (type == ns_t_a ? 4u : 16u)) {
			*why = type == ns_t_a ? "an A record is not 4 bytes long" : "an AAAA record is not 16 bytes long";
			return -1;
		}
		memcpy(rec->addr, d, len);
		inet_ntop(rec->family, rec->addr, rec->name, sizeof rec->name);
		return 0;
	default:
		*why = "outbox does not read records of this type";
		return -1;
	}
	if (strcmp(rec->name, ".") == 0)
		return 1;
	if (!host_plausible(rec->name)) {
		*why = type == ns_t_srv ? "an SRV target is not a host name" : "an MX exchange is not a host name";
		return -1;
	}
	return 0;
}

/* What a failed parse leaves: no records. */
static void answer_empty(struct dns_answer *out)
{
	memset(out, 0, sizeof *out);
	out->status = DNS_ANSWER_NODATA;
}

static int broken(outbox *h, struct dns_answer *out, const char *qname, int type, const char *why)
{
	answer_empty(out);
	return outbox_fail(h, OUTBOX_EPROTOCOL, NULL, "the answer for %s %s is broken: %s", qname,
			   dns_answer_type_name(type), why);
}

int dns_answer_parse(outbox *h, const unsigned char *msg, size_t len, const char *qname, int type,
		     struct dns_answer *out)
{
	static struct owners owners_zero;
	struct owners *owners;
	const char *why = NULL, *rc_words;
	size_t nulls = 0;
	int count, i, rcode, rc = 0;
	int (*order)(const void *, const void *) =
		type == ns_t_srv ? by_srv_order : type == ns_t_mx ? by_preference : NULL;
	ns_msg m;
	ns_rr rr;

	answer_empty(out);
	if ((rc = dns_answer_ready(h)) < 0)
		return rc;
	if (len > NS_MAXMSG || rs.initparse(msg, (int)len, &m) != 0)
		return broken(h, out, qname, type, "it is not a DNS message");
	if (!rs.getflag(m, ns_f_qr))
		return broken(h, out, qname, type, "it is a query, not a response");
	if (ns_msg_count(m, ns_s_qd) != 1 || rs.parserr(&m, ns_s_qd, 0, &rr) != 0 ||
	    strcasecmp(ns_rr_name(rr), qname) != 0 || (int)ns_rr_type(rr) != type)
		return broken(h, out, qname, type, "it answers another question");
	rcode = rs.getflag(m, ns_f_rcode);
	if (rcode == ns_r_nxdomain) {
		out->status = DNS_ANSWER_NXDOMAIN;
		return 0;
	}
	if (rcode != ns_r_noerror) {
		rc_words = rcode_name(rcode);
		if (rc_words != NULL)
			return outbox_fail(h, OUTBOX_EPROTOCOL, NULL, "the name server answered %s %s with %s",
					   qname, dns_answer_type_name(type), rc_words);
		return outbox_fail(h, OUTBOX_EPROTOCOL, NULL, "the name server answered %s %s with error code %d",
				   qname, dns_answer_type_name(type), rcode);
	}
	/* 9 names of up to 1 KiB: too much for a thread's stack beside the 64 KiB answer's caller. */
	if ((owners = malloc(sizeof *owners)) == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	*owners = owners_zero;
	snprintf(owners->name[0], sizeof owners->name[0], "%s", qname);
	owners->n = 1;
	owners_follow(&m, owners);
	count = ns_msg_count(m, ns_s_an);
	for (i = 0; i < count; i++) {
		struct dns_record rec;
		int got;

		if (rs.parserr(&m, ns_s_an, i, &rr) != 0) {
			why = "a record cannot be read";
			break;
		}
		if ((int)ns_rr_type(rr) != type || ns_rr_class(rr) != ns_c_in || !owners_has(owners, ns_rr_name(rr)))
			continue;
		if ((got = record_read(&m, &rr, type, &rec, &why)) < 0)
			break;
		if (got == 1)
			nulls++;
		else
			answer_keep(out, &rec, order);
	}
	free(owners);
	if (why != NULL)
		return broken(h, out, qname, type, why);
	if (out->n > 0) {
		out->status = DNS_ANSWER_RECORDS;
		if (order != NULL)
			qsort(out->v, out->n, sizeof out->v[0], order);
	} else if (nulls > 0) {
		/* "." beside real targets is ignored; alone it says the service is not offered. */
		out->status = DNS_ANSWER_NULL;
	}
	return 0;
}
