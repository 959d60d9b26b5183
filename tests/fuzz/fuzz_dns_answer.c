/* fuzz_dns_answer.c: libFuzzer target for dns_answer_parse, the reading of a name server's
 * response (libresolv's parser underneath, loaded with dlopen as in the real program).
 *
 * Input: byte 0 picks the query (low two bits: SRV, MX, A, AAAA, each for a fixed name, which
 * the seeds' question sections carry); the remaining bytes are the response. */
#include <arpa/nameser.h>
#include <string.h>
#include <sys/socket.h>

#include "dns_answer.h"
#include "handle_internal.h"
#include "fuzz.h"

static const struct {
	int type;
	const char *qname;
} queries[] = {
	{ns_t_srv, "_submissions._tcp.example.test"},
	{ns_t_mx, "example.test"},
	{ns_t_a, "mail.example.test"},
	{ns_t_aaaa, "mail.example.test"},
};

/* What a caller connects to: a lowercase LDH host name with non-empty labels. */
static void check_host(const char *s)
{
	size_t n = strlen(s), i;

	CHECK(n >= 1 && n <= 253 && s[0] != '.' && s[n - 1] != '.' && strstr(s, "..") == NULL);
	for (i = 0; i < n; i++)
		CHECK((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '.');
}

static void check_records(const struct dns_answer *a, int type)
{
	size_t i;

	CHECK(a->n >= 1 && a->n <= DNS_MAX_RECORDS);
	for (i = 0; i < a->n; i++) {
		const struct dns_record *r = &a->v[i];

		if (type == ns_t_a || type == ns_t_aaaa) {
			CHECK(r->family == (type == ns_t_a ? AF_INET : AF_INET6));
			CHECK(strchr(r->name, type == ns_t_a ? '.' : ':') != NULL);
			continue;
		}
		check_host(r->name);
		CHECK(r->priority >= 0 && r->priority <= 65535 && r->family == 0);
		/* Sorted: priority (preference) never goes down; within one, SRV weight never goes up. */
		if (i > 0) {
			CHECK(r->priority >= a->v[i - 1].priority);
			if (type == ns_t_srv && r->priority == a->v[i - 1].priority)
				CHECK(r->weight <= a->v[i - 1].weight);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static outbox h;
	struct dns_answer a;
	const unsigned char *p;
	int type, rc;

	if (size < 1)
		return 0;
	type = queries[data[0] & 3].type;
	outbox_clear_error(&h);
	rc = dns_answer_parse(&h, data + 1, size - 1, queries[data[0] & 3].qname, type, &a);
	if (rc == 0) {
		CHECK(a.status == DNS_ANSWER_RECORDS || a.status == DNS_ANSWER_NODATA ||
		      a.status == DNS_ANSWER_NXDOMAIN || a.status == DNS_ANSWER_NULL);
		if (a.status == DNS_ANSWER_RECORDS)
			check_records(&a, type);
		else
			CHECK(a.n == 0);
		return 0;
	}
	/* A failure is one printable line, and nothing of the answer is kept. */
	CHECK(rc == OUTBOX_EPROTOCOL);
	CHECK(a.n == 0 && a.status == DNS_ANSWER_NODATA);
	CHECK(h.err_message[0] != '\0');
	for (p = (const unsigned char *)h.err_message; *p; p++)
		CHECK(*p >= 0x20 && *p < 0x7f);
	return 0;
}
