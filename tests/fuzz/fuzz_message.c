/* fuzz_message.c: libFuzzer target for message_prepare with -t on, with and without sendmail's "."
 * rule. Whatever the input, accepted output must be wire form, and dot-stuffing must undo exactly. */
#ifndef _GNU_SOURCE /* memfd_create; the Makefile may define it already */
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "handle_internal.h"
#include "message.h"
#include "fuzz.h"

static char *read_back(int fd, size_t *len)
{
	off_t size = lseek(fd, 0, SEEK_END);
	char *p;

	CHECK(size >= 0);
	p = malloc((size_t)size + 1);
	CHECK(p != NULL);
	CHECK(pread(fd, p, (size_t)size, 0) == size);
	*len = (size_t)size;
	return p;
}

/* CRLF only, no NUL, a final CRLF; no header line over 998 octets, and a body line over 998 only
 * when long_lines says so (the caller converts the message then). */
static void check_wire_form(const char *s, size_t len, int long_lines)
{
	size_t i, line = 0;
	int in_body = 0, seen_long = 0;

	CHECK(len >= 2 && s[len - 2] == '\r' && s[len - 1] == '\n');
	for (i = 0; i < len; i++) {
		CHECK(s[i] != '\0');
		if (s[i] == '\r') {
			CHECK(i + 1 < len && s[i + 1] == '\n');
		} else if (s[i] == '\n') {
			CHECK(i > 0 && s[i - 1] == '\r');
			in_body |= line == 0;
			line = 0;
		} else if (++line > MESSAGE_MAX_LINE) {
			CHECK(in_body);
			seen_long = 1;
		}
	}
	CHECK(seen_long == long_lines);
}

/* Stuff in two pieces cut where the input says, then unstuff: the message must come back, and no
 * stuffed line may start with a lone '.'. */
static void check_dot_stuff(const char *s, size_t len, size_t cut)
{
	struct buf out = BUF_INIT;
	int start = 1;
	size_t i, o = 0;

	CHECK(message_dot_stuff(s, cut, &start, &out) == 0);
	CHECK(message_dot_stuff(s + cut, len - cut, &start, &out) == 0);
	CHECK(start == 1);
	for (i = 0; i < out.len; i++) {
		if ((i == 0 || out.data[i - 1] == '\n') && out.data[i] == '.') {
			CHECK(i + 1 < out.len && out.data[i + 1] == '.');
			i++;
		}
		CHECK(o < len && out.data[i] == s[o]);
		o++;
	}
	CHECK(o == len);
	buf_free(&out);
}

static void run(const uint8_t *data, size_t size, int dot_ends_input)
{
	struct message_options opt = {
		.extract_recipients = 1,
		.dot_ends_input = dot_ends_input,
		.from_address = "fuzz@example.org",
		.from_name = "Zoë \"Fuzz\", Jr.",
		.domain = "example.org",
		.now = 1795926600,
	};
	struct message_info info;
	outbox h;
	int in = memfd_create("fuzz-in", MFD_CLOEXEC), out = memfd_create("fuzz-out", MFD_CLOEXEC);
	char *wire;
	size_t len, i;
	int rc;

	CHECK(in >= 0 && out >= 0);
	CHECK(write(in, data, size) == (ssize_t)size);
	CHECK(lseek(in, 0, SEEK_SET) == 0);
	memset(&h, 0, sizeof h);
	rc = message_prepare(&h, in, out, &opt, &info);
	wire = read_back(out, &len);
	if (rc < 0) {
		/* a refusal says why, and leaves nothing for the caller to free */
		CHECK(rc == OUTBOX_EINVALID && h.err_message[0] != '\0');
		CHECK(info.recipients == NULL && info.message_id == NULL && info.from == NULL);
	} else {
		CHECK(rc == 0 && info.size == (off_t)len);
		check_wire_form(wire, len, info.long_lines);
		CHECK(info.recipients != NULL && info.message_id != NULL);
		for (i = 0; info.recipients[i] != NULL; i++)
			CHECK(info.recipients[i][0] != '\0');
		for (i = 0; i < len && (unsigned char)wire[i] < 0x80; i++)
			;
		CHECK(i == len || info.has_8bit);
		check_dot_stuff(wire, len, size ? data[0] % (len + 1) : 0);
		message_info_free(&info);
	}
	free(wire);
	close(in);
	close(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run(data, size, 0);
	run(data, size, 1);
	return 0;
}
