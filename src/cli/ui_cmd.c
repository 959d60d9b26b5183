/* ui_cmd.c: `outbox ui`: runs outbox-ui, the terminal UI, which sits beside this program (found
 * through /proc/self/exe, so a copy in build/ runs the UI built with it). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"

int cmd_ui(int argc, char **argv)
{
	char self[PATH_MAX], ui[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	char *slash;

	if (n <= 0) {
		fprintf(stderr, "outbox: cannot find where outbox is installed: %s\n", strerror(errno));
		return EX_OSERR;
	}
	self[n] = '\0';
	slash = strrchr(self, '/');
	*slash = '\0';
	snprintf(ui, sizeof ui, "%s/outbox-ui", self);
	argv[0] = ui;
	execv(ui, argv);
	fprintf(stderr, "outbox: cannot run the terminal UI %s: %s; install it with outbox (make install)\n",
		ui, strerror(errno));
	(void)argc;
	return EX_UNAVAILABLE;
}
