/* secret_file.c: passwords as private files under $home/secrets, for when no keyring answers.
 * Each is written whole to a temp file and renamed, so a reader never sees part of a password. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "handle_internal.h"
#include "secret.h"
#include "secret_file.h"

/* The cap secret_store applies; a bigger file is not one we wrote. */
#define SECRET_FILE_MAX SECRET_MAX

static int io_fail(outbox *h, const char *doing, const char *path, int err)
{
	return outbox_fail(h, OUTBOX_EIO, NULL, "cannot %s %s: %s", doing, path, strerror(err));
}

static int oom(outbox *h)
{
	return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
}

static int secrets_dir(outbox *h, struct buf *dir)
{
	if (h->home == NULL || *h->home == '\0')
		return outbox_fail(h, OUTBOX_ECONFIG, NULL,
				   "the store has no directory to keep password files in");
	if (buf_printf(dir, "%s/secrets", h->home) < 0)
		return oom(h);
	return 0;
}

static int secret_path(outbox *h, const char *id, struct buf *dir, struct buf *path)
{
	int rc;

	if ((rc = secrets_dir(h, dir)) < 0)
		return rc;
	if (buf_printf(path, "%s/%s", dir->data, id) < 0)
		return oom(h);
	return 0;
}

static int make_dir(outbox *h, const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) == 0) {
		/* The umask can only take bits away, but an odd one could take the owner's too. */
		if (chmod(dir, 0700) < 0)
			return io_fail(h, "set the permissions of", dir, errno);
		return 0;
	}
	if (errno != EEXIST)
		return io_fail(h, "create", dir, errno);
	if (stat(dir, &st) < 0)
		return io_fail(h, "inspect", dir, errno);
	if (!S_ISDIR(st.st_mode))
		return outbox_fail(h, OUTBOX_ECONFIG, NULL,
				   "%s is not a directory; move it out of the way", dir);
	/* Whoever owns the directory can swap the password files in it for their own. */
	return handle_check_owner(h, dir, &st, 0);
}

/* The directory a password is read from must be the user's own, as when one is written. */
static int check_dir(outbox *h, const char *dir)
{
	struct stat st;

	if (stat(dir, &st) < 0) {
		if (errno == ENOENT)
			return 0; /* the file's own open says it is missing */
		return io_fail(h, "inspect", dir, errno);
	}
	return handle_check_owner(h, dir, &st, 0);
}

static int write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Create the temp file under a random name, so two writers never share one. */
static int open_temp(outbox *h, const char *dir, const char *id, struct buf *tmp, int *fd)
{
	char nonce[33];
	int tries, rc;

	for (tries = 0;; tries++) {
		if ((rc = secret_new_id(h, nonce)) < 0)
			return rc;
		buf_reset(tmp);
		if (buf_printf(tmp, "%s/.%s.%s.tmp", dir, id, nonce) < 0)
			return oom(h);
		*fd = open(tmp->data, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (*fd >= 0)
			return 0;
		if (errno != EEXIST || tries >= 3)
			return io_fail(h, "create", tmp->data, errno);
	}
}

static int sync_dir(outbox *h, const char *dir)
{
	int fd, err;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return io_fail(h, "open", dir, errno);
	if (fsync(fd) < 0) {
		err = errno;
		close(fd);
		return io_fail(h, "sync", dir, err);
	}
	close(fd);
	return 0;
}

int secret_file_store(outbox *h, const char *id, const char *password)
{
	struct buf dir = BUF_INIT, path = BUF_INIT, tmp = BUF_INIT;
	int fd = -1, rc, err;

	if ((rc = secret_path(h, id, &dir, &path)) < 0 || (rc = make_dir(h, dir.data)) < 0 ||
	    (rc = open_temp(h, dir.data, id, &tmp, &fd)) < 0)
		goto done;
	if (fchmod(fd, 0600) < 0 || write_all(fd, password, strlen(password)) < 0 || fsync(fd) < 0) {
		err = errno;
		close(fd);
		rc = io_fail(h, "write", tmp.data, err);
		goto drop_temp;
	}
	if (close(fd) < 0) {
		rc = io_fail(h, "write", tmp.data, errno);
		goto drop_temp;
	}
	if (rename(tmp.data, path.data) < 0) {
		rc = io_fail(h, "replace", path.data, errno);
		goto drop_temp;
	}
	rc = sync_dir(h, dir.data);
	goto done;

drop_temp:
	unlink(tmp.data);
done:
	buf_free(&dir);
	buf_free(&path);
	buf_free(&tmp);
	return rc;
}

static int read_secret(outbox *h, int fd, const char *path, char **password)
{
	char data[SECRET_FILE_MAX + 1];
	size_t len = 0;
	ssize_t n;
	int rc = 0;

	while (len < SECRET_FILE_MAX) {
		n = read(fd, data + len, SECRET_FILE_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = io_fail(h, "read", path, errno);
			goto wipe;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len == 0)
		rc = outbox_fail(h, OUTBOX_ECONFIG, NULL,
				 "the password file %s is empty; set the server's password again", path);
	else if (memchr(data, '\0', len) != NULL)
		rc = outbox_fail(h, OUTBOX_ECONFIG, NULL,
				 "the password file %s contains a NUL byte; set the server's password again",
				 path);
	if (rc < 0)
		goto wipe;
	data[len] = '\0';
	if ((*password = strdup(data)) == NULL)
		rc = oom(h);
wipe:
	explicit_bzero(data, sizeof data);
	return rc;
}

int secret_file_lookup(outbox *h, const char *id, char **password)
{
	struct buf dir = BUF_INIT, path = BUF_INIT;
	struct stat st;
	int fd = -1, rc;

	*password = NULL;
	if ((rc = secret_path(h, id, &dir, &path)) < 0 || (rc = check_dir(h, dir.data)) < 0)
		goto done;
	/* O_NONBLOCK: a FIFO planted here would hold open() until someone writes to it. */
	if ((fd = open(path.data, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			rc = outbox_fail(h, OUTBOX_ECONFIG, NULL,
					 "the password file %s is missing; set the server's password again",
					 path.data);
		else if (errno == ELOOP)
			rc = outbox_fail(h, OUTBOX_ECONFIG, NULL,
					 "the password file %s is a symbolic link; remove it and set the "
					 "server's password again", path.data);
		else
			rc = io_fail(h, "open", path.data, errno);
		goto done;
	}
	if (fstat(fd, &st) < 0) {
		rc = io_fail(h, "inspect", path.data, errno);
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = outbox_fail(h, OUTBOX_ECONFIG, NULL, "the password file %s is not a regular file",
				 path.data);
		goto done;
	}
	if ((rc = handle_check_owner(h, path.data, &st, 0)) < 0)
		goto done;
	/* Group- or world-writable counts too: someone else could swap in a password of theirs. */
	if (st.st_mode & 077) {
		rc = outbox_fail(h, OUTBOX_ECONFIG, NULL,
				 "the password file %s is open to other users (mode %04o); run: chmod 600 %s",
				 path.data, (unsigned)(st.st_mode & 07777), path.data);
		goto done;
	}
	if (st.st_size > SECRET_FILE_MAX) {
		rc = outbox_fail(h, OUTBOX_ECONFIG, NULL,
				 "the password file %s is longer than %d bytes; set the server's password "
				 "again", path.data, SECRET_FILE_MAX);
		goto done;
	}
	rc = read_secret(h, fd, path.data, password);
done:
	if (fd >= 0)
		close(fd);
	buf_free(&dir);
	buf_free(&path);
	return rc;
}

int secret_file_delete(outbox *h, const char *id)
{
	struct buf dir = BUF_INIT, path = BUF_INIT;
	int rc;

	if ((rc = secret_path(h, id, &dir, &path)) == 0 && unlink(path.data) < 0 && errno != ENOENT)
		rc = io_fail(h, "delete", path.data, errno);
	buf_free(&dir);
	buf_free(&path);
	return rc;
}
