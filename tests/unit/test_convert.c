/* test_convert.c: convert_message on real MIME messages: which parts are re-encoded, that every line
 * is then legal, and that each part decodes (with GMime, as a mail reader would) to what was given. */
#include <sys/mman.h>

#include <gmime/gmime.h>

#include "unit.h"
#include "convert.h"
#include "handle_internal.h"

static const char *latin1_text = "caf\xe9 cr\xe8me\r\n";

struct conv {
	outbox h;
	int rc;
	struct convert_result res;
	char *out;
	size_t len;
};

static void convert_bytes(struct conv *c, const char *in, size_t len, unsigned what)
{
	int in_fd = memfd_create("convert-in", MFD_CLOEXEC), out_fd = memfd_create("convert-out", MFD_CLOEXEC);
	off_t size;

	assert_true(in_fd >= 0 && out_fd >= 0);
	assert_int_equal(write(in_fd, in, len), (ssize_t)len);
	memset(c, 0, sizeof *c);
	c->rc = convert_message(&c->h, in_fd, out_fd, what, &c->res);
	size = lseek(out_fd, 0, SEEK_END);
	c->out = calloc(1, (size_t)size + 1);
	assert_non_null(c->out);
	assert_int_equal(pread(out_fd, c->out, (size_t)size, 0), size);
	c->len = (size_t)size;
	close(in_fd);
	close(out_fd);
}

/* Every line of the output within 998 octets, and 7-bit when `seven_bit`. */
static void expect_legal(const struct conv *c, int seven_bit, const char *what)
{
	size_t i, line = 0;

	for (i = 0; i < c->len; i++) {
		unsigned char o = (unsigned char)c->out[i];
		if (seven_bit && o >= 0x80)
			fail_msg("%s: octet 0x%02x at %zu, want 7-bit output", what, o, i);
		if ((o == '\r') != (i + 1 < c->len && c->out[i + 1] == '\n') || (o == '\n' && (i == 0 || c->out[i - 1] != '\r')))
			fail_msg("%s: a bare CR or LF at %zu, want CRLF line ends", what, i);
		line = o == '\n' || o == '\r' ? 0 : line + 1;
		if (line > 998)
			fail_msg("%s: a line over 998 octets ends at %zu", what, i);
	}
	EXPECT_INT(c->len >= 2 && c->out[c->len - 2] == '\r' && c->out[c->len - 1] == '\n', 1, "ends in CRLF");
	EXPECT_INT(c->res.size, c->len, "the size reported");
}

/* The decoded content of leaf part `index` (in document order) of the converted message. */
struct find {
	int want, seen;
	GMimePart *part;
};

static void find_part(GMimeObject *parent, GMimeObject *obj, gpointer data)
{
	struct find *f = data;

	(void)parent;
	if (GMIME_IS_PART(obj) && f->seen++ == f->want)
		f->part = GMIME_PART(obj);
}

static GByteArray *decoded_part(const struct conv *c, int index, char *encoding, size_t size)
{
	GMimeStream *in = g_mime_stream_mem_new_with_buffer(c->out, c->len), *out;
	GMimeParser *parser = g_mime_parser_new_with_stream(in);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
	struct find f = {index, 0, NULL};
	GByteArray *bytes = g_byte_array_new();

	assert_non_null(msg);
	g_mime_message_foreach(msg, find_part, &f);
	assert_non_null(f.part);
	snprintf(encoding, size, "%s", g_mime_content_encoding_to_string(g_mime_part_get_content_encoding(f.part)));
	out = g_mime_stream_mem_new_with_byte_array(bytes);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(out), FALSE);
	assert_true(g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(f.part), out) >= 0);
	g_object_unref(out);
	g_object_unref(msg);
	g_object_unref(parser);
	g_object_unref(in);
	return bytes;
}

/* Text's line breaks are CRLF on the wire and in canonical form; a decoder may give them as LF.
 * In a multipart, the CRLF before a boundary is the boundary's (RFC 2046 5.1.1): `in_multipart`
 * takes the last one off `want`. */
static void expect_text(const struct conv *c, int index, const char *want_encoding, const char *want, int in_multipart)
{
	char encoding[32], *got;
	GByteArray *b = decoded_part(c, index, encoding, sizeof encoding);
	size_t i, n = 0;
	GString *w = g_string_new(NULL);

	EXPECT_STR(encoding, want_encoding, "the part's encoding");
	got = calloc(1, b->len + 1);
	for (i = 0; i < b->len; i++)
		if (!(b->data[i] == '\r' && i + 1 < b->len && b->data[i + 1] == '\n'))
			got[n++] = (char)b->data[i];
	for (i = 0; want[i]; i++)
		if (!(want[i] == '\r' && want[i + 1] == '\n'))
			g_string_append_c(w, want[i]);
	if (in_multipart && w->len > 0 && w->str[w->len - 1] == '\n')
		g_string_truncate(w, w->len - 1);
	if (n != w->len || memcmp(got, w->str, n) != 0)
		fail_msg("part %d decoded: got %zu octets \"%.60s...\", want %zu \"%.60s...\"", index, n, got, w->len,
			 w->str);
	free(got);
	g_string_free(w, TRUE);
	g_byte_array_free(b, TRUE);
}

static char *long_html(size_t n)
{
	char *s = malloc(n + 16);

	assert_non_null(s);
	memcpy(s, "<p>", 3);
	memset(s + 3, 'x', n);
	snprintf(s + 3 + n, 13, "</p>\r\n");
	return s;
}

static void test_plain_message_long_line(void **state __attribute__((unused)))
{
	char *html = long_html(5000), *in;
	struct conv c;

	in = g_strdup_printf("From: a@example.com\r\nSubject: t\r\n\r\nline one caf\xc3\xa9\r\n%s.dot\r\nend\r\n", html);
	convert_bytes(&c, in, strlen(in), CONVERT_LONG_LINES);
	EXPECT_INT(c.rc, 0, "convert a plain message with a 5,000-octet line");
	EXPECT_INT(c.res.parts, 1, "parts converted");
	expect_legal(&c, 1, "plain message");
	EXPECT_CONTAINS(c.out, "\r\nMIME-Version: 1.0\r\n", "a plain message becomes MIME");
	EXPECT_CONTAINS(c.out, "Content-Type: text/plain; charset=utf-8\r\n", "its UTF-8 text is labelled");
	EXPECT_CONTAINS(c.out, "Subject: t\r\n", "headers kept");
	g_free(in);
	in = g_strdup_printf("line one caf\xc3\xa9\r\n%s.dot\r\nend\r\n", html);
	expect_text(&c, 0, "quoted-printable", in, 0);
	g_free(in);
	free(c.out);
	free(html);
}

static char *multipart(const char *html)
{
	return g_strdup_printf("From: a@example.com\r\nMIME-Version: 1.0\r\n"
			       "Content-Type: multipart/mixed; boundary=\"BB\"\r\n\r\npreamble\r\n"
			       "--BB\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
			       "%s"
			       "--BB\r\nContent-Type: text/html; charset=utf-8\r\n\r\n%s"
			       "--BB\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
			       "\x80\x81\xfe\xff binary\r\n\xc0\xc1\r\n"
			       "--BB--\r\nepilogue\r\n", latin1_text, html);
}

static void test_multipart_only_what_needs_it(void **state __attribute__((unused)))
{
	char *html = long_html(5000), *in = multipart(html);
	struct conv c;

	convert_bytes(&c, in, strlen(in), CONVERT_LONG_LINES);
	EXPECT_INT(c.rc, 0, "convert a multipart for its long line");
	EXPECT_INT(c.res.parts, 1, "only the HTML part is converted");
	EXPECT_INT(c.res.has_8bit, 1, "the 8-bit parts stay 8-bit");
	expect_legal(&c, 0, "multipart, long lines only");
	EXPECT_CONTAINS(c.out, "Content-Transfer-Encoding: 8bit\r\n\r\ncaf\xe9 cr\xe8me\r\n--BB\r\n",
			"the Latin-1 part untouched");
	EXPECT_CONTAINS(c.out, "Content-Transfer-Encoding: 8bit\r\n\r\n\x80\x81\xfe\xff binary\r\n\xc0\xc1\r\n--BB--",
			"the binary part untouched");
	expect_text(&c, 1, "quoted-printable", html, 1);
	free(c.out);
	g_free(in);
	free(html);
}

static void test_multipart_to_7bit(void **state __attribute__((unused)))
{
	char *html = long_html(2000), *in = multipart(html), encoding[32];
	static const unsigned char binary[] = "\x80\x81\xfe\xff binary\r\n\xc0\xc1";
	GByteArray *b;
	struct conv c;

	convert_bytes(&c, in, strlen(in), CONVERT_8BIT | CONVERT_LONG_LINES);
	EXPECT_INT(c.rc, 0, "convert a multipart to 7-bit");
	EXPECT_INT(c.res.parts, 3, "every part is converted");
	EXPECT_INT(c.res.has_8bit, 0, "nothing 8-bit remains");
	expect_legal(&c, 1, "multipart to 7-bit");
	EXPECT_CONTAINS(c.out, "Content-Type: text/plain; charset=iso-8859-1\r\n", "the declared charset kept");
	expect_text(&c, 0, "quoted-printable", latin1_text, 1);
	expect_text(&c, 1, "quoted-printable", html, 1);
	b = decoded_part(&c, 2, encoding, sizeof encoding);
	EXPECT_STR(encoding, "base64", "the binary part's encoding");
	if (b->len != sizeof binary - 1 || memcmp(b->data, binary, b->len) != 0)
		fail_msg("the binary part decoded: got %u octets, want %zu, the same", b->len, sizeof binary - 1);
	g_byte_array_free(b, TRUE);
	free(c.out);
	g_free(in);
	free(html);
}

static void test_undeclared_latin1(void **state __attribute__((unused)))
{
	const char *in = "Subject: t\r\n\r\ncaf\xe9\r\n";
	struct conv c;

	convert_bytes(&c, in, strlen(in), CONVERT_8BIT);
	EXPECT_INT(c.rc, 0, "convert undeclared Latin-1");
	expect_legal(&c, 1, "undeclared Latin-1");
	EXPECT_CONTAINS(c.out, "charset=unknown-8bit", "8-bit text that is not UTF-8 says so (RFC 1428)");
	expect_text(&c, 0, "quoted-printable", "caf\xe9\r\n", 0);
	free(c.out);
}

static void test_part_header_too_long(void **state __attribute__((unused)))
{
	char *in, name[1200];
	struct conv c;

	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	in = g_strdup_printf("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"BB\"\r\n\r\n"
			     "--BB\r\nContent-Type: text/plain; name=\"%s\"\r\n\r\n%s--BB--\r\n", name, "x\r\n");
	convert_bytes(&c, in, strlen(in), CONVERT_LONG_LINES);
	EXPECT_INT(c.rc, OUTBOX_EINVALID, "a part's header line over 998 octets");
	EXPECT_CONTAINS(outbox_errmsg(&c.h), "message: a line over 998 octets", "the refusal's words");
	free(c.out);
	g_free(in);
}

/* UTF-8 headers for a server without SMTPUTF8: the To domain as A-labels, the name and Subject as
 * encoded words that decode to what was written; everything else byte for byte. */
static const char *utf8_head = "From: a@example.org\r\n"
			       "To: J\xc3\xb6rg <jorg@b\xc3\xbc" "cher.example>\r\n"
			       "Subject: Gr\xc3\xbc\xc3\x9f" "e aus M\xc3\xbcnchen\r\n"
			       "X-Odd:   spaced\t out \r\n";

static void test_utf8_headers_encoded(void **state __attribute__((unused)))
{
	char *in = g_strdup_printf("%sMessage-ID: <1@example.org>\r\n\r\nplain body\r\n", utf8_head);
	InternetAddressList *to;
	InternetAddress *first;
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;
	struct conv c;

	convert_bytes(&c, in, strlen(in), CONVERT_HEADERS);
	EXPECT_INT(c.rc, 0, "convert UTF-8 headers");
	EXPECT_INT(c.res.header_8bit, 0, "no 8-bit header remains");
	EXPECT_INT(c.res.headers, 2, "headers rewritten (To, Subject)");
	expect_legal(&c, 1, "UTF-8 headers");
	EXPECT_CONTAINS(c.out, "@xn--bcher-kva.example>", "the To domain as A-labels");
	EXPECT_CONTAINS(c.out, "\r\nX-Odd:   spaced\t out \r\n", "an ASCII header byte for byte");
	EXPECT_CONTAINS(c.out, "\r\nMessage-ID: <1@example.org>\r\n", "Message-ID byte for byte");
	EXPECT_CONTAINS(c.out, "\r\n\r\nplain body\r\n", "the body byte for byte");
	stream = g_mime_stream_mem_new_with_buffer(c.out, c.len);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	assert_non_null(msg);
	EXPECT_STR(g_mime_message_get_subject(msg), "Gr\xc3\xbc\xc3\x9f" "e aus M\xc3\xbcnchen", "the Subject decoded");
	to = g_mime_message_get_to(msg);
	EXPECT_INT(internet_address_list_length(to), 1, "To's addresses");
	first = internet_address_list_get_address(to, 0);
	EXPECT_STR(internet_address_get_name(first), "J\xc3\xb6rg", "To's display name decoded");
	g_object_unref(msg);
	g_object_unref(parser);
	g_object_unref(stream);
	free(c.out);
	g_free(in);
}

/* A UTF-8 local part, or a UTF-8 Message-ID, has no ASCII form: it stays, and the result says so. */
static void test_utf8_without_ascii_form(void **state __attribute__((unused)))
{
	static const char *const heads[] = {
		"To: J\xc3\xb6rg <j\xc3\xb6rg@b\xc3\xbc" "cher.example>\r\n",
		"To: a@example.org\r\nMessage-ID: <\xc3\xbc@example.org>\r\n",
	};
	char *in;
	struct conv c;
	size_t i;

	for (i = 0; i < sizeof heads / sizeof heads[0]; i++) {
		in = g_strdup_printf("From: a@example.org\r\n%s\r\nbody\r\n", heads[i]);
		convert_bytes(&c, in, strlen(in), CONVERT_HEADERS);
		EXPECT_INT(c.rc, 0, heads[i]);
		EXPECT_INT(c.res.header_8bit, 1, heads[i]);
		free(c.out);
		g_free(in);
	}
	in = g_strdup_printf("From: a@example.org\r\n%s\r\nbody\r\n", heads[1]);
	convert_bytes(&c, in, strlen(in), CONVERT_HEADERS);
	EXPECT_CONTAINS(c.out, heads[1], "a UTF-8 Message-ID left byte for byte");
	free(c.out);
	g_free(in);
}

/* Without CONVERT_HEADERS (a server with SMTPUTF8), UTF-8 headers are not touched. */
static void test_utf8_headers_kept(void **state __attribute__((unused)))
{
	char *in = g_strdup_printf("%s\r\ncaf\xc3\xa9\r\n", utf8_head);
	struct conv c;

	convert_bytes(&c, in, strlen(in), CONVERT_8BIT);
	EXPECT_INT(c.rc, 0, "convert the body only");
	EXPECT_INT(c.res.headers, 0, "headers rewritten");
	EXPECT_INT(c.res.header_8bit, 1, "the UTF-8 headers remain");
	EXPECT_CONTAINS(c.out, utf8_head, "the headers byte for byte");
	free(c.out);
	g_free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_message_long_line),
		cmocka_unit_test(test_multipart_only_what_needs_it),
		cmocka_unit_test(test_multipart_to_7bit),
		cmocka_unit_test(test_undeclared_latin1),
		cmocka_unit_test(test_part_header_too_long),
		cmocka_unit_test(test_utf8_headers_encoded),
		cmocka_unit_test(test_utf8_without_ascii_form),
		cmocka_unit_test(test_utf8_headers_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
