/* check_view.c: "Check Connection": runs the library's connection steps (resolve, connect, TLS
 * and certificate, EHLO, AUTH) on a copy of a server draft in a thread of its own, and shows each
 * step as it completes, wrapped to the dialog and scrolled when taller than the screen, until
 * Close; Esc closes it at any time without waiting for the network. When the fix is a change of
 * fields, Apply puts them in the form's draft. */
#include <curses.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

#define CHECK_FIX_MAX 4

struct check_step {
	int seen;
	outbox_step_status status;
	char title[200];
	char detail[600];
	char advice[900]; /* in the form's words */
	long long ms;
	size_t nfix; /* the fields the advice sets, when a change of fields is the fix */
	int fix_field[CHECK_FIX_MAX];
	char fix_value[CHECK_FIX_MAX][256];
};

/* What the check's worker and its dialog share (under job.lock): each step as it was reported. */
struct check_job {
	struct worker_job job;
	struct check_step steps[OUTBOX_STEP_COUNT];
	/* The worker's alone: a copy, so the view may go on editing or free its draft. */
	outbox_server *server;
};

/* One line of the dialog's body, as wrapped to its width: a slice of a string of the snapshot. */
struct check_line {
	const char *text;
	size_t len;
	const char *mark; /* "[ OK ]" on a step's first line, else NULL */
	int style, bold, indent;
};

#define CHECK_LINES 400

enum { CHECK_BTN_APPLY, CHECK_BTN_CLOSE };

/* What one dialog shows: a snapshot taken under the lock, drawn without it. */
struct check_state {
	struct tui *t;
	char server[256];
	struct check_step steps[OUTBOX_STEP_COUNT];
	int done, rc;
	char summary[700];
	char errmsg[600];
	char titles[OUTBOX_STEP_COUNT][240];  /* the title with the time it took */
	char advices[OUTBOX_STEP_COUNT][920]; /* "What to do: ..." */
	struct check_line lines[CHECK_LINES];
	int nlines;
	int scroll, rows; /* the first body line shown, and how many fit */
	int follow;       /* not scrolled by hand: keep the news in view */
	int focus;        /* CHECK_BTN_APPLY or CHECK_BTN_CLOSE */
	const struct check_step *fixer; /* the failed step, when its fix can be applied */
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
	snprintf(s->detail, sizeof s->detail, "%s",
		 r->form_detail && *r->form_detail ? r->form_detail : r->detail ? r->detail : "");
	snprintf(s->advice, sizeof s->advice, "%s",
		 r->form_advice && *r->form_advice ? r->form_advice : r->advice ? r->advice : "");
	s->nfix = 0;
	for (size_t i = 0; i < r->nfix && i < CHECK_FIX_MAX; i++) {
		s->fix_field[i] = (int)r->fix[i].field;
		snprintf(s->fix_value[i], sizeof s->fix_value[i], "%s", r->fix[i].value);
		s->nfix++;
	}
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

/* Add `text` wrapped to `width` columns; the first line gets `mark`. Returns the first line's index. */
static int check_add_text(struct check_state *c, const char *text, int width, int indent, int style, int bold,
			  const char *mark)
{
	int first = c->nlines;

	if (width < 1)
		width = 1;
	do {
		const char *next;
		size_t len = wrap_next(text, width, &next);
		if (c->nlines == CHECK_LINES)
			break;
		c->lines[c->nlines] = (struct check_line){text, len, c->nlines == first ? mark : NULL, style, bold,
							  indent};
		c->nlines++;
		text = next;
	} while (*text);
	return first;
}

/* The body as lines for a dialog `w` columns wide: each step seen, then the summary. Returns the
 * first line of the failed step, or -1. */
static int check_layout(struct check_state *c, int w)
{
	int failed_at = -1, i;
	char tbuf[sizeof c->titles[0]], abuf[sizeof c->advices[0]];

	c->nlines = 0;
	c->fixer = NULL;
	for (i = 0; i < OUTBOX_STEP_COUNT; i++) {
		struct check_step *s = &c->steps[i];
		const char *mark = "[    ]";
		int style = TS_DIM, first;
		if (!s->seen)
			continue;
		switch (s->status) {
		case OUTBOX_STEP_RUNNING: mark = "[ .. ]"; style = TS_NORMAL; break;
		case OUTBOX_STEP_OK: mark = "[ OK ]"; style = TS_OK; break;
		case OUTBOX_STEP_FAILED: mark = "[FAIL]"; style = TS_ERROR; break;
		case OUTBOX_STEP_SKIPPED: mark = "[skip]"; style = TS_DIM; break;
		}
		/* Made in a buffer of its own, then kept: the lines point into the state. */
		if (s->status == OUTBOX_STEP_RUNNING || s->ms <= 0)
			snprintf(tbuf, sizeof tbuf, "%s", s->title);
		else
			snprintf(tbuf, sizeof tbuf, "%s  (%lld ms)", s->title, s->ms);
		memcpy(c->titles[i], tbuf, sizeof tbuf);
		first = check_add_text(c, c->titles[i], w - 11, 9, style, 0, mark);
		if (s->detail[0])
			check_add_text(c, s->detail, w - 11, 9, TS_NORMAL, 0, NULL);
		if (s->advice[0]) {
			snprintf(abuf, sizeof abuf, "What to do: %s", s->advice);
			memcpy(c->advices[i], abuf, sizeof abuf);
			check_add_text(c, c->advices[i], w - 11, 9, TS_NORMAL, 1, NULL);
		}
		if (s->status == OUTBOX_STEP_FAILED) {
			failed_at = first;
			if (s->nfix)
				c->fixer = s;
		}
	}
	if (c->nlines < CHECK_LINES)
		c->lines[c->nlines++] = (struct check_line){"", 0, NULL, TS_NORMAL, 0, 2};
	if (c->done)
		check_add_text(c, c->summary, w - 4, 2, c->rc == 0 ? TS_OK : TS_ERROR, 0, NULL);
	else
		check_add_text(c, "Checking... no mail is sent. Esc cancels.", w - 4, 2, TS_NORMAL, 0, NULL);
	return failed_at;
}

static int check_max_scroll(const struct check_state *c)
{
	return c->nlines > c->rows ? c->nlines - c->rows : 0;
}

static void check_draw(struct check_state *c)
{
	struct tui *t = c->t;
	int w = t->cols - 4, h = t->rows - 2, y = 1, x = 2, i, failed_at, bx;
	char title[300];

	if (w < 16 || h < 5) { /* too small for anything but a word */
		erase();
		widget_text(0, 0, t->cols, "Check connection: the terminal is too small. Esc closes.");
		refresh();
		return;
	}
	failed_at = check_layout(c, w);
	c->rows = h - 3; /* the body, between the top border and the button row */
	if (c->follow)
		c->scroll = c->done && failed_at >= 0 ? failed_at : check_max_scroll(c);
	if (c->scroll > check_max_scroll(c))
		c->scroll = check_max_scroll(c);
	if (c->scroll < 0)
		c->scroll = 0;
	if (c->fixer == NULL)
		c->focus = CHECK_BTN_CLOSE;

	tui_draw(t);
	t->nhits = 0;
	snprintf(title, sizeof title, "Check connection: %s", c->server);
	widget_box(y, x, h, w, title);
	for (i = 0; i < c->rows && c->scroll + i < c->nlines; i++) {
		const struct check_line *l = &c->lines[c->scroll + i];
		char text[1000];
		snprintf(text, sizeof text, "%.*s", (int)l->len, l->text);
		if (l->mark) {
			attron(screen_attr(l->style));
			mvaddstr(y + 1 + i, x + 2, l->mark);
			attroff(screen_attr(l->style));
		}
		if (l->bold)
			attron(A_BOLD);
		else if (l->indent == 2)
			attron(screen_attr(l->style));
		widget_text(y + 1 + i, x + l->indent, w - l->indent - 2, text);
		if (l->bold)
			attroff(A_BOLD);
		else if (l->indent == 2)
			attroff(screen_attr(l->style));
	}
	/* Marks on the borders: there is more to scroll to. */
	if (c->scroll > 0)
		mvaddstr(y, x + w - 10, " ^ more ");
	if (c->scroll < check_max_scroll(c))
		mvaddstr(y + h - 1, x + w - 10, " v more ");
	if (c->done) {
		bx = x + w / 2 - (c->fixer ? 11 : 5);
		if (c->fixer)
			bx += widget_button(t, y + h - 2, bx, "Apply", 'A', c->focus == CHECK_BTN_APPLY, 1,
					    CHECK_BTN_APPLY) + 2;
		widget_button(t, y + h - 2, bx, "Close", 'C', c->focus == CHECK_BTN_CLOSE, 1, CHECK_BTN_CLOSE);
	} else {
		widget_button(t, y + h - 2, x + w / 2 - 6, "Cancel", 'n', 1, 1, CHECK_BTN_CLOSE);
	}
	/* The bottom row says which keys work here, not the view's keys below the dialog. */
	attron(screen_attr(TS_STATUS));
	widget_text(t->rows - 1, 0, t->cols, "");
	widget_text(t->rows - 1, 1, t->cols - 2,
		    !c->done ? "Esc: cancel  Up/Down/PgUp/PgDn: scroll"
		    : c->fixer ? "a: apply the fix  c or Esc: close  Up/Down/PgUp/PgDn: scroll"
			       : "c or Esc: close  Up/Down/PgUp/PgDn: scroll");
	attroff(screen_attr(TS_STATUS));
	widget_cursor_reset();
	widget_cursor_place();
	refresh();
}

/* "Failed: " and what failed: the failed step's finding in the form's words, else the message. */
static void check_failed_summary(struct check_state *c, const char *errmsg)
{
	const char *what = errmsg;

	for (int i = 0; i < OUTBOX_STEP_COUNT; i++)
		if (c->steps[i].seen && c->steps[i].status == OUTBOX_STEP_FAILED && c->steps[i].detail[0])
			what = c->steps[i].detail;
	snprintf(c->summary, sizeof c->summary, "Failed: %.600s", what);
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
			check_failed_summary(c, j->job.errmsg);
		snprintf(c->errmsg, sizeof c->errmsg, "%s", j->job.errmsg);
	}
	pthread_mutex_unlock(&j->job.lock);
	return fresh;
}

/* Scrolling keys (the wheel comes as Up and Down); 1 when the key was one. */
static int check_scroll_key(struct check_state *c, int key)
{
	int page = c->rows > 1 ? c->rows - 1 : 1;

	switch (key) {
	case TK(KEY_UP): c->scroll--; break;
	case TK(KEY_DOWN): c->scroll++; break;
	case TK(KEY_PPAGE): c->scroll -= page; break;
	case TK(KEY_NPAGE): c->scroll += page; break;
	case TK(KEY_HOME): c->scroll = 0; break;
	case TK(KEY_END): c->scroll = check_max_scroll(c); break;
	default: return 0;
	}
	c->follow = 0;
	return 1;
}

/* Apply: each field of the fix to the form, in order; the words for the status line. */
static int check_apply(struct tui *t, const struct check_step *s, check_apply_fn apply, void *ctx, char *said,
		       size_t size)
{
	size_t len;

	snprintf(said, size, "Applied:");
	for (size_t i = 0; i < s->nfix; i++) {
		const outbox_field *info = outbox_server_field_info((outbox_server_field_id)s->fix_field[i]);
		if (apply(t, ctx, s->fix_field[i], s->fix_value[i]) < 0)
			return -1;
		len = strlen(said);
		snprintf(said + len, size - len, "%s %s %s", i ? "," : "", info ? info->label : "?",
			 s->fix_value[i][0] ? s->fix_value[i] : "(empty)");
	}
	len = strlen(said);
	snprintf(said + len, size - len, ". OK saves the server; Cancel takes it back.");
	return 0;
}

void check_run(struct tui *t, const outbox_server *s, check_apply_fn apply, void *ctx)
{
	struct check_state *c = calloc(1, sizeof *c);
	struct check_job *j;
	struct check_step fix;
	unsigned seen = 0;
	int key, arg, cancelled = 0, applying = 0;
	char said[600];

	memset(&fix, 0, sizeof fix);
	if (c == NULL || (j = check_start(t, s)) == NULL) {
		free(c);
		tui_status(t, 1, "Check connection could not start: out of memory or threads");
		return;
	}
	c->t = t;
	c->follow = 1;
	c->focus = CHECK_BTN_CLOSE;
	snprintf(c->server, sizeof c->server, "%s", outbox_server_get(s, OUTBOX_SERVER_NAME));
	check_draw(c);
	for (;;) {
		if (check_snapshot(j, c, &seen))
			check_draw(c);
		/* While it runs, wake up often enough to show each step soon after it ends, with no
		 * key pressed; once done, only a key changes anything. */
		key = screen_getkey(t, c->done ? -1 : 50);
		if (key == TK_NONE)
			continue;
		if (key == TK(KEY_RESIZE) || key == 12 /* Ctrl-L */) {
			if (key == 12)
				clearok(curscr, TRUE);
			check_draw(c);
			continue;
		}
		if (check_scroll_key(c, key)) {
			check_draw(c);
			continue;
		}
		if (key == TK(KEY_MOUSE)) {
			if (tui_hit_find(t, t->mouse_y, t->mouse_x, &arg) != 1)
				continue;
			if (!c->done) {
				cancelled = 1;
				break;
			}
			applying = arg == CHECK_BTN_APPLY && c->fixer;
			break;
		}
		if (!c->done) {
			if (key == TK_ESC || key == TK_ALT('n') || key == TK_ALT('N')) {
				cancelled = 1;
				break;
			}
			continue; /* other keys while it runs were meant for the check, not the view below */
		}
		if (key == TK_ESC || key == 'c' || key == 'C' || key == TK_ALT('c') || key == TK_ALT('C'))
			break;
		if (c->fixer && (key == 'a' || key == 'A' || key == TK_ALT('a') || key == TK_ALT('A'))) {
			applying = 1;
			break;
		}
		if (key == TK_ENTER || key == ' ') {
			applying = c->focus == CHECK_BTN_APPLY && c->fixer;
			break;
		}
		if (c->fixer && (key == TK_TAB || key == TK(KEY_BTAB) || key == TK(KEY_LEFT) || key == TK(KEY_RIGHT))) {
			c->focus = c->focus == CHECK_BTN_APPLY ? CHECK_BTN_CLOSE : CHECK_BTN_APPLY;
			check_draw(c);
		}
		/* Any other key: the result stays until Close. */
	}
	if (applying)
		fix = *c->fixer; /* the snapshot goes with the dialog */
	worker_job_release(&j->job);
	if (cancelled)
		tui_status(t, 0, "Check connection cancelled for \"%s\"; nothing was sent.", c->server);
	else if (applying && apply == NULL)
		tui_status(t, 1, "This view cannot apply the fix: change the fields by hand.");
	else if (applying && check_apply(t, &fix, apply, ctx, said, sizeof said) == 0)
		tui_status(t, 0, "%s", said);
	else if (applying) {
		/* the view said what was refused */
	} else if (c->rc == 0)
		tui_status(t, 0, "Check connection: every step passed for \"%s\".", c->server);
	else
		tui_status(t, 1, "Check connection failed: %s", c->errmsg);
	free(c);
}
