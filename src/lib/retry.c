/* retry.c: exponential backoff with jitter and an expiry, as in every well-behaved MTA: the
 * delay doubles from first_delay up to max_delay, and nothing is tried past give_up. */
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
