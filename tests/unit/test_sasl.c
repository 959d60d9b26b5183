/* test_sasl.c: SMTP AUTH: which mechanism sasl_choose picks and the words when it can pick none;
 * the exact lines each mechanism sends; SCRAM run against a GNU SASL server in this process. */
#include <gsasl.h>
#include <stdlib.h>

#include "handle_internal.h"
#include "sasl.h"
#include "unit.h"

/* Every credential here is made up. */
#define USER "someone@example.com"
#define PASSWORD "correct horse battery staple"

static const unsigned char cb_a[] = "made-up channel binding data A, 32B";
static const unsigned char cb_b[] = "made-up channel binding data B, 32B";

/* ---- sasl_choose ---------------------------------------------------------------------------- */

struct choose_case {
	const char *offered, *configured;
	int tls, insecure, cb;
	const char *want;     /* the mechanism, or NULL for none/failure */
	int want_rc;
	const char *says[3];  /* what the message must contain when it fails */
};

#define ALL "PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 SCRAM-SHA-256-PLUS SCRAM-SHA-1-PLUS"
#define IN_CLEAR "which would send the password in clear without TLS: use --security starttls or tls"

static const struct choose_case choose_cases[] = {
	/* auto: the strongest usable one */
	{ALL, "auto", 1, 0, 1, "SCRAM-SHA-256-PLUS", 0, {NULL}},
	{ALL, "auto", 1, 0, 0, "SCRAM-SHA-256", 0, {NULL}},
	{ALL, "auto", 0, 0, 1, "SCRAM-SHA-256", 0, {NULL}}, /* no TLS, so nothing to bind to */
	{"SCRAM-SHA-1-PLUS SCRAM-SHA-1 PLAIN", "auto", 1, 0, 1, "SCRAM-SHA-1-PLUS", 0, {NULL}},
	{"SCRAM-SHA-1-PLUS SCRAM-SHA-1 PLAIN", "auto", 1, 0, 0, "SCRAM-SHA-1", 0, {NULL}},
	{"PLAIN CRAM-MD5 LOGIN", "auto", 1, 0, 0, "CRAM-MD5", 0, {NULL}},
	{"LOGIN PLAIN", "auto", 1, 0, 0, "PLAIN", 0, {NULL}},
	{"LOGIN", "auto", 1, 0, 0, "LOGIN", 0, {NULL}},
	{"login plain", "auto", 1, 0, 0, "PLAIN", 0, {NULL}},
	{"XOAUTH2 LOGIN", "auto", 1, 0, 0, "LOGIN", 0, {NULL}},
	{"CRAM-MD5 PLAIN", "auto", 0, 0, 0, "CRAM-MD5", 0, {NULL}},
	{"PLAIN LOGIN", "auto", 0, 1, 0, "PLAIN", 0, {NULL}},
	{"PLAIN LOGIN", NULL, 1, 0, 0, "PLAIN", 0, {NULL}},
	/* auto finds nothing */
	{"PLAIN LOGIN", "auto", 0, 0, 0, NULL, OUTBOX_ECONFIG,
	 {"the server offers only PLAIN LOGIN, " IN_CLEAR, "--allow-insecure-auth"}},
	{"XOAUTH2 PLAIN", "auto", 0, 0, 0, NULL, OUTBOX_ECONFIG, {"offers only XOAUTH2 PLAIN", IN_CLEAR}},
	{"", "auto", 1, 0, 0, NULL, OUTBOX_ECONFIG, {"offers no authentication", "use --auth none"}},
	{"", "auto", 0, 0, 0, NULL, OUTBOX_ECONFIG,
	 {"offers no authentication", "only over TLS: use --security starttls or tls"}},
	{"GSSAPI NTLM", "auto", 1, 0, 0, NULL, OUTBOX_ECONFIG,
	 {"the server offers only GSSAPI NTLM, none of which outbox supports"}},
	{"XOAUTH2 OAUTHBEARER", "auto", 1, 0, 0, NULL, OUTBOX_ECONFIG,
	 {"offers only XOAUTH2 OAUTHBEARER: use --auth xoauth2 or --auth oauthbearer"}},
	{"SCRAM-SHA-256-PLUS", "auto", 1, 0, 0, NULL, OUTBOX_ECONFIG,
	 {"offers only SCRAM-SHA-256-PLUS", "channel binding data that this TLS connection"}},
	/* a configured method */
	{"PLAIN LOGIN", "cram-md5", 1, 0, 0, NULL, OUTBOX_ECONFIG,
	 {"the server does not offer CRAM-MD5; it offers PLAIN LOGIN: "
	  "use --auth plain, --auth login or --auth auto"}},
	{"PLAIN LOGIN", "cram-md5", 0, 0, 0, NULL, OUTBOX_ECONFIG,
	 {"does not offer CRAM-MD5; it offers PLAIN LOGIN, " IN_CLEAR}},
	{"CRAM-MD5 PLAIN", "cram-md5", 0, 0, 0, "CRAM-MD5", 0, {NULL}},
	{"SCRAM-SHA-256 SCRAM-SHA-256-PLUS", "scram-sha-256", 1, 0, 1, "SCRAM-SHA-256-PLUS", 0, {NULL}},
	{"SCRAM-SHA-256 SCRAM-SHA-256-PLUS", "scram-sha-256", 1, 0, 0, "SCRAM-SHA-256", 0, {NULL}},
	{"SCRAM-SHA-256 SCRAM-SHA-256-PLUS", "scram-sha-256", 0, 0, 1, "SCRAM-SHA-256", 0, {NULL}},
	{"SCRAM-SHA-1 SCRAM-SHA-256-PLUS SCRAM-SHA-256", "scram-sha-1", 1, 0, 1, "SCRAM-SHA-1", 0, {NULL}},
	{"SCRAM-SHA-256-PLUS PLAIN", "scram-sha-256", 1, 0, 0, NULL, OUTBOX_ECONFIG,
	 {"offers SCRAM-SHA-256 only with channel binding (SCRAM-SHA-256-PLUS)",
	  "this TLS connection gives no channel binding data: use --auth plain or --auth auto"}},
	{"SCRAM-SHA-256-PLUS", "scram-sha-256", 0, 0, 1, NULL, OUTBOX_ECONFIG,
	 {"only with channel binding", "which needs TLS: use --security starttls or tls"}},
	{"SCRAM-SHA-1 PLAIN", "scram-sha-256", 1, 0, 0, NULL, OUTBOX_ECONFIG,
	 {"does not offer SCRAM-SHA-256; it offers SCRAM-SHA-1 PLAIN: "
	  "use --auth scram-sha-1, --auth plain or --auth auto"}},
	{"PLAIN LOGIN", "plain", 0, 0, 0, NULL, OUTBOX_ECONFIG,
	 {"plain would send the password in clear without TLS", "--security starttls or tls"}},
	{"PLAIN LOGIN", "plain", 0, 1, 0, "PLAIN", 0, {NULL}},
	{"PLAIN LOGIN", "login", 1, 0, 0, "LOGIN", 0, {NULL}},
	{"XOAUTH2 PLAIN", "xoauth2", 1, 0, 0, "XOAUTH2", 0, {NULL}},
	{"XOAUTH2", "xoauth2", 0, 0, 0, NULL, OUTBOX_ECONFIG,
	 {"xoauth2 would send the password in clear without TLS"}},
	{"OAUTHBEARER XOAUTH2", "oauthbearer", 1, 0, 0, "OAUTHBEARER", 0, {NULL}},
	{"XOAUTH2", "oauthbearer", 1, 0, 0, NULL, OUTBOX_ECONFIG,
	 {"does not offer OAUTHBEARER; it offers XOAUTH2: use --auth xoauth2"}},
	{"PLAIN EXTERNAL", "external", 1, 0, 0, "EXTERNAL", 0, {NULL}},
	{"PLAIN LOGIN", "external", 1, 0, 0, NULL, OUTBOX_ECONFIG,
	 {"does not offer EXTERNAL; it offers PLAIN LOGIN: use --auth plain, --auth login or "
	  "--auth auto"}},
	{"", "cram-md5", 1, 0, 0, NULL, OUTBOX_ECONFIG, {"offers no authentication"}},
	{"PLAIN", "none", 0, 0, 0, NULL, 0, {NULL}},
	{"PLAIN", "kerberos", 1, 0, 0, NULL, OUTBOX_EINVALID, {"unknown method \"kerberos\""}},
};

static void test_choose(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof choose_cases / sizeof choose_cases[0]; i++) {
		const struct choose_case *c = &choose_cases[i];
		outbox h;
		const char *mech = "unset";
		char what[200];
		int rc;

		memset(&h, 0, sizeof h);
		snprintf(what, sizeof what, "choose %s from \"%s\" (tls %d, insecure %d, cb %d)",
			 c->configured ? c->configured : "(null)", c->offered, c->tls, c->insecure, c->cb);
		rc = sasl_choose(&h, c->offered, c->configured, c->tls, c->insecure, c->cb, &mech);
		if (rc != c->want_rc)
			fail_msg("%s: got rc %d (%s), want %d", what, rc, h.err_message, c->want_rc);
		if (c->want != NULL)
			EXPECT_STR(mech, c->want, what);
		else if (mech != NULL)
			fail_msg("%s: got mechanism %s, want none", what, mech);
		if (rc == 0)
			continue;
		EXPECT_STR(h.err_field, "auth", what);
		for (j = 0; j < 3 && c->says[j]; j++)
			EXPECT_CONTAINS(h.err_message, c->says[j], what);
	}
}

static void test_has_initial_response(void **state)
{
	static const struct {
		const char *mech;
		int want;
	} cases[] = {
		{"PLAIN", 1},         {"XOAUTH2", 1},        {"OAUTHBEARER", 1},
		{"EXTERNAL", 1},      {"SCRAM-SHA-1", 1},    {"SCRAM-SHA-256", 1},
		{"SCRAM-SHA-1-PLUS", 1}, {"SCRAM-SHA-256-PLUS", 1}, {"LOGIN", 0},
		{"CRAM-MD5", 0},      {"GSSAPI", 0},         {"plain", 1},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		EXPECT_INT(sasl_has_initial_response(cases[i].mech), cases[i].want, cases[i].mech);
}

/* ---- fixed exchanges ------------------------------------------------------------------------ */

struct step {
	const char *challenge; /* NULL: the initial response */
	const char *response;  /* NULL: the step must fail */
	int done;
};

struct exchange_case {
	const char *what;
	const char *mech;
	struct sasl_params p;
	struct step steps[4];
	int fail_rc;          /* for a failing step */
	const char *fail_says;
};

static const struct exchange_case exchanges[] = {
	{"PLAIN is base64 of NUL user NUL password", "PLAIN", {"user", "pass", NULL, 0, NULL, NULL, 0},
	 {{NULL, "AHVzZXIAcGFzcw==", 1}}, 0, NULL},
	{"PLAIN, a length that pads with one =", "PLAIN", {"user", "passw", NULL, 0, NULL, NULL, 0},
	 {{NULL, "AHVzZXIAcGFzc3c=", 1}}, 0, NULL},
	{"PLAIN prompted by an empty 334", "PLAIN", {"user", "pass", NULL, 0, NULL, NULL, 0},
	 {{"", "AHVzZXIAcGFzcw==", 1}}, 0, NULL},
	{"LOGIN answers Username: then Password:", "LOGIN", {"user", "pass", NULL, 0, NULL, NULL, 0},
	 {{"VXNlcm5hbWU6", "dXNlcg==", 0}, {"UGFzc3dvcmQ6", "cGFzcw==", 1}}, 0, NULL},
	{"LOGIN has no initial response", "LOGIN", {"user", "pass", NULL, 0, NULL, NULL, 0},
	 {{NULL, NULL, 0}}, OUTBOX_EINVALID, "wait for the server's 334"},
	{"LOGIN refuses a third prompt", "LOGIN", {"user", "pass", NULL, 0, NULL, NULL, 0},
	 {{"VXNlcm5hbWU6", "dXNlcg==", 0}, {"UGFzc3dvcmQ6", "cGFzcw==", 1}, {"UGFzc3dvcmQ6", NULL, 0}},
	 OUTBOX_EPROTOCOL, "asked for more after the LOGIN exchange was complete"},
	{"LOGIN refuses a challenge that is not base64", "LOGIN", {"user", "pass", NULL, 0, NULL, NULL, 0},
	 {{"not base64!", NULL, 0}}, OUTBOX_EPROTOCOL, "not valid base64"},
	{"LOGIN refuses base64 padded in the middle", "LOGIN", {"user", "pass", NULL, 0, NULL, NULL, 0},
	 {{"VX=lcm5hbWU6", NULL, 0}}, OUTBOX_EPROTOCOL, "not valid base64"},
	{"LOGIN answers an empty prompt too", "LOGIN", {"user", "pass", NULL, 0, NULL, NULL, 0},
	 {{"", "dXNlcg==", 0}, {"", "cGFzcw==", 1}}, 0, NULL},
	{"PLAIN keeps a UTF-8 user and password as they are", "PLAIN",
	 {"j\xc3\xbcrgen", "p\xc3\xa4ss", NULL, 0, NULL, NULL, 0},
	 {{NULL, "AGrDvHJnZW4AcMOkc3M=", 1}}, 0, NULL},
	{"PLAIN refuses a second step", "PLAIN", {"user", "pass", NULL, 0, NULL, NULL, 0},
	 {{NULL, "AHVzZXIAcGFzcw==", 1}, {"", NULL, 0}}, OUTBOX_EPROTOCOL, "asked for more"},
	{"CRAM-MD5 as in RFC 2195", "CRAM-MD5", {"tim", "tanstaaftanstaaf", NULL, 0, NULL, NULL, 0},
	 {{"PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+",
	   "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw", 1}}, 0, NULL},
	{"XOAUTH2, then an empty line after the error challenge", "XOAUTH2",
	 {USER, "ya29.made-up-token", NULL, 0, NULL, NULL, 0},
	 {{NULL, "dXNlcj1zb21lb25lQGV4YW1wbGUuY29tAWF1dGg9QmVhcmVyIHlhMjkubWFkZS11cC10b2tlbgEB", 1},
	  {"eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=", "", 1},
	  {"eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=", NULL, 0}},
	 OUTBOX_EPROTOCOL, "asked for more"},
	{"OAUTHBEARER escapes the user, then 0x01 after the error challenge", "OAUTHBEARER",
	 {"odd,user=name@example.com", "made-up-token", "smtp.example.com", 587, NULL, NULL, 0},
	 {{NULL, "bixhPW9kZD0yQ3VzZXI9M0RuYW1lQGV4YW1wbGUuY29tLAFob3N0PXNtdHAuZXhhbXBsZS5jb20BcG9ydD01"
		 "ODcBYXV0aD1CZWFyZXIgbWFkZS11cC10b2tlbgEB", 1},
	  {"eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=", "AQ==", 1}}, 0, NULL},
	{"OAUTHBEARER without host and port", "OAUTHBEARER",
	 {USER, "made-up-token", NULL, 0, NULL, NULL, 0},
	 {{NULL, "bixhPXNvbWVvbmVAZXhhbXBsZS5jb20sAWF1dGg9QmVhcmVyIG1hZGUtdXAtdG9rZW4BAQ==", 1}}, 0,
	 NULL},
	{"EXTERNAL sends an empty initial response as =", "EXTERNAL", {NULL, NULL, NULL, 0, NULL, NULL, 0},
	 {{NULL, "=", 1}}, 0, NULL},
	{"EXTERNAL answers an empty 334 with an empty line", "EXTERNAL",
	 {NULL, NULL, NULL, 0, NULL, NULL, 0}, {{"", "", 1}}, 0, NULL},
	{"SCRAM refuses to be called for an initial response twice", "SCRAM-SHA-256",
	 {USER, PASSWORD, NULL, 0, NULL, NULL, 0}, {{NULL, "*", 0}, {NULL, NULL, 0}}, OUTBOX_EINVALID,
	 "no initial response"},
	{"SCRAM reports the server's e= reason", "SCRAM-SHA-256", {USER, PASSWORD, NULL, 0, NULL, NULL, 0},
	 {{NULL, "*", 0}, {"ZT1pbnZhbGlkLXByb29m", NULL, 0}}, OUTBOX_EAUTH,
	 "the server refused SCRAM-SHA-256"},
};

static void run_exchange(const struct exchange_case *c)
{
	struct sasl_session *s = NULL;
	outbox h;
	size_t i;
	char what[200];

	memset(&h, 0, sizeof h);
	if (sasl_start(&h, c->mech, &c->p, &s) != 0)
		fail_msg("%s: sasl_start: %s", c->what, h.err_message);
	for (i = 0; i < 4 && (c->steps[i].response || c->fail_says); i++) {
		const struct step *st = &c->steps[i];
		char *response = NULL;
		int done = -1, rc;

		snprintf(what, sizeof what, "%s, step %zu", c->what, i + 1);
		rc = sasl_step(&h, s, st->challenge, &response, &done);
		if (st->response == NULL) {
			EXPECT_INT(rc, c->fail_rc, what);
			EXPECT_CONTAINS(h.err_message, c->fail_says, what);
			if (response != NULL)
				fail_msg("%s: a failed step left a response", what);
			break;
		}
		if (rc != 0)
			fail_msg("%s: %s", what, h.err_message);
		/* "*": the line varies (a fresh nonce); only that there is one is checked. */
		if (strcmp(st->response, "*") != 0)
			EXPECT_STR(response, st->response, what);
		EXPECT_INT(done, st->done, what);
		free(response);
	}
	sasl_end(s);
}

static void test_exchanges(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof exchanges / sizeof exchanges[0]; i++)
		run_exchange(&exchanges[i]);
}

static void test_start_refuses(void **state)
{
	static const struct {
		const char *what, *mech;
		struct sasl_params p;
		int rc;
		const char *field, *says;
	} cases[] = {
		{"-PLUS without binding data", "SCRAM-SHA-256-PLUS", {USER, PASSWORD, NULL, 0, NULL, NULL, 0},
		 OUTBOX_ECONFIG, "auth", "SCRAM-SHA-256-PLUS needs tls-exporter or tls-unique channel binding"},
		{"-PLUS with a type but no data", "SCRAM-SHA-1-PLUS",
		 {USER, PASSWORD, NULL, 0, "tls-exporter", NULL, 0}, OUTBOX_ECONFIG, "auth", "channel binding"},
		{"-PLUS with an unknown binding type", "SCRAM-SHA-256-PLUS",
		 {USER, PASSWORD, NULL, 0, "tls-server-end-point", cb_a, sizeof cb_a}, OUTBOX_ECONFIG,
		 "auth", "channel binding"},
		{"no user", "PLAIN", {"", PASSWORD, NULL, 0, NULL, NULL, 0}, OUTBOX_ECONFIG, "user",
		 "PLAIN needs a user name"},
		{"no password", "SCRAM-SHA-1", {USER, NULL, NULL, 0, NULL, NULL, 0}, OUTBOX_ECONFIG,
		 "password", "SCRAM-SHA-1 needs a password"},
		{"no token", "XOAUTH2", {USER, "", NULL, 0, NULL, NULL, 0}, OUTBOX_ECONFIG, "password",
		 "an OAuth access token"},
		{"a token that would forge a field", "XOAUTH2",
		 {USER, "tok\x01user=other", NULL, 0, NULL, NULL, 0}, OUTBOX_EINVALID, "password",
		 "control character"},
		{"a user that would forge a field", "OAUTHBEARER",
		 {"a\x01" "auth=Bearer x", "tok", NULL, 0, NULL, NULL, 0}, OUTBOX_EINVALID, "user",
		 "control character"},
		{"an unknown mechanism", "GSSAPI", {USER, PASSWORD, NULL, 0, NULL, NULL, 0}, OUTBOX_EINVALID,
		 "auth", "does not support the GSSAPI mechanism"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		outbox h;
		struct sasl_session *s = (void *)&h; /* not NULL: a refusal must clear it */

		memset(&h, 0, sizeof h);
		EXPECT_INT(sasl_start(&h, cases[i].mech, &cases[i].p, &s), cases[i].rc, cases[i].what);
		if (s != NULL)
			fail_msg("%s: a refused start left a session", cases[i].what);
		EXPECT_STR(h.err_field, cases[i].field, cases[i].what);
		EXPECT_CONTAINS(h.err_message, cases[i].says, cases[i].what);
	}
}

/* ---- SCRAM against a GNU SASL server -------------------------------------------------------- */

struct server_side {
	const char *password;
	const char *cb_type; /* the binding this server's TLS end sees */
	const unsigned char *cb;
	size_t cb_len;
};

static Gsasl *server_ctx;

static int server_callback(Gsasl *ctx, Gsasl_session *gs, Gsasl_property prop)
{
	const struct server_side *sv = gsasl_session_hook_get(gs);
	char *b64 = NULL;
	int rc;

	(void)ctx;
	if (sv == NULL)
		return GSASL_NO_CALLBACK;
	if (prop == GSASL_PASSWORD)
		return gsasl_property_set(gs, prop, sv->password);
	if ((prop == GSASL_CB_TLS_EXPORTER && sv->cb && strcmp(sv->cb_type, "tls-exporter") == 0) ||
	    (prop == GSASL_CB_TLS_UNIQUE && sv->cb && strcmp(sv->cb_type, "tls-unique") == 0)) {
		/* gsasl's own encoder: a cross-check of the one in sasl.c. */
		if (gsasl_base64_to((const char *)sv->cb, sv->cb_len, &b64, NULL) != GSASL_OK)
			return GSASL_MALLOC_ERROR;
		rc = gsasl_property_set(gs, prop, b64);
		gsasl_free(b64);
		return rc;
	}
	return GSASL_NO_CALLBACK;
}

enum outcome { ACCEPTED, SERVER_REFUSED, CLIENT_REFUSED };
static const char *const outcome_names[] = {"accepted", "refused by the server",
					    "refused by the client"};

struct scram_case {
	const char *what, *mech;
	const char *user, *client_password, *server_password;
	const char *client_cb_type;
	const unsigned char *client_cb;
	const char *server_cb_type;
	const unsigned char *server_cb;
	int forge_final; /* replace the server's final message with a wrong signature */
	enum outcome want;
};

static const struct scram_case scram_cases[] = {
	{"SCRAM-SHA-1", "SCRAM-SHA-1", USER, PASSWORD, PASSWORD, NULL, NULL, NULL, NULL, 0, ACCEPTED},
	{"SCRAM-SHA-256", "SCRAM-SHA-256", USER, PASSWORD, PASSWORD, NULL, NULL, NULL, NULL, 0,
	 ACCEPTED},
	{"SCRAM-SHA-256, a user name with , and = and a UTF-8 password", "SCRAM-SHA-256",
	 "odd,user=name", "p\xc3\xa4ssw\xc3\xb6rd", "p\xc3\xa4ssw\xc3\xb6rd", NULL, NULL, NULL, NULL, 0,
	 ACCEPTED},
	{"SCRAM-SHA-1, wrong password", "SCRAM-SHA-1", USER, "wrong", PASSWORD, NULL, NULL, NULL, NULL,
	 0, SERVER_REFUSED},
	{"SCRAM-SHA-256, wrong password", "SCRAM-SHA-256", USER, "wrong", PASSWORD, NULL, NULL, NULL,
	 NULL, 0, SERVER_REFUSED},
	{"SCRAM-SHA-256, a forged server signature", "SCRAM-SHA-256", USER, PASSWORD, PASSWORD, NULL,
	 NULL, NULL, NULL, 1, CLIENT_REFUSED},
	{"SCRAM-SHA-256-PLUS, tls-exporter", "SCRAM-SHA-256-PLUS", USER, PASSWORD, PASSWORD,
	 "tls-exporter", cb_a, "tls-exporter", cb_a, 0, ACCEPTED},
	{"SCRAM-SHA-256-PLUS, tls-unique", "SCRAM-SHA-256-PLUS", USER, PASSWORD, PASSWORD, "tls-unique",
	 cb_a, "tls-unique", cb_a, 0, ACCEPTED},
	{"SCRAM-SHA-1-PLUS, tls-exporter", "SCRAM-SHA-1-PLUS", USER, PASSWORD, PASSWORD,
	 "tls-exporter", cb_a, "tls-exporter", cb_a, 0, ACCEPTED},
	{"SCRAM-SHA-256-PLUS, different binding data (someone in between)", "SCRAM-SHA-256-PLUS",
	 USER, PASSWORD, PASSWORD, "tls-exporter", cb_a, "tls-exporter", cb_b, 0, SERVER_REFUSED},
	{"SCRAM-SHA-256-PLUS, binding type the server lacks", "SCRAM-SHA-256-PLUS", USER, PASSWORD,
	 PASSWORD, "tls-exporter", cb_a, "tls-unique", cb_a, 0, SERVER_REFUSED},
	{"SCRAM-SHA-256-PLUS, wrong password", "SCRAM-SHA-256-PLUS", USER, "wrong", PASSWORD,
	 "tls-exporter", cb_a, "tls-exporter", cb_a, 0, SERVER_REFUSED},
};

/* Drive our client and a gsasl server against each other as SMTP would: the initial response
 * with AUTH, then 334 challenge / response lines, the last challenge carrying the server's
 * final message (RFC 4954 section 4), answered with an empty line. */
static enum outcome run_scram(const struct scram_case *c, outbox *h)
{
	struct server_side sv = {c->server_password, c->server_cb_type, c->server_cb,
				 c->server_cb ? sizeof cb_a : 0};
	struct sasl_params p = {c->user, c->client_password, "smtp.example.com", 587, c->client_cb_type,
				c->client_cb, c->client_cb ? sizeof cb_a : 0};
	struct sasl_session *s = NULL;
	Gsasl_session *gs = NULL;
	enum outcome result = CLIENT_REFUSED;
	char *response = NULL, *challenge = NULL;
	int done = 0, srv, round;

	if (sasl_start(h, c->mech, &p, &s) != 0)
		fail_msg("%s: sasl_start: %s", c->what, h->err_message);
	if (gsasl_server_start(server_ctx, c->mech, &gs) != GSASL_OK)
		fail_msg("%s: gsasl_server_start failed", c->what);
	gsasl_session_hook_set(gs, &sv);
	if (sasl_step(h, s, NULL, &response, &done) != 0)
		goto out;
	for (round = 0; round < 4; round++) {
		if (done)
			fail_msg("%s: the client was done before the server", c->what);
		srv = gsasl_step64(gs, response, &challenge);
		free(response);
		response = NULL;
		if (srv != GSASL_OK && srv != GSASL_NEEDS_MORE) {
			result = SERVER_REFUSED;
			goto out;
		}
		if (srv == GSASL_OK && c->forge_final) {
			gsasl_free(challenge);
			/* "v=" and the base64 of 32 zero bytes */
			challenge = strdup("dj1BQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBPQ==");
		}
		if (sasl_step(h, s, challenge, &response, &done) != 0)
			goto out; /* CLIENT_REFUSED */
		gsasl_free(challenge);
		challenge = NULL;
		if (srv == GSASL_OK) {
			/* The 235 comes next: the client must have checked the server and be done. */
			EXPECT_STR(response, "", c->what);
			EXPECT_INT(done, 1, c->what);
			result = ACCEPTED;
			goto out;
		}
	}
	fail_msg("%s: no end after %d rounds", c->what, round);
out:
	gsasl_free(challenge);
	free(response);
	gsasl_finish(gs);
	sasl_end(s);
	return result;
}

static void test_scram_against_gsasl_server(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof scram_cases / sizeof scram_cases[0]; i++) {
		const struct scram_case *c = &scram_cases[i];
		outbox h;
		enum outcome got;

		memset(&h, 0, sizeof h);
		got = run_scram(c, &h);
		if (got != c->want)
			fail_msg("%s: got %s (%s), want %s", c->what, outcome_names[got], h.err_message,
				 outcome_names[c->want]);
		if (got == CLIENT_REFUSED) {
			EXPECT_INT(strcmp(h.err_field, "auth"), 0, c->what);
			EXPECT_CONTAINS(h.err_message, "may not be the server it claims to be", c->what);
		}
	}
}

/* ---- SCRAM's iteration count ------------------------------------------------------------- */

/* A server's "i=" sets how often the client hashes the password, with no read in between for a
 * timeout to end: a count past the limit is refused before any hashing. The server-first message
 * echoes the client's nonce, as a real (hostile) server's would. */
static void test_scram_iterations_bounded(void **state)
{
	static const struct {
		const char *count;
		int want_rc;
	} cases[] = {
		{"4096", 0},
		{"1000001", OUTBOX_EPROTOCOL},
		{"4294967295", OUTBOX_EPROTOCOL},
		{"99999999999999999999999999", OUTBOX_EPROTOCOL},
	};
	const struct sasl_params p = {USER, PASSWORD, NULL, 0, NULL, NULL, 0};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct sasl_session *s = NULL;
		char *first = NULL, *raw = NULL, *challenge = NULL, *response = NULL, server_first[256],
		     client_first[256];
		const char *nonce;
		size_t raw_len = 0, len = 0;
		int done = 0, rc;
		outbox h;

		memset(&h, 0, sizeof h);
		if (sasl_start(&h, "SCRAM-SHA-256", &p, &s) != 0 ||
		    sasl_step(&h, s, NULL, &first, &done) != 0)
			fail_msg("i=%s: the client-first message: %s", cases[i].count, h.err_message);
		if (gsasl_base64_from(first, strlen(first), &raw, &raw_len) != GSASL_OK)
			fail_msg("i=%s: the client-first message is not base64", cases[i].count);
		snprintf(client_first, sizeof client_first, "%.*s", (int)raw_len, raw);
		if ((nonce = strstr(client_first, ",r=")) == NULL)
			fail_msg("i=%s: no nonce in the client-first message", cases[i].count);
		snprintf(server_first, sizeof server_first, "r=%sSRV,s=QSXCR+Q6sek8bf92,i=%s", nonce + 3,
			 cases[i].count);
		if (gsasl_base64_to(server_first, strlen(server_first), &challenge, &len) != GSASL_OK)
			fail_msg("i=%s: base64", cases[i].count);
		rc = sasl_step(&h, s, challenge, &response, &done);
		EXPECT_INT(rc, cases[i].want_rc, cases[i].count);
		if (cases[i].want_rc != 0) {
			EXPECT_CONTAINS(h.err_message, "hash the password more than 1000000 times",
					cases[i].count);
			EXPECT_INT(response == NULL, 1, cases[i].count);
		}
		free(response);
		free(challenge);
		free(raw);
		free(first);
		sasl_end(s);
	}
}

static int setup(void **state)
{
	(void)state;
	if (gsasl_init(&server_ctx) != GSASL_OK)
		return -1;
	gsasl_callback_set(server_ctx, server_callback);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	gsasl_done(server_ctx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_choose),
		cmocka_unit_test(test_has_initial_response),
		cmocka_unit_test(test_exchanges),
		cmocka_unit_test(test_start_refuses),
		cmocka_unit_test(test_scram_against_gsasl_server),
		cmocka_unit_test(test_scram_iterations_bounded),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
