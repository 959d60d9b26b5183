/* tests/tools/autoconfig_lookup.c: runs one of setup's HTTPS lookups (autoconfig_fetch.c) and prints
 * its report and candidates as JSON lines, so the end-to-end tests can check it against a server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoconfig_fetch.h"
#include "handle_internal.h"
#include "net.h"

static const char *const sources[] = {"autoconfig", "well-known", "ispdb", "srv", "mx", "guess"};
static const char *const outcomes[] = {"found", "not_offered", "no_answer", "failed"};
static const char *const securities[] = {"tls", "starttls", "none"};

static void json_string(const char *key, const char *s, const char *after)
{
	printf("\"%s\": \"", key);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	printf("\"%s", after);
}

static void print_report(const struct setup_report *r)
{
	printf("{\"kind\": \"report\", \"source\": \"%s\", \"outcome\": \"%s\", \"ms\": %lld, ",
	       sources[r->source], outcomes[r->outcome], r->ms);
	json_string("what", r->what, ", ");
	json_string("detail", r->detail, ", ");
	json_string("redirected_to", r->redirected_to, "}\n");
}

static void print_candidate(const struct setup_candidate *c)
{
	printf("{\"kind\": \"candidate\", \"port\": %d, \"security\": \"%s\", \"source\": \"%s\", "
	       "\"rank\": %d, ", c->port, securities[c->security], sources[c->source], c->rank);
	json_string("host", c->host, ", ");
	json_string("auth", c->auth, ", ");
	json_string("username", c->username, ", ");
	json_string("oauth", c->oauth, ", ");
	json_string("origin", c->origin, ", ");
	json_string("display_name", c->display_name, "}\n");
}

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
	int i, source = -1, rc;
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
	for (k = 0; k < sizeof sources / sizeof sources[0]; k++)
		if (strcmp(argv[i], sources[k]) == 0)
			source = (int)k;
	if (source < 0)
		return usage();
	f.address = argv[i + 1];
	f.deadline_ms = net_now_ms() + deadline_ms;
	rc = autoconfig_fetch(&h, &f, (enum setup_source)source, domain, &list, &r);
	print_report(&r);
	for (k = 0; k < list.n; k++)
		print_candidate(&list.v[k]);
	setup_candidates_free(&list);
	fflush(stdout);
	if (rc < 0) {
		fprintf(stderr, "autoconfig_lookup: %s\n", outbox_errmsg(&h));
		return outbox_exit_code(rc);
	}
	return 0;
}
