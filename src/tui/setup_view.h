/* setup_view.h: what the files of "Add Account..." share: the input the first page fills in
 * (setup_input.c), the run's page (setup_view.c) and what its outcome says (setup_outcome.c). */
#ifndef OUTBOX_TUI_SETUP_VIEW_H
#define OUTBOX_TUI_SETUP_VIEW_H

#include <stddef.h>

#include "outbox/setup.h"
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

#define SETUP_LINES 24
/* The second page: progress, then the outcome. */
struct setup_shown {
	char lines[SETUP_LINES][200];
	int nlines, done, rc;
	char errmsg[600];
};

/* The candidate "Edit manually" starts from and whose OAuth provider is offered: the chosen one,
 * else the first usable, else the first; its index, or -1 when nothing was probed. */
long setup_outcome_best(const outbox_setup_result *r);
/* The login method signs in with OAuth 2.0. */
int setup_outcome_is_oauth(const outbox_setup_candidate *c);
/* The provider the user is offered to sign in with, as a user knows it ("Microsoft"): the best
 * candidate's source names one and no Client ID was typed. NULL otherwise. */
const char *setup_outcome_oauth_offer(const struct setup_input *in, const outbox_setup_result *r);
/* What the outcome page says, line by line, into `out` (rows of SETUP_ROW), at most `max`;
 * `oauth` is the provider offered, or NULL. Returns the lines. */
int setup_outcome_lines(const struct setup_shown *s, const outbox_setup_result *r, const char *oauth,
			char out[][SETUP_ROW], int max);

/* `text` in rows of `width` (the rows after the first indented), at most `rows` of them, the
 * last one cut where the dialog ends; returns the rows used. With draw 0, only counts them. */
int setup_outcome_wrapped(int row, int x, int width, int rows, const char *text, int draw);

#endif
