/* test_setup_undo.c: a setup's entry in the undo journal: a version-7 store migrates with its
 * journal, outbox_undo takes a setup back (latest entry first), and refuses, changing nothing,
 * when that would lose queued mail or another account's server. */
#include <stdlib.h>

#include "outbox/outbox.h"
#include "setup_undo.h"
#include "store.h"
#include "unit.h"

static int setup(void **state)
{
	return unit_store_setup_with_secret_files(state, "setup-undo");
}

static int teardown(void **state)
{
	return unit_store_close(*state);
}

/* What outbox_setup_save leaves: server `name` and an account for `address` on it, journalled
 * in one transaction (the discovery before it is another test's business). */
static void saved_setup(outbox *h, const char *address, const char *name)
{
	long long account_id = 0, server_id = 0;

	unit_add_server(h, name);
	unit_add_account(h, address, name);
	assert_int_equal(store_int(h, &server_id, 0, "SELECT id FROM servers WHERE name = ?1", "t", name), 0);
	assert_int_equal(store_int(h, &account_id, 0, "SELECT id FROM accounts WHERE address = ?1", "t", address), 0);
	assert_int_equal(store_begin(h), 0);
	assert_int_equal(setup_undo_journal(h, account_id, server_id, address), 0);
	assert_int_equal(store_commit(h), 0);
}

static int server_exists(outbox *h, const char *name)
{
	outbox_server *s = NULL;
	int rc = outbox_server_load(h, name, &s);

	outbox_server_free(s);
	return rc == 0;
}

static int account_exists(outbox *h, const char *address)
{
	outbox_account *a = NULL;
	int rc = outbox_account_load(h, address, &a);

	outbox_account_free(a);
	return rc == 0;
}

/* Version 8 rebuilds the journal to let 'setup' in: an entry a version-7 store made keeps its
 * place behind the setups made after the upgrade. */
static void test_migrates_version_7_journal(void **state)
{
	struct unit_store *f = *state;
	char what[512];

	unit_add_server(f->h, "main");
	unit_add_account(f->h, "bob@work.example", "main");
	assert_int_equal(outbox_account_remove(f->h, "bob@work.example", 0), 0);
	/* The journal as version 7 made it: no server_id, the kind CHECK without 'setup'. */
	assert_int_equal(sqlite3_exec(f->h->db,
				      "CREATE TABLE removals_v7 ("
				      "  id INTEGER PRIMARY KEY,"
				      "  kind TEXT NOT NULL CHECK (kind IN ('server', 'account', 'message')),"
				      "  object_id INTEGER NOT NULL, label TEXT NOT NULL,"
				      "  was_default INTEGER NOT NULL DEFAULT 0, prior_state TEXT NOT NULL DEFAULT '',"
				      "  removed_at INTEGER NOT NULL, undone_at INTEGER);"
				      "INSERT INTO removals_v7 SELECT id, kind, object_id, label, was_default, prior_state,"
				      "  removed_at, undone_at FROM removals;"
				      "DROP TABLE removals; ALTER TABLE removals_v7 RENAME TO removals;"
				      /* schema 10's DSN columns, which a version-7 store lacks */
				      "ALTER TABLE queue DROP COLUMN dsn_notify; ALTER TABLE queue DROP COLUMN dsn_ret;"
				      "ALTER TABLE queue DROP COLUMN dsn_envid;"
				      /* nor the aliases and EHLO name a later step adds */
				      "DROP TABLE aliases; ALTER TABLE servers DROP COLUMN helo; DROP TABLE host_names;"
				      "PRAGMA user_version = 7",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	outbox_close(f->h);
	f->h = NULL;
	EXPECT_INT(outbox_open(&f->h, f->home), 0, "open a version-7 store");
	EXPECT_INT(outbox_schema_version(f->h), STORE_SCHEMA_VERSION, "schema version after migration");

	saved_setup(f->h, "ann@example.test", "example.test");
	EXPECT_INT(outbox_undo(f->h, what, sizeof what), 0, "undo the setup");
	EXPECT_STR(what, "Took back the setup of ann@example.test: removed account ann@example.test and server "
			 "\"example.test\"", "undo says what it took back");
	EXPECT_INT(server_exists(f->h, "example.test"), 0, "the setup's server is gone");
	EXPECT_INT(account_exists(f->h, "ann@example.test"), 0, "the setup's account is gone");
	EXPECT_INT(server_exists(f->h, "main"), 1, "the older server stays");
	EXPECT_INT(outbox_undo(f->h, what, sizeof what), 0, "undo again");
	EXPECT_STR(what, "Restored account bob@work.example", "the removal journalled by version 7 comes next");
	EXPECT_INT(outbox_undo(f->h, what, sizeof what), OUTBOX_ENOTHING, "nothing more to undo");
}

/* The rows a refusal must leave as they were. */
static void store_rows(outbox *h, char *out, size_t size)
{
	sqlite3_stmt *st;
	size_t len = 0;

	out[0] = '\0';
	assert_int_equal(sqlite3_prepare_v2(h->db,
					    "SELECT 'server ' || name || ' ' || is_default || ' ' || revision FROM servers"
					    " UNION ALL SELECT 'account ' || address || ' ' || server_id FROM accounts"
					    " UNION ALL SELECT 'fallback ' || account_id || ' ' || server_id FROM account_fallbacks"
					    " UNION ALL SELECT 'journal ' || id || ' ' || kind || ' ' || ifnull(undone_at, '-')"
					    " FROM removals ORDER BY 1",
					    -1, &st, NULL),
			 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW && len < size)
		len += (size_t)snprintf(out + len, size - len, "%s\n", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

struct refusal {
	const char *why;
	const char *sql;  /* what was done since the setup */
	const char *want; /* in the one-line message */
	const char *undo; /* puts it right again */
};

static void test_refuses_what_would_lose_something(void **state)
{
	static const struct refusal cases[] = {
		{"queued mail as the account",
		 "INSERT INTO queue (spool_name, account, created_at, next_attempt_at) VALUES ('m1', 'ANN@example.test', 1, 1)",
		 "account ann@example.test has 1 unsent message in the outbox; send or remove it first",
		 "DELETE FROM queue"},
		{"failed mail through the server",
		 "INSERT INTO queue (spool_name, server, state, created_at, next_attempt_at)"
		 " VALUES ('m2', 'example.test', 'failed', 1, 1)",
		 "1 unsent message in the outbox goes through server \"example.test\"", "DELETE FROM queue"},
		{"another account on the server",
		 "UPDATE accounts SET server_id = (SELECT id FROM servers WHERE name = 'example.test')"
		 " WHERE address = 'bob@other.example'",
		 "account bob@other.example now sends through server \"example.test\"",
		 "UPDATE accounts SET server_id = (SELECT id FROM servers WHERE name = 'main')"
		 " WHERE address = 'bob@other.example'"},
		{"a fallback of another account",
		 "INSERT INTO account_fallbacks SELECT a.id, 0, s.id FROM accounts a, servers s"
		 " WHERE a.address = 'bob@other.example' AND s.name = 'example.test'",
		 "server \"example.test\" is now a fallback of account bob@other.example", "DELETE FROM account_fallbacks"},
		{"the default server while others exist",
		 "UPDATE servers SET is_default = (name = 'example.test')",
		 "server \"example.test\" is now the default server; make another one the default first",
		 "UPDATE servers SET is_default = (name = 'main')"},
	};
	struct unit_store *f = *state;
	char before[2048], after[2048], what[512];
	size_t i;

	unit_add_server(f->h, "main");
	unit_add_account(f->h, "bob@other.example", "main");
	saved_setup(f->h, "ann@example.test", "example.test");
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(sqlite3_exec(f->h->db, cases[i].sql, NULL, NULL, NULL), SQLITE_OK);
		store_rows(f->h, before, sizeof before);
		if (outbox_undo(f->h, what, sizeof what) != OUTBOX_EINUSE)
			fail_msg("%s: undo got %s, want it refused (OUTBOX_EINUSE)", cases[i].why, what);
		EXPECT_CONTAINS(outbox_errmsg(f->h), cases[i].want, cases[i].why);
		EXPECT_CONTAINS(outbox_errmsg(f->h), "cannot take back the setup of ann@example.test", cases[i].why);
		store_rows(f->h, after, sizeof after);
		EXPECT_STR(after, before, cases[i].why);
		assert_int_equal(sqlite3_exec(f->h->db, cases[i].undo, NULL, NULL, NULL), SQLITE_OK);
	}
	EXPECT_INT(outbox_undo(f->h, what, sizeof what), 0, "once nothing stands in the way");
	EXPECT_INT(server_exists(f->h, "example.test"), 0, "the setup's server is gone");
	EXPECT_INT(account_exists(f->h, "bob@other.example"), 1, "the other account stays");
}

/* An edit since changes what the records are called, not whose they are; what was removed for
 * good since is not there to take back, and the message says so. */
static void test_edited_or_removed_since(void **state)
{
	struct unit_store *f = *state;
	char what[512];

	saved_setup(f->h, "ann@example.test", "example.test");
	assert_int_equal(sqlite3_exec(f->h->db, "UPDATE servers SET name = 'renamed' WHERE name = 'example.test';"
						"UPDATE accounts SET address = 'ann@renamed.test'",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	EXPECT_INT(outbox_undo(f->h, what, sizeof what), 0, "undo an edited setup");
	EXPECT_STR(what, "Took back the setup of ann@example.test: removed account ann@renamed.test and server "
			 "\"renamed\"", "the records as they are called now");

	/* SQLite gives a deleted row's id to the next row added: those are not the setup's. */
	unit_add_server(f->h, "main");
	saved_setup(f->h, "cy@example.test", "example.test");
	EXPECT_INT(outbox_account_remove(f->h, "cy@example.test", OUTBOX_REMOVE_PURGE), 0, "purge the account");
	unit_add_account(f->h, "dan@other.example", "main");
	EXPECT_INT(outbox_undo(f->h, what, sizeof what), 0, "undo the setup whose account went");
	EXPECT_STR(what, "Took back the setup of cy@example.test: removed server \"example.test\" (its account "
			 "was removed already)", "says what was gone");
	EXPECT_INT(server_exists(f->h, "example.test"), 0, "the server is gone");
	EXPECT_INT(account_exists(f->h, "dan@other.example"), 1, "the account added after the purge stays");

	saved_setup(f->h, "eve@example.test", "example.test");
	EXPECT_INT(outbox_server_remove(f->h, "example.test", "main", OUTBOX_REMOVE_PURGE), 0, "purge the server");
	unit_add_server(f->h, "later");
	EXPECT_INT(outbox_undo(f->h, what, sizeof what), 0, "undo the setup whose server went");
	EXPECT_STR(what, "Took back the setup of eve@example.test: removed account eve@example.test (its server "
			 "was removed already)", "says what was gone");
	EXPECT_INT(account_exists(f->h, "eve@example.test"), 0, "the account is gone");
	EXPECT_INT(server_exists(f->h, "later"), 1, "the server added after the purge stays");
	EXPECT_INT(outbox_undo(f->h, what, sizeof what), OUTBOX_ENOTHING, "each setup is taken back once");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrates_version_7_journal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_what_would_lose_something, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edited_or_removed_since, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
