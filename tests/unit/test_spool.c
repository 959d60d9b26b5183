/* test_spool.c: message files on disk: round trips, modes, names, abort, cleanup of crashed writers
 * (sparing a file another process holds locked), SIGKILL at random moments, failing fsyncs, and
 * the one rule for what may be read as a message (FIFOs, devices, links, owners, sizes). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "handle_internal.h"
#include "outbox/handle.h"
#include "record.h"
#include "spool.h"
#include "unit.h"

#define MB (1024 * 1024)
#define CRASH_SIZE (10 * MB)   /* what each crash-test child writes */
#define CRASH_CHUNK (64 * 1024)
#define CRASH_ROUNDS 200
#define CRASH_SECONDS 10.0     /* the kill loop stops here even if rounds remain */

struct fixture {
	outbox *h;
	char *home;
	struct spool sp;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char tmpl[] = "/tmp/outbox-spool-XXXXXX";

	if (f == NULL || mkdtemp(tmpl) == NULL || (f->home = strdup(tmpl)) == NULL)
		return -1;
	if (outbox_open(&f->h, f->home) < 0) {
		fprintf(stderr, "outbox_open: %s\n", outbox_errmsg(f->h));
		return -1;
	}
	if (spool_open_dir(f->h, &f->sp) < 0) {
		fprintf(stderr, "spool_open_dir: %s\n", outbox_errmsg(f->h));
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[512];
	int rc;

	spool_close_dir(&f->sp);
	outbox_close(f->h);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->home);
	rc = system(cmd);
	free(f->home);
	free(f);
	return rc == 0 ? 0 : -1;
}

/* -- helpers ---------------------------------------------------------------------------------- */

static char *path_of(struct fixture *f, const char *sub)
{
	char *p = NULL;

	assert_true(asprintf(&p, "%s/spool%s%s", f->home, sub ? "/" : "", sub ? sub : "") > 0);
	return p;
}

/* Bytes that depend on their offset, so a lost, repeated or misplaced chunk shows. */
static void fill_pattern(unsigned char *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = (unsigned char)((i * 2654435761u) >> 13 ^ (i >> 16));
}

static int write_all(int fd, const unsigned char *b, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, b, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read all of fd from where it stands; *len gets the size. */
static unsigned char *read_all(int fd, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	unsigned char *b = malloc(cap);
	ssize_t r;

	assert_non_null(b);
	for (;;) {
		if (n == cap) {
			cap *= 2;
			assert_non_null(b = realloc(b, cap));
		}
		r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		assert_true(r >= 0);
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*len = n;
	return b;
}

/* The entries of a directory other than . and .., sorted. */
static char **entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = calloc(1, sizeof *v);
	size_t n = 0;

	assert_non_null(v);
	if (d == NULL)
		return v; /* absent: empty */
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		assert_int_equal(strv_push(&v, e->d_name), 0);
		n++;
	}
	closedir(d);
	for (size_t i = 0; i + 1 < n; i++) /* few entries: a plain insertion sort */
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(v[j], v[i]) < 0) {
				char *t = v[i];
				v[i] = v[j];
				v[j] = t;
			}
	return v;
}

static int is_name(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 32;
}

/* Write `len` bytes of `data` as a message and commit it; the name goes to `name`. */
static void spool_one(struct fixture *f, int named, const unsigned char *data, size_t len, char name[33])
{
	struct spool_writer w;
	int rc;

	f->sp.force_named = named;
	rc = spool_begin(f->h, &f->sp, &w);
	if (rc < 0)
		fail_msg("spool_begin: %s", outbox_errmsg(f->h));
	EXPECT_INT(w.named, named, "writer kind (O_TMPFILE works on this file system?)");
	assert_int_equal(write_all(w.fd, data, len), 0);
	rc = spool_commit(f->h, &f->sp, &w, name);
	if (rc < 0)
		fail_msg("spool_commit: %s", outbox_errmsg(f->h));
	spool_writer_close(&w);
	f->sp.force_named = 0;
}

/* -- behaviour -------------------------------------------------------------------------------- */

static void round_trip(struct fixture *f, int named)
{
	enum spool_verdict v;
	unsigned char *data = malloc(MB), *back;
	struct spool_writer w;
	char name[33];
	size_t len;
	int fd = -1;

	assert_non_null(data);
	fill_pattern(data, MB);
	f->sp.force_named = named;
	assert_int_equal(spool_begin(f->h, &f->sp, &w), 0);
	EXPECT_INT(w.named, named, "writer kind");
	assert_int_equal(write_all(w.fd, data, MB), 0);
	EXPECT_INT(spool_commit(f->h, &f->sp, &w, name), 0, "commit");
	EXPECT_INT(is_name(name), 1, "the name is 32 lowercase hex digits");

	/* The writer's own descriptor reads the message back from the start... */
	back = read_all(w.fd, &len);
	EXPECT_INT(len, MB, "bytes read back through the writer");
	EXPECT_INT(memcmp(back, data, MB), 0, "bytes equal through the writer");
	free(back);
	spool_writer_close(&w);

	/* ...and so does a fresh open by name, after the writer is gone. */
	EXPECT_INT(spool_open_message(f->h, &f->sp, name, MB, &fd, &v), 0, "open by name");
	back = read_all(fd, &len);
	close(fd);
	EXPECT_INT(len, MB, "bytes read back by name");
	EXPECT_INT(memcmp(back, data, MB), 0, "bytes equal by name");
	free(back);
	free(data);
}

static void test_round_trip_tmpfile(void **state)
{
	round_trip(*state, 0);
}

static void test_round_trip_named(void **state)
{
	round_trip(*state, 1);
}

static void test_modes(void **state)
{
	struct fixture *f = *state;
	char name[33], *p;
	struct stat st;
	int named;

	p = path_of(f, NULL);
	assert_int_equal(stat(p, &st), 0);
	EXPECT_INT(st.st_mode & 07777, 0700, "spool/ mode");
	free(p);
	for (named = 0; named <= 1; named++) {
		spool_one(f, named, (const unsigned char *)"x", 1, name);
		p = path_of(f, name);
		assert_int_equal(stat(p, &st), 0);
		EXPECT_INT(st.st_mode & 07777, 0600, named ? "named message file mode" : "O_TMPFILE message file mode");
		EXPECT_INT(st.st_nlink, 1, "one name only");
		free(p);
	}
	/* spool/tmp exists once a named writer needed it. */
	p = path_of(f, "tmp");
	assert_int_equal(stat(p, &st), 0);
	EXPECT_INT(st.st_mode & 07777, 0700, "spool/tmp mode");
	free(p);
}

static void test_names_are_hex_and_distinct(void **state)
{
	struct fixture *f = *state;
	char names[8][33];
	int i, j;

	for (i = 0; i < 8; i++) {
		spool_one(f, i & 1, (const unsigned char *)"m", 1, names[i]);
		EXPECT_INT(strlen(names[i]), 32, "name length");
		if (!is_name(names[i]))
			fail_msg("name: got \"%s\", want 32 lowercase hex digits", names[i]);
		for (j = 0; j < i; j++)
			if (strcmp(names[i], names[j]) == 0)
				fail_msg("names %d and %d are both %s", j, i, names[i]);
	}
}

static void test_abort_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	unsigned char data[4096];
	struct spool_writer w;
	char *spool = path_of(f, NULL), *tmp = path_of(f, "tmp"), **got;
	int named;

	fill_pattern(data, sizeof data);
	for (named = 0; named <= 1; named++) {
		f->sp.force_named = named;
		assert_int_equal(spool_begin(f->h, &f->sp, &w), 0);
		assert_int_equal(write_all(w.fd, data, sizeof data), 0);
		if (named) {
			got = entries(tmp);
			EXPECT_INT(strv_len(got), 1, "a named writer's file is in spool/tmp while it writes");
			strv_free(got);
		}
		spool_abort(&w);
		EXPECT_INT(w.fd, -1, "the writer is closed");
		got = entries(spool);
		/* spool/tmp itself may exist (made for the named writer); nothing else may. */
		if (strv_len(got) > 1 || (got[0] && strcmp(got[0], "tmp") != 0))
			fail_msg("after abort (%s): spool/ holds \"%s\"", named ? "named" : "O_TMPFILE", got[0]);
		strv_free(got);
		got = entries(tmp);
		EXPECT_INT(strv_len(got), 0, "after abort: entries in spool/tmp");
		strv_free(got);
	}
	free(spool);
	free(tmp);
}

/* A leftover no one holds is removed; a file a live writer in another process holds is not. */
static void test_open_dir_cleans_only_dead_writers(void **state)
{
	enum spool_verdict v;
	struct fixture *f = *state;
	char *tmp = path_of(f, "tmp"), *dead, **got, child_tmp[64] = "", name[33] = "";
	int ready[2], go[2], fd, status;
	struct spool sp2;
	pid_t pid;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* The child: a writer of the fallback kind, alive and holding its lock until told. */
		struct spool sp;
		struct spool_writer w;
		char c;
		close(ready[0]);
		close(go[1]);
		if (spool_open_dir(f->h, &sp) < 0)
			_exit(2);
		sp.force_named = 1;
		if (spool_begin(f->h, &sp, &w) < 0 || write_all(w.fd, (const unsigned char *)"alive", 5) < 0)
			_exit(3);
		if (write(ready[1], w.tmp_name, sizeof w.tmp_name) != (ssize_t)sizeof w.tmp_name)
			_exit(4);
		if (read(go[0], &c, 1) != 1)
			_exit(5);
		if (spool_commit(f->h, &sp, &w, name) < 0)
			_exit(6);
		if (write(ready[1], name, sizeof name) != (ssize_t)sizeof name)
			_exit(7);
		spool_writer_close(&w);
		spool_close_dir(&sp);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	assert_int_equal(read(ready[0], child_tmp, sizeof child_tmp), (ssize_t)sizeof child_tmp);
	/* The dead writer's leftover is made only now: the child's own spool_open_dir, run before
	 * it began, would have removed it, and this test is about the parent's. */
	assert_true(asprintf(&dead, "%s/0123456789abcdef0123456789abcdef", tmp) > 0);
	assert_true((fd = open(dead, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
	assert_int_equal(write_all(fd, (const unsigned char *)"half a mess", 11), 0);
	close(fd);
	got = entries(tmp);
	EXPECT_INT(strv_len(got), 2, "spool/tmp before the cleanup: the live file and the dead one");
	strv_free(got);

	/* Another process starts while the child writes: only the dead writer's file goes. */
	EXPECT_INT(spool_open_dir(f->h, &sp2), 0, "spool_open_dir with a live writer");
	got = entries(tmp);
	EXPECT_INT(strv_len(got), 1, "files left in spool/tmp");
	EXPECT_STR(got[0], child_tmp, "the file left is the live writer's");
	strv_free(got);
	spool_close_dir(&sp2);

	/* The child goes on to commit: its file was never disturbed. */
	assert_int_equal(write(go[1], "g", 1), 1);
	assert_int_equal(read(ready[0], name, sizeof name), (ssize_t)sizeof name);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	EXPECT_INT(WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status), 0, "child's exit");
	assert_int_equal(spool_open_message(f->h, &f->sp, name, 5, &fd, &v), 0);
	{
		size_t len;
		unsigned char *b = read_all(fd, &len);
		EXPECT_INT(len == 5 && memcmp(b, "alive", 5) == 0, 1, "the live writer's message is intact");
		free(b);
	}
	close(fd);
	got = entries(tmp);
	EXPECT_INT(strv_len(got), 0, "spool/tmp after the child committed");
	strv_free(got);
	close(ready[0]);
	close(go[1]);
	free(dead);
	free(tmp);
}

/* Within one process too: a second spool handle's cleanup spares a writer of the first. */
static void test_open_dir_spares_own_process_writer(void **state)
{
	struct fixture *f = *state;
	struct spool_writer w;
	struct spool sp2;
	char *tmp = path_of(f, "tmp"), **got;

	f->sp.force_named = 1;
	assert_int_equal(spool_begin(f->h, &f->sp, &w), 0);
	assert_int_equal(spool_open_dir(f->h, &sp2), 0);
	got = entries(tmp);
	EXPECT_INT(strv_len(got), 1, "the writer's file survives another handle's cleanup");
	strv_free(got);
	spool_close_dir(&sp2);
	spool_abort(&w);
	free(tmp);
}

static void test_bad_names_refused(void **state)
{
	enum spool_verdict v;
	struct fixture *f = *state;
	static const char *const bad[] = {
		"", "abc", "0123456789ABCDEF0123456789ABCDEF", "0123456789abcdef0123456789abcdef0",
		"0123456789abcdef0123456789abcde", "../0123456789abcdef0123456789ab", "tmp",
		"0123456789abcdef0123456789abcdeg", "0123456789abcdef/123456789abcdef",
	};
	size_t i;
	int fd;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		fd = 12345;
		EXPECT_INT(spool_open_message(f->h, &f->sp, bad[i], 0, &fd, &v), OUTBOX_EINVALID, bad[i]);
		EXPECT_INT(v, SPOOL_OK, "a refused name judges no file");
		EXPECT_INT(fd, -1, "no descriptor for a refused name");
		EXPECT_CONTAINS(outbox_errmsg(f->h), "is not a message file name", bad[i]);
		EXPECT_INT(spool_remove(f->h, &f->sp, bad[i]), OUTBOX_EINVALID, bad[i]);
	}
}

/* A missing file is a failure of this machine (the message waits), not a file to judge. */
static void test_missing_message_is_eio_with_path(void **state)
{
	struct fixture *f = *state;
	enum spool_verdict v;
	int fd;

	EXPECT_INT(spool_open_message(f->h, &f->sp, "0123456789abcdef0123456789abcdef", 1, &fd, &v), OUTBOX_EIO, "open");
	EXPECT_INT(v, SPOOL_OK, "nothing judged");
	EXPECT_CONTAINS(outbox_errmsg(f->h), "/spool/0123456789abcdef0123456789abcdef", "the path is named");
	EXPECT_CONTAINS(outbox_errmsg(f->h), strerror(ENOENT), "the system's words");
}

static void test_remove_is_idempotent(void **state)
{
	enum spool_verdict v;
	struct fixture *f = *state;
	char name[33], **got;
	int fd;

	spool_one(f, 0, (const unsigned char *)"bye", 3, name);
	EXPECT_INT(spool_remove(f->h, &f->sp, name), 0, "first remove");
	EXPECT_INT(spool_remove(f->h, &f->sp, name), 0, "second remove");
	EXPECT_INT(spool_open_message(f->h, &f->sp, name, 3, &fd, &v), OUTBOX_EIO, "open after remove");
	assert_int_equal(spool_list(f->h, &f->sp, &got), 0);
	EXPECT_INT(strv_len(got), 0, "listed after remove");
	strv_free(got);
}

static void test_list_shows_committed_only(void **state)
{
	struct fixture *f = *state;
	char names[4][33], **got, *p;
	struct spool_writer live;
	size_t i, j;
	int fd;

	assert_int_equal(spool_list(f->h, &f->sp, &got), 0);
	assert_non_null(got);
	EXPECT_INT(strv_len(got), 0, "an empty spool lists nothing");
	strv_free(got);

	for (i = 0; i < 4; i++)
		spool_one(f, (int)(i & 1), (const unsigned char *)"L", 1, names[i]);
	/* Things that are not committed messages: writers still at work, other files, a directory
	 * with a message's name, an upper-case name. */
	f->sp.force_named = 1;
	assert_int_equal(spool_begin(f->h, &f->sp, &live), 0);
	p = path_of(f, "notes.txt");
	assert_true((fd = open(p, O_WRONLY | O_CREAT, 0600)) >= 0);
	close(fd);
	free(p);
	p = path_of(f, "ABCDEF0123456789ABCDEF0123456789");
	assert_true((fd = open(p, O_WRONLY | O_CREAT, 0600)) >= 0);
	close(fd);
	free(p);
	p = path_of(f, "fedcba9876543210fedcba9876543210");
	assert_int_equal(mkdir(p, 0700), 0);
	free(p);

	assert_int_equal(spool_list(f->h, &f->sp, &got), 0);
	EXPECT_INT(strv_len(got), 4, "names listed");
	for (i = 0; i < 4; i++) {
		int found = 0;
		for (j = 0; got[j]; j++)
			found |= strcmp(got[j], names[i]) == 0;
		if (!found)
			fail_msg("committed %s is not listed", names[i]);
	}
	for (j = 1; got[j]; j++)
		EXPECT_INT(strcmp(got[j - 1], got[j]) < 0, 1, "listed in order");
	strv_free(got);
	spool_abort(&live);
}

static void test_remove_orphans_spares_kept_and_young(void **state)
{
	struct fixture *f = *state;
	char kept[33], young[33], old[33], *keep[2] = {kept, NULL}, **got, *p;
	struct timespec ts[2] = {{1, 0}, {1, 0}};

	spool_one(f, 0, (const unsigned char *)"k", 1, kept);
	spool_one(f, 0, (const unsigned char *)"y", 1, young);
	spool_one(f, 1, (const unsigned char *)"o", 1, old);
	p = path_of(f, kept);
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	free(p);
	p = path_of(f, old);
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	free(p);
	EXPECT_INT(spool_remove_orphans(f->h, &f->sp, keep, 3600, NULL), 0, "remove orphans");
	assert_int_equal(spool_list(f->h, &f->sp, &got), 0);
	EXPECT_INT(strv_len(got), 2, "files left");
	EXPECT_INT((strcmp(got[0], kept) == 0 && strcmp(got[1], young) == 0) ||
		   (strcmp(got[1], kept) == 0 && strcmp(got[0], young) == 0), 1, "the kept and the young remain");
	strv_free(got);
}

/* -- what may be read as a message ------------------------------------------------------------ */

/* The rule itself, one case per row: the kind of file first, then its links, owner and size. */
static void test_judge_table(void **state)
{
	static const struct {
		const char *what;
		mode_t mode;
		nlink_t links;
		uid_t uid;
		off_t size;
		enum spool_verdict want;
	} cases[] = {
		{"the file that was queued", S_IFREG | 0600, 1, 1000, 42, SPOOL_OK},
		{"a symbolic link", S_IFLNK | 0777, 1, 1000, 42, SPOOL_SYMLINK},
		{"a FIFO", S_IFIFO | 0600, 1, 1000, 0, SPOOL_FIFO},
		{"a character device", S_IFCHR | 0600, 1, 1000, 0, SPOOL_DEVICE},
		{"a block device", S_IFBLK | 0600, 1, 1000, 0, SPOOL_DEVICE},
		{"a socket", S_IFSOCK | 0600, 1, 1000, 0, SPOOL_SOCKET},
		{"a directory", S_IFDIR | 0700, 2, 1000, 4096, SPOOL_DIRECTORY},
		{"a second name (hard link)", S_IFREG | 0600, 2, 1000, 42, SPOOL_LINKED},
		{"a hard link to root's file", S_IFREG | 0640, 2, 0, 42, SPOOL_LINKED},
		{"no name left (unlinked)", S_IFREG | 0600, 0, 1000, 42, SPOOL_LINKED},
		{"someone else's file", S_IFREG | 0600, 1, 65534, 42, SPOOL_NOT_OWNED},
		{"root's file in a user's store", S_IFREG | 0600, 1, 0, 42, SPOOL_NOT_OWNED},
		{"grown since it was queued", S_IFREG | 0600, 1, 1000, 43, SPOOL_WRONG_SIZE},
		{"truncated since it was queued", S_IFREG | 0600, 1, 1000, 0, SPOOL_WRONG_SIZE},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct stat st;
		enum spool_verdict got;
		memset(&st, 0, sizeof st);
		st.st_mode = cases[i].mode;
		st.st_nlink = cases[i].links;
		st.st_uid = cases[i].uid;
		st.st_size = cases[i].size;
		got = spool_judge(&st, 1000, 42);
		if (got != cases[i].want)
			fail_msg("%s: got verdict %d, want %d", cases[i].what, (int)got, (int)cases[i].want);
	}
}

/* Replace the committed file `name` by what `make` puts there, then open it as a reader would:
 * the verdict and the words `queue show` gives. An open that waits is a failure (SIGALRM). */
static void expect_refused(struct fixture *f, const char *name, long long size, enum spool_verdict want,
			   const char *words, const char *what)
{
	enum spool_verdict v = SPOOL_OK;
	int fd = 12345, rc;

	alarm(10);
	rc = spool_check_message(f->h, &f->sp, name, size, &v);
	if (rc != OUTBOX_EINVALID || v != want)
		fail_msg("%s, looked at: got rc %d verdict %d, want rc %d verdict %d (%s)", what, rc, (int)v,
			 OUTBOX_EINVALID, (int)want, outbox_errmsg(f->h));
	rc = spool_open_message(f->h, &f->sp, name, size, &fd, &v);
	alarm(0);
	if (rc != OUTBOX_EINVALID || v != want || fd != -1)
		fail_msg("%s, opened: got rc %d verdict %d fd %d, want rc %d verdict %d fd -1 (%s)", what, rc, (int)v,
			 fd, OUTBOX_EINVALID, (int)want, outbox_errmsg(f->h));
	EXPECT_CONTAINS(outbox_errmsg(f->h), words, what);
}

static void test_hostile_files_are_refused_unopened(void **state)
{
	struct fixture *f = *state;
	char name[33], outside[64], *p;
	int fd;

	spool_one(f, 0, (const unsigned char *)"hello", 5, name);
	p = path_of(f, name);

	/* Another name for the same file. */
	snprintf(outside, sizeof outside, "%s/outside", f->home);
	assert_int_equal(link(p, outside), 0);
	expect_refused(f, name, 5, SPOOL_LINKED, "has 2 names (hard links), not one", "a hard link");
	assert_int_equal(unlink(outside), 0);

	/* Changed since it was queued. */
	expect_refused(f, name, 6, SPOOL_WRONG_SIZE, "has 5 bytes, not the 6 that were queued", "another size");

	/* A symbolic link to a file of the right size. */
	assert_int_equal(rename(p, outside), 0);
	assert_int_equal(symlink(outside, p), 0);
	expect_refused(f, name, 5, SPOOL_SYMLINK, "is a symbolic link, not a regular file", "a symlink");
	assert_int_equal(unlink(p), 0);

	/* A FIFO nobody writes to: opening it for reading would wait for ever. */
	assert_int_equal(mkfifo(p, 0600), 0);
	expect_refused(f, name, 0, SPOOL_FIFO, "is a FIFO, not a regular file", "a FIFO");
	assert_int_equal(unlink(p), 0);

	if (geteuid() == 0) {
		/* What /dev/null is: its bytes (none) must not become the message. */
		assert_int_equal(mknod(p, S_IFCHR | 0600, makedev(1, 3)), 0);
		expect_refused(f, name, 0, SPOOL_DEVICE, "is a device node, not a regular file", "a device");
		assert_int_equal(unlink(p), 0);
		/* Someone else's file, of the right size: root would read it. */
		assert_true((fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
		assert_int_equal(write(fd, "hello", 5), 5);
		assert_int_equal(fchown(fd, 65534, 65534), 0);
		close(fd);
		expect_refused(f, name, 5, SPOOL_NOT_OWNED, "belongs to uid 65534, not to the store's owner (uid 0)",
			       "someone else's file");
		assert_int_equal(unlink(p), 0);
	} else {
		print_message("not root: the device and other-owner cases ran in the table only\n");
	}

	/* The file that was queued, back in place, is read. */
	assert_int_equal(rename(outside, p), 0);
	{
		enum spool_verdict v;
		EXPECT_INT(spool_open_message(f->h, &f->sp, name, 5, &fd, &v), 0, "the queued file");
		EXPECT_INT(v, SPOOL_OK, "its verdict");
		char got[8] = {0};
		EXPECT_INT(read(fd, got, sizeof got), 5, "bytes read from the queued file");
		EXPECT_STR(got, "hello", "what it holds");
		close(fd);
	}
	free(p);
}

/* The sweep removes names no row keeps: entries that are no regular file at once (nothing of
 * ours makes them, so no send can be between its two steps), young regular files not yet. Only
 * the name goes: a hard link's other file stays. */
static void test_remove_orphans_takes_hostile_entries_at_once(void **state)
{
	struct fixture *f = *state;
	char young[33], linked[33], outside[64], *p, **left;
	const char *fifo = "00000000000000000000000000000001", *dev = "00000000000000000000000000000002",
		   *sym = "00000000000000000000000000000003";
	struct stat st;

	spool_one(f, 0, (const unsigned char *)"young", 5, young);
	spool_one(f, 0, (const unsigned char *)"linked", 6, linked);
	snprintf(outside, sizeof outside, "%s/outside", f->home);
	p = path_of(f, linked);
	assert_int_equal(link(p, outside), 0);
	free(p);
	p = path_of(f, fifo);
	assert_int_equal(mkfifo(p, 0600), 0);
	free(p);
	p = path_of(f, sym);
	assert_int_equal(symlink(outside, p), 0);
	free(p);
	p = path_of(f, dev);
	if (geteuid() == 0)
		assert_int_equal(mknod(p, S_IFCHR | 0600, makedev(1, 3)), 0);
	free(p);

	alarm(10);
	EXPECT_INT(spool_remove_orphans(f->h, &f->sp, NULL, 3600, NULL), 0, "sweep");
	alarm(0);
	p = path_of(f, fifo);
	EXPECT_INT(lstat(p, &st) < 0 && errno == ENOENT, 1, "the FIFO is gone");
	free(p);
	p = path_of(f, sym);
	EXPECT_INT(lstat(p, &st) < 0 && errno == ENOENT, 1, "the symlink is gone");
	free(p);
	p = path_of(f, dev);
	EXPECT_INT(lstat(p, &st) < 0 && errno == ENOENT, 1, "the device node is gone");
	free(p);
	assert_int_equal(spool_list(f->h, &f->sp, &left), 0);
	EXPECT_INT(strv_len(left), 2, "young regular files are spared, linked or not");
	strv_free(left);
	EXPECT_INT(stat(outside, &st), 0, "the symlink's and the link's target is untouched");
	EXPECT_INT(st.st_size, 6, "its size");
}

/* -- crashes, for real ------------------------------------------------------------------------ */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The child of the crash test: a whole message written in chunks, then committed. It reports
 * each step on `progress` ('b' begun, 'w' per chunk, 'c' committing, 'C' committed), so the parent
 * knows where each kill landed. Exits 0 only once spool_commit returned 0. */
static void crash_child(outbox *h, int named, const unsigned char *data, int progress)
{
	struct spool sp;
	struct spool_writer w;
	char name[33];
	size_t off;

	if (spool_open_dir(h, &sp) < 0)
		_exit(2);
	sp.force_named = named;
	if (spool_begin(h, &sp, &w) < 0)
		_exit(3);
	(void)!write(progress, "b", 1);
	for (off = 0; off < CRASH_SIZE; off += CRASH_CHUNK) {
		if (write_all(w.fd, data + off, CRASH_CHUNK) < 0)
			_exit(4);
		(void)!write(progress, "w", 1);
	}
	(void)!write(progress, "c", 1);
	if (spool_commit(h, &sp, &w, name) < 0)
		_exit(5);
	(void)!write(progress, "C", 1);
	_exit(0);
}

/* Fork a crash child and return its pid; *progress is the read end of its report pipe. */
static pid_t crash_fork(struct fixture *f, int named, const unsigned char *data, int *progress)
{
	int p[2];
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		crash_child(f->h, named, data, p[1]);
	}
	close(p[1]);
	*progress = p[0];
	return pid;
}

/* The last step a child reported: 0 none, 'b', 'w', 'c' or 'C'. */
static int crash_last_step(int progress)
{
	size_t len;
	unsigned char *b = read_all(progress, &len);
	int last = len ? b[len - 1] : 0;

	free(b);
	close(progress);
	return last;
}

/* Every entry of spool/ must be spool/tmp or a complete message; complete ones are counted and
 * removed, so each round looks at what that round's child left. Returns how many there were. */
static int crash_check_spool(struct fixture *f, const unsigned char *data, int round)
{
	enum spool_verdict v;
	char *spool = path_of(f, NULL), **got = entries(spool);
	int i, n = 0, fd;

	for (i = 0; got[i]; i++) {
		struct stat st;
		unsigned char *b;
		size_t len;
		if (strcmp(got[i], "tmp") == 0)
			continue;
		if (!is_name(got[i]))
			fail_msg("round %d: spool/ holds \"%s\", which is not a message name", round, got[i]);
		if (spool_open_message(f->h, &f->sp, got[i], CRASH_SIZE, &fd, &v) < 0)
			fail_msg("round %d: %s: %s", round, got[i], outbox_errmsg(f->h));
		assert_int_equal(fstat(fd, &st), 0);
		if (st.st_size != CRASH_SIZE)
			fail_msg("round %d: %s has %lld bytes, want %d: a partial file", round, got[i],
				 (long long)st.st_size, CRASH_SIZE);
		b = read_all(fd, &len);
		close(fd);
		if (len != CRASH_SIZE || memcmp(b, data, CRASH_SIZE) != 0)
			fail_msg("round %d: %s does not hold the bytes written", round, got[i]);
		free(b);
		EXPECT_INT(spool_remove(f->h, &f->sp, got[i]), 0, "remove a checked file");
		n++;
	}
	strv_free(got);
	free(spool);
	return n;
}

static void test_sigkill_at_random_moments(void **state)
{
	struct fixture *f = *state;
	unsigned char *data = malloc(CRASH_SIZE);
	char *tmp = path_of(f, "tmp"), **got;
	int round, status, files, step, progress, checked = 0, killed = 0, finished = 0, leftovers = 0;
	int named_rounds = 0, at_begin = 0, writing = 0, committing = 0, committing_named = 0, after = 0;
	int committing_file = 0;
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	double start, full = 1e9, t0;
	pid_t pid;

	assert_non_null(data);
	fill_pattern(data, CRASH_SIZE);
	srandom(seed);

	/* Undisturbed runs measure how long a whole write and commit takes (the quickest of three),
	 * so the kills can be spread over all of it, from before the first byte to after the commit. */
	for (round = 0; round < 3; round++) {
		t0 = now_s();
		pid = crash_fork(f, round & 1, data, &progress);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (now_s() - t0 < full)
			full = now_s() - t0;
		EXPECT_INT(crash_last_step(progress), 'C', "last step of an undisturbed child");
		EXPECT_INT(WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status), 0, "undisturbed child");
		EXPECT_INT(crash_check_spool(f, data, -1), 1, "files from an undisturbed child");
		checked++;
	}

	start = now_s();
	for (round = 0; round < CRASH_ROUNDS && now_s() - start < CRASH_SECONDS; round++) {
		int named = round & 1;
		/* Up to the quickest run: later runs are often quicker still, so some finish first. */
		useconds_t delay = (useconds_t)((double)random() / RAND_MAX * full * 1e6);
		named_rounds += named;
		pid = crash_fork(f, named, data, &progress);
		usleep(delay);
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		step = crash_last_step(progress);
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
			killed++;
		else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			finished++;
		else
			fail_msg("round %d: the child failed by itself (status %#x)", round, status);
		files = crash_check_spool(f, data, round);
		checked += files;
		if (step == 'C') {
			/* spool_commit returned 0: the file must be there, whatever came after. */
			EXPECT_INT(files, 1, "files after spool_commit returned 0");
			after++;
		} else if (step == 'c') {
			/* Killed inside spool_commit: no file or a complete one (checked above). */
			EXPECT_INT(files <= 1, 1, "files after a kill inside spool_commit");
			committing++;
			committing_named += named;
			committing_file += files;
		} else {
			EXPECT_INT(files, 0, "files after a kill before spool_commit");
			if (step == 'w')
				writing++;
			else
				at_begin++;
		}

		/* The next start cleans what the killed writer left in spool/tmp. */
		got = entries(tmp);
		leftovers += (int)strv_len(got);
		strv_free(got);
		spool_close_dir(&f->sp);
		assert_int_equal(spool_open_dir(f->h, &f->sp), 0);
		got = entries(tmp);
		if (got[0])
			fail_msg("round %d: spool/tmp still holds %s after spool_open_dir", round, got[0]);
		strv_free(got);
	}
	print_message("crash: seed %u; quickest write+commit of 10 MB %.0f ms; %d rounds in %.1f s "
		      "(%d named); %d SIGKILLed, %d exited first; last step reached: %d before writing, "
		      "%d writing, %d inside spool_commit (%d named, %d of them left a file), %d committed; %d files checked "
		      "complete; %d leftovers removed from spool/tmp\n",
		      seed, full * 1e3, round, now_s() - start, named_rounds, killed, finished, at_begin,
		      writing, committing, committing_named, committing_file, after, checked, leftovers);
	EXPECT_INT(killed >= 20, 1, "enough kills to mean something");
	EXPECT_INT(committing >= 5, 1, "enough kills inside spool_commit");
	free(tmp);
	free(data);
}

/* -- failing fsync, through strace's fault injection ------------------------------------------ */

/* Run by the test under `strace -e inject=fsync:error=EIO:when=N`: one message into the spool
 * at `home`, printing what spool_commit returned. A bare handle, not outbox_open: SQLite would
 * fsync too and shift the count, and here the only fsyncs are the commit's (1: the file, 2: the
 * directory). */
static int commit_helper(const char *home, int named)
{
	outbox h;
	struct spool sp;
	struct spool_writer w;
	char name[33] = "";
	int rc;

	memset(&h, 0, sizeof h);
	if ((h.home = strdup(home)) == NULL)
		return 1;
	if (spool_open_dir(&h, &sp) < 0) {
		printf("rc=open %s\n", outbox_errmsg(&h));
		return 1;
	}
	sp.force_named = named;
	if (spool_begin(&h, &sp, &w) < 0 || write_all(w.fd, (const unsigned char *)"body\r\n", 6) < 0) {
		printf("rc=begin %s\n", outbox_errmsg(&h));
		return 1;
	}
	rc = spool_commit(&h, &sp, &w, name);
	printf("rc=%d name=%s msg=%s\n", rc, rc == 0 ? name : "", rc == 0 ? "" : outbox_errmsg(&h));
	spool_writer_close(&w);
	spool_close_dir(&sp);
	free(h.home);
	return 0;
}

static char self_exe[4096];

/* The helper's output under strace, injecting EIO into fsync number `when` (0: none). */
static char *run_under_strace(const char *home, int named, int when)
{
	char inject[64], mode[2] = {named ? '1' : '0', 0}, *out;
	int p[2], status;
	size_t len;
	pid_t pid;

	snprintf(inject, sizeof inject, when ? "inject=fsync:error=EIO:when=%d" : "trace=fsync", when);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		/* LeakSanitizer cannot run under ptrace. */
		setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
		execlp("strace", "strace", "-qq", "-o", "/dev/null", "-e", "trace=fsync", "-e", inject,
		       self_exe, "--commit-helper", home, mode, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	out = (char *)read_all(p[0], &len);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	out = realloc(out, len + 1);
	assert_non_null(out);
	out[len] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 127) {
		free(out);
		return NULL;
	}
	return out;
}

static void test_failing_fsync_commits_nothing(void **state)
{
	struct fixture *f = *state;
	static const struct {
		int when;
		const char *says;
	} cases[] = {
		{1, "cannot write the message to disk"}, /* the file's fsync */
		{2, "cannot sync"},                      /* the directory's, after the name was made */
	};
	char *out, **before, **after, *tmp = path_of(f, "tmp"), **left;
	size_t i;
	int named;

	if (readlink("/proc/self/exe", self_exe, sizeof self_exe - 1) < 0)
		skip();
	/* The control: the same helper under strace without a fault commits, which shows that
	 * strace works here and that a failure below is the injected one. */
	out = run_under_strace(f->home, 0, 0);
	if (out == NULL || strncmp(out, "rc=0 ", 5) != 0) {
		print_message("strace cannot run the helper here (%s): skipped\n", out ? out : "no strace");
		free(out);
		skip();
	}
	free(out);

	for (named = 0; named <= 1; named++)
		for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			char what[96];
			snprintf(what, sizeof what, "%s writer, fsync #%d fails", named ? "named" : "O_TMPFILE",
				 cases[i].when);
			assert_int_equal(spool_list(f->h, &f->sp, &before), 0);
			out = run_under_strace(f->home, named, cases[i].when);
			assert_non_null(out);
			EXPECT_CONTAINS(out, "rc=-7 ", what); /* OUTBOX_EIO */
			EXPECT_CONTAINS(out, cases[i].says, what);
			EXPECT_CONTAINS(out, strerror(EIO), what);
			assert_int_equal(spool_list(f->h, &f->sp, &after), 0);
			EXPECT_INT(strv_len(after), strv_len(before), what);
			left = entries(tmp);
			EXPECT_INT(strv_len(left), 0, "spool/tmp after the failed commit");
			strv_free(left);
			strv_free(before);
			strv_free(after);
			free(out);
		}
	free(tmp);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip_tmpfile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_are_hex_and_distinct, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_dir_cleans_only_dead_writers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_dir_spares_own_process_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_names_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_message_is_eio_with_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_is_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_shows_committed_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_orphans_spares_kept_and_young, setup, teardown),
		cmocka_unit_test(test_judge_table),
		cmocka_unit_test_setup_teardown(test_hostile_files_are_refused_unopened, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_orphans_takes_hostile_entries_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigkill_at_random_moments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failing_fsync_commits_nothing, setup, teardown),
	};

	if (argc == 4 && strcmp(argv[1], "--commit-helper") == 0)
		return commit_helper(argv[2], strcmp(argv[3], "1") == 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
