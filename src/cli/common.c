/* common.c: helpers every command group uses: opening the store, printing errors with their exit
 * codes, building long options from a record's field table, and reading passwords safely. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

/* Both opens end the same way: on failure the reason is printed and the handle closed. */
static int cli_opened(outbox **h, int rc)
{
	if (rc < 0) {
		int code = cli_fail(*h, rc);
		outbox_close(*h);
		*h = NULL;
		return code;
	}
	return 0;
}

int cli_open(outbox **h)
{
	return cli_opened(h, outbox_open(h, NULL));
}

int cli_open_to_read(outbox **h)
{
	return cli_opened(h, outbox_open_readonly(h, NULL));
}

int cli_fail(outbox *h, int rc)
{
	fprintf(stderr, "outbox: %s\n", outbox_errmsg(h));
	return outbox_exit_code(rc);
}

int cli_usage(const char *command, const char *fmt, ...)
{
	va_list ap;

	fputs("outbox: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry: outbox %s --help\n", command);
	return EX_USAGE;
}

int cli_wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	}
	return 0;
}

struct option *cli_field_options(const outbox_field *(*info)(int), int first, int count,
				  const struct option *extra)
{
	int nextra = 0, n = 0, i;
	struct option *o;

	while (extra && extra[nextra].name)
		nextra++;
	o = calloc((size_t)(2 * count + nextra + 1), sizeof *o);
	if (o == NULL)
		return NULL;
	for (i = first; i < count; i++) {
		const outbox_field *f = info(i);
		o[n].name = f->key;
		o[n].has_arg = f->kind == OUTBOX_FIELD_BOOL ? optional_argument : required_argument;
		o[n].val = i;
		n++;
		if (f->kind == OUTBOX_FIELD_BOOL) {
			/* "no-default" and friends: the names live as long as the program. */
			static char names[64][48];
			static int used;
			if (used < 64) {
				snprintf(names[used], sizeof names[used], "no-%s", f->key);
				o[n].name = names[used++];
				o[n].has_arg = no_argument;
				o[n].val = i + CLI_NEGATE;
				n++;
			}
		}
	}
	for (i = 0; i < nextra; i++)
		o[n++] = extra[i];
	return o;
}

void cli_print_field_help(FILE *out, const outbox_field *(*info)(int), int first, int count)
{
	int i;

	for (i = first; i < count; i++) {
		const outbox_field *f = info(i);
		char opt[160]; /* a choice lists every value: --auth has ten */
		if (f->kind == OUTBOX_FIELD_BOOL)
			snprintf(opt, sizeof opt, "--[no-]%s", f->key);
		else if (f->kind == OUTBOX_FIELD_CHOICE && f->choices) {
			size_t len = (size_t)snprintf(opt, sizeof opt, "--%s ", f->key);
			for (int c = 0; f->choices[c] && len < sizeof opt; c++)
				len += (size_t)snprintf(opt + len, sizeof opt - len, "%s%s", c ? "|" : "",
							f->choices[c]);
		} else
			snprintf(opt, sizeof opt, "--%s %s", f->key,
				 f->kind == OUTBOX_FIELD_NUMBER ? "N" :
				 f->kind == OUTBOX_FIELD_PATH ? "FILE" :
				 f->kind == OUTBOX_FIELD_DURATION ? "DURATION" :
				 f->kind == OUTBOX_FIELD_LIST ? "A,B,..." : "TEXT");
		if (strlen(opt) > 30)
			fprintf(out, "  %s\n  %-30s %s\n", opt, "", f->help);
		else
			fprintf(out, "  %-30s %s\n", opt, f->help);
	}
}

void cli_wipe(char *secret)
{
	if (secret) {
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
}

/* Read up to 4 KiB from fd, stopping at the first newline when `one_line`. */
static int cli_read_secret_fd(int fd, int one_line, char **out)
{
	char *buf = calloc(1, 4097);
	size_t len = 0;
	ssize_t r;

	if (buf == NULL)
		return -ENOMEM;
	while (len < 4096) {
		r = read(fd, buf + len, one_line ? 1 : 4096 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			cli_wipe(buf);
			return -e;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (one_line && buf[len - 1] == '\n')
			break;
	}
	if (len == 4096) {
		cli_wipe(buf);
		return -EFBIG;
	}
	buf[len] = '\0';
	if (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len && buf[len - 1] == '\r')
		buf[--len] = '\0';
	*out = buf;
	return 0;
}

int cli_read_password_stdin(char **out)
{
	return cli_read_secret_fd(STDIN_FILENO, 0, out);
}

int cli_read_password_prompt(const char *prompt, char **out)
{
	struct termios saved, quiet;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY), rc;

	if (fd < 0)
		return -ENOTTY;
	if (tcgetattr(fd, &saved) < 0) {
		close(fd);
		return -ENOTTY;
	}
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (write(fd, prompt, strlen(prompt)) < 0 || tcsetattr(fd, TCSAFLUSH, &quiet) < 0) {
		close(fd);
		return -ENOTTY;
	}
	rc = cli_read_secret_fd(fd, 1, out);
	tcsetattr(fd, TCSAFLUSH, &saved);
	if (write(fd, "\n", 1) < 0)
		rc = rc ? rc : 0;
	close(fd);
	return rc;
}

int cli_read_password(int from_stdin, int from_prompt, const char *prompt, char **out)
{
	int e;

	*out = NULL;
	if (!from_stdin && !from_prompt)
		return 0;
	e = from_stdin ? cli_read_password_stdin(out) : cli_read_password_prompt(prompt, out);
	if (e == -ENOTTY) {
		fprintf(stderr, "outbox: password-prompt: no terminal to ask on; use --password-stdin\n");
		return EX_USAGE;
	}
	if (e < 0) {
		fprintf(stderr, "outbox: password: cannot read it: %s\n", strerror(-e));
		return EX_IOERR;
	}
	return 0;
}

void cli_print_transcript(char direction, const char *line, size_t len)
{
	while (len > 0) {
		size_t n = 0;
		while (n < len && line[n] != '\n' && line[n] != '\r')
			n++;
		if (n > 0)
			fprintf(stderr, "%s %.*s\n", direction == '>' ? "C:" : "S:", (int)n, line);
		while (n < len && (line[n] == '\n' || line[n] == '\r'))
			n++;
		line += n;
		len -= n;
	}
}
