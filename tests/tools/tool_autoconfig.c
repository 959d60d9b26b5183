/* tool_autoconfig.c: one autoconfig lookup (autoconfig_fetch) from the command line, for the
 * end-to-end tests of the HTTPS sources until `outbox setup` drives them; prints name=value lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoconfig_fetch.h"
#include "handle_internal.h"

static const char *const sources[] = {"autoconfig", "well-known", "ispdb", "srv", "mx", "guess"};
static const char *const outcomes[] = {"found", "not-offered", "no-answer", "failed"};
static const char *const securities[] = {"tls", "starttls", "none"};

static int usage(void)
{
	fprintf(stderr, "usage: tool_autoconfig [--ispdb URL] [--ca FILE] [--timeout-ms N] "
			"[--pin HOST=ADDRESS]... [--oauth] [--domain DOMAIN] "
			"autoconfig|well-known|ispdb|mx ADDRESS\n");
	return 64;
}

int main(int argc, char **argv)
{
	struct autoconfig_fetch f = {0};
	struct http_pin pins[16];
	struct setup_candidates list = {0};
	struct setup_report r;
	const char *domain = NULL;
	outbox h = {0};
	int i, source = -1, rc;
	size_t k;

	f.timeout_ms = 10000;
	f.pins = pins;
	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(argv[i], "--oauth") == 0) {
			f.oauth_usable = 1;
			continue;
		}
		if (v == NULL)
			return usage();
		i++;
		if (strcmp(argv[i - 1], "--ispdb") == 0) {
			f.ispdb = v;
		} else if (strcmp(argv[i - 1], "--ca") == 0) {
			f.ca_file = v;
		} else if (strcmp(argv[i - 1], "--timeout-ms") == 0) {
			char *end;

			f.timeout_ms = strtol(v, &end, 10);
			if (*end != '\0' || f.timeout_ms < 0)
				return usage();
		} else if (strcmp(argv[i - 1], "--domain") == 0) {
			domain = v;
		} else if (strcmp(argv[i - 1], "--pin") == 0 && f.pin_count < 16 && strchr(v, '=')) {
			char *eq = strchr(argv[i], '=');

			*eq = '\0';
			pins[f.pin_count].host = argv[i];
			pins[f.pin_count++].address = eq + 1;
		} else {
			return usage();
		}
	}
	if (argc - i != 2)
		return usage();
	for (k = 0; k < sizeof sources / sizeof sources[0]; k++)
		if (strcmp(argv[i], sources[k]) == 0)
			source = (int)k;
	if (source < 0)
		return usage();
	f.address = argv[i + 1];
	rc = autoconfig_fetch(&h, &f, (enum setup_source)source, domain, &list, &r);
	printf("report.source=%s\nreport.what=%s\nreport.outcome=%s\nreport.ms=%lld\n"
	       "report.detail=%s\n", sources[r.source], r.what, outcomes[r.outcome], r.ms, r.detail);
	for (k = 0; k < list.n; k++) {
		const struct setup_candidate *c = &list.v[k];

		printf("candidate.%zu.host=%s\ncandidate.%zu.port=%d\ncandidate.%zu.security=%s\n"
		       "candidate.%zu.auth=%s\ncandidate.%zu.username=%s\ncandidate.%zu.oauth=%s\n"
		       "candidate.%zu.source=%s\ncandidate.%zu.origin=%s\ncandidate.%zu.display_name=%s\n"
		       "candidate.%zu.rank=%d\n", k, c->host, k, c->port, k, securities[c->security], k,
		       c->auth, k, c->username, k, c->oauth, k, sources[c->source], k, c->origin, k,
		       c->display_name, k, c->rank);
	}
	setup_candidates_free(&list);
	if (rc < 0) {
		fprintf(stderr, "tool_autoconfig: %s\n", outbox_errmsg(&h));
		return outbox_exit_code(rc);
	}
	return 0;
}
