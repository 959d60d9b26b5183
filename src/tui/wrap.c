/* wrap.c: text wrapped at spaces onto as many screen rows as it needs (or as there are), for
 * replies and outcomes that are longer than a pane is wide and must stay readable in full. */
#include <stdio.h>
#include <string.h>

#include "tui.h"

int wrap_text(int y, int x, int width, int rows, int indent, const char *text)
{
	const char *p = text ? text : "";
	int used = 0;

	if (width < 2 || rows < 1)
		return 0;
	do {
		int w = used ? width - indent : width;
		const char *cut, *q;
		char row[1024];
		if (w < 1)
			w = 1;
		cut = widget_skip(p, (size_t)w);
		/* The last row available takes what is left, cut at the edge, rather than lose it. */
		if (*cut && used + 1 < rows) {
			for (q = cut; q > p && *q != ' '; q--)
				;
			if (q > p)
				cut = q;
		}
		snprintf(row, sizeof row, "%.*s", (int)(cut - p), p);
		widget_text(y + used, used ? x + indent : x, w, row);
		used++;
		for (p = cut; *p == ' '; p++)
			;
	} while (*p && used < rows);
	return used;
}
