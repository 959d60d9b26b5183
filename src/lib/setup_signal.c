/* setup_signal.c: a counter under a lock and a condition variable on the monotonic clock: the
 * discovery's caller sleeps until a lookup or a probe has news, or the next deadline comes. */
#include <limits.h>
#include <time.h>

#include "setup_signal.h"

void setup_signal_init(struct setup_signal *s)
{
	pthread_condattr_t ca;

	s->events = 0;
	pthread_mutex_init(&s->lock, NULL);
	/* Deadlines are net_now_ms's, on the monotonic clock: a clock change cannot stretch a wait. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->posted, &ca);
	pthread_condattr_destroy(&ca);
}

void setup_signal_destroy(struct setup_signal *s)
{
	pthread_cond_destroy(&s->posted);
	pthread_mutex_destroy(&s->lock);
}

void setup_signal_post(struct setup_signal *s)
{
	pthread_mutex_lock(&s->lock);
	s->events++;
	pthread_cond_broadcast(&s->posted);
	pthread_mutex_unlock(&s->lock);
}

void setup_signal_wait(struct setup_signal *s, unsigned long *seen, long long until_ms)
{
	struct timespec until = {until_ms / 1000, (until_ms % 1000) * 1000000};

	pthread_mutex_lock(&s->lock);
	while (s->events == *seen) {
		if (until_ms == LLONG_MAX) /* no deadline: a post will come */
			pthread_cond_wait(&s->posted, &s->lock);
		else if (pthread_cond_timedwait(&s->posted, &s->lock, &until) != 0)
			break; /* the deadline (or a time it cannot wait for: then do not spin) */
	}
	*seen = s->events;
	pthread_mutex_unlock(&s->lock);
}
