/* test_secret.c: password storage: the private-file backend, the choice between keyring and
 * file, password commands and secret ids; a real keyring round trip when OUTBOX_TEST_KEYRING=1. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "handle_internal.h"
#include "secret.h"
#include "unit.h"

/* Everything a password might hold that a naive writer would mangle: blanks, both quotes,
 * a backslash, UTF-8 and a line break, with no trailing newline. */
static const char tricky[] = "pa ss \"dq\" 'sq' \\ gr\xc3\xbc\xc3\x9f \xe2\x82\xac\nline two";

struct fixture {
	outbox h;
	char *home;
	char *saved_bus;
	char *saved_backend;
};

static char *saved(const char *name)
{
	const char *v = getenv(name);

	return v ? strdup(v) : NULL;
}

static void restore(const char *name, char *value)
{
	if (value) {
		setenv(name, value, 1);
		free(value);
	} else {
		unsetenv(name);
	}
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char tmpl[] = "/tmp/outbox-secret-XXXXXX";

	if (f == NULL || mkdtemp(tmpl) == NULL)
		return -1;
	memset(&f->h, 0, sizeof f->h);
	f->home = strdup(tmpl);
	f->h.home = f->home;
	f->saved_bus = saved("DBUS_SESSION_BUS_ADDRESS");
	f->saved_backend = saved("OUTBOX_SECRET_BACKEND");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[512];
	int rc;

	restore("DBUS_SESSION_BUS_ADDRESS", f->saved_bus);
	restore("OUTBOX_SECRET_BACKEND", f->saved_backend);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->home);
	rc = system(cmd);
	free(f->home);
	free(f);
	return rc == 0 ? 0 : -1;
}

static char *secret_path(struct fixture *f, const char *id)
{
	char *p = NULL;

	assert_true(asprintf(&p, "%s/secrets/%s", f->home, id) > 0);
	return p;
}

/* The file's bytes exactly, so a stray trailing newline would show. */
static void expect_file_holds(const char *path, const char *want)
{
	char got[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	n = read(fd, got, sizeof got - 1);
	close(fd);
	assert_true(n >= 0);
	got[n] = '\0';
	EXPECT_INT(n, strlen(want), "length of the password file");
	EXPECT_STR(got, want, "contents of the password file");
}

static void test_file_round_trip(void **state)
{
	struct fixture *f = *state;
	outbox_password_source where = OUTBOX_PASSWORD_NONE;
	char id[33], *pw = NULL, *path;
	struct stat st;

	setenv("OUTBOX_SECRET_BACKEND", "file", 1);
	EXPECT_INT(secret_new_id(&f->h, id), 0, "make an id");
	EXPECT_INT(secret_store(&f->h, id, "label", tricky, &where), 0, "store in a file");
	EXPECT_INT(where, OUTBOX_PASSWORD_FILE, "where the password went");
	path = secret_path(f, id);
	expect_file_holds(path, tricky);

	EXPECT_INT(secret_lookup(&f->h, id, OUTBOX_PASSWORD_FILE, &pw), 0, "look it up");
	EXPECT_STR(pw, tricky, "the password read back");
	secret_wipe(pw);

	EXPECT_INT(secret_store(&f->h, id, "label", "replaced", &where), 0, "store over it");
	EXPECT_INT(secret_lookup(&f->h, id, OUTBOX_PASSWORD_FILE, &pw), 0, "look up the new one");
	EXPECT_STR(pw, "replaced", "the replaced password");
	secret_wipe(pw);

	EXPECT_INT(secret_delete(&f->h, id, OUTBOX_PASSWORD_FILE), 0, "delete it");
	EXPECT_INT(stat(path, &st), -1, "the file is gone after delete");
	EXPECT_INT(secret_lookup(&f->h, id, OUTBOX_PASSWORD_FILE, &pw), OUTBOX_ECONFIG,
		   "look up a deleted password");
	assert_null(pw);
	EXPECT_CONTAINS(outbox_errmsg(&f->h), "missing", "why the lookup failed");
	free(path);
}

static void test_file_modes(void **state)
{
	struct fixture *f = *state;
	outbox_password_source where;
	char id[33], *path, dir[512];
	struct stat st;
	mode_t old = umask(0);

	setenv("OUTBOX_SECRET_BACKEND", "file", 1);
	assert_int_equal(secret_new_id(&f->h, id), 0);
	EXPECT_INT(secret_store(&f->h, id, NULL, "pw", &where), 0, "store with umask 0");
	umask(old);
	path = secret_path(f, id);
	assert_int_equal(stat(path, &st), 0);
	EXPECT_INT(st.st_mode & 07777, 0600, "mode of the password file");
	snprintf(dir, sizeof dir, "%s/secrets", f->home);
	assert_int_equal(stat(dir, &st), 0);
	EXPECT_INT(st.st_mode & 07777, 0700, "mode of the secrets directory");
	free(path);
}

static void test_file_refuses_open_mode(void **state)
{
	struct fixture *f = *state;
	outbox_password_source where;
	char id[33], *path, *pw = NULL;

	setenv("OUTBOX_SECRET_BACKEND", "file", 1);
	assert_int_equal(secret_new_id(&f->h, id), 0);
	assert_int_equal(secret_store(&f->h, id, NULL, "hunter2", &where), 0);
	path = secret_path(f, id);
	assert_int_equal(chmod(path, 0644), 0);
	EXPECT_INT(secret_lookup(&f->h, id, OUTBOX_PASSWORD_FILE, &pw), OUTBOX_ECONFIG,
		   "look up a world-readable password file");
	assert_null(pw);
	EXPECT_CONTAINS(outbox_errmsg(&f->h), "chmod 600", "the message says how to fix it");
	EXPECT_CONTAINS(outbox_errmsg(&f->h), path, "the message names the file");
	assert_null(strstr(outbox_errmsg(&f->h), "hunter2"));
	free(path);
}

static void test_delete_missing_is_ok(void **state)
{
	struct fixture *f = *state;
	outbox_password_source where;
	char id[33], other[33];

	assert_int_equal(secret_new_id(&f->h, id), 0);
	EXPECT_INT(secret_delete(&f->h, id, OUTBOX_PASSWORD_FILE), 0,
		   "delete when there is no secrets directory");
	setenv("OUTBOX_SECRET_BACKEND", "file", 1);
	assert_int_equal(secret_new_id(&f->h, other), 0);
	assert_int_equal(secret_store(&f->h, other, NULL, "pw", &where), 0);
	EXPECT_INT(secret_delete(&f->h, id, OUTBOX_PASSWORD_FILE), 0, "delete a missing file");
	EXPECT_INT(secret_delete(&f->h, id, OUTBOX_PASSWORD_NONE), 0, "delete with no source");
	EXPECT_INT(secret_delete(&f->h, id, OUTBOX_PASSWORD_COMMAND), 0, "delete a command source");
}

static void test_refuses_malformed_id(void **state)
{
	struct fixture *f = *state;
	outbox_password_source where;
	char *pw = NULL, dir[512];
	struct stat st;

	setenv("OUTBOX_SECRET_BACKEND", "file", 1);
	EXPECT_INT(secret_store(&f->h, "../../etc/x", NULL, "pw", &where), OUTBOX_ECONFIG,
		   "store under a path-like id");
	EXPECT_INT(secret_store(&f->h, "0123456789abcdef0123456789abcdef0", NULL, "pw", &where),
		   OUTBOX_ECONFIG, "store under a 33-digit id");
	EXPECT_INT(secret_lookup(&f->h, "", OUTBOX_PASSWORD_FILE, &pw), OUTBOX_ECONFIG,
		   "look up an empty id");
	snprintf(dir, sizeof dir, "%s/secrets", f->home);
	EXPECT_INT(stat(dir, &st), -1, "nothing was created for a bad id");
}

static void test_bad_backend_name(void **state)
{
	struct fixture *f = *state;
	outbox_password_source where;
	char id[33];

	setenv("OUTBOX_SECRET_BACKEND", "gpg", 1);
	assert_int_equal(secret_new_id(&f->h, id), 0);
	EXPECT_INT(secret_store(&f->h, id, NULL, "pw", &where), OUTBOX_ECONFIG,
		   "store with an unknown backend");
	EXPECT_CONTAINS(outbox_errmsg(&f->h), "OUTBOX_SECRET_BACKEND", "the message names the variable");
}

/* A bus address whose socket listens but never answers: any connection attempt shows up as a
 * pending connection, and a client that did connect would block, so an alarm bounds the test. */
static void test_file_backend_skips_keyring(void **state)
{
	struct fixture *f = *state;
	outbox_password_source where = OUTBOX_PASSWORD_NONE;
	struct sockaddr_un sa;
	struct pollfd p;
	char id[33], addr[600];
	int lfd;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s/bus", f->home);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(lfd, 4), 0);
	snprintf(addr, sizeof addr, "unix:path=%s", sa.sun_path);
	setenv("DBUS_SESSION_BUS_ADDRESS", addr, 1);
	setenv("OUTBOX_SECRET_BACKEND", "file", 1);

	assert_int_equal(secret_new_id(&f->h, id), 0);
	alarm(30);
	EXPECT_INT(secret_store(&f->h, id, NULL, "pw", &where), 0, "store with the file backend");
	alarm(0);
	EXPECT_INT(where, OUTBOX_PASSWORD_FILE, "where the password went");
	p.fd = lfd;
	p.events = POLLIN;
	EXPECT_INT(poll(&p, 1, 0), 0, "connections made to the session bus");
	close(lfd);
}

static void test_no_bus_means_file(void **state)
{
	struct fixture *f = *state;
	outbox_password_source where = OUTBOX_PASSWORD_NONE;
	char id[33], *pw = NULL;

	unsetenv("DBUS_SESSION_BUS_ADDRESS");
	unsetenv("OUTBOX_SECRET_BACKEND");
	assert_int_equal(secret_new_id(&f->h, id), 0);
	EXPECT_INT(secret_store(&f->h, id, NULL, "pw", &where), 0, "store without a session bus");
	EXPECT_INT(where, OUTBOX_PASSWORD_FILE, "where the password went");

	setenv("DBUS_SESSION_BUS_ADDRESS", "", 1);
	EXPECT_INT(secret_store(&f->h, id, NULL, "pw", &where), 0, "store with an empty bus address");
	EXPECT_INT(where, OUTBOX_PASSWORD_FILE, "where the password went");

	setenv("OUTBOX_SECRET_BACKEND", "keyring", 1);
	EXPECT_INT(secret_store(&f->h, id, NULL, "pw", &where), OUTBOX_ECONFIG,
		   "require the keyring without a session bus");
	EXPECT_CONTAINS(outbox_errmsg(&f->h), "DBUS_SESSION_BUS_ADDRESS", "the message says why");
	EXPECT_INT(secret_lookup(&f->h, id, OUTBOX_PASSWORD_KEYRING, &pw), OUTBOX_ECONFIG,
		   "read from the keyring without a session bus");
	assert_null(pw);
}

/* Runs before the real keyring test: once a process has a working bus, GLib keeps using it. */
static void test_keyring_failure(void **state)
{
	struct fixture *f = *state;
	outbox_password_source where = OUTBOX_PASSWORD_NONE;
	char id[33], addr[600];

	snprintf(addr, sizeof addr, "unix:path=%s/no-such-bus", f->home);
	setenv("DBUS_SESSION_BUS_ADDRESS", addr, 1);
	unsetenv("OUTBOX_SECRET_BACKEND");
	assert_int_equal(secret_new_id(&f->h, id), 0);
	EXPECT_INT(secret_store(&f->h, id, NULL, "hunter2", &where), 0,
		   "store when the keyring cannot be reached");
	EXPECT_INT(where, OUTBOX_PASSWORD_FILE, "the fallback when the keyring fails");
	EXPECT_STR(outbox_errmsg(&f->h), "", "no message is left behind after the fallback");

	setenv("OUTBOX_SECRET_BACKEND", "keyring", 1);
	EXPECT_INT(secret_store(&f->h, id, NULL, "hunter2", &where), OUTBOX_ECONFIG,
		   "require a keyring that cannot be reached");
	EXPECT_CONTAINS(outbox_errmsg(&f->h), "keyring: ", "the message names the keyring");
	if (strlen(strstr(outbox_errmsg(&f->h), "keyring: ")) <= strlen("keyring: "))
		fail_msg("no reason from GLib in \"%s\"", outbox_errmsg(&f->h));
	assert_null(strstr(outbox_errmsg(&f->h), "hunter2"));
}

static void test_lookup_of_unstored_sources(void **state)
{
	struct fixture *f = *state;
	char id[33], *pw = NULL;

	assert_int_equal(secret_new_id(&f->h, id), 0);
	EXPECT_INT(secret_lookup(&f->h, id, OUTBOX_PASSWORD_NONE, &pw), OUTBOX_ECONFIG,
		   "look up with no source");
	EXPECT_INT(secret_lookup(&f->h, id, OUTBOX_PASSWORD_COMMAND, &pw), OUTBOX_ECONFIG,
		   "look up a command source");
	assert_null(pw);
}

static void test_command_first_line(void **state)
{
	struct fixture *f = *state;
	char *pw = NULL;

	EXPECT_INT(secret_run_command(&f->h, "printf 'se cret\\r\\nsecond line\\n'", "test", 10000, &pw), 0,
		   "run a command printing two lines");
	EXPECT_STR(pw, "se cret", "the first line without CR/LF");
	secret_wipe(pw);

	EXPECT_INT(secret_run_command(&f->h, "printf 'no newline'", "test", 10000, &pw), 0,
		   "run a command printing no newline");
	EXPECT_STR(pw, "no newline", "output without a newline");
	secret_wipe(pw);

	EXPECT_INT(secret_run_command(&f->h, "cat; echo 'after stdin'", "test", 10000, &pw), 0,
		   "run a command that reads its input");
	EXPECT_STR(pw, "after stdin", "the command saw end of input at once");
	secret_wipe(pw);

	EXPECT_INT(secret_run_command(&f->h, "echo '(stderr of a password command, shown on purpose)' >&2; echo fine",
				      "test", 10000, &pw), 0,
		   "run a command that writes to stderr");
	EXPECT_STR(pw, "fine", "stderr is not part of the password");
	secret_wipe(pw);
}

/* More output than is read must not fail the command, even in a caller that ignores SIGPIPE. */
static void test_command_long_output(void **state)
{
	struct fixture *f = *state;
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	char *pw = NULL;

	EXPECT_INT(secret_run_command(&f->h, "yes long", "test", 10000, &pw), 0, "run a command that never stops");
	signal(SIGPIPE, old);
	EXPECT_STR(pw, "long", "the first line of endless output");
	secret_wipe(pw);
}

static void test_command_failures(void **state)
{
	struct fixture *f = *state;
	char *pw = NULL;

	EXPECT_INT(secret_run_command(&f->h, "echo partial; exit 3", "test", 10000, &pw), OUTBOX_ECONFIG,
		   "run a command that fails");
	assert_null(pw);
	EXPECT_STR(outbox_errfield(&f->h), "password-command", "the field of the failure");
	EXPECT_CONTAINS(outbox_errmsg(&f->h), "password-command", "the message names the field");
	EXPECT_CONTAINS(outbox_errmsg(&f->h), "status 3", "the message gives the exit status");

	EXPECT_INT(secret_run_command(&f->h, "true", "test", 10000, &pw), OUTBOX_ECONFIG,
		   "run a command that prints nothing");
	assert_null(pw);
	EXPECT_CONTAINS(outbox_errmsg(&f->h), "password-command", "the message names the field");
	EXPECT_CONTAINS(outbox_errmsg(&f->h), "printed nothing", "the message says what is wrong");

	EXPECT_INT(secret_run_command(&f->h, "printf '\\nsecond\\n'", "test", 10000, &pw), OUTBOX_ECONFIG,
		   "run a command whose first line is empty");
	EXPECT_CONTAINS(outbox_errmsg(&f->h), "password-command", "the message names the field");

	EXPECT_INT(secret_run_command(&f->h, "kill -TERM $$", "test", 10000, &pw), OUTBOX_ECONFIG,
		   "run a command that is killed");
	EXPECT_CONTAINS(outbox_errmsg(&f->h), "signal", "the message says it was killed");
}

static void test_new_id(void **state)
{
	struct fixture *f = *state;
	char a[33], b[33];
	size_t i;

	EXPECT_INT(secret_new_id(&f->h, a), 0, "make an id");
	EXPECT_INT(secret_new_id(&f->h, b), 0, "make another id");
	EXPECT_INT(strlen(a), 32, "length of an id");
	for (i = 0; i < 32; i++)
		if (!((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'f')))
			fail_msg("id \"%s\" has a character that is not lowercase hex at %zu", a, i);
	if (strcmp(a, b) == 0)
		fail_msg("two ids are both \"%s\"", a);
	secret_wipe(NULL);
}

/* A real Secret Service: the e2e runner sets OUTBOX_TEST_KEYRING=1 inside dbus-run-session with
 * an unlocked gnome-keyring-daemon. */
static void test_keyring_round_trip(void **state)
{
	struct fixture *f = *state;
	outbox_password_source where = OUTBOX_PASSWORD_NONE;
	char id[33], *pw = NULL, *path;
	struct stat st;
	const char *want = getenv("OUTBOX_TEST_KEYRING");

	if (want == NULL || strcmp(want, "1") != 0) {
		skip();
		return;
	}
	setenv("OUTBOX_SECRET_BACKEND", "keyring", 1);
	assert_int_equal(secret_new_id(&f->h, id), 0);
	if (secret_store(&f->h, id, "outbox test", tricky, &where) != 0)
		fail_msg("store in the keyring: %s", outbox_errmsg(&f->h));
	EXPECT_INT(where, OUTBOX_PASSWORD_KEYRING, "where the password went");
	path = secret_path(f, id);
	EXPECT_INT(stat(path, &st), -1, "no password file is written for the keyring");
	free(path);

	if (secret_lookup(&f->h, id, OUTBOX_PASSWORD_KEYRING, &pw) != 0)
		fail_msg("look up in the keyring: %s", outbox_errmsg(&f->h));
	EXPECT_STR(pw, tricky, "the password read back from the keyring");
	secret_wipe(pw);
	pw = NULL;

	EXPECT_INT(secret_delete(&f->h, id, OUTBOX_PASSWORD_KEYRING), 0, "delete from the keyring");
	EXPECT_INT(secret_lookup(&f->h, id, OUTBOX_PASSWORD_KEYRING, &pw), OUTBOX_ECONFIG,
		   "look up a deleted keyring password");
	assert_null(pw);
	EXPECT_INT(secret_delete(&f->h, id, OUTBOX_PASSWORD_KEYRING), 0,
		   "delete a missing keyring password");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_refuses_open_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_missing_is_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_malformed_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_backend_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_backend_skips_keyring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_bus_means_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keyring_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_of_unstored_sources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_first_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_long_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_command_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_id, setup, teardown),
		/* Last: see test_keyring_failure. */
		cmocka_unit_test_setup_teardown(test_keyring_round_trip, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
