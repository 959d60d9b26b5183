/* queue.c: the outbox rows: adding a message, recording each attempt's outcome and rescheduling
 * it, and the management side (list, show, retry, remove, spool names). Claims: queue_claim.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "buf.h"
#include "history_internal.h"
#include "policy.h"
#include "queue.h"
#include "record.h"
#include "store.h"

static const char *const state_names[] = {"queued", "failed", "done", "removed"};
static const char *const rcpt_state_names[] = {"pending", "delivered", "refused"};

const char *queue_state_name(enum queue_state s)
{
	return (unsigned)s < 4 ? state_names[s] : "?";
}

const char *queue_rcpt_state_name(enum queue_rcpt_state s)
{
	return (unsigned)s < 3 ? rcpt_state_names[s] : "?";
}

static int queue_parse_name(const char *const *names, int count, const unsigned char *text)
{
	int i;

	for (i = 0; text && i < count; i++)
		if (strcmp(names[i], (const char *)text) == 0)
			return i;
	return 0;
}

void queue_item_free(struct queue_item *it)
{
	size_t i;

	if (it == NULL)
		return;
	free(it->spool_name);
	free(it->account);
	free(it->server);
	free(it->sender);
	free(it->message_id);
	free(it->last_reply);
	free(it->lease_owner);
	free(it->quarantine);
	for (i = 0; i < it->nrcpts; i++) {
		free(it->rcpts[i].address);
		free(it->rcpts[i].reply);
	}
	free(it->rcpts);
	for (i = 0; i < it->nlog; i++) {
		free(it->log[i].server);
		free(it->log[i].outcome);
		free(it->log[i].reply);
	}
	free(it->log);
	free(it);
}

void queue_items_free(struct queue_item **items, size_t n)
{
	size_t i;

	for (i = 0; items && i < n; i++)
		queue_item_free(items[i]);
	free(items);
}

int queue_oom(outbox *h)
{
	return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
}

/* A text column as an owned string; NULL in the database reads as "", NULL here means OOM. */
static char *queue_col_dup(sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	return strdup(t ? t : "");
}

/* A short text column into a fixed field; the store holds only what dsn_check let through. */
static void queue_col_copy(sqlite3_stmt *st, int col, char *out, size_t size)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	snprintf(out, size, "%s", t ? t : "");
}

int queue_prepare_select(outbox *h, sqlite3_stmt **st, const char *where_order)
{
	struct buf sql = BUF_INIT;
	int rc;

	if (buf_printf(&sql,
		       "SELECT q.id, q.spool_name, q.account, q.server, q.sender, q.message_id,"
		       " q.last_reply, q.size, q.body_8bit, q.smtputf8, q.state, q.uncertain, q.attempts,"
		       " q.created_at, q.first_attempt_at, q.next_attempt_at, q.lease_owner, q.lease_until,"
		       " q.sending_since, q.quarantine, q.dsn_notify, q.dsn_ret, q.dsn_envid"
		       " FROM queue q WHERE %s", where_order) < 0)
		rc = queue_oom(h);
	else
		rc = store_prepare(h, st, sql.data);
	buf_free(&sql);
	return rc;
}

int queue_prepare_rcpts(outbox *h, sqlite3_stmt **st)
{
	/* Insertion order (rowid) is the order the user gave the recipients in. */
	return store_prepare(h, st,
			     "SELECT address, state, reply FROM queue_recipients WHERE queue_id = ?1"
			     " AND (?2 = 0 OR state = 'pending') ORDER BY rowid");
}

static int queue_item_read(outbox *h, sqlite3_stmt *st, struct queue_item **out)
{
	struct queue_item *it = calloc(1, sizeof *it);

	*out = NULL;
	if (it == NULL)
		return queue_oom(h);
	it->id = sqlite3_column_int64(st, 0);
	it->spool_name = queue_col_dup(st, 1);
	it->account = queue_col_dup(st, 2);
	it->server = queue_col_dup(st, 3);
	it->sender = queue_col_dup(st, 4);
	it->message_id = queue_col_dup(st, 5);
	it->last_reply = queue_col_dup(st, 6);
	it->size = sqlite3_column_int64(st, 7);
	it->body_8bit = sqlite3_column_int(st, 8);
	it->smtputf8 = sqlite3_column_int(st, 9);
	it->state = (enum queue_state)queue_parse_name(state_names, 4, sqlite3_column_text(st, 10));
	it->uncertain = sqlite3_column_int(st, 11);
	it->attempts = sqlite3_column_int(st, 12);
	it->created_at = sqlite3_column_int64(st, 13);
	it->first_attempt_at = sqlite3_column_int64(st, 14);
	it->next_attempt_at = sqlite3_column_int64(st, 15);
	if (sqlite3_column_type(st, 16) != SQLITE_NULL)
		it->lease_owner = queue_col_dup(st, 16);
	it->lease_until = sqlite3_column_int64(st, 17);
	it->sending_since = sqlite3_column_int64(st, 18);
	it->quarantine = queue_col_dup(st, 19);
	queue_col_copy(st, 20, it->dsn.notify, sizeof it->dsn.notify);
	queue_col_copy(st, 21, it->dsn.ret, sizeof it->dsn.ret);
	queue_col_copy(st, 22, it->dsn.envid, sizeof it->dsn.envid);
	if (!it->spool_name || !it->account || !it->server || !it->sender || !it->message_id ||
	    !it->last_reply || !it->quarantine || (sqlite3_column_type(st, 16) != SQLITE_NULL && !it->lease_owner)) {
		queue_item_free(it);
		return queue_oom(h);
	}
	*out = it;
	return 0;
}

int queue_buf_push_row(outbox *h, struct queue_buf *b, sqlite3_stmt *st)
{
	struct queue_item **grown = realloc(b->v, (b->n + 1) * sizeof *grown);
	int rc;

	if (grown == NULL)
		return queue_oom(h);
	b->v = grown;
	if ((rc = queue_item_read(h, st, &b->v[b->n])) < 0)
		return rc;
	b->n++;
	return 0;
}

int queue_read_rcpts(outbox *h, sqlite3_stmt *st, struct queue_item *it, int pending_only)
{
	int rc, step;

	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, it->id);
	sqlite3_bind_int(st, 2, pending_only);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct queue_recipient *grown = realloc(it->rcpts, (it->nrcpts + 1) * sizeof *grown), *r;
		if (grown == NULL)
			return queue_oom(h);
		it->rcpts = grown;
		r = &it->rcpts[it->nrcpts];
		r->address = queue_col_dup(st, 0);
		r->state = (enum queue_rcpt_state)queue_parse_name(rcpt_state_names, 3,
								    sqlite3_column_text(st, 1));
		r->reply = queue_col_dup(st, 2);
		it->nrcpts++;
		if (r->address == NULL || r->reply == NULL)
			return queue_oom(h);
	}
	rc = step == SQLITE_DONE ? 0 : outbox_fail_db(h, "reading a queued message's recipients");
	sqlite3_reset(st);
	return rc;
}

/* The attempts, oldest first, for `queue show`. */
static int queue_read_log(outbox *h, struct queue_item *it)
{
	sqlite3_stmt *st;
	int rc, step;

	if ((rc = store_prepare(h, &st,
				"SELECT at, server, outcome, reply FROM queue_attempts WHERE queue_id = ?1"
				" ORDER BY id")) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, it->id);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct queue_attempt *grown = realloc(it->log, (it->nlog + 1) * sizeof *grown), *a;
		if (grown == NULL) {
			rc = queue_oom(h);
			break;
		}
		it->log = grown;
		a = &it->log[it->nlog++];
		a->at = sqlite3_column_int64(st, 0);
		a->server = queue_col_dup(st, 1);
		a->outcome = queue_col_dup(st, 2);
		a->reply = queue_col_dup(st, 3);
		if (!a->server || !a->outcome || !a->reply) {
			rc = queue_oom(h);
			break;
		}
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = outbox_fail_db(h, "reading a queued message's attempts");
	sqlite3_finalize(st);
	return rc;
}

/* Reads of several statements share one snapshot, so a listing never shows a message with
 * recipients from after a runner's update. Deferred: a reader must not hold the write lock. */
static int queue_read_begin(outbox *h)
{
	if (sqlite3_exec(h->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return outbox_fail_db(h, "starting to read the queue");
	return 0;
}

static int queue_valid_spool_name(const char *s)
{
	size_t i;

	for (i = 0; s && i < 32; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s && s[32] == '\0';
}

/* The row queue_add committed but could not sync, deleted again (its recipients and attempts go
 * with it); the handle keeps the sync's failure. */
static void queue_add_undo(outbox *h, long long id)
{
	struct outbox_error_copy saved;

	outbox_error_save(h, &saved);
	store_exec(h, "DELETE FROM queue WHERE id = ?1", "i", id);
	outbox_error_restore(h, &saved);
}

int queue_add(outbox *h, const struct queue_entry_in *in, long long *id)
{
	long long now = store_now();
	size_t i;
	int rc;

	*id = 0;
	if (!queue_valid_spool_name(in->spool_name))
		return outbox_fail(h, OUTBOX_EINVALID, "spool", "a spool name is 32 lowercase hex digits");
	if (in->recipients == NULL || in->recipients[0] == NULL)
		return outbox_fail(h, OUTBOX_EINVALID, "recipients", "a queued message needs a recipient");
	if ((rc = store_begin_unsynced(h)) < 0)
		return rc;
	rc = store_exec(h,
			"INSERT INTO queue (spool_name, account, server, sender, message_id, size, body_8bit,"
			" smtputf8, state, created_at, next_attempt_at, uncertain, last_reply, attempts,"
			" first_attempt_at, dsn_notify, dsn_ret, dsn_envid)"
			" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'queued', ?9, ?10, ?11, ?12, ?13,"
			" CASE WHEN ?13 THEN ?9 END, ?14, ?15, ?16)",
			"tttttiiiiiitittt", in->spool_name, in->account ? in->account : "",
			in->server ? in->server : "", in->sender ? in->sender : "",
			in->message_id ? in->message_id : "", in->size, (long long)!!in->body_8bit,
			(long long)!!in->smtputf8, now, in->not_before > 0 ? in->not_before : now,
			(long long)!!in->uncertain, in->last_reply ? in->last_reply : "",
			(long long)!!in->attempted, in->dsn ? in->dsn->notify : "", in->dsn ? in->dsn->ret : "",
			in->dsn ? in->dsn->envid : "");
	if (rc == 0)
		*id = sqlite3_last_insert_rowid(h->db);
	if (rc == 0 && in->attempted)
		rc = store_exec(h,
				"INSERT INTO queue_attempts (queue_id, at, server, outcome, reply)"
				" VALUES (?1, ?2, ?3, ?4, ?5)",
				"iittt", *id, now, in->attempt_server ? in->attempt_server : "",
				in->uncertain ? "uncertain" : "deferred", in->last_reply ? in->last_reply : "");
	/* OR IGNORE: the same address twice gets one copy, as an MTA would send it. */
	for (i = 0; rc == 0 && in->recipients[i]; i++)
		rc = store_exec(h,
				"INSERT OR IGNORE INTO queue_recipients (queue_id, address, state, reply)"
				" VALUES (?1, ?2, 'pending', ?3)",
				"itt", *id, in->recipients[i],
				in->replies && in->replies[i] ? in->replies[i] : "");
	/* `send` says "queued" only once this is on disk: one sync of the log, after the spool
	 * file's two (invariant 1). A sync that fails takes the row back out, so the caller can
	 * remove the file and say nothing was queued. */
	if (rc == 0 && (rc = store_commit(h)) == 0 && (rc = store_sync(h)) < 0)
		queue_add_undo(h, *id);
	else if (rc < 0)
		store_rollback(h);
	if (rc < 0)
		*id = 0;
	return rc;
}

/* Jitter only spreads retries apart, so any value will do when the kernel has none to give. */
static uint32_t queue_random(long long id)
{
	uint32_t r;

	if (getrandom(&r, sizeof r, GRND_NONBLOCK) == (ssize_t)sizeof r)
		return r;
	return (uint32_t)((unsigned long long)store_now() ^ (unsigned long long)getpid() ^
			  ((unsigned long long)id * 2654435761u));
}

/* The claim must still be owner's and the message still queued: a removal, a purge or another
 * runner that took over an expired lease all mean this attempt's outcome is no longer wanted.
 * An expired lease nobody took over is still owner's: its outcome is recorded, not lost. */
static int queue_check_claim(outbox *h, long long id, const char *owner, int *attempts,
			     long long *first_at)
{
	sqlite3_stmt *st;
	int rc, step;
	const char *state, *holder;

	if ((rc = store_prepare_cached(h,
				"SELECT state, lease_owner, attempts, first_attempt_at FROM queue WHERE id = ?1", &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		state = (const char *)sqlite3_column_text(st, 0);
		holder = (const char *)sqlite3_column_text(st, 1);
		*attempts = sqlite3_column_int(st, 2);
		*first_at = sqlite3_column_int64(st, 3);
		if (state == NULL || strcmp(state, "queued") != 0)
			rc = outbox_fail(h, OUTBOX_ECONFLICT, NULL, "queued message %lld is %s now", id,
					 state ? state : "gone");
		else if (holder == NULL || owner == NULL || strcmp(holder, owner) != 0)
			rc = outbox_fail(h, OUTBOX_ECONFLICT, NULL,
					 "queued message %lld is not claimed by this runner (its claim expired?)", id);
	} else if (step == SQLITE_DONE) {
		rc = outbox_fail(h, OUTBOX_ECONFLICT, NULL, "queued message %lld was purged", id);
	} else {
		rc = outbox_fail_db(h, "reading a queued message");
	}
	store_release(st);
	return rc;
}

static int queue_record_rcpts(outbox *h, const struct queue_result *r)
{
	size_t i;
	int rc = 0;

	/* "AND state = 'pending'": a recipient that has its final answer keeps it, so a delivered
	 * recipient is never sent to again whatever a later attempt reports. */
	for (i = 0; rc == 0 && i < r->nrcpts; i++) {
		const struct queue_rcpt_result *x = &r->rcpts[i];
		if (x->address == NULL)
			continue;
		rc = store_exec(h,
				"UPDATE queue_recipients SET state = ?1, reply = ?2"
				" WHERE queue_id = ?3 AND address = ?4 AND state = 'pending'",
				"ttit", queue_rcpt_state_name(x->state), x->reply ? x->reply : "", r->id,
				x->address);
	}
	return rc;
}

/* The work of queue_finish inside the caller's transaction; *state is the new state. */
static int queue_finish_in(outbox *h, const struct queue_result *r, enum queue_state *state)
{
	const struct retry_policy *policy = r->policy ? r->policy : &retry_default;
	long long now = store_now(), first_at = 0, pending = 0, next;
	enum queue_state to = QUEUE_QUEUED;
	int rc, attempts = 0;

	if ((rc = queue_check_claim(h, r->id, r->owner, &attempts, &first_at)) < 0)
		return rc;
	if ((rc = queue_record_rcpts(h, r)) < 0)
		return rc;
	if ((rc = store_exec(h,
			     "INSERT INTO queue_attempts (queue_id, at, server, outcome, reply)"
			     " VALUES (?1, ?2, ?3, ?4, ?5)",
			     "iittt", r->id, now, r->server ? r->server : "",
			     r->outcome ? r->outcome : "", r->reply ? r->reply : "")) < 0)
		return rc;
	attempts++;
	if (first_at == 0)
		first_at = now;
	if ((rc = store_int(h, &pending, 0,
			    "SELECT count(*) FROM queue_recipients WHERE queue_id = ?1 AND state = 'pending'",
			    "i", r->id)) < 0)
		return rc;
	/* Refused recipients count as finished: they are reported, not retried. */
	next = now;
	if (pending == 0)
		to = QUEUE_DONE;
	else if (r->quarantine)
		to = QUEUE_FAILED; /* the same file would be found again: only the user can help */
	else if ((next = retry_next(policy, attempts, first_at, now, queue_random(r->id))) < 0) {
		to = QUEUE_FAILED; /* kept with its attempts until the user retries or removes it */
		next = now;
	}
	rc = store_exec(h,
			"UPDATE queue SET state = ?1, attempts = ?2, first_attempt_at = ?3,"
			" next_attempt_at = ?4, uncertain = (uncertain OR ?5), last_reply = ?6,"
			" lease_owner = NULL, lease_until = NULL, sending_since = NULL, quarantine = ?8"
			" WHERE id = ?7",
			"tiiiitit", queue_state_name(to), (long long)attempts, first_at, next,
			(long long)!!r->uncertain, r->reply ? r->reply : "", r->id,
			r->quarantine ? r->quarantine : "");
	/* The history line rides in the same transaction: one commit for both. What this attempt
	 * left pending waits in the outbox, or is given up with the message. */
	if (rc == 0 && r->history) {
		outbox_history_entry e = *r->history;
		size_t i, delivered = 0, refused = 0, left = 0;
		for (i = 0; i < r->nrcpts; i++) {
			delivered += r->rcpts[i].state == QUEUE_RCPT_DELIVERED;
			refused += r->rcpts[i].state == QUEUE_RCPT_REFUSED;
			left += r->rcpts[i].state == QUEUE_RCPT_PENDING;
		}
		e.outcome = policy_history_word(delivered, refused, to == QUEUE_QUEUED ? left : 0,
						to == QUEUE_FAILED ? left : 0);
		rc = history_record(h, &e);
	}
	if (rc == 0)
		*state = to;
	return rc;
}

int queue_finish(outbox *h, const struct queue_result *r, enum queue_state *state)
{
	enum queue_state to = QUEUE_QUEUED;
	int rc;

	if ((rc = store_begin(h)) < 0)
		return rc;
	if ((rc = queue_finish_in(h, r, &to)) == 0)
		rc = store_commit(h);
	else
		store_rollback(h);
	if (rc == 0 && state)
		*state = to;
	return rc;
}

int queue_finish_group(outbox *h, const struct queue_result *const *r, size_t n, int *rcs, enum queue_state *states)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		rcs[i] = 0, states[i] = QUEUE_QUEUED;
	if ((rc = store_begin(h)) < 0)
		goto fail;
	/* A savepoint per message: one that fails (removed meanwhile) leaves no trace and does not
	 * take the others with it. */
	for (i = 0; i < n; i++) {
		if ((rc = store_exec(h, "SAVEPOINT queue_finish_one", "")) < 0)
			goto rollback;
		rcs[i] = queue_finish_in(h, r[i], &states[i]);
		if (rcs[i] < 0 && (rc = store_exec(h, "ROLLBACK TO queue_finish_one", "")) < 0)
			goto rollback;
		if ((rc = store_exec(h, "RELEASE queue_finish_one", "")) < 0)
			goto rollback;
	}
	if ((rc = store_commit(h)) == 0)
		return 0;
rollback:
	store_rollback(h);
fail:
	for (i = 0; i < n; i++)
		rcs[i] = rc;
	return rc;
}

/* Rows matching `where` (which binds ?1 to `arg`), each with all its recipients. */
static int queue_select(outbox *h, const char *where, long long arg, struct queue_item ***out,
			size_t *n)
{
	sqlite3_stmt *st = NULL, *rst = NULL;
	struct queue_buf items = {NULL, 0};
	int rc, step;
	size_t i;

	if ((rc = queue_prepare_select(h, &st, where)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, arg);
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = queue_buf_push_row(h, &items, st)) < 0)
			break;
	if (rc == 0 && step != SQLITE_DONE)
		rc = outbox_fail_db(h, "reading the queue");
	sqlite3_finalize(st);
	if (rc == 0)
		rc = queue_prepare_rcpts(h, &rst);
	for (i = 0; rc == 0 && i < items.n; i++)
		rc = queue_read_rcpts(h, rst, items.v[i], 0);
	sqlite3_finalize(rst);
	if (rc < 0) {
		queue_items_free(items.v, items.n);
		return rc;
	}
	*out = items.v;
	*n = items.n;
	return 0;
}

int queue_list(outbox *h, int failed_only, struct queue_item ***out, size_t *n)
{
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = queue_read_begin(h)) < 0)
		return rc;
	rc = queue_select(h,
			  failed_only ? "state = 'failed' ORDER BY id"
				      : "state IN ('queued', 'failed') ORDER BY id",
			  0, out, n);
	store_rollback(h);
	return rc;
}

int queue_get(outbox *h, long long id, struct queue_item **out)
{
	struct queue_item **items = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	if ((rc = queue_read_begin(h)) < 0)
		return rc;
	if ((rc = queue_select(h, "id = ?1", id, &items, &n)) == 0 && n == 0)
		rc = outbox_fail(h, OUTBOX_ENOTFOUND, NULL, "no queued message %lld", id);
	if (rc == 0 && (rc = queue_read_log(h, items[0])) == 0) {
		*out = items[0];
		items[0] = NULL;
	}
	store_rollback(h);
	queue_items_free(items, n);
	return rc;
}

/* The state of message `id`, or OUTBOX_ENOTFOUND; spool_name (33 bytes) is filled when given. */
static int queue_state_of(outbox *h, long long id, enum queue_state *state, char *spool_name)
{
	sqlite3_stmt *st;
	int rc, step;

	if ((rc = store_prepare(h, &st, "SELECT state, spool_name FROM queue WHERE id = ?1")) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);
		*state = (enum queue_state)queue_parse_name(state_names, 4, sqlite3_column_text(st, 0));
		if (spool_name && name && strlen(name) <= 32)
			memcpy(spool_name, name, strlen(name) + 1);
	} else if (step == SQLITE_DONE) {
		rc = outbox_fail(h, OUTBOX_ENOTFOUND, NULL, "no queued message %lld", id);
	} else {
		rc = outbox_fail_db(h, "reading a queued message");
	}
	sqlite3_finalize(st);
	return rc;
}

int queue_retry(outbox *h, long long id)
{
	enum queue_state state;
	int rc;

	if ((rc = store_begin(h)) < 0)
		return rc;
	if (id > 0 && (rc = queue_state_of(h, id, &state, NULL)) == 0 && state != QUEUE_QUEUED &&
	    state != QUEUE_FAILED)
		rc = outbox_fail(h, OUTBOX_EINVALID, NULL, "message %lld is %s: there is nothing to retry",
				 id, queue_state_name(state));
	/* A failed message's give-up window starts again at its next attempt: the user asked for
	 * another round, likely after fixing what made it fail. */
	if (rc == 0)
		rc = store_exec(h,
				"UPDATE queue SET next_attempt_at = ?1,"
				" first_attempt_at = CASE state WHEN 'failed' THEN NULL ELSE first_attempt_at END,"
				" state = 'queued', quarantine = '' WHERE state IN ('queued', 'failed')"
				" AND (?2 = 0 OR id = ?2)",
				"ii", store_now(), id);
	if (rc == 0)
		return store_commit(h);
	store_rollback(h);
	return rc;
}

int queue_remove(outbox *h, long long id, int purge, char spool_name[33])
{
	enum queue_state state;
	char name[33] = "";
	int rc;

	spool_name[0] = '\0';
	if ((rc = store_begin(h)) < 0)
		return rc;
	if ((rc = queue_state_of(h, id, &state, name)) < 0)
		goto out;
	if (purge) {
		/* A purged message can no longer be brought back: its journal entry goes with it. */
		if ((rc = store_exec(h, "DELETE FROM queue WHERE id = ?1", "i", id)) == 0)
			rc = store_exec(h, "DELETE FROM removals WHERE kind = 'message' AND object_id = ?1", "i", id);
	} else if (state == QUEUE_DONE || state == QUEUE_REMOVED) {
		rc = outbox_fail(h, OUTBOX_EINVALID, NULL, "message %lld is %s already%s", id,
				 queue_state_name(state), state == QUEUE_DONE ? " (--purge forgets it)" : "");
	} else {
		/* The lease stays: a runner delivering it right now learns at queue_finish. The
		 * journal entry lets `outbox undo` put it back as it was. */
		char label[32];
		snprintf(label, sizeof label, "%lld", id);
		if ((rc = store_exec(h, "UPDATE queue SET state = 'removed', removed_at = ?1 WHERE id = ?2",
				     "ii", store_now(), id)) == 0)
			rc = store_exec(h,
					"INSERT INTO removals (kind, object_id, label, prior_state, removed_at)"
					" VALUES ('message', ?1, ?2, ?3, ?4)", "itti", id, label,
					queue_state_name(state), store_now());
	}
out:
	if (rc == 0)
		rc = store_commit(h);
	else
		store_rollback(h);
	if (rc == 0 && purge)
		memcpy(spool_name, name, sizeof name);
	return rc;
}

int queue_spool_names(outbox *h, char ***names)
{
	/* A done message's file is garbage: listing it would keep it for ever when the runner died
	 * between recording 'done' and unlinking it. A quarantined message's file is not the message
	 * (a FIFO, a link to another file, one changed since): nothing must keep it. */
	return store_strings(h, names, "reading the queue's spool names",
			     "SELECT DISTINCT spool_name FROM queue WHERE state <> 'done' AND quarantine = ''"
			     " ORDER BY spool_name", "");
}

int queue_spool_names_done(outbox *h, char *const *among, char ***names)
{
	struct buf list = BUF_INIT;
	size_t i;
	int rc = buf_puts(&list, "[");

	*names = NULL;
	/* One scan of the done rows for all the names, as a JSON array (each name is 32 hex digits:
	 * nothing in it needs quoting); the spool_name column has no index of its own. */
	for (i = 0; rc == 0 && among && among[i]; i++)
		rc = queue_valid_spool_name(among[i]) ? buf_printf(&list, "%s\"%s\"", list.len > 1 ? "," : "", among[i]) : 0;
	if (rc == 0)
		rc = buf_puts(&list, "]");
	if (rc < 0) {
		buf_free(&list);
		return queue_oom(h);
	}
	rc = store_strings(h, names, "reading the queue's spool names",
			   "SELECT DISTINCT spool_name FROM queue WHERE state = 'done'"
			   " AND spool_name IN (SELECT value FROM json_each(?1)) ORDER BY spool_name", "t", list.data);
	buf_free(&list);
	return rc;
}
