/* textcol.h: UTF-8 text measured in screen columns (wcwidth), with no curses in it, so the
 * text fields' arithmetic is unit-tested without a terminal. */
#ifndef OUTBOX_TUI_TEXTCOL_H
#define OUTBOX_TUI_TEXTCOL_H

#include <stddef.h>
#include <wchar.h>

/* Decode one code point at s (NUL-terminated); returns its length in bytes, at least 1. What
 * cannot be printed (an invalid byte, a control character) comes back as '?'. */
size_t textcol_decode(const char *s, wchar_t *wc);
/* Columns one decoded code point takes: 0 for a combining mark, 2 for CJK and emoji, else 1. */
int textcol_wcwidth(wchar_t wc);
/* Columns of a UTF-8 string. */
size_t textcol_width(const char *s);
/* The rest of s after the longest start that fits in `cols` columns (combining marks stay with
 * their letter); at least one character when cols > 0, so wrapping always moves on. */
const char *textcol_skip(const char *s, size_t cols);
/* The byte offset of the character before / after `cursor`, a combining mark moving with the
 * letter it sits on, so the cursor never stops inside what shows as one character. */
size_t textcol_prev(const char *s, size_t cursor);
size_t textcol_next(const char *s, size_t cursor);
/* `text` cut to exactly `width` columns into out (UTF-8, NUL-terminated), padded with spaces;
 * a wide character that would cross the edge becomes a space. out needs strlen(text) + width + 1
 * bytes; a smaller out is cut short, never overrun. */
void textcol_fit(const char *text, int width, char *out, size_t size);
/* A one-line text field `width` columns wide with the cursor at byte `cursor`: scrolled so the
 * character at the cursor is wholly in view, a wide character half out of view shown as a
 * space, masked shows one '*' per character. Writes the row (as textcol_fit) and returns the
 * cursor's column within it. */
int textcol_field(const char *value, size_t cursor, int width, int masked, char *out, size_t size);

#endif
