/* fuzz_textcol.c: libFuzzer target for the UI's text in screen columns (src/tui/textcol.c).
 *
 * Input: a width byte, a cursor byte, then text (any bytes: invalid UTF-8, controls, wide and
 * combining characters). A row cut or scrolled to the width is exactly that many columns, holds
 * no control byte, and the cursor lands inside it; moving the cursor stays within the text.
 * textcol.c is built into this file: it is part of the UI program, not of the library. */
#include <locale.h>
#include <string.h>

#include "../../src/tui/textcol.c"
#include "fuzz.h"

static void check_row(const char *row, int width)
{
	CHECK(textcol_width(row) == (size_t)width);
	for (const unsigned char *p = (const unsigned char *)row; *p; p++)
		CHECK(*p >= 0x20 && *p != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int locale_set;
	char *text, *row;
	size_t len, cursor, rowsize;
	int width, x;

	if (!locale_set) {
		setlocale(LC_ALL, "C.UTF-8");
		locale_set = 1;
	}
	if (size < 2)
		return 0;
	width = data[0] % 90;
	text = malloc(size - 1);
	if (text == NULL)
		return 0;
	memcpy(text, data + 2, size - 2);
	text[size - 2] = '\0';
	len = strlen(text);
	cursor = len ? data[1] % (len + 1) : 0;
	rowsize = len + (size_t)width + 1;
	if ((row = malloc(rowsize)) == NULL) {
		free(text);
		return 0;
	}
	textcol_fit(text, width, row, rowsize);
	check_row(row, width);
	x = textcol_field(text, cursor, width, 0, row, rowsize);
	if (width > 0) {
		check_row(row, width);
		CHECK(x >= 0 && x < width);
	}
	x = textcol_field(text, cursor, width, 1, row, rowsize);
	if (width > 0) {
		check_row(row, width);
		CHECK(x >= 0 && x < width);
	}
	CHECK(textcol_next(text, cursor) <= len && textcol_prev(text, cursor) <= cursor);
	CHECK(textcol_skip(text, (size_t)width) >= text && textcol_skip(text, (size_t)width) <= text + len);
	free(row);
	free(text);
	return 0;
}
