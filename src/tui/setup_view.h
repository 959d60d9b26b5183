/* setup_view.h: what the two pages of "Add Account..." share: the input the first page fills
 * in (setup_input.c) and the second page runs the discovery with (setup_view.c). */
#ifndef OUTBOX_TUI_SETUP_VIEW_H
#define OUTBOX_TUI_SETUP_VIEW_H

#include <stddef.h>

#include "tui.h"

#define SETUP_ROW 1024 /* one line of the outcome, room for a whole error message */

/* The first page: what the user types. A provider that signs in with OAuth 2.0 takes the
 * user's own registered application's Client ID instead of a password. */
#define SETUP_FIELDS 4
#define SETUP_CONTINUE SETUP_FIELDS
#define SETUP_QUIT (SETUP_FIELDS + 1)
struct setup_input {
	char address[320], name[256], password[512], client_id[256];
	size_t cursor[SETUP_FIELDS];
	int focus; /* the fields, then Continue (SETUP_FIELDS), then Cancel */
	char error[512];
	char note[512]; /* what to do on this page, after a run sent the user back to it */
};

/* The input page: 1 with the input filled in and checked, 0 when cancelled. */
int setup_input_run(struct tui *t, struct setup_input *in);

/* `text` in rows of `width` (the rows after the first indented), at most `rows` of them, the
 * last one cut where the dialog ends; returns the rows used. With draw 0, only counts them. */
int setup_draw_wrapped(int row, int x, int width, int rows, const char *text, int draw);

#endif
