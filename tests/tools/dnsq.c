/* tests/tools/dnsq.c: runs one of setup's DNS lookups (setup_dns.c) and prints what it gives as
 * JSON lines, so the end-to-end tests can check the library against a real dnsmasq. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handle_internal.h"
#include "net.h"
#include "setup_dns.h"
#include "tool_json.h"

static int run_srv(outbox *h, const struct dns_resolver *r, const char *domain, long long deadline)
{
	struct setup_candidates list = {0};
	struct setup_report reports[2];
	size_t i;
	int rc = setup_dns_srv(h, r, domain, deadline, &list, reports);

	if (rc < 0)
		return rc;
	for (i = 0; i < 2; i++)
		tool_json_report(&reports[i]);
	for (i = 0; i < list.n; i++)
		tool_json_candidate(&list.v[i]);
	setup_candidates_free(&list);
	return 0;
}

static int run_mx(outbox *h, const struct dns_resolver *r, const char *domain, long long deadline)
{
	struct setup_mx mx;
	struct setup_report report;
	char domains[DNS_MAX_RECORDS][DNS_NAME_SIZE];
	size_t i, n;
	int rc = setup_dns_mx(h, r, domain, deadline, &mx, &report);

	if (rc < 0)
		return rc;
	tool_json_report(&report);
	for (i = 0; i < mx.n; i++) {
		printf("{\"kind\": \"mx\", \"host\": ");
		tool_json_string(mx.v[i].host);
		printf(", \"preference\": %d, \"registered\": ", mx.v[i].preference);
		tool_json_string(mx.v[i].registered);
		printf("}\n");
	}
	n = setup_dns_mx_domains(&mx, domains, DNS_MAX_RECORDS);
	printf("{\"kind\": \"mx_domains\", \"domains\": [");
	for (i = 0; i < n; i++) {
		printf("%s", i ? ", " : "");
		tool_json_string(domains[i]);
	}
	printf("]}\n");
	return 0;
}

static int run_addresses(outbox *h, const struct dns_resolver *r, const char *host, long long deadline)
{
	struct setup_addresses a;
	size_t i;
	int rc = setup_dns_addresses(h, r, host, deadline, &a);

	if (rc < 0)
		return rc;
	for (i = 0; i < a.n; i++) {
		printf("{\"kind\": \"address\", \"family\": %d, \"address\": ", a.v[i].family == AF_INET6 ? 6 : 4);
		tool_json_string(a.v[i].name);
		printf("}\n");
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: dnsq [--resolver HOST:PORT] [--deadline-ms N] srv|mx|addr NAME\n");
	return 64;
}

int main(int argc, char **argv)
{
	static outbox h;
	struct dns_resolver resolver = {0};
	long long deadline_ms = 3000;
	int i = 1, rc;

	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--resolver") == 0) {
			if ((rc = dns_resolver_parse(&h, argv[i + 1], &resolver)) < 0)
				break;
		} else if (strcmp(argv[i], "--deadline-ms") == 0) {
			char *end = NULL;

			deadline_ms = strtoll(argv[i + 1], &end, 10);
			if (end == argv[i + 1] || *end != '\0' || deadline_ms < 0)
				return usage();
		} else {
			return usage();
		}
	}
	if (h.err_message[0] != '\0') {
		fprintf(stderr, "dnsq: %s\n", h.err_message);
		return outbox_exit_code(OUTBOX_EINVALID);
	}
	if (argc - i != 2)
		return usage();
	deadline_ms += net_now_ms();
	if (strcmp(argv[i], "srv") == 0)
		rc = run_srv(&h, &resolver, argv[i + 1], deadline_ms);
	else if (strcmp(argv[i], "mx") == 0)
		rc = run_mx(&h, &resolver, argv[i + 1], deadline_ms);
	else if (strcmp(argv[i], "addr") == 0)
		rc = run_addresses(&h, &resolver, argv[i + 1], deadline_ms);
	else
		return usage();
	fflush(stdout);
	if (rc < 0) {
		fprintf(stderr, "dnsq: %s\n", h.err_message);
		return outbox_exit_code(rc);
	}
	return 0;
}
