/* secret.c: picks where a password is kept (keyring, else a private file) and runs password
 * commands. The backends live in secret_keyring.c and secret_file.c; nothing here logs a secret. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "handle_internal.h"
#include "net.h"
#include "secret.h"
#include "secret_file.h"
#include "secret_keyring.h"

enum backend_choice { BACKEND_AUTO, BACKEND_KEYRING, BACKEND_FILE };

static int backend_choice(outbox *h, enum backend_choice *out)
{
	const char *v = getenv("OUTBOX_SECRET_BACKEND");

	if (v == NULL || *v == '\0')
		*out = BACKEND_AUTO;
	else if (strcmp(v, "keyring") == 0)
		*out = BACKEND_KEYRING;
	else if (strcmp(v, "file") == 0)
		*out = BACKEND_FILE;
	else
		return outbox_fail(h, OUTBOX_ECONFIG, NULL,
				   "OUTBOX_SECRET_BACKEND is \"%.64s\"; set it to \"keyring\", \"file\" or "
				   "leave it unset", v);
	return 0;
}

/* The id becomes a file name and a keyring attribute; a damaged row must not reach either. */
static int check_id(outbox *h, const char *id)
{
	size_t i;

	for (i = 0; id != NULL && i < 32; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f') ||
		      (id[i] >= 'A' && id[i] <= 'F')))
			break;
	if (id == NULL || i != 32 || id[32] != '\0')
		return outbox_fail(h, OUTBOX_ECONFIG, NULL,
				   "the store holds a malformed secret id; set the server's password again");
	return 0;
}

static int no_bus(outbox *h, const char *doing)
{
	return outbox_fail(h, OUTBOX_ECONFIG, NULL,
			   "cannot %s the keyring: there is no D-Bus session ($DBUS_SESSION_BUS_ADDRESS "
			   "is not set)", doing);
}

int secret_store(outbox *h, const char *id, const char *label, const char *password,
		 outbox_password_source *where)
{
	enum backend_choice choice = BACKEND_AUTO;
	int rc;

	if ((rc = check_id(h, id)) < 0 || (rc = backend_choice(h, &choice)) < 0)
		return rc;
	if (password == NULL || *password == '\0')
		return outbox_fail(h, OUTBOX_EINVALID, "password", "is empty");
	if (strlen(password) > SECRET_MAX)
		return outbox_fail(h, OUTBOX_EINVALID, "password", "is longer than %d bytes", SECRET_MAX);

	if (choice != BACKEND_FILE) {
		if (secret_keyring_reachable()) {
			rc = secret_keyring_store(h, id, label ? label : id, password);
			if (rc == 0) {
				*where = OUTBOX_PASSWORD_KEYRING;
				return 0;
			}
			if (choice == BACKEND_KEYRING)
				return rc;
		} else if (choice == BACKEND_KEYRING) {
			return no_bus(h, "store the password in");
		}
	}
	if ((rc = secret_file_store(h, id, password)) < 0)
		return rc;
	/* A keyring that refused before the fallback leaves no stale message behind a success. */
	outbox_clear_error(h);
	*where = OUTBOX_PASSWORD_FILE;
	return 0;
}

int secret_lookup(outbox *h, const char *id, outbox_password_source where, char **password)
{
	int rc;

	*password = NULL;
	switch (where) {
	case OUTBOX_PASSWORD_KEYRING:
		if ((rc = check_id(h, id)) < 0)
			return rc;
		if (!secret_keyring_reachable())
			return no_bus(h, "read the password from");
		return secret_keyring_lookup(h, id, password);
	case OUTBOX_PASSWORD_FILE:
		if ((rc = check_id(h, id)) < 0)
			return rc;
		return secret_file_lookup(h, id, password);
	case OUTBOX_PASSWORD_COMMAND:
		return outbox_fail(h, OUTBOX_ECONFIG, "password-command",
				   "the password comes from a command and is not stored");
	case OUTBOX_PASSWORD_NONE:
	default:
		return outbox_fail(h, OUTBOX_ECONFIG, "password", "no password is stored");
	}
}

int secret_delete(outbox *h, const char *id, outbox_password_source where)
{
	int rc;

	switch (where) {
	case OUTBOX_PASSWORD_KEYRING:
		if ((rc = check_id(h, id)) < 0)
			return rc;
		if (!secret_keyring_reachable())
			return no_bus(h, "delete the password from");
		return secret_keyring_delete(h, id);
	case OUTBOX_PASSWORD_FILE:
		if ((rc = check_id(h, id)) < 0)
			return rc;
		return secret_file_delete(h, id);
	case OUTBOX_PASSWORD_COMMAND:
	case OUTBOX_PASSWORD_NONE:
	default:
		return 0;
	}
}

void secret_wipe(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

int secret_new_id(outbox *h, char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[16];
	size_t got = 0, i;
	ssize_t n;

	while (got < sizeof raw) {
		n = getrandom(raw + got, sizeof raw - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return outbox_fail(h, OUTBOX_EIO, NULL, "cannot get random bytes: %s",
					   strerror(errno));
		got += (size_t)n;
	}
	for (i = 0; i < sizeof raw; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 0xf];
	}
	out[32] = '\0';
	return 0;
}

/* Keep a descriptor off 0-2 so the child's dup2() onto stdin/stdout cannot clobber it or leave
 * close-on-exec set (dup2 onto itself keeps the flag). */
static int fd_above_stdio(int fd)
{
	int moved;

	if (fd < 0 || fd > 2)
		return fd;
	moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return moved;
}

static int spawn_failed(outbox *h, const char *doing, int err)
{
	return outbox_fail(h, OUTBOX_EIO, "password-command", "cannot %s: %s", doing, strerror(err));
}

/* Read what the command prints, up to `cap` bytes, until its output ends, or the command itself
 * has exited and nothing more is waiting (*reaped = 1, *status set): a process it left in the
 * background may hold the output open for good, and the command has finished all the same.
 * Returns 0, 1 at the deadline, -1 with errno on an error; *full says output was cut off at the
 * cap. The command is checked in short slices, as a library may not take SIGCHLD from its caller. */
static int read_output(int fd, pid_t pid, char *out, size_t cap, long long deadline, size_t *len, int *full,
		       int *reaped, int *status)
{
	ssize_t n;
	int ready;

	*len = 0;
	*full = 0;
	*reaped = 0;
	while (*len < cap) {
		long long slice = net_now_ms() + 10;

		n = read(fd, out + *len, cap - *len);
		if (n > 0) {
			*len += (size_t)n;
			continue;
		}
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (*reaped)
			return 0; /* it had exited, and what it printed is read */
		if (waitpid(pid, status, WNOHANG) == pid) {
			*reaped = 1;
			continue; /* read once more: what it printed just before exiting */
		}
		if ((ready = net_wait(fd, POLLIN, slice < deadline ? slice : deadline)) < 0)
			return -1;
		if (ready == 0 && net_now_ms() >= deadline)
			return 1;
	}
	*full = 1;
	return 0;
}

/* Reap the command once it exits, or give up at the deadline (0; 1 when reaped, -1 on an error).
 * A short nap between checks, since a library may not take SIGCHLD from its caller; a command
 * that closed its output is nearly always exiting already. */
static int wait_exit(pid_t pid, int *status, long long deadline)
{
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		long long left = deadline - net_now_ms();
		struct timespec nap = {0, 0};

		if (r == pid)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
		if (left <= 0)
			return 0;
		nap.tv_nsec = (left < 10 ? left : 10) * 1000000L;
		nanosleep(&nap, NULL);
	}
}

/* Stop the command and whatever it started in its process group, and reap it. The command is
 * reaped only after the kill, so its group id cannot have been reused by then. */
static void stop_command(pid_t pid)
{
	kill(-pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

int secret_run_command(outbox *h, const char *command, const char *server, long long timeout_ms,
		       char **password)
{
	char out[SECRET_MAX + 1];
	size_t len = 0, line;
	long long deadline = net_now_ms() + timeout_ms;
	int fds[2], devnull, status = 0, full = 0, read_err = 0, reaped = 0, got, exited, rc;
	pid_t pid;
	char *nl, *copy;
	struct sigaction dfl;

	*password = NULL;
	if (command == NULL || *command == '\0')
		return outbox_fail(h, OUTBOX_ECONFIG, "password-command", "is empty");
	if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		return spawn_failed(h, "open /dev/null", errno);
	if (pipe2(fds, O_CLOEXEC) < 0) {
		rc = spawn_failed(h, "create a pipe", errno);
		close(devnull);
		return rc;
	}
	devnull = fd_above_stdio(devnull);
	fds[0] = fd_above_stdio(fds[0]);
	fds[1] = fd_above_stdio(fds[1]);
	/* Only our end waits under a deadline: the command's output stays an ordinary pipe. */
	if (devnull < 0 || fds[0] < 0 || fds[1] < 0 || fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0) {
		rc = spawn_failed(h, "set up the command's input and output", errno);
		goto close_all;
	}

	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	pid = fork();
	if (pid < 0) {
		rc = spawn_failed(h, "start the command", errno);
		goto close_all;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls here: libsecret may have started threads. A caller that
		 * ignores SIGPIPE must not pass that on, or a command we stop reading would spin. */
		sigaction(SIGPIPE, &dfl, NULL);
		/* A group of its own: whatever the command starts can be stopped with it. */
		setpgid(0, 0);
		if (dup2(devnull, STDIN_FILENO) < 0 || dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(127);
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		_exit(127);
	}
	/* Also from here, so the group exists before any kill below; once the child has exec'd this
	 * fails harmlessly, as it made the group itself. */
	setpgid(pid, pid);

	close(fds[1]);
	fds[1] = -1;
	close(devnull);
	devnull = -1;
	/* The server's timeout bounds the command as a whole: its output, then its exit. */
	got = read_output(fds[0], pid, out, SECRET_MAX, deadline, &len, &full, &reaped, &status);
	if (got < 0)
		read_err = errno;
	/* Closing before waiting lets a command that prints more than we take end on SIGPIPE. */
	close(fds[0]);
	fds[0] = -1;
	exited = got == 0 ? (reaped ? 1 : wait_exit(pid, &status, deadline)) : 0;
	if (exited != 1) {
		/* Out of time, or broken: nothing the command (or what it started) still does is wanted. */
		int err = got < 0 ? read_err : errno;
		stop_command(pid);
		if (got == 1 || (got == 0 && exited == 0))
			rc = outbox_fail(h, OUTBOX_ETEMPFAIL, NULL,
					 "the password command for server \"%s\" did not finish within %lld s; it "
					 "was stopped", server, (timeout_ms + 500) / 1000);
		else
			rc = spawn_failed(h, got < 0 ? "read the command's output" : "wait for the command", err);
		goto wipe;
	}
	/* Output cut off at the cap ends the command on SIGPIPE, seen directly or through the
	 * shell's 128+signal status; the first line we kept is still good. */
	if (full && ((WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE) ||
		     (WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGPIPE)))
		status = 0;
	if (WIFSIGNALED(status)) {
		rc = outbox_fail(h, OUTBOX_ECONFIG, "password-command",
				 "the command was killed by signal %d", WTERMSIG(status));
		goto wipe;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		rc = outbox_fail(h, OUTBOX_ECONFIG, "password-command",
				 "the command exited with status %d%s", WEXITSTATUS(status),
				 WEXITSTATUS(status) == 127 ? " (command not found?)" : "");
		goto wipe;
	}
	if (len == 0) {
		rc = outbox_fail(h, OUTBOX_ECONFIG, "password-command",
				 "the command printed nothing; it should print the password");
		goto wipe;
	}

	nl = memchr(out, '\n', len);
	if (nl == NULL && full) {
		rc = outbox_fail(h, OUTBOX_ECONFIG, "password-command",
				 "the command's first line is longer than %d bytes", SECRET_MAX);
		goto wipe;
	}
	line = nl ? (size_t)(nl - out) : len;
	while (line > 0 && (out[line - 1] == '\r' || out[line - 1] == '\n'))
		line--;
	if (line == 0) {
		rc = outbox_fail(h, OUTBOX_ECONFIG, "password-command",
				 "the command's first line is empty; it should be the password");
		goto wipe;
	}
	if (memchr(out, '\0', line) != NULL) {
		rc = outbox_fail(h, OUTBOX_ECONFIG, "password-command",
				 "the command's first line contains a NUL byte");
		goto wipe;
	}
	out[line] = '\0';
	if ((copy = strdup(out)) == NULL) {
		rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
		goto wipe;
	}
	*password = copy;
	rc = 0;
	goto wipe;

close_all:
	if (devnull >= 0)
		close(devnull);
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	return rc;
wipe:
	explicit_bzero(out, sizeof out);
	return rc;
}
