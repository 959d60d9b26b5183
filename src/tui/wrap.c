/* wrap.c: breaking UTF-8 text into lines of a given width in screen columns, at spaces where it
 * can, so long advice, replies and outcomes are shown whole instead of cut at an edge. */
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "textcol.h"
#include "tui.h"

size_t wrap_next(const char *s, int width, const char **next)
{
	size_t i = 0, brk = 0, end;
	int used = 0;

	/* Columns as every other row of the UI counts them (textcol.c): wide characters two,
	 * combining marks none, anything unprintable one '?'. */
	while (s[i]) {
		wchar_t wc;
		size_t n = textcol_decode(s + i, &wc);
		int w = textcol_wcwidth(wc);
		if (wc == L' ')
			brk = i;
		if (used + w > width && i > 0) {
			/* At the last space when there was one; a word longer than the line is cut. */
			end = brk > 0 ? brk : i;
			*next = s + end;
			while (**next == ' ')
				(*next)++;
			return end;
		}
		used += w;
		i += n;
	}
	*next = s + i;
	return i;
}

int wrap_text(int y, int x, int width, int rows, int indent, const char *text)
{
	const char *p = text ? text : "";
	int used = 0;

	if (width < 2 || rows < 1)
		return 0;
	do {
		int w = used ? width - indent : width;
		const char *next;
		size_t len;
		char row[1024];
		if (w < 1)
			w = 1;
		len = wrap_next(p, w, &next);
		/* The last row available takes what is left, cut at the edge, rather than lose it. */
		if (used + 1 == rows && *next)
			len = strlen(p);
		snprintf(row, sizeof row, "%.*s", (int)len, p);
		widget_text(y + used, used ? x + indent : x, w, row);
		used++;
		p = next;
	} while (*p && used < rows);
	return used;
}
