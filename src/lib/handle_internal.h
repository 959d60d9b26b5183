/* handle_internal.h: what the library's modules share about a handle: the database connection
 * and the error slot. outbox_fail() is the only way a module reports a failure. */
#ifndef OUTBOX_HANDLE_INTERNAL_H
#define OUTBOX_HANDLE_INTERNAL_H

#include <sqlite3.h>
#include <sys/stat.h>
#include "outbox/error.h"

/* Statements store_exec and store_int prepared once and reuse, keyed by their SQL text's address
 * (the library's SQL is string literals): parsing, not running, was most of a commit's cost.
 * A text may sit in any of STORE_CACHE_WAYS slots of its set, so two statements a loop takes
 * turns with never evict each other (with one slot each, a queue run parsed two statements
 * per message: 4,000 parses for 2,000 messages). */
#define STORE_CACHE_SLOTS 64
#define STORE_CACHE_WAYS 4
struct store_cached {
	const char *sql;
	sqlite3_stmt *st;
	unsigned long used; /* the handle's cache_tick when last used: the oldest is replaced */
};

/* What store_begin_unsynced found, so its end puts the level back as it was. */
enum { STORE_UNSYNCED_FROM_NORMAL = 1, STORE_UNSYNCED_FROM_FULL = 2 };

struct outbox {
	sqlite3 *db;
	struct store_cached cache[STORE_CACHE_SLOTS];
	unsigned long cache_tick;
	struct store_log_watch *log_watch; /* store_watch_log's, freed with the connection */
	char *home; /* the store's directory, resolved: no symbolic link in any part of it */
	int readonly; /* opened by outbox_open_readonly: nothing is created or written */
	int schema_version;
	long long data_version; /* PRAGMA data_version when outbox_changed() last looked */
	int unsynced; /* the open transaction began with store_begin_unsynced: STORE_UNSYNCED_FROM_* */
	char err_field[32];
	char err_detail[512];
	char err_message[560];
};

/* Record a failure on the handle and return `code`, so callers write `return outbox_fail(...)`.
 * `field` is a field key ("port") or NULL; the detail says what is wrong and, where it helps,
 * how to fix it. */
int outbox_fail(outbox *h, int code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same for a failed sqlite3 call: the database's own words with what was being done. */
int outbox_fail_db(outbox *h, const char *doing);
void outbox_clear_error(outbox *h);

/* The checks every file of the store passes (handle_check.c), in one place for the store and the
 * password files alike. `path` must belong to the running user; `whole_store` words the fix for
 * the store's own directory (root is told to run outbox as its owner, not to take it over). */
int handle_check_owner(outbox *h, const char *path, const struct stat *st, int whole_store);
/* `path` is a regular file, not a symbolic link, and the user's own; `what` names it ("database"). */
int handle_check_file(outbox *h, const char *path, const char *what);
/* 0 when this process may write `path` (or create it, when missing), else the errno saying why. */
int handle_check_can_write(const char *path);
/* The store's directory and its database files `db`, `db`-wal and `db`-shm can all be written;
 * else OUTBOX_EIO with "the store ... is read-only", before a command changes anything. */
int handle_check_writable(outbox *h, const char *db);

/* Best-effort cleanup after a failure must not replace the failure's message. */
struct outbox_error_copy {
	char field[32];
	char detail[512];
	char message[560];
};
void outbox_error_save(const outbox *h, struct outbox_error_copy *copy);
void outbox_error_restore(outbox *h, const struct outbox_error_copy *copy);

#endif
