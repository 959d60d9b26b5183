/* tests/unit/test_setup_verify.c: setup_verify.c's rule for which hosts may receive the password
 * (per host, across the sources that name it) and the user names the login check tries, as tables. */
#include "unit.h"

#include "setup_choose.h"
#include "setup_verify.h"

static void test_which_hosts_may_receive_the_password(void **state)
{
	static const struct {
		enum setup_source source;
		const char *host, *address;
		int also_from_https; /* the same host is named by autoconfig too, on another port */
		int allowed;
	} cases[] = {
		{SETUP_SOURCE_GUESS, "smtp.example.test", "a@example.test", 0, 1},
		{SETUP_SOURCE_GUESS, "example.test", "a@example.test", 0, 1},
		{SETUP_SOURCE_SRV, "SMTP.Example.Test.", "a@EXAMPLE.test", 0, 1},
		{SETUP_SOURCE_SRV, "mail.badexample.test", "a@example.test", 0, 0},
		{SETUP_SOURCE_SRV, "example.test.evil.test", "a@example.test", 0, 0},
		{SETUP_SOURCE_SRV, "smtp.example.test", "not-an-address", 0, 0},
		{SETUP_SOURCE_AUTOCONFIG, "smtp.provider.test", "a@example.test", 0, 1},
		{SETUP_SOURCE_WELL_KNOWN, "smtp.provider.test", "a@example.test", 0, 1},
		{SETUP_SOURCE_ISPDB, "smtp.provider.test", "a@example.test", 0, 1},
		{SETUP_SOURCE_MX, "smtp.provider.test", "a@example.test", 0, 1},
		{SETUP_SOURCE_SRV, "smtp.provider.test", "a@example.test", 1, 1},
		{SETUP_SOURCE_GUESS, "Smtp.Provider.Test.", "a@example.test", 1, 1},
		{SETUP_SOURCE_SRV, "smtp2.provider.test", "a@example.test", 1, 0},
		/* An international domain: candidates' hosts are in A-labels, as DNS has them. */
		{SETUP_SOURCE_GUESS, "smtp.xn--bcher-kva.test", "j\xc3\xbcrgen@B\xc3\xbc" "cher.test", 0, 1},
		{SETUP_SOURCE_SRV, "smtp.xn--bcher-kva.test.evil.test", "a@b\xc3\xbc" "cher.test", 0, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct setup_candidates list = {0};
		struct setup_candidate c;
		char why[400] = "", what[200];

		memset(&c, 0, sizeof c);
		c.source = cases[i].source;
		snprintf(c.host, sizeof c.host, "%s", cases[i].host);
		assert_int_equal(setup_candidates_add(NULL, &list, &c), 0);
		if (cases[i].also_from_https) {
			c.source = SETUP_SOURCE_AUTOCONFIG;
			c.port = 587;
			snprintf(c.host, sizeof c.host, "smtp.provider.test");
			assert_int_equal(setup_candidates_add(NULL, &list, &c), 0);
		}
		snprintf(what, sizeof what, "%s from %s for %s%s", cases[i].host, setup_choose_source_word(cases[i].source),
			 cases[i].address, cases[i].also_from_https ? " (autoconfig names smtp.provider.test)" : "");
		EXPECT_INT(setup_verify_may_receive_password(&list, 0, cases[i].address, why, sizeof why),
			   cases[i].allowed, what);
		if (!cases[i].allowed)
			EXPECT_CONTAINS(why, "the password may not go to", what);
		setup_candidates_free(&list);
	}
}

static void test_user_name_forms_in_order_each_once(void **state)
{
	static const struct {
		const char *given, *source_user, *address, *want;
	} cases[] = {
		{NULL, "", "alice@example.test", "alice@example.test|alice|"},
		{NULL, "u123", "alice@example.test", "u123|alice@example.test|alice|"},
		{NULL, "alice@example.test", "alice@example.test", "alice@example.test|alice|"},
		{NULL, "alice", "alice@example.test", "alice|alice@example.test|"},
		{NULL, "", "\"a@b\"@example.test", "\"a@b\"@example.test|\"a@b\"|"},
		{NULL, "", "j\xc3\xbcrgen@b\xc3\xbc" "cher.test", "j\xc3\xbcrgen@b\xc3\xbc" "cher.test|j\xc3\xbcrgen|"},
		{"jdoe", "", "alice@example.test", "jdoe|alice@example.test|alice|"},
		{"jdoe", "u123", "alice@example.test", "jdoe|u123|alice@example.test|alice|"},
		{"alice", "", "alice@example.test", "alice|alice@example.test|"},
		{"", "", "alice@example.test", "alice@example.test|alice|"},
	};
	size_t i, k, n;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct setup_candidate c;
		char forms[SETUP_VERIFY_FORMS][320], got[1400] = "", what[200];
		const char *words[SETUP_VERIFY_FORMS];

		memset(&c, 0, sizeof c);
		snprintf(c.username, sizeof c.username, "%s", cases[i].source_user);
		n = setup_verify_forms(&c, cases[i].address, cases[i].given, forms, words);
		for (k = 0; k < n; k++)
			snprintf(got + strlen(got), sizeof got - strlen(got), "%s|", forms[k]);
		snprintf(what, sizeof what, "%s, given %s, the source's \"%s\"", cases[i].address,
			 cases[i].given ? cases[i].given : "none", cases[i].source_user);
		EXPECT_STR(got, cases[i].want, what);
		if (cases[i].given && cases[i].given[0])
			EXPECT_STR(words[0], "the user name given", "the first form's words");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_which_hosts_may_receive_the_password),
		cmocka_unit_test(test_user_name_forms_in_order_each_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
