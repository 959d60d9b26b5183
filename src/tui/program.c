/* program.c: main() of outbox-ui, the terminal UI as a program of its own, so that the outbox
 * command never loads curses; `outbox ui` runs it in its own place (exec). */
#include <locale.h>

#include "tui.h"

int main(int argc, char **argv)
{
	setlocale(LC_ALL, "");
	return tui_main(argc, argv);
}
