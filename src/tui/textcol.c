/* textcol.c: UTF-8 text measured in screen columns for the UI's fields, lists and status line:
 * wide characters take two columns, combining marks none, control characters are never printed. */
#include <limits.h>
#include <string.h>
#include <wctype.h>

#include "textcol.h"

size_t textcol_decode(const char *s, wchar_t *wc)
{
	mbstate_t st;
	size_t n;

	memset(&st, 0, sizeof st);
	n = mbrtowc(wc, s, strnlen(s, MB_LEN_MAX), &st);
	if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
		*wc = L'?';
		return 1;
	}
	/* A terminal acts on a control character instead of showing it: never hand it one. */
	if (!iswprint((wint_t)*wc) || wcwidth(*wc) < 0)
		*wc = L'?';
	return n;
}

int textcol_wcwidth(wchar_t wc)
{
	int w = wcwidth(wc);

	return w < 0 ? 1 : w;
}

size_t textcol_width(const char *s)
{
	size_t cols = 0;
	wchar_t wc;

	while (*s) {
		s += textcol_decode(s, &wc);
		cols += (size_t)textcol_wcwidth(wc);
	}
	return cols;
}

const char *textcol_skip(const char *s, size_t cols)
{
	size_t used = 0;
	int any = 0;
	wchar_t wc;

	while (*s) {
		size_t n = textcol_decode(s, &wc);
		size_t w = (size_t)textcol_wcwidth(wc);
		if (w > 0 && used + w > cols && (any || cols == 0))
			break;
		used += w;
		any = 1;
		s += n;
	}
	return s;
}

/* The width of the code point at byte i of s (s[i] not NUL). */
static int textcol_width_at(const char *s, size_t i)
{
	wchar_t wc;

	textcol_decode(s + i, &wc);
	return textcol_wcwidth(wc);
}

static size_t textcol_prev_point(const char *s, size_t i)
{
	if (i == 0)
		return 0;
	i--;
	while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
		i--;
	return i;
}

size_t textcol_prev(const char *s, size_t cursor)
{
	size_t len = strlen(s), i;

	if (cursor > len)
		cursor = len;
	i = textcol_prev_point(s, cursor);
	/* Back over combining marks to the letter they sit on. */
	while (i > 0 && textcol_width_at(s, i) == 0)
		i = textcol_prev_point(s, i);
	return i;
}

size_t textcol_next(const char *s, size_t cursor)
{
	size_t len = strlen(s);
	wchar_t wc;

	if (cursor >= len)
		return len;
	cursor += textcol_decode(s + cursor, &wc);
	while (cursor < len && textcol_width_at(s, cursor) == 0)
		cursor += textcol_decode(s + cursor, &wc);
	return cursor;
}

/* The row being built: bytes written and columns used, never past the caller's buffer. */
struct textcol_row {
	char *out;
	size_t size, len;
	int cols;
};

static void textcol_put(struct textcol_row *r, const char *bytes, size_t n, int cols)
{
	if (r->len + n + 1 > r->size)
		return;
	memcpy(r->out + r->len, bytes, n);
	r->len += n;
	r->out[r->len] = '\0';
	r->cols += cols;
}

static void textcol_put_char(struct textcol_row *r, wchar_t wc, int cols)
{
	char enc[MB_LEN_MAX];
	mbstate_t st;
	size_t n;

	memset(&st, 0, sizeof st);
	n = wcrtomb(enc, wc, &st);
	if (n == (size_t)-1) {
		enc[0] = '?';
		n = 1;
	}
	textcol_put(r, enc, n, cols);
}

static void textcol_pad(struct textcol_row *r, int width)
{
	while (r->cols < width && r->len + 2 <= r->size)
		textcol_put(r, " ", 1, 1);
}

/* The visible columns start..start+width-1 of value into r. Returns nothing: r says it all. */
static void textcol_window(struct textcol_row *r, const char *value, int masked, int start, int width)
{
	int col = 0, after_letter = 0;
	wchar_t wc;

	while (*value) {
		int w;
		value += textcol_decode(value, &wc);
		w = masked ? 1 : textcol_wcwidth(wc);
		if (masked)
			wc = L'*';
		if (w == 0) {
			/* A mark is drawn only on a letter that is drawn. */
			if (after_letter)
				textcol_put_char(r, wc, 0);
			continue;
		}
		after_letter = 0;
		if (col + w <= start) {
			col += w;
			continue;
		}
		if (col - start + w > width || col < start) {
			/* Half in view: the visible half is a space, and past the right edge we stop. */
			int visible = col < start ? col + w - start : width - (col - start);
			for (int i = 0; i < visible; i++)
				textcol_put(r, " ", 1, 1);
			col += w;
			if (col - start >= width)
				break;
			continue;
		}
		textcol_put_char(r, wc, w);
		after_letter = 1;
		col += w;
	}
}

void textcol_fit(const char *text, int width, char *out, size_t size)
{
	struct textcol_row r = {out, size, 0, 0};
	int col = 0, after_letter = 0;
	wchar_t wc;

	if (size == 0)
		return;
	out[0] = '\0';
	while (text && *text) {
		int w;
		text += textcol_decode(text, &wc);
		w = textcol_wcwidth(wc);
		if (w == 0) {
			if (after_letter)
				textcol_put_char(&r, wc, 0);
			continue;
		}
		if (col + w > width)
			break;
		textcol_put_char(&r, wc, w);
		after_letter = 1;
		col += w;
	}
	textcol_pad(&r, width);
}

int textcol_field(const char *value, size_t cursor, int width, int masked, char *out, size_t size)
{
	struct textcol_row r = {out, size, 0, 0};
	size_t len = strlen(value), i = 0;
	int cursor_col = 0, cursor_w = 1, start = 0;
	wchar_t wc;

	if (size == 0)
		return 0;
	out[0] = '\0';
	if (width < 1)
		return 0;
	if (cursor > len)
		cursor = len;
	while (i < cursor) {
		i += textcol_decode(value + i, &wc);
		cursor_col += masked ? 1 : textcol_wcwidth(wc);
	}
	if (cursor < len && !masked) {
		textcol_decode(value + cursor, &wc);
		cursor_w = textcol_wcwidth(wc) > 0 ? textcol_wcwidth(wc) : 1;
	}
	/* Scroll just enough that the character under the cursor (or the end) is wholly in view. */
	if (cursor_col + cursor_w > width)
		start = cursor_w > width ? cursor_col : cursor_col + cursor_w - width;
	textcol_window(&r, value, masked, start, width);
	textcol_pad(&r, width);
	return cursor_col - start;
}
