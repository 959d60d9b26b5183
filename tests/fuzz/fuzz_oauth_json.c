/* fuzz_oauth_json.c: libFuzzer target for a provider's answers (oauth_json.c over json-c): token
 * responses, device authorization responses and OAuth error bodies, under every kind of status.
 *
 * Input: byte 0 picks the parser (low two bits) and the HTTP status (the rest); the remaining
 * bytes are the body. json-c is loaded with dlopen as in the real program: it is not instrumented,
 * so the fuzzer steers by the coverage of outbox's own judging, which is the code under test. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "handle_internal.h"
#include "oauth.h"
#include "fuzz.h"

static const long statuses[] = {200, 201, 204, 302, 400, 401, 403, 404, 429, 500, 503, 100};
#define STATUS_COUNT (sizeof statuses / sizeof statuses[0])

/* A handed-out token or code: 1..OAUTH_MAX_TOKEN visible ASCII bytes, no space. */
static void check_token(const char *s)
{
	size_t n = strlen(s), i;

	CHECK(n >= 1 && n <= OAUTH_MAX_TOKEN);
	for (i = 0; i < n; i++)
		CHECK(s[i] > 0x20 && s[i] < 0x7f);
}

static void check_text(const char *s)
{
	size_t i;

	CHECK(*s != '\0');
	for (i = 0; s[i]; i++)
		CHECK(s[i] >= 0x20 && s[i] < 0x7f);
}

/* A failure is one line with words, and a code a caller knows. */
static void check_failure(const outbox *h, int rc)
{
	const unsigned char *p = (const unsigned char *)h->err_message;

	CHECK(rc == OUTBOX_EAUTH || rc == OUTBOX_ECONFIG || rc == OUTBOX_ETEMPFAIL ||
	      rc == OUTBOX_EPROTOCOL || rc == OUTBOX_EUNAVAILABLE || rc == OUTBOX_ENOMEM);
	CHECK(*p != '\0');
	for (; *p; p++)
		CHECK(*p >= 0x20 && *p != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static outbox h;
	const char *body;
	long status;
	int rc;

	if (size < 1)
		return 0;
	status = statuses[(data[0] >> 2) % STATUS_COUNT];
	body = (const char *)data + 1;
	size--;
	outbox_clear_error(&h);
	switch (data[0] & 3) {
	case 0:
	case 3: {
		struct oauth_tokens t;

		rc = oauth_token_parse(&h, status, body, size, &t);
		if (rc == 0) {
			CHECK(status >= 200 && status < 300);
			check_token(t.access_token);
			if (t.refresh_token)
				check_token(t.refresh_token);
			if (t.scope)
				check_text(t.scope);
			CHECK(t.expires_in >= 0 && t.expires_in <= OAUTH_MAX_EXPIRES_IN);
		} else if (rc == OAUTH_PENDING || rc == OAUTH_SLOW_DOWN) {
			CHECK(status >= 400 && status < 500 && t.access_token == NULL);
		} else {
			check_failure(&h, rc);
			CHECK(t.access_token == NULL && t.refresh_token == NULL && t.scope == NULL);
		}
		oauth_tokens_free(&t);
		break;
	}
	case 1: {
		struct oauth_device d;

		rc = oauth_device_parse(&h, status, body, size, &d);
		if (rc == 0) {
			check_token(d.device_code);
			check_text(d.user_code);
			check_token(d.verification_uri);
			if (d.verification_uri_complete)
				check_token(d.verification_uri_complete);
			CHECK(d.expires_in > 0 && d.interval >= 1 && d.interval <= 300);
		} else {
			check_failure(&h, rc);
			CHECK(d.device_code == NULL && d.user_code == NULL && d.verification_uri == NULL);
		}
		oauth_device_free(&d);
		break;
	}
	default:
		rc = oauth_answer_judge(&h, status, body, size);
		if (rc == 0)
			CHECK(status >= 200 && status < 300);
		else
			check_failure(&h, rc);
		break;
	}
	return 0;
}
