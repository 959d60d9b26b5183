/* bench/slowdisk.c: an LD_PRELOAD shim that makes a fast disk behave like a slow cloud disk, so
 * the benchmarks show what syncs and unlinks cost where they are not free, on any machine.
 *
 * Build: cc -shared -fPIC -O2 -o slowdisk.so bench/slowdisk.c -ldl (the bench scripts do this)
 * Use:   LD_PRELOAD=./slowdisk.so PROGRAM ...
 * Env:   SLOWDISK_FSYNC_MS  delay before each fsync/fdatasync (default 4; may be fractional)
 *        SLOWDISK_UNLINK_MS delay before each unlink/unlinkat (default 1.5)
 *        SLOWDISK_LOG       a file that gets one line per call ("fsync", "fdatasync", "unlink",
 *                           "unlinkat"), so a test can count calls rather than time them
 * Each call sleeps first and then calls the real function (found with dlsym(RTLD_NEXT)), so its
 * result and errno are the real ones. Nothing is allocated and no lock is taken, so the shim is
 * safe in threads, in SQLite (which calls fsync and fdatasync itself) and under sanitizers (with
 * AddressSanitizer set ASAN_OPTIONS=verify_asan_link_order=0: the shim comes first, not libasan). */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A delay in microseconds from the environment, or the default when unset or not a number. */
static long slowdisk_delay_us(const char *name, long default_us)
{
	const char *raw = getenv(name);
	char *end;
	double ms;

	if (raw == NULL || *raw == '\0')
		return default_us;
	ms = strtod(raw, &end);
	if (*end != '\0' || ms < 0 || ms > 60000)
		return default_us;
	return (long)(ms * 1000.0 + 0.5);
}

/* One line per call to SLOWDISK_LOG, appended with a single write(2) so that lines from several
 * processes and threads do not interleave. */
static void slowdisk_log(const char *what)
{
	const char *path = getenv("SLOWDISK_LOG");
	char line[32];
	size_t n = strlen(what);
	int fd;

	if (path == NULL || *path == '\0' || n + 1 >= sizeof line)
		return;
	memcpy(line, what, n);
	line[n++] = '\n';
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, line, n) < 0) {
		/* A log that cannot be written only loses the count; the call goes on. */
	}
	close(fd);
}

/* Sleep the whole delay even when a signal interrupts it, and leave errno as it was. */
static void slowdisk_wait(const char *what, const char *env, long default_us)
{
	int saved = errno;
	long us = slowdisk_delay_us(env, default_us);
	struct timespec left = {us / 1000000, (us % 1000000) * 1000};

	slowdisk_log(what);
	while (us > 0 && nanosleep(&left, &left) != 0 && errno == EINTR)
		;
	errno = saved;
}

static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_unlink)(const char *);
static int (*real_unlinkat)(int, const char *, int);

static void *slowdisk_real(const char *name)
{
	void *fn = dlsym(RTLD_NEXT, name);

	if (fn == NULL)
		abort(); /* no libc below us: nothing sensible to call */
	return fn;
}

/* Resolved once, before main and before any thread, so the pointers are only read afterwards.
 * A library whose constructor syncs before this one runs finds them NULL and resolves its own. */
__attribute__((constructor)) static void slowdisk_init(void)
{
	*(void **)&real_fsync = slowdisk_real("fsync");
	*(void **)&real_fdatasync = slowdisk_real("fdatasync");
	*(void **)&real_unlink = slowdisk_real("unlink");
	*(void **)&real_unlinkat = slowdisk_real("unlinkat");
}

int fsync(int fd)
{
	if (real_fsync == NULL)
		slowdisk_init();
	slowdisk_wait("fsync", "SLOWDISK_FSYNC_MS", 4000);
	return real_fsync(fd);
}

int fdatasync(int fd)
{
	if (real_fdatasync == NULL)
		slowdisk_init();
	slowdisk_wait("fdatasync", "SLOWDISK_FSYNC_MS", 4000);
	return real_fdatasync(fd);
}

int unlink(const char *path)
{
	if (real_unlink == NULL)
		slowdisk_init();
	slowdisk_wait("unlink", "SLOWDISK_UNLINK_MS", 1500);
	return real_unlink(path);
}

int unlinkat(int dirfd, const char *path, int flags)
{
	if (real_unlinkat == NULL)
		slowdisk_init();
	/* unlinkat with AT_REMOVEDIR removes a directory: still a metadata write, delayed alike. */
	slowdisk_wait("unlinkat", "SLOWDISK_UNLINK_MS", 1500);
	return real_unlinkat(dirfd, path, flags);
}
