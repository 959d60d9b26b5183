/* fallback_picker.c: the Fallback Servers checklist: every server but the account's own, the
 * ticked ones numbered in the order they are tried, reordered in place, so no name is typed. */
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

enum { HIT_PICK_ROW = 1, HIT_PICK_BUTTON };

struct picker_item {
	const char *name;
	int on;
};

/* The current fallbacks first, in their order and ticked, then the other servers by name. */
static size_t picker_items(const char *const *servers, const char *own, const char *const *current,
			   struct picker_item *items)
{
	size_t n = 0, i, k;

	for (i = 0; current && current[i]; i++)
		for (k = 0; servers[k]; k++)
			if (strcmp(servers[k], current[i]) == 0 && strcmp(servers[k], own) != 0)
				items[n++] = (struct picker_item){servers[k], 1};
	for (k = 0; servers[k]; k++) {
		int listed = strcmp(servers[k], own) == 0;
		for (i = 0; i < n && !listed; i++)
			listed = strcmp(items[i].name, servers[k]) == 0;
		if (!listed)
			items[n++] = (struct picker_item){servers[k], 0};
	}
	return n;
}

static void picker_draw(struct tui *t, const char *title, const struct picker_item *items, size_t n,
			size_t cur, size_t *top)
{
	static const char help[] = "Space: tick  [ ] or Shift-Up/Down: order  Enter: OK  Esc: cancel";
	int w = (int)sizeof help - 1 + 4, h, y, x, bx, rows, order = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if ((int)widget_width(items[i].name) + 14 > w)
			w = (int)widget_width(items[i].name) + 14;
	if (w > t->cols - 2)
		w = t->cols - 2;
	h = (int)n + 6;
	if (h > t->rows - 2)
		h = t->rows - 2;
	rows = h - 6;
	y = (t->rows - h) / 2;
	x = (t->cols - w) / 2;
	if (cur < *top)
		*top = cur;
	if (cur >= *top + (size_t)rows)
		*top = cur - (size_t)rows + 1;
	tui_draw(t);
	tui_top_keys(t, "Esc: close");
	t->nhits = 0;
	widget_box(y, x, h, w, title);
	widget_text(y + 1, x + 2, w - 4, "Tried in this order when the account's server is unavailable:");
	/* Numbers count the ticked ones above the visible part too. */
	for (i = 0; i < *top; i++)
		order += items[i].on;
	for (i = *top; i < n && i < *top + (size_t)rows; i++) {
		char line[300];
		int row = y + 2 + (int)(i - *top);
		if (items[i].on)
			snprintf(line, sizeof line, "[x] %d  %s", ++order, items[i].name);
		else
			snprintf(line, sizeof line, "[ ]    %s", items[i].name);
		attron(i == cur ? screen_attr(TS_SELECTED) : (int)A_NORMAL);
		mvaddch(row, x + 1, ' ');
		widget_text(row, x + 2, w - 3, line);
		attroff(i == cur ? screen_attr(TS_SELECTED) : (int)A_NORMAL);
		tui_hit_add(t, row, x + 1, x + w - 1, HIT_PICK_ROW, (int)i);
	}
	attron(A_DIM);
	widget_text(y + h - 3, x + 2, w - 4, help);
	attroff(A_DIM);
	bx = x + w / 2 - 10;
	bx += widget_button(t, y + h - 2, bx, "OK", 'O', 0, HIT_PICK_BUTTON, 1) + 1;
	widget_button(t, y + h - 2, bx, "Cancel", 'n', 0, HIT_PICK_BUTTON, 0);
	widget_cursor_reset();
	widget_cursor_place();
	refresh();
}

static void picker_swap(struct picker_item *items, size_t a, size_t b)
{
	struct picker_item tmp = items[a];

	items[a] = items[b];
	items[b] = tmp;
}

static void picker_result(const struct picker_item *items, size_t n, char *out, size_t size)
{
	size_t at = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!items[i].on)
			continue;
		snprintf(out + at, size - at, "%s%s", at ? "," : "", items[i].name);
		at += strlen(out + at);
	}
}

int fallback_pick(struct tui *t, const char *title, const char *const *servers, const char *own,
		  const char *const *current, char *out, size_t size)
{
	struct picker_item *items;
	size_t n = 0, cur = 0, top = 0;
	int key, arg, tag, result = -1;

	while (servers[n])
		n++;
	if ((items = calloc(n + 1, sizeof *items)) == NULL) {
		tui_status(t, 1, "out of memory");
		return 0;
	}
	if ((n = picker_items(servers, own ? own : "", current, items)) == 0) {
		free(items);
		tui_status(t, 1, "There is no other server to fall back to: add one in the Servers view first.");
		return 0;
	}
	while (result < 0) {
		picker_draw(t, title, items, n, cur, &top);
		key = screen_getkey(t, -1);
		if (key & 0x400000)
			key = (key & 0xffff) | 0x20;
		switch (key) {
		case TK_ESC:
		case 'n':
			result = 0;
			break;
		case TK_ENTER:
		case 'o':
			result = 1;
			break;
		case ' ':
			items[cur].on = !items[cur].on;
			break;
		case TK(KEY_UP): cur = cur > 0 ? cur - 1 : 0; break;
		case TK(KEY_DOWN): cur = cur + 1 < n ? cur + 1 : n - 1; break;
		case TK(KEY_HOME): cur = 0; break;
		case TK(KEY_END): cur = n - 1; break;
		case '[':
		case '<':
		case TK(KEY_SR): /* Shift-Up */
			if (cur > 0) {
				picker_swap(items, cur, cur - 1);
				cur--;
			}
			break;
		case ']':
		case '>':
		case TK(KEY_SF): /* Shift-Down */
			if (cur + 1 < n) {
				picker_swap(items, cur, cur + 1);
				cur++;
			}
			break;
		case TK(KEY_MOUSE):
			tag = tui_hit_find(t, t->mouse_y, t->mouse_x, &arg);
			if (tag == HIT_PICK_ROW) {
				cur = (size_t)arg;
				items[cur].on = !items[cur].on;
			} else if (tag == HIT_PICK_BUTTON) {
				result = arg;
			}
			break;
		}
	}
	if (result == 1)
		picker_result(items, n, out, size);
	free(items);
	return result;
}
