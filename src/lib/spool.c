/* spool.c: the outbox's message files. Written unnamed (O_TMPFILE) or as a locked file in spool/tmp,
 * fsync'd, then named in spool/ and the directory fsync'd: a crash leaves no partial file there.
 * Read only when spool_judge finds the file that was queued, and never waited on. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "handle_internal.h"
#include "outbox/handle.h"
#include "record.h"
#include "secret.h"
#include "spool.h"

/* Fresh random names clash with probability 2^-128; a few retries make even that harmless. */
#define SPOOL_NAME_TRIES 4

/* OUTBOX_EIO with the operating system's words and the path: "cannot sync ~/x/spool/tmp: ...". */
static int spool_fail_os(outbox *h, int err, const char *doing, const char *sub)
{
	return outbox_fail(h, OUTBOX_EIO, NULL, "cannot %s %s/spool%s%s: %s", doing, outbox_home(h),
			   sub ? "/" : "", sub ? sub : "", strerror(err));
}

static int spool_name_ok(const char *name)
{
	size_t i;

	for (i = 0; name[i]; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	return i == 32;
}

static int spool_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Remove one leftover from spool/tmp unless a live writer holds it. A writer creates its file
 * and then locks it, so the lock alone leaves a window in which a fresh file is unlocked: the
 * writer therefore checks, once it holds the lock, that its name still leads to its file, and
 * starts over if not. Here the order is the mirror image: lock first, then check that the name
 * still leads to the file we locked (the writer may have renamed it into spool/ meanwhile), and
 * unlink while holding the lock. Nobody renames or unlinks a file whose lock they do not hold,
 * so between our check and our unlink the name cannot change hands. */
static void spool_clean_one(int tmp_fd, const char *name)
{
	struct stat st, locked;
	int fd;

	if (fstatat(tmp_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode))
		return; /* gone already; a directory is nothing a writer makes, so not ours to judge */
	if (!S_ISREG(st.st_mode)) {
		unlinkat(tmp_fd, name, 0); /* no writer makes these either, and nothing can lock them */
		return;
	}
	/* O_NONBLOCK: should the name become a FIFO after the stat, opening it must not hang. */
	if ((fd = openat(tmp_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)) < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &locked) == 0 &&
	    fstatat(tmp_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && spool_same_file(&st, &locked))
		unlinkat(tmp_fd, name, 0);
	close(fd);
}

static int spool_clean_tmp(outbox *h, struct spool *sp)
{
	/* A descriptor of its own: closedir() closes it, and readdir must not share an offset. */
	int fd = openat(sp->tmp_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	int rc = 0;

	if (d == NULL) {
		rc = spool_fail_os(h, errno, "read", "tmp");
		if (fd >= 0)
			close(fd);
		return rc;
	}
	for (errno = 0; (e = readdir(d)) != NULL; errno = 0)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			spool_clean_one(sp->tmp_fd, e->d_name);
	if (errno != 0)
		rc = spool_fail_os(h, errno, "read", "tmp");
	closedir(d);
	return rc;
}

/* spool/tmp is made on first need, not by spool_open_dir: where O_TMPFILE works (every common
 * Linux file system) it is never needed, and the spool directory then holds message files only. */
static int spool_tmp_dir(outbox *h, struct spool *sp)
{
	if (sp->tmp_fd >= 0)
		return 0;
	if (mkdirat(sp->dir_fd, "tmp", 0700) < 0 && errno != EEXIST)
		return spool_fail_os(h, errno, "create", "tmp");
	/* No fsync of spool/ for this: losing the new directory in a crash loses only files that
	 * were never committed, and a commit's own fsync of spool/ covers the file it names. */
	if ((sp->tmp_fd = openat(sp->dir_fd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return spool_fail_os(h, errno, "open", "tmp");
	return 0;
}

int spool_open_dir(outbox *h, struct spool *sp)
{
	struct buf path = BUF_INIT;
	struct stat st;
	int rc = 0;

	sp->dir_fd = sp->tmp_fd = -1;
	sp->force_named = 0;
	if (buf_printf(&path, "%s/spool", outbox_home(h)) < 0)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	if (mkdir(path.data, 0700) < 0 && errno != EEXIST)
		rc = spool_fail_os(h, errno, "create", NULL);
	else if ((sp->dir_fd = open(path.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		rc = spool_fail_os(h, errno, "open", NULL);
	else if (fstat(sp->dir_fd, &st) < 0)
		rc = spool_fail_os(h, errno, "read", NULL);
	else
		sp->owner = st.st_uid;
	buf_free(&path);
	if (rc < 0)
		return rc;
	sp->tmp_fd = openat(sp->dir_fd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (sp->tmp_fd < 0 && errno != ENOENT)
		rc = spool_fail_os(h, errno, "open", "tmp");
	else if (sp->tmp_fd >= 0)
		rc = spool_clean_tmp(h, sp);
	if (rc < 0)
		spool_close_dir(sp);
	return rc;
}

void spool_close_dir(struct spool *sp)
{
	if (sp->tmp_fd >= 0)
		close(sp->tmp_fd);
	if (sp->dir_fd >= 0)
		close(sp->dir_fd);
	sp->dir_fd = sp->tmp_fd = -1;
}

/* The fallback: a new file in spool/tmp, locked so that spool_clean_one leaves it alone. */
static int spool_begin_named(outbox *h, struct spool *sp, struct spool_writer *w)
{
	struct stat mine, there;
	int tries, fd, rc;

	if ((rc = spool_tmp_dir(h, sp)) < 0)
		return rc;
	for (tries = 0; tries < SPOOL_NAME_TRIES; tries++) {
		if ((rc = secret_new_id(h, w->tmp_name)) < 0)
			return rc;
		fd = openat(sp->tmp_fd, w->tmp_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0)
			return spool_fail_os(h, errno, "create a message file in", "tmp");
		while ((rc = flock(fd, LOCK_EX)) < 0 && errno == EINTR)
			;
		if (rc < 0) {
			rc = spool_fail_os(h, errno, "lock a message file in", "tmp");
			unlinkat(sp->tmp_fd, w->tmp_name, 0);
			close(fd);
			return rc;
		}
		/* A cleaner that opened the file before we locked it may have removed it: then the
		 * name leads elsewhere or nowhere, and this file must not be used. */
		if (fstat(fd, &mine) == 0 && fstatat(sp->tmp_fd, w->tmp_name, &there, AT_SYMLINK_NOFOLLOW) == 0 &&
		    spool_same_file(&mine, &there)) {
			w->fd = fd;
			w->named = 1;
			w->tmp_dir_fd = sp->tmp_fd;
			return 0;
		}
		close(fd);
	}
	w->tmp_name[0] = '\0';
	return outbox_fail(h, OUTBOX_EIO, NULL, "cannot keep a message file in %s/spool/tmp: it was removed "
			   "each time it was made", outbox_home(h));
}

int spool_begin(outbox *h, struct spool *sp, struct spool_writer *w)
{
	memset(w, 0, sizeof *w);
	w->fd = w->tmp_dir_fd = -1;
	if (!sp->force_named) {
		w->fd = openat(sp->dir_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (w->fd >= 0)
			return 0;
		/* What kernels and file systems without O_TMPFILE answer; anything else is real. */
		if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
			return spool_fail_os(h, errno, "create a message file in", NULL);
	}
	return spool_begin_named(h, sp, w);
}

/* Give an unnamed file its name. Linking through /proc needs no privilege, unlike AT_EMPTY_PATH
 * (CAP_DAC_READ_SEARCH), which is tried second for a system without /proc. */
static int spool_link_unnamed(struct spool *sp, struct spool_writer *w, const char *name)
{
	char proc[64];
	int err;

	snprintf(proc, sizeof proc, "/proc/self/fd/%d", w->fd);
	if (linkat(AT_FDCWD, proc, sp->dir_fd, name, AT_SYMLINK_FOLLOW) == 0)
		return 0;
	if (errno == EEXIST)
		return -1;
	err = errno;
	if (linkat(w->fd, "", sp->dir_fd, name, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != EEXIST)
		errno = err; /* the /proc failure says more than "not permitted" */
	return -1;
}

/* Move a named file from spool/tmp, never over an existing file. File systems without
 * RENAME_NOREPLACE get link and unlink instead: a crash between the two leaves a second name in
 * tmp, which the next cleanup removes while the committed name keeps the file. */
static int spool_move_named(struct spool *sp, struct spool_writer *w, const char *name)
{
	if (renameat2(w->tmp_dir_fd, w->tmp_name, sp->dir_fd, name, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (linkat(w->tmp_dir_fd, w->tmp_name, sp->dir_fd, name, 0) < 0)
		return -1;
	unlinkat(w->tmp_dir_fd, w->tmp_name, 0);
	return 0;
}

int spool_commit(outbox *h, struct spool *sp, struct spool_writer *w, char name[33])
{
	int tries, rc;

	if (w->committed || w->fd < 0)
		return outbox_fail(h, OUTBOX_EIO, NULL, "internal error: no message file to commit");
	/* The data first: once a name is visible, the bytes behind it must be on disk. */
	if (fsync(w->fd) < 0)
		return w->named ? spool_fail_os(h, errno, "write the message to disk in", "tmp")
				: spool_fail_os(h, errno, "write the message to disk in", NULL);
	for (tries = 0;; tries++) {
		if ((rc = secret_new_id(h, name)) < 0)
			return rc;
		rc = w->named ? spool_move_named(sp, w, name) : spool_link_unnamed(sp, w, name);
		if (rc == 0)
			break;
		if (errno != EEXIST || tries + 1 == SPOOL_NAME_TRIES)
			return spool_fail_os(h, errno, "name the message file in", NULL);
	}
	w->tmp_name[0] = '\0'; /* the file left spool/tmp: nothing there is ours to remove now */
	/* Then the name: without this fsync a crash could forget the directory entry. */
	if (fsync(sp->dir_fd) < 0) {
		rc = spool_fail_os(h, errno, "sync", NULL);
		/* Not durable, so not committed: the caller must not record it. Unnamed again, the
		 * file goes away with the writer. */
		unlinkat(sp->dir_fd, name, 0);
		return rc;
	}
	w->committed = 1;
	lseek(w->fd, 0, SEEK_SET); /* callers read the message back from the start */
	return 0;
}

void spool_writer_close(struct spool_writer *w)
{
	/* Unlink before closing: the lock is still ours, so no cleaner is deciding about this file. */
	if (w->fd >= 0 && !w->committed && w->named && w->tmp_name[0])
		unlinkat(w->tmp_dir_fd, w->tmp_name, 0);
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	w->tmp_name[0] = '\0';
}

void spool_abort(struct spool_writer *w)
{
	spool_writer_close(w);
}

enum spool_verdict spool_judge(const struct stat *st, uid_t owner, long long size)
{
	if (S_ISLNK(st->st_mode))
		return SPOOL_SYMLINK;
	if (S_ISFIFO(st->st_mode))
		return SPOOL_FIFO;
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
		return SPOOL_DEVICE;
	if (S_ISSOCK(st->st_mode))
		return SPOOL_SOCKET;
	if (S_ISDIR(st->st_mode))
		return SPOOL_DIRECTORY;
	if (!S_ISREG(st->st_mode))
		return SPOOL_DEVICE; /* no other kind exists; should one appear, it is no message */
	/* A second name means the file was linked from elsewhere: as root, /etc/shadow would do. */
	if (st->st_nlink != 1)
		return SPOOL_LINKED;
	if (st->st_uid != owner)
		return SPOOL_NOT_OWNED;
	if ((long long)st->st_size != size)
		return SPOOL_WRONG_SIZE;
	return SPOOL_OK;
}

/* The verdict in the words `queue show` gives, on the handle; OUTBOX_EINVALID. */
static int spool_refuse(outbox *h, enum spool_verdict v, const struct stat *st, uid_t owner, long long size)
{
	static const char *const kinds[] = {
		[SPOOL_SYMLINK] = "a symbolic link", [SPOOL_FIFO] = "a FIFO", [SPOOL_DEVICE] = "a device node",
		[SPOOL_SOCKET] = "a socket",         [SPOOL_DIRECTORY] = "a directory",
	};

	switch (v) {
	case SPOOL_LINKED:
		return outbox_fail(h, OUTBOX_EINVALID, NULL, "the spool file has %ju names (hard links), not one: "
				   "it may be any file on the disk", (uintmax_t)st->st_nlink);
	case SPOOL_NOT_OWNED:
		return outbox_fail(h, OUTBOX_EINVALID, NULL, "the spool file belongs to uid %ju, not to the store's "
				   "owner (uid %ju)", (uintmax_t)st->st_uid, (uintmax_t)owner);
	case SPOOL_WRONG_SIZE:
		return outbox_fail(h, OUTBOX_EINVALID, NULL, "the spool file has %lld bytes, not the %lld that were "
				   "queued: it changed since", (long long)st->st_size, size);
	default:
		return outbox_fail(h, OUTBOX_EINVALID, NULL, "the spool file is %s, not a regular file",
				   (unsigned)v < sizeof kinds / sizeof kinds[0] && kinds[v] ? kinds[v] : "not a regular file");
	}
}

int spool_check_message(outbox *h, struct spool *sp, const char *name, long long size, enum spool_verdict *verdict)
{
	struct stat st;

	*verdict = SPOOL_OK;
	if (!spool_name_ok(name))
		return outbox_fail(h, OUTBOX_EINVALID, NULL, "\"%.40s\" is not a message file name", name);
	/* A missing file is this machine's failure, as before: nothing planted it, nothing to judge. */
	if (fstatat(sp->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return spool_fail_os(h, errno, "read the message file", name);
	if ((*verdict = spool_judge(&st, sp->owner, size)) != SPOOL_OK)
		return spool_refuse(h, *verdict, &st, sp->owner, size);
	return 0;
}

int spool_open_message(outbox *h, struct spool *sp, const char *name, long long size, int *fd,
		       enum spool_verdict *verdict)
{
	struct stat st;
	int rc;

	*fd = -1;
	/* By name first, so a device node is never opened (opening some has effects of its own). */
	if ((rc = spool_check_message(h, sp, name, size, verdict)) < 0)
		return rc;
	/* Then what was opened, which is what will be read: the name may lead elsewhere by now.
	 * O_NONBLOCK keeps a FIFO from holding the open; O_NOCTTY a terminal from becoming ours. */
	*fd = openat(sp->dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (*fd < 0) {
		if (errno == ELOOP) {
			*verdict = SPOOL_SYMLINK;
			return spool_refuse(h, *verdict, NULL, sp->owner, size);
		}
		return spool_fail_os(h, errno, "open the message file", name);
	}
	if (fstat(*fd, &st) < 0)
		rc = spool_fail_os(h, errno, "look at the message file", name);
	else if ((*verdict = spool_judge(&st, sp->owner, size)) != SPOOL_OK)
		rc = spool_refuse(h, *verdict, &st, sp->owner, size);
	/* O_NONBLOCK stays: a regular file, the only kind accepted, reads the same either way, and
	 * clearing it would cost two system calls per message on the runner's hot path. */
	if (rc < 0) {
		close(*fd);
		*fd = -1;
	}
	return rc;
}

int spool_remove(outbox *h, struct spool *sp, const char *name)
{
	if (!spool_name_ok(name))
		return outbox_fail(h, OUTBOX_EINVALID, NULL, "\"%.40s\" is not a message file name", name);
	if (unlinkat(sp->dir_fd, name, 0) < 0) {
		if (errno == ENOENT)
			return 0;
		return spool_fail_os(h, errno, "remove", name);
	}
	/* Durably gone, or a crash could bring back a file whose queue row is already deleted. */
	if (fsync(sp->dir_fd) < 0)
		return spool_fail_os(h, errno, "sync", NULL);
	return 0;
}

static int spool_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of 32 hex digits in spool/, sorted; with regular_only, only those of regular files. */
static int spool_names(outbox *h, struct spool *sp, int regular_only, char ***names)
{
	int fd = openat(sp->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	char **v = NULL;
	size_t n = 0;
	int rc = 0;

	*names = NULL;
	if (d == NULL) {
		rc = spool_fail_os(h, errno, "read", NULL);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	for (errno = 0; (e = readdir(d)) != NULL; errno = 0) {
		struct stat st;
		if (!spool_name_ok(e->d_name))
			continue;
		if (regular_only && e->d_type != DT_REG &&
		    (e->d_type != DT_UNKNOWN || fstatat(sp->dir_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		     !S_ISREG(st.st_mode)))
			continue;
		if (strv_append(&v, &n, e->d_name) < 0) {
			rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
			break;
		}
	}
	if (rc == 0 && errno != 0)
		rc = spool_fail_os(h, errno, "read", NULL);
	closedir(d);
	if (rc == 0 && v == NULL && (v = calloc(1, sizeof *v)) == NULL)
		rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	if (rc < 0) {
		strv_free(v);
		return rc;
	}
	qsort(v, n, sizeof *v, spool_cmp);
	*names = v;
	return 0;
}

int spool_list(outbox *h, struct spool *sp, char ***names)
{
	return spool_names(h, sp, 1, names);
}

static int spool_cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int spool_remove_orphans(outbox *h, struct spool *sp, char *const *keep, long long min_age, char ***spared)
{
	char **names = NULL, **sorted = NULL;
	time_t now = time(NULL);
	size_t i, nkeep = 0, nspared = 0;
	int rc, removed = 0;

	if (spared)
		*spared = NULL;
	if ((rc = spool_names(h, sp, 0, &names)) < 0)
		return rc;
	/* A sorted copy of `keep`: a full outbox has thousands of files, and comparing each with
	 * every name would take millions of comparisons. */
	while (keep && keep[nkeep])
		nkeep++;
	if (nkeep && (sorted = malloc(nkeep * sizeof *sorted)) == NULL) {
		strv_free(names);
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	if (nkeep) {
		memcpy(sorted, keep, nkeep * sizeof *sorted);
		qsort(sorted, nkeep, sizeof *sorted, spool_cmp_names);
	}
	for (i = 0; names[i]; i++) {
		struct stat st;
		int kept = nkeep && bsearch(&names[i], sorted, nkeep, sizeof *sorted, spool_cmp_names) != NULL;
		/* Young files are spared: a send may be between linking its file and committing its row.
		 * Nothing else (a FIFO, a device, a symlink) is ever made by a send, so it goes at once. */
		if (kept || fstatat(sp->dir_fd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode))
			continue;
		if (S_ISREG(st.st_mode) && now - st.st_mtime < min_age) {
			/* Out of memory only costs the caller a look: the file waits for its hour. */
			if (spared && strv_append(spared, &nspared, names[i]) < 0) {
				strv_free(*spared);
				*spared = NULL;
				spared = NULL;
			}
			continue;
		}
		removed += unlinkat(sp->dir_fd, names[i], 0) == 0;
	}
	free(sorted);
	strv_free(names);
	if (removed && fsync(sp->dir_fd) < 0)
		return spool_fail_os(h, errno, "sync", NULL);
	return 0;
}
