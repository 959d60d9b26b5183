/* fuzz_convert.c: libFuzzer target for convert_message behind message_prepare, as `send` runs them.
 * Whatever GMime makes of the input, a converted message must be legal wire form, 7-bit if it says so. */
#ifndef _GNU_SOURCE /* memfd_create; the Makefile may define it already */
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "convert.h"
#include "handle_internal.h"
#include "message.h"
#include "fuzz.h"

/* CRLF only, no line over 998 octets, a final CRLF, and no octet >= 0x80 unless has_8bit. */
static void check_converted(int fd, const struct convert_result *res)
{
	off_t size = lseek(fd, 0, SEEK_END);
	size_t i, line = 0;
	char *s;

	CHECK(size == res->size && size >= 2);
	s = malloc((size_t)size);
	CHECK(s != NULL && pread(fd, s, (size_t)size, 0) == size);
	CHECK(s[size - 2] == '\r' && s[size - 1] == '\n');
	for (i = 0; i < (size_t)size; i++) {
		CHECK(res->has_8bit || (unsigned char)s[i] < 0x80);
		if (s[i] == '\r')
			CHECK(i + 1 < (size_t)size && s[i + 1] == '\n');
		else if (s[i] == '\n')
			CHECK(i > 0 && s[i - 1] == '\r');
		line = s[i] == '\r' || s[i] == '\n' ? 0 : line + 1;
		CHECK(line <= MESSAGE_MAX_LINE);
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct message_options opt = {.from_address = "fuzz@example.org", .domain = "example.org", .now = 1795926600};
	struct message_info info;
	struct convert_result res;
	outbox h;
	int in = memfd_create("fuzz-in", MFD_CLOEXEC), wire = memfd_create("fuzz-wire", MFD_CLOEXEC);
	int out = memfd_create("fuzz-out", MFD_CLOEXEC), rc;

	CHECK(in >= 0 && wire >= 0 && out >= 0);
	CHECK(write(in, data, size) == (ssize_t)size);
	CHECK(lseek(in, 0, SEEK_SET) == 0);
	memset(&h, 0, sizeof h);
	if (message_prepare(&h, in, wire, &opt, &info) == 0) {
		rc = convert_message(&h, wire, out, CONVERT_LONG_LINES | CONVERT_8BIT | CONVERT_HEADERS, &res);
		/* A refusal says why: a line that stays too long (in a part's header). */
		CHECK(rc == 0 || (rc == OUTBOX_EINVALID && h.err_message[0] != '\0'));
		if (rc == 0)
			check_converted(out, &res);
		CHECK(rc != 0 || !res.header_8bit || res.has_8bit); /* an 8-bit header is 8-bit output */
		message_info_free(&info);
	}
	close(in);
	close(wire);
	close(out);
	return 0;
}
