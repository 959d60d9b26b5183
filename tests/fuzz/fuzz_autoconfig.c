/* fuzz_autoconfig.c: libFuzzer target for autoconfig documents (autoconfig.c over expat): whatever
 * a server sends, a refusal is one line and leaves nothing, and every candidate is one outbox could use.
 *
 * Input: byte 0 picks the domain to match (low two bits) and whether OAuth is usable (bit 2); the
 * remaining bytes are the document. expat is loaded with dlopen as in the real program: it is
 * not instrumented, so the fuzzer steers by the coverage of outbox's own handlers and judging. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "autoconfig.h"
#include "handle_internal.h"
#include "validate.h"
#include "fuzz.h"

static const char *const domains[] = {NULL, "example.test", "mail.test", "other.test"};

static int one_of(const char *s, const char *const *choices)
{
	for (; *choices; choices++)
		if (strcmp(s, *choices) == 0)
			return 1;
	return 0;
}

/* Shown text: no C0 control or DEL (validate_display escapes them). */
static void check_line(const char *s)
{
	for (; *s; s++)
		CHECK((unsigned char)*s >= 0x20 && *s != 0x7f);
}

static void check_candidate(const struct setup_candidate *c, size_t rank)
{
	static const char *const auths[] = {"", "auto", "xoauth2", "none", NULL};
	static const char *const presets[] = {"", "microsoft", "google", NULL};

	CHECK(c->host[0] != '\0' && validate_host(NULL, "host", c->host) == 0);
	CHECK(c->port >= 1 && c->port <= 65535);
	CHECK(c->security == SETUP_SECURITY_TLS || c->security == SETUP_SECURITY_STARTTLS ||
	      c->security == SETUP_SECURITY_NONE);
	CHECK(one_of(c->auth, auths) && one_of(c->oauth, presets));
	CHECK(c->oauth[0] == '\0' || c->auth[0] != '\0');
	CHECK(validate_text(NULL, "username", c->username, sizeof c->username - 1) == 0);
	check_line(c->display_name);
	CHECK(c->source == SETUP_SOURCE_ISPDB && strcmp(c->origin, "https://ispdb.test/x") == 0);
	CHECK(c->rank == (int)rank);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static outbox h;
	struct setup_candidates list = {0};
	struct autoconfig_query q = {"jane.doe@example.test", NULL, SETUP_SOURCE_ISPDB,
				     "https://ispdb.test/x", 0};
	size_t i;
	int rc;

	if (size < 1)
		return 0;
	q.domain = domains[data[0] & 3];
	q.oauth_usable = (data[0] >> 2) & 1;
	outbox_clear_error(&h);
	rc = autoconfig_parse(&h, &q, (const char *)data + 1, size - 1, &list);
	if (rc == 0) {
		CHECK(list.n <= AUTOCONFIG_MAX_SERVERS);
		for (i = 0; i < list.n; i++)
			check_candidate(&list.v[i], i);
	} else {
		CHECK(rc == OUTBOX_EPROTOCOL || rc == OUTBOX_ENOMEM);
		CHECK(list.n == 0);
		CHECK(h.err_message[0] != '\0');
		check_line(h.err_message);
	}
	setup_candidates_free(&list);
	return 0;
}
