/* queue_owner.c: a runner's name and the lock file that proves it alive: the kernel releases the
 * lock when the runner dies, so its claims can be taken over at once instead of after the lease. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "handle_internal.h"
#include "outbox/handle.h"
#include "queue_owner.h"
#include "secret.h"

/* The id in a name that holds a lock. Older versions named owners with 8 digits and held no
 * lock: their claims are left to the lease. */
#define OWNER_ID_LEN 16
#define OWNER_TMP_PREFIX ".new-"
/* A file never renamed into place belongs to a runner that died while starting. */
#define OWNER_TMP_MAX_AGE 3600

/* The name that goes into owners: gethostname, cut to 63 bytes as in every name before. */
static void owner_host(char host[64])
{
	if (gethostname(host, 64) < 0)
		snprintf(host, 64, "localhost");
	host[63] = '\0';
}

/* This kernel's boot id. A free lock is only evidence of death on the kernel that kept it:
 * not on another machine that shares the disk (locks over NFS may be local only) and not on a
 * machine that happens to have the same host name. "" when it cannot be read. */
static void owner_boot_id(char out[40])
{
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, out, 39) : -1;

	out[n > 0 ? n : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	if (fd >= 0)
		close(fd);
}

static int owner_is_id(const char *s)
{
	size_t i;

	for (i = 0; i < OWNER_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[OWNER_ID_LEN] == '\0';
}

/* Split "host:pid:id" from the right, as a host name could hold anything: *host_len and *id, or
 * -1 for a name that holds no lock. */
static int owner_parse(const char *name, size_t *host_len, const char **id)
{
	const char *last = strrchr(name, ':'), *pid;

	if (last == NULL || !owner_is_id(last + 1))
		return -1;
	for (pid = last; pid > name && pid[-1] >= '0' && pid[-1] <= '9'; pid--)
		;
	if (pid == last || pid == name || pid[-1] != ':')
		return -1;
	*host_len = (size_t)(pid - 1 - name);
	*id = last + 1;
	return 0;
}

/* What a runner writes in its file: its name and its boot. Not synced: after a power cut every
 * runner is dead, and a file that lost its text only leaves its claims to the lease. */
static void owner_text(char *out, size_t size, const char *name, const char *boot)
{
	snprintf(out, size, "%s\n%s\n", name, boot);
}

/* Whether the file open at fd, which the caller has locked, was written under this boot: only then
 * does the free lock mean its runner is dead. `name` NULL accepts any owner's file. */
static int owner_file_of_this_boot(int fd, const char *name)
{
	char text[256], boot[40], want[256];
	const char *nl;
	ssize_t n = pread(fd, text, sizeof text - 1, 0);

	text[n > 0 ? n : 0] = '\0';
	owner_boot_id(boot);
	if (name) {
		owner_text(want, sizeof want, name, boot);
		return strcmp(text, want) == 0;
	}
	nl = strchr(text, '\n');
	return nl && strncmp(nl + 1, boot, strlen(boot)) == 0 && strcmp(nl + 1 + strlen(boot), "\n") == 0;
}

/* A runner's file in `dir`, opened for a look; -1 when it is not a regular file. O_NONBLOCK: a
 * FIFO put there must not hold the run in open(), and is no runner's file anyway. */
static int owner_open_file(int dir, const char *name)
{
	struct stat st;
	int fd = openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);

	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

/* Remove the files of runners that died without a claim to name them (no check ever reaches
 * those), and temporary files of runners that died while starting. */
static void owner_sweep(int dir)
{
	int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	struct stat st;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, OWNER_TMP_PREFIX, strlen(OWNER_TMP_PREFIX)) == 0) {
			if (fstatat(dir, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    time(NULL) - st.st_mtime > OWNER_TMP_MAX_AGE)
				unlinkat(dir, e->d_name, 0);
			continue;
		}
		if (!owner_is_id(e->d_name) || (fd = owner_open_file(dir, e->d_name)) < 0)
			continue;
		/* Unlinked while locked: no live runner can hold this name again. */
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 && owner_file_of_this_boot(fd, NULL))
			unlinkat(dir, e->d_name, 0);
		close(fd);
	}
	closedir(d);
}

static int owner_fail(outbox *h, const char *doing, const char *path, int err)
{
	return outbox_fail(h, OUTBOX_EIO, NULL, "cannot %s %s: %s", doing, path, strerror(err));
}

int queue_owner_hold(outbox *h, struct queue_owner *o)
{
	char host[64], id[33], tmp[48], boot[40], text[256];
	struct buf dir = BUF_INIT;
	ssize_t written;
	size_t len;
	int rc;

	o->dir = o->fd = -1;
	o->name[0] = '\0';
	if ((rc = secret_new_id(h, id)) < 0)
		return rc;
	id[OWNER_ID_LEN] = '\0';
	owner_host(host);
	snprintf(o->name, sizeof o->name, "%s:%ld:%s", host, (long)getpid(), id);
	snprintf(tmp, sizeof tmp, OWNER_TMP_PREFIX "%s", id);
	if (buf_printf(&dir, "%s/" QUEUE_OWNER_DIR, outbox_home(h)) < 0) {
		rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
		goto out;
	}
	if (mkdir(dir.data, 0700) < 0 && errno != EEXIST) {
		rc = owner_fail(h, "create", dir.data, errno);
		goto out;
	}
	if ((o->dir = open(dir.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = owner_fail(h, "open", dir.data, errno);
		goto out;
	}
	owner_sweep(o->dir);
	/* Locked under a temporary name, then renamed: a checker that finds the file finds it locked.
	 * Close-on-exec: a password command must not keep a dead runner's lock. */
	if ((o->fd = openat(o->dir, tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		rc = owner_fail(h, "create a runner's lock file in", dir.data, errno);
		goto out;
	}
	owner_boot_id(boot);
	owner_text(text, sizeof text, o->name, boot);
	len = strlen(text);
	if (flock(o->fd, LOCK_EX | LOCK_NB) < 0)
		rc = owner_fail(h, "lock a runner's lock file in", dir.data, errno);
	else if ((written = write(o->fd, text, len)) != (ssize_t)len)
		rc = owner_fail(h, "write a runner's lock file in", dir.data, written < 0 ? errno : ENOSPC);
	else if (renameat(o->dir, tmp, o->dir, id) < 0)
		rc = owner_fail(h, "name a runner's lock file in", dir.data, errno);
	if (rc < 0)
		unlinkat(o->dir, tmp, 0);
out:
	if (rc < 0)
		queue_owner_drop(o);
	buf_free(&dir);
	return rc;
}

void queue_owner_drop(struct queue_owner *o)
{
	const char *id = strrchr(o->name, ':');

	/* The name goes before the lock: whoever opens the file after this finds none, which means
	 * dead as well, and the claims left (a run that failed) are free at once. */
	if (o->fd >= 0) {
		if (id && owner_is_id(id + 1))
			unlinkat(o->dir, id + 1, 0);
		close(o->fd);
	}
	if (o->dir >= 0)
		close(o->dir);
	o->fd = o->dir = -1;
}

enum queue_owner_state queue_owner_check(outbox *h, const char *name, int reap)
{
	enum queue_owner_state state = QUEUE_OWNER_UNKNOWN;
	struct buf path = BUF_INIT;
	char host[64];
	const char *id;
	size_t host_len;
	int fd = -1;

	if (name == NULL || owner_parse(name, &host_len, &id) < 0)
		return QUEUE_OWNER_UNKNOWN;
	owner_host(host);
	if (strlen(host) != host_len || memcmp(host, name, host_len) != 0)
		return QUEUE_OWNER_UNKNOWN;
	if (buf_printf(&path, "%s/" QUEUE_OWNER_DIR "/%s", outbox_home(h), id) < 0)
		return QUEUE_OWNER_UNKNOWN;
	/* A runner's file exists from before its first claim until after its last: gone means
	 * it stopped, or a check found it dead and removed it. */
	if ((fd = owner_open_file(AT_FDCWD, path.data)) < 0) {
		state = errno == ENOENT ? QUEUE_OWNER_DEAD : QUEUE_OWNER_UNKNOWN;
		goto out;
	}
	/* flock belongs to the open file, not the process: this check never disturbs a lock that
	 * this same process holds through another descriptor, and closing fd releases only ours. */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		state = errno == EWOULDBLOCK ? QUEUE_OWNER_ALIVE : QUEUE_OWNER_UNKNOWN;
		goto out;
	}
	if (owner_file_of_this_boot(fd, name)) {
		state = QUEUE_OWNER_DEAD;
		if (reap)
			unlink(path.data);
	}
out:
	if (fd >= 0)
		close(fd);
	buf_free(&path);
	return state;
}
