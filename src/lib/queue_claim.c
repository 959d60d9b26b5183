/* queue_claim.c: how a runner takes due messages for itself and gives them back, so two runners
 * never carry the same message, and a dead runner's claims are taken over as soon as it is dead. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "history_internal.h"
#include "queue.h"
#include "queue_owner.h"
#include "record.h"
#include "store.h"

/* Due rows, oldest due first. The server filter compares with the row's own server or, for a row
 * that follows its account (server ''), the account's server as it is now: a queued message goes
 * wherever its account points at delivery time. A row whose account is gone has no server and
 * matches no filter; an unfiltered run claims it and reports the missing account. The route via
 * fallback servers is the runner's business: the filter names the server it starts with. */
#define CLAIM_SERVER_IS_2 \
	"(?2 IS NULL OR ?2 = CASE WHEN q.server <> '' THEN q.server ELSE" \
	"  (SELECT s.name FROM accounts a JOIN servers s ON s.id = a.server_id" \
	"   WHERE a.address = q.account COLLATE NOCASE AND a.removed_at IS NULL) END)"

static const char claim_where[] =
	"q.state = 'queued' AND q.next_attempt_at <= ?1"
	" AND (q.lease_until IS NULL OR q.lease_until < ?1)"
	" AND " CLAIM_SERVER_IS_2 " AND (?4 = 0 OR q.id = ?4)"
	" ORDER BY q.next_attempt_at, q.id LIMIT ?3";

/* Select the due rows; the updates come after the SELECT is finalized, never while it steps. */
static int claim_select(outbox *h, long long now, const char *server_filter, long long id_filter, size_t max,
			struct queue_buf *items)
{
	sqlite3_stmt *st;
	int rc, step;

	if ((rc = queue_prepare_select(h, &st, claim_where)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, now);
	if (server_filter && *server_filter)
		sqlite3_bind_text(st, 2, server_filter, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_int64(st, 3, max > (size_t)1 << 30 ? (long long)1 << 30 : (long long)max);
	sqlite3_bind_int64(st, 4, id_filter > 0 ? id_filter : 0);
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = queue_buf_push_row(h, items, st)) < 0)
			break;
	if (rc == 0 && step != SQLITE_DONE)
		rc = outbox_fail_db(h, "finding due messages");
	sqlite3_finalize(st);
	return rc;
}

/* The previous runner began sending this message and died before it recorded the outcome: the
 * server may have it. Say so, so the resend (with the same Message-ID) is explained. */
static const char claim_interrupted[] =
	"the runner stopped while sending this message and its outcome is unknown: it may have been "
	"delivered, and is sent again with the same Message-ID";

static int claim_interrupted_send(outbox *h, struct queue_item *it, long long now)
{
	struct buf to = BUF_INIT;
	outbox_history_entry e;
	size_t i;
	int rc;

	if ((rc = store_exec(h,
			     "UPDATE queue SET uncertain = 1, sending_since = NULL, last_reply = ?1 WHERE id = ?2",
			     "ti", claim_interrupted, it->id)) < 0 ||
	    (rc = store_exec(h,
			     "INSERT INTO queue_attempts (queue_id, at, server, outcome, reply)"
			     " VALUES (?1, ?2, '', 'uncertain', ?3)", "iit", it->id, now, claim_interrupted)) < 0)
		return rc;
	it->uncertain = 1;
	for (i = 0; i < it->nrcpts; i++)
		if (it->rcpts[i].state == QUEUE_RCPT_PENDING)
			buf_printf(&to, "%s%s", to.len ? "," : "", it->rcpts[i].address);
	memset(&e, 0, sizeof e);
	e.account = it->account;
	e.server = it->server;
	e.sender = it->sender;
	e.recipients = to.data ? to.data : "";
	e.outcome = "uncertain";
	e.reply = claim_interrupted;
	e.size = it->size;
	e.message_id = it->message_id;
	rc = history_record(h, &e);
	buf_free(&to);
	return rc;
}

static int claim_mark(outbox *h, struct queue_item *it, const char *owner, long long until)
{
	int rc;

	if ((rc = store_exec(h, "UPDATE queue SET lease_owner = ?1, lease_until = ?2 WHERE id = ?3", "tii",
			     owner, until, it->id)) < 0)
		return rc;
	free(it->lease_owner);
	if ((it->lease_owner = strdup(owner)) == NULL)
		return queue_oom(h);
	it->lease_until = until;
	return 0;
}

/* The owners, other than `self`, of queued messages due by `due_by` whose lease has not run out
 * at `now`, each once: a few runners at most, however many messages they hold. */
static int claim_holders(outbox *h, const char *self, long long now, long long due_by, char ***owners)
{
	return store_strings(h, owners, "finding the runners that hold claims",
			     "SELECT DISTINCT lease_owner FROM queue WHERE state = 'queued'"
			     " AND next_attempt_at <= ?3 AND lease_until >= ?1 AND lease_owner <> ?2",
			     "iti", now, self, due_by);
}

/* A dead runner's claims end now rather than when its lease runs out: its lease is set in the
 * past, so the select below takes its messages, and those it was sending come back as may have
 * been delivered. Its lock file goes too. Runners that cannot be checked keep their lease. */
static int claim_free_dead(outbox *h, const char *self, long long now)
{
	char **owners = NULL;
	size_t i;
	int rc;

	if ((rc = claim_holders(h, self, now, now, &owners)) < 0)
		return rc;
	for (i = 0; rc == 0 && owners && owners[i]; i++)
		if (queue_owner_check(h, owners[i], 1) == QUEUE_OWNER_DEAD)
			rc = store_exec(h,
					"UPDATE queue SET lease_until = 0 WHERE lease_owner = ?1 AND state = 'queued'",
					"t", owners[i]);
	strv_free(owners);
	return rc;
}

int queue_claim(outbox *h, const char *owner, long long lease_seconds, const char *server_filter,
		long long id_filter, size_t max, struct queue_item ***out, size_t *n)
{
	struct queue_buf items = {NULL, 0};
	sqlite3_stmt *rst = NULL;
	long long now = store_now();
	size_t i;
	int rc;

	*out = NULL;
	*n = 0;
	if (owner == NULL || *owner == '\0' || lease_seconds < 1)
		return outbox_fail(h, OUTBOX_EINVALID, NULL, "a claim needs an owner and a lease of at least 1 s");
	if (max == 0)
		return 0;
	/* BEGIN IMMEDIATE takes the write lock before reading, so the rows seen due are still
	 * unclaimed when the lease is written: the select and the update are one step for others. */
	if ((rc = store_begin(h)) < 0)
		return rc;
	if ((rc = claim_free_dead(h, owner, now)) == 0)
		rc = claim_select(h, now, server_filter, id_filter, max, &items);
	for (i = 0; rc == 0 && i < items.n; i++)
		rc = claim_mark(h, items.v[i], owner, now + lease_seconds);
	if (rc == 0 && items.n > 0)
		rc = queue_prepare_rcpts(h, &rst);
	/* Only pending recipients: the runner must not send to anyone who has a final answer. */
	for (i = 0; rc == 0 && i < items.n; i++)
		rc = queue_read_rcpts(h, rst, items.v[i], 1);
	for (i = 0; rc == 0 && i < items.n; i++)
		if (items.v[i]->sending_since)
			rc = claim_interrupted_send(h, items.v[i], now);
	sqlite3_finalize(rst);
	if (rc == 0)
		rc = store_commit(h);
	else
		store_rollback(h);
	if (rc < 0) {
		queue_items_free(items.v, items.n);
		return rc;
	}
	*out = items.v;
	*n = items.n;
	return 0;
}

int queue_mark_sending_group(outbox *h, const char *owner, long long lease_seconds, const long long *ids, size_t n,
			     int *marked)
{
	long long now = store_now();
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		marked[i] = 0;
	if ((rc = store_begin(h)) < 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++) {
		rc = store_exec(h,
				"UPDATE queue SET sending_since = ?1, lease_until = ?4 WHERE id = ?2 AND lease_owner = ?3",
				"iiti", now, ids[i], owner ? owner : "", now + lease_seconds);
		marked[i] = rc == 0 && sqlite3_changes(h->db) > 0;
	}
	if (rc == 0 && (rc = store_commit(h)) == 0)
		return 0;
	store_rollback(h);
	for (i = 0; i < n; i++)
		marked[i] = 0;
	return rc;
}

int queue_release(outbox *h, long long id, const char *owner)
{
	int rc;

	if ((rc = store_exec(h,
			     "UPDATE queue SET lease_owner = NULL, lease_until = NULL"
			     " WHERE id = ?1 AND lease_owner = ?2",
			     "it", id, owner ? owner : "")) < 0)
		return rc;
	if (sqlite3_changes(h->db) == 0)
		return outbox_fail(h, OUTBOX_ECONFLICT, NULL, "queued message %lld is not claimed by this runner",
				   id);
	return 0;
}

int queue_due_now(outbox *h, const char *server_filter, long long id_filter)
{
	static const char sql[] =
		"UPDATE queue SET next_attempt_at = ?1 WHERE id IN (SELECT q.id FROM queue q"
		" WHERE q.state = 'queued' AND q.next_attempt_at > ?1 AND " CLAIM_SERVER_IS_2
		" AND (?3 = 0 OR q.id = ?3))";
	long long id = id_filter > 0 ? id_filter : 0;

	/* Only the time changes: the schedule counts attempts from the first, so a message that
	 * fails again now waits as long as it would have after its next attempt. ('n' binds NULL
	 * and takes no argument.) */
	if (server_filter && *server_filter)
		return store_exec(h, sql, "iti", store_now(), server_filter, id);
	return store_exec(h, sql, "ini", store_now(), id);
}

int queue_next_due(outbox *h, const char *server_filter, long long *at)
{
	long long now = store_now(), t = 0;
	const char *filter = server_filter && *server_filter ? server_filter : NULL;
	char **owners = NULL;
	size_t i;
	int rc;

	/* A claimed message counts from when its lease runs out: its runner may have died where
	 * this cannot check. Only the messages the run would claim count: a watcher for one server
	 * that woke for another's message would find nothing to do and wake again at once. */
	if ((rc = store_int(h, at, 0,
			    "SELECT min(max(q.next_attempt_at, coalesce(q.lease_until, 0))) FROM queue q"
			    " WHERE q.state = 'queued' AND " CLAIM_SERVER_IS_2, filter ? "it" : "in", 0LL,
			    filter)) < 0 ||
	    (rc = claim_holders(h, "", now, LLONG_MAX, &owners)) < 0)
		return rc;
	/* ...unless its runner is known to be dead: then it counts from its own time. The file of
	 * that runner stays for the claim to remove: this only looks. */
	for (i = 0; rc == 0 && owners && owners[i]; i++)
		if (queue_owner_check(h, owners[i], 0) == QUEUE_OWNER_DEAD &&
		    (rc = store_int(h, &t, 0,
				    "SELECT min(q.next_attempt_at) FROM queue q WHERE q.state = 'queued'"
				    " AND q.lease_owner = ?1 AND " CLAIM_SERVER_IS_2,
				    filter ? "tt" : "tn", owners[i], filter)) == 0 && t > 0 && (*at == 0 || t < *at))
			*at = t;
	strv_free(owners);
	return rc;
}
