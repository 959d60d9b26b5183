/* handle_check.c: whether a file or directory of the store may be used: it is the running user's
 * own and of the right kind, and, for a handle that changes the store, it can be written. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "handle_internal.h"

/* The user's login name for a message, or the number when the system has no name for it. */
static void handle_check_user_name(uid_t uid, char *out, size_t size)
{
	struct passwd pw, *found = NULL;
	char scratch[1024];

	if (getpwuid_r(uid, &pw, scratch, sizeof scratch, &found) == 0 && found != NULL)
		snprintf(out, size, "%s", found->pw_name);
	else
		snprintf(out, size, "%u", (unsigned)uid);
}

int handle_check_owner(outbox *h, const char *path, const struct stat *st, int whole_store)
{
	uid_t me = geteuid();
	char owner[64], user[64];

	if (st->st_uid == me)
		return 0;
	handle_check_user_name(st->st_uid, owner, sizeof owner);
	/* Root is refused too, as ssh refuses it: the files root would leave in the store (the WAL,
	 * spool files, a runner's lock) would be root's, and the owner could no longer use it. */
	if (me == 0 && whole_store)
		return outbox_fail(h, OUTBOX_ECONFIG, NULL,
				   "%s belongs to %s, not root; run outbox as %s (sudo -u %s outbox ...)", path,
				   owner, owner, owner);
	handle_check_user_name(me, user, sizeof user);
	return outbox_fail(h, OUTBOX_ECONFIG, NULL, "%s belongs to %s, not %s; run: chown %s%s %s", path,
			   owner, user, S_ISDIR(st->st_mode) ? "-R " : "", user, path);
}

int handle_check_file(outbox *h, const char *path, const char *what)
{
	struct stat st;

	/* lstat, not stat: the file itself must not be a link, whatever it points at. */
	if (lstat(path, &st) < 0)
		return outbox_fail(h, OUTBOX_ECONFIG, NULL, "cannot open the %s %s: %s", what, path,
				   strerror(errno));
	if (S_ISLNK(st.st_mode))
		return outbox_fail(h, OUTBOX_ECONFIG, NULL,
				   "the %s %s is a symbolic link; outbox opens only a file of its own there: "
				   "replace the link with the file it points to", what, path);
	if (!S_ISREG(st.st_mode))
		return outbox_fail(h, OUTBOX_ECONFIG, NULL, "the %s %s is not a regular file", what, path);
	return handle_check_owner(h, path, &st, 0);
}

int handle_check_can_write(const char *path)
{
	/* AT_EACCESS: the effective user is the one that will write; a missing file is created. */
	if (faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) == 0 || errno == ENOENT)
		return 0;
	return errno;
}

int handle_check_writable(outbox *h, const char *db)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	struct buf path = BUF_INIT;
	size_t i;
	int err, rc = 0;

	/* A writer needs the directory too: the WAL, spool files and runners' locks are made there. */
	if ((err = handle_check_can_write(h->home)) != 0)
		return outbox_fail(h, OUTBOX_EIO, NULL,
				   "the store %s is read-only (its directory: %s); only reading commands work",
				   h->home, strerror(err));
	for (i = 0; rc == 0 && i < sizeof suffixes / sizeof suffixes[0]; i++) {
		buf_reset(&path);
		if (buf_printf(&path, "%s%s", db, suffixes[i]) < 0)
			rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
		else if ((err = handle_check_can_write(path.data)) != 0)
			rc = outbox_fail(h, OUTBOX_EIO, NULL,
					 "the store %s is read-only (%s: %s); only reading commands work",
					 h->home, path.data, strerror(err));
	}
	buf_free(&path);
	return rc;
}
