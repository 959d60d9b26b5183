/* test_autoconfig.c: autoconfig documents read into setup candidates: the sample files of
 * tests/data/autoconfig (several servers, OAuth2, placeholders, the ISPDB's shape) and hostile ones. */
#include "unit.h"

#include "autoconfig.h"
#include "handle_internal.h"
#include "buf.h"

static outbox *test_handle(void)
{
	outbox *h = calloc(1, sizeof *h);

	assert_non_null(h);
	return h;
}

static char *read_sample(const char *name, size_t *len)
{
	char path[256];
	FILE *f;
	char *data;
	long n;

	snprintf(path, sizeof path, "tests/data/autoconfig/%s", name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s (run from the top of the tree)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	assert_non_null(data = malloc((size_t)n + 1));
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	data[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return data;
}

static int parse_text(outbox *h, const char *address, const char *domain, int oauth_usable,
		      const char *doc, size_t len, struct setup_candidates *out)
{
	struct autoconfig_query q = {address, domain, SETUP_SOURCE_ISPDB,
				     "https://ispdb.test/v1.1/example.test", oauth_usable};

	return autoconfig_parse(h, &q, doc, len, out);
}

static int parse_sample(outbox *h, const char *address, int oauth_usable, const char *name,
			struct setup_candidates *out)
{
	size_t len;
	char *doc = read_sample(name, &len);
	int rc = parse_text(h, address, NULL, oauth_usable, doc, len, out);

	free(doc);
	return rc;
}

static void expect_candidate(const struct setup_candidate *c, const char *host, int port,
			     enum setup_security security, const char *auth, const char *username,
			     const char *oauth)
{
	EXPECT_STR(c->host, host, "host");
	EXPECT_INT(c->port, port, c->host);
	EXPECT_INT(c->security, security, c->host);
	EXPECT_STR(c->auth, auth, c->host);
	EXPECT_STR(c->username, username, c->host);
	EXPECT_STR(c->oauth, oauth, c->host);
}

/* Whether a library whose file name contains `name` is mapped into this process. */
static int library_loaded(const char *name)
{
	char line[512];
	int found = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	assert_non_null(f);
	while (!found && fgets(line, sizeof line, f) != NULL)
		found = strstr(line, name) != NULL;
	fclose(f);
	return found;
}

/* Runs first: nothing loads expat before a document is read, so a plain send never does. */
static void test_expat_is_loaded_only_to_read_a_document(void **state)
{
	struct setup_candidates list = {0};
	outbox *h = test_handle();

	(void)state;
	EXPECT_INT(library_loaded("libexpat"), 0, "libexpat mapped before any document was read");
	EXPECT_INT(parse_text(h, "a@example.test", NULL, 0, "<clientConfig/>", 15, &list), 0, "parse");
	EXPECT_INT(library_loaded("libexpat"), 1, "libexpat mapped once a document was read");
	free(h);
}

static void test_provider_with_several_servers(void **state)
{
	struct setup_candidates list = {0};
	outbox *h = test_handle();
	size_t i;

	(void)state;
	EXPECT_INT(parse_sample(h, "jane.doe@example.test", 0, "several.xml", &list), 0, "parse");
	EXPECT_INT(list.n, 3, "candidates (the IMAP server and other.test's server are not taken)");
	expect_candidate(&list.v[0], "smtp.example.test", 465, SETUP_SECURITY_TLS, "auto",
			 "jane.doe@example.test", "");
	expect_candidate(&list.v[1], "submit.example.test", 587, SETUP_SECURITY_STARTTLS, "auto",
			 "jane.doe", "");
	expect_candidate(&list.v[2], "relay.example.test", 25, SETUP_SECURITY_NONE, "none", "", "");
	for (i = 0; i < list.n; i++) {
		EXPECT_INT(list.v[i].rank, i, "rank: the position in the file");
		EXPECT_INT(list.v[i].source, SETUP_SOURCE_ISPDB, "source");
		EXPECT_STR(list.v[i].origin, "https://ispdb.test/v1.1/example.test", "origin");
		EXPECT_STR(list.v[i].display_name, "Example Mail & Co", "display name");
	}
	setup_candidates_free(&list);
	free(h);
}

static void test_domain_list_is_matched_without_case(void **state)
{
	struct setup_candidates list = {0};
	outbox *h = test_handle();

	(void)state;
	/* Listed as "Example.NET": the second domain of the provider. */
	EXPECT_INT(parse_sample(h, "bob@example.net", 0, "several.xml", &list), 0, "parse");
	EXPECT_INT(list.n, 3, "candidates for the provider's second domain");
	EXPECT_STR(list.v[1].host, "submit.example.net", "%EMAILDOMAIN% is the address's domain");
	setup_candidates_free(&list);
	/* The second provider's domain: only its own server. */
	EXPECT_INT(parse_sample(h, "amy@other.test", 0, "several.xml", &list), 0, "parse");
	EXPECT_INT(list.n, 1, "candidates for other.test");
	expect_candidate(&list.v[0], "smtp.other.test", 465, SETUP_SECURITY_TLS, "auto", "", "");
	EXPECT_STR(list.v[0].display_name, "Someone Else", "its own display name");
	setup_candidates_free(&list);
	free(h);
}

static void test_unlisted_domain_offers_nothing(void **state)
{
	struct setup_candidates list = {0};
	outbox *h = test_handle();

	(void)state;
	EXPECT_INT(parse_sample(h, "joe@nowhere.test", 0, "several.xml", &list), 0,
		   "a valid document for other domains");
	EXPECT_INT(list.n, 0, "candidates for a domain the document does not list");
	setup_candidates_free(&list);
	free(h);
}

static void test_oauth2_maps_to_a_preset(void **state)
{
	struct setup_candidates list = {0};
	outbox *h = test_handle();

	(void)state;
	/* OAuth2 and a password listed: with a client ID, OAuth2 is the best the probe can use. */
	EXPECT_INT(parse_sample(h, "pat@contoso.test", 1, "oauth-microsoft.xml", &list), 0, "parse");
	EXPECT_INT(list.n, 1, "candidates");
	expect_candidate(&list.v[0], "smtp.contoso.test", 587, SETUP_SECURITY_STARTTLS, "xoauth2",
			 "pat@contoso.test", "microsoft");
	setup_candidates_free(&list);
	/* Without one, the password; the preset is still named for the caller. */
	EXPECT_INT(parse_sample(h, "pat@contoso.test", 0, "oauth-microsoft.xml", &list), 0, "parse");
	expect_candidate(&list.v[0], "smtp.contoso.test", 587, SETUP_SECURITY_STARTTLS, "auto",
			 "pat@contoso.test", "microsoft");
	setup_candidates_free(&list);
	free(h);
}

static void test_ispdb_shape_with_oauth_only(void **state)
{
	struct setup_candidates list = {0};
	outbox *h = test_handle();

	(void)state;
	/* OAuth2 alone: xoauth2 even without a client ID (the caller learns it needs one); the
	 * preset comes from the authURL's host, the issuer being unknown. */
	EXPECT_INT(parse_sample(h, "sam@hosted.test", 0, "ispdb-google.xml", &list), 0, "parse");
	EXPECT_INT(list.n, 1, "candidates (POP and the documentation are passed over)");
	expect_candidate(&list.v[0], "smtp.mail.test", 465, SETUP_SECURITY_TLS, "xoauth2",
			 "sam@hosted.test", "google");
	EXPECT_STR(list.v[0].display_name, "Test Mail", "display name");
	setup_candidates_free(&list);
	free(h);
}

static void test_lookup_by_mx_domain(void **state)
{
	struct setup_candidates list = {0};
	const char *doc =
		"<clientConfig version=\"1.1\"><emailProvider id=\"mail.test\">"
		"<domain>mail.test</domain><outgoingServer type=\"smtp\">"
		"<hostname>smtp.mail.test</hostname><port>587</port><socketType>STARTTLS</socketType>"
		"<username>%EMAILADDRESS%</username>"
		"<authentication>password-cleartext</authentication></outgoingServer>"
		"</emailProvider></clientConfig>";
	outbox *h = test_handle();

	(void)state;
	/* A custom domain whose MX is at mail.test: matched by the MX's domain, placeholders
	 * from the user's own address. */
	EXPECT_INT(parse_text(h, "ceo@custom.test", "mail.test", 0, doc, strlen(doc), &list), 0,
		   "parse by MX domain");
	EXPECT_INT(list.n, 1, "candidates");
	expect_candidate(&list.v[0], "smtp.mail.test", 587, SETUP_SECURITY_STARTTLS, "auto",
			 "ceo@custom.test", "");
	setup_candidates_free(&list);
	/* Matched by the address's domain, the same document offers nothing. */
	EXPECT_INT(parse_text(h, "ceo@custom.test", NULL, 0, doc, strlen(doc), &list), 0, "parse");
	EXPECT_INT(list.n, 0, "candidates by the address's own domain");
	setup_candidates_free(&list);
	free(h);
}

/* One outgoingServer of example.test with `inner` as its elements. */
static char *server_doc(const char *inner)
{
	struct buf b = BUF_INIT;

	assert_int_equal(buf_printf(&b, "<?xml version=\"1.0\"?>\n<clientConfig version=\"1.1\">"
				    "<emailProvider id=\"example.test\"><domain>example.test</domain>"
				    "<outgoingServer type=\"smtp\">%s</outgoingServer></emailProvider>"
				    "</clientConfig>", inner), 0);
	return buf_detach(&b);
}

struct refusal {
	const char *what;
	const char *doc;  /* a whole document, or NULL */
	const char *inner; /* else the elements of one outgoingServer */
	const char *words; /* what the message must say */
};

static const struct refusal refusals[] = {
	{"a DOCTYPE with entities (billion laughs)",
	 "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 "
	 "\"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]><clientConfig>&lol2;</clientConfig>", NULL,
	 "has a DOCTYPE: refused"},
	{"an external entity",
	 "<?xml version=\"1.0\"?><!DOCTYPE clientConfig SYSTEM \"file:///etc/passwd\">"
	 "<clientConfig version=\"1.1\"/>", NULL, "has a DOCTYPE: refused"},
	{"an undeclared entity", "<clientConfig version=\"1.1\">&xxe;</clientConfig>", NULL,
	 "not well-formed XML: undefined entity at line 1"},
	{"not XML", "{\"servers\": []}", NULL, "not well-formed XML"},
	{"an HTML page", "<html><body>Not here</body></html>", NULL,
	 "the root element is <html>, want <clientConfig>"},
	{"an empty answer", "", NULL, "not well-formed XML"},
	{"a version 2", "<clientConfig version=\"2.0\"/>", NULL,
	 "clientConfig: version \"2.0\" is not one outbox reads"},
	{"a port that is not a number", NULL,
	 "<hostname>smtp.example.test</hostname><port>smtp</port><socketType>SSL</socketType>",
	 "outgoingServer/port: \"smtp\" is not a port (1-65535)"},
	{"a port out of range", NULL,
	 "<hostname>smtp.example.test</hostname><port>70000</port><socketType>SSL</socketType>",
	 "outgoingServer/port: \"70000\" is not a port"},
	{"port 0", NULL,
	 "<hostname>smtp.example.test</hostname><port>0</port><socketType>SSL</socketType>",
	 "outgoingServer/port: \"0\" is not a port"},
	{"a negative port", NULL,
	 "<hostname>smtp.example.test</hostname><port>-465</port><socketType>SSL</socketType>",
	 "outgoingServer/port: \"-465\" is not a port"},
	{"no port", NULL, "<hostname>smtp.example.test</hostname><socketType>SSL</socketType>",
	 "outgoingServer/port: missing"},
	{"no hostname", NULL, "<port>465</port><socketType>SSL</socketType>",
	 "outgoingServer/hostname: missing"},
	{"an empty hostname", NULL, "<hostname> </hostname><port>465</port><socketType>SSL</socketType>",
	 "outgoingServer/hostname: missing"},
	{"a host name with a space", NULL,
	 "<hostname>smtp example.test</hostname><port>465</port><socketType>SSL</socketType>",
	 "outgoingServer/hostname: \"smtp example.test\" is not a valid host name: it has a space"},
	{"a host name with a port", NULL,
	 "<hostname>smtp.example.test:465</hostname><port>465</port><socketType>SSL</socketType>",
	 "outgoingServer/hostname: \"smtp.example.test:465\" has a port"},
	{"a host name with a control character", NULL,
	 "<hostname>smtp.example.test&#x9;x</hostname><port>465</port><socketType>SSL</socketType>",
	 "outgoingServer/hostname"},
	{"an unknown socket type", NULL,
	 "<hostname>smtp.example.test</hostname><port>465</port><socketType>TLS</socketType>",
	 "outgoingServer/socketType: \"TLS\" is not a socket type outbox knows (SSL, STARTTLS, plain)"},
	{"no socket type", NULL, "<hostname>smtp.example.test</hostname><port>465</port>",
	 "outgoingServer/socketType: missing"},
	{"two host names", NULL,
	 "<hostname>a.example.test</hostname><hostname>b.example.test</hostname><port>465</port>"
	 "<socketType>SSL</socketType>",
	 "outgoingServer: more than one <hostname> in one server"},
	{"an unknown placeholder", NULL,
	 "<hostname>smtp.example.test</hostname><port>465</port><socketType>SSL</socketType>"
	 "<username>%REALNAME%</username>",
	 "outgoingServer/username: the placeholder %REALNAME% is not one outbox knows"},
	{"a user name with a line break", NULL,
	 "<hostname>smtp.example.test</hostname><port>465</port><socketType>SSL</socketType>"
	 "<username>a&#10;b</username>",
	 "outgoingServer/username"},
};

static void test_refused_documents_say_why(void **state)
{
	size_t i;
	outbox *h = test_handle();
	struct setup_candidate earlier = {.host = "earlier.example.test", .port = 25};

	(void)state;
	for (i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
		const struct refusal *r = &refusals[i];
		char *doc = r->doc ? strdup(r->doc) : server_doc(r->inner);
		struct setup_candidates list = {0};
		int rc;

		assert_non_null(doc);
		/* A list that already holds a candidate: a refusal must leave it as it was. */
		assert_int_equal(setup_candidates_add(h, &list, &earlier), 0);
		outbox_clear_error(h);
		rc = parse_text(h, "jane@example.test", NULL, 0, doc, strlen(doc), &list);
		if (rc != OUTBOX_EPROTOCOL)
			fail_msg("%s: got %d (%s), want OUTBOX_EPROTOCOL", r->what, rc,
				 outbox_errmsg(h));
		EXPECT_CONTAINS(outbox_errmsg(h), r->words, r->what);
		if (strchr(outbox_errmsg(h), '\n') != NULL)
			fail_msg("%s: the message is not one line: \"%s\"", r->what, outbox_errmsg(h));
		EXPECT_INT(list.n, 1, r->what);
		EXPECT_STR(list.v[0].host, "earlier.example.test", r->what);
		setup_candidates_free(&list);
		free(doc);
	}
	free(h);
}

static void test_refused_after_a_good_server_adds_nothing(void **state)
{
	char *doc = server_doc("<hostname>good.example.test</hostname><port>465</port>"
			       "<socketType>SSL</socketType></outgoingServer><outgoingServer type=\"smtp\">"
			       "<hostname>bad..example.test</hostname><port>465</port>"
			       "<socketType>SSL</socketType>");
	struct setup_candidates list = {0};
	outbox *h = test_handle();

	(void)state;
	EXPECT_INT(parse_text(h, "jane@example.test", NULL, 0, doc, strlen(doc), &list),
		   OUTBOX_EPROTOCOL, "a document with one bad server");
	EXPECT_CONTAINS(outbox_errmsg(h), "outgoingServer/hostname: \"bad..example.test\"", "message");
	EXPECT_INT(list.n, 0, "candidates from a refused document (the good server is not kept)");
	setup_candidates_free(&list);
	free(doc);
	free(h);
}

/* A document of `n` bytes: a valid one padded with a comment. */
static void test_size_depth_and_count_caps(void **state)
{
	struct setup_candidates list = {0};
	struct buf b = BUF_INIT;
	outbox *h = test_handle();
	int i;

	(void)state;
	/* Larger than the cap: refused before expat sees it. */
	assert_int_equal(buf_puts(&b, "<clientConfig version=\"1.1\"><!--"), 0);
	while (b.len < AUTOCONFIG_MAX_BYTES)
		assert_int_equal(buf_puts(&b, "padding padding padding padding "), 0);
	assert_int_equal(buf_puts(&b, "--></clientConfig>"), 0);
	EXPECT_INT(parse_text(h, "a@example.test", NULL, 0, b.data, b.len, &list), OUTBOX_EPROTOCOL,
		   "a document over the size cap");
	EXPECT_CONTAINS(outbox_errmsg(h), "larger than 64 KiB: refused", "size cap");
	buf_free(&b);
	/* Nine levels of elements. */
	assert_int_equal(buf_puts(&b, "<clientConfig>"), 0);
	for (i = 0; i < AUTOCONFIG_MAX_DEPTH; i++)
		assert_int_equal(buf_puts(&b, "<a>"), 0);
	for (i = 0; i < AUTOCONFIG_MAX_DEPTH; i++)
		assert_int_equal(buf_puts(&b, "</a>"), 0);
	assert_int_equal(buf_puts(&b, "</clientConfig>"), 0);
	EXPECT_INT(parse_text(h, "a@example.test", NULL, 0, b.data, b.len, &list), OUTBOX_EPROTOCOL,
		   "a document nested too deep");
	EXPECT_CONTAINS(outbox_errmsg(h), "nests elements more than 8 deep", "depth cap");
	buf_free(&b);
	/* Eight levels are fine. */
	assert_int_equal(buf_puts(&b, "<clientConfig>"), 0);
	for (i = 1; i < AUTOCONFIG_MAX_DEPTH; i++)
		assert_int_equal(buf_puts(&b, "<a>"), 0);
	for (i = 1; i < AUTOCONFIG_MAX_DEPTH; i++)
		assert_int_equal(buf_puts(&b, "</a>"), 0);
	assert_int_equal(buf_puts(&b, "</clientConfig>"), 0);
	EXPECT_INT(parse_text(h, "a@example.test", NULL, 0, b.data, b.len, &list), 0,
		   "a document exactly at the depth cap");
	buf_free(&b);
	/* More elements than the cap, in few bytes. */
	assert_int_equal(buf_puts(&b, "<clientConfig>"), 0);
	for (i = 0; i < AUTOCONFIG_MAX_ELEMENTS; i++)
		assert_int_equal(buf_puts(&b, "<a/>"), 0);
	assert_int_equal(buf_puts(&b, "</clientConfig>"), 0);
	EXPECT_INT(parse_text(h, "a@example.test", NULL, 0, b.data, b.len, &list), OUTBOX_EPROTOCOL,
		   "a document with too many elements");
	EXPECT_CONTAINS(outbox_errmsg(h), "more than 4096 elements", "element cap");
	buf_free(&b);
	/* A host name longer than any text outbox reads. */
	assert_int_equal(buf_puts(&b, "<clientConfig><emailProvider><domain>example.test</domain>"
				  "<outgoingServer type=\"smtp\"><hostname>"), 0);
	for (i = 0; i <= AUTOCONFIG_MAX_TEXT; i++)
		assert_int_equal(buf_puts(&b, "a"), 0);
	assert_int_equal(buf_puts(&b, "</hostname></outgoingServer></emailProvider></clientConfig>"), 0);
	EXPECT_INT(parse_text(h, "a@example.test", NULL, 0, b.data, b.len, &list), OUTBOX_EPROTOCOL,
		   "a host name past the text cap");
	EXPECT_CONTAINS(outbox_errmsg(h), "outgoingServer/hostname: longer than 1024 bytes", "text cap");
	buf_free(&b);
	/* Seventeen SMTP servers for one domain. */
	assert_int_equal(buf_puts(&b, "<clientConfig><emailProvider><domain>example.test</domain>"), 0);
	for (i = 0; i <= AUTOCONFIG_MAX_SERVERS; i++)
		assert_int_equal(buf_printf(&b, "<outgoingServer type=\"smtp\"><hostname>s%d.example.test"
					    "</hostname><port>465</port><socketType>SSL</socketType>"
					    "</outgoingServer>", i), 0);
	assert_int_equal(buf_puts(&b, "</emailProvider></clientConfig>"), 0);
	EXPECT_INT(parse_text(h, "a@example.test", NULL, 0, b.data, b.len, &list), OUTBOX_EPROTOCOL,
		   "seventeen servers");
	EXPECT_CONTAINS(outbox_errmsg(h), "more than 16 SMTP outgoingServer elements", "server cap");
	EXPECT_INT(list.n, 0, "candidates after a refusal");
	buf_free(&b);
	setup_candidates_free(&list);
	free(h);
}

static void test_nul_byte_is_refused(void **state)
{
	static const char doc[] = "<clientConfig version=\"1.1\">\0</clientConfig>";
	struct setup_candidates list = {0};
	outbox *h = test_handle();

	(void)state;
	EXPECT_INT(parse_text(h, "a@example.test", NULL, 0, doc, sizeof doc - 1, &list),
		   OUTBOX_EPROTOCOL, "a NUL inside the document");
	EXPECT_CONTAINS(outbox_errmsg(h), "not well-formed XML", "NUL");
	free(h);
}

static void test_display_name_is_rendered_safe(void **state)
{
	const char *doc =
		"<clientConfig><emailProvider><domain>example.test</domain>"
		"<displayName>Evil\xe2\x80\xae" "moc.liame</displayName><outgoingServer type=\"smtp\">"
		"<hostname>smtp.example.test</hostname><port>465</port><socketType>SSL</socketType>"
		"</outgoingServer></emailProvider></clientConfig>";
	struct setup_candidates list = {0};
	outbox *h = test_handle();

	(void)state;
	EXPECT_INT(parse_text(h, "a@example.test", NULL, 0, doc, strlen(doc), &list), 0, "parse");
	EXPECT_INT(list.n, 1, "candidates");
	EXPECT_STR(list.v[0].display_name, "Evil\\u202Emoc.liame",
		   "a direction override in the display name");
	setup_candidates_free(&list);
	free(h);
}

static void test_query_needs_an_address(void **state)
{
	struct setup_candidates list = {0};
	outbox *h = test_handle();

	(void)state;
	EXPECT_INT(parse_text(h, "no-at-sign", NULL, 0, "<clientConfig/>", 15, &list),
		   OUTBOX_EINVALID, "an address without @");
	EXPECT_CONTAINS(outbox_errmsg(h), "address: ", "names the field");
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expat_is_loaded_only_to_read_a_document),
		cmocka_unit_test(test_provider_with_several_servers),
		cmocka_unit_test(test_domain_list_is_matched_without_case),
		cmocka_unit_test(test_unlisted_domain_offers_nothing),
		cmocka_unit_test(test_oauth2_maps_to_a_preset),
		cmocka_unit_test(test_ispdb_shape_with_oauth_only),
		cmocka_unit_test(test_lookup_by_mx_domain),
		cmocka_unit_test(test_refused_documents_say_why),
		cmocka_unit_test(test_refused_after_a_good_server_adds_nothing),
		cmocka_unit_test(test_size_depth_and_count_caps),
		cmocka_unit_test(test_nul_byte_is_refused),
		cmocka_unit_test(test_display_name_is_rendered_safe),
		cmocka_unit_test(test_query_needs_an_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
