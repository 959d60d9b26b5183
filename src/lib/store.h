/* store.h: the SQLite side of a handle: opening with the right pragmas, migrations, transactions,
 * and small statement helpers so modules do not repeat prepare/step/finalize boilerplate. */
#ifndef OUTBOX_STORE_H
#define OUTBOX_STORE_H

#include <sqlite3.h>
#include "handle_internal.h"

/* The schema version this build creates and migrates to. */
#define STORE_SCHEMA_VERSION 12

/* Create the database file `path` 0600 when it is missing; an existing one is left alone. */
int store_create_file(outbox *h, const char *path);
/* Open `path`, set the pragmas, and migrate to the current schema. */
int store_open(outbox *h, const char *path);
/* Open `path` only to read it: no WAL switch, no migration (h->schema_version says where it is),
 * every write refused. `writable`: whether this process could write the database and its
 * directory; when not, and no WAL is beside it, the database is read as immutable. */
int store_open_readonly(outbox *h, const char *path, int writable);
/* Finalize the cached statements and close the database. */
void store_close(outbox *h);
/* Apply migrations up to `target`, one transaction for all of them. */
int store_migrate(outbox *h, int target);

/* The pause, in microseconds, before try `tries` (from 0) of a write lock another connection
 * holds, or -1 once the pauses before it add up to 10 s: then the command gives up (OUTBOX_EBUSY).
 * SQLite's own wait pauses 1, 2, 5, 10 ms...: a runner's mark that met its recorder's commit of a
 * millisecond or two lost 8 ms. A write here lasts milliseconds, so the wait starts at 50 us and
 * doubles up to 5 ms. */
long long store_busy_pause_us(int tries);
/* BEGIN IMMEDIATE, so a writer learns at once when another holds the database. */
int store_begin(outbox *h);
int store_commit(outbox *h);
/* Which commits must survive a power cut is decided by the caller, per write (DESIGN.md, "What is
 * synced"). store_begin begins a transaction whose commit waits for the disk (synchronous=FULL:
 * two or three syncs); store_begin_unsynced one whose commit does not: a power cut may lose it
 * whole, never in part, until the next sync of the log (store_sync, one fdatasync) makes it and
 * every commit before it durable. Not for a runner's workers, whose connections stay at NORMAL. */
int store_begin_unsynced(outbox *h);
/* One fdatasync of the log makes every commit so far durable, whoever made it: frames already
 * checkpointed were synced by the checkpoint, and the log is restarted only after one. */
int store_sync(outbox *h);
/* The same with a descriptor of the caller's own (opened on first use, -1 before): for a thread
 * that syncs while others write. 0, or -1 with errno. */
int store_sync_log(const char *wal, int *fd);
/* A long run's checkpoints, off its critical path. Its writer's connection takes none within its
 * commits (SQLite would, once the log passes 4 MB: a few syncs in the writer's time, retried at
 * each commit while a reader holds the log); store_watch_log instead tells `fn` the log's length
 * in frames after each of them. A helper thread's connection then calls store_checkpoint_behind,
 * which copies what it can into the database, waiting for no one; the writer's next commit
 * starts the log afresh. */
int store_watch_log(outbox *h, void (*fn)(void *ctx, int frames), void *ctx);
void store_checkpoint_behind(outbox *h);
/* Roll back; safe to call when no transaction is open. */
void store_rollback(outbox *h);

/* The handle's cached statement for `sql`, a string literal (the cache is keyed by its address);
 * hand it back with store_release() as soon as its rows are read, never sqlite3_finalize(). */
int store_prepare_cached(outbox *h, const char *sql, sqlite3_stmt **st);
void store_release(sqlite3_stmt *st);
/* Prepare `sql`; on failure the handle says what failed. */
int store_prepare(outbox *h, sqlite3_stmt **st, const char *sql);
/* Run a statement without results, binding the variadic parameters: each is a type letter in
 * `types` ('i' for long long, 't' for const char *, 'n' for NULL with no argument). */
int store_exec(outbox *h, const char *sql, const char *types, ...);
/* Run a query whose first row's first column is an integer; *out = `missing` without a row. */
int store_int(outbox *h, long long *out, long long missing, const char *sql, const char *types, ...);
/* Run a query and collect its rows' first column (NULL as "") into a NULL-terminated strv (free
 * with strv_free; NULL when there is no row), binding parameters as store_exec does. `doing` words
 * a failure: "reading the queue's spool names". */
int store_strings(outbox *h, char ***out, const char *doing, const char *sql, const char *types, ...);
/* Bind variadic parameters as store_exec does. */
int store_bindv(outbox *h, sqlite3_stmt *st, const char *types, va_list ap);
/* Seconds since the epoch, from the library's clock ($OUTBOX_NOW overrides it for tests). */
long long store_now(void);

#endif
