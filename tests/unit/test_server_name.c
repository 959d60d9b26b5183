/* test_server_name.c: the short name a new server gets from the host typed in the UI: service
 * labels dropped, characters a name may not have replaced, and NAME-2 when NAME is taken. */
#include <stdlib.h>

#include "outbox/outbox.h"
#include "unit.h"

static int setup(void **state)
{
	return unit_store_setup_with_secret_files(state, "server-name");
}

static int teardown(void **state)
{
	return unit_store_close(*state);
}

static void expect_name(outbox *h, const char *host, const char *want)
{
	char got[128] = "(unset)";

	EXPECT_INT(outbox_server_name_for_host(h, host, got, sizeof got), 0, host);
	EXPECT_STR(got, want, host);
}

static void test_the_domain_without_service_labels(void **state)
{
	struct unit_store *f = *state;

	expect_name(f->h, "smtp.example.com", "example.com");
	expect_name(f->h, "mail.example.com", "example.com");
	expect_name(f->h, "smtp2.mail.example.co.uk", "example.co.uk");
	expect_name(f->h, "Smtp.Office365.COM", "office365.com");
	expect_name(f->h, "mail.test", "mail.test"); /* the domain itself stays whole */
	expect_name(f->h, "localhost", "localhost");
	expect_name(f->h, "127.0.0.1", "127.0.0.1");
	expect_name(f->h, "[::1]", "1");
	expect_name(f->h, "smtp.exa mple.com", "exa-mple.com"); /* half typed: still a valid name */
	expect_name(f->h, "", "");
	expect_name(f->h, "...", "");
}

static void test_a_taken_name_gets_a_number(void **state)
{
	struct unit_store *f = *state;
	outbox_server *s = outbox_server_new();

	EXPECT_INT(outbox_server_set(f->h, s, OUTBOX_SERVER_NAME, "example.com"), 0, "name");
	EXPECT_INT(outbox_server_set(f->h, s, OUTBOX_SERVER_HOST, "smtp.example.com"), 0, "host");
	EXPECT_INT(outbox_server_save(f->h, s), 0, "save example.com");
	outbox_server_free(s);
	expect_name(f->h, "mail.example.com", "example.com-2");
	expect_name(f->h, "smtp.example.org", "example.org");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_the_domain_without_service_labels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_taken_name_gets_a_number, setup, teardown),
	};
	return cmocka_run_group_tests_name("server_name", tests, NULL, NULL);
}
