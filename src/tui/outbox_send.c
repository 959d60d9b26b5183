/* outbox_send.c: Retry and Retry All in the Outbox view send now: the queue run for those
 * messages in a worker, "Sending 1 of 3..." and each message's outcome in a dialog that Esc
 * closes while the send goes on, as the other worker dialogs do. */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui.h"

/* The outcomes told one by one; a Retry All of more says how many in its totals. */
#define SEND_TOLD 64

struct outbox_send_job {
	struct worker_job job;
	long long id; /* the one message sent, or 0 for every queued one */
	long long ids[SEND_TOLD]; /* whose outcome is told, read back after the run */
	size_t nids, total;
	/* Under job.lock: what the worker reported. */
	outbox_queue_stats stats;
	char outcome[SEND_TOLD][400];
	size_t noutcomes;
	char notice[400]; /* the last server that failed in the run, with why */
};

/* One dialog's copy, taken under the lock and drawn without it. */
struct send_state {
	outbox_queue_stats stats;
	size_t total, noutcomes;
	int done, rc;
	char outcome[SEND_TOLD][400];
	char notice[600]; /* the job's notice, or the failed run's error */
	char summary[700];
};

static void send_job_destroy(struct worker_job *job)
{
	free(job);
}

/* On the worker: the running totals of the run; no curses here. */
static void send_on_progress(void *ctx, const outbox_queue_stats *totals)
{
	struct outbox_send_job *j = ctx;

	pthread_mutex_lock(&j->job.lock);
	j->stats = *totals;
	j->job.changes++;
	pthread_mutex_unlock(&j->job.lock);
}

static void send_on_notice(void *ctx, const char *text)
{
	struct outbox_send_job *j = ctx;

	pthread_mutex_lock(&j->job.lock);
	snprintf(j->notice, sizeof j->notice, "%s", text ? text : "");
	j->job.changes++;
	pthread_mutex_unlock(&j->job.lock);
}

/* The recipients of `m` in `state`, as "a, b" appended to buf. */
static void send_recipients(const outbox_queue_message *m, const char *state, char *buf, size_t size)
{
	size_t used = strlen(buf), i;
	int first = 1;

	for (i = 0; i < m->nrecipients && used + 1 < size; i++) {
		if (strcmp(m->recipients[i].state, state) != 0)
			continue;
		snprintf(buf + used, size - used, "%s%s", first ? "" : ", ", m->recipients[i].address);
		used += strlen(buf + used);
		first = 0;
	}
}

/* What became of message `id`, read back from the store after the run, in the user's words. */
static void send_outcome(outbox *h, long long id, char *buf, size_t size)
{
	outbox_queue_view *v = NULL;
	const outbox_queue_message *m;
	char when[40];
	size_t used;

	if (outbox_queue_show(h, id, &v) < 0) {
		snprintf(buf, size, "%lld: %s", id, outbox_errmsg(h));
		return;
	}
	m = outbox_queue_view_at(v, 0);
	if (strcmp(m->state, "done") == 0) {
		snprintf(buf, size, "%lld: Sent to ", id);
		send_recipients(m, "delivered", buf, size);
		for (size_t i = 0; i < m->nrecipients; i++)
			if (strcmp(m->recipients[i].state, "refused") == 0) {
				used = strlen(buf);
				snprintf(buf + used, size - used, "; refused: ");
				send_recipients(m, "refused", buf, size);
				break;
			}
	} else if (strcmp(m->state, "queued") == 0) {
		time_t at = (time_t)m->next_attempt_at;
		struct tm tm;
		localtime_r(&at, &tm);
		strftime(when, sizeof when, "%H:%M", &tm);
		snprintf(buf, size, "%lld: Deferred, tried again at %s: %s", id, when,
			 m->last_reply && *m->last_reply ? m->last_reply : "no reply");
	} else if (strcmp(m->state, "failed") == 0) {
		snprintf(buf, size, "%lld: Given up: %s", id, m->last_reply && *m->last_reply ? m->last_reply : "-");
	} else {
		snprintf(buf, size, "%lld: Removed from the outbox meanwhile", id);
	}
	outbox_queue_view_free(v);
}

static int send_job_run(outbox *h, struct worker_job *job)
{
	struct outbox_send_job *j = (struct outbox_send_job *)job;
	outbox_queue_run_options o;
	outbox_queue_stats st;
	char line[400];
	int rc;

	memset(&o, 0, sizeof o);
	o.id = j->id;
	o.all = j->id == 0;
	o.progress = send_on_progress;
	o.notice = send_on_notice;
	o.ctx = j;
	rc = outbox_queue_run(h, &o, &st);
	pthread_mutex_lock(&j->job.lock);
	j->stats = st;
	pthread_mutex_unlock(&j->job.lock);
	/* A run the store stopped says why in its error; reading more would replace those words. */
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < j->nids; i++) {
		send_outcome(h, j->ids[i], line, sizeof line);
		pthread_mutex_lock(&j->job.lock);
		snprintf(j->outcome[j->noutcomes++], sizeof j->outcome[0], "%s", line);
		j->job.changes++;
		pthread_mutex_unlock(&j->job.lock);
	}
	return 0;
}

/* The run's totals in words, or its outcome when it sent one message. */
static void send_summarize(struct send_state *c)
{
	const outbox_queue_stats *s = &c->stats;
	size_t tried = s->delivered + s->deferred + s->failed;

	if (c->rc < 0)
		snprintf(c->summary, sizeof c->summary, "The send stopped: %s", c->notice);
	else if (tried == 0)
		snprintf(c->summary, sizeof c->summary, "Nothing was sent: another queue run is sending %s.",
			 c->total == 1 ? "this message" : "these messages");
	else if (c->total == 1 && c->noutcomes == 1)
		snprintf(c->summary, sizeof c->summary, "Message %s", c->outcome[0]);
	else
		snprintf(c->summary, sizeof c->summary, "Sent %zu, deferred %zu, given up %zu.", s->delivered,
			 s->deferred, s->failed);
}

/* Take what the worker reported since `*seen` (everything when seen is NULL); 1 when there was
 * something new. */
static int send_snapshot(struct outbox_send_job *j, struct send_state *c, unsigned *seen)
{
	int fresh;

	pthread_mutex_lock(&j->job.lock);
	fresh = seen == NULL || j->job.changes != *seen;
	if (fresh) {
		if (seen)
			*seen = j->job.changes;
		c->stats = j->stats;
		c->total = j->total;
		c->noutcomes = j->noutcomes;
		memcpy(c->outcome, j->outcome, sizeof c->outcome);
		c->done = j->job.done;
		c->rc = j->job.rc;
		/* A failed run's reason takes the notice's place: it is the one to tell. */
		snprintf(c->notice, sizeof c->notice, "%s", c->done && c->rc < 0 ? j->job.errmsg : j->notice);
		if (c->done)
			send_summarize(c);
	}
	pthread_mutex_unlock(&j->job.lock);
	return fresh;
}

/* "Sending 2 of 3...": the message after those the run has finished with. */
static void send_progress_words(const struct send_state *c, const char *tail, char *buf, size_t size)
{
	size_t next = c->stats.delivered + c->stats.deferred + c->stats.failed + 1;

	if (next > c->total)
		next = c->total;
	snprintf(buf, size, "Sending %zu of %zu...%s", next ? next : 1, c->total ? c->total : 1, tail);
}

/* Rows `text` takes wrapped to `width` columns, near enough to size the dialog. */
static int send_rows(const char *text, int width)
{
	return width > 4 ? (int)widget_width(text) / (width - 4) + 1 : 1;
}

/* One message's outcome is the summary itself; several are listed below it. */
static int send_lists_outcomes(const struct send_state *c)
{
	return c->total > 1;
}

static void send_draw(struct tui *t, const struct send_state *c)
{
	int w = t->cols - 4 > 90 ? 90 : t->cols - 4, h, y, x = (t->cols - w) / 2, row, bottom;
	char line[800];

	/* As tall as its words, at most the screen. */
	h = 4 + (c->done ? send_rows(c->summary, w - 4) : 1 + (c->notice[0] ? send_rows(c->notice, w - 4) : 0));
	for (size_t i = 0; send_lists_outcomes(c) && i < c->noutcomes; i++)
		h += send_rows(c->outcome[i], w - 4);
	if (h > t->rows - 2)
		h = t->rows - 2;
	y = (t->rows - h) / 2;
	tui_draw(t);
	t->nhits = 0;
	widget_box(y, x, h, w, c->done ? "Sending: done" : "Sending");
	row = y + 1;
	bottom = y + h - 2; /* the button's row */
	if (c->done) {
		attron(screen_attr(c->rc == 0 && c->stats.deferred + c->stats.failed == 0 ? TS_OK : TS_ERROR));
		row += wrap_text(row, x + 2, w - 4, bottom - row, 2, c->summary);
		attroff(screen_attr(c->rc == 0 && c->stats.deferred + c->stats.failed == 0 ? TS_OK : TS_ERROR));
	} else {
		send_progress_words(c, "", line, sizeof line);
		widget_text(row++, x + 2, w - 4, line);
		if (c->notice[0] && row < bottom)
			row += wrap_text(row, x + 2, w - 4, bottom - row, 2, c->notice);
	}
	for (size_t i = 0; send_lists_outcomes(c) && i < c->noutcomes && row < bottom; i++)
		row += wrap_text(row, x + 2, w - 4, bottom - row, 4, c->outcome[i]);
	if (c->done)
		widget_button(t, y + h - 2, x + w / 2 - 5, "Close", 'C', 1, 1, 0);
	else
		widget_text(y + h - 2, x + 2, w - 4, "Esc: keep sending in the background");
	widget_cursor_reset();
	widget_cursor_place();
	refresh();
}

static struct outbox_send_job *send_start(struct tui *t, long long id, const long long *ids, size_t nids)
{
	struct outbox_send_job *j = calloc(1, sizeof *j);

	if (j == NULL)
		return NULL;
	j->job.run = send_job_run;
	j->job.destroy = send_job_destroy;
	j->id = id;
	j->total = nids;
	j->nids = nids < SEND_TOLD ? nids : SEND_TOLD;
	memcpy(j->ids, ids, j->nids * sizeof *ids);
	return worker_job_start(t, &j->job) == 0 ? j : NULL;
}

struct outbox_send_job *outbox_send_now(struct tui *t, long long id, const long long *ids, size_t nids)
{
	struct send_state *c;
	struct outbox_send_job *j;
	unsigned seen = 0;
	int key, arg, background = 0, reloaded = 0;

	/* Due now first, a given-up message queued again: what the run then sends. */
	if (outbox_queue_retry(t->h, id) < 0) {
		tui_status(t, 1, "%s", outbox_errmsg(t->h));
		return NULL;
	}
	if ((c = calloc(1, sizeof *c)) == NULL || (j = send_start(t, id, ids, nids)) == NULL) {
		free(c);
		tui_status(t, 1, "Sending could not start: out of memory or threads; the next queue run sends %s.",
			   id ? "it" : "them");
		return NULL;
	}
	c->total = nids;
	send_draw(t, c);
	for (;;) {
		if (send_snapshot(j, c, &seen)) {
			/* The list behind the dialog shows what the send left, not what it began with. */
			if (c->done && !reloaded++)
				tui_reload(t);
			send_draw(t, c);
		}
		key = screen_getkey(t, c->done ? -1 : 50);
		if (key == TK_NONE)
			continue;
		if (key == TK(KEY_RESIZE)) {
			send_draw(t, c);
			continue;
		}
		if (key == TK(KEY_MOUSE) && tui_hit_find(t, t->mouse_y, t->mouse_x, &arg) != 1)
			continue;
		if (c->done)
			break; /* Close, or any key: there is nothing else to do here */
		if (key == TK_ESC) {
			background = 1;
			break;
		}
	}
	if (background) {
		tui_status(t, 0, "Sending in the background; the Outbox shows how it went.");
		free(c);
		return j;
	}
	tui_status(t, c->rc < 0, "%s", c->summary);
	free(c);
	worker_job_release(&j->job);
	return NULL;
}

int outbox_send_poll(struct tui *t, struct outbox_send_job *j)
{
	struct send_state *c = calloc(1, sizeof *c);
	char line[200];

	if (c == NULL)
		return 0;
	send_snapshot(j, c, NULL);
	if (!c->done) {
		send_progress_words(c, " (in the background)", line, sizeof line);
		tui_status(t, 0, "%s", line);
		free(c);
		return 0;
	}
	tui_status(t, c->rc < 0, "%s", c->summary);
	free(c);
	worker_job_release(&j->job);
	return 1;
}

void outbox_send_release(struct outbox_send_job *j)
{
	if (j)
		worker_job_release(&j->job);
}
