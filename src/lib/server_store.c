/* server_store.c: servers in the database: loading, listing with the accounts that use each one,
 * whole-record validation, and saving a draft (with its password) in one transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "server_internal.h"
#include "store.h"

#define SERVER_META "id, revision, secret_id, password_source, oauth_secret_id, oauth_secret_source"
#define SERVER_META_COUNT 6

static outbox_password_source server_source_from_text(const char *t)
{
	if (t == NULL)
		return OUTBOX_PASSWORD_NONE;
	if (strcmp(t, "keyring") == 0)
		return OUTBOX_PASSWORD_KEYRING;
	if (strcmp(t, "file") == 0)
		return OUTBOX_PASSWORD_FILE;
	if (strcmp(t, "command") == 0)
		return OUTBOX_PASSWORD_COMMAND;
	return OUTBOX_PASSWORD_NONE;
}

/* Prepare "SELECT <meta>, <columns> FROM servers <tail>". */
static int server_prepare_select(outbox *h, sqlite3_stmt **st, const char *tail)
{
	struct buf sql = BUF_INIT;
	struct record shape = {server_fields, OUTBOX_SERVER_FIELD_COUNT, NULL};
	int rc;

	if (buf_puts(&sql, "SELECT " SERVER_META ", ") < 0 || record_columns(&shape, &sql, "") < 0 ||
	    buf_printf(&sql, " FROM servers %s", tail) < 0) {
		buf_free(&sql);
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	rc = store_prepare(h, st, sql.data);
	buf_free(&sql);
	return rc;
}

static int server_from_row(outbox *h, sqlite3_stmt *st, outbox_server **out)
{
	outbox_server *s = outbox_server_new();
	const char *sid;

	if (s == NULL || record_read_row(&s->rec, st, SERVER_META_COUNT) < 0) {
		outbox_server_free(s);
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	s->id = sqlite3_column_int64(st, 0);
	s->revision = sqlite3_column_int64(st, 1);
	sid = (const char *)sqlite3_column_text(st, 2);
	snprintf(s->secret_id, sizeof s->secret_id, "%s", sid ? sid : "");
	s->password_source = server_source_from_text((const char *)sqlite3_column_text(st, 3));
	sid = (const char *)sqlite3_column_text(st, 4);
	snprintf(s->client_secret.id, sizeof s->client_secret.id, "%s", sid ? sid : "");
	s->client_secret.source = server_source_from_text((const char *)sqlite3_column_text(st, 5));
	/* A saved port is whatever the user chose, even if it equals the default. */
	s->port_explicit = strcmp(s->rec.val[OUTBOX_SERVER_PORT],
				  server_default_port(s->rec.val[OUTBOX_SERVER_SECURITY])) != 0;
	*out = s;
	return 0;
}

/* Fill used_by / fallback_for of one server from a query with the server id as parameter 1. */
static int server_load_names(outbox *h, long long id, const char *sql, char ***names)
{
	sqlite3_stmt *st;
	int rc, step;

	if ((rc = store_prepare(h, &st, sql)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (strv_push(names, (const char *)sqlite3_column_text(st, 0)) < 0) {
			rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
			break;
		}
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = outbox_fail_db(h, "reading accounts");
	sqlite3_finalize(st);
	return rc;
}

static const char used_by_sql[] =
	"SELECT address FROM accounts WHERE server_id = ?1 AND removed_at IS NULL ORDER BY address";
static const char fallback_for_sql[] =
	"SELECT a.address FROM account_fallbacks f JOIN accounts a ON a.id = f.account_id"
	" WHERE f.server_id = ?1 AND a.removed_at IS NULL ORDER BY a.address";

int outbox_server_load(outbox *h, const char *name, outbox_server **out)
{
	sqlite3_stmt *st;
	int rc, step;

	*out = NULL;
	if ((rc = server_prepare_select(h, &st, "WHERE name = ?1 AND removed_at IS NULL")) < 0)
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		rc = server_from_row(h, st, out);
	else if (step == SQLITE_DONE)
		rc = outbox_fail(h, OUTBOX_ENOTFOUND, "server",
				 "no server named \"%s\" (see: outbox server list)", name);
	else
		rc = outbox_fail_db(h, "reading servers");
	sqlite3_finalize(st);
	if (rc == 0 && ((rc = server_load_names(h, (*out)->id, used_by_sql, &(*out)->used_by)) < 0 ||
			(rc = server_load_names(h, (*out)->id, fallback_for_sql, &(*out)->fallback_for)) < 0)) {
		outbox_server_free(*out);
		*out = NULL;
	}
	return rc;
}

int server_id_by_name(outbox *h, const char *field, const char *name, long long *id)
{
	int rc = store_int(h, id, 0, "SELECT id FROM servers WHERE name = ?1 AND removed_at IS NULL",
			   "t", name);

	if (rc == 0 && *id == 0)
		return outbox_fail(h, OUTBOX_ENOTFOUND, field,
				   "no server named \"%s\" (see: outbox server list)", name);
	return rc;
}

static int server_cmp_id(const void *a, const void *b)
{
	long long x = (*(outbox_server *const *)a)->id, y = (*(outbox_server *const *)b)->id;
	return (x > y) - (x < y);
}

/* Attach account names to the listed servers with one query for all of them. */
static int server_list_attach(outbox *h, outbox_server **by_id, size_t count, const char *sql, int fallback)
{
	sqlite3_stmt *st;
	int rc, step;

	if ((rc = store_prepare(h, &st, sql)) < 0)
		return rc;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		outbox_server key, *kp = &key, **hit;
		key.id = sqlite3_column_int64(st, 0);
		hit = bsearch(&kp, by_id, count, sizeof *by_id, server_cmp_id);
		if (hit && strv_push(fallback ? &(*hit)->fallback_for : &(*hit)->used_by,
				     (const char *)sqlite3_column_text(st, 1)) < 0) {
			rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
			break;
		}
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = outbox_fail_db(h, "reading accounts");
	sqlite3_finalize(st);
	return rc;
}

int outbox_server_list(outbox *h, outbox_server ***out, size_t *count)
{
	sqlite3_stmt *st;
	outbox_server **v = NULL, **by_id = NULL, **grown;
	size_t n = 0;
	int rc, step;

	*out = NULL;
	*count = 0;
	if ((rc = server_prepare_select(h, &st, "WHERE removed_at IS NULL ORDER BY name")) < 0)
		return rc;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((grown = realloc(v, (n + 1) * sizeof *v)) == NULL) {
			rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
			break;
		}
		v = grown;
		if ((rc = server_from_row(h, st, &v[n])) < 0)
			break;
		n++;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = outbox_fail_db(h, "reading servers");
	sqlite3_finalize(st);
	if (rc == 0 && n > 0) {
		if ((by_id = malloc(n * sizeof *by_id)) == NULL) {
			rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
		} else {
			memcpy(by_id, v, n * sizeof *by_id);
			qsort(by_id, n, sizeof *by_id, server_cmp_id);
			rc = server_list_attach(h, by_id, n,
						"SELECT server_id, address FROM accounts WHERE removed_at IS NULL"
						" ORDER BY address", 0);
			if (rc == 0)
				rc = server_list_attach(h, by_id, n,
							"SELECT f.server_id, a.address FROM account_fallbacks f"
							" JOIN accounts a ON a.id = f.account_id"
							" WHERE a.removed_at IS NULL ORDER BY a.address", 1);
			free(by_id);
		}
	}
	if (rc < 0) {
		outbox_server_list_free(v, n);
		return rc;
	}
	*out = v;
	*count = n;
	return 0;
}

void outbox_server_list_free(outbox_server **list, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		outbox_server_free(list[i]);
	free(list);
}

int outbox_server_validate(outbox *h, const outbox_server *s)
{
	char *const *v = s->rec.val;
	const char *auth = v[OUTBOX_SERVER_AUTH];
	int tls = strcmp(v[OUTBOX_SERVER_SECURITY], "none") != 0;
	sqlite3_stmt *st;
	long long other = 0;
	int rc, step;

	if (*v[OUTBOX_SERVER_NAME] == '\0')
		return outbox_fail(h, OUTBOX_EINVALID, "name", "is required");
	if (*v[OUTBOX_SERVER_HOST] == '\0')
		return outbox_fail(h, OUTBOX_EINVALID, "host", "is required");
	if (*v[OUTBOX_SERVER_TLS_CERT] && !*v[OUTBOX_SERVER_TLS_KEY])
		return outbox_fail(h, OUTBOX_EINVALID, "tls-key",
				   "a client certificate needs its private key: add --tls-key FILE");
	if (*v[OUTBOX_SERVER_TLS_KEY] && !*v[OUTBOX_SERVER_TLS_CERT])
		return outbox_fail(h, OUTBOX_EINVALID, "tls-cert",
				   "a private key needs its client certificate: add --tls-cert FILE");
	if (strcmp(auth, "external") == 0 && !*v[OUTBOX_SERVER_TLS_CERT])
		return outbox_fail(h, OUTBOX_EINVALID, "auth",
				   "external authentication uses a client certificate: add --tls-cert and --tls-key");
	if (!tls) {
		static const outbox_server_field_id tls_only[] = {
			OUTBOX_SERVER_TLS_CA, OUTBOX_SERVER_TLS_PIN, OUTBOX_SERVER_TLS_CERT};
		size_t i;
		for (i = 0; i < sizeof tls_only / sizeof tls_only[0]; i++)
			if (*v[tls_only[i]])
				return outbox_fail(h, OUTBOX_EINVALID, server_fields[tls_only[i]].pub.key,
						   "has no effect with security none: use --security starttls or tls");
		if (server_auth_reveals_password(auth) && strcmp(v[OUTBOX_SERVER_ALLOW_INSECURE_AUTH], "true") != 0)
			return outbox_fail(h, OUTBOX_EINVALID, "auth",
					   "%s would send the password in clear without TLS: use --security starttls "
					   "or tls, or --allow-insecure-auth if this network is trusted", auth);
	}
	if (server_auth_needs_user(auth) && !*v[OUTBOX_SERVER_USER])
		return outbox_fail(h, OUTBOX_EINVALID, "user", "%s authentication needs a user name: add --user",
				   auth);
	if ((rc = server_oauth_validate(h, s)) < 0)
		return rc;

	if ((rc = store_int(h, &other, 0,
			    "SELECT id FROM servers WHERE name = ?1 AND removed_at IS NULL AND id != ?2",
			    "ti", v[OUTBOX_SERVER_NAME], s->id)) < 0)
		return rc;
	if (other)
		return outbox_fail(h, OUTBOX_EEXISTS, "name", "a server named \"%s\" already exists",
				   v[OUTBOX_SERVER_NAME]);
	if ((rc = store_prepare(h, &st,
				"SELECT name FROM servers WHERE lower(host) = lower(?1) AND port = ?2"
				" AND username = ?3 AND removed_at IS NULL AND id != ?4")) < 0)
		return rc;
	sqlite3_bind_text(st, 1, v[OUTBOX_SERVER_HOST], -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, strtoll(v[OUTBOX_SERVER_PORT], NULL, 10));
	sqlite3_bind_text(st, 3, v[OUTBOX_SERVER_USER], -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, s->id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		rc = outbox_fail(h, OUTBOX_EEXISTS, "host",
				 "server \"%s\" already sends through %s port %s%s%s; edit it instead "
				 "(outbox server edit %s)",
				 (const char *)sqlite3_column_text(st, 0), v[OUTBOX_SERVER_HOST],
				 v[OUTBOX_SERVER_PORT], *v[OUTBOX_SERVER_USER] ? " as " : "",
				 v[OUTBOX_SERVER_USER], (const char *)sqlite3_column_text(st, 0));
	else if (step != SQLITE_DONE)
		rc = outbox_fail_db(h, "checking for duplicate servers");
	sqlite3_finalize(st);
	return rc;
}

static int server_secret_prepare(outbox *h, const outbox_server *s, const struct server_secret *sec,
				 struct server_secret_plan *plan)
{
	struct buf label = BUF_INIT;
	int rc;

	memset(plan, 0, sizeof *plan);
	plan->row_id = sec->id;
	plan->row_source = sec->source;
	if (sec->change == PASSWORD_SET) {
		if ((rc = secret_new_id(h, plan->new_id)) < 0)
			return rc;
		if (buf_printf(&label, "outbox: %s OAuth client secret (%s)", s->rec.val[OUTBOX_SERVER_NAME],
			       s->rec.val[OUTBOX_SERVER_OAUTH_CLIENT_ID]) < 0) {
			buf_free(&label);
			return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
		}
		rc = secret_store(h, plan->new_id, label.data, sec->value, &plan->stored_at);
		buf_free(&label);
		if (rc < 0)
			return rc;
		plan->stored = 1;
		plan->row_id = plan->new_id;
		plan->row_source = plan->stored_at;
	} else if (sec->change == PASSWORD_FORGET) {
		plan->row_id = "";
		plan->row_source = OUTBOX_PASSWORD_NONE;
	}
	plan->drop_old = (sec->source == OUTBOX_PASSWORD_KEYRING || sec->source == OUTBOX_PASSWORD_FILE) &&
			 sec->change != PASSWORD_KEEP;
	return 0;
}

/* After the commit (`committed`) or the rollback: the secret the row no longer names goes. */
static void server_secret_finish(outbox *h, struct server_secret *sec, struct server_secret_plan *plan,
				 int committed)
{
	struct outbox_error_copy saved;

	if (!committed) {
		if (plan->stored) {
			outbox_error_save(h, &saved);
			secret_delete(h, plan->new_id, plan->stored_at);
			outbox_error_restore(h, &saved);
		}
		return;
	}
	if (plan->drop_old)
		secret_delete(h, sec->id, sec->source); /* best effort: the row no longer points at it */
	snprintf(sec->id, sizeof sec->id, "%s", plan->row_id);
	sec->source = plan->row_source;
	sec->change = PASSWORD_KEEP;
	secret_wipe(sec->value);
	sec->value = NULL;
}

/* Write the row; `source` and `secret_id` are what the row should now say, `oauth` the same for
 * the client secret. */
static int server_write_row(outbox *h, outbox_server *s, const char *secret_id,
			    outbox_password_source source, const struct server_secret_plan *oauth,
			    long long now)
{
	struct buf sql = BUF_INIT;
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc, p;

	if (s->id) {
		rc = buf_puts(&sql, "UPDATE servers SET secret_id = ?1, password_source = ?2, updated_at = ?3,"
				    " oauth_secret_id = ?4, oauth_secret_source = ?5, revision = revision + 1");
		for (i = 0; rc == 0 && i < OUTBOX_SERVER_FIELD_COUNT; i++)
			rc = buf_printf(&sql, ", %s = ?%zu", server_fields[i].column, i + 6);
		if (rc == 0)
			rc = buf_printf(&sql, " WHERE id = %lld", s->id);
	} else {
		rc = buf_puts(&sql, "INSERT INTO servers (secret_id, password_source, updated_at, created_at,"
				    " oauth_secret_id, oauth_secret_source");
		for (i = 0; rc == 0 && i < OUTBOX_SERVER_FIELD_COUNT; i++)
			rc = buf_printf(&sql, ", %s", server_fields[i].column);
		if (rc == 0)
			rc = buf_puts(&sql, ") VALUES (?1, ?2, ?3, ?3, ?4, ?5");
		for (i = 0; rc == 0 && i < OUTBOX_SERVER_FIELD_COUNT; i++)
			rc = buf_printf(&sql, ", ?%zu", i + 6);
		if (rc == 0)
			rc = buf_puts(&sql, ")");
	}
	if (rc < 0) {
		buf_free(&sql);
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	rc = store_prepare(h, &st, sql.data);
	buf_free(&sql);
	if (rc < 0)
		return rc;
	sqlite3_bind_text(st, 1, secret_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, outbox_password_source_name(source), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_text(st, 4, oauth->row_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, outbox_password_source_name(oauth->row_source), -1, SQLITE_STATIC);
	p = record_bind(&s->rec, st, 6);
	if (p < 0)
		rc = outbox_fail_db(h, "saving the server");
	else if (sqlite3_step(st) != SQLITE_DONE)
		rc = outbox_fail_db(h, "saving the server");
	sqlite3_finalize(st);
	if (rc == 0 && s->id == 0)
		s->id = sqlite3_last_insert_rowid(h->db);
	return rc;
}

/* One default at most; the first server becomes the default by itself. */
static int server_fix_default(outbox *h, outbox_server *s)
{
	long long defaults = 0;
	int rc;

	if (strcmp(s->rec.val[OUTBOX_SERVER_DEFAULT], "true") == 0)
		return store_exec(h, "UPDATE servers SET is_default = 0 WHERE id != ?1 AND is_default = 1", "i",
				  s->id);
	if ((rc = store_int(h, &defaults, 0,
			    "SELECT count(*) FROM servers WHERE is_default = 1 AND removed_at IS NULL", "")) < 0)
		return rc;
	if (defaults == 0 && s->revision == 0) {
		if (record_put(&s->rec, OUTBOX_SERVER_DEFAULT, "true") < 0)
			return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
		return store_exec(h, "UPDATE servers SET is_default = 1 WHERE id = ?1", "i", s->id);
	}
	return 0;
}

int server_write_checked(outbox *h, outbox_server *s, struct server_write *w)
{
	long long revision = 0;
	struct buf label = BUF_INIT;
	int rc;

	memset(w, 0, sizeof *w);
	w->source = s->password_source;

	if ((rc = outbox_server_validate(h, s)) < 0)
		return rc;
	if (s->id) {
		if ((rc = store_int(h, &revision, -1,
				    "SELECT revision FROM servers WHERE id = ?1 AND removed_at IS NULL", "i",
				    s->id)) < 0)
			return rc;
		if (revision != s->revision)
			return outbox_fail(h, OUTBOX_ECONFLICT, NULL,
					   "server \"%s\" was changed or removed by another outbox since it was "
					   "loaded; load it again", s->rec.val[OUTBOX_SERVER_NAME]);
	} else if (!s->secret_id[0] && (rc = secret_new_id(h, s->secret_id)) < 0) {
		return rc;
	}
	snprintf(w->row_secret_id, sizeof w->row_secret_id, "%s", s->secret_id);

	if (*s->rec.val[OUTBOX_SERVER_PASSWORD_COMMAND]) {
		w->source = OUTBOX_PASSWORD_COMMAND;
	} else if (s->password_change == PASSWORD_SET) {
		/* A new secret gets a new id, so the old one is still there if the commit fails. */
		if ((rc = secret_new_id(h, w->new_id)) < 0)
			return rc;
		if (buf_printf(&label, "outbox: %s (%s@%s)", s->rec.val[OUTBOX_SERVER_NAME],
			       s->rec.val[OUTBOX_SERVER_USER], s->rec.val[OUTBOX_SERVER_HOST]) < 0) {
			buf_free(&label);
			return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
		}
		rc = secret_store(h, w->new_id, label.data, s->new_password, &w->stored_at);
		buf_free(&label);
		if (rc < 0)
			return rc;
		w->stored = 1;
		w->source = w->stored_at;
		snprintf(w->row_secret_id, sizeof w->row_secret_id, "%s", w->new_id);
	} else if (s->password_change == PASSWORD_FORGET || w->source == OUTBOX_PASSWORD_COMMAND) {
		w->source = OUTBOX_PASSWORD_NONE;
	}
	w->drop_old = s->id && (s->password_source == OUTBOX_PASSWORD_KEYRING ||
				s->password_source == OUTBOX_PASSWORD_FILE) &&
		      (w->stored || w->source == OUTBOX_PASSWORD_NONE || w->source == OUTBOX_PASSWORD_COMMAND);

	if ((rc = server_secret_prepare(h, s, &s->client_secret, &w->oauth)) < 0 ||
	    (rc = server_write_row(h, s, w->row_secret_id, w->source, &w->oauth, store_now())) < 0 ||
	    (rc = server_fix_default(h, s)) < 0) {
		server_write_finish(h, s, w, 0);
		return rc;
	}
	return 0;
}

void server_write_finish(outbox *h, outbox_server *s, struct server_write *w, int committed)
{
	if (!committed) {
		server_secret_finish(h, &s->client_secret, &w->oauth, 0);
		if (w->stored) {
			struct outbox_error_copy saved;
			outbox_error_save(h, &saved);
			secret_delete(h, w->new_id, w->stored_at);
			outbox_error_restore(h, &saved);
			w->stored = 0;
		}
		if (s->revision == 0 && s->id) /* the insert was rolled back */
			s->id = 0;
		return;
	}
	if (w->drop_old)
		secret_delete(h, s->secret_id, s->password_source); /* best effort: the row no longer points at it */
	server_secret_finish(h, &s->client_secret, &w->oauth, 1);
	outbox_clear_error(h);
	s->typed = 0; /* saved: a preset chosen next may fill every field again */
	snprintf(s->secret_id, sizeof s->secret_id, "%s", w->row_secret_id);
	s->password_source = w->source;
	s->password_change = PASSWORD_KEEP;
	secret_wipe(s->new_password);
	s->new_password = NULL;
	s->revision = s->revision ? s->revision + 1 : 1;
}

/* The save itself, in the write transaction the caller began: commits, or rolls back. `also`
 * (may be NULL) writes what must commit with the server, in the same transaction. */
static int server_save_in_transaction(outbox *h, outbox_server *s, int (*also)(outbox *h, void *ctx),
				      void *ctx)
{
	struct server_write w;
	int rc;

	if ((rc = server_write_checked(h, s, &w)) < 0) {
		store_rollback(h);
		return rc;
	}
	if ((also && (rc = also(h, ctx)) < 0) || (rc = store_commit(h)) < 0) {
		store_rollback(h);
		server_write_finish(h, s, &w, 0);
		return rc;
	}
	server_write_finish(h, s, &w, 1);
	return 0;
}

int outbox_server_save(outbox *h, outbox_server *s)
{
	int rc;

	if ((rc = store_begin(h)) < 0)
		return rc;
	return server_save_in_transaction(h, s, NULL, NULL);
}

int server_save_with(outbox *h, outbox_server *s, int (*also)(outbox *h, void *ctx), void *ctx)
{
	int rc;

	if ((rc = store_begin(h)) < 0)
		return rc;
	return server_save_in_transaction(h, s, also, ctx);
}

/* Loaded under the write lock, the draft cannot go stale before it is saved: concurrent edits
 * queue on the lock (the busy timeout) instead of failing with a conflict. */
int outbox_server_edit(outbox *h, const char *name, outbox_server_edit_fn apply, void *ctx,
		       outbox_server **out)
{
	outbox_server *s = NULL;
	int rc;

	*out = NULL;
	if ((rc = store_begin(h)) < 0)
		return rc;
	if ((rc = outbox_server_load(h, name, &s)) < 0 || (rc = apply(h, s, ctx)) < 0) {
		store_rollback(h);
		outbox_server_free(s);
		return rc;
	}
	if ((rc = server_save_in_transaction(h, s, NULL, NULL)) < 0) {
		outbox_server_free(s);
		return rc;
	}
	*out = s;
	return 0;
}
