/* spool.c: the outbox's message files. Written unnamed (O_TMPFILE), fsync'd, then linked under
 * their final name and the directory fsync'd, so a crash leaves no partial file by construction. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "handle_internal.h"
#include "outbox/handle.h"
#include "secret.h"
#include "spool.h"

int spool_open_dir(outbox *h, struct spool *sp)
{
	struct buf path = BUF_INIT;
	int rc = 0;

	sp->dir_fd = -1;
	if (buf_printf(&path, "%s/spool", outbox_home(h)) < 0)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	if (mkdir(path.data, 0700) < 0 && errno != EEXIST)
		rc = outbox_fail(h, OUTBOX_EIO, NULL, "cannot create %s: %s", path.data, strerror(errno));
	else if ((sp->dir_fd = open(path.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		rc = outbox_fail(h, OUTBOX_EIO, NULL, "cannot open %s: %s", path.data, strerror(errno));
	buf_free(&path);
	return rc;
}

void spool_close_dir(struct spool *sp)
{
	if (sp->dir_fd >= 0)
		close(sp->dir_fd);
	sp->dir_fd = -1;
}

int spool_begin(outbox *h, struct spool *sp, struct spool_writer *w)
{
	w->committed = 0;
	w->fd = openat(sp->dir_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (w->fd < 0)
		return outbox_fail(h, OUTBOX_EIO, NULL,
				   "cannot create a message file in %s/spool: %s (the file system must support "
				   "O_TMPFILE)", outbox_home(h), strerror(errno));
	return 0;
}

static int spool_sync_dir(outbox *h, struct spool *sp)
{
	if (fsync(sp->dir_fd) < 0)
		return outbox_fail(h, OUTBOX_EIO, NULL, "cannot sync %s/spool: %s", outbox_home(h), strerror(errno));
	return 0;
}

int spool_commit(outbox *h, struct spool *sp, struct spool_writer *w, char name[33])
{
	char proc[64];
	int rc;

	if (w->committed)
		return outbox_fail(h, OUTBOX_EIO, NULL, "internal error: message file committed twice");
	if (fsync(w->fd) < 0)
		return outbox_fail(h, OUTBOX_EIO, NULL, "cannot write the message to disk: %s", strerror(errno));
	if ((rc = secret_new_id(h, name)) < 0)
		return rc;
	/* Linking through /proc needs no privilege, unlike AT_EMPTY_PATH. */
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", w->fd);
	if (linkat(AT_FDCWD, proc, sp->dir_fd, name, AT_SYMLINK_FOLLOW) < 0 &&
	    linkat(w->fd, "", sp->dir_fd, name, AT_EMPTY_PATH) < 0)
		return outbox_fail(h, OUTBOX_EIO, NULL, "cannot name the message file in %s/spool: %s",
				   outbox_home(h), strerror(errno));
	if ((rc = spool_sync_dir(h, sp)) < 0) {
		unlinkat(sp->dir_fd, name, 0);
		return rc;
	}
	w->committed = 1;
	return 0;
}

void spool_writer_close(struct spool_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

static int spool_name_ok(const char *name)
{
	size_t i;

	for (i = 0; name[i]; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	return i == 32;
}

int spool_open_message(outbox *h, struct spool *sp, const char *name, int *fd)
{
	if (!spool_name_ok(name))
		return outbox_fail(h, OUTBOX_EINVALID, NULL, "\"%.40s\" is not a message file name", name);
	*fd = openat(sp->dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0)
		return outbox_fail(h, OUTBOX_EIO, NULL, "cannot open the message file %s/spool/%s: %s", outbox_home(h),
				   name, strerror(errno));
	return 0;
}

int spool_remove(outbox *h, struct spool *sp, const char *name)
{
	if (!spool_name_ok(name))
		return outbox_fail(h, OUTBOX_EINVALID, NULL, "\"%.40s\" is not a message file name", name);
	if (unlinkat(sp->dir_fd, name, 0) < 0 && errno != ENOENT)
		return outbox_fail(h, OUTBOX_EIO, NULL, "cannot remove %s/spool/%s: %s", outbox_home(h), name,
				   strerror(errno));
	return spool_sync_dir(h, sp);
}

int spool_remove_orphans(outbox *h, struct spool *sp, char *const *keep, long long min_age)
{
	int fd = openat(sp->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	time_t now = time(NULL);

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return outbox_fail(h, OUTBOX_EIO, NULL, "cannot read %s/spool: %s", outbox_home(h), strerror(errno));
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		size_t i;
		int kept = 0;
		if (!spool_name_ok(e->d_name))
			continue;
		for (i = 0; keep && keep[i] && !kept; i++)
			kept = strcmp(keep[i], e->d_name) == 0;
		/* Young files are spared: a send may be between linking its file and committing its row. */
		if (kept || fstatat(sp->dir_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    now - st.st_mtime < min_age)
			continue;
		unlinkat(sp->dir_fd, e->d_name, 0);
	}
	closedir(d);
	return spool_sync_dir(h, sp);
}
