/* account_store.c: accounts in the database: loading with their server and fallbacks, listing,
 * whole-record validation, and saving a draft in one transaction. */
#include <stdlib.h>
#include <string.h>

#include "account_internal.h"
#include "retry.h"
#include "server_internal.h"
#include "store.h"

static int account_prepare_select(outbox *h, sqlite3_stmt **st, const char *tail)
{
	struct buf sql = BUF_INIT;
	struct record shape = {account_fields, OUTBOX_ACCOUNT_FIELD_COUNT, NULL};
	int rc;

	if (buf_puts(&sql, "SELECT a.id, a.revision, s.name, ") < 0 || record_columns(&shape, &sql, "a.") < 0 ||
	    buf_printf(&sql, " FROM accounts a JOIN servers s ON s.id = a.server_id %s", tail) < 0) {
		buf_free(&sql);
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	rc = store_prepare(h, st, sql.data);
	buf_free(&sql);
	return rc;
}

static int account_from_row(outbox *h, sqlite3_stmt *st, outbox_account **out)
{
	outbox_account *a = outbox_account_new();

	if (a == NULL || record_read_row(&a->rec, st, 3) < 0 ||
	    record_put(&a->rec, OUTBOX_ACCOUNT_SERVER, (const char *)sqlite3_column_text(st, 2)) < 0) {
		outbox_account_free(a);
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	a->id = sqlite3_column_int64(st, 0);
	a->revision = sqlite3_column_int64(st, 1);
	*out = a;
	return 0;
}

static int account_add_fallback(outbox_account *a, const char *name)
{
	size_t len = a->rec.val[OUTBOX_ACCOUNT_FALLBACK] ? strlen(a->rec.val[OUTBOX_ACCOUNT_FALLBACK]) : 0;
	struct buf joined = BUF_INIT;
	int rc;

	if (strv_push(&a->fallbacks, name) < 0)
		return -1;
	if (buf_printf(&joined, "%s%s%s", len ? a->rec.val[OUTBOX_ACCOUNT_FALLBACK] : "", len ? "," : "",
		       name) < 0)
		return -1;
	rc = record_put(&a->rec, OUTBOX_ACCOUNT_FALLBACK, joined.data);
	buf_free(&joined);
	return rc;
}

/* Load fallbacks for the given accounts (sorted by id) with one query. */
static int account_attach_fallbacks(outbox *h, outbox_account **v, size_t n, long long only_id)
{
	sqlite3_stmt *st;
	int rc, step;
	size_t i = 0;

	if ((rc = store_prepare(h, &st,
				"SELECT f.account_id, s.name FROM account_fallbacks f JOIN servers s"
				" ON s.id = f.server_id WHERE s.removed_at IS NULL AND (?1 = 0 OR f.account_id = ?1)"
				" ORDER BY f.account_id, f.position")) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, only_id);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		long long aid = sqlite3_column_int64(st, 0);
		while (i < n && v[i]->id < aid)
			i++;
		if (i < n && v[i]->id == aid &&
		    account_add_fallback(v[i], (const char *)sqlite3_column_text(st, 1)) < 0) {
			rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
			break;
		}
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = outbox_fail_db(h, "reading fallback servers");
	sqlite3_finalize(st);
	return rc;
}

/* The account the statement selects (its first row) with its fallbacks; the statement is
 * finalized. 1 when it selects none, so the caller says why in its own words. */
static int account_read_one(outbox *h, sqlite3_stmt *st, outbox_account **out)
{
	int rc = 0, step = sqlite3_step(st);

	*out = NULL;
	if (step == SQLITE_ROW)
		rc = account_from_row(h, st, out);
	else if (step == SQLITE_DONE)
		rc = 1;
	else
		rc = outbox_fail_db(h, "reading accounts");
	sqlite3_finalize(st);
	if (rc == 0 && (rc = account_attach_fallbacks(h, out, 1, (*out)->id)) < 0) {
		outbox_account_free(*out);
		*out = NULL;
	}
	return rc;
}

int outbox_account_load(outbox *h, const char *address, outbox_account **out)
{
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	if ((rc = account_prepare_select(h, &st, "WHERE a.address = ?1 COLLATE NOCASE AND a.removed_at IS NULL")) < 0)
		return rc;
	sqlite3_bind_text(st, 1, address, -1, SQLITE_TRANSIENT);
	if ((rc = account_read_one(h, st, out)) == 1)
		rc = outbox_fail(h, OUTBOX_ENOTFOUND, "account",
				 "no account with address \"%s\" (see: outbox account list)", address);
	return rc;
}

int account_load_default(outbox *h, outbox_account **out)
{
	sqlite3_stmt *st;
	int rc;

	*out = NULL;
	if ((rc = account_prepare_select(h, &st, "WHERE a.is_default = 1 AND a.removed_at IS NULL ORDER BY a.id LIMIT 1")) < 0)
		return rc;
	if ((rc = account_read_one(h, st, out)) == 1)
		rc = outbox_fail(h, OUTBOX_ECONFIG, "account",
				 "no account to send from: add one with 'outbox account add ADDRESS --server NAME', or "
				 "mark one as the default (--default)");
	return rc;
}

static int account_cmp_address(const void *x, const void *y)
{
	return strcasecmp((*(outbox_account *const *)x)->rec.val[OUTBOX_ACCOUNT_ADDRESS],
			  (*(outbox_account *const *)y)->rec.val[OUTBOX_ACCOUNT_ADDRESS]);
}

int outbox_account_list(outbox *h, outbox_account ***out, size_t *count)
{
	sqlite3_stmt *st;
	outbox_account **v = NULL, **grown;
	size_t n = 0;
	int rc, step;

	*out = NULL;
	*count = 0;
	if ((rc = account_prepare_select(h, &st, "WHERE a.removed_at IS NULL ORDER BY a.id")) < 0)
		return rc;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((grown = realloc(v, (n + 1) * sizeof *v)) == NULL) {
			rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
			break;
		}
		v = grown;
		if ((rc = account_from_row(h, st, &v[n])) < 0)
			break;
		n++;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = outbox_fail_db(h, "reading accounts");
	sqlite3_finalize(st);
	if (rc == 0 && n)
		rc = account_attach_fallbacks(h, v, n, 0);
	if (rc < 0) {
		outbox_account_list_free(v, n);
		return rc;
	}
	/* qsort's array may not be NULL, even with nothing in it. */
	if (n > 1)
		qsort(v, n, sizeof *v, account_cmp_address);
	*out = v;
	*count = n;
	return 0;
}

void outbox_account_list_free(outbox_account **list, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		outbox_account_free(list[i]);
	free(list);
}

/* The server an account without one gets: the default server. */
static int account_fill_server(outbox *h, outbox_account *a)
{
	sqlite3_stmt *st;
	int rc;

	if (*a->rec.val[OUTBOX_ACCOUNT_SERVER])
		return 0;
	if ((rc = store_prepare(h, &st, "SELECT name FROM servers WHERE is_default = 1 AND removed_at IS NULL")) < 0)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW)
		rc = record_put(&a->rec, OUTBOX_ACCOUNT_SERVER, (const char *)sqlite3_column_text(st, 0)) < 0
			     ? outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory")
			     : 0;
	else
		rc = outbox_fail(h, OUTBOX_EINVALID, "server",
				 "is required: no default server is set (add --server NAME)");
	sqlite3_finalize(st);
	return rc;
}

int outbox_account_validate(outbox *h, const outbox_account *a)
{
	const char *server = a->rec.val[OUTBOX_ACCOUNT_SERVER];
	long long id = 0;
	size_t i;
	int rc;

	if (*a->rec.val[OUTBOX_ACCOUNT_ADDRESS] == '\0')
		return outbox_fail(h, OUTBOX_EINVALID, "address", "is required");
	if (*server == '\0')
		return outbox_fail(h, OUTBOX_EINVALID, "server", "is required");
	if ((rc = server_id_by_name(h, "server", server, &id)) < 0)
		return rc;
	for (i = 0; a->fallbacks && a->fallbacks[i]; i++) {
		if (strcmp(a->fallbacks[i], server) == 0)
			return outbox_fail(h, OUTBOX_EINVALID, "fallback",
					   "\"%s\" is already the account's server", server);
		if ((rc = server_id_by_name(h, "fallback", a->fallbacks[i], &id)) < 0)
			return rc;
	}
	if (retry_parse_duration(a->rec.val[OUTBOX_ACCOUNT_RETRY_FIRST]) >
	    retry_parse_duration(a->rec.val[OUTBOX_ACCOUNT_RETRY_MAX]))
		return outbox_fail(h, OUTBOX_EINVALID, "retry-max", "%s is shorter than retry-first (%s)",
				   a->rec.val[OUTBOX_ACCOUNT_RETRY_MAX], a->rec.val[OUTBOX_ACCOUNT_RETRY_FIRST]);
	if (retry_parse_duration(a->rec.val[OUTBOX_ACCOUNT_RETRY_FIRST]) >
	    retry_parse_duration(a->rec.val[OUTBOX_ACCOUNT_GIVE_UP]))
		return outbox_fail(h, OUTBOX_EINVALID, "give-up", "%s is shorter than retry-first (%s)",
				   a->rec.val[OUTBOX_ACCOUNT_GIVE_UP], a->rec.val[OUTBOX_ACCOUNT_RETRY_FIRST]);
	if ((rc = store_int(h, &id, 0,
			    "SELECT id FROM accounts WHERE address = ?1 COLLATE NOCASE AND removed_at IS NULL"
			    " AND id != ?2", "ti", a->rec.val[OUTBOX_ACCOUNT_ADDRESS], a->id)) < 0)
		return rc;
	if (id)
		return outbox_fail(h, OUTBOX_EEXISTS, "address", "an account for %s already exists",
				   a->rec.val[OUTBOX_ACCOUNT_ADDRESS]);
	return 0;
}

static int account_write(outbox *h, outbox_account *a)
{
	char *const *v = a->rec.val;
	long long now = store_now();
	int rc;
	size_t i;

	if (a->id)
		rc = store_exec(h,
				"UPDATE accounts SET address = ?1, display_name = ?2, only_this_server = ?3,"
				" is_default = ?4, updated_at = ?5, revision = revision + 1,"
				" server_id = (SELECT id FROM servers WHERE name = ?6 AND removed_at IS NULL),"
				" retry_first = ?8, retry_max = ?9, give_up = ?10"
				" WHERE id = ?7", "ttiiitittt", v[OUTBOX_ACCOUNT_ADDRESS], v[OUTBOX_ACCOUNT_NAME],
				(long long)(strcmp(v[OUTBOX_ACCOUNT_ONLY_THIS_SERVER], "true") == 0),
				(long long)(strcmp(v[OUTBOX_ACCOUNT_DEFAULT], "true") == 0), now,
				v[OUTBOX_ACCOUNT_SERVER], a->id, v[OUTBOX_ACCOUNT_RETRY_FIRST],
				v[OUTBOX_ACCOUNT_RETRY_MAX], v[OUTBOX_ACCOUNT_GIVE_UP]);
	else
		rc = store_exec(h,
				"INSERT INTO accounts (address, display_name, only_this_server, is_default,"
				" created_at, updated_at, server_id, retry_first, retry_max, give_up)"
				" VALUES (?1, ?2, ?3, ?4, ?5, ?5,"
				" (SELECT id FROM servers WHERE name = ?6 AND removed_at IS NULL), ?7, ?8, ?9)",
				"ttiiitttt", v[OUTBOX_ACCOUNT_ADDRESS], v[OUTBOX_ACCOUNT_NAME],
				(long long)(strcmp(v[OUTBOX_ACCOUNT_ONLY_THIS_SERVER], "true") == 0),
				(long long)(strcmp(v[OUTBOX_ACCOUNT_DEFAULT], "true") == 0), now,
				v[OUTBOX_ACCOUNT_SERVER], v[OUTBOX_ACCOUNT_RETRY_FIRST],
				v[OUTBOX_ACCOUNT_RETRY_MAX], v[OUTBOX_ACCOUNT_GIVE_UP]);
	if (rc < 0)
		return rc;
	if (a->id == 0)
		a->id = sqlite3_last_insert_rowid(h->db);
	if ((rc = store_exec(h, "DELETE FROM account_fallbacks WHERE account_id = ?1", "i", a->id)) < 0)
		return rc;
	for (i = 0; a->fallbacks && a->fallbacks[i]; i++)
		if ((rc = store_exec(h,
				     "INSERT INTO account_fallbacks (account_id, position, server_id) VALUES"
				     " (?1, ?2, (SELECT id FROM servers WHERE name = ?3 AND removed_at IS NULL))",
				     "iit", a->id, (long long)i, a->fallbacks[i])) < 0)
			return rc;
	return 0;
}

/* One default at most; the first account becomes the default by itself. */
static int account_fix_default(outbox *h, outbox_account *a, int is_new)
{
	long long defaults = 0;
	int rc;

	if (strcmp(a->rec.val[OUTBOX_ACCOUNT_DEFAULT], "true") == 0)
		return store_exec(h, "UPDATE accounts SET is_default = 0 WHERE id != ?1 AND is_default = 1", "i",
				  a->id);
	if ((rc = store_int(h, &defaults, 0,
			    "SELECT count(*) FROM accounts WHERE is_default = 1 AND removed_at IS NULL", "")) < 0)
		return rc;
	if (defaults == 0 && is_new) {
		if (record_put(&a->rec, OUTBOX_ACCOUNT_DEFAULT, "true") < 0)
			return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
		return store_exec(h, "UPDATE accounts SET is_default = 1 WHERE id = ?1", "i", a->id);
	}
	return 0;
}

int account_write_checked(outbox *h, outbox_account *a)
{
	int is_new = a->id == 0, rc;
	long long revision;

	if ((rc = account_fill_server(h, a)) < 0 || (rc = outbox_account_validate(h, a)) < 0)
		return rc;
	if (!is_new) {
		if ((rc = store_int(h, &revision, -1,
				    "SELECT revision FROM accounts WHERE id = ?1 AND removed_at IS NULL", "i",
				    a->id)) < 0)
			return rc;
		if (revision != a->revision)
			return outbox_fail(h, OUTBOX_ECONFLICT, NULL,
					   "account %s was changed or removed by another outbox since it was"
					   " loaded; load it again", a->rec.val[OUTBOX_ACCOUNT_ADDRESS]);
	}
	if ((rc = account_write(h, a)) < 0)
		return rc;
	return account_fix_default(h, a, is_new);
}

/* The save itself, in the write transaction the caller began: commits, or rolls back. */
static int account_save_in_transaction(outbox *h, outbox_account *a)
{
	int is_new = a->id == 0, rc;

	if ((rc = account_write_checked(h, a)) < 0 || (rc = store_commit(h)) < 0)
		goto fail;
	a->revision = is_new ? 1 : a->revision + 1;
	return 0;
fail:
	store_rollback(h);
	if (is_new)
		a->id = 0;
	return rc;
}

int outbox_account_save(outbox *h, outbox_account *a)
{
	int rc;

	if ((rc = store_begin(h)) < 0)
		return rc;
	return account_save_in_transaction(h, a);
}

/* Loaded under the write lock, the draft cannot go stale before it is saved: concurrent edits
 * queue on the lock (the busy timeout) instead of failing with a conflict. */
int outbox_account_edit(outbox *h, const char *address, outbox_account_edit_fn apply, void *ctx,
			outbox_account **out)
{
	outbox_account *a = NULL;
	int rc;

	*out = NULL;
	if ((rc = store_begin(h)) < 0)
		return rc;
	if ((rc = outbox_account_load(h, address, &a)) < 0 || (rc = apply(h, a, ctx)) < 0) {
		store_rollback(h);
		outbox_account_free(a);
		return rc;
	}
	if ((rc = account_save_in_transaction(h, a)) < 0) {
		outbox_account_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

static int account_apply_server(outbox *h, outbox_account *a, void *ctx)
{
	const char *const *server = ctx;

	return outbox_account_set(h, a, OUTBOX_ACCOUNT_SERVER, *server);
}

int outbox_account_set_server(outbox *h, const char *address, const char *server)
{
	outbox_account *a;
	int rc = outbox_account_edit(h, address, account_apply_server, &server, &a);

	outbox_account_free(a);
	return rc;
}
