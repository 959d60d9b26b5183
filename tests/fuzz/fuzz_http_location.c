/* fuzz_http_location.c: libFuzzer target for a redirect's Location as setup's lookups read it: the
 * header line picked apart (http_location.c), then resolved and judged (autoconfig_redirect.c).
 *
 * Input: byte 0 picks the URL the answer came from (low bit: https://, or a plain loopback
 * --ispdb); the rest is one header line as a server sent it. libcurl's URL parser is loaded with
 * dlopen and not instrumented: what is steered is outbox's own reading and rule. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "autoconfig_redirect.h"
#include "handle_internal.h"
#include "http.h"
#include "fuzz.h"

static const char *const bases[] = {"https://autoconfig.example.test/mail/config-v1.1.xml?emailaddress=a%40b",
				    "http://127.0.0.1:8080/v1.1/example.test"};

/* A value kept is a URI reference's bytes only: printable ASCII, no space, NUL-terminated. */
static void check_value(const char *v, size_t size)
{
	size_t n = strnlen(v, size), i;

	CHECK(n >= 1 && n < size);
	for (i = 0; i < n; i++)
		CHECK(v[i] > 0x20 && v[i] < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct autoconfig_hops hops;
	struct http_response resp;
	outbox h = {0};
	const char *base;
	int found, rc;

	if (size < 1)
		return 0;
	base = bases[data[0] & 1];
	memset(&resp, 0, sizeof resp);
	resp.status = 302;
	found = http_location_value((const char *)data + 1, size - 1, resp.location, sizeof resp.location);
	CHECK(found >= -1 && found <= 1);
	if (found == 1)
		check_value(resp.location, sizeof resp.location);
	else
		CHECK(resp.location[0] == '\0');
	resp.location_bad = found < 0;
	CHECK(autoconfig_redirect_start(&h, &hops, base) == 0);
	rc = autoconfig_redirect_next(&h, &hops, &resp);
	if (rc == 0) {
		/* Followed: one more URL, never plain http after https, and one http.c would ask. */
		const char *next = hops.url[hops.n - 1];

		CHECK(hops.n == 2);
		CHECK(strcmp(next, base) != 0);
		if ((data[0] & 1) == 0)
			CHECK(strncmp(next, "https://", 8) == 0);
		CHECK(http_url_check(&h, "url", next) == 0);
	} else {
		/* Refused: a code the lookup reports as "failed", and one printable line saying why. */
		const unsigned char *m = (const unsigned char *)outbox_errdetail(&h);

		CHECK(rc == OUTBOX_EPROTOCOL || rc == OUTBOX_ENOMEM);
		CHECK(hops.n == 1);
		CHECK(*m != '\0');
		for (; *m; m++)
			CHECK(*m >= 0x20 && *m != 0x7f);
	}
	return 0;
}
