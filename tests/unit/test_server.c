/* test_server.c: the server model through the public API: defaults, the port following the
 * security mode, each refusal with its field, duplicates, defaults, conflicts, removal and undo. */
#include <stdlib.h>
#include <unistd.h>

#include "outbox/outbox.h"
#include "unit.h"

static int setup(void **state)
{
	return unit_store_setup_with_secret_files(state, "server");
}

static int teardown(void **state)
{
	return unit_store_close(*state);
}

/* Add a server from "field=value" pairs; returns the library's code. */
static int add_server(outbox *h, const char *name, const char *host, const char *port, const char *user)
{
	outbox_server *s = outbox_server_new();
	int rc = outbox_server_set(h, s, OUTBOX_SERVER_NAME, name);

	if (rc == 0)
		rc = outbox_server_set(h, s, OUTBOX_SERVER_HOST, host);
	if (rc == 0 && port)
		rc = outbox_server_set(h, s, OUTBOX_SERVER_PORT, port);
	if (rc == 0 && user)
		rc = outbox_server_set(h, s, OUTBOX_SERVER_USER, user);
	if (rc == 0)
		rc = outbox_server_save(h, s);
	outbox_server_free(s);
	return rc;
}

static void test_defaults_and_port_following_security(void **state)
{
	struct unit_store *f = *state;
	outbox_server *s = outbox_server_new();

	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_SECURITY), "starttls", "default security");
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_PORT), "587", "default port");
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_AUTH), "auto", "default auth");
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_TLS_VERIFY), "true", "verification on by default");
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_ALLOW_INSECURE_AUTH), "false", "insecure auth off");
	EXPECT_INT(outbox_server_set(f->h, s, OUTBOX_SERVER_SECURITY, "tls"), 0, "set tls");
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_PORT), "465", "port after tls");
	EXPECT_INT(outbox_server_set(f->h, s, OUTBOX_SERVER_SECURITY, "none"), 0, "set none");
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_PORT), "25", "port after none");
	EXPECT_INT(outbox_server_set(f->h, s, OUTBOX_SERVER_PORT, "2525"), 0, "set a port");
	EXPECT_INT(outbox_server_set(f->h, s, OUTBOX_SERVER_SECURITY, "starttls"), 0, "set starttls");
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_PORT), "2525", "a typed port stays");
	outbox_server_free(s);
}

static void test_field_refusals_name_the_field(void **state)
{
	static const struct {
		outbox_server_field_id id;
		const char *value;
		const char *field;
	} cases[] = {
		{OUTBOX_SERVER_PORT, "0", "port"},
		{OUTBOX_SERVER_PORT, "65536", "port"},
		{OUTBOX_SERVER_PORT, "25x", "port"},
		{OUTBOX_SERVER_SECURITY, "ssl", "security"},
		{OUTBOX_SERVER_AUTH, "digest-md5", "auth"},
		{OUTBOX_SERVER_HOST, "bad host", "host"},
		{OUTBOX_SERVER_HOST, "", "host"},
		{OUTBOX_SERVER_NAME, "-x", "name"},
		{OUTBOX_SERVER_DESCRIPTION, "two\nlines", "description"},
		{OUTBOX_SERVER_USER, "a\rb", "user"},
		{OUTBOX_SERVER_TLS_PIN, "abc", "tls-pin"},
		{OUTBOX_SERVER_TLS_CA, "/nonexistent/ca.pem", "tls-ca"},
		{OUTBOX_SERVER_TIMEOUT, "0", "timeout"},
		{OUTBOX_SERVER_TLS_VERIFY, "maybe", "tls-verify"},
	};
	struct unit_store *f = *state;
	outbox_server *s = outbox_server_new();
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char what[128], before[4200];
		snprintf(before, sizeof before, "%s", outbox_server_get(s, cases[i].id));
		snprintf(what, sizeof what, "set %s to \"%s\"", cases[i].field, cases[i].value);
		EXPECT_INT(outbox_server_set(f->h, s, cases[i].id, cases[i].value), OUTBOX_EINVALID, what);
		EXPECT_STR(outbox_errfield(f->h), cases[i].field, what);
		EXPECT_STR(outbox_server_get(s, cases[i].id), before, "a refused value leaves the draft");
	}
	outbox_server_free(s);
}

static void test_record_refusals(void **state)
{
	struct unit_store *f = *state;
	outbox_server *s = outbox_server_new();

	outbox_server_set(f->h, s, OUTBOX_SERVER_NAME, "plain");
	outbox_server_set(f->h, s, OUTBOX_SERVER_HOST, "smtp.example.org");
	outbox_server_set(f->h, s, OUTBOX_SERVER_SECURITY, "none");
	outbox_server_set(f->h, s, OUTBOX_SERVER_AUTH, "plain");
	outbox_server_set(f->h, s, OUTBOX_SERVER_USER, "ann");
	EXPECT_INT(outbox_server_save(f->h, s), OUTBOX_EINVALID, "plain auth without TLS");
	EXPECT_STR(outbox_errfield(f->h), "auth", "field of the refusal");
	EXPECT_CONTAINS(outbox_errmsg(f->h), "--allow-insecure-auth", "the message offers the way out");
	outbox_server_set(f->h, s, OUTBOX_SERVER_ALLOW_INSECURE_AUTH, "yes");
	EXPECT_INT(outbox_server_save(f->h, s), 0, "allowed once insecure auth is allowed");
	outbox_server_free(s);

	s = outbox_server_new();
	outbox_server_set(f->h, s, OUTBOX_SERVER_NAME, "nouser");
	outbox_server_set(f->h, s, OUTBOX_SERVER_HOST, "smtp2.example.org");
	outbox_server_set(f->h, s, OUTBOX_SERVER_AUTH, "scram-sha-256");
	EXPECT_INT(outbox_server_save(f->h, s), OUTBOX_EINVALID, "scram without a user");
	EXPECT_STR(outbox_errfield(f->h), "user", "field of the refusal");
	outbox_server_set(f->h, s, OUTBOX_SERVER_AUTH, "external");
	EXPECT_INT(outbox_server_save(f->h, s), OUTBOX_EINVALID, "external without a certificate");
	EXPECT_STR(outbox_errfield(f->h), "auth", "field of the refusal");
	outbox_server_free(s);
}

static void test_duplicates_and_names(void **state)
{
	struct unit_store *f = *state;

	EXPECT_INT(add_server(f->h, "one", "smtp.example.org", NULL, "ann"), 0, "add one");
	EXPECT_INT(add_server(f->h, "one", "other.example.org", NULL, NULL), OUTBOX_EEXISTS, "same name");
	EXPECT_STR(outbox_errfield(f->h), "name", "field of the refusal");
	EXPECT_INT(add_server(f->h, "two", "SMTP.example.org", "587", "ann"), OUTBOX_EEXISTS, "same host/port/user");
	EXPECT_CONTAINS(outbox_errmsg(f->h), "\"one\"", "the message names the existing server");
	EXPECT_INT(add_server(f->h, "two", "smtp.example.org", "587", "bob"), 0, "another user is not a duplicate");
}

static void test_first_server_is_default_and_default_moves(void **state)
{
	struct unit_store *f = *state;
	outbox_server *s;

	add_server(f->h, "a", "a.example.org", NULL, NULL);
	add_server(f->h, "b", "b.example.org", NULL, NULL);
	outbox_server_load(f->h, "a", &s);
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_DEFAULT), "true", "first server is the default");
	outbox_server_free(s);
	outbox_server_load(f->h, "b", &s);
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_DEFAULT), "false", "second is not");
	outbox_server_set(f->h, s, OUTBOX_SERVER_DEFAULT, "true");
	EXPECT_INT(outbox_server_save(f->h, s), 0, "make b the default");
	outbox_server_free(s);
	outbox_server_load(f->h, "a", &s);
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_DEFAULT), "false", "a is no longer the default");
	outbox_server_free(s);
}

static void test_stale_draft_is_a_conflict(void **state)
{
	struct unit_store *f = *state;
	outbox_server *first, *second;

	add_server(f->h, "c", "c.example.org", NULL, NULL);
	outbox_server_load(f->h, "c", &first);
	outbox_server_load(f->h, "c", &second);
	outbox_server_set(f->h, first, OUTBOX_SERVER_DESCRIPTION, "first edit");
	EXPECT_INT(outbox_server_save(f->h, first), 0, "first save");
	outbox_server_set(f->h, second, OUTBOX_SERVER_DESCRIPTION, "second edit");
	EXPECT_INT(outbox_server_save(f->h, second), OUTBOX_ECONFLICT, "save of a stale draft");
	outbox_server_free(first);
	outbox_server_free(second);
}

static int set_description(outbox *h, outbox_server *s, void *ctx)
{
	return outbox_server_set(h, s, OUTBOX_SERVER_DESCRIPTION, ctx);
}

/* A command-line edit loads and saves under one lock, so a draft a form holds meanwhile does not
 * stop it; the form's draft is stale afterwards and still hears about it. */
static void test_edit_in_one_transaction_beside_a_held_draft(void **state)
{
	struct unit_store *f = *state;
	outbox_server *held, *edited, *again;
	char description[] = "edited from the command line";

	add_server(f->h, "e", "e.example.org", NULL, NULL);
	assert_int_equal(outbox_server_load(f->h, "e", &held), 0);
	outbox_server_set(f->h, held, OUTBOX_SERVER_DESCRIPTION, "the form's edit");
	EXPECT_INT(outbox_server_edit(f->h, "e", set_description, description, &edited), 0,
		   "edit while a draft is held");
	EXPECT_STR(outbox_server_get(edited, OUTBOX_SERVER_DESCRIPTION), description, "the edited server");
	outbox_server_free(edited);
	EXPECT_INT(outbox_server_save(f->h, held), OUTBOX_ECONFLICT, "the held draft is stale now");
	assert_int_equal(outbox_server_load(f->h, "e", &again), 0);
	EXPECT_STR(outbox_server_get(again, OUTBOX_SERVER_DESCRIPTION), description, "what the store holds");
	EXPECT_INT(outbox_server_edit(f->h, "nope", set_description, description, &edited), OUTBOX_ENOTFOUND,
		   "edit of a server that is not there");
	assert_null(edited);
	/* Someone else got there first: running the command again may work. */
	EXPECT_INT(outbox_exit_code(OUTBOX_ECONFLICT), 75, "exit code of a conflict");
	EXPECT_INT(outbox_exit_code(OUTBOX_EBUSY), 75, "exit code of a busy store");
	EXPECT_INT(outbox_exit_code(OUTBOX_ECANCELLED), 75, "exit code of a cancelled call");
	outbox_server_free(held);
	outbox_server_free(again);
}

/* A copy of a draft carries its unsaved edits and new password, stays independent of the
 * original, and saves as the record it was copied from (a stale copy still conflicts). */
static void test_dup_is_an_independent_draft(void **state)
{
	struct unit_store *f = *state;
	outbox_server *orig, *copy, *again;

	add_server(f->h, "d", "d.example.org", NULL, NULL);
	assert_int_equal(outbox_server_load(f->h, "d", &orig), 0);
	outbox_server_set(f->h, orig, OUTBOX_SERVER_PORT, "2525");
	outbox_server_set(f->h, orig, OUTBOX_SERVER_USER, "dora");
	outbox_server_set_password(f->h, orig, "made-up-in-test");
	copy = outbox_server_dup(orig);
	assert_non_null(copy);
	outbox_server_set(f->h, orig, OUTBOX_SERVER_PORT, "587");
	EXPECT_STR(outbox_server_get(copy, OUTBOX_SERVER_PORT), "2525", "the copy keeps the unsaved port");
	EXPECT_STR(outbox_server_get(orig, OUTBOX_SERVER_PORT), "587", "the original changed alone");
	outbox_server_free(orig);
	EXPECT_INT(outbox_server_save(f->h, copy), 0, "the copy saves as the server it came from");
	EXPECT_INT(outbox_server_password_source(copy), OUTBOX_PASSWORD_FILE, "with the new password stored");
	assert_int_equal(outbox_server_load(f->h, "d", &again), 0);
	EXPECT_STR(outbox_server_get(again, OUTBOX_SERVER_PORT), "2525", "saved port");
	EXPECT_STR(outbox_server_get(again, OUTBOX_SERVER_USER), "dora", "saved user");
	outbox_server_free(again);
	outbox_server_free(copy);
}

static void test_remove_refusals_reassign_and_undo(void **state)
{
	struct unit_store *f = *state;
	outbox_account *a = outbox_account_new();
	outbox_server *s;
	char what[200];

	add_server(f->h, "main", "main.example.org", NULL, NULL);
	add_server(f->h, "spare", "spare.example.org", NULL, NULL);
	outbox_account_set(f->h, a, OUTBOX_ACCOUNT_ADDRESS, "ann@example.org");
	outbox_account_set(f->h, a, OUTBOX_ACCOUNT_SERVER, "main");
	EXPECT_INT(outbox_account_save(f->h, a), 0, "add an account on main");
	outbox_account_free(a);

	EXPECT_INT(outbox_server_remove(f->h, "main", NULL, 0), OUTBOX_EINUSE, "remove a server in use");
	EXPECT_CONTAINS(outbox_errmsg(f->h), "ann@example.org", "the message names the account");
	EXPECT_CONTAINS(outbox_errmsg(f->h), "--reassign", "and suggests --reassign");
	EXPECT_INT(outbox_server_remove(f->h, "main", "main", 0), OUTBOX_EINVALID, "reassign to itself");
	EXPECT_INT(outbox_server_remove(f->h, "main", "nope", 0), OUTBOX_ENOTFOUND, "reassign to nothing");
	EXPECT_INT(outbox_server_remove(f->h, "main", "spare", 0), 0, "remove with reassign");
	EXPECT_INT(outbox_server_load(f->h, "main", &s), OUTBOX_ENOTFOUND, "removed server is gone");
	EXPECT_INT(outbox_server_load(f->h, "spare", &s), 0, "spare is there");
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_DEFAULT), "true", "spare took over as default");
	EXPECT_STR(outbox_server_used_by(s)[0], "ann@example.org", "spare carries the account");
	outbox_server_free(s);

	EXPECT_INT(outbox_undo(f->h, what, sizeof what), 0, "undo");
	EXPECT_INT(outbox_server_load(f->h, "main", &s), 0, "main is back");
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_DEFAULT), "true", "and the default again");
	EXPECT_STR(outbox_server_used_by(s)[0], "ann@example.org", "with its account");
	outbox_server_free(s);
	EXPECT_INT(outbox_undo(f->h, what, sizeof what), OUTBOX_ENOTHING, "nothing more to undo");
}

static void test_removing_the_default_needs_a_successor(void **state)
{
	struct unit_store *f = *state;

	add_server(f->h, "d1", "d1.example.org", NULL, NULL);
	add_server(f->h, "d2", "d2.example.org", NULL, NULL);
	EXPECT_INT(outbox_server_remove(f->h, "d1", NULL, 0), OUTBOX_EINUSE, "remove the default alone");
	EXPECT_CONTAINS(outbox_errmsg(f->h), "default", "the message says why");
	EXPECT_INT(outbox_server_remove(f->h, "d2", NULL, OUTBOX_REMOVE_PURGE), 0, "purge a plain one");
	EXPECT_INT(outbox_server_remove(f->h, "d1", NULL, 0), 0, "the last server may go");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults_and_port_following_security, setup, teardown),
		cmocka_unit_test_setup_teardown(test_field_refusals_name_the_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicates_and_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_server_is_default_and_default_moves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_draft_is_a_conflict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edit_in_one_transaction_beside_a_held_draft, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dup_is_an_independent_draft, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_refusals_reassign_and_undo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removing_the_default_needs_a_successor, setup, teardown),
	};
	return cmocka_run_group_tests_name("server", tests, NULL, NULL);
}
