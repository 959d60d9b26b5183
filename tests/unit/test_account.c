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

/* A NULL-terminated list as "a,b" for got/want messages. */
static void join_names(const char *const *names, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (; *names && len < size; names++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? "," : "", *names);
}

/* The plan names each change, and the removal then makes exactly those. */
static void test_removal_plan_is_what_removal_does(void **state)
{
	struct unit_store *f = *state;
	outbox_server_removal *p = NULL;
	const char *next = "unset", *const *before, *const *after, *acc;
	outbox_account *a;
	char got[200];

	add_account(f->h, "ann@example.org", "main", "spare,third");
	add_account(f->h, "bob@example.org", "third", "main,spare");
	EXPECT_INT(outbox_server_remove_plan(f->h, "main", NULL, &p), 0, "plan without a target");
	EXPECT_INT(outbox_server_removal_needs_target(p), 1, "accounts use main: a target is needed");
	join_names(outbox_server_removal_moved(p), got, sizeof got);
	EXPECT_STR(got, "ann@example.org", "who moves");
	outbox_server_removal_free(p);
	EXPECT_INT(outbox_server_remove_plan(f->h, "main", "main", &p), OUTBOX_EINVALID, "itself as target");
	EXPECT_INT(outbox_server_remove_plan(f->h, "main", "spare", &p), 0, "plan with spare");
	EXPECT_INT(outbox_server_removal_default(p, &next), 1, "main is the default");
	EXPECT_STR(next, "spare", "the next default");
	EXPECT_INT((int)outbox_server_removal_fallback_count(p), 2, "fallback lists that change");
	acc = outbox_server_removal_fallback(p, 0, &before, &after);
	join_names(after, got, sizeof got);
	EXPECT_STR(acc, "ann@example.org", "first change");
	EXPECT_STR(got, "third", "ann's moves to spare, which leaves her fallbacks");
	acc = outbox_server_removal_fallback(p, 1, &before, &after);
	join_names(before, got, sizeof got);
	EXPECT_STR(acc, "bob@example.org", "second change");
	EXPECT_STR(got, "main,spare", "bob's before");
	join_names(after, got, sizeof got);
	EXPECT_STR(got, "spare", "bob's after");
	outbox_server_removal_free(p);

	EXPECT_INT(outbox_server_remove(f->h, "main", "spare", 0), 0, "remove as planned");
	assert_int_equal(outbox_account_load(f->h, "ann@example.org", &a), 0);
	EXPECT_STR(outbox_account_get(a, OUTBOX_ACCOUNT_SERVER), "spare", "ann moved");
	EXPECT_STR(outbox_account_get(a, OUTBOX_ACCOUNT_FALLBACK), "third", "ann's fallbacks as planned");
	outbox_account_free(a);
	assert_int_equal(outbox_account_load(f->h, "bob@example.org", &a), 0);
	EXPECT_STR(outbox_account_get(a, OUTBOX_ACCOUNT_FALLBACK), "spare", "bob's fallbacks as planned");
	outbox_account_free(a);

	EXPECT_INT(outbox_server_remove_plan(f->h, "third", NULL, &p), 0, "plan for third");
	EXPECT_INT(outbox_server_removal_needs_target(p), 1, "bob uses third");
	outbox_server_removal_free(p);
	EXPECT_INT(outbox_server_remove_plan(f->h, "nope", NULL, &p), OUTBOX_ENOTFOUND, "unknown server");
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
		cmocka_unit_test_setup_teardown(test_removal_plan_is_what_removal_does, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_and_undo_account, setup, teardown),
	};
	return cmocka_run_group_tests_name("account", tests, NULL, NULL);
}
