/* fuzz_address_list.c: libFuzzer target for the address-list parser (To:, Cc:, From: bodies) and
 * for the recipient forms each address then meets: validate_address, as for -t and the envelope.
 *
 * Input: byte 0 says after how many addresses the callback stops the parse; the rest is a header
 * field's body. Stopping early must give a prefix of the full run, and what validation accepts
 * must be safe on the wire: no control bytes, an "@", within the length limit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address_list.h"
#include "handle_internal.h"
#include "record.h"
#include "validate.h"
#include "fuzz.h"

struct seen {
	outbox *h;
	size_t input_len;
	char **addr;
	size_t n;
	size_t stop_after; /* 0: never stop */
	int has_nul;
};

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void check_accepted(const char *addr)
{
	const unsigned char *p;

	CHECK(strlen(addr) <= 254); /* validate.c's ADDRESS_MAX */
	for (p = (const unsigned char *)addr; *p; p++)
		CHECK(*p >= 0x20 && *p != 0x7f);
	CHECK(strchr(addr, '@') != NULL);
}

static int take(void *ctx, const char *addr)
{
	struct seen *s = ctx;
	size_t len = strlen(addr);
	int rc;

	/* An address is a piece of the input put back together: never longer, never starting with
	 * the white space that separated it, and never empty, unless a NUL (which message.c refuses
	 * before any header is parsed) cut it short. */
	CHECK(len <= s->input_len);
	CHECK(len > 0 || s->has_nul);
	CHECK(len == 0 || !is_space(addr[0]));
	rc = validate_address(s->h, "message", addr);
	if (rc == 0)
		check_accepted(addr);
	else
		CHECK(rc == OUTBOX_EINVALID && s->h->err_message[0] != '\0');
	CHECK(strv_append(&s->addr, &s->n, addr) == 0);
	return s->stop_after && s->n == s->stop_after ? 1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen all = {0}, some = {0};
	const char *body;
	size_t len, i;
	outbox h;

	if (size < 1)
		return 0;
	body = (const char *)data + 1;
	len = size - 1;
	memset(&h, 0, sizeof h);
	all.h = some.h = &h;
	all.input_len = some.input_len = len;
	some.stop_after = data[0] % 8 + 1;
	all.has_nul = some.has_nul = memchr(body, '\0', len) != NULL;
	CHECK(address_list_parse(body, len, take, &all) == 0);
	CHECK(address_list_parse(body, len, take, &some) == 0);
	/* Stopping early changes nothing before the stop. */
	CHECK(some.n == (all.n < some.stop_after ? all.n : some.stop_after));
	for (i = 0; i < some.n; i++)
		CHECK(strcmp(some.addr[i], all.addr[i]) == 0);
	strv_free(all.addr);
	strv_free(some.addr);
	return 0;
}
