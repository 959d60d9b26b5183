/* test_dns.c: reading DNS answers (dns_answer.c) from packets built here, a query made by
 * res_mkquery and records assembled byte by byte; registered domains; --resolver's value. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <resolv.h>

#include "dns_answer.h"
#include "dns_domain.h"
#include "dns_query.h"
#include "handle_internal.h"
#include "unit.h"

/* A response under construction: the query as res_mkquery makes it, then answer records. */
struct pkt {
	unsigned char b[8192];
	size_t len;
};

static void pkt_byte(struct pkt *p, int v)
{
	assert_true(p->len < sizeof p->b);
	p->b[p->len++] = (unsigned char)v;
}

static void pkt_16(struct pkt *p, int v)
{
	pkt_byte(p, (v >> 8) & 0xff);
	pkt_byte(p, v & 0xff);
}

/* A name, uncompressed; "." is the root; "@" points at the question's name (offset 12). */
static void pkt_name(struct pkt *p, const char *name)
{
	const char *label = name, *dot;

	if (strcmp(name, "@") == 0) {
		pkt_16(p, 0xc000 | 12);
		return;
	}
	while (strcmp(label, ".") != 0 && *label) {
		size_t len;

		dot = strchr(label, '.');
		len = dot ? (size_t)(dot - label) : strlen(label);
		pkt_byte(p, (int)len);
		assert_true(p->len + len <= sizeof p->b);
		memcpy(p->b + p->len, label, len);
		p->len += len;
		label += len + (dot ? 1 : 0);
	}
	pkt_byte(p, 0);
}

/* The response to a query for (qname, type), with rcode; QR set. */
static void pkt_start(struct pkt *p, const char *qname, int type, int rcode)
{
	int n = res_mkquery(ns_o_query, qname, ns_c_in, type, NULL, 0, NULL, p->b, sizeof p->b);

	assert_true(n > 12);
	p->len = (size_t)n;
	p->b[2] |= 0x80;
	p->b[3] = (unsigned char)((p->b[3] & 0xf0) | rcode);
}

/* Start a record: owner, type, class IN, TTL; the caller adds rdata between rr_data and rr_end. */
static size_t pkt_rr(struct pkt *p, const char *owner, int type)
{
	int count = (p->b[6] << 8 | p->b[7]) + 1;

	p->b[6] = (unsigned char)(count >> 8);
	p->b[7] = (unsigned char)count;
	pkt_name(p, owner);
	pkt_16(p, type);
	pkt_16(p, ns_c_in);
	pkt_16(p, 0);
	pkt_16(p, 300);
	pkt_16(p, 0); /* rdlength, set by pkt_rr_end */
	return p->len;
}

static void pkt_rr_end(struct pkt *p, size_t start)
{
	size_t len = p->len - start;

	p->b[start - 2] = (unsigned char)(len >> 8);
	p->b[start - 1] = (unsigned char)len;
}

static void pkt_srv(struct pkt *p, const char *owner, int prio, int weight, int port, const char *target)
{
	size_t at = pkt_rr(p, owner, ns_t_srv);

	pkt_16(p, prio);
	pkt_16(p, weight);
	pkt_16(p, port);
	pkt_name(p, target);
	pkt_rr_end(p, at);
}

static void pkt_mx(struct pkt *p, const char *owner, int pref, const char *host)
{
	size_t at = pkt_rr(p, owner, ns_t_mx);

	pkt_16(p, pref);
	pkt_name(p, host);
	pkt_rr_end(p, at);
}

static void pkt_a(struct pkt *p, const char *owner, const char *text)
{
	unsigned char addr[16];
	int v6 = strchr(text, ':') != NULL;
	size_t at = pkt_rr(p, owner, v6 ? ns_t_aaaa : ns_t_a), i;

	assert_int_equal(inet_pton(v6 ? AF_INET6 : AF_INET, text, addr), 1);
	for (i = 0; i < (v6 ? 16u : 4u); i++)
		pkt_byte(p, addr[i]);
	pkt_rr_end(p, at);
}

static void pkt_cname(struct pkt *p, const char *owner, const char *alias)
{
	size_t at = pkt_rr(p, owner, ns_t_cname);

	pkt_name(p, alias);
	pkt_rr_end(p, at);
}

/* Parse from a block of exactly the packet's size, so the sanitizers catch a read past it. */
static int parse(outbox *h, const struct pkt *p, const char *qname, int type, struct dns_answer *out)
{
	unsigned char *copy = malloc(p->len);
	int rc;

	assert_non_null(copy);
	memcpy(copy, p->b, p->len);
	outbox_clear_error(h);
	rc = dns_answer_parse(h, copy, p->len, qname, type, out);
	free(copy);
	return rc;
}

/* The records as "name:port/priority/weight" or "name/preference" or "address", joined by " ". */
static const char *records(const struct dns_answer *a, int type)
{
	static char out[4096];
	size_t i, used = 0;

	out[0] = '\0';
	for (i = 0; i < a->n && used < sizeof out; i++) {
		const struct dns_record *r = &a->v[i];
		const char *sep = i ? " " : "";

		if (type == ns_t_srv)
			used += (size_t)snprintf(out + used, sizeof out - used, "%s%s:%d/%d/%d", sep, r->name,
						 r->port, r->priority, r->weight);
		else if (type == ns_t_mx)
			used += (size_t)snprintf(out + used, sizeof out - used, "%s%s/%d", sep, r->name,
						 r->priority);
		else
			used += (size_t)snprintf(out + used, sizeof out - used, "%s%s", sep, r->name);
	}
	return out;
}

static const char *const SRVQ = "_submissions._tcp.example.test";

static void test_srv_in_rfc2782_order(void **state)
{
	static outbox h;
	struct dns_answer a;
	struct pkt p;

	(void)state;
	pkt_start(&p, SRVQ, ns_t_srv, ns_r_noerror);
	pkt_srv(&p, "@", 20, 0, 465, "last.example.test");
	pkt_srv(&p, SRVQ, 10, 5, 465, "B.example.test"); /* any case: kept lowercased */
	pkt_srv(&p, "@", 10, 50, 4650, "heavy.example.test");
	pkt_srv(&p, "@", 10, 5, 465, "a.example.test");
	EXPECT_INT(parse(&h, &p, SRVQ, ns_t_srv, &a), 0, outbox_errmsg(&h));
	EXPECT_INT(a.status, DNS_ANSWER_RECORDS, "status");
	EXPECT_STR(records(&a, ns_t_srv),
		   "heavy.example.test:4650/10/50 a.example.test:465/10/5 b.example.test:465/10/5 "
		   "last.example.test:465/20/0",
		   "priority first, then the heavier weight, then the name");
}

static void test_srv_dot_target(void **state)
{
	static outbox h;
	struct dns_answer a;
	struct pkt p;

	(void)state;
	pkt_start(&p, SRVQ, ns_t_srv, ns_r_noerror);
	pkt_srv(&p, "@", 0, 0, 0, ".");
	EXPECT_INT(parse(&h, &p, SRVQ, ns_t_srv, &a), 0, outbox_errmsg(&h));
	EXPECT_INT(a.status, DNS_ANSWER_NULL, "a single \".\" target: not offered");
	EXPECT_INT(a.n, 0, "records");

	/* "." beside a real target means nothing: the real one is used. */
	pkt_srv(&p, "@", 5, 0, 465, "mail.example.test");
	EXPECT_INT(parse(&h, &p, SRVQ, ns_t_srv, &a), 0, outbox_errmsg(&h));
	EXPECT_INT(a.status, DNS_ANSWER_RECORDS, "status with a real target too");
	EXPECT_STR(records(&a, ns_t_srv), "mail.example.test:465/5/0", "records");
}

static void test_status_by_rcode(void **state)
{
	static const struct {
		int rcode, answers, rc, status;
		const char *words;
	} cases[] = {
		{ns_r_nxdomain, 0, 0, DNS_ANSWER_NXDOMAIN, ""},
		{ns_r_noerror, 0, 0, DNS_ANSWER_NODATA, ""},
		{ns_r_servfail, 0, OUTBOX_EPROTOCOL, DNS_ANSWER_NODATA,
		 "the name server answered _submissions._tcp.example.test SRV with SERVFAIL (it could not "
		 "get an answer)"},
		{ns_r_refused, 0, OUTBOX_EPROTOCOL, DNS_ANSWER_NODATA, "with REFUSED"},
		{9, 0, OUTBOX_EPROTOCOL, DNS_ANSWER_NODATA, "with error code 9"},
		/* A record of another type only (a TXT): the name exists, no SRV. */
		{ns_r_noerror, 1, 0, DNS_ANSWER_NODATA, ""},
	};
	static outbox h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct dns_answer a;
		struct pkt p;
		char what[64];

		pkt_start(&p, SRVQ, ns_t_srv, cases[i].rcode);
		if (cases[i].answers) {
			size_t at = pkt_rr(&p, "@", ns_t_txt);

			pkt_byte(&p, 1);
			pkt_byte(&p, 'x');
			pkt_rr_end(&p, at);
		}
		snprintf(what, sizeof what, "case %zu: rc", i);
		EXPECT_INT(parse(&h, &p, SRVQ, ns_t_srv, &a), cases[i].rc, what);
		snprintf(what, sizeof what, "case %zu: status", i);
		EXPECT_INT(a.status, cases[i].status, what);
		snprintf(what, sizeof what, "case %zu: message", i);
		EXPECT_CONTAINS(outbox_errmsg(&h), cases[i].words, what);
	}
}

/* Broken answers: EPROTOCOL, one line naming the query and what is wrong, nothing kept. */
static void test_broken_answers(void **state)
{
	static outbox h;
	struct dns_answer a;
	struct pkt p, q;
	size_t at;

	(void)state;
	pkt_start(&p, SRVQ, ns_t_srv, ns_r_noerror);
	pkt_srv(&p, "@", 0, 0, 465, "mail.example.test");

	q = p;
	q.len -= 3; /* cut inside the target */
	EXPECT_INT(parse(&h, &q, SRVQ, ns_t_srv, &a), OUTBOX_EPROTOCOL, "a cut message");
	EXPECT_STR(outbox_errmsg(&h),
		   "the answer for _submissions._tcp.example.test SRV is broken: it is not a DNS message",
		   "words for a cut message");
	EXPECT_INT(a.n, 0, "nothing kept from a cut message");

	q = p;
	q.b[2] &= 0x7f;
	EXPECT_INT(parse(&h, &q, SRVQ, ns_t_srv, &a), OUTBOX_EPROTOCOL, "a query, not a response");
	EXPECT_CONTAINS(outbox_errmsg(&h), "it is a query, not a response", "words");

	EXPECT_INT(parse(&h, &p, "_submission._tcp.example.test", ns_t_srv, &a), OUTBOX_EPROTOCOL,
		   "an answer to another name");
	EXPECT_CONTAINS(outbox_errmsg(&h), "it answers another question", "words");
	EXPECT_INT(parse(&h, &p, SRVQ, ns_t_mx, &a), OUTBOX_EPROTOCOL, "an answer to another type");

	pkt_start(&q, SRVQ, ns_t_srv, ns_r_noerror);
	at = pkt_rr(&q, "@", ns_t_srv);
	pkt_16(&q, 0);
	pkt_16(&q, 0);
	pkt_rr_end(&q, at);
	EXPECT_INT(parse(&h, &q, SRVQ, ns_t_srv, &a), OUTBOX_EPROTOCOL, "an SRV record of 4 bytes");
	EXPECT_CONTAINS(outbox_errmsg(&h), "an SRV record is cut short", "words");

	pkt_start(&q, SRVQ, ns_t_srv, ns_r_noerror);
	pkt_srv(&q, "@", 0, 0, 465, "mail.example.test");
	pkt_srv(&q, "@", 0, 0, 465, "bad_name.example.test");
	EXPECT_INT(parse(&h, &q, SRVQ, ns_t_srv, &a), OUTBOX_EPROTOCOL, "a target with an underscore");
	EXPECT_CONTAINS(outbox_errmsg(&h), "an SRV target is not a host name", "words");
	EXPECT_INT(a.n, 0, "nothing kept from a broken answer");

	/* An address where a name belongs: its "registered domain" would come out as "2.1". */
	pkt_start(&q, "example.test", ns_t_mx, ns_r_noerror);
	pkt_mx(&q, "@", 10, "192.0.2.1");
	EXPECT_INT(parse(&h, &q, "example.test", ns_t_mx, &a), OUTBOX_EPROTOCOL, "an MX of 192.0.2.1");
	EXPECT_CONTAINS(outbox_errmsg(&h), "an MX exchange is not a host name", "words");
	pkt_start(&q, "example.test", ns_t_mx, ns_r_noerror);
	pkt_mx(&q, "@", 10, "mx1.2example.test");
	EXPECT_INT(parse(&h, &q, "example.test", ns_t_mx, &a), 0, "digits inside a name are fine");

	pkt_start(&q, SRVQ, ns_t_srv, ns_r_noerror);
	pkt_srv(&q, "@", 0, 0, 465, "esc\033[2J.example.test");
	EXPECT_INT(parse(&h, &q, SRVQ, ns_t_srv, &a), OUTBOX_EPROTOCOL, "a target with an escape byte");
	EXPECT_INT(strchr(outbox_errmsg(&h), '\033') == NULL, 1, "the words carry no escape byte");

	pkt_start(&q, "mail.example.test", ns_t_a, ns_r_noerror);
	at = pkt_rr(&q, "@", ns_t_a);
	pkt_16(&q, 0x7f00);
	pkt_byte(&q, 1);
	pkt_rr_end(&q, at);
	EXPECT_INT(parse(&h, &q, "mail.example.test", ns_t_a, &a), OUTBOX_EPROTOCOL, "an A record of 3 bytes");
	EXPECT_CONTAINS(outbox_errmsg(&h), "an A record is not 4 bytes long", "words");
}

static void test_addresses_through_a_cname(void **state)
{
	static outbox h;
	struct dns_answer a;
	struct pkt p;

	(void)state;
	pkt_start(&p, "smtp.example.test", ns_t_a, ns_r_noerror);
	pkt_cname(&p, "@", "real.provider.test");
	pkt_a(&p, "real.provider.test", "192.0.2.10");
	pkt_a(&p, "other.provider.test", "198.51.100.66"); /* not on the chain: not ours */
	pkt_a(&p, "REAL.provider.test", "192.0.2.11");
	EXPECT_INT(parse(&h, &p, "smtp.example.test", ns_t_a, &a), 0, outbox_errmsg(&h));
	EXPECT_STR(records(&a, ns_t_a), "192.0.2.10 192.0.2.11", "the chain's addresses, in the server's order");
	EXPECT_INT(a.v[0].family, AF_INET, "family");

	pkt_start(&p, "smtp.example.test", ns_t_aaaa, ns_r_noerror);
	pkt_a(&p, "@", "2001:db8::25");
	EXPECT_INT(parse(&h, &p, "smtp.example.test", ns_t_aaaa, &a), 0, outbox_errmsg(&h));
	EXPECT_STR(records(&a, ns_t_aaaa), "2001:db8::25", "AAAA");
	EXPECT_INT(a.v[0].family, AF_INET6, "family");
}

static void test_mx_order_and_null_mx(void **state)
{
	static outbox h;
	struct dns_answer a;
	struct pkt p;

	(void)state;
	pkt_start(&p, "example.test", ns_t_mx, ns_r_noerror);
	pkt_mx(&p, "@", 20, "backup.mail.test");
	pkt_mx(&p, "@", 10, "mx2.mail.test");
	pkt_mx(&p, "@", 10, "mx1.mail.test");
	EXPECT_INT(parse(&h, &p, "example.test", ns_t_mx, &a), 0, outbox_errmsg(&h));
	EXPECT_STR(records(&a, ns_t_mx), "mx1.mail.test/10 mx2.mail.test/10 backup.mail.test/20",
		   "by preference, then name");

	pkt_start(&p, "example.test", ns_t_mx, ns_r_noerror);
	pkt_mx(&p, "@", 0, ".");
	EXPECT_INT(parse(&h, &p, "example.test", ns_t_mx, &a), 0, outbox_errmsg(&h));
	EXPECT_INT(a.status, DNS_ANSWER_NULL, "a null MX (RFC 7505)");
}

static void test_long_answer_keeps_the_most_preferred(void **state)
{
	static outbox h;
	struct dns_answer a;
	struct pkt p;
	int i;

	(void)state;
	pkt_start(&p, SRVQ, ns_t_srv, ns_r_noerror);
	for (i = 39; i >= 0; i--) {
		char target[64];

		snprintf(target, sizeof target, "s%02d.example.test", i);
		pkt_srv(&p, "@", i, 0, 465, target);
	}
	EXPECT_INT(parse(&h, &p, SRVQ, ns_t_srv, &a), 0, outbox_errmsg(&h));
	EXPECT_INT(a.n, DNS_MAX_RECORDS, "records kept");
	EXPECT_INT(a.dropped, 40 - DNS_MAX_RECORDS, "records dropped");
	EXPECT_STR(a.v[0].name, "s00.example.test", "the first kept is the most preferred");
	EXPECT_STR(a.v[DNS_MAX_RECORDS - 1].name, "s31.example.test", "the last kept");
}

static void test_registered_domain_rule(void **state)
{
	static const struct {
		const char *host, *want;
	} cases[] = {
		{"mx1.mail.example.co.uk", "example.co.uk"},
		{"example.co.uk", "example.co.uk"},
		{"co.uk", ""},
		{"mx.example.de", "example.de"},
		{"example.de", "example.de"},
		{"ASPMX.L.Google.COM", "google.com"},
		{"alt1.aspmx.l.bigmail.test", "bigmail.test"},
		{"a.b.example.com.au", "example.com.au"},
		{"mail.example.ne.jp", "example.ne.jp"},
		{"localhost", ""},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[256];
		int rc = dns_domain_rule(cases[i].host, out, sizeof out);

		EXPECT_INT(rc, cases[i].want[0] ? 0 : -1, cases[i].host);
		EXPECT_STR(out, cases[i].want, cases[i].host);
	}
}

/* With libpsl (Debian's libpsl5, which libcurl needs) the Public Suffix List decides. */
static void test_registered_domain_by_the_list(void **state)
{
	static const struct {
		const char *host, *want;
	} cases[] = {
		{"mx1.mail.example.co.uk", "example.co.uk"},
		{"aspmx.l.google.com", "google.com"},
		{"mx.hosting.test", "hosting.test"},
		{"mx.city.kawasaki.jp", "city.kawasaki.jp"}, /* an exception rule the simple one misses */
		{"co.uk", ""},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[256];
		int rc = dns_domain_registered(cases[i].host, out, sizeof out);

		EXPECT_INT(rc, cases[i].want[0] ? 0 : -1, cases[i].host);
		EXPECT_STR(out, cases[i].want, cases[i].host);
	}
}

static void test_resolver_value(void **state)
{
	static const struct {
		const char *spec, *shown, *words;
	} cases[] = {
		{"127.0.0.1:5353", "127.0.0.1:5353", NULL},
		{"10.1.2.3:53", "10.1.2.3:53", NULL},
		{"localhost:53", NULL, "resolver: localhost:53 does not start with an IPv4 address"},
		{"[::1]:53", NULL, "does not start with an IPv4 address"},
		{"127.0.0.1", NULL, "resolver: 127.0.0.1 is not an IPv4 address and a port, like 127.0.0.1:5353"},
		{"127.0.0.1:", NULL, "does not end with a port from 1 to 65535"},
		{"127.0.0.1:65536", NULL, "does not end with a port from 1 to 65535"},
		{"127.0.0.1:-1", NULL, "does not end with a port from 1 to 65535"},
		{"127.0.0.1:53 ", NULL, "does not end with a port from 1 to 65535"},
	};
	static outbox h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct dns_resolver r;
		int rc;

		outbox_clear_error(&h);
		rc = dns_resolver_parse(&h, cases[i].spec, &r);
		if (cases[i].shown) {
			EXPECT_INT(rc, 0, cases[i].spec);
			EXPECT_STR(dns_resolver_name(&r), cases[i].shown, cases[i].spec);
		} else {
			EXPECT_INT(rc, OUTBOX_EINVALID, cases[i].spec);
			EXPECT_STR(outbox_errfield(&h), "resolver", cases[i].spec);
			EXPECT_CONTAINS(outbox_errmsg(&h), cases[i].words, cases[i].spec);
			EXPECT_INT(r.given, 0, "nothing half-set");
		}
	}
	EXPECT_STR(dns_resolver_name(NULL), "the system's resolver", "no resolver given");
}

static void test_query_name(void **state)
{
	static outbox h;
	char out[DNS_NAME_SIZE];

	(void)state;
	EXPECT_INT(dns_query_name(&h, "domain", "_submission._tcp.", "Example.test.", out, sizeof out), 0,
		   outbox_errmsg(&h));
	EXPECT_STR(out, "_submission._tcp.Example.test", "a trailing dot is dropped");
	EXPECT_INT(dns_query_name(&h, "domain", "", "bücher.test", out, sizeof out), 0, outbox_errmsg(&h));
	EXPECT_STR(out, "xn--bcher-kva.test", "an international name in ASCII");
	EXPECT_INT(dns_query_name(&h, "domain", "", "192.0.2.1", out, sizeof out), OUTBOX_EINVALID, "an IP");
	EXPECT_STR(outbox_errmsg(&h), "domain: 192.0.2.1 is an IP address, not a domain name", "words");
	EXPECT_INT(dns_query_name(&h, "domain", "", "bad name.test", out, sizeof out), OUTBOX_EINVALID,
		   "a space");
	EXPECT_STR(outbox_errfield(&h), "domain", "the field is named");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_srv_in_rfc2782_order),
		cmocka_unit_test(test_srv_dot_target),
		cmocka_unit_test(test_status_by_rcode),
		cmocka_unit_test(test_broken_answers),
		cmocka_unit_test(test_addresses_through_a_cname),
		cmocka_unit_test(test_mx_order_and_null_mx),
		cmocka_unit_test(test_long_answer_keeps_the_most_preferred),
		cmocka_unit_test(test_registered_domain_rule),
		cmocka_unit_test(test_registered_domain_by_the_list),
		cmocka_unit_test(test_resolver_value),
		cmocka_unit_test(test_query_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
