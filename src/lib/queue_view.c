/* queue_view.c: the public, read-only view of the outbox for `queue list` and `queue show`, and
 * the retry and remove commands, over the queue store. */
#include <stdlib.h>
#include <string.h>

#include "outbox/queue.h"
#include "queue.h"
#include "spool.h"

struct outbox_queue_view {
	struct queue_item **items;
	size_t n;
	outbox_queue_message *msgs;
	outbox_queue_recipient **rcpts; /* what msgs[i].recipients points at, owned here */
	outbox_queue_attempt **logs;
};

/* Point the public structs at the items' own strings. */
static int queue_view_build(outbox *h, outbox_queue_view *v)
{
	size_t i, k;

	if (v->n && ((v->msgs = calloc(v->n, sizeof *v->msgs)) == NULL ||
		     (v->rcpts = calloc(v->n, sizeof *v->rcpts)) == NULL ||
		     (v->logs = calloc(v->n, sizeof *v->logs)) == NULL))
		return queue_oom(h);
	for (i = 0; i < v->n; i++) {
		const struct queue_item *it = v->items[i];
		outbox_queue_message *m = &v->msgs[i];
		outbox_queue_recipient *r = it->nrcpts ? calloc(it->nrcpts, sizeof *r) : NULL;
		outbox_queue_attempt *a = it->nlog ? calloc(it->nlog, sizeof *a) : NULL;
		v->rcpts[i] = r;
		v->logs[i] = a;
		if ((it->nrcpts && !r) || (it->nlog && !a))
			return queue_oom(h);
		m->id = it->id;
		m->state = queue_state_name(it->state);
		m->account = it->account;
		m->server = it->server;
		m->sender = it->sender;
		m->message_id = it->message_id;
		m->last_reply = it->last_reply;
		m->size = it->size;
		m->created_at = it->created_at;
		m->next_attempt_at = it->next_attempt_at;
		m->attempts = it->attempts;
		m->uncertain = it->uncertain;
		m->quarantine = it->quarantine;
		for (k = 0; k < it->nrcpts; k++) {
			r[k].address = it->rcpts[k].address;
			r[k].state = queue_rcpt_state_name(it->rcpts[k].state);
			r[k].reply = it->rcpts[k].reply;
		}
		for (k = 0; k < it->nlog; k++) {
			a[k].at = it->log[k].at;
			a[k].server = it->log[k].server;
			a[k].outcome = it->log[k].outcome;
			a[k].reply = it->log[k].reply;
		}
		m->recipients = r;
		m->nrecipients = it->nrcpts;
		m->log = a;
		m->nlog = it->nlog;
	}
	return 0;
}

int outbox_queue_list(outbox *h, int failed_only, outbox_queue_view **out)
{
	outbox_queue_view *v = calloc(1, sizeof *v);
	int rc;

	*out = NULL;
	if (v == NULL)
		return queue_oom(h);
	if ((rc = queue_list(h, failed_only, &v->items, &v->n)) < 0 || (rc = queue_view_build(h, v)) < 0) {
		outbox_queue_view_free(v);
		return rc;
	}
	*out = v;
	return 0;
}

int outbox_queue_show(outbox *h, long long id, outbox_queue_view **out)
{
	outbox_queue_view *v = calloc(1, sizeof *v);
	int rc;

	*out = NULL;
	if (v == NULL || (v->items = calloc(1, sizeof *v->items)) == NULL) {
		free(v);
		return queue_oom(h);
	}
	if ((rc = queue_get(h, id, &v->items[0])) < 0) {
		outbox_queue_view_free(v);
		return rc;
	}
	v->n = 1;
	if ((rc = queue_view_build(h, v)) < 0) {
		outbox_queue_view_free(v);
		return rc;
	}
	*out = v;
	return 0;
}

size_t outbox_queue_view_count(const outbox_queue_view *v)
{
	return v ? v->n : 0;
}

const outbox_queue_message *outbox_queue_view_at(const outbox_queue_view *v, size_t i)
{
	return v && i < v->n ? &v->msgs[i] : NULL;
}

void outbox_queue_view_free(outbox_queue_view *v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < v->n; i++) {
		if (v->rcpts)
			free(v->rcpts[i]);
		if (v->logs)
			free(v->logs[i]);
	}
	free(v->rcpts);
	free(v->logs);
	free(v->msgs);
	queue_items_free(v->items, v->n);
	free(v);
}

int outbox_queue_retry(outbox *h, long long id)
{
	return queue_retry(h, id);
}

int outbox_queue_remove(outbox *h, long long id, int purge)
{
	char name[33] = "";
	struct spool sp;
	int rc = queue_remove(h, id, purge, name);

	/* The row is gone first; a crash before the unlink leaves an orphan file, never a row
	 * without its message. */
	if (rc == 0 && purge && name[0] && spool_open_dir(h, &sp) == 0) {
		spool_remove(h, &sp, name);
		spool_close_dir(&sp);
	}
	return rc;
}
