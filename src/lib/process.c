/* process.c: keeps passwords out of core files and away from other processes of the same user,
 * for the whole life of a program that will hold them (see outbox/process.h). */
#include <errno.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "outbox/process.h"

int outbox_process_protect(void)
{
	const struct rlimit none = {0, 0};
	int err = 0;

	/* Both, and both attempted: a core handler on a pipe (systemd-coredump, apport) is started
	 * whatever the limit says, and only the dumpable flag keeps it away. */
	if (setrlimit(RLIMIT_CORE, &none) < 0)
		err = -errno;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		err = -errno;
	return err;
}
