/* removal_plan.c: the one place that decides what removing a server changes: which accounts move,
 * which server becomes the default, and what each fallback list keeps. The removal writes this
 * plan; `server remove` and the UI's dialog word it, so what they say is what happens. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "removal_plan.h"
#include "server_internal.h"
#include "store.h"

static int removal_plan_oom(outbox *h)
{
	return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
}

/* An empty list is still NULL-terminated, for the accessors' callers. */
static int removal_plan_terminate(char ***v)
{
	if (*v == NULL && (*v = calloc(1, sizeof **v)) == NULL)
		return -1;
	return 0;
}

/* A fallback stays unless it is the removed server, the account's own server after the move (an
 * account never falls back to the server it already uses), or no longer live. */
static int removal_plan_keeps(long long fallback, int live, long long removed, long long own)
{
	return live && fallback != removed && fallback != own;
}

/* Read one account's fallbacks in order and decide what stays. */
static int removal_plan_fallbacks(outbox *h, struct removal_account *a, long long removed, long long own)
{
	struct buf before = BUF_INIT, after = BUF_INIT;
	sqlite3_stmt *st;
	int rc, step;

	if ((rc = store_prepare(h, &st,
				"SELECT f.server_id, s.name, s.removed_at IS NULL FROM account_fallbacks f"
				" JOIN servers s ON s.id = f.server_id WHERE f.account_id = ?1 ORDER BY f.position")) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, a->id);
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		long long sid = sqlite3_column_int64(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);
		int live = sqlite3_column_int(st, 2);
		if (buf_printf(&before, "%s%lld", before.len ? "," : "", sid) < 0 ||
		    (live && strv_append(&a->before, &a->nbefore, name) < 0))
			rc = removal_plan_oom(h);
		else if (removal_plan_keeps(sid, live, removed, own) &&
			 (buf_printf(&after, "%s%lld", after.len ? "," : "", sid) < 0 ||
			  strv_append(&a->after, &a->nafter, name) < 0))
			rc = removal_plan_oom(h);
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = outbox_fail_db(h, "reading fallback servers");
	sqlite3_finalize(st);
	/* Empty lists are "" and empty name lists are still NULL-terminated. */
	if (rc == 0 && ((a->before_ids = strdup(before.data ? before.data : "")) == NULL ||
			(a->after_ids = strdup(after.data ? after.data : "")) == NULL ||
			removal_plan_terminate(&a->before) < 0 || removal_plan_terminate(&a->after) < 0))
		rc = removal_plan_oom(h);
	buf_free(&before);
	buf_free(&after);
	return rc;
}

/* The live accounts that use server `p->server_id` or list it as a fallback. */
static int removal_plan_accounts(outbox *h, outbox_server_removal *p)
{
	sqlite3_stmt *st;
	int rc, step;

	if ((rc = store_prepare(h, &st,
				"SELECT id, address, server_id FROM accounts WHERE removed_at IS NULL AND (server_id = ?1"
				" OR id IN (SELECT account_id FROM account_fallbacks WHERE server_id = ?1))"
				" ORDER BY address")) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, p->server_id);
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		struct removal_account *grown = realloc(p->acc, (p->nacc + 1) * sizeof *grown), *a;
		if (grown == NULL) {
			rc = removal_plan_oom(h);
			break;
		}
		p->acc = grown;
		a = memset(&p->acc[p->nacc++], 0, sizeof *a);
		a->id = sqlite3_column_int64(st, 0);
		a->moves = sqlite3_column_int64(st, 2) == p->server_id;
		if ((a->address = strdup((const char *)sqlite3_column_text(st, 1))) == NULL ||
		    (a->moves && strv_append(&p->moved, &p->nmoved, a->address) < 0))
			rc = removal_plan_oom(h);
		else
			rc = removal_plan_fallbacks(h, a, p->server_id,
						    a->moves ? p->target_id : sqlite3_column_int64(st, 2));
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = outbox_fail_db(h, "reading accounts");
	sqlite3_finalize(st);
	return rc;
}

int removal_plan_build(outbox *h, const outbox_server *s, const char *reassign, outbox_server_removal **out)
{
	outbox_server_removal *p = calloc(1, sizeof *p);
	long long others = 0;
	int rc;

	*out = NULL;
	if (p == NULL)
		return removal_plan_oom(h);
	p->server_id = s->id;
	p->was_default = strcmp(outbox_server_get(s, OUTBOX_SERVER_DEFAULT), "true") == 0;
	if ((p->server = strdup(outbox_server_get(s, OUTBOX_SERVER_NAME))) == NULL) {
		rc = removal_plan_oom(h);
		goto done;
	}
	if (reassign && (rc = server_id_by_name(h, "reassign", reassign, &p->target_id)) < 0)
		goto done;
	if (reassign && p->target_id == p->server_id) {
		rc = outbox_fail(h, OUTBOX_EINVALID, "reassign", "\"%s\" is the server being removed", p->server);
		goto done;
	}
	if (reassign && (p->target = strdup(reassign)) == NULL) {
		rc = removal_plan_oom(h);
		goto done;
	}
	if ((rc = store_int(h, &others, 0, "SELECT count(*) FROM servers WHERE removed_at IS NULL AND id != ?1", "i",
			    p->server_id)) < 0)
		goto done;
	p->others = others > 0;
	if ((rc = removal_plan_accounts(h, p)) < 0)
		goto done;
	if (removal_plan_terminate(&p->moved) < 0) {
		rc = removal_plan_oom(h);
		goto done;
	}
	p->needs_target = p->nmoved > 0 || (p->was_default && p->others);
done:
	if (rc < 0) {
		outbox_server_removal_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int removal_plan_check(outbox *h, const outbox_server_removal *p)
{
	struct buf names = BUF_INIT;
	int rc;

	if (!p->needs_target || p->target_id)
		return 0;
	if (p->nmoved == 0)
		return outbox_fail(h, OUTBOX_EINUSE, NULL,
				   "server \"%s\" is the default server; name the new default with --reassign "
				   "OTHER_SERVER", p->server);
	for (size_t i = 0; i < p->nmoved; i++)
		if (buf_printf(&names, "%s%s", i ? ", " : "", p->moved[i]) < 0) {
			buf_free(&names);
			return removal_plan_oom(h);
		}
	rc = outbox_fail(h, OUTBOX_EINUSE, NULL, "server \"%s\" is used by %s; move %s with --reassign OTHER_SERVER",
			 p->server, names.data, p->nmoved == 1 ? "it" : "them");
	buf_free(&names);
	return rc;
}

int outbox_server_remove_plan(outbox *h, const char *name, const char *reassign, outbox_server_removal **out)
{
	outbox_server *s = NULL;
	int rc;

	*out = NULL;
	/* One read transaction (deferred: it takes no write lock), so the plan sees one state. */
	if (sqlite3_exec(h->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return outbox_fail_db(h, "starting a transaction");
	if ((rc = outbox_server_load(h, name, &s)) == 0)
		rc = removal_plan_build(h, s, reassign, out);
	store_rollback(h);
	outbox_server_free(s);
	return rc;
}

void outbox_server_removal_free(outbox_server_removal *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nacc; i++) {
		free(p->acc[i].address);
		free(p->acc[i].before_ids);
		free(p->acc[i].after_ids);
		strv_free(p->acc[i].before);
		strv_free(p->acc[i].after);
	}
	free(p->acc);
	strv_free(p->moved);
	free(p->server);
	free(p->target);
	free(p);
}

int outbox_server_removal_needs_target(const outbox_server_removal *p)
{
	return p->needs_target;
}

const char *const *outbox_server_removal_moved(const outbox_server_removal *p)
{
	return (const char *const *)p->moved;
}

int outbox_server_removal_default(const outbox_server_removal *p, const char **next)
{
	/* The target becomes the default; without one (no other server) there is none. */
	*next = p->was_default ? p->target : NULL;
	return p->was_default;
}

/* The i-th account whose fallback list changes, counting only those. */
static const struct removal_account *removal_plan_changed(const outbox_server_removal *p, size_t i)
{
	for (size_t k = 0; k < p->nacc; k++)
		if (strcmp(p->acc[k].before_ids, p->acc[k].after_ids) != 0 && i-- == 0)
			return &p->acc[k];
	return NULL;
}

size_t outbox_server_removal_fallback_count(const outbox_server_removal *p)
{
	size_t n = 0;

	while (removal_plan_changed(p, n))
		n++;
	return n;
}

const char *outbox_server_removal_fallback(const outbox_server_removal *p, size_t i, const char *const **before,
					   const char *const **after)
{
	const struct removal_account *a = removal_plan_changed(p, i);

	if (a == NULL)
		return NULL;
	*before = (const char *const *)a->before;
	*after = (const char *const *)a->after;
	return a->address;
}
