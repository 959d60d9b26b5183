/* test_http_location.c: a redirect's Location as setup's lookups read it: the header picked out of a
 * line, resolved against the URL asked (RFC 3986's examples), and the rule for following it. */
#include "autoconfig_redirect.h"
#include "buf.h"
#include "handle_internal.h"
#include "http.h"
#include "unit.h"

static void test_location_value_from_header_lines(void **state)
{
	static const struct {
		const char *line;
		int want;
		const char *value;
	} cases[] = {
		{"Location: https://provider.test/a.xml\r\n", 1, "https://provider.test/a.xml"},
		{"location:/moved.xml", 1, "/moved.xml"},
		{"LOCATION: \t ../up.xml \t\r\n", 1, "../up.xml"},
		{"Location: ?q=1\n", 1, "?q=1"},
		{"Content-Location: /other.xml\r\n", 0, ""},
		{"Locations: /x\r\n", 0, ""},
		{"Content-Type: text/xml\r\n", 0, ""},
		{"Location:\r\n", -1, ""},
		{"Location:    \r\n", -1, ""},
		{"Location: /with space.xml\r\n", -1, ""},
		{"Location: /tab\there\r\n", -1, ""},
		{"Location: /ctl\x01.xml\r\n", -1, ""},
		{"Location: /caf\xc3\xa9.xml\r\n", -1, ""},
		{"Location: /del\x7f\r\n", -1, ""},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char out[64] = "", what[128];
		int got = http_location_value(cases[i].line, strlen(cases[i].line), out, sizeof out);

		snprintf(what, sizeof what, "case %zu (%.40s): result", i, cases[i].line);
		EXPECT_INT(got, cases[i].want, what);
		snprintf(what, sizeof what, "case %zu (%.40s): value", i, cases[i].line);
		EXPECT_STR(out, cases[i].value, what);
	}
}

static void test_location_value_is_bounded(void **state)
{
	const char *line = "Location: https://provider.test/0123456789\r\n";
	size_t need = strlen("https://provider.test/0123456789") + 1;
	char out[64];

	(void)state;
	EXPECT_INT(http_location_value(line, strlen(line), out, need - 1), -1, "one byte short of the value");
	EXPECT_INT(http_location_value(line, strlen(line), out, need), 1, "exactly room for the value");
	/* A NUL inside the name: not a Location line, however it continues. */
	EXPECT_INT(http_location_value("Loca\0ion: /x", 12, out, sizeof out), 0, "a NUL in the name");
	EXPECT_INT(http_location_value("Location: /a\0b", 15, out, sizeof out), -1, "a NUL in the value");
}

/* RFC 3986 section 5.4's examples, against its base; then the forms providers send. */
static void test_references_resolve_as_rfc_3986_says(void **state)
{
	static const struct {
		const char *base, *ref, *want;
	} cases[] = {
		{"https://a.test/b/c/d;p?q", "g", "https://a.test/b/c/g"},
		{"https://a.test/b/c/d;p?q", "./g", "https://a.test/b/c/g"},
		{"https://a.test/b/c/d;p?q", "g/", "https://a.test/b/c/g/"},
		{"https://a.test/b/c/d;p?q", "/g", "https://a.test/g"},
		{"https://a.test/b/c/d;p?q", "//g.test/x", "https://g.test/x"},
		{"https://a.test/b/c/d;p?q", "?y", "https://a.test/b/c/d;p?y"},
		{"https://a.test/b/c/d;p?q", "g?y", "https://a.test/b/c/g?y"},
		{"https://a.test/b/c/d;p?q", "../g", "https://a.test/b/g"},
		{"https://a.test/b/c/d;p?q", "../../g", "https://a.test/g"},
		{"https://a.test/b/c/d;p?q", "../../../g", "https://a.test/g"},
		{"https://a.test/b/c/d;p?q", "g;x=1/../y", "https://a.test/b/c/y"},
		{"https://autoconfig.x.test/mail/config-v1.1.xml?emailaddress=a%40x.test",
		 "https://provider.test/v1.1/x.test", "https://provider.test/v1.1/x.test"},
		/* The scheme is lower-cased; the host is kept as sent (names compare without case). */
		{"https://ispdb.test/v1.1/x.test", "HTTPS://Provider.TEST:443/v1.1/x.test",
		 "https://Provider.TEST:443/v1.1/x.test"},
		{"http://127.0.0.1:8080/v1.1/x.test", "/v2/x.test", "http://127.0.0.1:8080/v2/x.test"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		outbox h = {0};
		struct buf out = BUF_INIT;
		char what[160];

		snprintf(what, sizeof what, "%s against %s", cases[i].ref, cases[i].base);
		EXPECT_INT(http_url_resolve(&h, cases[i].base, cases[i].ref, &out), 0, what);
		EXPECT_STR(out.data, cases[i].want, what);
		buf_free(&out);
	}
}

/* One redirect from `from` with `location`: 0 and where it leads, or the code and the message. */
static int follow(const char *from, const char *location, char *where, size_t size)
{
	static struct autoconfig_hops hops;
	struct http_response resp = {0};
	outbox h = {0};
	int rc;

	assert_int_equal(autoconfig_redirect_start(&h, &hops, from), 0);
	resp.status = 302;
	snprintf(resp.location, sizeof resp.location, "%s", location);
	rc = autoconfig_redirect_next(&h, &hops, &resp);
	snprintf(where, size, "%s", rc == 0 ? hops.url[hops.n - 1] : outbox_errdetail(&h));
	return rc;
}

static void test_redirects_stay_on_https_unless_the_first_url_was_plain_loopback(void **state)
{
	static const struct {
		const char *from, *location;
		int want;
		const char *words;
	} cases[] = {
		{"https://a.test/x", "https://b.test/y", 0, "https://b.test/y"},
		{"https://a.test/x", "http://b.test/y", OUTBOX_EPROTOCOL, "must stay on https://"},
		{"https://a.test/x", "http://127.0.0.1/y", OUTBOX_EPROTOCOL, "must stay on https://"},
		{"http://127.0.0.1:81/x", "/y", 0, "http://127.0.0.1:81/y"},
		{"http://127.0.0.1:81/x", "https://b.test/y", 0, "https://b.test/y"},
		{"http://127.0.0.1:81/x", "http://b.test/y", OUTBOX_EPROTOCOL, "is refused: endpoints must be"},
		{"https://a.test/x", "https://a.test/x", OUTBOX_EPROTOCOL, "a redirect loop"},
		{"https://a.test/x", "https://[bad/y", OUTBOX_EPROTOCOL, "a Location that is no URL"},
		{"https://a.test/x", "", OUTBOX_EPROTOCOL, "without a Location"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char where[512], what[160];

		snprintf(what, sizeof what, "%s to %s", cases[i].from, cases[i].location);
		EXPECT_INT(follow(cases[i].from, cases[i].location, where, sizeof where), cases[i].want, what);
		EXPECT_CONTAINS(where, cases[i].words, what);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_location_value_from_header_lines),
		cmocka_unit_test(test_location_value_is_bounded),
		cmocka_unit_test(test_references_resolve_as_rfc_3986_says),
		cmocka_unit_test(test_redirects_stay_on_https_unless_the_first_url_was_plain_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
