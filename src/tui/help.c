/* help.c: the help screen of `outbox ui`: every key in one place, shown over the current view
 * until a key is pressed. */
#include <curses.h>

#include "tui.h"

/* At most 18 lines: with its frame and button the help must fit an 80x24 terminal. */
static const char *const help_lines[] = {
	"1 2 3  F1 F2 F3   Accounts, Servers, Outbox",
	"Tab  Shift-Tab    next / previous field or button",
	"Up  Down          move in lists and between fields",
	"Left  Right       change a drop-down, move in a text field",
	"Enter  Space      open a drop-down or list, tick a box; Enter: OK",
	"Esc               cancel the changes (nothing is saved), go back",
	"+  -              add; remove the selected server, account or message",
	"u                 undo the last removal or setup (also: outbox undo)",
	"c                 check the connection (no mail sent; Esc stops)",
	"[ ]  S-Up S-Down  Fallback Servers list: the order to try them",
	"a                 Accounts: Add Account (found from the address);",
	"                  Servers: Advanced settings / back to General",
	"Alt+letter        the underlined letter of a button",
	"r  R              Outbox: send the message / all of them now",
	"Ctrl-U            clear a text or password field",
	"? F4  q Alt+Q     help, quit (in a text field ? q type: use F4, Alt+Q)",
	"Servers: Server Name is the host; Short Name is outbox's NAME",
	"Values are checked as you leave a field. Passwords are never shown.",
	NULL};

void help_show(struct tui *t)
{
	static const char *const buttons[] = {"&Close", NULL};

	widget_dialog(t, "outbox ui: keys", help_lines, buttons, 0);
}
