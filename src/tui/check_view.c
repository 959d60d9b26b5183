/* check_view.c: "Check Connection": runs the library's connection steps (resolve, connect, TLS
 * and certificate, EHLO, AUTH) on a copy of a server draft in a thread of its own, and shows each
 * step as it completes; Esc closes the dialog at any time without waiting for the network. */
#include <curses.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

struct check_step {
	int seen;
	outbox_step_status status;
	char title[200];
	char detail[600];
	char advice[400];
	long long ms;
};

/* What the check's worker and its dialog share (under job.lock): each step as it was reported. */
struct check_job {
	struct worker_job job;
	struct check_step steps[OUTBOX_STEP_COUNT];
	/* The worker's alone: a copy, so the view may go on editing or free its draft. */
	outbox_server *server;
};

/* What one dialog shows: a snapshot taken under the lock, drawn without it. */
struct check_state {
	struct tui *t;
	char server[256];
	struct check_step steps[OUTBOX_STEP_COUNT];
	int done, rc;
	char summary[700];
	char errmsg[600];
};

static void check_job_destroy(struct worker_job *job)
{
	struct check_job *j = (struct check_job *)job;

	outbox_server_free(j->server);
	free(j);
}

/* Runs on the check thread: copy the report and say that something changed; no curses here. */
static void check_on_step(void *ctx, const outbox_doctor_report *r)
{
	struct check_job *j = ctx;
	struct check_step *s;

	if ((unsigned)r->step >= OUTBOX_STEP_COUNT)
		return;
	pthread_mutex_lock(&j->job.lock);
	s = &j->steps[r->step];
	s->seen = 1;
	s->status = r->status;
	s->ms = r->elapsed_ms;
	snprintf(s->title, sizeof s->title, "%s", r->title ? r->title : r->name ? r->name : "");
	snprintf(s->detail, sizeof s->detail, "%s", r->detail ? r->detail : "");
	snprintf(s->advice, sizeof s->advice, "%s", r->advice ? r->advice : "");
	j->job.changes++;
	pthread_mutex_unlock(&j->job.lock);
}

static int check_job_run(outbox *h, struct worker_job *job)
{
	struct check_job *j = (struct check_job *)job;

	return outbox_doctor_check(h, j->server, check_on_step, j);
}

static struct check_job *check_start(struct tui *t, const outbox_server *s)
{
	struct check_job *j = calloc(1, sizeof *j);

	if (j == NULL)
		return NULL;
	j->job.run = check_job_run;
	j->job.destroy = check_job_destroy;
	if ((j->server = outbox_server_dup(s)) == NULL) {
		free(j);
		return NULL;
	}
	return worker_job_start(t, &j->job) == 0 ? j : NULL;
}

static void check_draw(struct check_state *c)
{
	struct tui *t = c->t;
	int w = t->cols - 4, h = t->rows - 2, y = 1, x = 2, row, i;
	char title[300];

	tui_draw(t);
	t->nhits = 0;
	snprintf(title, sizeof title, "Check connection: %s", c->server);
	widget_box(y, x, h, w, title);
	row = y + 1;
	for (i = 0; i < OUTBOX_STEP_COUNT && row < y + h - 3; i++) {
		const struct check_step *s = &c->steps[i];
		const char *mark = "[    ]";
		int style = TS_DIM;
		char line[900];
		if (!s->seen)
			continue;
		switch (s->status) {
		case OUTBOX_STEP_RUNNING: mark = "[ .. ]"; style = TS_NORMAL; break;
		case OUTBOX_STEP_OK: mark = "[ OK ]"; style = TS_OK; break;
		case OUTBOX_STEP_FAILED: mark = "[FAIL]"; style = TS_ERROR; break;
		case OUTBOX_STEP_SKIPPED: mark = "[skip]"; style = TS_DIM; break;
		}
		attron(screen_attr(style));
		mvaddstr(row, x + 2, mark);
		attroff(screen_attr(style));
		if (s->status == OUTBOX_STEP_RUNNING || s->ms <= 0)
			snprintf(line, sizeof line, "%s", s->title);
		else
			snprintf(line, sizeof line, "%s  (%lld ms)", s->title, s->ms);
		widget_text(row++, x + 9, w - 11, line);
		if (s->detail[0] && row < y + h - 3)
			widget_text(row++, x + 9, w - 11, s->detail);
		if (s->advice[0] && row < y + h - 3) {
			attron(A_BOLD);
			snprintf(line, sizeof line, "What to do: %s", s->advice);
			widget_text(row++, x + 9, w - 11, line);
			attroff(A_BOLD);
		}
	}
	if (c->done) {
		attron(screen_attr(c->rc == 0 ? TS_OK : TS_ERROR));
		widget_text(y + h - 3, x + 2, w - 4, c->summary);
		attroff(screen_attr(c->rc == 0 ? TS_OK : TS_ERROR));
		widget_button(t, y + h - 2, x + w / 2 - 5, "Close", 'C', 1, 1, 0);
	} else {
		widget_text(y + h - 3, x + 2, w - 4, "Checking... no mail is sent. Esc cancels.");
		widget_button(t, y + h - 2, x + w / 2 - 6, "Cancel", 'n', 1, 1, 0);
	}
	widget_cursor_reset();
	widget_cursor_place();
	refresh();
}

/* Take what the thread reported since `*seen`; 1 when there was something new. */
static int check_snapshot(struct check_job *j, struct check_state *c, unsigned *seen)
{
	int fresh;

	pthread_mutex_lock(&j->job.lock);
	fresh = j->job.changes != *seen;
	if (fresh) {
		*seen = j->job.changes;
		memcpy(c->steps, j->steps, sizeof c->steps);
		c->done = j->job.done;
		c->rc = j->job.rc;
		if (c->done && c->rc == 0)
			snprintf(c->summary, sizeof c->summary, "Every step passed: this server can send your mail.");
		else if (c->done)
			snprintf(c->summary, sizeof c->summary, "Failed: %s", j->job.errmsg);
		snprintf(c->errmsg, sizeof c->errmsg, "%s", j->job.errmsg);
	}
	pthread_mutex_unlock(&j->job.lock);
	return fresh;
}

void check_run(struct tui *t, const outbox_server *s)
{
	struct check_state c;
	struct check_job *j;
	unsigned seen = 0;
	int key, arg, cancelled = 0;

	memset(&c, 0, sizeof c);
	c.t = t;
	snprintf(c.server, sizeof c.server, "%s", outbox_server_get(s, OUTBOX_SERVER_NAME));
	if ((j = check_start(t, s)) == NULL) {
		tui_status(t, 1, "Check connection could not start: out of memory or threads");
		return;
	}
	check_draw(&c);
	for (;;) {
		if (check_snapshot(j, &c, &seen))
			check_draw(&c);
		/* While it runs, wake up often enough to show each step soon after it ends. */
		key = screen_getkey(t, c.done ? -1 : 50);
		if (key == TK_NONE)
			continue;
		if (key == TK(KEY_RESIZE)) {
			check_draw(&c);
			continue;
		}
		if (key == TK(KEY_MOUSE) && tui_hit_find(t, t->mouse_y, t->mouse_x, &arg) != 1)
			continue;
		if (c.done)
			break; /* any key closes it: there is nothing else to do here */
		if (key == TK_ESC || key == TK(KEY_MOUSE) || key == TK_ALT('n') || key == TK_ALT('N')) {
			cancelled = 1;
			break;
		}
		/* Other keys while it runs were meant for the check, not for the view below. */
	}
	worker_job_release(&j->job);
	if (cancelled)
		tui_status(t, 0, "Check connection cancelled for \"%s\"; nothing was sent.", c.server);
	else if (c.rc == 0)
		tui_status(t, 0, "Check connection: every step passed for \"%s\".", c.server);
	else
		tui_status(t, 1, "Check connection failed: %s", c.errmsg);
}
