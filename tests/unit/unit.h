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

#endif
