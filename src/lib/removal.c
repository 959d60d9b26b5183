/* removal.c: removing servers and accounts, softly and journalled so `outbox undo` can restore
 * them with everything the removal changed, or for good with --purge; `outbox undo` itself, which
 * takes back the latest journal entry of any kind (a setup's in setup_undo.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "outbox/account.h"
#include "outbox/server.h"
#include "outbox/undo.h"
#include "record.h"
#include "oauth_token.h"
#include "removal.h"
#include "removal_plan.h"
#include "secret.h"
#include "server_internal.h"
#include "setup_undo.h"
#include "store.h"

/* Rewrite an account's fallbacks from "3,7,9", leaving out ids that are `skip`, the account's own
 * server, or not live. A removal writes what its plan kept (so these leave nothing more out);
 * an undo writes a journalled list, where servers may have gone since. */
static int removal_write_fallbacks(outbox *h, long long account_id, const char *list, long long skip)
{
	const char *p = list;
	long long pos = 0;
	int rc;

	if ((rc = store_exec(h, "DELETE FROM account_fallbacks WHERE account_id = ?1", "i", account_id)) < 0)
		return rc;
	while (p && *p) {
		char *end;
		long long sid = strtoll(p, &end, 10);
		p = *end == ',' ? end + 1 : NULL;
		if (sid == skip)
			continue;
		if ((rc = store_exec(h,
				     "INSERT INTO account_fallbacks (account_id, position, server_id)"
				     " SELECT ?1, ?2, s.id FROM servers s, accounts a WHERE s.id = ?3"
				     " AND s.removed_at IS NULL AND a.id = ?1 AND a.server_id != s.id",
				     "iii", account_id, pos, sid)) < 0)
			return rc;
		pos += sqlite3_changes(h->db);
	}
	return 0;
}

/* Write the plan: journal each touched account's server and fallback list under `removal_id`
 * (0: none), move the accounts to the target, and write the fallback lists the plan keeps. */
static int removal_detach(outbox *h, const outbox_server_removal *p, long long removal_id)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && removal_id && i < p->nacc; i++)
		rc = store_exec(h,
				"INSERT INTO removal_effects (removal_id, account_id, kind, old_fallbacks)"
				" VALUES (?1, ?2, 'fallbacks', ?3)", "iit", removal_id, p->acc[i].id, p->acc[i].before_ids);
	if (rc == 0 && removal_id)
		rc = store_exec(h,
				"INSERT INTO removal_effects (removal_id, account_id, kind, old_server_id)"
				" SELECT ?1, id, 'server', ?2 FROM accounts WHERE server_id = ?2"
				" AND removed_at IS NULL", "ii", removal_id, p->server_id);
	if (rc == 0 && p->target_id)
		rc = store_exec(h, "UPDATE accounts SET server_id = ?1, revision = revision + 1"
				   " WHERE server_id = ?2 AND removed_at IS NULL", "ii", p->target_id, p->server_id);
	for (size_t i = 0; rc == 0 && i < p->nacc; i++)
		rc = removal_write_fallbacks(h, p->acc[i].id, p->acc[i].after_ids, p->server_id);
	return rc;
}

int removal_purge_server_row(outbox *h, long long id)
{
	int rc;

	/* Removed accounts still pointing here can never come back: they go too. */
	if ((rc = setup_undo_forget_server(h, id)) < 0 ||
	    (rc = store_exec(h, "DELETE FROM removals WHERE kind = 'account' AND object_id IN"
				" (SELECT id FROM accounts WHERE server_id = ?1 AND removed_at IS NOT NULL)",
			     "i", id)) < 0 ||
	    (rc = store_exec(h, "DELETE FROM accounts WHERE server_id = ?1 AND removed_at IS NOT NULL",
			     "i", id)) < 0)
		return rc;
	return store_exec(h, "DELETE FROM servers WHERE id = ?1", "i", id);
}

void removal_forget_secrets(outbox *h, const outbox_server *s)
{
	if (s->password_source == OUTBOX_PASSWORD_KEYRING || s->password_source == OUTBOX_PASSWORD_FILE)
		secret_delete(h, s->secret_id, s->password_source);
	if (s->client_secret.source == OUTBOX_PASSWORD_KEYRING || s->client_secret.source == OUTBOX_PASSWORD_FILE)
		secret_delete(h, s->client_secret.id, s->client_secret.source);
	if (strcmp(s->rec.val[OUTBOX_SERVER_OAUTH], "none") != 0)
		oauth_token_forget(h, s);
}

int outbox_server_remove(outbox *h, const char *name, const char *reassign, unsigned flags)
{
	int purge = (flags & OUTBOX_REMOVE_PURGE) != 0, rc;
	long long removal_id = 0;
	outbox_server *s = NULL;
	outbox_server_removal *plan = NULL;

	if ((rc = store_begin(h)) < 0)
		return rc;
	/* The plan decides what moves, what the default becomes and what each fallback list keeps;
	 * outbox_server_remove_plan() shows the same decision before the user confirms. */
	if ((rc = outbox_server_load(h, name, &s)) < 0 || (rc = removal_plan_build(h, s, reassign, &plan)) < 0 ||
	    (rc = removal_plan_check(h, plan)) < 0)
		goto done;
	if (!purge) {
		if ((rc = store_exec(h,
				     "INSERT INTO removals (kind, object_id, label, was_default, removed_at)"
				     " VALUES ('server', ?1, ?2, ?3, ?4)", "itii", plan->server_id, name,
				     plan->was_default, store_now())) < 0)
			goto done;
		removal_id = sqlite3_last_insert_rowid(h->db);
	}
	if ((rc = removal_detach(h, plan, removal_id)) < 0)
		goto done;
	if (plan->was_default && plan->target_id &&
	    (rc = store_exec(h, "UPDATE servers SET is_default = (id = ?1)", "i", plan->target_id)) < 0)
		goto done;
	if (purge) {
		if ((rc = removal_purge_server_row(h, plan->server_id)) < 0)
			goto done;
	} else if ((rc = store_exec(h, "UPDATE servers SET removed_at = ?1, is_default = 0,"
				       " revision = revision + 1 WHERE id = ?2", "ii", store_now(),
				       plan->server_id)) < 0) {
		goto done;
	}
	rc = store_commit(h);
	/* Like its password, a removed server keeps its sign-in for undo until purged. */
	if (rc == 0 && purge)
		removal_forget_secrets(h, s);
done:
	if (rc < 0)
		store_rollback(h);
	else
		outbox_clear_error(h);
	outbox_server_removal_free(plan);
	outbox_server_free(s);
	return rc;
}

int outbox_account_remove(outbox *h, const char *address, unsigned flags)
{
	long long id = 0, was_default = 0;
	char canonical[400];
	sqlite3_stmt *st;
	int rc, step;

	if ((rc = store_begin(h)) < 0)
		return rc;
	if ((rc = store_prepare(h, &st, "SELECT id, is_default, address FROM accounts WHERE address = ?1"
					" COLLATE NOCASE AND removed_at IS NULL")) < 0)
		goto done;
	sqlite3_bind_text(st, 1, address, -1, SQLITE_TRANSIENT);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		was_default = sqlite3_column_int64(st, 1);
		snprintf(canonical, sizeof canonical, "%s", (const char *)sqlite3_column_text(st, 2));
	} else if (step == SQLITE_DONE) {
		rc = outbox_fail(h, OUTBOX_ENOTFOUND, "account",
				 "no account with address \"%s\" (see: outbox account list)", address);
	} else {
		rc = outbox_fail_db(h, "reading accounts");
	}
	sqlite3_finalize(st);
	if (rc < 0)
		goto done;
	if (flags & OUTBOX_REMOVE_PURGE) {
		if ((rc = setup_undo_forget_account(h, id)) == 0)
			rc = store_exec(h, "DELETE FROM accounts WHERE id = ?1", "i", id);
	} else if ((rc = store_exec(h,
				  "INSERT INTO removals (kind, object_id, label, was_default, removed_at)"
				  " VALUES ('account', ?1, ?2, ?3, ?4)", "itii", id, canonical, was_default,
				  store_now())) == 0)
		rc = store_exec(h, "UPDATE accounts SET removed_at = ?1, is_default = 0, revision = revision + 1"
				   " WHERE id = ?2", "ii", store_now(), id);
	if (rc == 0)
		rc = store_commit(h);
done:
	if (rc < 0)
		store_rollback(h);
	return rc;
}

/* Put back what a server's removal changed: accounts moved away, fallback lists shortened. */
static int undo_server_effects(outbox *h, long long removal_id, long long server_id, int *moved)
{
	sqlite3_stmt *st;
	int rc, step;

	*moved = 0;
	if ((rc = store_prepare(h, &st,
				"SELECT e.account_id, e.kind, e.old_fallbacks FROM removal_effects e"
				/* Servers first, so fallback lists are rewritten against each account's own server. */
				" JOIN accounts a ON a.id = e.account_id WHERE e.removal_id = ?1"
				" AND a.removed_at IS NULL ORDER BY e.kind DESC, e.rowid")) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, removal_id);
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		long long account = sqlite3_column_int64(st, 0);
		const char *kind = (const char *)sqlite3_column_text(st, 1);
		if (strcmp(kind, "server") == 0) {
			rc = store_exec(h, "UPDATE accounts SET server_id = ?1, revision = revision + 1"
					   " WHERE id = ?2", "ii", server_id, account);
			(*moved)++;
		} else {
			char *list = strdup((const char *)sqlite3_column_text(st, 2));
			rc = list ? removal_write_fallbacks(h, account, list, 0)
				  : outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
			free(list);
		}
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = outbox_fail_db(h, "reading the removal journal");
	sqlite3_finalize(st);
	return rc;
}

/* Put a removed queued message back in the state it had; its file was kept by the soft removal. */
static int undo_message(outbox *h, long long id, const char *prior_state, char *what, size_t what_size)
{
	int rc;

	if ((rc = store_exec(h,
			     "UPDATE queue SET state = ?1, removed_at = NULL WHERE id = ?2 AND state = 'removed'",
			     "ti", strcmp(prior_state, "failed") == 0 ? "failed" : "queued", id)) < 0)
		return rc;
	if (sqlite3_changes(h->db) == 0)
		return outbox_fail(h, OUTBOX_ENOTFOUND, NULL, "queued message %lld is gone: it was purged", id);
	snprintf(what, what_size, "Restored queued message %lld (%s again)", id,
		 strcmp(prior_state, "failed") == 0 ? "failed" : "queued");
	return 0;
}

int outbox_undo(outbox *h, char *what, size_t what_size)
{
	sqlite3_stmt *st;
	long long removal_id = 0, object_id = 0, server_id = 0, was_default = 0, clash = 0;
	char kind[16], label[400], prior[16] = "";
	outbox_server *forget = NULL;
	int rc, step, moved = 0;

	if (what_size)
		what[0] = '\0';
	if ((rc = store_begin(h)) < 0)
		return rc;
	if ((rc = store_prepare(h, &st, "SELECT id, kind, object_id, label, was_default, prior_state, server_id"
					" FROM removals"
					" WHERE undone_at IS NULL ORDER BY id DESC LIMIT 1")) < 0)
		goto done;
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		removal_id = sqlite3_column_int64(st, 0);
		snprintf(kind, sizeof kind, "%s", (const char *)sqlite3_column_text(st, 1));
		object_id = sqlite3_column_int64(st, 2);
		snprintf(label, sizeof label, "%s", (const char *)sqlite3_column_text(st, 3));
		was_default = sqlite3_column_int64(st, 4);
		snprintf(prior, sizeof prior, "%s", (const char *)sqlite3_column_text(st, 5));
		server_id = sqlite3_column_int64(st, 6);
	} else {
		rc = step == SQLITE_DONE ? outbox_fail(h, OUTBOX_ENOTHING, NULL, "nothing to undo")
					 : outbox_fail_db(h, "reading the removal journal");
	}
	sqlite3_finalize(st);
	if (rc < 0)
		goto done;

	if (strcmp(kind, "message") == 0) {
		if ((rc = undo_message(h, object_id, prior, what, what_size)) < 0)
			goto done;
	} else if (strcmp(kind, "setup") == 0) {
		if ((rc = setup_undo_take_back(h, object_id, server_id, label, &forget, what, what_size)) < 0)
			goto done;
	} else if (strcmp(kind, "server") == 0) {
		if ((rc = store_int(h, &clash, 0, "SELECT count(*) FROM servers WHERE name = ?1 AND removed_at IS NULL",
				    "t", label)) < 0)
			goto done;
		if (clash) {
			rc = outbox_fail(h, OUTBOX_EEXISTS, NULL,
					 "cannot undo the removal of server \"%s\": a server of that name was added "
					 "since; rename it first (outbox server edit %s --rename NEW)", label, label);
			goto done;
		}
		if ((rc = store_exec(h, "UPDATE servers SET removed_at = NULL, revision = revision + 1 WHERE id = ?1",
				     "i", object_id)) < 0 ||
		    (rc = undo_server_effects(h, removal_id, object_id, &moved)) < 0)
			goto done;
		if (was_default && (rc = store_exec(h, "UPDATE servers SET is_default = (id = ?1)", "i", object_id)) < 0)
			goto done;
		if (moved)
			snprintf(what, what_size, "Restored server \"%s\", and moved %d account%s back to it", label, moved,
				 moved == 1 ? "" : "s");
		else
			snprintf(what, what_size, "Restored server \"%s\"", label);
	} else {
		if ((rc = store_int(h, &clash, 0, "SELECT count(*) FROM accounts WHERE address = ?1 COLLATE NOCASE"
						  " AND removed_at IS NULL", "t", label)) < 0)
			goto done;
		if (clash) {
			rc = outbox_fail(h, OUTBOX_EEXISTS, NULL,
					 "cannot undo the removal of account %s: an account with that address was "
					 "added since; remove it first", label);
			goto done;
		}
		if ((rc = store_exec(h, "UPDATE accounts SET removed_at = NULL, revision = revision + 1 WHERE id = ?1",
				     "i", object_id)) < 0)
			goto done;
		if (was_default && (rc = store_exec(h, "UPDATE accounts SET is_default = (id = ?1)", "i", object_id)) < 0)
			goto done;
		snprintf(what, what_size, "Restored account %s", label);
	}
	if ((rc = store_exec(h, "UPDATE removals SET undone_at = ?1 WHERE id = ?2", "ii", store_now(),
			     removal_id)) == 0)
		rc = store_commit(h);
	/* Secrets live outside the database: they go once the rows are gone for good. */
	if (rc == 0 && forget)
		removal_forget_secrets(h, forget);
done:
	if (rc < 0)
		store_rollback(h);
	outbox_server_free(forget);
	return rc;
}
