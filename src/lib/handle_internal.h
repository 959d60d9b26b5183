/* handle_internal.h: what the library's modules share about a handle: the database connection
 * and the error slot. outbox_fail() is the only way a module reports a failure. */
#ifndef OUTBOX_HANDLE_INTERNAL_H
#define OUTBOX_HANDLE_INTERNAL_H

#include <sqlite3.h>
#include "outbox/error.h"

/* Statements store_exec and store_int prepared once and reuse, keyed by their SQL text's address
 * (the library's SQL is string literals): parsing, not running, was most of a commit's cost. */
#define STORE_CACHE_SLOTS 64
struct store_cached {
	const char *sql;
	sqlite3_stmt *st;
};

struct outbox {
	sqlite3 *db;
	struct store_cached cache[STORE_CACHE_SLOTS];
	char *home;
	int schema_version;
	long long data_version; /* PRAGMA data_version when outbox_changed() last looked */
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

/* Best-effort cleanup after a failure must not replace the failure's message. */
struct outbox_error_copy {
	char field[32];
	char detail[512];
	char message[560];
};
void outbox_error_save(const outbox *h, struct outbox_error_copy *copy);
void outbox_error_restore(outbox *h, const struct outbox_error_copy *copy);

#endif
