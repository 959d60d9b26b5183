/* tests/unit/test_setup_choose.c: setup's choosing rule (setup_choose.c) as a pure function over
 * probe results written by hand, with the password rule applied; the rule itself: test_setup_verify.c. */
#include "unit.h"

#include "handle_internal.h"
#include "setup_choose.h"
#include "setup_verify.h"

/* One candidate and what its probe found. */
struct row {
	enum setup_source source;
	const char *host;
	int port;
	enum setup_security security;
	int rank;
	enum setup_probe_state state;
	const char *offered; /* the AUTH list; "" for none */
	const char *auth;    /* the source's login: "auto", "xoauth2" */
};

#define OK SETUP_PROBE_OK
#define TLS SETUP_SECURITY_TLS
#define STARTTLS SETUP_SECURITY_STARTTLS
#define PLAIN_TEXT SETUP_SECURITY_NONE
#define ALL_AUTH "PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256"

struct fixture {
	struct setup_candidates list;
	struct setup_probes probes;
	struct setup_choice choice;
};

/* Candidates and probes from rows; candidates naming the same server share its probe. */
static void build(struct fixture *f, const struct row *rows, size_t n)
{
	size_t i, j;

	memset(f, 0, sizeof *f);
	f->probes.v = calloc(n, sizeof *f->probes.v);
	f->probes.of = calloc(n, sizeof *f->probes.of);
	assert_non_null(f->probes.v);
	assert_non_null(f->probes.of);
	f->probes.ncandidates = n;
	for (i = 0; i < n; i++) {
		struct setup_candidate c;

		memset(&c, 0, sizeof c);
		c.source = rows[i].source;
		snprintf(c.host, sizeof c.host, "%s", rows[i].host);
		c.port = rows[i].port;
		c.security = rows[i].security;
		c.rank = rows[i].rank;
		snprintf(c.auth, sizeof c.auth, "%s", rows[i].auth ? rows[i].auth : "auto");
		snprintf(c.origin, sizeof c.origin, "row %zu", i);
		assert_int_equal(setup_candidates_add(NULL, &f->list, &c), 0);
		for (j = 0; j < f->probes.n; j++)
			if (strcmp(f->probes.v[j].host, c.host) == 0 && f->probes.v[j].port == c.port &&
			    f->probes.v[j].security == c.security)
				break;
		f->probes.of[i] = j;
		if (j < f->probes.n)
			continue;
		struct setup_probe *p = &f->probes.v[f->probes.n++];
		snprintf(p->host, sizeof p->host, "%s", c.host);
		p->port = c.port;
		p->security = c.security;
		p->state = rows[i].state;
		p->step = SETUP_PROBE_TLS;
		snprintf(p->error, sizeof p->error, "the probe's own words for row %zu", i);
		snprintf(p->tls, sizeof p->tls, "TLSv1.3");
		snprintf(p->caps.auth, sizeof p->caps.auth, "%s", rows[i].offered ? rows[i].offered : "");
	}
}

static void teardown_fixture(struct fixture *f)
{
	setup_choice_free(&f->choice);
	setup_probes_free(&f->probes);
	setup_candidates_free(&f->list);
}

static void choose(struct fixture *f, const char *address, enum setup_login login)
{
	static struct outbox h; /* for an out-of-memory message only: no store */

	assert_int_equal(setup_choose(&h, address, login, &f->list, &f->probes, &f->choice), 0);
}

/* The order a case wants: candidate indices, usable ones first, then winner. */
static void expect_order(const struct fixture *f, const size_t *want, size_t nwant, long winner)
{
	char got_s[200] = "", want_s[200] = "";
	size_t i;

	for (i = 0; i < f->choice.nusable; i++)
		snprintf(got_s + strlen(got_s), sizeof got_s - strlen(got_s), " %zu", f->choice.order[i]);
	for (i = 0; i < nwant; i++)
		snprintf(want_s + strlen(want_s), sizeof want_s - strlen(want_s), " %zu", want[i]);
	EXPECT_STR(got_s, want_s, "usable candidates in order of preference");
	EXPECT_INT(f->choice.winner, winner, "winner");
}

static void test_tls_beats_starttls_on_one_host_whatever_the_source(void **state)
{
	static const struct row rows[] = {
		{SETUP_SOURCE_AUTOCONFIG, "smtp.example.test", 587, STARTTLS, 0, OK, ALL_AUTH, NULL},
		{SETUP_SOURCE_GUESS, "smtp.example.test", 465, TLS, 4, OK, ALL_AUTH, NULL},
		{SETUP_SOURCE_GUESS, "mail.example.test", 465, TLS, 0, OK, ALL_AUTH, NULL},
	};
	static const size_t want[] = {1, 0, 2};
	struct fixture f;

	(void)state;
	build(&f, rows, 3);
	choose(&f, "a@example.test", SETUP_LOGIN_PASSWORD);
	expect_order(&f, want, 3, 1);
	EXPECT_CONTAINS(f.choice.v[0].why, "on the same host, TLS from the first byte is preferred to STARTTLS",
			"the STARTTLS loser's words");
	EXPECT_CONTAINS(f.choice.v[2].why, "autoconfig comes before guess (smtp.example.test was proposed by "
			"autoconfig)", "the other host's words");
	EXPECT_CONTAINS(f.choice.v[1].why, "chosen: TLS from the first byte", "the winner's words");
	EXPECT_CONTAINS(f.choice.v[1].why, "autoconfig proposed smtp.example.test first (STARTTLS), and on one "
			"host TLS from the first byte is preferred", "why the winner won");
	teardown_fixture(&f);
}

static void test_source_order_then_rank_then_port(void **state)
{
	static const struct row rows[] = {
		{SETUP_SOURCE_GUESS, "smtp.example.test", 465, TLS, 0, OK, ALL_AUTH, NULL},
		{SETUP_SOURCE_MX, "smtp.provider.test", 465, TLS, 0, OK, ALL_AUTH, NULL},
		{SETUP_SOURCE_SRV, "b.example.test", 465, TLS, 2, OK, ALL_AUTH, NULL},
		{SETUP_SOURCE_SRV, "a.example.test", 465, TLS, 1, OK, ALL_AUTH, NULL},
		{SETUP_SOURCE_ISPDB, "smtp.provider.test", 465, TLS, 0, OK, ALL_AUTH, NULL},
		{SETUP_SOURCE_WELL_KNOWN, "c.example.test", 2465, TLS, 0, OK, ALL_AUTH, NULL},
		{SETUP_SOURCE_WELL_KNOWN, "c.example.test", 1465, TLS, 0, OK, ALL_AUTH, NULL},
	};
	/* well-known (port 1465 before 2465), ISPDB, and the MX one on the same host and server
	 * right behind it, SRV by rank, guess. */
	static const size_t want[] = {6, 5, 4, 1, 3, 2, 0};
	struct fixture f;

	(void)state;
	build(&f, rows, 7);
	choose(&f, "a@example.test", SETUP_LOGIN_NONE);
	expect_order(&f, want, 7, 6);
	EXPECT_CONTAINS(f.choice.v[2].why, "well-known comes before SRV", "an SRV loser");
	EXPECT_CONTAINS(f.choice.v[5].why, "on the same host, well-known comes first", "another port of the host");
	setup_choice_free(&f.choice);
	/* Without the well-known host, the MX entry loses to the ISPDB's, which names the same server. */
	f.probes.v[f.probes.of[5]].state = f.probes.v[f.probes.of[6]].state = SETUP_PROBE_FAILED;
	choose(&f, "a@example.test", SETUP_LOGIN_NONE);
	EXPECT_INT(f.choice.winner, 4, "winner without the well-known host");
	EXPECT_CONTAINS(f.choice.v[1].why, "the same server, proposed first by ISPDB", "the MX entry");
	EXPECT_CONTAINS(f.choice.v[3].why, "ISPDB comes before SRV", "an SRV loser");
	teardown_fixture(&f);
}

static void test_only_what_probed_fine_is_usable_and_plain_text_never(void **state)
{
	static const struct row rows[] = {
		{SETUP_SOURCE_AUTOCONFIG, "smtp.example.test", 25, PLAIN_TEXT, 0, SETUP_PROBE_SKIPPED, "", NULL},
		{SETUP_SOURCE_AUTOCONFIG, "smtp.example.test", 465, TLS, 1, SETUP_PROBE_FAILED, "", NULL},
		{SETUP_SOURCE_WELL_KNOWN, "smtp.example.test", 587, STARTTLS, 0, SETUP_PROBE_NO_ANSWER, "", NULL},
	};
	struct fixture f;

	(void)state;
	build(&f, rows, 3);
	choose(&f, "a@example.test", SETUP_LOGIN_PASSWORD);
	expect_order(&f, NULL, 0, -1);
	EXPECT_CONTAINS(f.choice.v[0].why, "plain text: never chosen", "plain text");
	EXPECT_STR(f.choice.v[1].why, "failed at TLS: the probe's own words for row 1", "a failed probe");
	EXPECT_STR(f.choice.v[2].why, "the probe's own words for row 2", "no answer");
	/* Every candidate is in the order, the unusable ones after, as the sources gave them. */
	EXPECT_INT(f.choice.order[0] * 100 + f.choice.order[1] * 10 + f.choice.order[2], 12, "the order");
	teardown_fixture(&f);
}

static void test_the_password_goes_only_where_the_rule_allows(void **state)
{
	static const struct row rows[] = {
		{SETUP_SOURCE_SRV, "smtp.elsewhere.test", 465, TLS, 0, OK, ALL_AUTH, NULL},
		{SETUP_SOURCE_SRV, "smtp.example.test", 587, STARTTLS, 1, OK, ALL_AUTH, NULL},
	};
	static const size_t want[] = {1};
	struct fixture f;

	(void)state;
	build(&f, rows, 2);
	choose(&f, "a@example.test", SETUP_LOGIN_PASSWORD);
	expect_order(&f, want, 1, 1);
	EXPECT_CONTAINS(f.choice.v[0].why, "the password may not go to smtp.elsewhere.test", "outside the rule");
	setup_choice_free(&f.choice);
	/* No password yet: the saved login would send the first one given later, so the same choice. */
	choose(&f, "a@example.test", SETUP_LOGIN_NONE);
	expect_order(&f, want, 1, 1);
	teardown_fixture(&f);
}

static void test_without_a_password_the_rule_holds_for_a_login_that_would_send_one(void **state)
{
	/* Saved with a password login, the first password given later would go to this host. */
	static const struct row rows[] = {
		{SETUP_SOURCE_SRV, "mail.provider.test", 465, TLS, 0, OK, ALL_AUTH, NULL},
	};
	/* A server that offers no login is saved with auth none: no password ever goes there. */
	static const struct row no_login[] = {
		{SETUP_SOURCE_SRV, "mail.provider.test", 465, TLS, 0, OK, "", NULL},
	};
	struct fixture f;

	(void)state;
	build(&f, rows, 1);
	choose(&f, "alice@rev.test", SETUP_LOGIN_NONE);
	expect_order(&f, NULL, 0, -1);
	EXPECT_CONTAINS(f.choice.v[0].why, "the password may not go to mail.provider.test: it is not in rev.test",
			"why a host only DNS names is not chosen without a password");
	EXPECT_CONTAINS(f.choice.v[0].why, "logging in takes a password", "the words say a login would send one");
	EXPECT_STR(f.choice.v[0].auth, "", "no method for an unusable candidate");
	teardown_fixture(&f);

	build(&f, no_login, 1);
	choose(&f, "alice@rev.test", SETUP_LOGIN_NONE);
	EXPECT_INT(f.choice.winner, 0, "winner when no login is offered");
	EXPECT_STR(f.choice.v[0].auth, "none", "its method");
	teardown_fixture(&f);
}

static void test_a_host_named_over_https_may_get_the_password_on_every_port(void **state)
{
	/* autoconfig names the host on 587; SRV names it on 465: one host, one trust. */
	static const struct row rows[] = {
		{SETUP_SOURCE_AUTOCONFIG, "mail.provider.test", 587, STARTTLS, 0, OK, ALL_AUTH, NULL},
		{SETUP_SOURCE_SRV, "Mail.Provider.Test", 465, TLS, 0, OK, ALL_AUTH, NULL},
		{SETUP_SOURCE_SRV, "other.provider.test", 465, TLS, 1, OK, ALL_AUTH, NULL},
	};
	static const size_t want[] = {1, 0};
	static const enum setup_login logins[] = {SETUP_LOGIN_NONE, SETUP_LOGIN_PASSWORD};
	struct fixture f;
	size_t k;

	(void)state;
	build(&f, rows, 3);
	for (k = 0; k < 2; k++) {
		choose(&f, "alice@rev.test", logins[k]);
		expect_order(&f, want, 2, 1);
		EXPECT_CONTAINS(f.choice.v[0].why, "on the same host, TLS from the first byte is preferred to STARTTLS",
				"the STARTTLS port's words");
		EXPECT_CONTAINS(f.choice.v[2].why, "the password may not go to other.provider.test",
				"a host only DNS names");
		setup_choice_free(&f.choice);
	}
	teardown_fixture(&f);
}

static void test_an_oauth_sign_in_needs_a_provider_outbox_knows(void **state)
{
	/* autoconfig without an oAuth2 element (no preset) and a guess offer XOAUTH2; only the MX
	 * entry's server maps to a preset, which the save needs. */
	static const struct row rows[] = {
		{SETUP_SOURCE_AUTOCONFIG, "smtp.custom.test", 465, TLS, 0, OK, "PLAIN XOAUTH2", "xoauth2"},
		{SETUP_SOURCE_MX, "smtp.bigmail.test", 465, TLS, 0, OK, "PLAIN XOAUTH2", "xoauth2"},
		{SETUP_SOURCE_GUESS, "smtp.custom.test", 587, STARTTLS, 0, OK, "PLAIN XOAUTH2", NULL},
	};
	static const size_t want[] = {1};
	struct fixture f;
	char why[400] = "";

	(void)state;
	build(&f, rows, 3);
	snprintf(f.list.v[1].oauth, sizeof f.list.v[1].oauth, "google");
	choose(&f, "alice@custom.test", SETUP_LOGIN_OAUTH);
	expect_order(&f, want, 1, 1);
	EXPECT_STR(f.choice.v[1].auth, "xoauth2", "the winner's method");
	EXPECT_CONTAINS(f.choice.v[0].why, "smtp.custom.test, from autoconfig, names no OAuth provider outbox knows",
			"autoconfig without an oAuth2 element");
	EXPECT_CONTAINS(f.choice.v[2].why, "from guess, names no OAuth provider outbox knows", "a guess");
	/* The save asks the same function. */
	EXPECT_STR(setup_choose_oauth_preset(&f.list.v[1], why, sizeof why), "google", "the MX entry's preset");
	EXPECT_INT(setup_choose_oauth_preset(&f.list.v[0], why, sizeof why) == NULL, 1, "no preset for autoconfig's");
	EXPECT_CONTAINS(why, "outbox server add --oauth custom", "what to do instead");
	teardown_fixture(&f);
}

static void test_the_method_comes_from_the_offer(void **state)
{
	static const struct {
		const char *offered, *source_auth;
		enum setup_login login;
		int usable;
		const char *auth, *mech, *why;
	} cases[] = {
		{ALL_AUTH, "auto", SETUP_LOGIN_PASSWORD, 1, "scram-sha-256", "SCRAM-SHA-256", ""},
		{"LOGIN PLAIN", "auto", SETUP_LOGIN_PASSWORD, 1, "plain", "PLAIN", ""},
		{"SCRAM-SHA-256-PLUS SCRAM-SHA-256", "auto", SETUP_LOGIN_NONE, 1, "scram-sha-256", "SCRAM-SHA-256-PLUS", ""},
		{"LOGIN", "auto", SETUP_LOGIN_PASSWORD, 1, "login", "LOGIN", ""},
		{"", "auto", SETUP_LOGIN_NONE, 1, "none", "", ""},
		{"", "auto", SETUP_LOGIN_PASSWORD, 0, "", "", "offers no login (no AUTH in its EHLO reply)"},
		{"GSSAPI NTLM", "auto", SETUP_LOGIN_PASSWORD, 0, "", "", "offers no login outbox can do"},
		{"PLAIN XOAUTH2 OAUTHBEARER", "auto", SETUP_LOGIN_OAUTH, 1, "xoauth2", "XOAUTH2", ""},
		{"PLAIN OAUTHBEARER", "auto", SETUP_LOGIN_OAUTH, 1, "oauthbearer", "OAUTHBEARER", ""},
		{"PLAIN LOGIN", "auto", SETUP_LOGIN_OAUTH, 0, "", "", "offers no OAuth login (XOAUTH2 or OAUTHBEARER)"},
		{"PLAIN XOAUTH2", "xoauth2", SETUP_LOGIN_NONE, 1, "xoauth2", "XOAUTH2", ""},
		{"PLAIN XOAUTH2", "xoauth2", SETUP_LOGIN_PASSWORD, 0, "", "", "takes an OAuth2 sign-in, not a password"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct row r = {SETUP_SOURCE_AUTOCONFIG, "smtp.example.test", 465, TLS, 0, OK, cases[i].offered,
				cases[i].source_auth};
		struct fixture f;
		char what[200];

		build(&f, &r, 1);
		snprintf(f.list.v[0].oauth, sizeof f.list.v[0].oauth, "google");
		choose(&f, "a@example.test", cases[i].login);
		snprintf(what, sizeof what, "case %zu (offer \"%s\")", i, cases[i].offered);
		EXPECT_INT(f.choice.v[0].usable, cases[i].usable, what);
		EXPECT_STR(f.choice.v[0].auth, cases[i].auth, what);
		EXPECT_STR(f.choice.v[0].mech, cases[i].mech, what);
		if (!cases[i].usable)
			EXPECT_CONTAINS(f.choice.v[0].why, cases[i].why, what);
		teardown_fixture(&f);
	}
}

static void test_next_winner_after_the_first_cannot_be_reached(void **state)
{
	static const struct row rows[] = {
		{SETUP_SOURCE_AUTOCONFIG, "a.example.test", 465, TLS, 0, OK, ALL_AUTH, NULL},
		{SETUP_SOURCE_AUTOCONFIG, "b.example.test", 465, TLS, 1, OK, ALL_AUTH, NULL},
	};
	struct fixture f;

	(void)state;
	build(&f, rows, 2);
	choose(&f, "a@example.test", SETUP_LOGIN_PASSWORD);
	EXPECT_INT(f.choice.winner, 0, "first winner");
	setup_choose_next(&f.choice, &f.list, &f.probes, 0, "could not be reached again");
	EXPECT_INT(f.choice.winner, 1, "next winner");
	EXPECT_STR(f.choice.v[0].why, "could not be reached again", "the first one's words");
	EXPECT_CONTAINS(f.choice.v[1].why, "candidates before it could not be used", "the winner's words");
	setup_choose_next(&f.choice, &f.list, &f.probes, 1, "neither");
	EXPECT_INT(f.choice.winner, -1, "no winner left");
	teardown_fixture(&f);
}

static void test_an_address_without_a_domain_is_refused_before_any_connection(void **state)
{
	static const struct row rows[] = {
		{SETUP_SOURCE_AUTOCONFIG, "smtp.example.test", 465, TLS, 0, OK, ALL_AUTH, NULL},
	};
	static struct outbox h;
	struct setup_probe_options o = {0};
	struct setup_login_check login;
	struct fixture f;

	(void)state;
	build(&f, rows, 1);
	choose(&f, "alice", SETUP_LOGIN_PASSWORD);
	EXPECT_INT(f.choice.winner, 0, "autoconfig's server is usable for any address");
	EXPECT_INT(setup_verify_choice(&h, "alice", NULL, "pw", &f.list, &f.probes, &f.choice, &o, &login), OUTBOX_EINVALID,
		   "the check");
	EXPECT_STR(outbox_errfield(&h), "address", "the field named");
	EXPECT_CONTAINS(outbox_errmsg(&h), "needs a local part, \"@\" and a domain", "the words");
	EXPECT_INT(login.ntried, 0, "user names tried");
	teardown_fixture(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls_beats_starttls_on_one_host_whatever_the_source),
		cmocka_unit_test(test_source_order_then_rank_then_port),
		cmocka_unit_test(test_only_what_probed_fine_is_usable_and_plain_text_never),
		cmocka_unit_test(test_the_password_goes_only_where_the_rule_allows),
		cmocka_unit_test(test_without_a_password_the_rule_holds_for_a_login_that_would_send_one),
		cmocka_unit_test(test_a_host_named_over_https_may_get_the_password_on_every_port),
		cmocka_unit_test(test_an_oauth_sign_in_needs_a_provider_outbox_knows),
		cmocka_unit_test(test_the_method_comes_from_the_offer),
		cmocka_unit_test(test_next_winner_after_the_first_cannot_be_reached),
		cmocka_unit_test(test_an_address_without_a_domain_is_refused_before_any_connection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
