/* setup_input.c: the first page of "Add Account...": the address, the full name and a password or
 * an OAuth Client ID, checked as far as the input alone allows before any lookup. */
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "outbox/setup.h"
#include "setup_view.h"

static void setup_input_draw(struct tui *t, struct setup_input *in)
{
	static const char *const labels[SETUP_FIELDS] = {"Email Address:", "Full Name:", "Password:",
							 "OAuth Client ID:"};
	char *values[SETUP_FIELDS] = {in->address, in->name, in->password, in->client_id};
	int w = t->cols - 4, h = 17, y = 2, x = 2, i;

	tui_draw(t);
	tui_top_keys(t, "Esc: cancel"); /* ? and q are typed here */
	t->nhits = 0;
	widget_box(y, x, h, w, "Add Account");
	widget_text(y + 1, x + 2, w - 4, "The server is found from the address, checked, and shown before saving.");
	widget_cursor_reset();
	for (i = 0; i < SETUP_FIELDS; i++) {
		widget_text(y + 3 + 2 * i, x + 2, 17, labels[i]);
		widget_field(y + 3 + 2 * i, x + 20, w - 23, values[i], in->cursor[i], in->focus == i, i == 2);
	}
	attron(screen_attr(TS_DIM));
	widget_text(y + 4 + 2 * (SETUP_FIELDS - 1), x + 20, w - 23, "only for a provider that signs in with OAuth 2.0");
	attroff(screen_attr(TS_DIM));
	if (*in->error) {
		attron(screen_attr(TS_ERROR));
		setup_outcome_wrapped(y + h - 5, x + 2, w - 4, 3, in->error, 1); /* a refusal names the commands to use */
		attroff(screen_attr(TS_ERROR));
	} else if (*in->note) {
		setup_outcome_wrapped(y + h - 5, x + 2, w - 4, 3, in->note, 1);
	}
	widget_button(t, y + h - 2, x + w / 2 - 14, "Continue", 'C', in->focus == SETUP_CONTINUE, 1, SETUP_CONTINUE);
	widget_button(t, y + h - 2, x + w / 2 + 2, "Cancel", 'n', in->focus == SETUP_QUIT, 1, SETUP_QUIT);
	widget_cursor_place();
	refresh();
}

int setup_input_run(struct tui *t, struct setup_input *in)
{
	char *values[SETUP_FIELDS] = {in->address, in->name, in->password, in->client_id};
	size_t sizes[SETUP_FIELDS] = {sizeof in->address, sizeof in->name, sizeof in->password, sizeof in->client_id};
	int key, arg;

	for (;;) {
		setup_input_draw(t, in);
		key = screen_getkey(t, -1);
		if (key == TK_NONE || key == TK(KEY_RESIZE))
			continue;
		if (key == TK_ESC || key == TK_ALT('n') || key == TK_ALT('N'))
			return 0;
		if (key == TK(KEY_MOUSE)) {
			if (tui_hit_find(t, t->mouse_y, t->mouse_x, &arg) != 1)
				continue;
			if (arg == SETUP_QUIT)
				return 0;
			key = TK_ALT('c');
		}
		if (key == TK_TAB || key == TK(KEY_DOWN)) {
			in->focus = (in->focus + 1) % (SETUP_QUIT + 1);
			continue;
		}
		if (key == TK(KEY_BTAB) || key == TK(KEY_UP)) {
			in->focus = (in->focus + SETUP_QUIT) % (SETUP_QUIT + 1);
			continue;
		}
		if (in->focus == SETUP_QUIT && (key == TK_ENTER || key == ' '))
			return 0;
		if (key == TK_ENTER || key == TK_ALT('c') || key == TK_ALT('C') || (in->focus == SETUP_CONTINUE && key == ' ')) {
			if (strchr(in->address, '@') == NULL) {
				snprintf(in->error, sizeof in->error, "Email Address: type the whole address, name@domain");
				in->focus = 0;
				continue;
			}
			/* What the input alone says (a bad name, an account for the address exists) is
			 * refused here, before the discovery that would end in the same refusal. */
			if (outbox_setup_check_input(t->h, in->address, in->name) < 0) {
				int on_name = strcmp(outbox_errfield(t->h), "name") == 0;

				snprintf(in->error, sizeof in->error, "%s: %s", on_name ? "Full Name" : "Email Address",
					 outbox_errdetail(t->h));
				in->focus = on_name ? 1 : 0;
				continue;
			}
			if (*in->password && *in->client_id) {
				snprintf(in->error, sizeof in->error,
					 "OAuth Client ID: a password or an OAuth sign-in, not both");
				in->focus = 3;
				continue;
			}
			return 1;
		}
		if (in->focus < SETUP_FIELDS && widget_edit(values[in->focus], sizes[in->focus], &in->cursor[in->focus], key))
			in->error[0] = '\0';
	}
}
