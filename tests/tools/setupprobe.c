/* tests/tools/setupprobe.c: probes the candidates given on the command line, chooses one and, with
 * a password on stdin, checks the login (setup_probe.c, setup_choose.c, setup_verify.c), printing
 * each step as JSON lines, so end-to-end tests drive the library against real servers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handle_internal.h"
#include "net.h"
#include "setup_choose.h"
#include "setup_probe.h"
#include "setup_verify.h"
#include "tool_json.h"

static int usage(void)
{
	fprintf(stderr, "usage: setupprobe [--deadline-ms N] [--login-deadline-ms N] [--tls-ca FILE] "
		"[--resolver HOST:PORT] [--parallel N] [--password-stdin | --oauth] ADDRESS "
		"SOURCE:HOST:PORT:SECURITY[:RANK[:AUTH[:USERNAME[:OAUTH]]]]...\n");
	return 64;
}

/* A whole decimal number in [min, max], or -1. */
static int parse_int(const char *text, long min, long max, int *out)
{
	char *end = NULL;
	long v = strtol(text, &end, 10);

	if (end == text || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

/* SOURCE:HOST:PORT:SECURITY[:RANK[:AUTH[:USERNAME[:OAUTH]]]], HOST without colons; OAUTH is the
 * preset the source's oAuth2 entry would map to ("google"). */
static int parse_candidate(const char *spec, struct setup_candidate *c)
{
	char copy[1024], *field[8] = {0}, *p;
	size_t n = 0;

	memset(c, 0, sizeof *c);
	if (strlen(spec) >= sizeof copy)
		return -1;
	snprintf(copy, sizeof copy, "%s", spec);
	for (p = copy; n < 8; n++) {
		field[n] = p;
		if ((p = strchr(p, ':')) == NULL) {
			n++;
			break;
		}
		*p++ = '\0';
	}
	if (n < 4 || tool_json_source_parse(field[0], &c->source) < 0)
		return -1;
	snprintf(c->host, sizeof c->host, "%s", field[1]);
	if (parse_int(field[2], 1, 65535, &c->port) < 0)
		return -1;
	if (strcmp(field[3], "tls") == 0)
		c->security = SETUP_SECURITY_TLS;
	else if (strcmp(field[3], "starttls") == 0)
		c->security = SETUP_SECURITY_STARTTLS;
	else if (strcmp(field[3], "none") == 0)
		c->security = SETUP_SECURITY_NONE;
	else
		return -1;
	if (n > 4 && parse_int(field[4], 0, 1000000, &c->rank) < 0)
		return -1;
	snprintf(c->auth, sizeof c->auth, "%s", n > 5 ? field[5] : "auto");
	snprintf(c->username, sizeof c->username, "%s", n > 6 ? field[6] : "");
	snprintf(c->oauth, sizeof c->oauth, "%s", n > 7 ? field[7] : "");
	snprintf(c->origin, sizeof c->origin, "%s", spec);
	return 0;
}

static void print_probe(const struct setup_probe *p)
{
	static const char *const states[] = {"ok", "failed", "no_answer", "skipped"};
	static const char *const steps[] = {"connect", "tls", "ehlo"};
	static const struct {
		unsigned bit;
		const char *name;
	} exts[] = {{SMTP_EXT_SIZE, "SIZE"},         {SMTP_EXT_8BITMIME, "8BITMIME"},
		    {SMTP_EXT_SMTPUTF8, "SMTPUTF8"}, {SMTP_EXT_PIPELINING, "PIPELINING"},
		    {SMTP_EXT_CHUNKING, "CHUNKING"}, {SMTP_EXT_STARTTLS, "STARTTLS"},
		    {SMTP_EXT_DSN, "DSN"},           {SMTP_EXT_ENHANCEDSTATUSCODES, "ENHANCEDSTATUSCODES"}};
	size_t i, shown = 0;

	printf("{\"kind\": \"probe\"");
	tool_json_field("host", p->host);
	printf(", \"port\": %d", p->port);
	tool_json_field("security", setup_probe_security_word(p->security));
	tool_json_field("state", states[p->state]);
	tool_json_field("step", p->state == SETUP_PROBE_OK ? "" : steps[p->step]);
	tool_json_field("error", p->error);
	tool_json_field("peer", p->peer);
	tool_json_field("tls", p->tls);
	tool_json_field("greeting", p->greeting);
	tool_json_field("auth", p->caps.auth);
	printf(", \"size\": %llu, \"extensions\": [", p->caps.size);
	for (i = 0; i < sizeof exts / sizeof exts[0]; i++)
		if (p->caps.ext & exts[i].bit)
			printf("%s\"%s\"", shown++ ? ", " : "", exts[i].name);
	printf("], \"connect_ms\": %lld, \"tls_ms\": %lld, \"ehlo_ms\": %lld}\n", p->connect_ms, p->tls_ms,
	       p->ehlo_ms);
}

static void print_choice(const struct setup_candidates *list, const struct setup_choice *c)
{
	size_t k;

	for (k = 0; k < c->n; k++) {
		size_t i = c->order[k];
		const struct setup_verdict *v = &c->v[i];

		printf("{\"kind\": \"verdict\", \"candidate\": %zu", i);
		tool_json_field("host", list->v[i].host);
		printf(", \"port\": %d", list->v[i].port);
		tool_json_field("security", setup_probe_security_word(list->v[i].security));
		tool_json_field("source", tool_json_source_word(list->v[i].source));
		printf(", \"usable\": %s, \"winner\": %s", v->usable ? "true" : "false",
		       (long)i == c->winner ? "true" : "false");
		tool_json_field("auth", v->auth);
		tool_json_field("mech", v->mech);
		tool_json_field("why", v->why);
		printf("}\n");
	}
}

static void print_chosen(const struct setup_candidates *list, const struct setup_choice *c)
{
	printf("{\"kind\": \"chosen\"");
	if (c->winner < 0) {
		printf(", \"candidate\": null}\n");
		return;
	}
	printf(", \"candidate\": %ld", c->winner);
	tool_json_field("host", list->v[c->winner].host);
	printf(", \"port\": %d", list->v[c->winner].port);
	tool_json_field("security", setup_probe_security_word(list->v[c->winner].security));
	tool_json_field("auth", c->v[c->winner].auth);
	printf("}\n");
}

static void print_login(const struct setup_login_check *l)
{
	size_t i;

	printf("{\"kind\": \"login\", \"candidate\": %ld", l->candidate);
	tool_json_field("user", l->user);
	tool_json_field("form", l->form);
	tool_json_field("mech", l->mech);
	printf(", \"tried\": [");
	for (i = 0; i < l->ntried; i++) {
		printf("%s", i ? ", " : "");
		tool_json_string(l->tried[i]);
	}
	printf("]}\n");
}

static void print_error(outbox *h, int rc)
{
	const char *field = outbox_errfield(h);

	printf("{\"kind\": \"error\", \"code\": %d", rc);
	tool_json_field("field", field ? field : "");
	tool_json_field("message", outbox_errmsg(h));
	printf("}\n");
}

static int read_password(char *out, size_t size)
{
	size_t len;

	if (fgets(out, (int)size, stdin) == NULL)
		return -1;
	len = strcspn(out, "\r\n");
	out[len] = '\0';
	return len > 0 ? 0 : -1;
}

static int parse_ms(const char *text, long long *out)
{
	char *end = NULL;

	*out = strtoll(text, &end, 10);
	return end == text || *end != '\0' || *out < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	static outbox h;
	static char password[1024];
	struct dns_resolver resolver = {0};
	struct setup_probe_options o = {0};
	struct setup_candidates list = {0};
	struct setup_probes probes = {0};
	struct setup_choice choice = {0};
	struct setup_login_check login;
	enum setup_login kind = SETUP_LOGIN_NONE;
	long long deadline_ms = 5000, login_ms = 10000;
	const char *address;
	int i = 1, rc = 0;

	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--password-stdin") == 0) {
			kind = SETUP_LOGIN_PASSWORD;
		} else if (strcmp(argv[i], "--oauth") == 0) {
			kind = SETUP_LOGIN_OAUTH;
		} else if (i + 1 >= argc) {
			return usage();
		} else if (strcmp(argv[i], "--deadline-ms") == 0) {
			if (parse_ms(argv[++i], &deadline_ms) < 0)
				return usage();
		} else if (strcmp(argv[i], "--login-deadline-ms") == 0) {
			if (parse_ms(argv[++i], &login_ms) < 0)
				return usage();
		} else if (strcmp(argv[i], "--tls-ca") == 0) {
			o.tls_ca = argv[++i];
		} else if (strcmp(argv[i], "--parallel") == 0) {
			if (parse_int(argv[++i], 1, 64, &o.parallel) < 0)
				return usage();
		} else if (strcmp(argv[i], "--resolver") == 0) {
			if ((rc = dns_resolver_parse(&h, argv[++i], &resolver)) < 0) {
				print_error(&h, rc);
				return outbox_exit_code(rc);
			}
			o.resolver = &resolver;
		} else {
			return usage();
		}
	}
	if (argc - i < 1)
		return usage();
	address = argv[i++];
	for (; i < argc; i++) {
		struct setup_candidate c;

		if (parse_candidate(argv[i], &c) < 0 || setup_candidates_add(&h, &list, &c) < 0)
			return usage();
	}
	if (kind == SETUP_LOGIN_PASSWORD && read_password(password, sizeof password) < 0) {
		fprintf(stderr, "setupprobe: no password on stdin\n");
		return 64;
	}

	o.deadline_ms = net_now_ms() + deadline_ms;
	if ((rc = setup_probe_run(&h, &list, &o, &probes)) < 0)
		goto out;
	for (size_t k = 0; k < probes.n; k++)
		print_probe(&probes.v[k]);
	if ((rc = setup_choose(&h, address, kind, &list, &probes, &choice)) < 0)
		goto out;
	if (kind == SETUP_LOGIN_PASSWORD && choice.winner >= 0) {
		o.deadline_ms = net_now_ms() + login_ms;
		rc = setup_verify_choice(&h, address, NULL, password, &list, &probes, &choice, &o, &login);
		print_login(&login);
	}
	print_choice(&list, &choice);
	print_chosen(&list, &choice);
	if (rc == 0 && choice.winner < 0)
		rc = outbox_fail(&h, OUTBOX_EUNAVAILABLE, NULL, "no candidate could be used");
out:
	explicit_bzero(password, sizeof password);
	if (rc < 0)
		print_error(&h, rc);
	setup_choice_free(&choice);
	setup_probes_free(&probes);
	setup_candidates_free(&list);
	fflush(stdout);
	return rc < 0 ? outbox_exit_code(rc) : 0;
}
