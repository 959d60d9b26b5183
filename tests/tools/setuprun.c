/* tests/tools/setuprun.c: one whole discovery run (outbox_setup_discover) whose progress can cancel
 * it, printing each progress line and how the call ended as JSON lines, so end-to-end tests can
 * show what a cancel stops (no login) and that the call does not wait for the lookups it leaves. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handle_internal.h"
#include "net.h"
#include "outbox/setup.h"
#include "tool_json.h"

struct run_watch {
	const char *cancel_at; /* cancel at the first line starting with this; NULL: never */
	long long cancelled_at; /* net_now_ms when it said so, or -1 */
};

static int run_progress(void *ctx, const char *what)
{
	struct run_watch *w = ctx;

	if (what) {
		printf("{\"kind\": \"progress\", \"line\": ");
		tool_json_string(what);
		printf("}\n");
		fflush(stdout);
	}
	if (w->cancelled_at < 0 && w->cancel_at && what && strncmp(what, w->cancel_at, strlen(w->cancel_at)) == 0)
		w->cancelled_at = net_now_ms();
	return w->cancelled_at >= 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: setuprun [--resolver HOST:PORT] [--tls-ca FILE] [--ispdb URL] [--timeout-ms N] "
		"[--password-stdin] [--cancel-at PREFIX] ADDRESS\n");
	return 64;
}

int main(int argc, char **argv)
{
	static outbox h;
	outbox_setup_options o = {0};
	outbox_setup_result *r = NULL;
	struct run_watch w = {NULL, -1};
	char password[512];
	long long ended;
	int i, rc;

	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		const char *name = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;

		if (strcmp(name, "--password-stdin") == 0) {
			if (fgets(password, sizeof password, stdin) == NULL)
				return usage();
			password[strcspn(password, "\n")] = '\0';
			o.password = password;
			continue;
		}
		if (v == NULL)
			return usage();
		i++;
		if (strcmp(name, "--resolver") == 0)
			o.resolver = v;
		else if (strcmp(name, "--tls-ca") == 0)
			o.tls_ca = v;
		else if (strcmp(name, "--ispdb") == 0)
			o.ispdb = v;
		else if (strcmp(name, "--cancel-at") == 0)
			w.cancel_at = v;
		else if (strcmp(name, "--timeout-ms") == 0) {
			o.timeout_ms = strtoll(v, &end, 10);
			if (end == v || *end != '\0' || o.timeout_ms <= 0)
				return usage();
		} else
			return usage();
	}
	if (argc - i != 1)
		return usage();
	rc = outbox_setup_discover(&h, argv[i], &o, run_progress, &w, &r);
	ended = net_now_ms();
	printf("{\"kind\": \"end\", \"rc\": %d, \"cancelled\": %s, \"result\": %s, \"ms_after_cancel\": %lld, "
	       "\"error\": ", rc, rc == OUTBOX_ECANCELLED ? "true" : "false", r ? "true" : "false",
	       w.cancelled_at >= 0 ? ended - w.cancelled_at : -1);
	tool_json_string(outbox_errmsg(&h));
	printf("}\n");
	fflush(stdout);
	/* As a program about to exit should: the lookups a cancel left end by the deadline. */
	if (!outbox_setup_settle(o.timeout_ms + 5000))
		fprintf(stderr, "setuprun: threads still running at exit\n");
	outbox_setup_result_free(r);
	memset(password, 0, sizeof password);
	return rc == 0 ? 0 : outbox_exit_code(rc);
}
