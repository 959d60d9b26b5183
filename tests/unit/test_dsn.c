/* test_dsn.c: the DSN requests as every front end hands them in (sendmail's -N, -R, -V): what is
 * taken and in which canonical form, and what is refused with the flag named. */
#include "dsn.h"
#include "handle_internal.h"
#include "unit.h"

static void test_dsn_check_table(void **state)
{
	static const struct {
		const char *notify, *ret, *envid;
		int rc;
		const char *want_notify, *want_ret, *want_field;
	} cases[] = {
		{NULL, NULL, NULL, 0, "", "", NULL},
		{"never", "hdrs", "abc", 0, "NEVER", "HDRS", NULL},
		{"NEVER", "FULL", NULL, 0, "NEVER", "FULL", NULL},
		{"delay,success", "Full", NULL, 0, "SUCCESS,DELAY", "FULL", NULL},
		{"failure,delay,failure", NULL, NULL, 0, "FAILURE,DELAY", "", NULL},
		{"success,failure,delay", NULL, NULL, 0, "SUCCESS,FAILURE,DELAY", "", NULL},
		{"never,success", NULL, NULL, OUTBOX_EINVALID, NULL, NULL, "-N"},
		{"", NULL, NULL, OUTBOX_EINVALID, NULL, NULL, "-N"},
		{"failure,", NULL, NULL, OUTBOX_EINVALID, NULL, NULL, "-N"},
		{"sucess", NULL, NULL, OUTBOX_EINVALID, NULL, NULL, "-N"},
		{NULL, "headers", NULL, OUTBOX_EINVALID, NULL, NULL, "-R"},
		{NULL, NULL, "", OUTBOX_EINVALID, NULL, NULL, "-V"},
		{NULL, NULL, "a b\x01", OUTBOX_EINVALID, NULL, NULL, "-V"},
		{NULL, NULL, "caf\xc3\xa9", OUTBOX_EINVALID, NULL, NULL, "-V"},
		/* 34 "+" are 102 octets as xtext: over the limit, though 34 given. */
		{NULL, NULL, "++++++++++++++++++++++++++++++++++", OUTBOX_EINVALID, NULL, NULL, "-V"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		outbox h;
		struct dsn_request d;
		char what[64];
		int rc;

		memset(&h, 0, sizeof h);
		snprintf(what, sizeof what, "case %zu (-N %s -R %s)", i, cases[i].notify ? cases[i].notify : "-",
			 cases[i].ret ? cases[i].ret : "-");
		rc = dsn_check(&h, cases[i].notify, cases[i].ret, cases[i].envid, &d);
		EXPECT_INT(rc, cases[i].rc, what);
		if (rc < 0) {
			EXPECT_STR(outbox_errfield(&h), cases[i].want_field, what);
			continue;
		}
		EXPECT_STR(d.notify, cases[i].want_notify, what);
		EXPECT_STR(d.ret, cases[i].want_ret, what);
		EXPECT_STR(d.envid, cases[i].envid ? cases[i].envid : "", what);
	}
}

static void test_dsn_defaults_when_empty(void **state)
{
	(void)state;
	EXPECT_STR(dsn_notify_or_default(NULL), "FAILURE,DELAY", "NOTIFY default");
	EXPECT_STR(dsn_notify_or_default(""), "FAILURE,DELAY", "NOTIFY default from the store");
	EXPECT_STR(dsn_ret_or_default(""), "HDRS", "RET default");
	EXPECT_STR(dsn_ret_or_default("FULL"), "FULL", "RET asked");
}

/* xtext back to its value, for what a -bs client sends in ENVID and ORCPT (RFC 3461 4). */
static void test_dsn_xtext_decode(void **state)
{
	static const struct {
		const char *xtext, *want; /* want NULL: refused */
	} cases[] = {
		{"abc", "abc"},
		{"a+2Bb+3Dc+20", "a+b=c "},
		{"+7E", "~"},
		{"", ""},
		{"a+2", NULL},
		{"a+", NULL},
		{"a+2b", NULL},
		{"a+GG", NULL},
		{"a=b", NULL},
		{"a b", NULL},
		{"caf\xc3\xa9", NULL},
		{"+00", NULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf out = BUF_INIT;
		int rc = dsn_xtext_decode(&out, cases[i].xtext, strlen(cases[i].xtext));

		EXPECT_INT(rc, cases[i].want ? 0 : -1, cases[i].xtext);
		if (cases[i].want)
			EXPECT_STR(out.data ? out.data : "", cases[i].want, cases[i].xtext);
		buf_free(&out);
	}
}

/* What dsn_xtext writes, dsn_xtext_decode reads back. */
static void test_dsn_xtext_round_trip(void **state)
{
	const char *value = "id+=<x@y> \x01~!";
	struct buf x = BUF_INIT, back = BUF_INIT;

	(void)state;
	assert_int_equal(dsn_xtext(&x, value), 0);
	EXPECT_INT(dsn_xtext_decode(&back, x.data, x.len), 0, x.data);
	EXPECT_STR(back.data, value, "decoded xtext");
	buf_free(&x);
	buf_free(&back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dsn_check_table),
		cmocka_unit_test(test_dsn_defaults_when_empty),
		cmocka_unit_test(test_dsn_xtext_decode),
		cmocka_unit_test(test_dsn_xtext_round_trip),
	};
	return cmocka_run_group_tests_name("dsn", tests, NULL, NULL);
}
