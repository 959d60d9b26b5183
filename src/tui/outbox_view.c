/* outbox_view.c: the Outbox view: queued and failed messages with their state, last reply and
 * next attempt, the selected one's servers' replies and recipients below, retry (which sends
 * now), remove and undo. */
#include <curses.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui.h"

enum { BTN_RETRY, BTN_RETRY_ALL, BTN_REMOVE, BTN_COUNT };
enum { HIT_ROW = 30, HIT_BUTTON };

struct outbox_view {
	outbox_queue_view *q;
	outbox_queue_view *shown; /* the selected message with its attempts, for the details */
	struct outbox_reply_part parts[OUTBOX_REPLY_PARTS]; /* its servers' replies, in the order tried */
	size_t nparts;
	size_t sel, scroll;
	long long sel_id;
	long long removed_id; /* the last message removed here, selected again when `u` brings it back */
	struct outbox_send_job *send; /* a Retry left sending in the background, or NULL */
	int button, on_buttons;
};

/* The selected message with every attempt (the list has only its last reply); NULL when there
 * is none or it cannot be read, and the details then make do with the list's row. */
static void outbox_view_load_shown(struct tui *t, struct outbox_view *v)
{
	outbox_queue_view_free(v->shown);
	v->shown = NULL;
	if (v->sel_id > 0 && outbox_queue_show(t->h, v->sel_id, &v->shown) < 0)
		v->shown = NULL;
	v->nparts = outbox_replies_split(t, v->shown ? outbox_queue_view_at(v->shown, 0) : NULL, v->parts,
					 OUTBOX_REPLY_PARTS);
}

void outbox_view_reload(struct tui *t, struct outbox_view *v)
{
	size_t n;

	outbox_queue_view_free(v->q);
	v->q = NULL;
	if (outbox_queue_list(t->h, 0, &v->q) < 0) {
		tui_status(t, 1, "%s", outbox_errmsg(t->h));
		v->q = NULL;
	}
	n = v->q ? outbox_queue_view_count(v->q) : 0;
	/* Stay on the same message when it is still there. */
	for (size_t i = 0; i < n; i++)
		if (outbox_queue_view_at(v->q, i)->id == v->sel_id)
			v->sel = i;
	if (v->sel >= n)
		v->sel = n ? n - 1 : 0;
	v->sel_id = n ? outbox_queue_view_at(v->q, v->sel)->id : 0;
	outbox_view_load_shown(t, v);
}

struct outbox_view *outbox_view_new(struct tui *t)
{
	struct outbox_view *v = calloc(1, sizeof *v);

	if (v)
		outbox_view_reload(t, v);
	return v;
}

void outbox_view_free(struct outbox_view *v)
{
	if (v == NULL)
		return;
	outbox_queue_view_free(v->q);
	outbox_queue_view_free(v->shown);
	outbox_send_release(v->send);
	free(v);
}

static size_t outbox_view_count(const struct outbox_view *v)
{
	return v->q ? outbox_queue_view_count(v->q) : 0;
}

static const char *outbox_view_when(long long at, char *buf, size_t size)
{
	time_t tt = (time_t)at;
	struct tm tm;

	if (at <= 0)
		return "-";
	localtime_r(&tt, &tm);
	strftime(buf, size, "%m-%d %H:%M", &tm);
	return buf;
}

/* Retry sends now: the selected message, or with `all` every one in the list (failed ones are
 * queued again), in a worker with its progress shown. */
static void outbox_view_retry(struct tui *t, struct outbox_view *v, int all)
{
	size_t n = outbox_view_count(v), i;
	long long *ids;

	if (v->send) {
		tui_status(t, 1, "Still sending the last retry: wait for it to end, then retry.");
		return;
	}
	if (n == 0 || (!all && v->sel_id == 0)) {
		tui_status(t, 1, "Nothing to retry: the outbox is empty.");
		return;
	}
	if ((ids = calloc(all ? n : 1, sizeof *ids)) == NULL) {
		tui_status(t, 1, "out of memory");
		return;
	}
	for (i = 0; i < (all ? n : 1); i++)
		ids[i] = all ? outbox_queue_view_at(v->q, i)->id : v->sel_id;
	v->send = outbox_send_now(t, all ? 0 : v->sel_id, ids, all ? n : 1);
	free(ids);
	outbox_view_reload(t, v);
}

/* Who a message is for, as "a, b" (its recipients not yet delivered first in line). */
static void outbox_view_to_whom(const outbox_queue_message *m, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < m->nrecipients && used + 1 < size; i++) {
		snprintf(buf + used, size - used, "%s%s", i ? ", " : "", m->recipients[i].address);
		used += strlen(buf + used);
	}
	if (!buf[0])
		snprintf(buf, size, "no one");
}

static void outbox_view_remove(struct tui *t, struct outbox_view *v)
{
	static const char *const buttons[] = {"&Remove", "&Cancel", NULL};
	char line[200], to[300], to_line[320];
	const char *lines[] = {line, to_line, "It will not be sent; u brings it back.", NULL};
	long long id = v->sel_id;

	if (id == 0) {
		tui_status(t, 1, "Nothing to remove: the outbox is empty.");
		return;
	}
	outbox_view_to_whom(outbox_queue_view_at(v->q, v->sel), to, sizeof to);
	snprintf(line, sizeof line, "Remove message %lld from the outbox?", id);
	snprintf(to_line, sizeof to_line, "To: %s", to);
	if (widget_dialog(t, "Remove message", lines, buttons, 1) != 0) {
		tui_status(t, 0, "Message %lld was not removed.", id);
		return;
	}
	if (outbox_queue_remove(t->h, id, 0) < 0) {
		tui_status(t, 1, "%s", outbox_errmsg(t->h));
	} else {
		v->removed_id = id;
		tui_status(t, 0, "Removed message %lld to %s; u brings it back.", id, to);
	}
	outbox_view_reload(t, v);
}

/* u: take back the last removal, whatever it was (the same journal as `outbox undo`); a
 * message removed here comes back selected. */
static void outbox_view_undo(struct tui *t, struct outbox_view *v)
{
	if (v->removed_id)
		v->sel_id = v->removed_id;
	tui_undo(t);
	if (v->removed_id && v->sel_id == v->removed_id)
		v->removed_id = 0;
}

static void outbox_view_button(struct tui *t, struct outbox_view *v, int b)
{
	if (b == BTN_RETRY)
		outbox_view_retry(t, v, 0);
	else if (b == BTN_RETRY_ALL)
		outbox_view_retry(t, v, 1);
	else
		outbox_view_remove(t, v);
}

static void outbox_view_select(struct tui *t, struct outbox_view *v, size_t sel)
{
	size_t n = outbox_view_count(v);

	if (n == 0)
		return;
	v->sel = sel < n ? sel : n - 1;
	v->sel_id = outbox_queue_view_at(v->q, v->sel)->id;
	if (v->shown == NULL || outbox_queue_view_at(v->shown, 0)->id != v->sel_id)
		outbox_view_load_shown(t, v);
}

int outbox_view_key(struct tui *t, struct outbox_view *v, int key)
{
	int arg, tag;

	if (key & 0x400000)
		key &= 0xffff;
	switch (key) {
	case TK(KEY_MOUSE):
		tag = tui_hit_find(t, t->mouse_y, t->mouse_x, &arg);
		if (tag == HIT_ROW)
			outbox_view_select(t, v, (size_t)arg);
		else if (tag == HIT_BUTTON)
			outbox_view_button(t, v, arg);
		return 1;
	case TK(KEY_UP): outbox_view_select(t, v, v->sel > 0 ? v->sel - 1 : 0); return 1;
	case TK(KEY_DOWN): outbox_view_select(t, v, v->sel + 1); return 1;
	case TK(KEY_HOME): outbox_view_select(t, v, 0); return 1;
	case TK(KEY_END): outbox_view_select(t, v, outbox_view_count(v)); return 1;
	case 'r': outbox_view_retry(t, v, 0); return 1;
	case 'R':
	case 'a':
	case 'A':
		outbox_view_retry(t, v, 1);
		return 1;
	case '-':
	case TK(KEY_DC):
		outbox_view_remove(t, v);
		return 1;
	case 'u':
		outbox_view_undo(t, v);
		return 1;
	case TK_TAB:
		v->on_buttons = !v->on_buttons || v->button + 1 < BTN_COUNT;
		v->button = v->on_buttons && v->button + 1 < BTN_COUNT ? v->button + 1 : 0;
		return 1;
	case TK(KEY_LEFT): v->button = v->button > 0 ? v->button - 1 : 0; return 1;
	case TK(KEY_RIGHT): v->button = v->button + 1 < BTN_COUNT ? v->button + 1 : v->button; return 1;
	case TK_ENTER:
	case ' ':
		if (v->on_buttons)
			outbox_view_button(t, v, v->button);
		else
			tui_status(t, 0, "Enter acts on a button: Tab to the buttons, or r retries and - removes.");
		return 1;
	case TK_ESC:
		if (!v->on_buttons)
			return 0;
		v->on_buttons = 0;
		return 1;
	}
	return 0;
}

/* "-" for a value the message does not have (yet), as the CLI prints it. */
static const char *outbox_view_or_dash(const char *s)
{
	return s && *s ? s : "-";
}

/* Each server's latest reply to the message, in the order they were tried (a run tries the
 * account's server, then its fallbacks), one per line, wrapped to the pane: the last words alone
 * would hide why the main server failed. Returns the rows used. */
static int outbox_view_replies(struct tui *t, const struct outbox_view *v, const outbox_queue_message *m, int y,
			       int bottom)
{
	static const char label[] = "Last reply: ";
	int used = 0, indent = (int)sizeof label - 1, shown = v->shown && outbox_queue_view_at(v->shown, 0)->id == m->id;
	char line[1200];

	for (size_t i = 0; shown && i < v->nparts && y + used < bottom; i++) {
		const struct outbox_reply_part *p = &v->parts[i];
		/* In a short pane each server gets its share of the rows, so none is left out. */
		int left = bottom - y - used, share = left / (int)(v->nparts - i);
		snprintf(line, sizeof line, "%s%.*s: %.*s", used ? "" : label, p->server_len, p->server, p->words_len,
			 p->words);
		used += wrap_text(y + used, 1 + (used ? indent : 0), t->cols - 2 - (used ? indent : 0),
				  share > 0 ? share : 1, used ? 2 : indent, line);
	}
	if (used == 0 && y < bottom) {
		snprintf(line, sizeof line, "%s%s", label, m->last_reply && *m->last_reply ? m->last_reply : "-");
		used = wrap_text(y, 1, t->cols - 2, bottom - y, indent, line);
	}
	return used;
}

static void outbox_view_details(struct tui *t, const struct outbox_view *v, const outbox_queue_message *m, int top,
				int bottom)
{
	char line[1200];
	int y = top;

	/* No server of its own: it goes wherever its account points when it is sent. */
	snprintf(line, sizeof line, "Message %lld from %s (%s) via %s, %lld bytes, %d attempt%s%s", m->id,
		 outbox_view_or_dash(m->sender), outbox_view_or_dash(m->account),
		 m->server && *m->server ? m->server : "the account's server", m->size, m->attempts,
		 m->attempts == 1 ? "" : "s", m->uncertain ? "; may have been delivered" : "");
	if (y < bottom)
		widget_text(y++, 1, t->cols - 2, line);
	y += outbox_view_replies(t, v, m, y, bottom);
	for (size_t i = 0; i < m->nrecipients && y < bottom; i++) {
		snprintf(line, sizeof line, "  %-30s %-10s %s", m->recipients[i].address, m->recipients[i].state,
			 m->recipients[i].reply ? m->recipients[i].reply : "");
		widget_text(y++, 1, t->cols - 2, line);
	}
}

/* The list's columns: on a narrow screen the attempt count goes first, then the next attempt;
 * the last reply, which says why a message waits, stays. */
static const struct layout_col outbox_view_cols[] = {
	{"ID", NULL, 4, 0, 0},      {"State", NULL, 8, 0, 0}, {"From", NULL, 10, 40, 0},
	{"Try", NULL, 3, 0, 3},     {"Next", NULL, 11, 0, 2}, {"Last Reply", "Reply", 10, 60, 0},
};

static void outbox_view_draw_row(struct tui *t, struct outbox_view *v, int y, size_t i, const struct layout_cols *c,
				 const char *mark)
{
	const outbox_queue_message *m = outbox_queue_view_at(v->q, i);
	char id[24], tries[16], when[40];
	const char *texts[6];

	snprintf(id, sizeof id, "%lld", m->id);
	snprintf(tries, sizeof tries, "%d", m->attempts);
	texts[0] = id;
	texts[1] = m->state;
	texts[2] = m->sender ? m->sender : "-";
	texts[3] = tries;
	texts[4] = strcmp(m->state, "queued") == 0 ? outbox_view_when(m->next_attempt_at, when, sizeof when) : "-";
	texts[5] = m->last_reply ? m->last_reply : "";
	if (i == v->sel)
		attron(screen_attr(TS_SELECTED));
	widget_text(y, 0, 1, "");
	layout_row(y, 1, c, texts, mark);
	if (i == v->sel)
		attroff(screen_attr(TS_SELECTED));
	tui_hit_add(t, y, 0, t->cols, HIT_ROW, (int)i);
}

void outbox_view_draw(struct tui *t, struct outbox_view *v)
{
	static const char *const labels[BTN_COUNT] = {"Retry", "Retry All", "- Remove"};
	static const char mnemonics[BTN_COUNT] = {'R', 'A', '-'};
	size_t n, i;
	const outbox_queue_message *sel;
	struct layout_cols c;
	struct layout_page p;
	char mark[40];

	/* A retry sending in the background: its progress, then its outcome and the list as it left it. */
	if (v->send && outbox_send_poll(t, v->send)) {
		v->send = NULL;
		outbox_view_reload(t, v);
	}
	n = outbox_view_count(v);
	sel = n ? outbox_queue_view_at(v->q, v->sel) : NULL;

	/* The details below the list play the form's part: a line about the message, a line per
	 * recipient and a reply line per server tried. */
	layout_page(t, n ? (int)n : 2, sel ? 1 + (int)sel->nrecipients + (v->nparts ? (int)v->nparts : 1) : 1,
		    layout_button_rows(1, t->cols, labels, BTN_COUNT), &p);
	layout_columns(&c, t->cols - 1, outbox_view_cols, (int)(sizeof outbox_view_cols / sizeof outbox_view_cols[0]));
	layout_heads(p.head_y, 1, &c);
	/* Empty says nothing of how: sent, given up and removed messages all leave it. */
	if (n == 0) {
		layout_cell(p.list_y, 4, t->cols - 4, "The outbox is empty.");
		if (p.list_h > 1)
			layout_cell(p.list_y + 1, 4, t->cols - 4, "What was sent, and how it went: outbox log");
	}
	layout_scroll(&v->scroll, v->sel, n, p.list_h);
	for (i = v->scroll; i < n && i < v->scroll + (size_t)p.list_h; i++) {
		int row = (int)(i - v->scroll);
		outbox_view_draw_row(t, v, p.list_y + row, i, &c,
				     layout_mark(v->scroll, n, p.list_h, row, mark, sizeof mark));
	}
	attron(screen_attr(TS_TITLE));
	widget_text(p.title_y, 0, t->cols, n ? " Details" : "");
	attroff(screen_attr(TS_TITLE));
	if (sel)
		outbox_view_details(t, v, sel, p.form_y, p.form_y + p.form_h);
	layout_buttons(t, p.buttons_y, 1, t->cols, labels, mnemonics, BTN_COUNT, v->on_buttons ? v->button : -1,
		       HIT_BUTTON);
	t->hint = "Up/Down: choose  r: retry  R: retry all  -: remove  u: undo  ?: help";
}
