/* history.c: the history table of delivery attempts: appending one per attempt and listing them,
 * newest first, for `outbox log`. */
#include <stdlib.h>
#include <string.h>

#include "history_internal.h"
#include "store.h"

/* The public entry points into strings this row owns. */
struct history_row {
	outbox_history_entry pub;
	char *text[7];
};

struct outbox_history {
	struct history_row *rows;
	size_t count;
};

int history_record(outbox *h, const outbox_history_entry *e)
{
	sqlite3_stmt *st;
	int rc;

	/* Cached: a queue run records one line per message. */
	if ((rc = store_prepare_cached(h,
				       "INSERT INTO history (at, account, server, sender, recipients, outcome, reply,"
				       " size, message_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", &st)) < 0)
		return rc;
	sqlite3_bind_int64(st, 1, store_now());
	sqlite3_bind_text(st, 2, e->account ? e->account : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, e->server ? e->server : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, e->sender ? e->sender : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, e->recipients ? e->recipients : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, e->outcome, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, e->reply ? e->reply : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 8, e->size);
	sqlite3_bind_text(st, 9, e->message_id ? e->message_id : "", -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = outbox_fail_db(h, "recording the attempt in the history");
	store_release(st);
	return rc;
}

static char *history_dup(sqlite3_stmt *st, int col)
{
	const char *t = (const char *)sqlite3_column_text(st, col);
	return strdup(t ? t : "");
}

int outbox_history_list(outbox *h, size_t limit, outbox_history **out)
{
	outbox_history *l = calloc(1, sizeof *l);
	sqlite3_stmt *st;
	int rc, step;

	*out = NULL;
	if (l == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	if ((rc = store_prepare(h, &st,
				"SELECT id, at, account, server, sender, recipients, outcome, reply, size, message_id"
				" FROM history ORDER BY id DESC LIMIT ?1")) < 0) {
		free(l);
		return rc;
	}
	sqlite3_bind_int64(st, 1, limit ? (long long)limit : -1);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct history_row *grown = realloc(l->rows, (l->count + 1) * sizeof *grown), *row;
		int i, missing = 0;
		if (grown == NULL) {
			rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
			break;
		}
		l->rows = grown;
		row = &l->rows[l->count++];
		memset(row, 0, sizeof *row);
		for (i = 0; i < 7; i++)
			missing |= (row->text[i] = history_dup(st, i < 6 ? i + 2 : 9)) == NULL;
		if (missing) {
			rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
			break;
		}
		row->pub.id = sqlite3_column_int64(st, 0);
		row->pub.time = sqlite3_column_int64(st, 1);
		row->pub.account = row->text[0];
		row->pub.server = row->text[1];
		row->pub.sender = row->text[2];
		row->pub.recipients = row->text[3];
		row->pub.outcome = row->text[4];
		row->pub.reply = row->text[5];
		row->pub.message_id = row->text[6];
		row->pub.size = sqlite3_column_int64(st, 8);
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = outbox_fail_db(h, "reading the history");
	sqlite3_finalize(st);
	if (rc < 0) {
		outbox_history_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

size_t outbox_history_count(const outbox_history *l)
{
	return l ? l->count : 0;
}

const outbox_history_entry *outbox_history_at(const outbox_history *l, size_t i)
{
	return i < l->count ? &l->rows[i].pub : NULL;
}

void outbox_history_free(outbox_history *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->count; i++)
		for (int t = 0; t < 7; t++)
			free(l->rows[i].text[t]);
	free(l->rows);
	free(l);
}
