/* fuzz_dsn.c: libFuzzer target for the DSN requests (-N, -R, -V) and the ORCPT encodings.
 *
 * Input: up to three NUL-separated strings, NOTIFY, RET and ENVID (a missing one is NULL); the
 * whole input is also encoded as an ORCPT address. What dsn_check accepts must be canonical (it
 * checks again to itself) and fit the wire; every encoding must be printable ASCII without
 * spaces, so it cannot end a parameter or a command. The whole input is also read as xtext (what a
 * -bs client sends): what decodes, written again and decoded, gives the same value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dsn.h"
#include "handle_internal.h"
#include "fuzz.h"

static void check_wire(const struct buf *b)
{
	size_t i;

	for (i = 0; i < b->len; i++)
		CHECK(b->data[i] > 0x20 && b->data[i] < 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *part[3] = {NULL, NULL, NULL}, *p;
	struct dsn_request d, again;
	struct buf b = BUF_INIT;
	outbox h;
	size_t n = 0;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	memset(&h, 0, sizeof h);
	for (p = copy; n < 3 && p <= copy + size; p += strlen(p) + 1)
		part[n++] = p;
	if (dsn_check(&h, part[0], part[1], part[2], &d) == 0) {
		CHECK(dsn_check(&h, d.notify[0] ? d.notify : NULL, d.ret[0] ? d.ret : NULL,
				d.envid[0] ? d.envid : NULL, &again) == 0);
		CHECK(memcmp(&d, &again, sizeof d) == 0);
		CHECK(dsn_xtext(&b, d.envid) == 0);
		CHECK(b.len <= DSN_ENVID_MAX);
		check_wire(&b);
		buf_reset(&b);
	} else {
		CHECK(h.err_field[0] == '-');
	}
	if (copy[0] != '\0') {
		CHECK(dsn_orcpt(&b, copy) == 0);
		check_wire(&b);
	}
	buf_reset(&b);
	if (dsn_xtext_decode(&b, (const char *)data, size) == 0 && b.len > 0) {
		struct buf x = BUF_INIT, back = BUF_INIT;

		CHECK(strlen(b.data) == b.len); /* no NUL inside */
		CHECK(dsn_xtext(&x, b.data) == 0);
		check_wire(&x);
		CHECK(dsn_xtext_decode(&back, x.data, x.len) == 0);
		CHECK(back.len == b.len && memcmp(back.data, b.data, b.len) == 0);
		buf_free(&x);
		buf_free(&back);
	}
	buf_free(&b);
	free(copy);
	return 0;
}
