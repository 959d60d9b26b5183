/* layout.c: where things go on a terminal of any size: the rows of a list-over-form page, list
 * columns that keep a gap and drop or shorten on narrow screens, scroll marks, wrapped buttons. */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

/* The fewest rows the list keeps while the form takes what it needs: a third of the room, and
 * at least two rows (one when that is all there is), so a long form never squeezes the list to
 * a single row; the form scrolls instead. */
#define LAYOUT_LIST_SHARE 3
#define LAYOUT_LIST_MIN 2

void layout_page(const struct tui *t, int list_need, int form_need, int button_rows, struct layout_page *p)
{
	/* Row 0 is the tab bar, row 1 the headings; then the list, the form's title, the form and
	 * the buttons, which end where the status line begins (t->view_rows). */
	int avail = t->view_rows - 3 - button_rows, list_floor;

	if (avail < 2)
		avail = 2;
	if (list_need < 1)
		list_need = 1;
	/* The form's own rows come first, except for the list's floor; every row the form does not
	 * need goes to the list, up to what it has to show. */
	list_floor = avail / LAYOUT_LIST_SHARE > LAYOUT_LIST_MIN ? avail / LAYOUT_LIST_SHARE : LAYOUT_LIST_MIN;
	if (list_floor > avail - 1)
		list_floor = avail - 1;
	if (list_floor > list_need)
		list_floor = list_need;
	p->form_h = form_need < avail - list_floor ? form_need : avail - list_floor;
	if (p->form_h < 1)
		p->form_h = 1;
	p->list_h = avail - p->form_h;
	if (p->list_h > list_need) {
		p->list_h = list_need;
		p->form_h = avail - p->list_h; /* spare rows below the form, not between list and title */
	}
	p->head_y = 1;
	p->list_y = 2;
	p->title_y = p->list_y + p->list_h;
	p->form_y = p->title_y + 1;
	p->button_rows = button_rows;
	p->buttons_y = t->view_rows - button_rows;
}

void layout_scroll(size_t *scroll, size_t sel, size_t n, int visible)
{
	size_t vis = visible > 0 ? (size_t)visible : 1;

	if (sel < *scroll)
		*scroll = sel;
	if (sel >= *scroll + vis)
		*scroll = sel - vis + 1;
	/* Never past the end: a shorter list (a removal, a taller screen) shows no blank rows. */
	if (*scroll + vis > n)
		*scroll = n > vis ? n - vis : 0;
}

void layout_columns(struct layout_cols *out, int width, const struct layout_col *cols, int n)
{
	int shown[LAYOUT_MAX_COLS], total, extra, weights, x, i, last = -1;

	if (n > LAYOUT_MAX_COLS)
		n = LAYOUT_MAX_COLS;
	memset(out, 0, sizeof *out);
	out->n = n;
	for (i = 0; i < n; i++)
		shown[i] = 1;
	/* Leave columns out, the highest drop rank first, until the narrowest widths and their gaps fit. */
	for (;;) {
		int worst = -1;
		total = 0;
		for (i = 0; i < n; i++)
			if (shown[i])
				total += cols[i].min + LAYOUT_GAP;
		if (total - LAYOUT_GAP <= width)
			break;
		for (i = 0; i < n; i++)
			if (shown[i] && cols[i].drop > 0 && (worst < 0 || cols[i].drop > cols[worst].drop))
				worst = i;
		if (worst < 0)
			break;
		shown[worst] = 0;
	}
	extra = width - (total - LAYOUT_GAP);
	if (extra < 0)
		extra = 0;
	weights = 0;
	for (i = 0; i < n; i++)
		if (shown[i])
			weights += cols[i].weight;
	x = 0;
	for (i = 0; i < n; i++) {
		if (!shown[i])
			continue;
		out->x[i] = x;
		out->w[i] = cols[i].min + (weights ? extra * cols[i].weight / weights : 0);
		x += out->w[i] + LAYOUT_GAP;
		last = i;
	}
	/* The last column shown runs to the edge: whatever the shares rounded away is its. */
	if (last >= 0)
		out->w[last] = width - out->x[last];
	out->last = last;
	/* A heading's words are one space apart, so one that fills its column would read as one
	 * with the next: short heading unless the full one leaves a column spare (or is the last). */
	for (i = 0; i < n; i++) {
		int room = i == last ? out->w[i] : out->w[i] - 1;
		out->head[i] = cols[i].head;
		if (out->w[i] && (int)widget_width(cols[i].head) > room && cols[i].short_head)
			out->head[i] = cols[i].short_head;
	}
}

/* "…" where the locale can show it, else ">". */
static const char *layout_ellipsis(void)
{
	return MB_CUR_MAX > 1 ? "\xe2\x80\xa6" : ">";
}

void layout_cell(int y, int x, int width, const char *text)
{
	size_t len;

	if (width < 1)
		return;
	text = text ? text : "";
	len = widget_width(text);
	if (len <= (size_t)width) {
		widget_text(y, x, width, text);
		return;
	}
	/* Cut one column short of the width and mark the cut. */
	widget_text(y, x, width - 1, text);
	mvaddstr(y, x + width - 1, layout_ellipsis());
}

void layout_row(int y, int x0, const struct layout_cols *c, const char *const *texts, const char *mark)
{
	int mw = mark && *mark ? (int)widget_width(mark) + 1 : 0;

	for (int i = 0; i < c->n; i++) {
		int w = c->w[i];
		if (w <= 0)
			continue;
		/* Every column but the last is followed by its gap; the last leaves room for a mark. */
		if (i == c->last && mw && w > mw)
			w -= mw;
		layout_cell(y, x0 + c->x[i], w, texts[i]);
		if (i != c->last)
			widget_text(y, x0 + c->x[i] + w, LAYOUT_GAP, "");
	}
	if (mw) {
		attron(A_BOLD);
		widget_text(y, COLS - mw, mw, "");
		mvaddstr(y, COLS - mw + 1, mark);
		attroff(A_BOLD);
	}
}

void layout_heads(int y, int x0, const struct layout_cols *c)
{
	attron(A_BOLD | A_UNDERLINE);
	widget_text(y, 0, x0, "");
	layout_row(y, x0, c, c->head, NULL);
	attroff(A_BOLD | A_UNDERLINE);
}

const char *layout_mark(size_t scroll, size_t n, int visible, int row, char *buf, size_t size)
{
	size_t above = scroll, below = n > scroll + (size_t)visible ? n - scroll - (size_t)visible : 0;

	buf[0] = '\0';
	/* One row shows both marks; otherwise "above" sits on the first row, "below" on the last. */
	if (visible <= 1 && (above || below)) {
		if (above && below)
			snprintf(buf, size, "^%zu v%zu", above, below);
		else if (above)
			snprintf(buf, size, "^ %zu more", above);
		else
			snprintf(buf, size, "v %zu more", below);
	} else if (row == 0 && above) {
		snprintf(buf, size, "^ %zu more", above);
	} else if (row == visible - 1 && below) {
		snprintf(buf, size, "v %zu more", below);
	}
	return buf;
}

static int layout_button_width(const char *label)
{
	return (int)strlen(label) + 4;
}

int layout_button_rows(int x0, int x_end, const char *const *labels, int n)
{
	int rows = 1, x = x0;

	for (int b = 0; b < n; b++) {
		int w = layout_button_width(labels[b]);
		if (x > x0 && x + w > x_end) {
			rows++;
			x = x0;
		}
		x += w + 1;
	}
	return rows;
}

void layout_buttons(struct tui *t, int y, int x0, int x_end, const char *const *labels, const char *mnemonics,
		    int n, int focus, int tag)
{
	int x = x0;

	for (int b = 0; b < n; b++) {
		int w = layout_button_width(labels[b]);
		/* A button that would run past the edge starts the next row, never cut or hidden. */
		if (x > x0 && x + w > x_end) {
			y++;
			x = x0;
		}
		x += widget_button(t, y, x, labels[b], mnemonics[b], b == focus, tag, b) + 1;
	}
}
