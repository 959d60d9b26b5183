/* fuzz_smtp_reply.c: libFuzzer target for the reply and EHLO parsers. The input is a stream of
 * server bytes, read reply by reply as a pipelining client would, with every promise checked. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_reply.h"
#include "fuzz.h"

static void check_reply(const struct smtp_reply *r)
{
	size_t n = strnlen(r->text, sizeof r->text), i, breaks = 0;

	CHECK(n < sizeof r->text);
	CHECK(r->text_len == n);
	CHECK(r->code >= 200 && r->code <= 599);
	CHECK(smtp_reply_class(r) == r->code / 100);
	CHECK(r->lines >= 1);
	/* An enhanced code is all there or all absent, and never contradicts the reply's class. */
	if (r->enhanced[0] == 0)
		CHECK(r->enhanced[1] == 0 && r->enhanced[2] == 0);
	else
		CHECK(r->enhanced[0] == r->code / 100 && r->enhanced[1] >= 0 &&
		      r->enhanced[1] <= 999 && r->enhanced[2] >= 0 && r->enhanced[2] <= 999);
	/* Whatever the server sent, the text is safe to print: no controls but tab and the '\n'
	 * that joins lines, and no more '\n' than there are line breaks. */
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)r->text[i];

		CHECK(c >= 0x20 || c == '\t' || c == '\n');
		CHECK(c != 0x7f);
		breaks += c == '\n';
	}
	CHECK(breaks <= r->lines - 1);
}

static void check_caps(const struct smtp_caps *caps)
{
	const unsigned all = (1u << 11) - 1;
	size_t n = strnlen(caps->auth, sizeof caps->auth), i, w;

	CHECK(n < sizeof caps->auth);
	CHECK((caps->ext & ~all) == 0);
	if (!(caps->ext & SMTP_EXT_SIZE))
		CHECK(caps->size == 0);
	if (!(caps->ext & SMTP_EXT_AUTH))
		CHECK(n == 0);
	/* Mechanisms: 1-20 upper-case name characters, single spaces, each one found by has_auth,
	 * in lower case too, and a strict prefix of one never found as a word of its own. */
	for (i = 0; i < n;) {
		char word[32], lower[32];
		size_t k;

		for (w = i; i < n && caps->auth[i] != ' '; i++) {
			char c = caps->auth[i];

			CHECK((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_');
		}
		CHECK(i - w >= 1 && i - w <= 20);
		memcpy(word, caps->auth + w, i - w);
		word[i - w] = '\0';
		for (k = 0; k <= i - w; k++)
			lower[k] = word[k] >= 'A' && word[k] <= 'Z' ? (char)(word[k] - 'A' + 'a') : word[k];
		CHECK(smtp_caps_has_auth(caps, word));
		CHECK(smtp_caps_has_auth(caps, lower));
		if (i < n) {
			CHECK(caps->auth[i] == ' ' && i + 1 < n && caps->auth[i + 1] != ' ');
			i++;
		}
	}
	CHECK(!smtp_caps_has_auth(caps, ""));
	CHECK(!smtp_caps_has_auth(caps, NULL));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct smtp_reply r, again;
	struct smtp_caps caps;
	const char *buf = (const char *)data;
	size_t off = 0;

	while (off < size) {
		size_t left = size - off;
		ssize_t n = smtp_reply_parse(buf + off, left, &r), half;

		if (n <= 0) {
			CHECK(n >= SMTP_REPLY_ECONTROL);
			CHECK(smtp_reply_strerror((int)n) != NULL);
			/* Errors are stable: half the stream says INCOMPLETE or the same thing. */
			half = smtp_reply_parse(buf + off, left / 2, &again);
			CHECK(half == 0 || half == n);
			break;
		}
		CHECK((size_t)n <= left);
		CHECK(n <= SMTP_REPLY_MAX_TOTAL);
		check_reply(&r);
		/* The reply ends exactly where the parser said: one byte less is not a reply yet. */
		CHECK(smtp_reply_parse(buf + off, (size_t)n - 1, &again) == 0);
		smtp_caps_parse(&r, &caps);
		check_caps(&caps);
		off += (size_t)n;
	}
	return 0;
}
