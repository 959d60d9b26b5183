/* program.c: main() of outbox-ui, the terminal UI as a program of its own, so that the outbox
 * command never loads curses; `outbox ui` runs it in its own place (exec). */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "tui.h"

int main(int argc, char **argv)
{
	int rc;

	setlocale(LC_ALL, "");
	/* exec made this process dumpable again, whatever `outbox ui` was: protect it anew before
	 * a password is typed into a form or fetched for a check. */
	if ((rc = outbox_process_protect()) < 0)
		fprintf(stderr, "outbox: warning: cannot keep passwords out of core dumps: %s\n", strerror(-rc));
	return tui_main(argc, argv);
}
