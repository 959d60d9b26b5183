/* queue_janitor.c: removes delivered messages' spool files in a thread of its own, so that the
 * runner never waits for the file system while it could be talking to a server. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
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
	outbox *h;   /* its own handle, for checkpoints; NULL without: the log then waits for close */
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
	atomic_int leave_rest; /* once stopping: the files not yet removed stay for the next run */
	size_t handed;     /* files handed over in all, the earlier run's leftovers included */
	atomic_int log_frames; /* the log's length at the writer's last commit, 0 once checkpointed */
};

/* Files whose records are synced, waiting to be removed: the janitor thread's alone. */
struct janitor_ready {
	char (*names)[33];
	size_t n, done;
};

/* A run handed at most this many files (one group's worth) waits for their removal, so a small
 * run leaves an empty spool. A larger one ends when its last outcome is synced, not with the
 * unlinks behind it (1.5 ms each on a disk mounted with discard: waiting for even one group's
 * worth was a quarter of a 2,000-message run on such a disk); what is left is the next run's
 * (run_hand_leftovers). */
#define JANITOR_SMALL_RUN 64

/* Removals between two looks for a sync asked for meanwhile: a sync (and the checkpoint after it)
 * never waits behind a long list of removals, each 1.5 ms on a slow disk. */
#define JANITOR_REMOVE_STEP 16

/* The log's length, in 4 KB frames, past which it is checkpointed: three quarters of the 1 MB a
 * command may leave it at (store_trim_log), so the log restarts before it gets there and a run
 * usually ends with nothing to trim. Not much less: whoever writes first after a checkpoint
 * restarts the log and syncs its header, and that is often the runner marking its next group. */
#define JANITOR_CHECKPOINT_FRAMES 192

/* Every outcome committed before the call becomes durable (store_sync_log). While the run goes
 * on, the log is then checkpointed if it has grown: here, not in the recorder's commits, so the
 * run never waits for it. */
static int janitor_sync(struct janitor *j, int stopping)
{
	if (store_sync_log(j->wal, &j->wal_fd) != 0)
		return 0;
	if (j->h && !stopping && atomic_load(&j->log_frames) > JANITOR_CHECKPOINT_FRAMES) {
		atomic_store(&j->log_frames, 0);
		store_checkpoint_behind(j->h);
	}
	return 1;
}

void janitor_log_length(void *janitor, int frames)
{
	struct janitor *j = janitor;

	atomic_store(&j->log_frames, frames);
}

/* Unlinking a file that reached the disk costs the journal a write; on ext4 that was about a
 * third of a flush's time when done between messages. */
static void janitor_unlink(int dir_fd, const char *name)
{
	/* A failure leaves the file for the orphan sweep: nothing depends on it any more. */
	(void)unlinkat(dir_fd, name, 0);
}

/* Add a synced batch to the files to remove. Out of memory, the batch stays for the sweep. */
static void janitor_ready_add(struct janitor_ready *r, char (*batch)[33], size_t n)
{
	char(*grown)[33];
	size_t left = r->n - r->done;

	if (n == 0)
		return;
	grown = malloc((left + n) * sizeof *grown);
	if (grown == NULL)
		return;
	if (left > 0)
		memcpy(grown, r->names + r->done, left * sizeof *grown);
	memcpy(grown + left, batch, n * sizeof *grown);
	free(r->names);
	r->names = grown;
	r->n = left + n;
	r->done = 0;
}

static void *janitor_main(void *arg)
{
	struct janitor *j = arg;
	struct janitor_ready ready = {NULL, 0, 0};
	char (*batch)[33];
	size_t n, step;
	int stopping;

	pthread_mutex_lock(&j->lock);
	for (;;) {
		while (!j->sync_wanted && !j->stopping && ready.done == ready.n)
			pthread_cond_wait(&j->wake, &j->lock);
		if (j->sync_wanted) {
			/* Take the whole list and work without the lock, so producers never wait on
			 * disk. Every name in it was handed over after its outcome was committed, so
			 * the sync that starts now covers them all. */
			batch = j->names;
			n = j->n;
			j->names = NULL;
			j->n = j->cap = 0;
			j->sync_wanted = 0;
			stopping = j->stopping;
			pthread_mutex_unlock(&j->lock);
			/* Without a sync the files stay: a done row's file is an orphan the sweep
			 * removes. */
			if (janitor_sync(j, stopping))
				janitor_ready_add(&ready, batch, n);
			free(batch);
			pthread_mutex_lock(&j->lock);
		} else if (ready.done == ready.n) {
			break; /* stopping, and nothing is left to do */
		}
		if (j->stopping && atomic_load(&j->leave_rest))
			ready.done = ready.n;
		/* One step of removals after each sync: syncs asked for faster than they take would
		 * otherwise never leave time for any. */
		pthread_mutex_unlock(&j->lock);
		for (step = 0; step < JANITOR_REMOVE_STEP && ready.done < ready.n && !atomic_load(&j->leave_rest);
		     step++)
			janitor_unlink(j->dir_fd, ready.names[ready.done++]);
		pthread_mutex_lock(&j->lock);
	}
	pthread_mutex_unlock(&j->lock);
	free(ready.names);
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
	if (outbox_open(&j->h, outbox_home(h)) < 0) {
		outbox_close(j->h);
		j->h = NULL;
	}
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
		if (janitor_sync(j, 0))
			for (i = 0; i < n; i++)
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
	j->handed += n;
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
		atomic_store(&j->leave_rest, leave_rest && j->handed > JANITOR_SMALL_RUN);
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
	outbox_close(j->h);
	free(j);
}
