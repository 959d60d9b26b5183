/* queue_watch.c: waiting for the outbox's next piece of work, for `queue run --watch`: until the
 * next message falls due, another process commits to the store, or a runner ends (inotify). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "buf.h"
#include "handle_internal.h"
#include "outbox/handle.h"
#include "outbox/queue.h"
#include "queue.h"
#include "queue_owner.h"
#include "store.h"

int outbox_queue_wait(outbox *h, long long max_seconds)
{
	return outbox_queue_wait_for(h, NULL, max_seconds);
}

int outbox_queue_wait_for(outbox *h, const char *server, long long max_seconds)
{
	struct buf dir = BUF_INIT;
	long long due = 0, wait_s;
	struct pollfd p;
	int fd, rc;

	if ((fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) < 0)
		return outbox_fail(h, OUTBOX_EIO, NULL, "cannot watch the outbox: %s", strerror(errno));
	/* Watch first, then look: a message queued in between still wakes us. What is watched is
	 * the store's directory, where every commit writes the WAL: a queued row is committed after
	 * its spool file is linked, so waking on the link could look before the row is there. */
	if (buf_printf(&dir, "%s", outbox_home(h)) < 0 ||
	    inotify_add_watch(fd, dir.data, IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0) {
		rc = outbox_fail(h, OUTBOX_EIO, NULL, "cannot watch %s: %s", dir.data ? dir.data : "the store",
				 strerror(errno));
		goto out;
	}
	/* A runner that dies commits nothing, but the kernel closes its lock file, which it had
	 * open for writing: its claims are free then. Checkers open those files read-only, so
	 * looking does not wake us. No directory yet means no runner yet; its creation wakes us. */
	if (buf_puts(&dir, "/" QUEUE_OWNER_DIR) == 0)
		inotify_add_watch(fd, dir.data, IN_CLOSE_WRITE);
	if ((rc = queue_next_due(h, server, &due)) < 0)
		goto out;
	wait_s = due ? due - store_now() : max_seconds;
	if (wait_s > max_seconds)
		wait_s = max_seconds;
	if (wait_s <= 0)
		goto out;
	p.fd = fd;
	p.events = POLLIN;
	/* A signal ends the wait early, which is what a stopping runner wants. */
	if (poll(&p, 1, (int)(wait_s > 2000000 ? 2000000000 : wait_s * 1000)) < 0 && errno != EINTR)
		rc = outbox_fail(h, OUTBOX_EIO, NULL, "waiting for the outbox: %s", strerror(errno));
out:
	buf_free(&dir);
	close(fd);
	return rc;
}
