/* fuzz_spool_read.c: libFuzzer target for what the outbox reads back from disk: a queue row's
 * spool file name, the message file under that name (read back in pieces and dot-stuffed as a
 * session sends it), other names found in spool/, and a runner's lock file with the claim's owner.
 *
 * Spool files hold the message as it goes on the wire, with no record format of their own; the
 * bytes that are parsed are the names and the runner file ("host:pid:id\nboot\n"). Input:
 *   byte 0: how big the pieces read back are; bytes 1-3: lengths of the three fields that follow
 *   (spool name, owner name, runner file text); the rest: the message file's bytes.
 * In the owner name and runner file "%h" stands for this host's name and "%b" for the boot id,
 * so the fuzzer can write a runner file that matches. Everything happens in a private directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "handle_internal.h"
#include "message.h"
#include "queue_owner.h"
#include "record.h"
#include "spool.h"
#include "fuzz.h"

static char home[64];
static int runners_fd = -1;
static char host[64], boot[40];

/* Each input leaves the directories as it found them, so at exit they are empty. */
static void cleanup(void)
{
	char path[128];

	snprintf(path, sizeof path, "%s/" QUEUE_OWNER_DIR, home);
	rmdir(path);
	snprintf(path, sizeof path, "%s/spool", home);
	rmdir(path);
	rmdir(home);
}

static void setup(void)
{
	char path[128];
	int fd;
	ssize_t n;

	if (home[0] != '\0')
		return;
	snprintf(home, sizeof home, "%s", "/tmp/outbox-fuzz-spool-XXXXXX");
	CHECK(mkdtemp(home) != NULL);
	atexit(cleanup);
	snprintf(path, sizeof path, "%s/" QUEUE_OWNER_DIR, home);
	CHECK(mkdir(path, 0700) == 0);
	CHECK((runners_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0);
	CHECK(gethostname(host, sizeof host) == 0);
	host[sizeof host - 1] = '\0';
	fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, boot, sizeof boot - 1) : -1;
	boot[n > 0 ? n : 0] = '\0';
	boot[strcspn(boot, "\n")] = '\0';
	if (fd >= 0)
		close(fd);
}

/* The field with "%h" and "%b" filled in, NUL-terminated. */
static void expand(struct buf *out, const char *s, size_t len)
{
	size_t i;

	buf_reset(out);
	for (i = 0; i < len; i++) {
		if (s[i] == '%' && i + 1 < len && (s[i + 1] == 'h' || s[i + 1] == 'b')) {
			CHECK(buf_puts(out, s[i + 1] == 'h' ? host : boot) == 0);
			i++;
		} else {
			CHECK(buf_append(out, s + i, 1) == 0);
		}
	}
	if (out->data == NULL)
		CHECK(buf_puts(out, "") == 0);
}

static int all_of(const char *s, size_t n, const char *set)
{
	return strspn(s, set) >= n;
}

static int write_file(int dir, const char *name, const char *bytes, size_t len)
{
	int fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return -1;
	CHECK(write(fd, bytes, len) == (ssize_t)len);
	close(fd);
	return 0;
}

/* Read the message back in pieces of `piece` bytes, dot-stuffed as DATA sends it: undoing the
 * stuffing must give exactly the file's bytes. */
static void check_read_back(int fd, const char *body, size_t len, size_t piece)
{
	struct buf out = BUF_INIT;
	char chunk[4096];
	size_t got = 0, i, o = 0;
	int start = 1;
	ssize_t n;

	while ((n = read(fd, chunk, piece < sizeof chunk ? piece : sizeof chunk)) > 0) {
		CHECK(got + (size_t)n <= len && memcmp(chunk, body + got, (size_t)n) == 0);
		CHECK(message_dot_stuff(chunk, (size_t)n, &start, &out) == 0);
		got += (size_t)n;
	}
	CHECK(n == 0 && got == len);
	for (i = 0; i < out.len; i++, o++) {
		if ((i == 0 || out.data[i - 1] == '\n') && out.data[i] == '.') {
			CHECK(i + 1 < out.len && out.data[i + 1] == '.');
			i++;
		}
		CHECK(o < len && out.data[i] == body[o]);
	}
	CHECK(o == len);
	buf_free(&out);
}

static void check_spool(outbox *h, const char *name, const char *body, size_t len, size_t piece)
{
	struct spool sp;
	enum spool_verdict verdict = SPOOL_OK;
	char **names = NULL;
	size_t i;
	int fd = -1, valid = strlen(name) == 32 && all_of(name, 32, "0123456789abcdef"), listed = 0;
	/* A name that is no message file's, planted beside: the listing must pass it over. */
	int junk = !valid && *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..") &&
		   strcmp(name, "tmp");

	CHECK(spool_open_dir(h, &sp) == 0);
	if (valid || junk)
		CHECK(write_file(sp.dir_fd, name, body, len) == 0);
	if (valid) {
		/* Any other size than the queued one is a changed file: judged, never read. */
		CHECK(spool_open_message(h, &sp, name, (long long)len + 1, &fd, &verdict) == OUTBOX_EINVALID &&
		      fd == -1 && verdict == SPOOL_WRONG_SIZE);
		CHECK(spool_open_message(h, &sp, name, (long long)len, &fd, &verdict) == 0 && fd >= 0 &&
		      verdict == SPOOL_OK);
		check_read_back(fd, body, len, piece);
		close(fd);
	} else {
		CHECK(spool_open_message(h, &sp, name, (long long)len, &fd, &verdict) == OUTBOX_EINVALID && fd == -1);
		CHECK(h->err_message[0] != '\0');
	}
	CHECK(spool_list(h, &sp, &names) == 0);
	for (i = 0; names[i] != NULL; i++) {
		CHECK(strlen(names[i]) == 32 && all_of(names[i], 32, "0123456789abcdef"));
		listed += strcmp(names[i], name) == 0;
	}
	CHECK(listed == valid);
	strv_free(names);
	if (valid) {
		CHECK(spool_remove(h, &sp, name) == 0);
		CHECK(faccessat(sp.dir_fd, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT);
	} else {
		CHECK(spool_remove(h, &sp, name) == OUTBOX_EINVALID);
		if (junk)
			CHECK(unlinkat(sp.dir_fd, name, 0) == 0);
	}
	spool_close_dir(&sp);
}

/* What queue_owner_check must say of `name` with `text` in its runner file (nobody holds the
 * lock): dead only for a name of this host whose file this boot wrote, for that very name. */
static void check_owner(outbox *h, const char *name, const char *text)
{
	const char *id = strrchr(name, ':'), *pid;
	enum queue_owner_state want = QUEUE_OWNER_UNKNOWN, got;
	size_t host_len = strlen(host);
	char expect[512];
	int planted = 0;

	if (id != NULL && strlen(id + 1) == 16 && all_of(id + 1, 16, "0123456789abcdef")) {
		CHECK(write_file(runners_fd, id + 1, text, strlen(text)) == 0);
		planted = 1;
		snprintf(expect, sizeof expect, "%s\n%s\n", name, boot);
		pid = strncmp(name, host, host_len) == 0 && name[host_len] == ':' ? name + host_len + 1
										  : id;
		/* The file is read up to 255 bytes: a longer text can never match. */
		if (pid < id && all_of(pid, (size_t)(id - pid), "0123456789") && strlen(expect) < 256 &&
		    strncmp(text, expect, 255) == 0 && strlen(text) == strlen(expect))
			want = QUEUE_OWNER_DEAD;
	}
	got = queue_owner_check(h, name, 1);
	CHECK(got == want);
	if (planted)
		CHECK((faccessat(runners_fd, id + 1, F_OK, AT_SYMLINK_NOFOLLOW) == 0) ==
		      (want != QUEUE_OWNER_DEAD));
	if (planted && want != QUEUE_OWNER_DEAD)
		CHECK(unlinkat(runners_fd, id + 1, 0) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf name = BUF_INIT, owner = BUF_INIT, text = BUF_INIT;
	const char *p = (const char *)data;
	size_t n1, n2, n3, piece;
	outbox h;

	if (size < 4)
		return 0;
	setup();
	piece = (size_t)1 << (data[0] % 13);
	n1 = data[1];
	n2 = data[2];
	n3 = data[3];
	if (size < 4 + n1 + n2 + n3)
		return 0;
	memset(&h, 0, sizeof h);
	h.home = home;
	/* Names and text are C strings where they come from (a database column, a file read into
	 * a string): what follows a NUL is not part of them. */
	CHECK(buf_append(&name, p + 4, n1) == 0 && buf_puts(&name, "") == 0);
	expand(&owner, p + 4 + n1, n2);
	expand(&text, p + 4 + n1 + n2, n3);
	check_spool(&h, name.data, p + 4 + n1 + n2 + n3, size - 4 - n1 - n2 - n3, piece);
	check_owner(&h, owner.data, text.data);
	buf_free(&name);
	buf_free(&owner);
	buf_free(&text);
	return 0;
}
