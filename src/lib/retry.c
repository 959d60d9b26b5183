/* retry.c: exponential backoff with jitter and an expiry, as in every well-behaved MTA: the
 * delay doubles from first_delay up to max_delay, and nothing is tried past give_up. */
#include <stdio.h>

#include "retry.h"

const struct retry_policy retry_default = {60, 3600, 5 * 24 * 3600, 10};

long long retry_next(const struct retry_policy *p, int attempts, long long first_at, long long now,
		     uint32_t random)
{
	long long delay = p->first_delay, spread, next;
	int i;

	if (attempts < 1)
		attempts = 1;
	for (i = 1; i < attempts && delay < p->max_delay; i++)
		delay *= 2;
	if (delay > p->max_delay)
		delay = p->max_delay;
	/* Jitter in [-spread, +spread]: without it, messages deferred together retry together. */
	spread = delay * p->jitter_percent / 100;
	if (spread > 0)
		delay += (long long)(random % (uint32_t)(2 * spread + 1)) - spread;
	if (delay < 1)
		delay = 1;
	next = now + delay;
	if (next > first_at + p->give_up)
		return now >= first_at + p->give_up ? -1 : first_at + p->give_up;
	return next;
}

static const struct {
	char unit;
	long long seconds;
} retry_units[] = {{'w', 7 * 86400}, {'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};

long long retry_parse_duration(const char *text)
{
	long long n = 0;
	const char *p = text;
	size_t i;

	if (p == NULL || *p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (1LL << 40))
			return -1;
		n = n * 10 + (*p - '0');
	}
	if (*p == '\0')
		return n;
	for (i = 0; i < sizeof retry_units / sizeof retry_units[0]; i++)
		if (*p == retry_units[i].unit && p[1] == '\0')
			return n * retry_units[i].seconds;
	return -1;
}

void retry_format_duration(long long seconds, char *out, size_t size)
{
	size_t i;

	/* Weeks are accepted but not shown: "14d" reads more plainly than "2w" next to "5d". */
	for (i = 1; i < sizeof retry_units / sizeof retry_units[0]; i++)
		if (seconds != 0 && seconds % retry_units[i].seconds == 0) {
			snprintf(out, size, "%lld%c", seconds / retry_units[i].seconds, retry_units[i].unit);
			return;
		}
	snprintf(out, size, "%llds", seconds);
}
