/* store.c: opens the database with the pragmas every outbox process relies on (WAL, foreign keys,
 * full sync, a busy timeout, no checkpoint on close) and wraps transactions and statements with
 * error reporting; it decides how each commit reaches the disk. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "record.h"
#include "store.h"

/* The file is created here, not by SQLite, so it is 0600 from its first byte; SQLite gives its
 * -wal and -shm files the same mode as the database. Only a file that does not exist yet is
 * opened: closing a descriptor of the database drops every POSIX lock this process holds on it,
 * those of its other open handles too, and a process that then closes its last connection would
 * think itself the last user and delete the WAL they are still writing to. */
int store_create_file(outbox *h, const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0 && errno != EEXIST)
		return outbox_fail(h, OUTBOX_ECONFIG, NULL, "cannot open the database %s: %s", path,
				   strerror(errno));
	if (fd >= 0)
		close(fd);
	return 0;
}

/* The schema version the database is at; a newer one than this build knows is refused. */
static int store_read_version(outbox *h, const char *path)
{
	long long version = 0;
	int rc;

	if ((rc = store_int(h, &version, 0, "PRAGMA user_version", "")) < 0)
		return rc;
	if (version > STORE_SCHEMA_VERSION)
		return outbox_fail(h, OUTBOX_ECONFIG, NULL,
				   "the database %s has schema version %lld, newer than this outbox (%d) knows; "
				   "upgrade outbox", path, version, STORE_SCHEMA_VERSION);
	h->schema_version = (int)version;
	return 0;
}

/* Whether `path` has a write-ahead log or its index beside it: then the database cannot be read
 * as if it were the whole story. */
static int store_has_wal(const char *path)
{
	static const char *const suffixes[] = {"-wal", "-shm"};
	struct buf side = BUF_INIT;
	struct stat st;
	size_t i;
	int found = 0;

	for (i = 0; !found && i < sizeof suffixes / sizeof suffixes[0]; i++) {
		buf_reset(&side);
		/* Unsure counts as present: reading a changed database as unchanged would be worse. */
		found = buf_printf(&side, "%s%s", path, suffixes[i]) < 0 || lstat(side.data, &st) == 0 ||
			errno != ENOENT;
	}
	buf_free(&side);
	return found;
}

/* The directory holding `path`, fsync'd: a file created in it keeps its name after a power cut. */
static int store_sync_dir(outbox *h, const char *path)
{
	const char *slash = strrchr(path, '/');
	struct buf dir = BUF_INIT;
	int fd, rc = 0;

	if (buf_printf(&dir, "%.*s", slash ? (int)(slash - path) + 1 : 1, slash ? path : ".") < 0)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	fd = open(dir.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		rc = outbox_fail(h, OUTBOX_EIO, NULL, "cannot sync the directory %s: %s", dir.data, strerror(errno));
	if (fd >= 0)
		close(fd);
	buf_free(&dir);
	return rc;
}

static int store_fail_open(outbox *h, const char *path)
{
	return outbox_fail(h, OUTBOX_ECONFIG, NULL, "cannot open the database %s: %s", path,
			   h->db ? sqlite3_errmsg(h->db) : "out of memory");
}

/* The most the log may hold when a command ends, in bytes. */
#define STORE_LOG_MOST 1048576
#define STORE_LOG_MOST_TEXT "1048576"

/* How long a command waits for another's write to end before it gives up. */
#define STORE_BUSY_US 10000000LL

long long store_busy_pause_us(int tries)
{
	/* The pauses before this try, added up: 6,350 us for the first seven, then 5 ms each. */
	long long waited = tries < 7 ? 50LL * ((1LL << tries) - 1) : 6350 + 5000LL * (tries - 7);

	if (waited >= STORE_BUSY_US)
		return -1;
	return tries < 7 ? 50LL << tries : 5000;
}

static int store_busy(void *ctx, int tries)
{
	long long pause = store_busy_pause_us(tries);
	struct timespec ts;

	(void)ctx;
	if (pause < 0)
		return 0;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)(pause * 1000);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return 1;
}

int store_open(outbox *h, const char *path)
{
	static const char *const pragmas =
		"PRAGMA foreign_keys = ON;"
		"PRAGMA synchronous = FULL;"
		"PRAGMA trusted_schema = OFF;";
	int rc, had_wal;
	char *mode = NULL;
	sqlite3_stmt *st = NULL;

	had_wal = store_has_wal(path);
	if (sqlite3_open_v2(path, &h->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK)
		return store_fail_open(h, path);
	sqlite3_busy_handler(h->db, store_busy, NULL);
	sqlite3_extended_result_codes(h->db, 0);
	if (sqlite3_exec(h->db, pragmas, NULL, NULL, NULL) != SQLITE_OK)
		return outbox_fail_db(h, "setting up the database");
	/* Closing the last connection would checkpoint (two syncs) and delete the log, which the
	 * next command would create again (a directory sync): a command's close costs nothing now,
	 * unless the log has grown past STORE_LOG_MOST (store_close). A log restarted within a
	 * long run is cut back to that size too. */
	if (sqlite3_db_config(h->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL) != SQLITE_OK ||
	    sqlite3_exec(h->db, "PRAGMA journal_size_limit = " STORE_LOG_MOST_TEXT, NULL, NULL, NULL) != SQLITE_OK)
		return outbox_fail_db(h, "setting up the database");
	/* Switching to WAL writes the header once; asking again on a WAL database writes nothing. */
	if ((rc = store_prepare(h, &st, "PRAGMA journal_mode = WAL")) < 0)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		mode = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (mode == NULL || strcmp(mode, "wal") != 0) {
		free(mode);
		return outbox_fail(h, OUTBOX_ECONFIG, NULL,
				   "the database %s cannot use write-ahead logging (is it on a network file system?)", path);
	}
	free(mode);
	/* The log was made by this open: its name is made durable once, here, since store_sync
	 * syncs only the log's own bytes. A log that was already there stays (nothing deletes it). */
	if (!had_wal && (rc = store_sync_dir(h, path)) < 0)
		return rc;
	if ((rc = store_read_version(h, path)) < 0)
		return rc;
	if (h->schema_version < STORE_SCHEMA_VERSION)
		return store_migrate(h, STORE_SCHEMA_VERSION);
	return 0;
}

/* `path` as a file: URI, so the open can carry immutable=1. Everything but the unreserved
 * characters and "/" is %-escaped: a "?" or "#" in a directory name would end the path. */
static int store_uri(struct buf *uri, const char *path, int immutable)
{
	const unsigned char *p;
	int rc = buf_puts(uri, "file:");

	for (p = (const unsigned char *)path; rc == 0 && *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("/-._~", *p))
			rc = buf_append(uri, p, 1);
		else
			rc = buf_printf(uri, "%%%02X", *p);
	}
	if (rc == 0 && immutable)
		rc = buf_puts(uri, "?immutable=1");
	return rc;
}

int store_open_readonly(outbox *h, const char *path, int writable)
{
	struct buf uri = BUF_INIT;
	int rc;
	/* SQLite reads a WAL database through its -shm index, which it makes beside the database when
	 * the directory lets it. A store this process cannot write (a read-only mount, chmod a-w) with
	 * no WAL beside it is being written by nobody: it is read as it is, as immutable, and no -shm
	 * is made, in a directory that may not take one, or with the database's read-only mode, which
	 * would stop the owner's writes once the database is writable again. */
	int immutable = !writable && !store_has_wal(path);

	h->readonly = 1;
	if (store_uri(&uri, path, immutable) < 0) {
		buf_free(&uri);
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	rc = sqlite3_open_v2(uri.data, &h->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_URI,
			     NULL);
	buf_free(&uri);
	if (rc != SQLITE_OK)
		return store_fail_open(h, path);
	sqlite3_busy_handler(h->db, store_busy, NULL);
	sqlite3_extended_result_codes(h->db, 0);
	/* query_only as well: a write attempted through this handle is refused by SQLite itself. */
	if (sqlite3_exec(h->db, "PRAGMA trusted_schema = OFF; PRAGMA query_only = ON;", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return outbox_fail_db(h, "setting up the database");
	return store_read_version(h, path);
}

/* Under synchronous=NORMAL a WAL commit writes its frames and does not wait for them; FULL waits
 * (and, first in a process, syncs the directory too). SQLite takes the level only outside a
 * transaction, so it is set before BEGIN and put back after the end. */
static void store_synchronous(outbox *h, int full)
{
	sqlite3_exec(h->db, full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
}

/* The transaction that began unsynced has ended: the connection is back at its level, FULL for
 * a command's, NORMAL for a runner's (whose syncs are the janitor's). */
static void store_end_unsynced(outbox *h)
{
	if (h->unsynced && sqlite3_get_autocommit(h->db)) {
		if (h->unsynced == STORE_UNSYNCED_FROM_FULL)
			store_synchronous(h, 1);
		h->unsynced = 0;
	}
}

int store_begin(outbox *h)
{
	if (sqlite3_exec(h->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return outbox_fail_db(h, "starting a transaction");
	return 0;
}

int store_commit(outbox *h)
{
	if (sqlite3_exec(h->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		int rc = outbox_fail_db(h, "committing");
		store_rollback(h);
		return rc;
	}
	store_end_unsynced(h);
	return 0;
}

int store_sync_log(const char *wal, int *fd)
{
	/* O_NONBLOCK: whatever is found under that name, opening it must not make the caller wait. */
	if (*fd < 0)
		*fd = open(wal, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	return *fd >= 0 && fdatasync(*fd) == 0 ? 0 : -1;
}

int store_sync(outbox *h)
{
	const char *wal = sqlite3_filename_wal(sqlite3_db_filename(h->db, "main"));
	int fd = -1, rc = 0;

	if (wal == NULL || store_sync_log(wal, &fd) < 0)
		rc = outbox_fail(h, OUTBOX_ESTORE, NULL, "cannot sync the database's log %s: %s",
				 wal ? wal : "(none)", strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

int store_begin_unsynced(outbox *h)
{
	long long level = 2;
	int rc;

	/* 2 is FULL: a connection a runner set to NORMAL must stay there afterwards. */
	if (store_int(h, &level, 2, "PRAGMA synchronous", "") < 0)
		level = 2;
	h->unsynced = level >= 2 ? STORE_UNSYNCED_FROM_FULL : STORE_UNSYNCED_FROM_NORMAL;
	if (level >= 2)
		store_synchronous(h, 0);
	if ((rc = store_begin(h)) < 0)
		store_end_unsynced(h);
	return rc;
}

void store_rollback(outbox *h)
{
	if (h->db && !sqlite3_get_autocommit(h->db))
		sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
	if (h->db)
		store_end_unsynced(h);
}

int store_prepare(outbox *h, sqlite3_stmt **st, const char *sql)
{
	if (sqlite3_prepare_v2(h->db, sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return outbox_fail_db(h, "preparing a query");
	}
	return 0;
}

int store_bindv(outbox *h, sqlite3_stmt *st, const char *types, va_list ap)
{
	int i, rc = SQLITE_OK;

	for (i = 0; types[i] && rc == SQLITE_OK; i++) {
		switch (types[i]) {
		case 'i':
			rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, long long));
			break;
		case 't':
			rc = sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
			break;
		default:
			rc = sqlite3_bind_null(st, i + 1);
			break;
		}
	}
	if (rc != SQLITE_OK)
		return outbox_fail_db(h, "binding a query parameter");
	return 0;
}

/* The cached statement for `sql`, prepared on first use. A slot whose address matches but whose
 * text does not (SQL built in a reused buffer) is prepared afresh. */
int store_prepare_cached(outbox *h, const char *sql, sqlite3_stmt **st)
{
	uintptr_t key = (uintptr_t)sql;
	size_t set = ((key >> 3) ^ (key >> 11)) % (STORE_CACHE_SLOTS / STORE_CACHE_WAYS);
	struct store_cached *ways = &h->cache[set * STORE_CACHE_WAYS], *c = &ways[0];
	size_t i;

	for (i = 0; i < STORE_CACHE_WAYS; i++) {
		/* The text is compared too: a string built at run time may reuse an old address. */
		if (ways[i].st && ways[i].sql == sql && strcmp(sqlite3_sql(ways[i].st), sql) == 0) {
			ways[i].used = ++h->cache_tick;
			*st = ways[i].st;
			return 0;
		}
		if (ways[i].used < c->used)
			c = &ways[i];
	}
	if (sqlite3_prepare_v3(h->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return outbox_fail_db(h, "preparing a query");
	}
	sqlite3_finalize(c->st);
	c->sql = sql;
	c->st = *st;
	c->used = ++h->cache_tick;
	return 0;
}

/* Ready a cached statement for its next use; a statement left mid-way would hold its read
 * transaction open and pin an old snapshot. */
void store_release(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* The log's size in bytes, or -1 when it cannot be told. */
static long long store_log_size(outbox *h)
{
	const char *wal = sqlite3_filename_wal(sqlite3_db_filename(h->db, "main"));
	struct stat st;

	return wal == NULL || stat(wal, &st) < 0 ? -1 : (long long)st.st_size;
}

/* A log that stays between commands is never restarted by them: each opens it afresh, finds
 * nothing checkpointed, and appends. So the command that ends with it past STORE_LOG_MOST
 * checkpoints and empties it (three syncs, about one queued send in 50 pays them). It does not
 * wait for a reader (a running `queue run`): then the next command's close tries again. */
static void store_trim_log(outbox *h)
{
	if (h->readonly || store_log_size(h) <= STORE_LOG_MOST)
		return;
	sqlite3_busy_timeout(h->db, 0);
	sqlite3_exec(h->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
}

void store_checkpoint_behind(outbox *h)
{
	/* A failure (a writer or reader in the way) leaves the log as it was: the next call tries. */
	if (!h->readonly)
		sqlite3_wal_checkpoint_v2(h->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
}

struct store_log_watch {
	void (*fn)(void *ctx, int frames);
	void *ctx;
};

static int store_log_hook(void *arg, sqlite3 *db, const char *schema, int frames)
{
	const struct store_log_watch *w = arg;

	(void)db;
	(void)schema;
	w->fn(w->ctx, frames);
	return SQLITE_OK;
}

int store_watch_log(outbox *h, void (*fn)(void *ctx, int frames), void *ctx)
{
	struct store_log_watch *w = calloc(1, sizeof *w);

	if (w == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	w->fn = fn;
	w->ctx = ctx;
	free(h->log_watch);
	h->log_watch = w;
	/* The hook takes the place of the connection's own checkpoints within commits. */
	sqlite3_wal_hook(h->db, store_log_hook, w);
	return 0;
}

void store_close(outbox *h)
{
	size_t i;

	for (i = 0; i < STORE_CACHE_SLOTS; i++) {
		sqlite3_finalize(h->cache[i].st);
		h->cache[i].st = NULL;
	}
	if (h->db)
		store_trim_log(h);
	sqlite3_close(h->db);
	h->db = NULL;
	free(h->log_watch);
	h->log_watch = NULL;
}

/* The cached statement for `sql` with its parameters bound; on failure *st is released already
 * (or NULL). */
static int store_ready(outbox *h, sqlite3_stmt **st, const char *sql, const char *types, va_list ap)
{
	int rc;

	if ((rc = store_prepare_cached(h, sql, st)) < 0)
		return rc;
	if ((rc = store_bindv(h, *st, types, ap)) < 0)
		store_release(*st);
	return rc;
}

int store_exec(outbox *h, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc;

	va_start(ap, types);
	rc = store_ready(h, &st, sql, types, ap);
	va_end(ap);
	if (rc < 0)
		return rc;
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = outbox_fail_db(h, "writing to the database");
	store_release(st);
	return rc;
}

int store_int(outbox *h, long long *out, long long missing, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int rc, step;

	va_start(ap, types);
	rc = store_ready(h, &st, sql, types, ap);
	va_end(ap);
	if (rc < 0)
		return rc;
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else if (step == SQLITE_DONE)
		*out = missing;
	else
		rc = outbox_fail_db(h, "reading the database");
	store_release(st);
	return rc;
}

int store_strings(outbox *h, char ***out, const char *doing, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	size_t n = 0;
	int rc, step;

	*out = NULL;
	va_start(ap, types);
	rc = store_ready(h, &st, sql, types, ap);
	va_end(ap);
	if (rc < 0)
		return rc;
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(st, 0);
		if (strv_append(out, &n, text ? text : "") < 0)
			rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = outbox_fail_db(h, doing);
	store_release(st);
	if (rc < 0) {
		strv_free(*out);
		*out = NULL;
	}
	return rc;
}

long long store_now(void)
{
	const char *fixed = getenv("OUTBOX_NOW");

	if (fixed && *fixed) {
		char *end;
		long long v = strtoll(fixed, &end, 10);
		if (*end == '\0')
			return v;
	}
	return (long long)time(NULL);
}
