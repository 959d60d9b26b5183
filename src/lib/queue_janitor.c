/* queue_janitor.c: removes delivered messages' spool files in a thread of its own, so that the
 * runner never waits for the file system while it could be talking to a server. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "handle_internal.h"
#include "outbox/handle.h"
#include "queue_janitor.h"
#include "store.h"

struct janitor {
	int dir_fd;
	char *wal;   /* the store's write-ahead log: syncing it makes every commit so far durable */
	int wal_fd;
	pthread_t thread;
	int running;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	char (*names)[33]; /* waiting to be removed */
	size_t n, cap;
	int sync_wanted;   /* a sync was asked for since the last one began */
	int stopping;
	size_t budget;     /* once stopping: how many more files may be removed */
};

/* Removals a stopping run still waits for: one group's worth, so a small run leaves an empty
 * spool while a large one ends when its last outcome is synced, not 1,000 unlinks later (1.5 ms
 * each on a disk mounted with discard). The rest are the next run's (run_hand_leftovers). */
#define JANITOR_STOP_BUDGET 64

/* Every outcome committed before the call becomes durable (store_sync_log). */
static int janitor_sync(struct janitor *j)
{
	return store_sync_log(j->wal, &j->wal_fd) == 0;
}

/* Unlinking a file that reached the disk costs the journal a write; on ext4 that was about a
 * third of a flush's time when done between messages. */
static void janitor_unlink(int dir_fd, const char *name)
{
	/* A failure leaves the file for the orphan sweep: nothing depends on it any more. */
	(void)unlinkat(dir_fd, name, 0);
}

/* Whether one more file may be removed: always while the run goes on, within the budget after. */
static int janitor_may_remove(struct janitor *j)
{
	int ok;

	pthread_mutex_lock(&j->lock);
	ok = !j->stopping || j->budget > 0;
	if (ok && j->stopping)
		j->budget--;
	pthread_mutex_unlock(&j->lock);
	return ok;
}

static void *janitor_main(void *arg)
{
	struct janitor *j = arg;
	char (*batch)[33] = NULL;
	size_t n;

	pthread_mutex_lock(&j->lock);
	for (;;) {
		while (!j->sync_wanted && !j->stopping)
			pthread_cond_wait(&j->wake, &j->lock);
		if (!j->sync_wanted)
			break;
		/* Take the whole list and work without the lock, so producers never wait on disk.
		 * Every name in it was handed over after its outcome was committed, so the sync that
		 * starts now covers them all. */
		batch = j->names;
		n = j->n;
		j->names = NULL;
		j->n = j->cap = 0;
		j->sync_wanted = 0;
		pthread_mutex_unlock(&j->lock);
		/* Without a sync the files stay: a done row's file is an orphan the sweep removes. */
		if (janitor_sync(j))
			for (size_t i = 0; i < n && janitor_may_remove(j); i++)
				janitor_unlink(j->dir_fd, batch[i]);
		free(batch);
		pthread_mutex_lock(&j->lock);
	}
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

int janitor_start(outbox *h, struct janitor **out)
{
	struct janitor *j = calloc(1, sizeof *j);
	struct buf dir = BUF_INIT;
	int err;

	*out = NULL;
	if (j == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	j->dir_fd = j->wal_fd = -1;
	if (buf_printf(&dir, "%s/spool", outbox_home(h)) < 0) {
		free(j);
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	if ((j->dir_fd = open(dir.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		err = errno;
		outbox_fail(h, OUTBOX_EIO, NULL, "cannot open %s: %s", dir.data, strerror(err));
		buf_free(&dir);
		free(j);
		return OUTBOX_EIO;
	}
	buf_reset(&dir);
	if (buf_printf(&dir, "%s/outbox.db-wal", outbox_home(h)) < 0) {
		close(j->dir_fd);
		free(j);
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	j->wal = dir.data; /* the buffer's string, now owned by the janitor */
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->wake, NULL);
	/* Without a thread the janitor still works, only in the caller's time. */
	j->running = pthread_create(&j->thread, NULL, janitor_main, j) == 0;
	*out = j;
	return 0;
}

void janitor_sync_and_remove(struct janitor *j, const char (*names)[33], size_t n)
{
	size_t i;

	if (!j->running) {
		for (i = 0; janitor_sync(j) && i < n; i++)
			janitor_unlink(j->dir_fd, names[i]);
		return;
	}
	pthread_mutex_lock(&j->lock);
	if (n > 0 && j->n + n > j->cap) {
		size_t cap = (j->n + n) * 2;
		char(*grown)[33] = realloc(j->names, cap * sizeof *grown);
		if (grown == NULL) {
			/* These files stay for the orphan sweep; the sync still happens. */
			n = 0;
		} else {
			j->names = grown;
			j->cap = cap;
		}
	}
	if (n > 0)
		memcpy(j->names + j->n, names, n * sizeof *names);
	j->n += n;
	j->sync_wanted = 1;
	pthread_cond_signal(&j->wake);
	pthread_mutex_unlock(&j->lock);
}

void janitor_stop(struct janitor *j, int leave_rest)
{
	if (j == NULL)
		return;
	if (j->running) {
		pthread_mutex_lock(&j->lock);
		j->stopping = 1;
		j->budget = leave_rest ? JANITOR_STOP_BUDGET : (size_t)-1;
		pthread_cond_signal(&j->wake);
		pthread_mutex_unlock(&j->lock);
		pthread_join(j->thread, NULL);
	}
	pthread_mutex_destroy(&j->lock);
	pthread_cond_destroy(&j->wake);
	free(j->names);
	close(j->dir_fd);
	if (j->wal_fd >= 0)
		close(j->wal_fd);
	free(j->wal);
	free(j);
}
