/* retry.h: the outbox's retry schedule as data: when a message that failed for now is tried
 * again, and when it is given up. Pure functions of the policy, the attempt count and the clock. */
#ifndef OUTBOX_RETRY_H
#define OUTBOX_RETRY_H

#include <stddef.h>
#include <stdint.h>

struct retry_policy {
	long long first_delay; /* seconds before the first retry */
	long long max_delay;   /* the delay doubles up to this */
	long long give_up;     /* seconds after the first attempt when no further try is made */
	int jitter_percent;    /* each delay varies by up to this much, so retries don't align */
};

/* 1 minute, doubling to 1 hour between tries, given up after 5 days; 10% jitter. */
extern const struct retry_policy retry_default;

/* When to try again after `attempts` failed attempts (>= 1), the first made at `first_at`, the
 * last ending at `now`; `random` is any 32-bit random value (injected so tests can fix it).
 * Returns the time of the next attempt, or -1 when the message is to be given up. */
long long retry_next(const struct retry_policy *p, int attempts, long long first_at, long long now,
		     uint32_t random);

/* Parse a duration as people write it: "90s", "15m", "2h", "5d", "1w", or bare seconds. Returns the
 * seconds, or -1 when it is not one (empty, no digits, unknown unit, overflow). */
long long retry_parse_duration(const char *text);
/* The shortest exact form of `seconds` ("90s", "15m", "2h", "5d"), into out (at least 24 bytes). */
void retry_format_duration(long long seconds, char *out, size_t size);

#endif
