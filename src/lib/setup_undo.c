/* setup_undo.c: `outbox setup` in the undo journal. The entry is written in the save's own
 * transaction; taking it back removes the account and server the setup created, for good. */
#include <stdio.h>
#include <string.h>

#include "removal.h"
#include "server_internal.h"
#include "setup_undo.h"
#include "store.h"

int setup_undo_journal(outbox *h, long long account_id, long long server_id, const char *address)
{
	return store_exec(h,
			  "INSERT INTO removals (kind, object_id, server_id, label, removed_at)"
			  " VALUES ('setup', ?1, ?2, ?3, ?4)", "iiti", account_id, server_id, address, store_now());
}

int setup_undo_forget_account(outbox *h, long long account_id)
{
	return store_exec(h, "UPDATE removals SET object_id = 0 WHERE kind = 'setup' AND object_id = ?1", "i",
			  account_id);
}

int setup_undo_forget_server(outbox *h, long long server_id)
{
	int rc;

	if ((rc = store_exec(h,
			     "UPDATE removals SET object_id = 0 WHERE kind = 'setup' AND object_id IN"
			     " (SELECT id FROM accounts WHERE server_id = ?1 AND removed_at IS NOT NULL)",
			     "i", server_id)) < 0)
		return rc;
	return store_exec(h, "UPDATE removals SET server_id = NULL WHERE kind = 'setup' AND server_id = ?1", "i",
			  server_id);
}

/* The first row's text column of `sql`, with ?1 = `id` and ?2 (when the query has it) = `id2`,
 * into out; "" when there is no row. */
static int setup_undo_text(outbox *h, const char *sql, long long id, long long id2, char *out, size_t size)
{
	sqlite3_stmt *st;
	int rc, step;

	out[0] = '\0';
	if ((rc = store_prepare(h, &st, sql)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, id2);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
	else if (step != SQLITE_DONE)
		rc = outbox_fail_db(h, "reading the setup's account and server");
	sqlite3_finalize(st);
	return rc;
}

/* Mail still to be sent as the account or through the server would lose its way. */
static int setup_undo_check_queue(outbox *h, const char *label, const char *address, const char *server)
{
	long long n = 0;
	int rc;

	if (address[0] &&
	    (rc = store_int(h, &n, 0, "SELECT count(*) FROM queue WHERE account = ?1 COLLATE NOCASE"
				      " AND state IN ('queued', 'failed')", "t", address)) < 0)
		return rc;
	if (n)
		return outbox_fail(h, OUTBOX_EINUSE, NULL,
				   "cannot take back the setup of %s: account %s has %lld unsent message%s in the "
				   "outbox; send or remove %s first (see: outbox queue list)", label, address, n,
				   n == 1 ? "" : "s", n == 1 ? "it" : "them");
	if (server[0] &&
	    (rc = store_int(h, &n, 0, "SELECT count(*) FROM queue WHERE server = ?1 AND state IN ('queued', 'failed')",
			    "t", server)) < 0)
		return rc;
	if (n)
		return outbox_fail(h, OUTBOX_EINUSE, NULL,
				   "cannot take back the setup of %s: %lld unsent message%s in the outbox %s through "
				   "server \"%s\"; send or remove %s first (see: outbox queue list)", label, n,
				   n == 1 ? "" : "s", n == 1 ? "goes" : "go", server, n == 1 ? "it" : "them");
	return 0;
}

/* Another account relying on the server, or the default mark other servers would be left
 * without: the setup's server has become more than the setup's. */
static int setup_undo_check_server(outbox *h, const char *label, long long account_id, long long server_id,
				   const char *server)
{
	char other[400];
	long long is_default = 0, others = 0;
	int rc;

	if ((rc = setup_undo_text(h, "SELECT address FROM accounts WHERE server_id = ?1 AND id != ?2"
				     " AND removed_at IS NULL ORDER BY address LIMIT 1",
				  server_id, account_id, other, sizeof other)) < 0)
		return rc;
	if (other[0])
		return outbox_fail(h, OUTBOX_EINUSE, NULL,
				   "cannot take back the setup of %s: account %s now sends through server \"%s\"; "
				   "move it to another server first (outbox account edit %s --server OTHER)",
				   label, other, server, other);
	if ((rc = setup_undo_text(h, "SELECT a.address FROM accounts a JOIN account_fallbacks f ON f.account_id = a.id"
				     " WHERE f.server_id = ?1 AND a.id != ?2 AND a.removed_at IS NULL"
				     " ORDER BY a.address LIMIT 1", server_id, account_id, other, sizeof other)) < 0)
		return rc;
	if (other[0])
		return outbox_fail(h, OUTBOX_EINUSE, NULL,
				   "cannot take back the setup of %s: server \"%s\" is now a fallback of account %s; "
				   "take it off that list first (outbox account edit %s --fallback OTHERS)",
				   label, server, other, other);
	if ((rc = store_int(h, &is_default, 0, "SELECT is_default FROM servers WHERE id = ?1", "i", server_id)) < 0 ||
	    (rc = store_int(h, &others, 0, "SELECT count(*) FROM servers WHERE removed_at IS NULL AND id != ?1",
			    "i", server_id)) < 0)
		return rc;
	if (is_default && others)
		return outbox_fail(h, OUTBOX_EINUSE, NULL,
				   "cannot take back the setup of %s: server \"%s\" is now the default server; make "
				   "another one the default first (outbox server edit OTHER --default)", label, server);
	return 0;
}

/* What was taken back, and what was gone already (removed for good since the setup). */
static void setup_undo_describe(const char *label, const char *address, const char *server, char *what,
				size_t what_size)
{
	if (address[0] && server[0])
		snprintf(what, what_size, "Took back the setup of %s: removed account %s and server \"%s\"", label,
			 address, server);
	else if (address[0])
		snprintf(what, what_size, "Took back the setup of %s: removed account %s (its server was removed "
					  "already)", label, address);
	else if (server[0])
		snprintf(what, what_size, "Took back the setup of %s: removed server \"%s\" (its account was removed "
					  "already)", label, server);
	else
		snprintf(what, what_size, "Took back the setup of %s: nothing was left of it (its account and server "
					  "were removed already)", label);
}

int setup_undo_take_back(outbox *h, long long account_id, long long server_id, const char *label,
			 outbox_server **forget, char *what, size_t what_size)
{
	char address[400], server[300];
	int rc;

	*forget = NULL;
	/* Read by id: an edit since (a new address, a rename) does not hide them. */
	if ((rc = setup_undo_text(h, "SELECT address FROM accounts WHERE id = ?1", account_id, 0, address,
				  sizeof address)) < 0 ||
	    (rc = setup_undo_text(h, "SELECT name FROM servers WHERE id = ?1 AND removed_at IS NULL", server_id, 0,
				  server, sizeof server)) < 0 ||
	    (rc = setup_undo_check_queue(h, label, address, server)) < 0 ||
	    (server[0] && (rc = setup_undo_check_server(h, label, account_id, server_id, server)) < 0))
		return rc;
	if (server[0] && (rc = outbox_server_load(h, server, forget)) < 0)
		return rc;
	if ((rc = store_exec(h, "DELETE FROM accounts WHERE id = ?1", "i", account_id)) < 0 ||
	    (server[0] && (rc = removal_purge_server_row(h, server_id)) < 0)) {
		outbox_server_free(*forget);
		*forget = NULL;
		return rc;
	}
	setup_undo_describe(label, address, server, what, what_size);
	return 0;
}
