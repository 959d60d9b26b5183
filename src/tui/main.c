/* main.c: `outbox ui`: the terminal UI's entry point and main loop: the tab bar, the status
 * line, global keys, and watching the store so changes made by other processes show up. */
#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "tui.h"

static const char tui_usage[] =
	"Usage: outbox ui\n"
	"\n"
	"A terminal dialog for outgoing servers, accounts and the outbox, like a mail client's\n"
	"\"Edit SMTP Server List\". Edits are applied when you press OK; Esc cancels them.\n"
	"\n"
	"Keys:\n"
	"  1 2 3, F1 F2 F3   Accounts, Servers, Outbox\n"
	"  Tab, Shift-Tab    next and previous field\n"
	"  Up, Down          move in lists       Enter   open, or OK in a form\n"
	"  + -               add, remove         u       undo the last removal or setup\n"
	"  c                 check connection    a       Advanced settings\n"
	"  Space             tick a box; on Fallback Servers, pick them ([ ] set the order)\n"
	"  Esc               cancel, go back     ?       help      q   quit\n"
	"  F4, Alt+Q         help and quit from a text field (where ? and q are typed)\n"
	"  Ctrl-L            repaint the screen\n"
	"\n"
	"NO_COLOR=1 turns colours off. The store is $OUTBOX_HOME, as for every outbox command.\n";

static const char *const tui_tab_names[TUI_TAB_COUNT] = {"Accounts", "Servers", "Outbox"};
enum { HIT_TAB = 1000 };

void tui_status(struct tui *t, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->status, sizeof t->status, fmt, ap);
	va_end(ap);
	t->status_error = error;
}

char *tui_join(const char *const *items)
{
	size_t len = 1, at = 0;
	char *out;

	for (const char *const *p = items; p && *p; p++)
		len += strlen(*p) + 2;
	if ((out = malloc(len)) == NULL)
		return NULL;
	for (const char *const *p = items; p && *p; p++) {
		size_t n = strlen(*p);
		if (p != items) {
			memcpy(out + at, ", ", 2);
			at += 2;
		}
		memcpy(out + at, *p, n);
		at += n;
	}
	out[at] = '\0';
	return out;
}

void tui_hit_add(struct tui *t, int y, int x0, int x1, int tag, int arg)
{
	if (t->nhits < (int)(sizeof t->hits / sizeof t->hits[0]))
		t->hits[t->nhits++] = (struct tui_hit){y, x0, x1, tag, arg};
}

int tui_hit_find(const struct tui *t, int y, int x, int *arg)
{
	/* The last drawn wins: dialogs are drawn over the view. */
	for (int i = t->nhits - 1; i >= 0; i--)
		if (t->hits[i].y == y && x >= t->hits[i].x0 && x < t->hits[i].x1) {
			*arg = t->hits[i].arg;
			return t->hits[i].tag;
		}
	return 0;
}

void tui_reload(struct tui *t)
{
	servers_reload(t, t->servers);
	accounts_reload(t, t->accounts);
	outbox_view_reload(t, t->outbox);
}

/* What the top bar promises must work where the focus is: in a text field ? and q are typed,
 * so there it names the keys that still reach help and quit. */
static const char *tui_global_keys(void)
{
	return widget_cursor_active() ? "F4: help  Alt+Q: quit" : "?: help  q: quit";
}

/* Columns the tab names take at the left of the top bar. */
static int tui_tabs_width(void)
{
	int w = 0;

	for (int i = 0; i < TUI_TAB_COUNT; i++)
		w += (int)strlen(tui_tab_names[i]) + 4 + 1;
	return w;
}

void tui_top_keys(struct tui *t, const char *keys)
{
	int from = tui_tabs_width(), len = (int)strlen(keys);

	attron(screen_attr(TS_TITLE));
	for (int x = from; x < t->cols; x++)
		mvaddch(0, x, ' ');
	if (t->cols - from > len + 2)
		mvaddstr(0, t->cols - len - 2, keys);
	attroff(screen_attr(TS_TITLE));
}

/* Drawn after the view, so it knows whether the view left the focus in a text field. */
static void tui_draw_tabs(struct tui *t)
{
	const char *keys = tui_global_keys();
	int x = 0;

	attron(screen_attr(TS_TITLE));
	move(0, 0);
	for (int i = 0; i < t->cols; i++)
		addch(' ');
	for (int i = 0; i < TUI_TAB_COUNT; i++) {
		char label[40];
		int w = snprintf(label, sizeof label, " %d %s ", i + 1, tui_tab_names[i]);
		if (i == t->tab)
			attron(A_REVERSE);
		mvaddstr(0, x, label);
		if (i == t->tab)
			attroff(A_REVERSE);
		tui_hit_add(t, 0, x, x + w, HIT_TAB, i);
		x += w + 1;
	}
	attroff(screen_attr(TS_TITLE));
	tui_top_keys(t, keys);
}

/* What the status line says: the message, else the focused thing's hint. */
static const char *tui_status_text(const struct tui *t)
{
	return t->status[0] ? t->status : t->hint ? t->hint : "";
}

/* The status line wrapped at spaces, so an error is readable in full: onto up to a third of the
 * screen, at least 3 rows and at most TUI_STATUS_MAX (a 50x12 screen has 4, enough for a long
 * server name in a sentence). Where each row starts and ends; returns how many rows. */
#define TUI_STATUS_MAX 6
static int tui_status_wrap(const struct tui *t, const char *line, const char **start, const char **end)
{
	size_t width = t->cols > 2 ? (size_t)t->cols - 2 : 1;
	const char *p = line;
	int n = 0, max = t->rows / 3;

	if (max < 3)
		max = 3;
	if (max > TUI_STATUS_MAX)
		max = TUI_STATUS_MAX;

	do {
		const char *cut = widget_skip(p, width), *q;
		if (*cut && n < max - 1) {
			for (q = cut; q > p && *q != ' '; q--)
				;
			if (q > p)
				cut = q;
		}
		start[n] = p;
		end[n++] = cut;
		for (p = cut; *p == ' '; p++)
			;
	} while (*p && n < max);
	return n;
}

/* The status rows are the screen's last; the views were laid out above them (t->view_rows). */
static void tui_draw_status(struct tui *t)
{
	const char *line = tui_status_text(t), *start[TUI_STATUS_MAX], *end[TUI_STATUS_MAX];
	int error = t->status_error && t->status[0];
	int attr = error ? screen_attr(TS_ERROR) | (int)A_REVERSE : screen_attr(TS_STATUS);
	int n = tui_status_wrap(t, line, start, end), i, top = t->rows - n;

	attron(attr);
	for (i = 0; i < n; i++) {
		char row[sizeof t->hint_buf];
		snprintf(row, sizeof row, "%.*s", (int)(end[i] - start[i]), start[i]);
		widget_text(top + i, 0, t->cols, "");
		widget_text(top + i, 1, t->cols > 2 ? t->cols - 2 : 1, row);
	}
	attroff(attr);
}

static void tui_draw_view(struct tui *t, int status_rows)
{
	erase();
	t->nhits = 0;
	t->hint = NULL;
	t->view_rows = t->rows - status_rows;
	widget_cursor_reset();
	switch (t->tab) {
	case TUI_TAB_ACCOUNTS: accounts_draw(t, t->accounts); break;
	case TUI_TAB_SERVERS: servers_draw(t, t->servers); break;
	default: outbox_view_draw(t, t->outbox); break;
	}
	/* After the view: the top bar names the keys that work where the view put the focus. */
	tui_draw_tabs(t);
}

void tui_draw(struct tui *t)
{
	const char *start[TUI_STATUS_MAX], *end[TUI_STATUS_MAX];
	int rows;

	if (t->rows < 12 || t->cols < 50) {
		erase();
		t->nhits = 0;
		t->hint = NULL;
		widget_cursor_reset();
		mvaddstr(0, 0, "The terminal is too small for outbox ui: make it at least 50x12.");
		return;
	}
	/* The status rows are kept out of the view's layout, so a long message never covers the
	 * buttons. A message's rows are known before drawing; a hint is set while the view draws,
	 * so the last hint's rows are the guess, and a wrong guess draws the view once more. */
	rows = t->status[0] ? tui_status_wrap(t, t->status, start, end) : t->hint_rows > 0 ? t->hint_rows : 1;
	tui_draw_view(t, rows);
	if (!t->status[0]) {
		int want = tui_status_wrap(t, tui_status_text(t), start, end);
		t->hint_rows = want;
		if (want != rows)
			tui_draw_view(t, want);
	}
	tui_draw_status(t);
}

void tui_undo(struct tui *t)
{
	char what[512];
	int rc = outbox_undo(t->h, what, sizeof what);

	if (rc == OUTBOX_ENOTHING)
		tui_status(t, 1, "Nothing to undo: no server, account or queued message was removed and no setup saved.");
	else if (rc < 0)
		tui_status(t, 1, "%s", outbox_errmsg(t->h));
	else
		tui_status(t, 0, "%s.", what);
	tui_reload(t);
}

/* Ask the view being left to save or drop its edits; 0 when it may be left. */
static int tui_leave_tab(struct tui *t)
{
	if (t->tab == TUI_TAB_SERVERS)
		return servers_leave(t, t->servers);
	if (t->tab == TUI_TAB_ACCOUNTS)
		return accounts_leave(t, t->accounts);
	return 0;
}

static void tui_switch(struct tui *t, int tab)
{
	if (tab == t->tab || tui_leave_tab(t) < 0)
		return;
	t->tab = tab;
}

/* A key no view and no global key took: say so, rather than nothing happening. */
static void tui_key_unused(struct tui *t, int key)
{
	int alt = (key & 0x400000) != 0, c = key & 0xffff;

	if (key == TK_ESC)
		tui_status(t, 0, "Nothing to cancel here; q quits.");
	else if (!(key & 0x200000) && c > ' ' && c < 127)
		tui_status(t, 0, "%s%c does nothing here: press ? for the keys.", alt ? "Alt+" : "", c);
	else
		tui_status(t, 0, "That key does nothing here: press ? (F4 in a text field) for the keys.");
}

/* 1 when the key was one of the global ones. */
static int tui_global_key(struct tui *t, int key)
{
	int arg, plain = key & 0x400000 ? key & 0xffff : key;

	switch (plain) {
	case 'q':
	case 'Q':
		if (tui_leave_tab(t) == 0)
			t->quit = 1;
		return 1;
	case '?':
	case TK(KEY_F(4)):
		help_show(t);
		return 1;
	case '1': case TK(KEY_F(1)): tui_switch(t, TUI_TAB_ACCOUNTS); return 1;
	case '2': case TK(KEY_F(2)): tui_switch(t, TUI_TAB_SERVERS); return 1;
	case '3': case TK(KEY_F(3)): tui_switch(t, TUI_TAB_OUTBOX); return 1;
	case TK(KEY_MOUSE):
		/* A click on nothing needs no words. */
		if (tui_hit_find(t, t->mouse_y, t->mouse_x, &arg) == HIT_TAB)
			tui_switch(t, arg);
		return 1;
	}
	tui_key_unused(t, key);
	return 0;
}

static int tui_view_key(struct tui *t, int key)
{
	int arg;

	/* A click on the tab bar belongs to no view. */
	if (key == TK(KEY_MOUSE) && tui_hit_find(t, t->mouse_y, t->mouse_x, &arg) == HIT_TAB)
		return 0;
	switch (t->tab) {
	case TUI_TAB_ACCOUNTS: return accounts_key(t, t->accounts, key);
	case TUI_TAB_SERVERS: return servers_key(t, t->servers, key);
	default: return outbox_view_key(t, t->outbox, key);
	}
}

static long long tui_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void tui_loop(struct tui *t)
{
	long long last_poll = tui_now_ms();

	outbox_changed(t->h); /* the first call starts watching */
	while (!t->quit) {
		int key;
		tui_draw(t);
		widget_cursor_place();
		refresh();
		key = screen_getkey(t, 250);
		/* About once a second: has a send, a queue run or another outbox changed the store? */
		if (tui_now_ms() - last_poll >= 1000) {
			last_poll = tui_now_ms();
			if (outbox_changed(t->h) > 0) {
				tui_reload(t);
				if (!t->status[0])
					tui_status(t, 0, "Refreshed: another program changed the store.");
			}
		}
		if (key == TK_NONE)
			continue;
		if (key == TK(KEY_RESIZE)) {
			clear();
			continue;
		}
		t->status[0] = '\0';
		if (!tui_view_key(t, key))
			tui_global_key(t, key);
	}
}

int tui_main(int argc, char **argv)
{
	struct tui t;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(tui_usage, stdout);
			return 0;
		}
		fprintf(stderr, "outbox: unexpected argument \"%s\"\nTry: outbox ui --help\n", argv[i]);
		return EX_USAGE;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "outbox: ui needs a terminal; use the outbox server, account and queue "
				"commands in scripts\n");
		return EX_USAGE;
	}
	memset(&t, 0, sizeof t);
	t.tab = TUI_TAB_SERVERS;
	if ((rc = outbox_open(&t.h, NULL)) < 0) {
		fprintf(stderr, "outbox: %s\n", outbox_errmsg(t.h));
		outbox_close(t.h);
		return outbox_exit_code(rc);
	}
	if (screen_init() < 0) {
		fprintf(stderr, "outbox: cannot start the terminal UI (is TERM set?)\n");
		outbox_close(t.h);
		return EX_UNAVAILABLE;
	}
	getmaxyx(stdscr, t.rows, t.cols);
	t.servers = servers_new(&t);
	t.accounts = accounts_new(&t);
	t.outbox = outbox_view_new(&t);
	if (t.servers == NULL || t.accounts == NULL || t.outbox == NULL)
		tui_status(&t, 1, "out of memory");
	else
		tui_loop(&t);
	screen_end();
	worker_shutdown(3000);
	outbox_setup_settle(3000); /* the lookups a cancelled Add Account left to their deadline */
	servers_free(t.servers);
	accounts_free(t.accounts);
	outbox_view_free(t.outbox);
	outbox_close(t.h);
	return 0;
}
