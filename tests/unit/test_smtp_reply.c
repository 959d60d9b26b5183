/* test_smtp_reply.c: the reply parser and the EHLO capability reader, in tables of server bytes
 * and what a client must make of them, including every limit a hostile server could push on. */
#include <stdlib.h>
#include <sys/types.h>

#include "smtp_reply.h"
#include "unit.h"

#define ALL 1000000 /* in a table: the reply uses the whole input */

/* Parse from a block of exactly `len` bytes, so the sanitizers catch a read one byte too far. */
static ssize_t parse_exact(const char *in, size_t len, struct smtp_reply *r)
{
	char *copy = malloc(len > 0 ? len : 1);
	ssize_t rc;

	assert_non_null(copy);
	memcpy(copy, in, len);
	rc = smtp_reply_parse(copy, len, r);
	free(copy);
	return rc;
}

/* A malloc'd input of exactly `total` bytes: "250 " (or "250-"), x's, then `eol`. */
static char *line_of(size_t total, const char *sep, const char *eol)
{
	size_t tail = strlen(eol);
	char *s = malloc(total);

	assert_non_null(s);
	memcpy(s, sep, 4);
	memset(s + 4, 'x', total - 4 - tail);
	memcpy(s + total - tail, eol, tail);
	return s;
}

/* A malloc'd multi-line reply of exactly `total` bytes: 100-byte "250-" lines, then a last line. */
static char *reply_of(size_t total)
{
	char *s = malloc(total);
	size_t off = 0;

	assert_non_null(s);
	while (total - off >= 106) {
		memcpy(s + off, "250-", 4);
		memset(s + off + 4, 'x', 94);
		memcpy(s + off + 98, "\r\n", 2);
		off += 100;
	}
	memcpy(s + off, "250 ", 4);
	memset(s + off + 4, 'y', total - off - 6);
	memcpy(s + total - 2, "\r\n", 2);
	return s;
}

/* `unit` repeated to fill `len` bytes (the last copy may be cut). */
static char *repeat_of(const char *unit, size_t len)
{
	size_t u = strlen(unit), i;
	char *s = malloc(len);

	assert_non_null(s);
	for (i = 0; i < len; i++)
		s[i] = unit[i % u];
	return s;
}

struct rcase {
	const char *name;
	const char *in;
	size_t len; /* 0: strlen(in) */
	long rc;    /* bytes used (ALL: the whole input), 0 for incomplete, or an error */
	int code;
	int enh[3];
	size_t lines;
	const char *text;
};

static const struct rcase reply_cases[] = {
	{"single line", "220 mail.example.org ESMTP ready\r\n", 0, ALL, 220, {0, 0, 0}, 1,
	 "mail.example.org ESMTP ready"},
	{"multi-line", "250-mail.example.org\r\n250-PIPELINING\r\n250 SIZE 1000\r\n", 0, ALL, 250,
	 {0, 0, 0}, 3, "mail.example.org\nPIPELINING\nSIZE 1000"},
	{"code only", "250\r\n", 0, ALL, 250, {0, 0, 0}, 1, ""},
	{"code and space", "250 \r\n", 0, ALL, 250, {0, 0, 0}, 1, ""},
	{"code only, bare LF", "221\n", 0, ALL, 221, {0, 0, 0}, 1, ""},
	{"empty continuation lines", "250-\r\n250-\r\n250 end\r\n", 0, ALL, 250, {0, 0, 0}, 3,
	 "\n\nend"},
	{"code-only last line", "250-a\r\n250\r\n", 0, ALL, 250, {0, 0, 0}, 2, "a\n"},
	{"bare LF line ends", "250-first\n250 second\n", 0, ALL, 250, {0, 0, 0}, 2, "first\nsecond"},
	{"CRLF and LF mixed", "250-first\r\n250 second\n", 0, ALL, 250, {0, 0, 0}, 2,
	 "first\nsecond"},
	{"spaces kept", "250   spaced  out \r\n", 0, ALL, 250, {0, 0, 0}, 1, "  spaced  out "},
	{"tab allowed in text", "250 a\tb\r\n", 0, ALL, 250, {0, 0, 0}, 1, "a\tb"},
	{"UTF-8 kept", "250 Grüße 你好\r\n", 0, ALL, 250, {0, 0, 0}, 1, "Grüße 你好"},
	{"hyphen in text ends nothing", "250 -x\r\n", 0, ALL, 250, {0, 0, 0}, 1, "-x"},
	{"4xx", "421 4.3.2 Service shutting down\r\n", 0, ALL, 421, {4, 3, 2}, 1,
	 "Service shutting down"},
	{"3xx", "354 End data with <CR><LF>.<CR><LF>\r\n", 0, ALL, 354, {0, 0, 0}, 1,
	 "End data with <CR><LF>.<CR><LF>"},
	{"highest code", "599 x\r\n", 0, ALL, 599, {0, 0, 0}, 1, "x"},
	{"lowest code", "200 x\r\n", 0, ALL, 200, {0, 0, 0}, 1, "x"},

	/* RFC 3463 enhanced codes. */
	{"enhanced 5.1.1", "550 5.1.1 <nobody@example.org>: Recipient address rejected\r\n", 0, ALL,
	 550, {5, 1, 1}, 1, "<nobody@example.org>: Recipient address rejected"},
	{"enhanced only", "250 2.0.0\r\n", 0, ALL, 250, {2, 0, 0}, 1, ""},
	{"enhanced then text", "250 2.0.0 Ok: queued as 4F2A31C0D\r\n", 0, ALL, 250, {2, 0, 0}, 1,
	 "Ok: queued as 4F2A31C0D"},
	{"enhanced three digits", "554 5.7.123 blocked\r\n", 0, ALL, 554, {5, 7, 123}, 1, "blocked"},
	{"enhanced, spaces after", "250 2.0.0   Ok\r\n", 0, ALL, 250, {2, 0, 0}, 1, "Ok"},
	{"enhanced class differs", "250 5.1.1 text\r\n", 0, ALL, 250, {0, 0, 0}, 1, "5.1.1 text"},
	{"no enhanced class 3", "354 3.0.0 go\r\n", 0, ALL, 354, {0, 0, 0}, 1, "3.0.0 go"},
	{"enhanced too many digits", "550 5.1000.1 x\r\n", 0, ALL, 550, {0, 0, 0}, 1,
	 "5.1000.1 x"},
	{"enhanced two parts", "550 5.1 x\r\n", 0, ALL, 550, {0, 0, 0}, 1, "5.1 x"},
	{"enhanced glued to text", "250 2.0.0x\r\n", 0, ALL, 250, {0, 0, 0}, 1, "2.0.0x"},
	{"enhanced four parts", "250 2.0.0.1 x\r\n", 0, ALL, 250, {0, 0, 0}, 1, "2.0.0.1 x"},
	{"enhanced empty part", "250 2..0 x\r\n", 0, ALL, 250, {0, 0, 0}, 1, "2..0 x"},
	{"enhanced on every line", "550-5.7.1 first\r\n550 5.7.1 second\r\n", 0, ALL, 550,
	 {5, 7, 1}, 2, "first\nsecond"},
	{"different enhanced later kept", "550-5.7.1 first\r\n550 5.7.2 second\r\n", 0, ALL, 550,
	 {5, 7, 1}, 2, "first\n5.7.2 second"},
	{"enhanced only on line two", "250-hello\r\n250 2.0.0 ok\r\n", 0, ALL, 250, {2, 0, 0}, 2,
	 "hello\nok"},

	/* Pipelining: only the first reply is used; the rest waits for the next call. */
	{"second reply left", "250 ok\r\n354 go\r\n", 0, 8, 250, {0, 0, 0}, 1, "ok"},
	{"garbage after reply left", "250-a\r\n250 b\r\n\x01\x02xyz", 0, 14, 250, {0, 0, 0}, 2,
	 "a\nb"},

	{"mixed codes", "250-a\r\n251 b\r\n", 0, SMTP_REPLY_EMIXED, 0, {0, 0, 0}, 0, NULL},
	{"mixed classes", "250-a\r\n550 b\r\n", 0, SMTP_REPLY_EMIXED, 0, {0, 0, 0}, 0, NULL},
	{"mixed, seen early", "250-a\r\n24", 0, SMTP_REPLY_EMIXED, 0, {0, 0, 0}, 0, NULL},

	{"code abc", "abc\r\n", 0, SMTP_REPLY_EBADCODE, 0, {0, 0, 0}, 0, NULL},
	{"code 199", "199 x\r\n", 0, SMTP_REPLY_EBADCODE, 0, {0, 0, 0}, 0, NULL},
	{"code 600", "600 x\r\n", 0, SMTP_REPLY_EBADCODE, 0, {0, 0, 0}, 0, NULL},
	{"code 25", "25\r\n", 0, SMTP_REPLY_EBADCODE, 0, {0, 0, 0}, 0, NULL},
	{"code 25 and text", "25 x\r\n", 0, SMTP_REPLY_EBADCODE, 0, {0, 0, 0}, 0, NULL},
	{"code 2a0", "2a0 x\r\n", 0, SMTP_REPLY_EBADCODE, 0, {0, 0, 0}, 0, NULL},
	{"empty line", "\r\n", 0, SMTP_REPLY_EBADCODE, 0, {0, 0, 0}, 0, NULL},
	{"leading space", " 250 x\r\n", 0, SMTP_REPLY_EBADCODE, 0, {0, 0, 0}, 0, NULL},
	{"bad code on line two", "250-a\r\nabc\r\n", 0, SMTP_REPLY_EBADCODE, 0, {0, 0, 0}, 0, NULL},
	{"bad first digit, incomplete", "1", 0, SMTP_REPLY_EBADCODE, 0, {0, 0, 0}, 0, NULL},

	{"separator x", "250x\r\n", 0, SMTP_REPLY_EBADSEP, 0, {0, 0, 0}, 0, NULL},
	{"separator _", "250_ok\r\n", 0, SMTP_REPLY_EBADSEP, 0, {0, 0, 0}, 0, NULL},
	{"separator tab", "250\tok\r\n", 0, SMTP_REPLY_EBADSEP, 0, {0, 0, 0}, 0, NULL},
	{"separator on line two", "250-a\r\n250x\r\n", 0, SMTP_REPLY_EBADSEP, 0, {0, 0, 0}, 0, NULL},

	{"NUL in text", "250 a\0b\r\n", 9, SMTP_REPLY_ECONTROL, 0, {0, 0, 0}, 0, NULL},
	{"NUL on line two", "250-a\r\n250 \0\r\n", 14, SMTP_REPLY_ECONTROL, 0, {0, 0, 0}, 0, NULL},
	{"SOH", "250 \x01\r\n", 0, SMTP_REPLY_ECONTROL, 0, {0, 0, 0}, 0, NULL},
	{"escape sequence", "250 \x1b[31mred\r\n", 0, SMTP_REPLY_ECONTROL, 0, {0, 0, 0}, 0, NULL},
	{"DEL", "250 a\x7f\r\n", 0, SMTP_REPLY_ECONTROL, 0, {0, 0, 0}, 0, NULL},
	{"bare CR in text", "250 a\rb\r\n", 0, SMTP_REPLY_ECONTROL, 0, {0, 0, 0}, 0, NULL},
	{"CR CR LF", "250 a\r\r\n", 0, SMTP_REPLY_ECONTROL, 0, {0, 0, 0}, 0, NULL},
	{"bare CR after code", "250\rx", 0, SMTP_REPLY_ECONTROL, 0, {0, 0, 0}, 0, NULL},

	{"nothing yet", "", 0, 0, 0, {0, 0, 0}, 0, NULL},
	{"one digit", "2", 0, 0, 0, {0, 0, 0}, 0, NULL},
	{"no line end yet", "250 ok", 0, 0, 0, {0, 0, 0}, 0, NULL},
	{"CR, LF not yet", "250 ok\r", 0, 0, 0, {0, 0, 0}, 0, NULL},
	{"continuation only", "250-a\r\n", 0, 0, 0, {0, 0, 0}, 0, NULL},
	{"second line started", "250-a\r\n25", 0, 0, 0, {0, 0, 0}, 0, NULL},
};

static void test_replies(void **state)
{
	size_t i, k;

	for (i = 0; i < sizeof reply_cases / sizeof reply_cases[0]; i++) {
		const struct rcase *c = &reply_cases[i];
		size_t len = c->len ? c->len : strlen(c->in);
		long want = c->rc == ALL ? (long)len : c->rc;
		struct smtp_reply r;
		char what[200];

		snprintf(what, sizeof what, "%s: return", c->name);
		EXPECT_INT(parse_exact(c->in, len, &r), want, what);
		if (want > 0) {
			snprintf(what, sizeof what, "%s: code", c->name);
			EXPECT_INT(r.code, c->code, what);
			EXPECT_INT(smtp_reply_class(&r), c->code / 100, what);
			snprintf(what, sizeof what, "%s: enhanced", c->name);
			EXPECT_INT(r.enhanced[0], c->enh[0], what);
			EXPECT_INT(r.enhanced[1], c->enh[1], what);
			EXPECT_INT(r.enhanced[2], c->enh[2], what);
			snprintf(what, sizeof what, "%s: lines", c->name);
			EXPECT_INT(r.lines, c->lines, what);
			snprintf(what, sizeof what, "%s: text", c->name);
			EXPECT_STR(r.text, c->text, what);
			EXPECT_INT(r.text_len, strlen(c->text), what);
		}
		/* Any prefix of the input: not complete yet, or the very same verdict, so a caller
		 * reading a slow server never sees an error that more bytes would take back. */
		for (k = 0; k < len; k++) {
			long got = parse_exact(c->in, k, &r);

			snprintf(what, sizeof what, "%s: first %zu bytes", c->name, k);
			if (want > 0)
				EXPECT_INT(got, (long)k < want ? 0 : want, what);
			else if (got != 0)
				EXPECT_INT(got, want, what);
		}
	}
}

static void test_incomplete_at_every_prefix(void **state)
{
	const char *reply = "250-smtp.example.org Hello [192.0.2.7]\r\n250-SIZE 35882577\r\n"
			    "250-8BITMIME\r\n250-AUTH LOGIN PLAIN\r\n250 ENHANCEDSTATUSCODES\r\n";
	const char *next = "221 2.0.0 Bye\r\n";
	size_t len = strlen(reply), k;
	char stream[512], what[64];
	struct smtp_reply r;

	for (k = 0; k < len; k++) {
		snprintf(what, sizeof what, "first %zu of %zu bytes", k, len);
		EXPECT_INT(parse_exact(reply, k, &r), 0, what);
	}
	EXPECT_INT(parse_exact(reply, len, &r), len, "the whole reply");
	EXPECT_INT(r.lines, 5, "lines");
	EXPECT_INT(r.code, 250, "code");
	EXPECT_STR(r.text,
		   "smtp.example.org Hello [192.0.2.7]\nSIZE 35882577\n8BITMIME\nAUTH LOGIN PLAIN\n"
		   "ENHANCEDSTATUSCODES",
		   "text");

	/* With the next reply already behind it, every split still stops at the same byte. */
	snprintf(stream, sizeof stream, "%s%s", reply, next);
	for (k = len; k <= strlen(stream); k++) {
		snprintf(what, sizeof what, "first %zu bytes of two replies", k);
		EXPECT_INT(parse_exact(stream, k, &r), len, what);
	}
}

static void test_line_limit(void **state)
{
	const struct {
		size_t total;
		const char *sep, *eol;
		long want;
	} cases[] = {
		{SMTP_REPLY_MAX_LINE, "250 ", "\r\n", SMTP_REPLY_MAX_LINE},
		{SMTP_REPLY_MAX_LINE, "250 ", "\n", SMTP_REPLY_MAX_LINE},
		{SMTP_REPLY_MAX_LINE + 1, "250 ", "\r\n", SMTP_REPLY_ELINE},
		{SMTP_REPLY_MAX_LINE + 1, "250 ", "\n", SMTP_REPLY_ELINE},
		{SMTP_REPLY_MAX_LINE - 1, "250 ", "", 0},
		{SMTP_REPLY_MAX_LINE - 1, "250 ", "\r", 0},
		/* A line of 1000 bytes without its LF can only get longer: refused at once. */
		{SMTP_REPLY_MAX_LINE, "250 ", "", SMTP_REPLY_ELINE},
		{SMTP_REPLY_MAX_LINE, "250 ", "\r", SMTP_REPLY_ELINE},
		{SMTP_REPLY_MAX_LINE + 1, "250 ", "", SMTP_REPLY_ELINE},
		{SMTP_REPLY_MAX_LINE, "250-", "", SMTP_REPLY_ELINE},
		{100 * 1024, "250 ", "", SMTP_REPLY_ELINE},
		{100 * 1024, "250 ", "\r\n", SMTP_REPLY_ELINE},
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *in = line_of(cases[i].total, cases[i].sep, cases[i].eol);
		struct smtp_reply r;
		char what[100];

		snprintf(what, sizeof what, "%zu bytes ending in \"%s\"", cases[i].total,
			 cases[i].eol[0] == '\0' ? "" : cases[i].eol[0] == '\r' ? "\\r..." : "\\n");
		EXPECT_INT(smtp_reply_parse(in, cases[i].total, &r), cases[i].want, what);
		free(in);
	}

	/* The limit holds for every line, not only the first. */
	{
		char in[2 * SMTP_REPLY_MAX_LINE];
		struct smtp_reply r;

		memcpy(in, "250-a\r\n250 ", 11);
		memset(in + 11, 'x', sizeof in - 11);
		EXPECT_INT(parse_exact(in, 7 + SMTP_REPLY_MAX_LINE - 1, &r), 0, "line two, 999 bytes");
		EXPECT_INT(parse_exact(in, 7 + SMTP_REPLY_MAX_LINE, &r), SMTP_REPLY_ELINE,
			   "line two, 1000 bytes and no LF");
		EXPECT_INT(parse_exact(in, sizeof in, &r), SMTP_REPLY_ELINE, "line two, long");
	}
}

static void test_total_limit(void **state)
{
	struct smtp_reply r;
	char *in;
	size_t len;

	in = reply_of(SMTP_REPLY_MAX_TOTAL);
	EXPECT_INT(smtp_reply_parse(in, SMTP_REPLY_MAX_TOTAL, &r), SMTP_REPLY_MAX_TOTAL,
		   "a reply of exactly the limit");
	EXPECT_INT(r.lines, SMTP_REPLY_MAX_TOTAL / 100 + 1, "its lines");
	free(in);

	in = reply_of(SMTP_REPLY_MAX_TOTAL + 1);
	EXPECT_INT(smtp_reply_parse(in, SMTP_REPLY_MAX_TOTAL + 1, &r), SMTP_REPLY_ETOTAL,
		   "a reply one byte over");
	free(in);

	/* A server that never ends its reply is refused without waiting for the end. */
	len = 3 * SMTP_REPLY_MAX_TOTAL;
	in = repeat_of("250-x\r\n", len);
	EXPECT_INT(smtp_reply_parse(in, len, &r), SMTP_REPLY_ETOTAL, "endless 250-x lines");
	EXPECT_INT(smtp_reply_parse(in, SMTP_REPLY_MAX_TOTAL, &r), SMTP_REPLY_ETOTAL,
		   "16384 bytes of them");
	EXPECT_INT(smtp_reply_parse(in, SMTP_REPLY_MAX_TOTAL - 1, &r), 0, "16383 bytes of them");
	free(in);
}

static void test_text_is_cut(void **state)
{
	char in[10 * 906];
	struct smtp_reply r;
	size_t i;

	/* Ten lines of 900 bytes of text: 9009 bytes of text, of which the first 4095 are kept. */
	for (i = 0; i < 10; i++) {
		memcpy(in + i * 906, i < 9 ? "250-" : "250 ", 4);
		memset(in + i * 906 + 4, 'a' + (int)i, 900);
		memcpy(in + i * 906 + 904, "\r\n", 2);
	}
	EXPECT_INT(parse_exact(in, sizeof in, &r), sizeof in, "a long reply is not refused");
	EXPECT_INT(r.lines, 10, "all its lines counted");
	EXPECT_INT(r.text_len, SMTP_REPLY_MAX_TEXT - 1, "text_len");
	EXPECT_INT(strlen(r.text), SMTP_REPLY_MAX_TEXT - 1, "strlen(text)");
	EXPECT_INT(r.text[900], '\n', "lines joined with LF");
	EXPECT_INT(r.text[SMTP_REPLY_MAX_TEXT - 2], 'a' + 4, "the last byte kept is line five's");
}

static void test_pipelined_stream(void **state)
{
	const char *stream = "250-mail.example.org\r\n250 PIPELINING\r\n"
			     "250 2.1.0 Ok\r\n"
			     "550 5.1.1 <x@example.org>: no such user\r\n"
			     "354 End data\n"
			     "250 2.0.0 Ok: queued as 12345\r\n"
			     "221";
	const struct {
		int code;
		size_t lines;
		int e1;
		const char *text;
	} want[] = {
		{250, 2, 0, "mail.example.org\nPIPELINING"},
		{250, 1, 2, "Ok"},
		{550, 1, 5, "<x@example.org>: no such user"},
		{354, 1, 0, "End data"},
		{250, 1, 2, "Ok: queued as 12345"},
	};
	size_t off = 0, len = strlen(stream), i;
	struct smtp_reply r;
	char what[64];

	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		ssize_t n = parse_exact(stream + off, len - off, &r);

		snprintf(what, sizeof what, "reply %zu", i + 1);
		if (n <= 0)
			fail_msg("%s: got %zd, want a reply", what, n);
		EXPECT_INT(r.code, want[i].code, what);
		EXPECT_INT(r.lines, want[i].lines, what);
		EXPECT_INT(r.enhanced[0], want[i].e1, what);
		EXPECT_STR(r.text, want[i].text, what);
		off += (size_t)n;
	}
	EXPECT_STR(stream + off, "221", "consumed up to the unfinished reply");
	EXPECT_INT(parse_exact(stream + off, len - off, &r), 0, "the unfinished reply");
}

/* The one way a reply reaches a message: every line joined, the enhanced code kept. */
static void test_reply_line(void **state)
{
	struct smtp_reply r;
	char got[200], small[12];

	(void)state;
	memset(&r, 0, sizeof r);
	EXPECT_STR(smtp_reply_line(&r, got, sizeof got), "", "no reply (code 0) gives no words");
	r.code = 535;
	r.enhanced[0] = 5, r.enhanced[1] = 7, r.enhanced[2] = 8;
	snprintf(r.text, sizeof r.text, "Error: authentication\nfailed");
	EXPECT_STR(smtp_reply_line(&r, got, sizeof got), "535 5.7.8 Error: authentication failed",
		   "multi-line reply on one line");
	r.enhanced[0] = 0;
	EXPECT_STR(smtp_reply_line(&r, got, sizeof got), "535 Error: authentication failed",
		   "without an enhanced code");
	EXPECT_STR(smtp_reply_line(&r, small, sizeof small), "535 Erro...", "cut to the buffer, marked");
}

static void test_strerror(void **state)
{
	int err;

	EXPECT_STR(smtp_reply_strerror(SMTP_REPLY_ELINE), "a reply line is longer than 1000 bytes",
		   "ELINE");
	EXPECT_CONTAINS(smtp_reply_strerror(SMTP_REPLY_ETOTAL), "16384 bytes", "ETOTAL");
	EXPECT_CONTAINS(smtp_reply_strerror(SMTP_REPLY_ECONTROL), "bare CR", "ECONTROL");
	EXPECT_CONTAINS(smtp_reply_strerror(SMTP_REPLY_EMIXED), "different codes", "EMIXED");
	for (err = -10; err <= 1; err++) {
		const char *msg = smtp_reply_strerror(err);

		if (msg == NULL || msg[0] == '\0')
			fail_msg("smtp_reply_strerror(%d): got no words", err);
	}
}

struct ccase {
	const char *name;
	const char *in;
	unsigned ext;
	unsigned long long size;
	const char *auth;
};

#define EXT(x) SMTP_EXT_##x

static const struct ccase caps_cases[] = {
	{"a full EHLO reply",
	 "250-mail.example.org Hello client.example.net [192.0.2.7]\r\n250-PIPELINING\r\n"
	 "250-SIZE 35882577\r\n250-ETRN\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN CRAM-MD5\r\n"
	 "250-AUTH=PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n"
	 "250-SMTPUTF8\r\n250 CHUNKING\r\n",
	 EXT(PIPELINING) | EXT(SIZE) | EXT(STARTTLS) | EXT(AUTH) | EXT(ENHANCEDSTATUSCODES) |
		 EXT(8BITMIME) | EXT(DSN) | EXT(SMTPUTF8) | EXT(CHUNKING),
	 35882577, "PLAIN LOGIN CRAM-MD5"},
	{"SIZE without number", "250-host\r\n250 SIZE\r\n", EXT(SIZE), 0, ""},
	{"SIZE 0 is no limit", "250-host\r\n250 SIZE 0\r\n", EXT(SIZE), 0, ""},
	{"SIZE not a number", "250-host\r\n250 SIZE 10MB\r\n", EXT(SIZE), 0, ""},
	{"SIZE too big to hold", "250-host\r\n250 SIZE 99999999999999999999999\r\n", EXT(SIZE), 0,
	 ""},
	{"SIZE repeated: the strictest", "250-host\r\n250-SIZE 2000\r\n250-SIZE\r\n250 SIZE 1000\r\n",
	 EXT(SIZE), 1000, ""},
	{"old AUTH= form alone", "250-host\r\n250 AUTH=PLAIN LOGIN\r\n", EXT(AUTH), 0, "PLAIN LOGIN"},
	{"AUTH with no mechanisms", "250-host\r\n250 AUTH\r\n", EXT(AUTH), 0, ""},
	{"lower-case keywords", "250-host\r\n250-pipelining\r\n250-auth plain xoauth2\r\n"
	 "250-Size 1000\r\n250 starttls\r\n",
	 EXT(PIPELINING) | EXT(AUTH) | EXT(SIZE) | EXT(STARTTLS), 1000, "PLAIN XOAUTH2"},
	{"duplicates", "250-host\r\n250-PIPELINING\r\n250-PIPELINING\r\n250-AUTH LOGIN LOGIN plain\r\n"
	 "250 AUTH PLAIN login\r\n",
	 EXT(PIPELINING) | EXT(AUTH), 0, "LOGIN PLAIN"},
	{"unknown keywords", "250-host\r\n250-X-FOO bar\r\n250-XCLIENT NAME ADDR\r\n250-VRFY\r\n"
	 "250-ETRN\r\n250 HELP\r\n",
	 0, 0, ""},
	{"near misses", "250-host\r\n250-STARTTLSX\r\n250-AUTHX PLAIN\r\n250-SIZE=100\r\n"
	 "250-DSN:yes\r\n250 PIPELINING-2\r\n",
	 0, 0, ""},
	{"bad mechanism names skipped",
	 "250-host\r\n250 AUTH  PLAIN   BAD!MECH A_B-C TWENTY-ONE-CHARACTERS LOGIN \r\n", EXT(AUTH),
	 0, "PLAIN A_B-C LOGIN"},
	{"the rest", "250-host\r\n250-BINARYMIME\r\n250-REQUIRETLS\r\n250 DSN\r\n",
	 EXT(BINARYMIME) | EXT(REQUIRETLS) | EXT(DSN), 0, ""},
	{"the greeting is not a keyword", "250-STARTTLS\r\n250 DSN\r\n", EXT(DSN), 0, ""},
	{"greeting only", "250 mail.example.org\r\n", 0, 0, ""},
	{"an enhanced code does not hide a keyword", "250-2.0.0 host\r\n250 2.0.0 PIPELINING\r\n",
	 EXT(PIPELINING), 0, ""},
	{"refused EHLO offers nothing", "502-5.5.1 no\r\n502 PIPELINING\r\n", 0, 0, ""},
};

static void test_caps(void **state)
{
	size_t i;

	for (i = 0; i < sizeof caps_cases / sizeof caps_cases[0]; i++) {
		const struct ccase *c = &caps_cases[i];
		struct smtp_reply r;
		struct smtp_caps caps;
		char what[200];
		size_t len = strlen(c->in);

		snprintf(what, sizeof what, "%s: parse", c->name);
		EXPECT_INT(parse_exact(c->in, len, &r), len, what);
		memset(&caps, 0xa5, sizeof caps);
		smtp_caps_parse(&r, &caps);
		snprintf(what, sizeof what, "%s: ext bits", c->name);
		EXPECT_INT(caps.ext, c->ext, what);
		snprintf(what, sizeof what, "%s: size", c->name);
		EXPECT_INT(caps.size, c->size, what);
		snprintf(what, sizeof what, "%s: auth", c->name);
		EXPECT_STR(caps.auth, c->auth, what);
	}
}

static void test_caps_limits(void **state)
{
	char in[SMTP_REPLY_MAX_TOTAL], mech[32];
	struct smtp_reply r;
	struct smtp_caps caps;
	size_t len, i;

	/* More mechanisms than fit: whole names kept in order, none cut. */
	len = (size_t)snprintf(in, sizeof in, "250-host\r\n250 AUTH");
	for (i = 0; i < 40; i++)
		len += (size_t)snprintf(in + len, sizeof in - len, " M%019zu", i);
	len += (size_t)snprintf(in + len, sizeof in - len, "\r\n");
	EXPECT_INT(parse_exact(in, len, &r), len, "40 mechanisms parse");
	smtp_caps_parse(&r, &caps);
	EXPECT_INT(strlen(caps.auth), 24 * 21 - 1, "24 names of 20 fit in 511 bytes");
	snprintf(mech, sizeof mech, "M%019d", 23);
	EXPECT_INT(smtp_caps_has_auth(&caps, mech), 1, "the 24th is kept");
	snprintf(mech, sizeof mech, "M%019d", 24);
	EXPECT_INT(smtp_caps_has_auth(&caps, mech), 0, "the 25th is left out");

	/* A reply whose text was cut inside "AUTH PLAIN LOGIN": the cut line is not believed. */
	len = (size_t)snprintf(in, sizeof in, "250-mx.eu\r\n");
	for (i = 0; i < 5; i++) {
		memcpy(in + len, "250-X-PAD ", 10);
		memset(in + len + 10, 'p', 808);
		memcpy(in + len + 818, "\r\n", 2);
		len += 820;
	}
	len += (size_t)snprintf(in + len, sizeof in - len, "250 AUTH PLAIN LOGIN\r\n");
	EXPECT_INT(parse_exact(in, len, &r), len, "the padded reply parses");
	EXPECT_INT(r.text_len, SMTP_REPLY_MAX_TEXT - 1, "its text is cut");
	EXPECT_STR(r.text + r.text_len - 14, "AUTH PLAIN LOG", "where the cut falls");
	smtp_caps_parse(&r, &caps);
	EXPECT_INT(caps.ext, 0, "no AUTH from a cut line");
	EXPECT_STR(caps.auth, "", "no mechanism LOG");
}

static void test_has_auth(void **state)
{
	const struct {
		const char *auth, *mech;
		int want;
	} cases[] = {
		{"PLAIN LOGIN CRAM-MD5", "PLAIN", 1},
		{"PLAIN LOGIN CRAM-MD5", "plain", 1},
		{"PLAIN LOGIN CRAM-MD5", "Login", 1},
		{"PLAIN LOGIN CRAM-MD5", "cram-md5", 1},
		{"PLAINX LOGIN", "PLAIN", 0},
		{"XPLAIN LOGIN", "PLAIN", 0},
		{"LOGIN PLAINX", "PLAIN", 0},
		{"PLAINX", "plainx", 1},
		{"LOGIN", "LOG", 0},
		{"LOGIN", "LOGIN PLAIN", 0},
		{"PLAIN LOGIN", "PLAIN LOGIN", 0},
		{"LOGIN", "", 0},
		{"", "PLAIN", 0},
		{"", "", 0},
	};
	struct smtp_caps caps;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char what[100];

		memset(&caps, 0, sizeof caps);
		snprintf(caps.auth, sizeof caps.auth, "%s", cases[i].auth);
		snprintf(what, sizeof what, "has_auth(\"%s\", \"%s\")", cases[i].auth, cases[i].mech);
		EXPECT_INT(smtp_caps_has_auth(&caps, cases[i].mech), cases[i].want, what);
	}
	EXPECT_INT(smtp_caps_has_auth(&caps, NULL), 0, "has_auth(NULL)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_incomplete_at_every_prefix),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_total_limit),
		cmocka_unit_test(test_text_is_cut),
		cmocka_unit_test(test_pipelined_stream),
		cmocka_unit_test(test_reply_line),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_caps_limits),
		cmocka_unit_test(test_has_auth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
