/* tests/unit/test_setup_address.c: setup_address.c's one split of an address (the domain in
 * A-labels, the local part as typed) and what the autoconfig placeholders take from it. */
#include "unit.h"

#include "autoconfig_values.h"
#include "handle_internal.h"
#include "outbox/setup.h"
#include "setup_address.h"

static void test_the_domain_is_lowercase_ascii_and_the_local_part_as_typed(void **state)
{
	static const struct {
		const char *address, *domain;
		size_t local_len;
	} cases[] = {
		{"alice@Example.TEST", "example.test", 5},
		{"alice@example.test.", "example.test", 5},
		{"j\xc3\xbcrgen@b\xc3\xbc" "cher.test", "xn--bcher-kva.test", 7},
		{"a@B\xc3\x9c" "CHER.test", "xn--bcher-kva.test", 1},
		{"a@xn--bcher-kva.test", "xn--bcher-kva.test", 1},
		{"\"x@y\"@mail.example.test", "mail.example.test", 5},
	};
	outbox h = {0};
	char domain[256], what[300];
	size_t i, local_len;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(what, sizeof what, "the domain of %s", cases[i].address);
		local_len = 0;
		EXPECT_INT(setup_address_domain(&h, "address", cases[i].address, domain, sizeof domain, &local_len), 0,
			   what);
		EXPECT_STR(domain, cases[i].domain, what);
		EXPECT_INT(local_len, cases[i].local_len, what);
	}
}

static void test_what_is_no_address_or_no_domain_is_refused_naming_the_field(void **state)
{
	static const char *const bad[] = {"alice", "@example.test", "alice@", "a@exa mple.test", "a@a_b.test",
					  "a@xn--a.test"};
	outbox h = {0};
	char domain[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		EXPECT_INT(setup_address_domain(&h, "address", bad[i], domain, sizeof domain, NULL), OUTBOX_EINVALID,
			   bad[i]);
		EXPECT_STR(outbox_errfield(&h), "address", bad[i]);
	}
}

/* Options outbox_setup_discover refuses before anything is asked (nothing runs, no result). */
static void test_discovery_refuses_options_out_of_range_naming_the_field(void **state)
{
	static const struct {
		outbox_setup_options o;
		const char *field;
	} bad[] = {{.o = {.timeout_ms = -1}, .field = "timeout"},
		   {.o = {.timeout_ms = 9223372036854775807LL}, .field = "timeout"},
		   {.o = {.oauth_client_id = ""}, .field = "oauth-client-id"}};
	outbox h = {0};
	outbox_setup_result *r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = (outbox_setup_result *)&h; /* must come back NULL */
		EXPECT_INT(outbox_setup_discover(&h, "alice@example.test", &bad[i].o, NULL, NULL, &r), OUTBOX_EINVALID,
			   bad[i].field);
		EXPECT_STR(outbox_errfield(&h), bad[i].field, "the field named");
		assert_null(r);
	}
}

static void test_placeholders_take_the_ascii_domain_and_the_local_part_as_typed(void **state)
{
	outbox h = {0};
	char out[320];

	(void)state;
	EXPECT_INT(autoconfig_substitute(&h, "f", "smtp.%EMAILDOMAIN%", "j\xc3\xbcrgen@B\xc3\xbc" "cher.test", out,
					 sizeof out), 0, "substitute");
	EXPECT_STR(out, "smtp.xn--bcher-kva.test", "%EMAILDOMAIN% of an international domain");
	EXPECT_INT(autoconfig_substitute(&h, "f", "%EMAILLOCALPART%|%EMAILADDRESS%", "j\xc3\xbcrgen@b\xc3\xbc" "cher.test",
					 out, sizeof out), 0, "substitute");
	EXPECT_STR(out, "j\xc3\xbcrgen|j\xc3\xbcrgen@b\xc3\xbc" "cher.test", "the local part and the address, as typed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_domain_is_lowercase_ascii_and_the_local_part_as_typed),
		cmocka_unit_test(test_what_is_no_address_or_no_domain_is_refused_naming_the_field),
		cmocka_unit_test(test_placeholders_take_the_ascii_domain_and_the_local_part_as_typed),
		cmocka_unit_test(test_discovery_refuses_options_out_of_range_naming_the_field),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
