/* tests/tools/autoconfig_lookup.c: runs one of setup's HTTPS lookups (autoconfig_fetch.c) and prints
 * its report and candidates as JSON lines, so the end-to-end tests can check it against a server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoconfig_fetch.h"
#include "handle_internal.h"
#include "net.h"
#include "tool_json.h"

static int usage(void)
{
	fprintf(stderr, "usage: autoconfig_lookup [--ispdb URL] [--ca FILE] [--deadline-ms N] "
			"[--pin HOST=ADDRESS]... [--oauth] [--domain DOMAIN] "
			"autoconfig|well-known|ispdb|mx ADDRESS\n");
	return 64;
}

int main(int argc, char **argv)
{
	static outbox h;
	struct autoconfig_fetch f = {0};
	struct http_pin pins[16];
	struct setup_candidates list = {0};
	struct setup_report r;
	const char *domain = NULL;
	long long deadline_ms = 10000;
	enum setup_source source;
	int i, rc;
	size_t k;

	f.pins = pins;
	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *name = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;

		if (strcmp(name, "--oauth") == 0) {
			f.oauth_usable = 1;
			continue;
		}
		if (v == NULL)
			return usage();
		i++;
		if (strcmp(name, "--ispdb") == 0) {
			f.ispdb = v;
		} else if (strcmp(name, "--ca") == 0) {
			f.ca_file = v;
		} else if (strcmp(name, "--domain") == 0) {
			domain = v;
		} else if (strcmp(name, "--deadline-ms") == 0) {
			deadline_ms = strtoll(v, &end, 10);
			if (end == v || *end != '\0' || deadline_ms < 0)
				return usage();
		} else if (strcmp(name, "--pin") == 0 && f.pin_count < 16 && strchr(v, '=') != NULL) {
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
	if (tool_json_source_parse(argv[i], &source) < 0)
		return usage();
	f.address = argv[i + 1];
	f.deadline_ms = net_now_ms() + deadline_ms;
	rc = autoconfig_fetch(&h, &f, source, domain, &list, &r);
	tool_json_report(&r);
	for (k = 0; k < list.n; k++)
		tool_json_candidate(&list.v[k]);
	setup_candidates_free(&list);
	fflush(stdout);
	if (rc < 0) {
		fprintf(stderr, "autoconfig_lookup: %s\n", outbox_errmsg(&h));
		return outbox_exit_code(rc);
	}
	return 0;
}
