/* test_retry.c: the retry schedule: the default delays step by step, jitter bounds, the last try
 * landing on the expiry, and giving up after it. The clock is a parameter, so nothing sleeps. */
#include "retry.h"
#include "unit.h"

static void test_default_schedule_doubles_to_an_hour(void **state)
{
	static const struct {
		int attempts;
		long long want_delay;
	} cases[] = {{1, 60}, {2, 120}, {3, 240}, {4, 480}, {5, 960}, {6, 1920}, {7, 3600}, {8, 3600}, {50, 3600}};
	struct retry_policy p = retry_default;
	size_t i;

	(void)state;
	p.jitter_percent = 0;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char what[64];
		snprintf(what, sizeof what, "delay after %d attempts", cases[i].attempts);
		EXPECT_INT(retry_next(&p, cases[i].attempts, 1000, 5000, 0) - 5000, cases[i].want_delay, what);
	}
}

static void test_jitter_stays_within_ten_percent(void **state)
{
	uint32_t r;
	long long lo = 1LL << 60, hi = 0;

	(void)state;
	for (r = 0; r < 5000; r++) {
		long long d = retry_next(&retry_default, 7, 0, 10000, r * 2654435761u) - 10000;
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	EXPECT_INT(lo >= 3240, 1, "shortest delay at least 3600 - 10%");
	EXPECT_INT(hi <= 3960, 1, "longest delay at most 3600 + 10%");
	EXPECT_INT(hi - lo > 500, 1, "the delays really vary");
}

static void test_expiry(void **state)
{
	long long five_days = 5 * 24 * 3600;

	(void)state;
	EXPECT_INT(retry_next(&retry_default, 40, 0, five_days - 100, 0), five_days,
		   "the last try is at the expiry, not after it");
	EXPECT_INT(retry_next(&retry_default, 41, 0, five_days, 0), -1, "at the expiry: give up");
	EXPECT_INT(retry_next(&retry_default, 41, 0, five_days + 1, 0), -1, "after it: give up");
}

/* Durations as an account's retry settings are written: parsed to seconds, shown back shortest. */
static void test_durations(void **state)
{
	static const struct {
		const char *text;
		long long seconds;
		const char *shown;
	} cases[] = {
		{"90", 90, "90s"},    {"90s", 90, "90s"},    {"15m", 900, "15m"}, {"120m", 7200, "2h"},
		{"2h", 7200, "2h"},   {"5d", 432000, "5d"},  {"1w", 604800, "7d"}, {"0", 0, "0s"},
		{"", -1, NULL},       {"m", -1, NULL},       {"5x", -1, NULL},    {"5 m", -1, NULL},
		{"-5m", -1, NULL},    {"5mm", -1, NULL},     {"99999999999999999999d", -1, NULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char what[80], shown[24];
		long long got = retry_parse_duration(cases[i].text);
		snprintf(what, sizeof what, "parse \"%s\"", cases[i].text);
		EXPECT_INT(got, cases[i].seconds, what);
		if (cases[i].shown) {
			retry_format_duration(got, shown, sizeof shown);
			snprintf(what, sizeof what, "show %lld s", got);
			EXPECT_STR(shown, cases[i].shown, what);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_schedule_doubles_to_an_hour),
		cmocka_unit_test(test_jitter_stays_within_ten_percent),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_durations),
	};
	return cmocka_run_group_tests_name("retry", tests, NULL, NULL);
}
