/* test_store.c: the store: creation with private permissions, the schema version, refusal of a
 * newer schema, migration of real older databases with their data intact, handles side by side,
 * whose store it is, links above and in place of it, handles that only read, and the wait for
 * another's write. */
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sqlite3.h>

#include "outbox/outbox.h"
#include "queue.h"
#include "store.h"
#include "unit.h"

static char *make_home(void)
{
	char tmpl[] = "/tmp/outbox-store-XXXXXX";
	char *dir = mkdtemp(tmpl);

	assert_non_null(dir);
	return strdup(dir);
}

static void remove_home(char *home)
{
	char cmd[512];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
	assert_int_equal(system(cmd), 0);
	free(home);
}

static void test_new_store_is_private_and_current(void **state)
{
	char *home = make_home(), path[512];
	outbox *h;
	struct stat st;

	(void)state;
	snprintf(path, sizeof path, "%s/nested/outbox", home);
	EXPECT_INT(outbox_open(&h, path), 0, "open a new store");
	EXPECT_INT(outbox_schema_version(h), STORE_SCHEMA_VERSION, "schema version of a new store");
	assert_int_equal(stat(path, &st), 0);
	EXPECT_INT(st.st_mode & 0777, 0700, "mode of the store directory");
	snprintf(path, sizeof path, "%s/nested/outbox/outbox.db", home);
	assert_int_equal(stat(path, &st), 0);
	EXPECT_INT(st.st_mode & 0777, 0600, "mode of the database");
	outbox_close(h);
	remove_home(home);
}

/* An unsynced transaction lowers the connection's sync level for its own commit only: whatever
 * ends it (commit or rollback), the next write waits for the disk again. */
static void test_unsynced_commit_leaves_the_connection_at_full(void **state)
{
	static const char *const insert =
		"INSERT INTO history (at, account, server, sender, recipients, outcome, reply, size, message_id)"
		" VALUES (0, '', '', '', '', 'delivered', '', 0, '')";
	char *home = make_home();
	long long level = -1, rows = -1;
	outbox *h;

	(void)state;
	EXPECT_INT(outbox_open(&h, home), 0, "open a new store");
	EXPECT_INT(store_int(h, &level, -1, "PRAGMA synchronous", ""), 0, "read the level");
	EXPECT_INT(level, 2, "a connection starts at FULL");
	EXPECT_INT(store_begin_unsynced(h), 0, "begin unsynced");
	EXPECT_INT(store_int(h, &level, -1, "PRAGMA synchronous", ""), 0, "read the level");
	EXPECT_INT(level, 1, "NORMAL inside the unsynced transaction");
	EXPECT_INT(store_exec(h, insert, ""), 0, "write a line");
	EXPECT_INT(store_commit(h), 0, "commit");
	EXPECT_INT(store_int(h, &level, -1, "PRAGMA synchronous", ""), 0, "read the level");
	EXPECT_INT(level, 2, "FULL again after the commit");
	EXPECT_INT(store_sync(h), 0, "sync the log");
	EXPECT_INT(store_begin_unsynced(h), 0, "begin unsynced again");
	EXPECT_INT(store_exec(h, insert, ""), 0, "write a second line");
	store_rollback(h);
	EXPECT_INT(store_int(h, &level, -1, "PRAGMA synchronous", ""), 0, "read the level");
	EXPECT_INT(level, 2, "FULL again after a rollback");
	EXPECT_INT(store_int(h, &rows, -1, "SELECT count(*) FROM history", ""), 0, "count the lines");
	EXPECT_INT(rows, 1, "the committed line stays, the rolled back one does not");
	/* A runner's connection is at NORMAL for the whole run (the janitor syncs): an unsynced
	 * transaction on it, as remembering the EHLO name is, must leave it there. */
	EXPECT_INT(store_exec(h, "PRAGMA synchronous = NORMAL", ""), 0, "a runner's level");
	EXPECT_INT(store_begin_unsynced(h), 0, "begin unsynced on it");
	EXPECT_INT(store_exec(h, insert, ""), 0, "write a line");
	EXPECT_INT(store_commit(h), 0, "commit");
	EXPECT_INT(store_int(h, &level, -1, "PRAGMA synchronous", ""), 0, "read the level");
	EXPECT_INT(level, 1, "still NORMAL after the commit, not FULL");
	outbox_close(h);
	remove_home(home);
}

/* Statements a loop takes turns with stay prepared, even when their texts' addresses fall in one
 * place of the cache: with one slot per address, a queue run parsed two statements per message. */
static void test_statements_taken_in_turn_stay_prepared(void **state)
{
	/* 512 bytes apart: the addresses a one-slot cache keyed on (address / 8) % 64 maps together. */
	static char texts[8][512];
	sqlite3_stmt *first, *other, *again;
	char *home = make_home();
	outbox *h;
	int i, round;

	(void)state;
	for (i = 0; i < 8; i++)
		snprintf(texts[i], sizeof texts[i], "SELECT %d", i);
	EXPECT_INT(outbox_open(&h, home), 0, "open a new store");
	for (i = 0; i + 1 < 8; i++) {
		EXPECT_INT(store_prepare_cached(h, texts[i], &first), 0, "prepare a statement");
		for (round = 0; round < 3; round++) {
			EXPECT_INT(store_prepare_cached(h, texts[i + 1], &other), 0, "its neighbour");
			EXPECT_INT(store_prepare_cached(h, texts[i], &again), 0, "the first again");
			if (again != first)
				fail_msg("\"%s\" was parsed again after \"%s\": got a new statement, want "
					 "the cached one", texts[i], texts[i + 1]);
		}
	}
	outbox_close(h);
	remove_home(home);
}

static void test_refuses_group_writable_home(void **state)
{
	char *home = make_home();
	outbox *h;

	(void)state;
	assert_int_equal(chmod(home, 0777), 0);
	EXPECT_INT(outbox_open(&h, home), OUTBOX_ECONFIG, "open a world-writable home");
	EXPECT_CONTAINS(outbox_errmsg(h), "chmod 700", "the message says how to fix it");
	outbox_close(h);
	remove_home(home);
}

static void load_fixture(const char *db_path, const char *sql_path)
{
	FILE *f = fopen(sql_path, "r");
	char *sql;
	long len;
	sqlite3 *db;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	sql = calloc(1, (size_t)len + 1);
	assert_int_equal(fread(sql, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	free(sql);
}

static void test_migrates_version_1_with_its_data(void **state)
{
	char *home = make_home(), path[512];
	outbox *h;
	outbox_server *s;
	outbox_account *a;
	char what[200];

	(void)state;
	snprintf(path, sizeof path, "%s/outbox.db", home);
	load_fixture(path, "tests/data/schema-v1.sql");
	EXPECT_INT(outbox_open(&h, home), 0, "open a version-1 store");
	EXPECT_INT(outbox_schema_version(h), STORE_SCHEMA_VERSION, "schema version after migration");

	EXPECT_INT(outbox_server_load(h, "work", &s), 0, "load a server written by version 1");
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_HOST), "smtp.work.example", "host");
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_PORT), "465", "port");
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_DEFAULT), "true", "default");
	EXPECT_STR(outbox_server_used_by(s)[0], "ann@work.example", "used by");
	/* Schema 7: an older server signs in as before, without OAuth. */
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_OAUTH), "none", "no OAuth provider");
	EXPECT_INT(outbox_server_oauth_client_secret_source(s), OUTBOX_PASSWORD_NONE, "no client secret");
	outbox_server_free(s);

	EXPECT_INT(outbox_account_load(h, "ann@work.example", &a), 0, "load the account");
	EXPECT_STR(outbox_account_get(a, OUTBOX_ACCOUNT_FALLBACK), "backup", "fallbacks survive");
	outbox_account_free(a);

	/* What version 2 added works on the migrated data: removal and undo. */
	EXPECT_INT(outbox_server_remove(h, "work", "backup", 0), 0, "remove with reassign");
	EXPECT_INT(outbox_undo(h, what, sizeof what), 0, "undo");
	EXPECT_STR(what, "Restored server \"work\", and moved 1 account back to it", "undo says what it did");
	EXPECT_INT(outbox_account_load(h, "ann@work.example", &a), 0, "load the account again");
	EXPECT_STR(outbox_account_get(a, OUTBOX_ACCOUNT_SERVER), "work", "server after undo");
	EXPECT_STR(outbox_account_get(a, OUTBOX_ACCOUNT_FALLBACK), "backup", "fallback after undo");
	outbox_account_free(a);
	outbox_close(h);
	remove_home(home);
}

static void test_refuses_newer_schema(void **state)
{
	char *home = make_home(), path[512];
	sqlite3 *db;
	outbox *h;

	(void)state;
	snprintf(path, sizeof path, "%s/outbox.db", home);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	EXPECT_INT(outbox_open(&h, home), OUTBOX_ECONFIG, "open a store from a newer outbox");
	EXPECT_CONTAINS(outbox_errmsg(h), "upgrade outbox", "the message says what to do");
	outbox_close(h);
	remove_home(home);
}

/* Version 5 rebuilds the removal journal: a real version-4 database keeps every journal entry and
 * its effects, so the removals made before the upgrade can still be undone in order. */
static void test_migrates_version_4_journal(void **state)
{
	char *home = make_home(), path[512], what[200];
	outbox *h;
	outbox_account *a;

	(void)state;
	snprintf(path, sizeof path, "%s/outbox.db", home);
	load_fixture(path, "tests/data/schema-v4.sql");
	EXPECT_INT(outbox_open(&h, home), 0, "open a version-4 store");
	EXPECT_INT(outbox_schema_version(h), STORE_SCHEMA_VERSION, "schema version after migration");
	EXPECT_INT(outbox_undo(h, what, sizeof what), 0, "undo the last removal made by version 4");
	EXPECT_STR(what, "Restored account bob@work.example", "the account removal comes back first");
	EXPECT_INT(outbox_undo(h, what, sizeof what), 0, "undo the server removal");
	EXPECT_STR(what, "Restored server \"work\", and moved 1 account back to it", "with its journalled effects");
	EXPECT_INT(outbox_account_load(h, "ann@work.example", &a), 0, "load the moved account");
	EXPECT_STR(outbox_account_get(a, OUTBOX_ACCOUNT_SERVER), "work", "server after undo");
	EXPECT_STR(outbox_account_get(a, OUTBOX_ACCOUNT_FALLBACK), "backup", "fallback list after undo");
	EXPECT_STR(outbox_account_get(a, OUTBOX_ACCOUNT_GIVE_UP), "5d", "a migrated account has the default schedule");
	outbox_account_free(a);
	outbox_close(h);
	remove_home(home);
}

/* Version 9 rebuilds the queue for AUTOINCREMENT: a real version-8 database keeps every message
 * with its id, recipients and attempts, the journal can still bring a removed one back, and from
 * then on an id, once given, is never given again, not even after the highest was purged. */
static void test_migrates_version_8_queue_and_never_reuses_ids(void **state)
{
	char *home = make_home(), path[512], what[200];
	const char *const rcpts[] = {"c@example.test", NULL};
	struct queue_entry_in in = {0};
	outbox *h;
	outbox_queue_view *v;
	const outbox_queue_message *m;
	long long first = 0, second = 0;

	(void)state;
	snprintf(path, sizeof path, "%s/outbox.db", home);
	load_fixture(path, "tests/data/schema-v8-queue.sql");
	EXPECT_INT(outbox_open(&h, home), 0, "open a version-8 store");
	EXPECT_INT(outbox_schema_version(h), STORE_SCHEMA_VERSION, "schema version after migration");
	EXPECT_INT(outbox_queue_show(h, 1, &v), 0, "show message 1 after migration");
	m = outbox_queue_view_at(v, 0);
	EXPECT_INT(m->nrecipients, 2, "message 1's recipients kept");
	EXPECT_STR(m->recipients[0].address, "a1@example.test", "message 1's first recipient");
	EXPECT_INT(m->nlog, 1, "message 1's attempts kept");
	EXPECT_STR(m->log[0].outcome, "deferred", "message 1's attempt");
	outbox_queue_view_free(v);
	EXPECT_INT(outbox_undo(h, what, sizeof what), 0, "undo the removal of message 2 made by version 8");
	EXPECT_INT(outbox_queue_show(h, 2, &v), 0, "show message 2 brought back");
	EXPECT_STR(outbox_queue_view_at(v, 0)->state, "queued", "message 2's state after undo");
	EXPECT_INT(outbox_queue_view_at(v, 0)->nrecipients, 2, "message 2's recipients kept");
	outbox_queue_view_free(v);

	in.spool_name = "0123456789abcdef0123456789abcdef";
	in.account = in.sender = "sender@example.test";
	in.message_id = "<new@example.test>";
	in.recipients = rcpts;
	EXPECT_INT(queue_add(h, &in, &first), 0, "queue a message after migration");
	EXPECT_INT(first > 2, 1, "the new id is above every id kept");
	EXPECT_INT(outbox_queue_remove(h, first, 1), 0, "purge the newest message");
	EXPECT_INT(queue_add(h, &in, &second), 0, "queue another");
	if (second <= first)
		fail_msg("after purging id %lld: got id %lld, want one above %lld", first, second, first);
	outbox_close(h);
	remove_home(home);
}

/* A front end polls outbox_changed() to refresh: it must see another process's commit, and only
 * that, not its own writes. */
static void test_changed_sees_other_processes_only(void **state)
{
	struct unit_store *f = unit_store_open("changed");
	outbox *other;

	(void)state;
	assert_non_null(f);
	EXPECT_INT(outbox_changed(f->h), 0, "the first call only starts watching");
	unit_add_server(f->h, "own");
	EXPECT_INT(outbox_changed(f->h), 0, "after our own save");
	assert_int_equal(outbox_open(&other, f->home), 0);
	unit_add_server(other, "theirs");
	outbox_close(other);
	EXPECT_INT(outbox_changed(f->h), 1, "after another connection saved a server");
	EXPECT_INT(outbox_changed(f->h), 0, "asked again with nothing new");
	assert_int_equal(unit_store_close(f), 0);
}

/* What a child started by in_other_process does: it is this program run afresh, as a separate
 * process must be (a forked child would share the parent's SQLite lock bookkeeping). */
static int child_main(const char *what, const char *home)
{
	outbox_server *s = NULL;
	outbox *h;
	int rc;

	if (outbox_open(&h, home) < 0)
		return 1;
	if (strcmp(what, "add") == 0) {
		unit_add_server(h, "other");
		rc = 0;
	} else {
		rc = outbox_server_load(h, "after", &s) == 0 ? 0 : 2;
		outbox_server_free(s);
	}
	outbox_close(h);
	return rc;
}

/* Run this program as `child WHAT HOME` and return its exit code. */
static int in_other_process(const char *what, const char *home)
{
	int status = -1;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		execl("/proc/self/exe", "test_store", "child", what, home, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Opening a second handle must not cost the first one its locks: a process that then closed its
 * last connection would take itself for the database's last user, checkpoint and delete the WAL,
 * and what the first handle commits afterwards would go to a file nobody else reads. */
static void test_second_handle_keeps_the_first_ones_locks(void **state)
{
	struct unit_store *f = unit_store_open("locks");
	outbox *second;

	(void)state;
	assert_non_null(f);
	unit_add_server(f->h, "before");
	assert_int_equal(outbox_open(&second, f->home), 0);
	outbox_close(second);
	EXPECT_INT(in_other_process("add", f->home), 0, "another process saves a server and closes");
	unit_add_server(f->h, "after");
	EXPECT_INT(in_other_process("check", f->home), 0,
		   "another process sees what the first handle committed after that");
	assert_int_equal(unit_store_close(f), 0);
}

/* Waiting for another connection's write: short pauses first, so a wait behind a commit of a
 * millisecond or two ends soon after it (SQLite's own first pauses are 1, 2 and 5 ms), none
 * longer than 5 ms, and giving up only once the pauses add up to the 10 s a command waits. */
static void test_busy_wait_polls_finely_for_ten_seconds(void **state)
{
	long long waited = 0, pause;
	int tries;

	(void)state;
	EXPECT_INT(store_busy_pause_us(0), 50, "the first pause, in us");
	EXPECT_INT(store_busy_pause_us(1), 100, "the second doubles");
	for (tries = 0; (pause = store_busy_pause_us(tries)) >= 0; tries++) {
		if (pause > 5000 || pause <= 0)
			fail_msg("pause %d: got %lld us, want 1..5000", tries, pause);
		waited += pause;
	}
	if (waited < 10000000 || waited > 10005000)
		fail_msg("gave up after %lld us of pauses, want 10 s (within one pause)", waited);
}

/* A store that belongs to someone else is refused, naming the path, its owner and the fix; root
 * is told to run outbox as the owner rather than take the store over. */
static void test_refuses_a_store_of_another_user(void **state)
{
	char *home = make_home(), db[512];
	outbox *h;

	(void)state;
	if (geteuid() != 0) {
		/* Only root can give a directory away; "/" is someone else's for everyone but root. */
		EXPECT_INT(outbox_open(&h, "/"), OUTBOX_ECONFIG, "open a store in a directory of root's");
		EXPECT_CONTAINS(outbox_errmsg(h), "/ belongs to root", "the message names path and owner");
		outbox_close(h);
		remove_home(home);
		return;
	}
	assert_int_equal(chown(home, 65534, 65534), 0);
	EXPECT_INT(outbox_open(&h, home), OUTBOX_ECONFIG, "root opens a store of uid 65534");
	EXPECT_CONTAINS(outbox_errmsg(h), "run outbox as ", "root is told whose store it is");
	outbox_close(h);
	assert_int_equal(chown(home, 0, 0), 0);
	assert_int_equal(outbox_open(&h, home), 0);
	outbox_close(h);
	snprintf(db, sizeof db, "%s/outbox.db", home);
	assert_int_equal(chown(db, 65534, 65534), 0);
	EXPECT_INT(outbox_open_readonly(&h, home), OUTBOX_ECONFIG, "open a store whose database is another's");
	EXPECT_CONTAINS(outbox_errmsg(h), "run: chown root ", "the message says how to fix it");
	outbox_close(h);
	remove_home(home);
}

/* A link above the store (/home on many systems) is resolved once; one in place of the database
 * is refused, whatever it points at. */
static void test_links_above_the_store_and_in_place_of_it(void **state)
{
	char *home = make_home(), real[256], link[256], via[256], db[512], moved[512];
	outbox *h;

	(void)state;
	snprintf(real, sizeof real, "%s/real", home);
	snprintf(link, sizeof link, "%s/link", home);
	snprintf(via, sizeof via, "%s/link/store", home);
	assert_int_equal(mkdir(real, 0700), 0);
	assert_int_equal(symlink(real, link), 0);
	EXPECT_INT(outbox_open(&h, via), 0, "open a store below a symbolic link");
	snprintf(db, sizeof db, "%s/store", real);
	EXPECT_STR(outbox_home(h), db, "the store's directory, resolved");
	unit_add_server(h, "kept");
	outbox_close(h);

	snprintf(db, sizeof db, "%s/store/outbox.db", real);
	snprintf(moved, sizeof moved, "%s/elsewhere.db", real);
	assert_int_equal(rename(db, moved), 0);
	assert_int_equal(symlink(moved, db), 0);
	EXPECT_INT(outbox_open(&h, via), OUTBOX_ECONFIG, "open a store whose database is a link");
	EXPECT_CONTAINS(outbox_errmsg(h), "is a symbolic link", "the message says what is wrong");
	outbox_close(h);
	EXPECT_INT(outbox_open_readonly(&h, via), OUTBOX_ECONFIG, "read a store whose database is a link");
	outbox_close(h);
	remove_home(home);
}

/* A reading handle works while another holds a write transaction, sees only what was committed,
 * and refuses a change, saying the store is read-only. */
static void test_reading_handle_beside_a_writer(void **state)
{
	struct unit_store *f = unit_store_open("reading");
	outbox *reader;
	outbox_server **list = NULL;
	outbox_server *s = outbox_server_new();
	size_t n = 0;

	(void)state;
	assert_non_null(f);
	unit_add_server(f->h, "committed");
	assert_int_equal(store_begin(f->h), 0);
	assert_int_equal(store_exec(f->h, "UPDATE servers SET description = 'uncommitted'", ""), 0);
	EXPECT_INT(outbox_open_readonly(&reader, f->home), 0, "open to read beside a writer");
	EXPECT_INT(outbox_server_list(reader, &list, &n), 0, "list the servers");
	EXPECT_INT(n, 1, "servers listed");
	EXPECT_STR(outbox_server_get(list[0], OUTBOX_SERVER_DESCRIPTION), "", "what was committed");
	outbox_server_list_free(list, n);
	assert_int_equal(outbox_server_set(reader, s, OUTBOX_SERVER_NAME, "new"), 0);
	assert_int_equal(outbox_server_set(reader, s, OUTBOX_SERVER_HOST, "new.example.org"), 0);
	EXPECT_INT(outbox_server_save(reader, s) < 0, 1, "save through the reading handle fails");
	EXPECT_CONTAINS(outbox_errmsg(reader), "is read-only", "and says why");
	outbox_server_free(s);
	outbox_close(reader);
	store_rollback(f->h);
	assert_int_equal(unit_store_close(f), 0);
}

/* There is nothing to read in a store that does not exist or that an older outbox made: a reading
 * open makes or upgrades it, as any command always has, when it can. */
static void test_reading_open_makes_and_upgrades(void **state)
{
	char *home = make_home(), path[512];
	outbox *h;

	(void)state;
	snprintf(path, sizeof path, "%s/new", home);
	EXPECT_INT(outbox_open_readonly(&h, path), 0, "read a store that does not exist yet");
	EXPECT_INT(outbox_schema_version(h), STORE_SCHEMA_VERSION, "it is made at the current schema");
	outbox_close(h);
	snprintf(path, sizeof path, "%s/outbox.db", home);
	load_fixture(path, "tests/data/schema-v4.sql");
	EXPECT_INT(outbox_open_readonly(&h, home), 0, "read a version-4 store");
	EXPECT_INT(outbox_schema_version(h), STORE_SCHEMA_VERSION, "it is upgraded first");
	outbox_close(h);
	remove_home(home);
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "child") == 0)
		return child_main(argv[2], argv[3]);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_store_is_private_and_current),
		cmocka_unit_test(test_refuses_group_writable_home),
		cmocka_unit_test(test_unsynced_commit_leaves_the_connection_at_full),
		cmocka_unit_test(test_statements_taken_in_turn_stay_prepared),
		cmocka_unit_test(test_migrates_version_1_with_its_data),
		cmocka_unit_test(test_refuses_newer_schema),
		cmocka_unit_test(test_changed_sees_other_processes_only),
		cmocka_unit_test(test_migrates_version_4_journal),
		cmocka_unit_test(test_migrates_version_8_queue_and_never_reuses_ids),
		cmocka_unit_test(test_second_handle_keeps_the_first_ones_locks),
		cmocka_unit_test(test_busy_wait_polls_finely_for_ten_seconds),
		cmocka_unit_test(test_refuses_a_store_of_another_user),
		cmocka_unit_test(test_links_above_the_store_and_in_place_of_it),
		cmocka_unit_test(test_reading_handle_beside_a_writer),
		cmocka_unit_test(test_reading_open_makes_and_upgrades),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
