/* test_validate.c: every value check in tables of accepted and refused input, and for each
 * refusal that the one-line message names the field and says what is wrong. */
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handle_internal.h"
#include "validate.h"
#include "unit.h"

#define OK 0
#define BAD OUTBOX_EINVALID

struct vcase {
	const char *in;
	int rc;
	const char *part; /* text the message must contain, for a refusal */
};

/* A run of `n` copies of `unit` followed by `tail`, in `buf`. */
static const char *repeat(char *buf, size_t size, const char *unit, size_t n, const char *tail)
{
	size_t len = 0, i;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s", unit);
	snprintf(buf + len, size - len, "%s", tail);
	return buf;
}

/* The result of one call against its case: the code, and for a refusal a message that starts
 * with the field, stays on one line without raw control characters, and contains `part`. */
static void expect(outbox *h, int got, const struct vcase *c, const char *field, const char *fn)
{
	char what[400], prefix[64];
	const char *msg = outbox_errmsg(h), *p;

	snprintf(what, sizeof what, "%s(\"%.200s\")", fn, c->in);
	EXPECT_INT(got, c->rc, what);
	if (c->rc == OK)
		return;
	EXPECT_STR(outbox_errfield(h), field, what);
	snprintf(prefix, sizeof prefix, "%s: ", field);
	if (strncmp(msg, prefix, strlen(prefix)) != 0)
		fail_msg("%s: message \"%s\" does not start with \"%s\"", what, msg, prefix);
	EXPECT_CONTAINS(msg, c->part, what);
	if (strlen(msg) >= 300)
		fail_msg("%s: message is %zu bytes, too long for one line", what, strlen(msg));
	for (p = msg; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			fail_msg("%s: message \"%s\" has a raw control character", what, msg);
	}
}

static void new_handle(outbox *h)
{
	memset(h, 0, sizeof *h);
}

static void test_text(void **state)
{
	char long_value[400];
	const struct {
		struct vcase c;
		size_t max;
	} cases[] = {
		{{"", OK, NULL}, 10},
		{{"plain", OK, NULL}, 10},
		{{"1234567890", OK, NULL}, 10},
		{{"Zoë 用户 🙂", OK, NULL}, 40},
		{{"Ann \"the\" O'Neil", OK, NULL}, 40},
		{{"12345678901", BAD, "is 11 bytes long; the most is 10"}, 10},
		{{"üüüüüü", BAD, "12 bytes long"}, 10},
		{{repeat(long_value, sizeof long_value, "a", 300, ""), BAD, "aaaa...\" is 300 bytes"}, 200},
		{{"two\nlines", BAD, "\"two\\nlines\" has a line break"}, 40},
		{{"a\rb", BAD, "line break"}, 40},
		{{"bob@x\r\nRCPT TO:<y@z>", BAD, "line break"}, 40},
		{{"tab\there", BAD, "has a tab"}, 40},
		{{"esc\x1b[31m", BAD, "\"esc\\x1B[31m\" has a control character (U+001B)"}, 40},
		{{"del\x7f", BAD, "U+007F"}, 40},
		{{"c1 \xc2\x9b", BAD, "\\u009B\" has a control character (U+009B)"}, 40},
		{{"bad\xff", BAD, "\"bad\\xFF\" is not valid UTF-8"}, 40},
		{{"overlong \xc0\xaf", BAD, "not valid UTF-8"}, 40},
		{{"surrogate \xed\xa0\x80", BAD, "not valid UTF-8"}, 40},
		{{"past max \xf4\x90\x80\x80", BAD, "not valid UTF-8"}, 40},
		{{"cut \xe2\x82", BAD, "not valid UTF-8"}, 40},
	};
	outbox h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		new_handle(&h);
		expect(&h, validate_text(&h, "description", cases[i].c.in, cases[i].max), &cases[i].c,
		       "description", "validate_text");
	}
}

static void test_name(void **state)
{
	char max[80], over[80];
	const struct vcase cases[] = {
		{"work", OK, NULL},
		{"a", OK, NULL},
		{"My-Server_2.0", OK, NULL},
		{"a.", OK, NULL},
		{repeat(max, sizeof max, "n", 64, ""), OK, NULL},
		{"", BAD, "name: is required"},
		{repeat(over, sizeof over, "n", 65, ""), BAD, "is longer than 64 characters"},
		{"-x", BAD, "\"-x\" must not start with '-'"},
		{".hidden", BAD, "must not start with '.'"},
		{"x y", BAD, "\"x y\" has a space; use only letters, digits"},
		{"a/b", BAD, "has \"/\""},
		{"bücher", BAD, "has \"ü\""},
		{"a\nb", BAD, "line break"},
		{"a\xe2\x80\xae" "b", BAD, "\"a\\u202Eb\" has an invisible character (U+202E)"},
		{"bad\xff", BAD, "\\xFF"},
	};
	outbox h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		new_handle(&h);
		expect(&h, validate_name(&h, "name", cases[i].in), &cases[i], "name", "validate_name");
	}
}

static void test_host(void **state)
{
	char label63[100], label64[100], name253[300], name254[300];
	const struct vcase cases[] = {
		{"smtp.example.org", OK, NULL},
		{"SMTP.Example.ORG", OK, NULL},
		{"localhost", OK, NULL},
		{"example.com.", OK, NULL},
		{"a-b.c0", OK, NULL},
		{"ab--cd.example", OK, NULL},
		{repeat(label63, sizeof label63, "l", 63, ".example"), OK, NULL},
		{repeat(name253, sizeof name253, "abcdefghi.", 24, "abcdefghijklm"), OK, NULL},
		{"192.0.2.1", OK, NULL},
		{"::1", OK, NULL},
		{"2001:db8::25", OK, NULL},
		{"::ffff:192.0.2.1", OK, NULL},
		{"bücher.example", OK, NULL},
		{"Bücher.Example", OK, NULL},
		{"xn--bcher-kva.example", OK, NULL},
		{"XN--BCHER-KVA.example", OK, NULL},
		{"例子.广告", OK, NULL},
		{"ß.de", OK, NULL},
		{"", BAD, "host: is required"},
		{"exa mple.com", BAD, "\"exa mple.com\" is not a valid host name: it has a space"},
		{"exa_mple.com", BAD, "it has \"_\", which host names cannot have"},
		{"host/path", BAD, "has \"/\""},
		{"ex!ample.com", BAD, "has \"!\""},
		{"ü_x.example", BAD, "has \"_\""},
		{"h.example:25", BAD, "\"h.example:25\" has a port"},
		{"192.0.2.1:25", BAD, "has a port"},
		{"[::1]", BAD, "has brackets"},
		{"[192.0.2.1]", BAD, "has brackets"},
		{"2001:db8::g", BAD, "is not a valid IPv6 address"},
		{"999.1.1.1", BAD, "\"999.1.1.1\" is not a valid IPv4 address"},
		{"1.2.3", BAD, "not a valid IPv4 address"},
		{"01.2.3.4", BAD, "not a valid IPv4 address"},
		{"-h.example", BAD, "a label starts or ends with '-'"},
		{"h-.example", BAD, "starts or ends with '-'"},
		{"a..b", BAD, "empty label"},
		{".a", BAD, "empty label"},
		{".", BAD, "empty label"},
		{"example.com..", BAD, "empty label"},
		{"a\xe3\x80\x82\xe3\x80\x82" "b", BAD, "empty label"}, /* "a。。b" maps to "a..b" */
		{repeat(label64, sizeof label64, "l", 64, ".example"), BAD, "a label is longer than 63 characters"},
		{repeat(name254, sizeof name254, "abcdefghi.", 24, "abcdefghijklmn"), BAD, "longer than 253 characters"},
		{"xn--zzzz.example", BAD, "punycode"},
		{"🙂.example", BAD, "disallowed"},
		{"bücher-.example", BAD, "hyphen"},
		{"bad\xff.example", BAD, "\"bad\\xFF.example\" is not valid UTF-8"},
		{"a\nb.example", BAD, "line break"},
		{"a\x1b" "b.example", BAD, "\"a\\x1Bb.example\" has a control character"},
	};
	outbox h;
	size_t i;

	(void)state;
	assert_int_equal(strlen(name253), 253);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		new_handle(&h);
		expect(&h, validate_host(&h, "host", cases[i].in), &cases[i], "host", "validate_host");
	}
}

static void test_int(void **state)
{
	const struct {
		struct vcase c;
		long min, max, want;
	} cases[] = {
		{{"25", OK, NULL}, 1, 65535, 25},
		{{"1", OK, NULL}, 1, 65535, 1},
		{{"65535", OK, NULL}, 1, 65535, 65535},
		{{"0587", OK, NULL}, 1, 65535, 587},
		{{"-5", OK, NULL}, -10, 10, -5},
		{{"0", OK, NULL}, -10, 10, 0},
		{{"9223372036854775807", OK, NULL}, LONG_MIN, LONG_MAX, LONG_MAX},
		{{"-9223372036854775808", OK, NULL}, LONG_MIN, LONG_MAX, LONG_MIN},
		{{"0", BAD, "port: \"0\" is not a number from 1 to 65535"}, 1, 65535, 0},
		{{"65536", BAD, "\"65536\" is not a number from 1 to 65535"}, 1, 65535, 0},
		{{"70000", BAD, "from 1 to 65535"}, 1, 65535, 0},
		{{"-1", BAD, "from 1 to 65535"}, 1, 65535, 0},
		{{"25x", BAD, "\"25x\" is not a number"}, 1, 65535, 0},
		{{"twenty", BAD, "not a number"}, 1, 65535, 0},
		{{"", BAD, "\"\" is not a number"}, 1, 65535, 0},
		{{" 25", BAD, "not a number"}, 1, 65535, 0},
		{{"25 ", BAD, "not a number"}, 1, 65535, 0},
		{{"+25", BAD, "not a number"}, 1, 65535, 0},
		{{"0x19", BAD, "not a number"}, 1, 65535, 0},
		{{"2.5", BAD, "not a number"}, 1, 65535, 0},
		{{"-", BAD, "not a number"}, -10, 10, 0},
		{{"--5", BAD, "not a number"}, -10, 10, 0},
		{{"99999999999999999999", BAD, "not a number"}, 1, 65535, 0},
		{{"9223372036854775808", BAD, "not a number"}, LONG_MIN, LONG_MAX, 0},
		{{"-9223372036854775809", BAD, "not a number"}, LONG_MIN, LONG_MAX, 0},
	};
	outbox h;
	size_t i;
	long n;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		new_handle(&h);
		n = 12345;
		expect(&h, validate_int(&h, "port", cases[i].c.in, cases[i].min, cases[i].max, &n),
		       &cases[i].c, "port", "validate_int");
		if (cases[i].c.rc == OK)
			EXPECT_INT(n, cases[i].want, cases[i].c.in);
	}
}

static void test_bool(void **state)
{
	const struct {
		struct vcase c;
		int want;
	} cases[] = {
		{{"true", OK, NULL}, 1},  {{"True", OK, NULL}, 1},  {{"YES", OK, NULL}, 1},
		{{"on", OK, NULL}, 1},    {{"1", OK, NULL}, 1},     {{"false", OK, NULL}, 0},
		{{"No", OK, NULL}, 0},    {{"OFF", OK, NULL}, 0},   {{"0", OK, NULL}, 0},
		{{"maybe", BAD, "\"maybe\" is not one of true, false, yes, no, on, off, 1, 0"}, 0},
		{{"", BAD, "is not one of"}, 0},
		{{"y", BAD, "is not one of"}, 0},
		{{"t", BAD, "is not one of"}, 0},
		{{"2", BAD, "is not one of"}, 0},
		{{"true ", BAD, "\"true \" is not one of"}, 0},
		{{"enabled", BAD, "is not one of"}, 0},
	};
	outbox h;
	size_t i;
	int flag;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		new_handle(&h);
		flag = -1;
		expect(&h, validate_bool(&h, "tls-verify", cases[i].c.in, &flag), &cases[i].c,
		       "tls-verify", "validate_bool");
		if (cases[i].c.rc == OK)
			EXPECT_INT(flag, cases[i].want, cases[i].c.in);
	}
}

static void test_choice(void **state)
{
	static const char *const modes[] = {"tls", "starttls", "none", NULL};
	const struct vcase cases[] = {
		{"tls", OK, NULL},
		{"starttls", OK, NULL},
		{"none", OK, NULL},
		{"ssl", BAD, "\"ssl\" is not one of tls, starttls, none"},
		{"TLS", BAD, "is not one of tls, starttls, none"},
		{"tls ", BAD, "is not one of"},
		{"", BAD, "\"\" is not one of"},
	};
	outbox h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		new_handle(&h);
		expect(&h, validate_choice(&h, "security", cases[i].in, modes), &cases[i], "security",
		       "validate_choice");
	}
	new_handle(&h);
	validate_choice(&h, "security", "ssl", modes);
	EXPECT_STR(outbox_errmsg(&h), "security: \"ssl\" is not one of tls, starttls, none",
		   "the whole message");
	EXPECT_STR(outbox_errdetail(&h), "\"ssl\" is not one of tls, starttls, none", "the detail");
}

static void test_address(void **state)
{
	char local64[300], local65[300], max[300], over[300], l64[80], dom189[200], dom190[200];
	const struct vcase cases[] = {
		{"ann@example.org", OK, NULL},
		{"Ann.Lee+tag@sub.example.co.uk", OK, NULL},
		{"!#$%&'*+-/=?^_`{|}~@example.org", OK, NULL},
		{"用户@例子.广告", OK, NULL},
		{"josé@bücher.example", OK, NULL},
		{"bob@xn--bcher-kva.example", OK, NULL},
		{"bob@localhost", OK, NULL},
		{"\"john smith\"@example.org", OK, NULL},
		{"\"a\\\"b\"@example.org", OK, NULL},
		{"\"a@b\"@example.org", OK, NULL},
		{"\"a..b.\"@example.org", OK, NULL},
		{"\"用户 x\"@example.org", OK, NULL},
		{"bob@[192.0.2.1]", OK, NULL},
		{"bob@[IPv6:::1]", OK, NULL},
		{"bob@[ipv6:2001:db8::1]", OK, NULL},
		{repeat(local64, sizeof local64, "l", 64, "@example.org"), OK, NULL},
		{max, OK, NULL},
		{"", BAD, "address: is required"},
		{"bob", BAD, "address: \"bob\" has no \"@domain\""},
		{"\"bob\"", BAD, "has no \"@domain\""},
		{"bob.", BAD, "has no \"@domain\""},
		{"@example.org", BAD, "has nothing before the \"@\""},
		{"bob@", BAD, "has no domain after the \"@\""},
		{"bob@@work.example", BAD, "has more than one \"@\""},
		{"a@b@example.org", BAD, "more than one \"@\""},
		{"bob smith@example.org", BAD, "has a space before the \"@\", which is only allowed in quotes"},
		{"a(b)@example.org", BAD, "has \"(\" before the \"@\""},
		{"a\"b@example.org", BAD, "has a double quote before"},
		{".bob@example.org", BAD, "starts with a dot"},
		{"bob.@example.org", BAD, "has a dot just before the \"@\""},
		{"a..b@example.org", BAD, "has two dots in a row"},
		{"\"unclosed@example.org", BAD, "a quote that is never closed"},
		{"\"\"@example.org", BAD, "nothing between the quotes"},
		{"\"a\"b@example.org", BAD, "text between the closing quote and the \"@\""},
		{"\"a\\ü\"@example.org", BAD, "not followed by a printable ASCII character"},
		{"bob@work.example\r\nRCPT TO:<x@y>", BAD, "has a line break"},
		{"bob\x01@example.org", BAD, "\"bob\\x01@example.org\" has a control character (U+0001)"},
		{"\"bob\x7f\"@example.org", BAD, "control character"},
		{"bad\xff@example.org", BAD, "not valid UTF-8"},
		{"bob@exa mple.com", BAD, "has a domain that is not valid: it has a space"},
		{"bob@exa_mple.com", BAD, "domain that is not valid: it has \"_\""},
		{"bob@-x.example", BAD, "starts or ends with '-'"},
		{"bob@example.com.", BAD, "empty label"},
		{"bob@xn--zzzz.example", BAD, "punycode"},
		{"bob@example.com:25", BAD, "has \":\""},
		{"bob@1.2.3.4", BAD, "has an IP address as its domain; put it in square brackets"},
		{"bob@999.1.1.1", BAD, "only digits and dots"},
		{"bob@[1.2.3]", BAD, "neither IPv4 nor [IPv6:...]"},
		{"bob@[::1]", BAD, "write it as [IPv6:::1]"},
		{"bob@[IPv6:zz]", BAD, "IPv6 literal that is not valid"},
		{"bob@[IPv6:1.2.3.4]", BAD, "IPv6 literal that is not valid"},
		{"bob@[1.2.3.4", BAD, "without a closing ']'"},
		{"bob@[]", BAD, "neither IPv4"},
		{repeat(local65, sizeof local65, "l", 65, "@example.org"), BAD, "has more than 64 bytes before the \"@\""},
		{over, BAD, "is longer than 254 bytes"},
	};
	outbox h;
	size_t i;

	(void)state;
	repeat(l64, sizeof l64, "l", 64, "");
	repeat(dom189, sizeof dom189, "abcdefghi.", 18, "exam.test");
	repeat(dom190, sizeof dom190, "abcdefghi.", 18, "examp.test");
	snprintf(max, sizeof max, "%s@%s", l64, dom189);
	snprintf(over, sizeof over, "%s@%s", l64, dom190);
	assert_int_equal(strlen(max), 254);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		new_handle(&h);
		expect(&h, validate_address(&h, "address", cases[i].in), &cases[i], "address",
		       "validate_address");
	}
}

static void test_sha256_pin(void **state)
{
	static const char lower[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	const struct {
		struct vcase c;
		const char *want;
	} cases[] = {
		{{lower, OK, NULL}, lower},
		{{"0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF", OK, NULL}, lower},
		{{"01:23:45:67:89:AB:CD:EF:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:ab:cd:ef",
		  OK, NULL}, lower},
		{{"", BAD, "tls-pin: is required"}, NULL},
		{{"abc", BAD, "\"abc\" is not a SHA-256 fingerprint: it has 3 hex digits, not 64"}, NULL},
		{{"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde", BAD,
		  "63 hex digits, not 64"}, NULL},
		{{"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0", BAD,
		  "65 hex digits, not 64"}, NULL},
		{{"g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", BAD,
		  "it has \"g\", which is not a hex digit"}, NULL},
		{{"0123456789abcdef 0123456789abcdef0123456789abcdef0123456789abcdef", BAD,
		  "it has a space"}, NULL},
		{{"sha256 Fingerprint=01:23", BAD, "it has \"s\""}, NULL},
		{{"0123:456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", BAD,
		  "colons out of place"}, NULL},
		{{"01:23:45:67:89:AB:CD:EF:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:ab:cdef",
		  BAD, "colons out of place"}, NULL},
		{{"01:23:45:67:89:AB:CD:EF:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:ab:cd:ef:",
		  BAD, "colons out of place"}, NULL},
		{{"0:123:45:67:89:AB:CD:EF:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:ab:cd:ef",
		  BAD, "colons out of place"}, NULL},
	};
	outbox h;
	size_t i;
	char out[65];

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		new_handle(&h);
		memset(out, 'x', sizeof out);
		expect(&h, validate_sha256_pin(&h, "tls-pin", cases[i].c.in, out), &cases[i].c,
		       "tls-pin", "validate_sha256_pin");
		if (cases[i].c.rc == OK) {
			EXPECT_INT(out[64], '\0', "the digits end in a NUL");
			EXPECT_STR(out, cases[i].want, cases[i].c.in);
		}
	}
}

static void test_readable_file(void **state)
{
	char dir[64], file[128], sub[128], fifo[128], link[128], locked[128], under_file[160];
	char cmd[128];
	FILE *fp;
	size_t i;
	outbox h;

	(void)state;
	snprintf(dir, sizeof dir, "/tmp/outbox-validate-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof file, "%s/ca.pem", dir);
	snprintf(sub, sizeof sub, "%s/certs", dir);
	snprintf(fifo, sizeof fifo, "%s/fifo", dir);
	snprintf(link, sizeof link, "%s/link.pem", dir);
	snprintf(locked, sizeof locked, "%s/locked.pem", dir);
	snprintf(under_file, sizeof under_file, "%s/ca.pem/inside", dir);
	assert_non_null(fp = fopen(file, "w"));
	fputs("-----BEGIN CERTIFICATE-----\n", fp);
	fclose(fp);
	assert_non_null(fp = fopen(locked, "w"));
	fclose(fp);
	assert_int_equal(chmod(locked, 0), 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(symlink(file, link), 0);

	{
		const struct vcase cases[] = {
			{file, OK, NULL},
			{link, OK, NULL},
			{"", BAD, "tls-ca: is required"},
			{"/nonexistent/ca.pem", BAD, "\"/nonexistent/ca.pem\": no such file"},
			{under_file, BAD, "no such file"},
			{sub, BAD, "\" is a directory"},
			{fifo, BAD, "is not a regular file"},
			/* root reads anything, so the refusal can only be seen as another user */
			{locked, geteuid() == 0 ? OK : BAD, "cannot be read: Permission denied"},
		};
		for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			new_handle(&h);
			expect(&h, validate_readable_file(&h, "tls-ca", cases[i].in), &cases[i], "tls-ca",
			       "validate_readable_file");
		}
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* A long value is cut in the message, and the cut never splits a UTF-8 character. */
static void test_long_values_are_cut(void **state)
{
	char value[600];
	outbox h;
	const char *msg;

	(void)state;
	new_handle(&h);
	repeat(value, sizeof value, "ü", 200, "");
	EXPECT_INT(validate_text(&h, "description", value, 100), BAD, "400 bytes of ü");
	msg = outbox_errmsg(&h);
	EXPECT_CONTAINS(msg, "üüü...\" is 400 bytes long; the most is 100", "the cut value");
	EXPECT_INT(validate_text(&h, "description", msg, 1000), OK, "the message is valid UTF-8 text");

	new_handle(&h);
	repeat(value, sizeof value, "a b", 100, "");
	EXPECT_INT(validate_host(&h, "host", value), BAD, "a long bad host");
	EXPECT_CONTAINS(outbox_errmsg(&h), "...\" is not a valid host name", "the cut host");
}

/* Server text as people see it: everything a terminal would obey (C0 and C1 controls, bidi
 * overrides and isolates, marks) and every byte that is not UTF-8 becomes a visible escape; plain
 * and international text stays itself; rendering twice changes nothing; a cut is clean. */
static void test_display(void **state)
{
#define TEXT(literal) literal, sizeof literal - 1
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} cases[] = {
		{TEXT("550 no such user"), "550 no such user"},
		{TEXT("550 caf\xc3\xa9 \xe2\x9c\x93"), "550 caf\xc3\xa9 \xe2\x9c\x93"},
		{TEXT("\x1b[2K\x1b[1A250 OK"), "\\x1B[2K\\x1B[1A250 OK"},
		{TEXT("a\xc2\x9b" "2Kb"), "a\\u009B2Kb"},
		{TEXT("a\x9b" "2Kb"), "a\\x9B2Kb"},
		{TEXT("x\xe2\x80\xaeKO"), "x\\u202EKO"},
		{TEXT("\xe2\x80\xaa\xe2\x80\xad\xe2\x81\xa6\xe2\x81\xa9"), "\\u202A\\u202D\\u2066\\u2069"},
		{TEXT("\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c"), "\\u200E\\u200F\\u061C"},
		{TEXT("bad \xff\xfe \xc3"), "bad \\xFF\\xFE \\xC3"},
		{TEXT("overlong \xc0\xaf"), "overlong \\xC0\\xAF"},
		{TEXT("line\r\nnext\tcol"), "line\\r\\nnext\\tcol"},
		{TEXT("nul\0here\x7f"), "nul\\x00here\\x7F"},
		{TEXT("back\\slash \\x1B"), "back\\slash \\x1B"},
	};
	char out[200], again[200], small[12];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char what[64];

		snprintf(what, sizeof what, "validate_display case %zu", i);
		EXPECT_STR(validate_display(out, sizeof out, cases[i].in, cases[i].len), cases[i].want, what);
		EXPECT_STR(validate_display(again, sizeof again, out, strlen(out)), out, "rendering it again");
	}
	/* Cut to fit, with "...", never inside an escape or a character. */
	EXPECT_STR(validate_display(small, sizeof small, "abcdefghijklmnop", 16), "abcdefgh...", "a long text cut");
	EXPECT_STR(validate_display(small, sizeof small, "abcde\x1b" "fghij", 11), "abcde...", "a cut before an escape");
	EXPECT_STR(validate_display(small, sizeof small, "abcdef\xc3\xa9\xc3\xa9\xc3\xa9", 12), "abcdef\xc3\xa9...", "a cut between characters");
	EXPECT_STR(validate_display(small, sizeof small, "abcdefghijk", 11), "abcdefghijk", "a text that just fits");
#undef TEXT
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_int),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_choice),
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_sha256_pin),
		cmocka_unit_test(test_readable_file),
		cmocka_unit_test(test_long_values_are_cut),
		cmocka_unit_test(test_display),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
