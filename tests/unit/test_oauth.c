/* test_oauth.c: the OAuth protocol functions: PKCE against RFC 7636's vector, the authorization
 * URL, token and error answers as tables, the http:// loopback rule, the redirect listener, and
 * real HTTP and HTTPS from a canned server in a thread of the test (nothing sleeps to assert). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <openssl/ssl.h>

#include "buf.h"
#include "handle_internal.h"
#include "http.h"
#include "oauth.h"
#include "oauth_loopback.h"
#include "unit.h"

/* Made up here: never a real provider's. */
#define TEST_CLIENT_ID "outbox-test-client"
#define TEST_SECRET "made-up-client-secret-4k9"
#define TEST_REFRESH "made-up-refresh-tok-8d1"

static outbox *test_handle(void)
{
	outbox *h = calloc(1, sizeof *h);

	assert_non_null(h);
	return h;
}

static void test_pkce_rfc7636_vector(void **state)
{
	char challenge[44];
	struct oauth_pkce p;
	size_t n;

	(void)state;
	/* RFC 7636 appendix B. */
	assert_int_equal(oauth_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", challenge), 0);
	EXPECT_STR(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "S256 challenge");

	assert_int_equal(oauth_pkce_new(NULL, &p), 0);
	n = strlen(p.verifier);
	EXPECT_INT(n >= 43 && n <= 128, 1, "verifier length within 43..128");
	EXPECT_INT(strspn(p.verifier, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"), n,
		   "verifier characters all unreserved");
	assert_int_equal(oauth_pkce_challenge(p.verifier, challenge), 0);
	EXPECT_STR(p.challenge, challenge, "challenge of the new verifier");
	EXPECT_INT(strlen(p.state) >= 16, 1, "state has at least 16 characters");
	{
		struct oauth_pkce q;

		assert_int_equal(oauth_pkce_new(NULL, &q), 0);
		EXPECT_INT(strcmp(p.verifier, q.verifier) != 0 && strcmp(p.state, q.state) != 0, 1,
			   "two sign-ins draw different verifiers and states");
	}
}

static void test_code_url_escapes_every_value(void **state)
{
	const char *extra[] = {"login_hint", "ann+test@example.org", NULL};
	char *url = NULL;
	outbox *h = test_handle();

	(void)state;
	assert_int_equal(oauth_code_url(h, "https://login.example.org/tenant/authorize", "id 1",
					"http://127.0.0.1:5555/", "https://mail.example.org/ offline_access",
					"CHAL", "st&te", extra, &url), 0);
	EXPECT_STR(url, "https://login.example.org/tenant/authorize?response_type=code&client_id=id%201"
		   "&redirect_uri=http%3A%2F%2F127.0.0.1%3A5555%2F"
		   "&scope=https%3A%2F%2Fmail.example.org%2F%20offline_access"
		   "&code_challenge=CHAL&code_challenge_method=S256&state=st%26te"
		   "&login_hint=ann%2Btest%40example.org", "authorization URL");
	free(url);
	/* An endpoint with a query of its own keeps it. */
	assert_int_equal(oauth_code_url(h, "https://login.example.org/authorize?p=B2C_1", "c", "r",
					"s", "x", "y", NULL, &url), 0);
	EXPECT_CONTAINS(url, "authorize?p=B2C_1&response_type=code&", "query kept");
	free(url);
	EXPECT_INT(oauth_code_url(h, "http://login.example.org/authorize", "c", "r", "s", "x", "y",
				  NULL, &url), OUTBOX_EINVALID, "plain http authorize URL: code");
	EXPECT_CONTAINS(outbox_errmsg(h), "oauth-authorize-url: http://login.example.org/authorize is refused",
			"plain http authorize URL");
	free(h);
}

static void test_http_url_loopback_rule(void **state)
{
	static const struct {
		const char *url;
		int ok;
	} cases[] = {
		{"https://login.microsoftonline.com/common/oauth2/v2.0/token", 1},
		{"https://oauth2.googleapis.com/token", 1},
		{"http://127.0.0.1:8080/token", 1},
		{"http://127.1.2.3/token", 1},
		{"http://[::1]:9000/token", 1},
		{"http://localhost:9000/token", 1},
		{"http://LOCALHOST/token", 1},
		{"http://oauth2.googleapis.com/token", 0},
		{"http://128.0.0.1/token", 0},
		{"http://10.0.0.1/token", 0},
		{"http://[::2]/token", 0},
		{"http://localhost.example.org/token", 0},
		{"http://127.0.0.1.example.org/token", 0},
		{"ftp://127.0.0.1/token", 0},
		{"https://user:pw@example.org/token", 0},
		{"not a url", 0},
		{"", 0},
	};
	outbox *h = test_handle();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = http_url_check(h, "oauth-token-url", cases[i].url);
		char what[160];

		snprintf(what, sizeof what, "%s accepted", cases[i].url);
		EXPECT_INT(rc == 0, cases[i].ok, what);
		if (!cases[i].ok) {
			EXPECT_INT(rc, OUTBOX_EINVALID, what);
			EXPECT_CONTAINS(outbox_errmsg(h), "oauth-token-url: ", "error names the field");
			EXPECT_INT(strchr(outbox_errmsg(h), '\n') == NULL, 1, "error is one line");
		}
	}
	free(h);
}

/* Token answers: what a caller gets from each. */
static void test_token_answers(void **state)
{
	static const struct {
		const char *name;
		long status;
		const char *body;
		int rc;
		const char *access, *refresh;
		long long expires;
		const char *words;
	} cases[] = {
		{"good", 200, "{\"access_token\":\"at-1\",\"token_type\":\"Bearer\",\"expires_in\":3599,"
			      "\"refresh_token\":\"rt-1\",\"scope\":\"a b\",\"id_token\":\"x.y.z\"}",
		 0, "at-1", "rt-1", 3599, NULL},
		{"lower-case bearer, no refresh", 200,
		 "{\"access_token\":\"at-2\",\"token_type\":\"bearer\",\"expires_in\":60}", 0, "at-2", NULL,
		 60, NULL},
		{"expires_in as a string", 200,
		 "{\"access_token\":\"at\",\"token_type\":\"Bearer\",\"expires_in\":\"3600\"}", 0, "at", NULL,
		 3600, NULL},
		{"no expires_in", 200, "{\"access_token\":\"at\",\"token_type\":\"Bearer\"}", 0, "at", NULL,
		 0, NULL},
		{"huge expires_in is capped", 200,
		 "{\"access_token\":\"at\",\"token_type\":\"Bearer\",\"expires_in\":99999999999999999999}", 0,
		 "at", NULL, OAUTH_MAX_EXPIRES_IN, NULL},
		{"negative expires_in", 200,
		 "{\"access_token\":\"at\",\"token_type\":\"Bearer\",\"expires_in\":-5}", OUTBOX_EPROTOCOL,
		 NULL, NULL, 0, "expires_in is not a positive number"},
		{"fractional expires_in", 200,
		 "{\"access_token\":\"at\",\"token_type\":\"Bearer\",\"expires_in\":1.5}", OUTBOX_EPROTOCOL,
		 NULL, NULL, 0, "expires_in"},
		{"no access_token", 200, "{\"token_type\":\"Bearer\"}", OUTBOX_EPROTOCOL, NULL, NULL, 0,
		 "has no access_token"},
		{"no token_type", 200, "{\"access_token\":\"at\"}", OUTBOX_EPROTOCOL, NULL, NULL, 0,
		 "has no token_type"},
		{"MAC token", 200, "{\"access_token\":\"at\",\"token_type\":\"mac\"}", OUTBOX_EPROTOCOL,
		 NULL, NULL, 0, "a token of type mac; outbox can use only Bearer tokens"},
		{"access_token a number", 200, "{\"access_token\":42,\"token_type\":\"Bearer\"}",
		 OUTBOX_EPROTOCOL, NULL, NULL, 0, "access_token is not a token"},
		{"token with a control byte", 200,
		 "{\"access_token\":\"a\\u0001b\",\"token_type\":\"Bearer\"}", OUTBOX_EPROTOCOL, NULL, NULL,
		 0, "access_token is not a token"},
		{"token with a NUL escape", 200,
		 "{\"access_token\":\"a\\u0000b\",\"token_type\":\"Bearer\"}", OUTBOX_EPROTOCOL, NULL, NULL,
		 0, "access_token is not a token"},
		{"invalid JSON", 200, "{\"access_token\":\"at\",", OUTBOX_EPROTOCOL, NULL, NULL, 0,
		 "not a JSON object"},
		{"trailing garbage", 200, "{\"access_token\":\"at\",\"token_type\":\"Bearer\"} x",
		 OUTBOX_EPROTOCOL, NULL, NULL, 0, "not a JSON object"},
		{"an array", 200, "[1,2]", OUTBOX_EPROTOCOL, NULL, NULL, 0, "not a JSON object"},
		{"empty body", 200, "", OUTBOX_EPROTOCOL, NULL, NULL, 0, "not a JSON object"},
		{"invalid_grant", 400,
		 "{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS70000: token revoked\"}",
		 OUTBOX_EAUTH, NULL, NULL, 0,
		 "the sign-in was refused or revoked (invalid_grant: AADSTS70000: token revoked)"},
		{"invalid_client", 401, "{\"error\":\"invalid_client\"}", OUTBOX_ECONFIG, NULL, NULL, 0,
		 "the provider refused the client: check the client ID and secret (invalid_client)"},
		{"access_denied", 400, "{\"error\":\"access_denied\"}", OUTBOX_EAUTH, NULL, NULL, 0,
		 "the sign-in was refused (access_denied)"},
		{"expired_token", 400, "{\"error\":\"expired_token\"}", OUTBOX_EAUTH, NULL, NULL, 0,
		 "expired before it was confirmed"},
		{"pending", 400, "{\"error\":\"authorization_pending\"}", OAUTH_PENDING, NULL, NULL, 0, NULL},
		{"slow_down", 400, "{\"error\":\"slow_down\"}", OAUTH_SLOW_DOWN, NULL, NULL, 0, NULL},
		{"error with a 200", 200, "{\"error\":\"invalid_grant\"}", OUTBOX_EAUTH, NULL, NULL, 0,
		 "invalid_grant"},
		{"unknown 4xx error", 400,
		 "{\"error\":\"weird\",\"error_uri\":\"https://example.org/e\"}", OUTBOX_ECONFIG, NULL,
		 NULL, 0, "the provider refused the request (weird); see https://example.org/e"},
		{"server_error", 400, "{\"error\":\"server_error\"}", OUTBOX_ETEMPFAIL, NULL, NULL, 0,
		 "try again later"},
		{"503 HTML", 503, "<html>down</html>", OUTBOX_ETEMPFAIL, NULL, NULL, 0,
		 "the provider failed; try again later (HTTP 503)"},
		{"404 HTML", 404, "<html>no</html>", OUTBOX_ECONFIG, NULL, NULL, 0,
		 "the endpoint refused the request: check its URL (HTTP 404)"},
		{"a redirect", 302, "", OUTBOX_ECONFIG, NULL, NULL, 0, "redirects are not followed"},
		{"escape in description", 400,
		 "{\"error\":\"invalid_grant\",\"error_description\":\"\\u001b[2Jgone\\nnext\"}",
		 OUTBOX_EAUTH, NULL, NULL, 0, "invalid_grant: \\x1B[2Jgone\\nnext)"},
	};
	outbox *h = test_handle();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct oauth_tokens t;
		char what[128];
		int rc = oauth_token_parse(h, cases[i].status, cases[i].body, strlen(cases[i].body), &t);

		snprintf(what, sizeof what, "%s: code", cases[i].name);
		EXPECT_INT(rc, cases[i].rc, what);
		if (rc == 0) {
			snprintf(what, sizeof what, "%s: access_token", cases[i].name);
			EXPECT_STR(t.access_token, cases[i].access, what);
			snprintf(what, sizeof what, "%s: refresh_token", cases[i].name);
			if (cases[i].refresh)
				EXPECT_STR(t.refresh_token, cases[i].refresh, what);
			else
				EXPECT_INT(t.refresh_token == NULL, 1, what);
			snprintf(what, sizeof what, "%s: expires_in", cases[i].name);
			EXPECT_INT(t.expires_in, cases[i].expires, what);
		} else {
			EXPECT_INT(t.access_token == NULL && t.refresh_token == NULL, 1,
				   "nothing half-parsed is handed out");
		}
		if (cases[i].words) {
			snprintf(what, sizeof what, "%s: words", cases[i].name);
			EXPECT_CONTAINS(outbox_errmsg(h), cases[i].words, what);
			EXPECT_INT(strchr(outbox_errmsg(h), '\n') == NULL, 1, "the error is one line");
		}
		oauth_tokens_free(&t);
	}
	free(h);
}

static void test_device_answers(void **state)
{
	static const char google[] = "{\"device_code\":\"dc-1\",\"user_code\":\"ABCD-EFGH\","
				     "\"verification_url\":\"https://www.google.com/device\","
				     "\"expires_in\":1800,\"interval\":5}";
	static const char microsoft[] = "{\"device_code\":\"dc-2\",\"user_code\":\"F7QX2KLM\","
					"\"verification_uri\":\"https://microsoft.com/devicelogin\","
					"\"expires_in\":\"900\",\"message\":\"To sign in...\"}";
	static const char no_expiry[] = "{\"device_code\":\"d\",\"user_code\":\"u\","
					"\"verification_uri\":\"https://x\"}";
	struct oauth_device d;
	outbox *h = test_handle();

	(void)state;
	assert_int_equal(oauth_device_parse(h, 200, google, strlen(google), &d), 0);
	EXPECT_STR(d.user_code, "ABCD-EFGH", "google user_code");
	EXPECT_STR(d.verification_uri, "https://www.google.com/device", "google verification_url");
	EXPECT_INT(d.interval, 5, "google interval");
	oauth_device_free(&d);
	assert_int_equal(oauth_device_parse(h, 200, microsoft, strlen(microsoft), &d), 0);
	EXPECT_INT(d.expires_in, 900, "microsoft expires_in as a string");
	EXPECT_INT(d.interval, 5, "interval absent: 5");
	EXPECT_INT(d.verification_uri_complete == NULL, 1, "no complete URI");
	oauth_device_free(&d);
	EXPECT_INT(oauth_device_parse(h, 200, no_expiry, strlen(no_expiry), &d),
		   OUTBOX_EPROTOCOL, "device answer without expires_in: code");
	EXPECT_CONTAINS(outbox_errmsg(h), "has no expires_in", "device answer without expires_in");
	free(h);
}

/* A server in a thread of this test: for each of its canned answers, accept one connection, keep
 * the request, send the answer, close. An answer of NULL accepts and says nothing. */
struct canned {
	int fd, port, count, served;
	const char *answers[8];
	struct buf requests[8];
	SSL_CTX *tls; /* NULL: plain HTTP */
	pthread_t thread;
};

static ssize_t canned_recv(int fd, SSL *ssl, char *chunk, size_t size)
{
	return ssl ? SSL_read(ssl, chunk, (int)size) : recv(fd, chunk, size, 0);
}

static void *canned_run(void *arg)
{
	struct canned *c = arg;

	for (c->served = 0; c->served < c->count; c->served++) {
		char chunk[4096], *end;
		long want = -1;
		int fd = accept(c->fd, NULL, NULL);
		struct buf *r = &c->requests[c->served];
		SSL *ssl = NULL;

		if (fd < 0)
			break;
		if (c->tls != NULL) {
			ssl = SSL_new(c->tls);
			SSL_set_fd(ssl, fd);
			if (SSL_accept(ssl) != 1) { /* the client refused the certificate */
				SSL_free(ssl);
				close(fd);
				continue;
			}
		}
		for (;;) {
			ssize_t n = canned_recv(fd, ssl, chunk, sizeof chunk);

			if (n <= 0 || buf_append(r, chunk, (size_t)n) < 0)
				break;
			if (want < 0 && (end = strstr(r->data, "\r\n\r\n")) != NULL) {
				const char *cl = strcasestr(r->data, "Content-Length: ");
				want = (long)(end + 4 - r->data) + (cl && cl < end ? strtol(cl + 16, NULL, 10) : 0);
			}
			if (want >= 0 && (long)r->len >= want)
				break;
		}
		if (c->answers[c->served] == NULL)
			(void)!canned_recv(fd, ssl, chunk, sizeof chunk); /* silent until the client gives up */
		else if (ssl != NULL)
			SSL_write(ssl, c->answers[c->served], (int)strlen(c->answers[c->served]));
		else
			(void)!send(fd, c->answers[c->served], strlen(c->answers[c->served]), MSG_NOSIGNAL);
		if (ssl != NULL) {
			SSL_shutdown(ssl);
			SSL_free(ssl);
		}
		close(fd);
	}
	return NULL;
}

static void canned_start(struct canned *c)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	int i;

	for (i = 0; i < 8; i++)
		buf_init(&c->requests[i], 1 << 20);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c->fd >= 0);
	assert_int_equal(bind(c->fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(c->fd, 8), 0);
	assert_int_equal(getsockname(c->fd, (struct sockaddr *)&a, &len), 0);
	c->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&c->thread, NULL, canned_run, c), 0);
}

/* Wait for the server to have served every answer; its requests stay for the test to read. */
static void canned_stop(struct canned *c)
{
	pthread_join(c->thread, NULL);
	close(c->fd);
}

static void canned_free(struct canned *c)
{
	int i;

	for (i = 0; i < 8; i++)
		buf_free(&c->requests[i]);
}

#define JSON_200(body) "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n" body
#define JSON_400(body) "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n" body

struct lines {
	struct buf all;
};

static void collect_line(void *ctx, char direction, const char *line, size_t len)
{
	struct lines *l = ctx;

	buf_append(&l->all, &direction, 1);
	buf_append(&l->all, " ", 1);
	buf_append(&l->all, line, len);
	buf_append(&l->all, "\n", 1);
}

static void test_refresh_over_http_keeps_or_rotates(void **state)
{
	struct canned c = {.count = 2, .answers = {
		JSON_200("{\"access_token\":\"at-new\",\"token_type\":\"Bearer\",\"expires_in\":3600}"),
		JSON_200("{\"access_token\":\"at-3\",\"token_type\":\"Bearer\",\"expires_in\":60,"
			 "\"refresh_token\":\"rt-rotated\"}")}};
	struct lines seen = {BUF_INIT};
	struct oauth_client cl = {TEST_CLIENT_ID, TEST_SECRET, NULL, 10000, {collect_line, &seen}};
	struct oauth_tokens t;
	char url[64];
	outbox *h = test_handle();

	(void)state;
	canned_start(&c);
	snprintf(url, sizeof url, "http://localhost:%d/token", c.port);
	assert_int_equal(oauth_refresh(h, &cl, url, TEST_REFRESH, "s1 s2", &t), 0);
	EXPECT_STR(t.access_token, "at-new", "new access token");
	EXPECT_STR(t.refresh_token, TEST_REFRESH, "refresh token kept when not rotated");
	EXPECT_INT(t.refresh_rotated, 0, "not rotated");
	EXPECT_INT(t.expires_in, 3600, "expires_in");
	oauth_tokens_free(&t);
	assert_int_equal(oauth_refresh(h, &cl, url, TEST_REFRESH, NULL, &t), 0);
	EXPECT_STR(t.refresh_token, "rt-rotated", "the rotated refresh token");
	EXPECT_INT(t.refresh_rotated, 1, "rotated");
	oauth_tokens_free(&t);
	canned_stop(&c);
	/* What the provider got: the form, escaped. */
	EXPECT_CONTAINS(c.requests[0].data, "POST /token HTTP/1.1", "request line");
	EXPECT_CONTAINS(c.requests[0].data, "Content-Type: application/x-www-form-urlencoded",
			"form content type");
	EXPECT_CONTAINS(c.requests[0].data, "grant_type=refresh_token&refresh_token=" TEST_REFRESH
			"&scope=s1%20s2&client_id=" TEST_CLIENT_ID "&client_secret=" TEST_SECRET,
			"form sent");
	canned_free(&c);
	/* What the transcript showed: the form with its secrets hidden, no token anywhere. */
	EXPECT_CONTAINS(seen.all.data, "> POST /token HTTP/1.1", "transcript request line");
	EXPECT_CONTAINS(seen.all.data, "refresh_token=(hidden)", "refresh token hidden");
	EXPECT_CONTAINS(seen.all.data, "client_secret=(hidden)", "client secret hidden");
	EXPECT_CONTAINS(seen.all.data, "< HTTP/1.1 200 OK", "status line shown");
	EXPECT_INT(strstr(seen.all.data, TEST_REFRESH) == NULL, 1, "no refresh token in the transcript");
	EXPECT_INT(strstr(seen.all.data, TEST_SECRET) == NULL, 1, "no client secret in the transcript");
	EXPECT_INT(strstr(seen.all.data, "at-new") == NULL && strstr(seen.all.data, "rt-rotated") == NULL,
		   1, "no issued token in the transcript");
	buf_free(&seen.all);
	free(h);
}

static void test_http_refusals(void **state)
{
	static char big[80 * 1024];
	struct canned c = {.count = 3};
	struct oauth_client cl = {TEST_CLIENT_ID, NULL, NULL, 1500, {NULL, NULL}};
	struct oauth_tokens t;
	char url[64];
	outbox *h = test_handle();

	(void)state;
	/* An answer past the cap, with no Content-Length to refuse it early. */
	snprintf(big, sizeof big, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"x\":\"");
	memset(big + strlen(big), 'a', sizeof big - strlen(big) - 4);
	memcpy(big + sizeof big - 4, "\"}\n", 4);
	c.answers[0] = big;
	c.answers[1] = NULL; /* silent: the caller's timeout ends it */
	c.answers[2] = "HTTP/1.1 302 Found\r\nLocation: https://elsewhere.example.org/\r\nContent-Length: 0\r\n\r\n";
	canned_start(&c);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/token", c.port);
	EXPECT_INT(oauth_refresh(h, &cl, url, TEST_REFRESH, NULL, &t), OUTBOX_EPROTOCOL, "oversized answer: code");
	EXPECT_CONTAINS(outbox_errmsg(h), "is larger than 64 KiB: refused", "oversized answer");
	EXPECT_INT(oauth_refresh(h, &cl, url, TEST_REFRESH, NULL, &t), OUTBOX_ETEMPFAIL, "silent server: code");
	EXPECT_CONTAINS(outbox_errmsg(h), "no answer from http://127.0.0.1:", "silent server");
	EXPECT_INT(oauth_refresh(h, &cl, url, TEST_REFRESH, NULL, &t), OUTBOX_ECONFIG, "redirect: code");
	EXPECT_CONTAINS(outbox_errmsg(h), "redirects are not followed", "redirect");
	canned_stop(&c);
	canned_free(&c);
	/* Nothing listens: a network failure, which may pass. */
	EXPECT_INT(oauth_refresh(h, &cl, url, TEST_REFRESH, NULL, &t), OUTBOX_ETEMPFAIL, "refused connection: code");
	EXPECT_CONTAINS(outbox_errmsg(h), "cannot reach http://127.0.0.1:", "refused connection");
	/* Plain HTTP elsewhere is refused before anything is sent. */
	EXPECT_INT(oauth_refresh(h, &cl, "http://192.0.2.1/token", TEST_REFRESH, NULL, &t), OUTBOX_EINVALID, "plain http off-host: code");
	EXPECT_CONTAINS(outbox_errmsg(h), "url: http://192.0.2.1/token is refused", "plain http off-host");
	free(h);
}

static void test_code_exchange_and_revoke_over_http(void **state)
{
	struct canned c = {.count = 3, .answers = {
		JSON_200("{\"access_token\":\"at-code\",\"token_type\":\"Bearer\",\"expires_in\":3600,"
			 "\"refresh_token\":\"rt-code\"}"),
		"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"}};
	struct oauth_client cl = {TEST_CLIENT_ID, NULL, NULL, 10000, {NULL, NULL}};
	struct oauth_tokens t;
	char url[64];
	outbox *h = test_handle();

	(void)state;
	canned_start(&c);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/token", c.port);
	assert_int_equal(oauth_code_exchange(h, &cl, url, "the/code", "verifier-1",
					     "http://127.0.0.1:4711/", &t), 0);
	EXPECT_STR(t.access_token, "at-code", "access token for the code");
	EXPECT_STR(t.refresh_token, "rt-code", "refresh token for the code");
	oauth_tokens_free(&t);
	EXPECT_INT(oauth_revoke(h, &cl, url, TEST_REFRESH, "refresh_token"), 0, "revoked");
	EXPECT_INT(oauth_revoke(h, &cl, url, TEST_REFRESH, NULL), OUTBOX_ETEMPFAIL,
		   "revocation while the provider is down: code");
	EXPECT_CONTAINS(outbox_errmsg(h), "try again later (HTTP 503)", "revocation while down");
	canned_stop(&c);
	EXPECT_CONTAINS(c.requests[0].data, "grant_type=authorization_code&code=the%2Fcode"
			"&code_verifier=verifier-1&redirect_uri=http%3A%2F%2F127.0.0.1%3A4711%2F"
			"&client_id=" TEST_CLIENT_ID, "code exchange form (no secret for a public client)");
	EXPECT_CONTAINS(c.requests[1].data, "token=" TEST_REFRESH "&token_type_hint=refresh_token"
			"&client_id=" TEST_CLIENT_ID, "revocation form");
	canned_free(&c);
	free(h);
}

/* A self-signed certificate for localhost and 127.0.0.1, made for this run by the openssl
 * command; `dir` holds cert.pem and key.pem. */
static SSL_CTX *tls_server_ctx(char dir[64])
{
	char cmd[512];
	SSL_CTX *ctx;

	snprintf(dir, 64, "/tmp/outbox-oauth-tls-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof cmd, "cd '%s' && openssl req -x509 -newkey ec -pkeyopt "
		 "ec_paramgen_curve:P-256 -nodes -keyout key.pem -out cert.pem -days 2 -subj "
		 "/CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1", dir);
	assert_int_equal(system(cmd), 0);
	assert_non_null(ctx = SSL_CTX_new(TLS_server_method()));
	snprintf(cmd, sizeof cmd, "%s/cert.pem", dir);
	assert_int_equal(SSL_CTX_use_certificate_chain_file(ctx, cmd), 1);
	snprintf(cmd, sizeof cmd, "%s/key.pem", dir);
	assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, cmd, SSL_FILETYPE_PEM), 1);
	return ctx;
}

static void test_https_verifies_the_certificate(void **state)
{
	struct canned c = {.count = 2, .answers = {
		"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nnever"}};
	struct http_request req = {.timeout_ms = 10000};
	struct http_response resp;
	char dir[64], url[64], ca[96], cmd[128];
	outbox *h = test_handle();

	(void)state;
	c.tls = tls_server_ctx(dir);
	canned_start(&c);
	snprintf(url, sizeof url, "https://127.0.0.1:%d/info", c.port);
	snprintf(ca, sizeof ca, "%s/cert.pem", dir);
	req.url = url;
	/* Trusted through the CA file: a GET that reads status, type and body. */
	req.ca_file = ca;
	assert_int_equal(http_perform(h, &req, &resp), 0);
	EXPECT_INT(resp.status, 200, "status");
	EXPECT_STR(resp.content_type, "text/plain", "content type");
	EXPECT_STR(resp.body.data, "hello", "body");
	http_response_free(&resp);
	/* The system's authorities do not know it: refused, nothing read. */
	req.ca_file = NULL;
	EXPECT_INT(http_perform(h, &req, &resp), OUTBOX_EUNAVAILABLE, "unknown certificate: code");
	EXPECT_CONTAINS(outbox_errmsg(h), "the certificate of https://127.0.0.1:", "unknown certificate");
	EXPECT_INT(resp.body.data == NULL, 1, "no body from an unverified server");
	canned_stop(&c);
	EXPECT_CONTAINS(c.requests[0].data, "GET /info HTTP/1.1", "request line over TLS");
	canned_free(&c);
	SSL_CTX_free(c.tls);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	EXPECT_INT(system(cmd), 0, "remove the certificates");
	free(h);
}

static void test_pins_must_be_names_and_addresses(void **state)
{
	const struct http_pin bad_address[] = {{"pinned.test", "127.0.0.1"}, {"pinned.test", "localhost"}};
	const struct http_pin bad_host[] = {{"pinned.test:443", "127.0.0.1"}};
	struct http_request req = {.url = "https://pinned.test/x", .timeout_ms = 10000};
	struct http_response resp;
	outbox *h = test_handle();

	(void)state;
	req.pins = bad_address;
	req.pin_count = 2;
	EXPECT_INT(http_perform(h, &req, &resp), OUTBOX_EINVALID, "a pin to a name: code");
	EXPECT_STR(outbox_errmsg(h), "resolve: the address pinned for pinned.test is not an IP address",
		   "a pin to a name");
	req.pins = bad_host;
	req.pin_count = 1;
	EXPECT_INT(http_perform(h, &req, &resp), OUTBOX_EINVALID, "a pin with a port: code");
	EXPECT_STR(outbox_errmsg(h), "resolve: a pinned host must be a host name", "a pin with a port");
	free(h);
}

/* A clock that moves only when the device wait sleeps. */
struct fake_clock {
	long long now;
	int sleeps[8], count;
};

static long long fake_now(void *ctx)
{
	return ((struct fake_clock *)ctx)->now;
}

static void fake_sleep(void *ctx, int seconds)
{
	struct fake_clock *f = ctx;

	if (f->count < 8)
		f->sleeps[f->count++] = seconds;
	f->now += seconds;
}

static void test_device_grant_over_http(void **state)
{
	struct canned c = {.count = 5, .answers = {
		JSON_200("{\"device_code\":\"dev-code-1\",\"user_code\":\"WXYZ-1234\","
			 "\"verification_uri\":\"https://example.org/device\",\"expires_in\":600,"
			 "\"interval\":2}"),
		JSON_400("{\"error\":\"authorization_pending\"}"),
		JSON_400("{\"error\":\"slow_down\"}"),
		JSON_400("{\"error\":\"authorization_pending\"}"),
		JSON_200("{\"access_token\":\"at-dev\",\"token_type\":\"Bearer\",\"expires_in\":3600,"
			 "\"refresh_token\":\"rt-dev\"}")}};
	struct oauth_client cl = {TEST_CLIENT_ID, NULL, NULL, 10000, {NULL, NULL}};
	struct fake_clock clock = {1000, {0}, 0};
	struct oauth_wait w = {NULL, fake_now, fake_sleep, &clock};
	struct oauth_device d;
	struct oauth_tokens t;
	char device_url[64], token_url[64];
	outbox *h = test_handle();

	(void)state;
	canned_start(&c);
	snprintf(device_url, sizeof device_url, "http://127.0.0.1:%d/device", c.port);
	snprintf(token_url, sizeof token_url, "http://127.0.0.1:%d/token", c.port);
	assert_int_equal(oauth_device_start(h, &cl, device_url, "mail offline_access", &d), 0);
	EXPECT_STR(d.user_code, "WXYZ-1234", "user code");
	EXPECT_INT(d.interval, 2, "interval");
	assert_int_equal(oauth_device_wait(h, &cl, token_url, &d, &w, &t), 0);
	EXPECT_STR(t.access_token, "at-dev", "token after the user answered");
	EXPECT_INT(clock.count, 4, "polls made");
	EXPECT_INT(clock.sleeps[0], 2, "first wait: the interval");
	EXPECT_INT(clock.sleeps[1], 2, "second wait: the interval");
	EXPECT_INT(clock.sleeps[2], 7, "after slow_down: 5 s more");
	EXPECT_INT(clock.sleeps[3], 7, "and it stays longer");
	oauth_tokens_free(&t);
	canned_stop(&c);
	EXPECT_CONTAINS(c.requests[0].data, "scope=mail%20offline_access&client_id=" TEST_CLIENT_ID,
			"device request form");
	EXPECT_CONTAINS(c.requests[1].data,
			"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code"
			"&device_code=dev-code-1", "poll form");
	canned_free(&c);
	oauth_device_free(&d);
	free(h);
}

static long long seconds_left_seen;

static int cancel_at_once(void *ctx, long long seconds_left)
{
	(void)ctx;
	seconds_left_seen = seconds_left;
	return 1;
}

static void test_device_wait_ends(void **state)
{
	struct canned c = {.count = 2, .answers = {JSON_400("{\"error\":\"authorization_pending\"}"),
						   JSON_400("{\"error\":\"access_denied\"}")}};
	struct oauth_client cl = {TEST_CLIENT_ID, NULL, NULL, 10000, {NULL, NULL}};
	struct fake_clock clock = {0, {0}, 0};
	struct oauth_wait w = {NULL, fake_now, fake_sleep, &clock};
	char dc[] = "dc";
	struct oauth_device d = {.device_code = dc, .expires_in = 60, .interval = 5};
	struct oauth_tokens t;
	char token_url[64];
	outbox *h = test_handle();

	(void)state;
	canned_start(&c);
	snprintf(token_url, sizeof token_url, "http://127.0.0.1:%d/token", c.port);
	EXPECT_INT(oauth_device_wait(h, &cl, token_url, &d, &w, &t), OUTBOX_EAUTH, "user said no: code");
	EXPECT_CONTAINS(outbox_errmsg(h), "the sign-in was refused (access_denied)", "user said no");
	canned_stop(&c);
	canned_free(&c);
	/* The caller cancels: progress hears how long the code has left, and says stop. */
	clock.count = 0;
	w.progress = cancel_at_once;
	w.ctx = &clock;
	EXPECT_INT(oauth_device_wait(h, &cl, "http://127.0.0.1:1/token", &d, &w, &t), OUTBOX_EAUTH,
		   "cancelled: code");
	EXPECT_STR(outbox_errmsg(h), "the sign-in was cancelled", "cancelled");
	EXPECT_INT(clock.count, 0, "no wait after a cancel");
	EXPECT_INT(seconds_left_seen, 60, "progress is told the seconds the code has left");
	w.progress = NULL;
	/* Nobody answers (nothing even listens: each poll fails and the next waits longer) until the
	 * code expires: the wait gives up then, without polling past it. */
	clock.count = 0;
	d.expires_in = 9;
	EXPECT_INT(oauth_device_wait(h, &cl, "http://127.0.0.1:1/token", &d, &w, &t), OUTBOX_EAUTH, "expired code: code");
	EXPECT_CONTAINS(outbox_errmsg(h), "expired after 9 seconds", "expired code");
	EXPECT_INT(clock.count, 2, "waits before giving up (5 s, then the 4 s left of 10)");
	free(h);
}

static int progress_calls;

/* Lets the first call through and cancels the second: the user gave up during a wait. */
static int cancel_second(void *ctx, long long seconds_left)
{
	(void)ctx;
	seconds_left_seen = seconds_left;
	return ++progress_calls >= 2;
}

static void test_device_cancel_during_a_wait_polls_no_more(void **state)
{
	struct canned c = {.count = 1, .answers = {
		JSON_200("{\"access_token\":\"at-late\",\"token_type\":\"Bearer\",\"expires_in\":3600,"
			 "\"refresh_token\":\"rt-late\"}")}};
	struct oauth_client cl = {TEST_CLIENT_ID, NULL, NULL, 10000, {NULL, NULL}};
	struct fake_clock clock = {0, {0}, 0};
	struct oauth_wait w = {cancel_second, fake_now, fake_sleep, &clock};
	char dc[] = "dc";
	struct oauth_device d = {.device_code = dc, .expires_in = 60, .interval = 5};
	struct oauth_tokens t;
	char token_url[64];
	outbox *h = test_handle();

	(void)state;
	progress_calls = 0;
	canned_start(&c);
	snprintf(token_url, sizeof token_url, "http://127.0.0.1:%d/token", c.port);
	/* The user approved the code while the wait ran, and cancelled too: no poll may take the
	 * tokens the provider now holds ready. */
	EXPECT_INT(oauth_device_wait(h, &cl, token_url, &d, &w, &t), OUTBOX_EAUTH, "cancelled in a wait: code");
	EXPECT_STR(outbox_errmsg(h), "the sign-in was cancelled", "cancelled in a wait");
	EXPECT_INT(progress_calls, 2, "progress calls: before the wait and after it");
	EXPECT_INT(seconds_left_seen, 55, "seconds left after the 5 s wait");
	/* The one answer is still unserved: the wait made no poll after the cancel. */
	EXPECT_INT(oauth_device_poll_once(h, &cl, token_url, &d, &t), 0, "the answer left for a poll of ours");
	EXPECT_STR(t.access_token, "at-late", "token still at the provider");
	oauth_tokens_free(&t);
	canned_stop(&c);
	canned_free(&c);
	free(h);
}

/* The browser, played by a thread: send `request` to the listener and keep its answer. */
struct browser {
	int port;
	const char *requests[3];
	struct buf answer;
	pthread_t thread;
};

static void *browser_run(void *arg)
{
	struct browser *b = arg;
	int i;

	for (i = 0; i < 3 && b->requests[i]; i++) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)b->port),
					.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		char chunk[1024];
		ssize_t n;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
			return NULL;
		(void)!send(fd, b->requests[i], strlen(b->requests[i]), MSG_NOSIGNAL);
		buf_reset(&b->answer);
		while ((n = recv(fd, chunk, sizeof chunk, 0)) > 0)
			buf_append(&b->answer, chunk, (size_t)n);
		close(fd);
	}
	return NULL;
}

static int browser_visit(struct oauth_loopback *lb, const char *state, const char *r1,
			 const char *r2, struct buf *answer, char **code, outbox *h)
{
	struct browser b = {lb->port, {r1, r2, NULL}, BUF_INIT, 0};
	int rc;

	assert_int_equal(pthread_create(&b.thread, NULL, browser_run, &b), 0);
	rc = oauth_loopback_wait(h, lb, state, 10000, NULL, code);
	pthread_join(b.thread, NULL);
	*answer = b.answer;
	return rc;
}

static void test_loopback_listener(void **state)
{
	struct oauth_loopback lb;
	struct buf page;
	char *code = NULL, want_uri[40];
	outbox *h = test_handle();

	(void)state;
	assert_int_equal(oauth_loopback_open(h, &lb), 0);
	snprintf(want_uri, sizeof want_uri, "http://127.0.0.1:%d/", lb.port);
	EXPECT_STR(lb.redirect_uri, want_uri, "redirect URI");
	/* A favicon request first, then the redirect. */
	assert_int_equal(browser_visit(&lb, "st-1", "GET /favicon.ico HTTP/1.1\r\nHost: x\r\n\r\n",
				       "GET /?code=c%2Fode-1&state=st-1&session_state=z HTTP/1.1\r\n"
				       "Host: 127.0.0.1\r\n\r\n", &page, &code, h), 0);
	EXPECT_STR(code, "c/ode-1", "code from the redirect");
	EXPECT_CONTAINS(page.data, "HTTP/1.1 200 OK", "browser told");
	EXPECT_CONTAINS(page.data, "You can close this window", "page words");
	free(code);
	buf_free(&page);
	code = NULL;
	/* Another sign-in's answer (or a forged one) is refused. */
	EXPECT_INT(browser_visit(&lb, "st-2", "GET /?code=evil&state=st-1 HTTP/1.1\r\n\r\n", NULL,
				 &page, &code, h), OUTBOX_EAUTH, "state mismatch: code");
	EXPECT_CONTAINS(outbox_errmsg(h), "does not carry this sign-in's state", "state mismatch");
	EXPECT_INT(code == NULL, 1, "no code on a state mismatch");
	EXPECT_CONTAINS(page.data, "HTTP/1.1 400", "browser told of the mismatch");
	buf_free(&page);
	/* The user refused at the provider. */
	EXPECT_INT(browser_visit(&lb, "st-3", "GET /?error=access_denied&error_description=The+user"
				 "+said+%3Cno%3E&state=st-3 HTTP/1.1\r\n\r\n", NULL, &page, &code, h),
		   OUTBOX_EAUTH, "error from the browser: code");
	EXPECT_STR(outbox_errmsg(h), "the sign-in was refused in the browser (access_denied: The user "
		   "said <no>)", "error from the browser");
	EXPECT_CONTAINS(page.data, "The user said &lt;no&gt;", "words escaped in the page");
	buf_free(&page);
	/* A repeated code is refused. */
	EXPECT_INT(browser_visit(&lb, "s", "GET /?code=a&code=b&state=s HTTP/1.1\r\n\r\n", NULL,
				 &page, &code, h), OUTBOX_EPROTOCOL, "repeated code: code");
	buf_free(&page);
	oauth_loopback_close(&lb);
	free(h);
}

static void test_loopback_gives_up(void **state)
{
	struct oauth_loopback lb;
	char *code = NULL;
	outbox *h = test_handle();

	(void)state;
	assert_int_equal(oauth_loopback_open(h, &lb), 0);
	EXPECT_INT(oauth_loopback_wait(h, &lb, "s", 200, NULL, &code), OUTBOX_ETEMPFAIL, "no browser came: code");
	EXPECT_CONTAINS(outbox_errmsg(h), "no answer from the browser", "no browser came");
	oauth_loopback_close(&lb);
	free(h);
}

static void test_loopback_wait_cancelled(void **state)
{
	struct oauth_loopback lb;
	struct oauth_wait w = {cancel_second, NULL, NULL, NULL};
	char *code = NULL;
	outbox *h = test_handle();

	(void)state;
	progress_calls = 0;
	assert_int_equal(oauth_loopback_open(h, &lb), 0);
	/* Nobody comes; the person gives up at the second report, long before the 60 s timeout. */
	EXPECT_INT(oauth_loopback_wait(h, &lb, "s", 60000, &w, &code), OUTBOX_EAUTH, "cancelled: code");
	EXPECT_STR(outbox_errmsg(h), "the sign-in was cancelled", "cancelled");
	EXPECT_INT(progress_calls, 2, "progress calls");
	EXPECT_INT(seconds_left_seen >= 58 && seconds_left_seen <= 60, 1, "seconds left near the timeout");
	EXPECT_INT(code == NULL, 1, "no code after a cancel");
	oauth_loopback_close(&lb);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkce_rfc7636_vector),
		cmocka_unit_test(test_code_url_escapes_every_value),
		cmocka_unit_test(test_http_url_loopback_rule),
		cmocka_unit_test(test_token_answers),
		cmocka_unit_test(test_device_answers),
		cmocka_unit_test(test_refresh_over_http_keeps_or_rotates),
		cmocka_unit_test(test_code_exchange_and_revoke_over_http),
		cmocka_unit_test(test_http_refusals),
		cmocka_unit_test(test_https_verifies_the_certificate),
		cmocka_unit_test(test_pins_must_be_names_and_addresses),
		cmocka_unit_test(test_device_grant_over_http),
		cmocka_unit_test(test_device_wait_ends),
		cmocka_unit_test(test_loopback_listener),
		cmocka_unit_test(test_loopback_gives_up),
		cmocka_unit_test(test_device_cancel_during_a_wait_polls_no_more),
		cmocka_unit_test(test_loopback_wait_cancelled),
	};
	return cmocka_run_group_tests_name("oauth", tests, NULL, NULL);
}
