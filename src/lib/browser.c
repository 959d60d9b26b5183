/* browser.c: the one answer to "how does outbox open a web page" for the browser sign-in, shared
 * by `server login` and the terminal UI: $BROWSER, else xdg-open, started and left to run. */
#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "outbox/server.h"

int outbox_browser_open(const char *url)
{
	const char *browser = getenv("BROWSER");
	pid_t pid;

	if ((browser == NULL || *browser == '\0') && access("/usr/bin/xdg-open", X_OK) == 0)
		browser = "/usr/bin/xdg-open";
	if (browser == NULL || *browser == '\0')
		return 0;
	/* Started in a grandchild, so a browser that stays open neither blocks the sign-in nor is
	 * left a zombie; the address reaches it as an argument, never through the shell's parsing,
	 * and its output goes nowhere, as it would scribble over a terminal UI. */
	pid = fork();
	if (pid == 0) {
		if (fork() == 0) {
			execl("/bin/sh", "sh", "-c", "exec $0 \"$1\" >/dev/null 2>&1 </dev/null", browser, url,
			      (char *)NULL);
			_exit(127);
		}
		_exit(0);
	}
	if (pid < 0)
		return 0;
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return 1;
}
