/* table.c: aligned plain-text tables for listings. Widths are measured in terminal columns, so
 * descriptions and addresses in any script line up. */
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "cli.h"

void cli_table_init(struct cli_table *t, int columns)
{
	t->columns = columns;
	t->rows = 0;
	t->cells = NULL;
}

int cli_table_add(struct cli_table *t, const char *const *row)
{
	char **grown = realloc(t->cells, (t->rows + 1) * (size_t)t->columns * sizeof *grown);
	int c;

	if (grown == NULL)
		return -1;
	t->cells = grown;
	for (c = 0; c < t->columns; c++)
		grown[t->rows * (size_t)t->columns + (size_t)c] = strdup(row[c] ? row[c] : "");
	t->rows++;
	return 0;
}

/* Terminal columns of a UTF-8 string; bytes that do not decode count one each. */
static size_t cli_display_width(const char *s)
{
	mbstate_t st;
	size_t width = 0, n;
	wchar_t wc;

	memset(&st, 0, sizeof st);
	while (*s) {
		n = mbrtowc(&wc, s, strlen(s), &st);
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			memset(&st, 0, sizeof st);
			s++;
			width++;
			continue;
		}
		int w = wcwidth(wc);
		width += w > 0 ? (size_t)w : 0;
		s += n;
	}
	return width;
}

void cli_table_print(const struct cli_table *t, FILE *out)
{
	size_t *width = calloc((size_t)t->columns, sizeof *width);
	size_t r;
	int c;

	if (width == NULL)
		return;
	for (r = 0; r < t->rows; r++)
		for (c = 0; c < t->columns; c++) {
			const char *cell = t->cells[r * (size_t)t->columns + (size_t)c];
			size_t w = cell ? cli_display_width(cell) : 0;
			if (w > width[c])
				width[c] = w;
		}
	for (r = 0; r < t->rows; r++) {
		for (c = 0; c < t->columns; c++) {
			const char *cell = t->cells[r * (size_t)t->columns + (size_t)c];
			if (cell == NULL)
				cell = "";
			fputs(cell, out);
			if (c + 1 < t->columns) {
				size_t pad = width[c] - cli_display_width(cell) + 2;
				while (pad--)
					fputc(' ', out);
			}
		}
		fputc('\n', out);
	}
	free(width);
}

void cli_table_free(struct cli_table *t)
{
	size_t i;

	for (i = 0; i < t->rows * (size_t)t->columns; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->rows = 0;
}

char *cli_join(const char *const *items)
{
	size_t len = 1, pos = 0, i, n;
	char *out;

	for (i = 0; items && items[i]; i++)
		len += strlen(items[i]) + 2;
	if ((out = malloc(len)) == NULL)
		return NULL;
	for (i = 0; items && items[i]; i++) {
		if (i) {
			memcpy(out + pos, ", ", 2);
			pos += 2;
		}
		n = strlen(items[i]);
		memcpy(out + pos, items[i], n);
		pos += n;
	}
	out[pos] = '\0';
	return out;
}
