/* check_view.c: "Check Connection": runs the library's connection steps (resolve, connect, TLS
 * and certificate, EHLO, AUTH) on a server draft and shows each one as it completes. */
#include <curses.h>
#include <stdio.h>
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

struct check_state {
	struct tui *t;
	char server[256];
	struct check_step steps[OUTBOX_STEP_COUNT];
	int done, rc;
	char summary[600];
};

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
		widget_text(y + h - 3, x + 2, w - 4, "Checking... no mail is sent.");
	}
	widget_cursor_reset();
	widget_cursor_place();
	refresh();
}

static void check_on_step(void *ctx, const outbox_doctor_report *r)
{
	struct check_state *c = ctx;
	struct check_step *s;

	if ((unsigned)r->step >= OUTBOX_STEP_COUNT)
		return;
	s = &c->steps[r->step];
	s->seen = 1;
	s->status = r->status;
	s->ms = r->elapsed_ms;
	snprintf(s->title, sizeof s->title, "%s", r->title ? r->title : r->name ? r->name : "");
	snprintf(s->detail, sizeof s->detail, "%s", r->detail ? r->detail : "");
	snprintf(s->advice, sizeof s->advice, "%s", r->advice ? r->advice : "");
	check_draw(c);
}

void check_run(struct tui *t, const outbox_server *s)
{
	struct check_state c;
	int key;

	memset(&c, 0, sizeof c);
	c.t = t;
	snprintf(c.server, sizeof c.server, "%s", outbox_server_get(s, OUTBOX_SERVER_NAME));
	check_draw(&c);
	c.rc = outbox_doctor_check(t->h, s, check_on_step, &c);
	c.done = 1;
	if (c.rc == 0)
		snprintf(c.summary, sizeof c.summary, "Every step passed: this server can send your mail.");
	else
		snprintf(c.summary, sizeof c.summary, "Failed: %s", outbox_errmsg(t->h));
	/* Keys typed while the check ran were meant for the check, not for the view below. */
	flushinp();
	for (;;) {
		check_draw(&c);
		/* Any key closes it: there is nothing else to do here. */
		key = screen_getkey(t, -1);
		if (key != TK_NONE && key != TK(KEY_RESIZE))
			break;
	}
	if (c.rc == 0)
		tui_status(t, 0, "Check connection: every step passed for \"%s\".", c.server);
	else
		tui_status(t, 1, "Check connection failed: %s", outbox_errmsg(t->h));
}
