/* widgets.c: the small parts every view is built from: UTF-8 text cut to a width, one-line
 * editing, masked and plain fields, buttons with mnemonics, modal dialogs and drop-downs. */
#include <assert.h>
#include <curses.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

#include "mnemonic.h"
#include "textcol.h"
#include "tui.h"

/* Where the terminal cursor belongs after drawing (a focused text field), or -1. */
static int widget_cursor_y = -1, widget_cursor_x = -1;

void widget_cursor_reset(void)
{
	widget_cursor_y = widget_cursor_x = -1;
}

int widget_cursor_active(void)
{
	return widget_cursor_y >= 0;
}

void widget_cursor_place(void)
{
	if (widget_cursor_y >= 0) {
		move(widget_cursor_y, widget_cursor_x);
		curs_set(1);
	} else {
		curs_set(0);
	}
}

size_t widget_width(const char *s)
{
	return textcol_width(s);
}

const char *widget_skip(const char *s, size_t cols)
{
	return textcol_skip(s, cols);
}

/* Draw a row textcol made: it is exactly as wide as asked, so nothing of the last frame stays. */
static void widget_put_row(int y, int x, const char *row)
{
	mvaddstr(y, x, row);
}

void widget_text(int y, int x, int width, const char *text)
{
	size_t size;
	char *row;

	if (text == NULL)
		text = "";
	if (width < 1) {
		move(y, x);
		return;
	}
	size = strlen(text) + (size_t)width + 1;
	if ((row = malloc(size)) == NULL)
		return;
	textcol_fit(text, width, row, size);
	widget_put_row(y, x, row);
	free(row);
}

void widget_box(int y, int x, int h, int w, const char *title)
{
	int i;

	for (i = 0; i < h; i++) {
		move(y + i, x);
		for (int j = 0; j < w; j++)
			addch(' ');
	}
	mvaddch(y, x, ACS_ULCORNER);
	mvaddch(y, x + w - 1, ACS_URCORNER);
	mvaddch(y + h - 1, x, ACS_LLCORNER);
	mvaddch(y + h - 1, x + w - 1, ACS_LRCORNER);
	mvhline(y, x + 1, ACS_HLINE, w - 2);
	mvhline(y + h - 1, x + 1, ACS_HLINE, w - 2);
	mvvline(y + 1, x, ACS_VLINE, h - 2);
	mvvline(y + 1, x + w - 1, ACS_VLINE, h - 2);
	if (title && *title) {
		attron(A_BOLD);
		mvprintw(y, x + 2, " %.*s ", w - 6, title);
		attroff(A_BOLD);
	}
}

int widget_button(struct tui *t, int y, int x, const char *label, char mnemonic, int focused, int tag, int arg)
{
	int width = (int)strlen(label) + 4, underlined = 0;
	const char *p;

	if (x + width > t->cols)
		return 0;
	attron(focused ? screen_attr(TS_FOCUS) : (int)A_NORMAL);
	mvaddstr(y, x, "[ ");
	for (p = label; *p; p++) {
		if (!underlined && mnemonic && (*p == mnemonic || *p == (mnemonic ^ 0x20))) {
			attron(A_UNDERLINE | A_BOLD);
			addch((chtype)(unsigned char)*p);
			attroff(A_UNDERLINE | A_BOLD);
			underlined = 1;
		} else {
			addch((chtype)(unsigned char)*p);
		}
	}
	addstr(" ]");
	attroff(focused ? screen_attr(TS_FOCUS) : (int)A_NORMAL);
	tui_hit_add(t, y, x, x + width, tag, arg);
	return width;
}

void widget_field(int y, int x, int width, const char *value, size_t cursor, int focused, int masked)
{
	size_t size = strlen(value) + (size_t)(width > 0 ? width : 0) + 1;
	char *row;
	int at;

	if (width < 1 || (row = malloc(size)) == NULL)
		return;
	/* Only the field being typed in follows its cursor; the others show how they begin. */
	at = textcol_field(value, focused ? cursor : 0, width, masked, row, size);
	attron(focused ? screen_attr(TS_FOCUS) : screen_attr(TS_FIELD));
	widget_put_row(y, x, row);
	attroff(focused ? screen_attr(TS_FOCUS) : screen_attr(TS_FIELD));
	free(row);
	if (focused) {
		widget_cursor_y = y;
		widget_cursor_x = x + at;
	}
}

int widget_edit(char *buf, size_t size, size_t *cursor, int key)
{
	size_t len = strlen(buf), at;

	if (*cursor > len)
		*cursor = len;
	/* Only what can be shown goes in: a control character would reach the terminal raw. */
	if (key >= 32 && key < 0x110000 && key != 127 && iswprint((wint_t)key)) {
		char enc[MB_LEN_MAX];
		mbstate_t st;
		size_t n;
		memset(&st, 0, sizeof st);
		n = wcrtomb(enc, (wchar_t)key, &st);
		if (n == (size_t)-1 || len + n + 1 > size)
			return 2;
		memmove(buf + *cursor + n, buf + *cursor, len - *cursor + 1);
		memcpy(buf + *cursor, enc, n);
		*cursor += n;
		return 1;
	}
	switch (key) {
	case TK(KEY_BACKSPACE):
	case 127:
	case 8:
		if (*cursor == 0)
			return 2;
		at = textcol_prev(buf, *cursor);
		memmove(buf + at, buf + *cursor, len - *cursor + 1);
		*cursor = at;
		return 1;
	case TK(KEY_DC):
	case 4:
		if (*cursor >= len)
			return 2;
		at = textcol_next(buf, *cursor);
		memmove(buf + *cursor, buf + at, len - at + 1);
		return 1;
	case 21: /* Ctrl-U: clear the field */
		if (len == 0)
			return 2;
		buf[0] = '\0';
		*cursor = 0;
		return 1;
	case TK(KEY_LEFT):
		*cursor = textcol_prev(buf, *cursor);
		return 2;
	case TK(KEY_RIGHT):
		*cursor = textcol_next(buf, *cursor);
		return 2;
	case TK(KEY_HOME):
	case 1:
		*cursor = 0;
		return 2;
	case TK(KEY_END):
	case 5:
		*cursor = len;
		return 2;
	}
	return 0;
}

static int widget_dialog_buttons_width(const char *const *buttons)
{
	int w = 0;

	for (int i = 0; buttons[i]; i++)
		w += (int)strlen(buttons[i]) + 4 + 1;
	return w;
}

#define WIDGET_DIALOG_MAX_BUTTONS 8

int widget_dialog(struct tui *t, const char *title, const char *const *lines, const char *const *buttons,
		  int focus)
{
	char labels[WIDGET_DIALOG_MAX_BUTTONS][64], mnemonics[WIDGET_DIALOG_MAX_BUTTONS];
	const char *shown[WIDGET_DIALOG_MAX_BUTTONS];
	int nbuttons = 0, nlines = 0, i;

	/* Two buttons on one letter: the second could never be reached by its letter. */
	assert(mnemonic_clash(buttons) < 0);
	/* The labels as drawn: without the '&' that marks the mnemonic. */
	while (buttons[nbuttons] && nbuttons < WIDGET_DIALOG_MAX_BUTTONS) {
		size_t o = 0;
		for (const char *p = buttons[nbuttons]; *p && o + 1 < sizeof labels[0]; p++)
			if (*p != '&')
				labels[nbuttons][o++] = *p;
		labels[nbuttons][o] = '\0';
		shown[nbuttons] = labels[nbuttons];
		mnemonics[nbuttons] = (char)mnemonic_of(buttons[nbuttons]);
		nbuttons++;
	}
	while (lines[nlines])
		nlines++;
	for (;;) {
		int w = widget_dialog_buttons_width(buttons) + 4, h, y, x, bx, brows, key, arg;
		for (i = 0; i < nlines; i++)
			if ((int)widget_width(lines[i]) + 4 > w)
				w = (int)widget_width(lines[i]) + 4;
		if (w > t->cols - 2)
			w = t->cols - 2;
		/* Buttons that do not fit the box's width wrap onto more rows, none cut. */
		brows = layout_button_rows(0, w - 4, shown, nbuttons);
		h = nlines + 3 + brows;
		if (h > t->rows - 2)
			h = t->rows - 2;
		y = (t->rows - h) / 2;
		x = (t->cols - w) / 2;
		tui_draw(t);
		tui_top_keys(t, "Esc: close");
		t->nhits = 0;
		widget_box(y, x, h, w, title);
		for (i = 0; i < nlines && i < h - 3 - brows; i++)
			widget_text(y + 1 + i, x + 2, w - 4, lines[i]);
		/* One row is centred; wrapped rows start at the box's left margin. */
		bx = brows == 1 ? x + (w - widget_dialog_buttons_width(buttons)) / 2 : x + 2;
		layout_buttons(t, y + h - 1 - brows, bx, brows == 1 ? t->cols : x + w - 2, shown, mnemonics, nbuttons,
			       focus, 1);
		widget_cursor_reset();
		widget_cursor_place();
		refresh();
		key = screen_getkey(t, -1);
		if (key == TK_ESC)
			return -1;
		if (key == TK_ENTER || key == ' ')
			return focus;
		if (key == TK(KEY_MOUSE)) {
			if (tui_hit_find(t, t->mouse_y, t->mouse_x, &arg) == 1)
				return arg;
			continue;
		}
		if (key == TK(KEY_LEFT) || key == TK(KEY_BTAB) || key == TK(KEY_UP)) {
			focus = (focus + nbuttons - 1) % nbuttons;
			continue;
		}
		if (key == TK(KEY_RIGHT) || key == TK_TAB || key == TK(KEY_DOWN)) {
			focus = (focus + 1) % nbuttons;
			continue;
		}
		if (key & 0x400000)
			key &= ~0x400000;
		for (i = 0; i < nbuttons; i++)
			if (key < 128 && mnemonic_of(buttons[i]) == (key | 0x20))
				return i;
	}
}

int widget_dropdown(struct tui *t, int y, int x, const char *const *items, int current)
{
	int n = 0, w = 4, i;

	while (items[n]) {
		if ((int)widget_width(items[n]) + 4 > w)
			w = (int)widget_width(items[n]) + 4;
		n++;
	}
	if (n == 0)
		return -1;
	if (current < 0 || current >= n)
		current = 0;
	for (;;) {
		int h = n + 2, top = 0, key, arg;
		if (h > t->rows - 2)
			h = t->rows - 2;
		if (w > t->cols)
			w = t->cols;
		if (x + w > t->cols)
			x = t->cols - w;
		if (x < 0)
			x = 0;
		if (y + h > t->rows - 1)
			y = t->rows - 1 - h;
		if (y < 0)
			y = 0;
		if (current >= top + h - 2)
			top = current - (h - 3);
		tui_draw(t);
		tui_top_keys(t, "Esc: close");
		t->nhits = 0;
		widget_box(y, x, h, w, NULL);
		for (i = 0; i < h - 2 && top + i < n; i++) {
			attron(top + i == current ? screen_attr(TS_SELECTED) : (int)A_NORMAL);
			mvaddch(y + 1 + i, x + 1, ' ');
			widget_text(y + 1 + i, x + 2, w - 3, items[top + i]);
			attroff(top + i == current ? screen_attr(TS_SELECTED) : (int)A_NORMAL);
			tui_hit_add(t, y + 1 + i, x + 1, x + w - 1, 1, top + i);
		}
		widget_cursor_reset();
		widget_cursor_place();
		refresh();
		key = screen_getkey(t, -1);
		switch (key) {
		case TK_ESC:
			return -1;
		case TK_ENTER:
		case ' ':
			return current;
		case TK(KEY_UP):
			current = current > 0 ? current - 1 : 0;
			break;
		case TK(KEY_DOWN):
			current = current + 1 < n ? current + 1 : n - 1;
			break;
		case TK(KEY_HOME):
			current = 0;
			break;
		case TK(KEY_END):
			current = n - 1;
			break;
		case TK(KEY_MOUSE):
			if (tui_hit_find(t, t->mouse_y, t->mouse_x, &arg) == 1)
				return arg;
			return -1;
		default:
			/* Typing a letter jumps to the next item that starts with it. */
			if (key > 32 && key < 128)
				for (i = 1; i <= n; i++)
					if ((items[(current + i) % n][0] | 0x20) == (key | 0x20)) {
						current = (current + i) % n;
						break;
					}
		}
	}
}
