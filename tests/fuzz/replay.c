/* replay.c: runs a fuzz target's saved inputs as an ordinary program, so what the fuzzer found is
 * tested in every build, without clang. Generic: link it with any fuzz_*.c that defines the hook. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Run one file. Its bytes sit in a block of exactly their size, as under libFuzzer, so that a
 * sanitized build catches a parser reading one byte too far. Returns 1 when run, 0 when not a
 * regular file, -1 on a read error. */
static int run_file(const char *path)
{
	struct stat st;
	uint8_t *data;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	data = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	if (data == NULL) {
		fprintf(stderr, "replay: %s: out of memory\n", path);
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "replay: %s: %s\n", path, n < 0 ? strerror(errno) : "file shrank");
			free(data);
			close(fd);
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);
	LLVMFuzzerTestOneInput(data, got);
	free(data);
	return 1;
}

/* Hidden files are skipped: editors and tools leave them, and libFuzzer never names inputs so.
 * Names are sorted so a failure reproduces in the same order everywhere. */
static int skip_hidden(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Run a directory's files, or the argument itself when it is a file; -1 on any error. */
static long run_arg(const char *arg)
{
	struct dirent **names;
	struct stat st;
	long count = 0;
	int n, i, rc;

	if (stat(arg, &st) != 0) {
		fprintf(stderr, "replay: %s: %s\n", arg, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(arg);
	n = scandir(arg, &names, skip_hidden, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", arg, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		char path[PATH_MAX];
		int len = snprintf(path, sizeof path, "%s/%s", arg, names[i]->d_name);

		if (count >= 0) {
			if (len < 0 || (size_t)len >= sizeof path) {
				fprintf(stderr, "replay: %s/%s: path too long\n", arg, names[i]->d_name);
				count = -1;
			} else if ((rc = run_file(path)) < 0) {
				count = -1;
			} else {
				count += rc;
			}
		}
		free(names[i]);
	}
	free(names);
	return count;
}

int main(int argc, char **argv)
{
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR-OR-FILE...\n", argv[0]);
		return 1;
	}
	for (i = 1; i < argc; i++) {
		long count = run_arg(argv[i]);

		if (count < 0)
			return 1;
		if (count == 0) {
			fprintf(stderr, "replay %s: no inputs found\n", argv[i]);
			return 1;
		}
		printf("replay %s: %ld input%s, all passed\n", argv[i], count, count == 1 ? "" : "s");
	}
	return 0;
}
