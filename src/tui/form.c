/* form.c: a column of labelled fields generated from a record's field table (label, kind,
 * choices, help), so a field the library adds shows up in the UI without a change here. */
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

void form_init(struct form *f)
{
	memset(f, 0, sizeof *f);
	f->focus = -1;
}

void form_free(struct form *f)
{
	/* A password may sit in a value: wipe every one, it costs nothing. */
	for (int i = 0; i < f->count; i++)
		explicit_bzero(f->items[i].value, sizeof f->items[i].value);
	free(f->items);
	form_init(f);
}

struct form_item *form_add(struct form *f, int id, const outbox_field *info)
{
	struct form_item *items = realloc(f->items, (size_t)(f->count + 1) * sizeof *items), *it;

	if (items == NULL)
		return NULL;
	f->items = items;
	it = &items[f->count++];
	memset(it, 0, sizeof *it);
	it->id = id;
	it->visible = 1;
	if (info) {
		it->label = info->label;
		it->help = info->help;
		it->choices = info->choices;
		switch (info->kind) {
		case OUTBOX_FIELD_NUMBER: it->kind = FORM_NUMBER; break;
		case OUTBOX_FIELD_BOOL: it->kind = FORM_BOOL; break;
		case OUTBOX_FIELD_CHOICE: it->kind = FORM_CHOICE; break;
		case OUTBOX_FIELD_LIST: it->kind = FORM_LIST; break;
		default: it->kind = FORM_TEXT; break;
		}
	}
	return it;
}

struct form_item *form_find(struct form *f, int id)
{
	for (int i = 0; i < f->count; i++)
		if (f->items[i].id == id)
			return &f->items[i];
	return NULL;
}

void form_set_value(struct form_item *it, const char *value)
{
	snprintf(it->value, sizeof it->value, "%s", value ? value : "");
	it->cursor = strlen(it->value);
}

int form_first_visible(const struct form *f, int from, int dir)
{
	for (int i = from; i >= 0 && i < f->count; i += dir)
		if (f->items[i].visible)
			return i;
	return -1;
}

int form_move(struct form *f, int dir)
{
	int next;

	if (f->focus < 0)
		next = form_first_visible(f, dir > 0 ? 0 : f->count - 1, dir);
	else
		next = form_first_visible(f, f->focus + dir, dir);
	if (next < 0)
		return 0;
	f->focus = next;
	return 1;
}

int form_has_errors(const struct form *f)
{
	for (int i = 0; i < f->count; i++)
		if (f->items[i].error[0])
			return 1;
	return 0;
}

static int form_choice_index(const struct form_item *it)
{
	for (int i = 0; it->choices && it->choices[i]; i++)
		if (strcmp(it->choices[i], it->value) == 0)
			return i;
	return -1;
}

/* A choice as the field shows it: its words when the view gave some, else the value itself. */
static const char *form_choice_shown(const struct form_item *it)
{
	int i = form_choice_index(it);

	if (i >= 0 && it->choice_words && it->choice_words[i])
		return it->choice_words[i];
	return it->value[0] ? it->value : "(none)";
}

static void form_draw_value(struct form_item *it, int y, int x, int width, int focused)
{
	it->y = y;
	it->x = x;
	switch (it->kind) {
	case FORM_BOOL:
		attron(focused ? screen_attr(TS_FOCUS) : (int)A_NORMAL);
		mvaddstr(y, x, strcmp(it->value, "true") == 0 ? "[x]" : "[ ]");
		attroff(focused ? screen_attr(TS_FOCUS) : (int)A_NORMAL);
		if (it->note[0] && x + 4 < COLS - 1) {
			attron(A_DIM);
			widget_text(y, x + 4, COLS - 1 - (x + 4), it->note);
			attroff(A_DIM);
		}
		break;
	case FORM_CHOICE:
		attron(focused ? screen_attr(TS_FOCUS) : screen_attr(TS_FIELD));
		widget_text(y, x, width - 2, form_choice_shown(it));
		addstr(" v");
		attroff(focused ? screen_attr(TS_FOCUS) : screen_attr(TS_FIELD));
		break;
	case FORM_LIST:
		/* Picked from a checklist the view opens, never typed: shown like a drop-down. */
		attron(focused ? screen_attr(TS_FOCUS) : screen_attr(TS_FIELD));
		widget_text(y, x, width - 4, it->value[0] ? it->value : "(none)");
		addstr(" ...");
		attroff(focused ? screen_attr(TS_FOCUS) : screen_attr(TS_FIELD));
		break;
	case FORM_ACTION: {
		/* The button, then what it is about: drawn with widget_text, as the label may be UTF-8. */
		int bw = (int)widget_width(it->action) + 4;
		char button[128];
		snprintf(button, sizeof button, "[ %s ]", it->action);
		attron(focused ? screen_attr(TS_FOCUS) : (int)A_BOLD);
		widget_text(y, x, bw, button);
		attroff(focused ? screen_attr(TS_FOCUS) : (int)A_BOLD);
		if (x + bw + 2 < COLS - 1)
			widget_text(y, x + bw + 2, COLS - 1 - (x + bw + 2), it->value);
		break;
	}
	case FORM_PASSWORD:
		if (!it->changed && it->placeholder[0] && !focused) {
			attron(screen_attr(TS_FIELD) | A_DIM);
			widget_text(y, x, width, it->placeholder);
			attroff(screen_attr(TS_FIELD) | A_DIM);
		} else if (it->changed && !it->value[0] && it->placeholder[0]) {
			/* Emptied on purpose: say what OK will do with the stored one, the cursor before it. */
			widget_field(y, x, width, "", 0, focused, 1);
			attron((focused ? screen_attr(TS_FOCUS) : screen_attr(TS_FIELD)) | A_DIM);
			widget_text(y, x + 1, width - 1, it->placeholder);
			attroff((focused ? screen_attr(TS_FOCUS) : screen_attr(TS_FIELD)) | A_DIM);
		} else {
			widget_field(y, x, width, it->value, it->cursor, focused, 1);
		}
		break;
	default:
		widget_field(y, x, width, it->value, it->cursor, focused, 0);
	}
}

void form_draw(struct tui *t, struct form *f, int top, int height, int tag)
{
	int vis[256], nvis = 0, i, row, label_w = 0, x, fw, focus_pos = -1;

	f->top = top;
	f->height = height;
	for (i = 0; i < f->count && nvis < 256; i++) {
		if (!f->items[i].visible)
			continue;
		if (i == f->focus)
			focus_pos = nvis;
		if ((int)widget_width(f->items[i].label) > label_w)
			label_w = (int)widget_width(f->items[i].label);
		vis[nvis++] = i;
	}
	if (height < 1 || nvis == 0)
		return;
	if (label_w > t->cols / 2)
		label_w = t->cols / 2;
	/* Keep the focused field in view. */
	if (focus_pos >= 0 && focus_pos < f->scroll)
		f->scroll = focus_pos;
	if (focus_pos >= f->scroll + height)
		f->scroll = focus_pos - height + 1;
	if (f->scroll > nvis - height)
		f->scroll = nvis > height ? nvis - height : 0;
	x = label_w + 3;
	/* Room for an error beside the field where the screen is wide; on a narrow one the value
	 * gets the width, and the focused field's error is read in the status line (form_hint). */
	fw = t->cols - x - 28;
	if (fw < 12)
		fw = t->cols - x - 4;
	if (fw > 40)
		fw = 40;
	if (fw < 12)
		fw = 12;
	if (x + fw > t->cols - 1)
		fw = t->cols - 1 - x;
	for (row = 0; row < height && f->scroll + row < nvis; row++) {
		struct form_item *it = &f->items[vis[f->scroll + row]];
		int y = top + row, focused = vis[f->scroll + row] == f->focus;
		int lw = (int)widget_width(it->label);
		move(y, 0);
		clrtoeol();
		if (focused)
			attron(A_BOLD);
		widget_text(y, 1 + (lw < label_w ? label_w - lw : 0), lw < label_w ? lw : label_w, it->label);
		addch(':');
		if (focused)
			attroff(A_BOLD);
		form_draw_value(it, y, x, fw, focused);
		if (it->error[0] && x + fw + 2 < t->cols) {
			attron(screen_attr(TS_ERROR));
			mvaddstr(y, x + fw + 1, "! ");
			widget_text(y, x + fw + 3, t->cols - (x + fw + 3), it->error);
			attroff(screen_attr(TS_ERROR));
		}
		tui_hit_add(t, y, 0, t->cols, tag, vis[f->scroll + row]);
	}
	if (f->scroll > 0)
		mvaddstr(top, t->cols - 3, "^^");
	if (f->scroll + height < nvis)
		mvaddstr(top + height - 1, t->cols - 3, "vv");
}

int form_key(struct tui *t, struct form *f, int key)
{
	struct form_item *it;
	int r, i, n = 0;

	if (f->focus < 0 || f->focus >= f->count)
		return 0;
	it = &f->items[f->focus];
	switch (it->kind) {
	case FORM_BOOL:
		if (key != ' ')
			return 0;
		form_set_value(it, strcmp(it->value, "true") == 0 ? "false" : "true");
		it->changed = it->pending = 1;
		return 1;
	case FORM_CHOICE:
		while (it->choices && it->choices[n])
			n++;
		if (n == 0)
			return 0;
		i = form_choice_index(it);
		if (key == TK_ENTER || key == ' ') {
			r = widget_dropdown(t, it->y + 1, it->x, it->choice_words ? it->choice_words : it->choices, i);
		} else if (key == TK(KEY_LEFT)) {
			r = i > 0 ? i - 1 : n - 1;
		} else if (key == TK(KEY_RIGHT)) {
			r = (i + 1) % n;
		} else {
			return 0;
		}
		if (r < 0 || r == i)
			return 2;
		form_set_value(it, it->choices[r]);
		it->changed = it->pending = 1;
		return 1;
	case FORM_LIST:
		return 0; /* the view opens its picker on Enter, Space or a click */
	case FORM_ACTION:
		return key == TK_ENTER || key == ' ' ? FORM_PRESSED : 0;
	default:
		r = widget_edit(it->value, sizeof it->value, &it->cursor, key);
		if (r == 1)
			it->changed = it->pending = 1;
		return r;
	}
}

const char *form_hint(const struct form *f, char *buf, size_t size)
{
	const struct form_item *it;

	if (f->focus < 0 || f->focus >= f->count)
		return NULL;
	it = &f->items[f->focus];
	/* Beside the field an error is cut to what fits; the status bar has room for all of it. */
	if (it->error[0]) {
		form_field_message(buf, size, it->label, it->error);
		return buf;
	}
	return it->help;
}

void form_field_message(char *buf, size_t size, const char *label, const char *detail)
{
	/* "is required" reads as a sentence after the label; any other detail follows a colon. */
	if (strncmp(detail, "is ", 3) == 0)
		snprintf(buf, size, "%s %s", label, detail);
	else
		snprintf(buf, size, "%s: %s", label, detail);
}
