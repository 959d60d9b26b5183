/* unit.h: what every cmocka unit test includes: cmocka itself and got/want helpers that print
 * both sides, so a failure says what the code did and what a user would have expected. */
#ifndef OUTBOX_TEST_UNIT_H
#define OUTBOX_TEST_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <stdlib.h>
#include <unistd.h>

#include "outbox/outbox.h"

#define EXPECT_INT(got, want, what)                                                          \
	do {                                                                                 \
		long long got_ = (long long)(got), want_ = (long long)(want);                \
		if (got_ != want_)                                                           \
			fail_msg("%s: got %lld, want %lld", (what), got_, want_);            \
	} while (0)

#define EXPECT_STR(got, want, what)                                                          \
	do {                                                                                 \
		const char *got_ = (got), *want_ = (want);                                   \
		if (got_ == NULL || strcmp(got_, want_) != 0)                                \
			fail_msg("%s: got \"%s\", want \"%s\"", (what), got_ ? got_ : "(null)", \
				 want_);                                                     \
	} while (0)

#define EXPECT_CONTAINS(got, part, what)                                                     \
	do {                                                                                 \
		const char *got_ = (got), *part_ = (part);                                   \
		if (got_ == NULL || strstr(got_, part_) == NULL)                             \
			fail_msg("%s: got \"%s\", want it to contain \"%s\"", (what),         \
				 got_ ? got_ : "(null)", part_);                             \
	} while (0)

/* A throwaway store for one test: a fresh directory under /tmp with an open handle. */
struct unit_store {
	char home[64];
	outbox *h;
};

static inline struct unit_store *unit_store_open(const char *tag)
{
	struct unit_store *f = calloc(1, sizeof *f);

	if (f == NULL)
		return NULL;
	snprintf(f->home, sizeof f->home, "/tmp/outbox-%s-XXXXXX", tag);
	if (mkdtemp(f->home) == NULL || outbox_open(&f->h, f->home) < 0) {
		outbox_close(f->h);
		free(f);
		return NULL;
	}
	return f;
}

/* Add server `name` at host NAME.example.org with the defaults; the test stops if that fails. */
static inline void unit_add_server(outbox *h, const char *name)
{
	outbox_server *s = outbox_server_new();
	char host[64];

	snprintf(host, sizeof host, "%s.example.org", name);
	assert_int_equal(outbox_server_set(h, s, OUTBOX_SERVER_NAME, name), 0);
	assert_int_equal(outbox_server_set(h, s, OUTBOX_SERVER_HOST, host), 0);
	assert_int_equal(outbox_server_save(h, s), 0);
	outbox_server_free(s);
}

/* Add an account for `address` sending through server `server`; the test stops if that fails. */
static inline void unit_add_account(outbox *h, const char *address, const char *server)
{
	outbox_account *a = outbox_account_new();

	assert_int_equal(outbox_account_set(h, a, OUTBOX_ACCOUNT_ADDRESS, address), 0);
	assert_int_equal(outbox_account_set(h, a, OUTBOX_ACCOUNT_SERVER, server), 0);
	assert_int_equal(outbox_account_save(h, a), 0);
	outbox_account_free(a);
}

/* A cmocka setup: a throwaway store in *state whose secrets go to 0600 files, never a keyring the
 * machine may have. */
static inline int unit_store_setup_with_secret_files(void **state, const char *tag)
{
	struct unit_store *f = unit_store_open(tag);

	if (f == NULL)
		return -1;
	setenv("OUTBOX_SECRET_BACKEND", "file", 1);
	*state = f;
	return 0;
}

static inline int unit_store_close(struct unit_store *f)
{
	char cmd[128];
	int rc;

	outbox_close(f->h);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->home);
	rc = system(cmd);
	free(f);
	return rc == 0 ? 0 : -1;
}

#endif
