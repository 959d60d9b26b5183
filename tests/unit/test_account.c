/* test_account.c: the account model through the public API: its checks, the default server and
 * default account, fallbacks, choosing a server, and removal with undo. */
#include <stdlib.h>
#include <unistd.h>

#include "outbox/outbox.h"
#include "unit.h"

static int setup(void **state)
{
	struct unit_store *f = unit_store_open("account");

	if (f == NULL)
		return -1;
	unit_add_server(f->h, "main");
	unit_add_server(f->h, "spare");
	unit_add_server(f->h, "third");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	return unit_store_close(*state);
}

static int add_account(outbox *h, const char *address, const char *server, const char *fallback)
{
	outbox_account *a = outbox_account_new();
	int rc = outbox_account_set(h, a, OUTBOX_ACCOUNT_ADDRESS, address);

	if (rc == 0 && server)
		rc = outbox_account_set(h, a, OUTBOX_ACCOUNT_SERVER, server);
	if (rc == 0 && fallback)
		rc = outbox_account_set(h, a, OUTBOX_ACCOUNT_FALLBACK, fallback);
	if (rc == 0)
		rc = outbox_account_save(h, a);
	outbox_account_free(a);
	return rc;
}

static void test_refusals(void **state)
{
	struct unit_store *f = *state;

	EXPECT_INT(add_account(f->h, "no-at-sign", "main", NULL), OUTBOX_EINVALID, "address without @");
	EXPECT_STR(outbox_errfield(f->h), "address", "field");
	EXPECT_INT(add_account(f->h, "ann@example.org", "missing", NULL), OUTBOX_ENOTFOUND, "unknown server");
	EXPECT_STR(outbox_errfield(f->h), "server", "field");
	EXPECT_INT(add_account(f->h, "ann@example.org", "main", "spare,spare"), OUTBOX_EINVALID, "fallback twice");
	EXPECT_STR(outbox_errfield(f->h), "fallback", "field");
	EXPECT_INT(add_account(f->h, "ann@example.org", "main", "main"), OUTBOX_EINVALID, "fallback = server");
	EXPECT_INT(add_account(f->h, "ann@example.org", "main", "nope"), OUTBOX_ENOTFOUND, "unknown fallback");
	EXPECT_INT(add_account(f->h, "ann@example.org", "main", NULL), 0, "a good account");
	EXPECT_INT(add_account(f->h, "ANN@example.org", "main", NULL), OUTBOX_EEXISTS, "same address, other case");
}

static void test_defaults(void **state)
{
	struct unit_store *f = *state;
	outbox_account *a;

	EXPECT_INT(add_account(f->h, "first@example.org", NULL, NULL), 0, "add without a server");
	assert_int_equal(outbox_account_load(f->h, "first@example.org", &a), 0);
	EXPECT_STR(outbox_account_get(a, OUTBOX_ACCOUNT_SERVER), "main", "the default server is used");
	EXPECT_STR(outbox_account_get(a, OUTBOX_ACCOUNT_DEFAULT), "true", "first account is the default");
	outbox_account_free(a);
	EXPECT_INT(add_account(f->h, "second@example.org", "spare", NULL), 0, "a second account");
	assert_int_equal(outbox_account_load(f->h, "second@example.org", &a), 0);
	EXPECT_STR(outbox_account_get(a, OUTBOX_ACCOUNT_DEFAULT), "false", "second is not the default");
	outbox_account_free(a);
}

static void test_fallbacks_and_set_server(void **state)
{
	struct unit_store *f = *state;
	outbox_account *a;

	EXPECT_INT(add_account(f->h, "ann@example.org", "main", " spare , third "), 0, "add with fallbacks");
	assert_int_equal(outbox_account_load(f->h, "ann@example.org", &a), 0);
	EXPECT_STR(outbox_account_get(a, OUTBOX_ACCOUNT_FALLBACK), "spare,third", "fallbacks in order");
	EXPECT_STR(outbox_account_fallbacks(a)[1], "third", "second fallback");
	outbox_account_free(a);

	EXPECT_INT(outbox_account_set_server(f->h, "ann@example.org", "spare"), 0, "choose a fallback as server");
	assert_int_equal(outbox_account_load(f->h, "ann@example.org", &a), 0);
	EXPECT_STR(outbox_account_get(a, OUTBOX_ACCOUNT_SERVER), "spare", "new server");
	EXPECT_STR(outbox_account_get(a, OUTBOX_ACCOUNT_FALLBACK), "third", "it left the fallback list");
	outbox_account_free(a);
	EXPECT_INT(outbox_account_set_server(f->h, "nobody@example.org", "main"), OUTBOX_ENOTFOUND, "unknown account");
}

static void test_fallback_server_removal_and_undo(void **state)
{
	struct unit_store *f = *state;
	outbox_account *a;
	char what[200];

	add_account(f->h, "ann@example.org", "main", "spare,third");
	EXPECT_INT(outbox_server_remove(f->h, "spare", NULL, 0), 0, "remove a fallback-only server");
	assert_int_equal(outbox_account_load(f->h, "ann@example.org", &a), 0);
	EXPECT_STR(outbox_account_get(a, OUTBOX_ACCOUNT_FALLBACK), "third", "it left the fallback list");
	outbox_account_free(a);
	EXPECT_INT(outbox_undo(f->h, what, sizeof what), 0, "undo");
	assert_int_equal(outbox_account_load(f->h, "ann@example.org", &a), 0);
	EXPECT_STR(outbox_account_get(a, OUTBOX_ACCOUNT_FALLBACK), "spare,third", "fallbacks restored in order");
	outbox_account_free(a);
}

static void test_remove_and_undo_account(void **state)
{
	struct unit_store *f = *state;
	outbox_account *a;
	char what[200];

	add_account(f->h, "ann@example.org", "main", NULL);
	EXPECT_INT(outbox_account_remove(f->h, "ann@example.org", 0), 0, "remove");
	EXPECT_INT(outbox_account_load(f->h, "ann@example.org", &a), OUTBOX_ENOTFOUND, "gone");
	EXPECT_INT(outbox_undo(f->h, what, sizeof what), 0, "undo");
	EXPECT_STR(what, "Restored account ann@example.org", "undo says what");
	EXPECT_INT(outbox_account_load(f->h, "ann@example.org", &a), 0, "back");
	EXPECT_STR(outbox_account_get(a, OUTBOX_ACCOUNT_DEFAULT), "true", "and the default again");
	outbox_account_free(a);
	EXPECT_INT(outbox_account_remove(f->h, "ann@example.org", OUTBOX_REMOVE_PURGE), 0, "purge");
	EXPECT_INT(outbox_undo(f->h, what, sizeof what), OUTBOX_ENOTHING, "a purge cannot be undone");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallbacks_and_set_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback_server_removal_and_undo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_and_undo_account, setup, teardown),
	};
	return cmocka_run_group_tests_name("account", tests, NULL, NULL);
}
