/* setup_signal.h: the one wake-up a discovery run's caller waits on: each source's lookup and each
 * probe post to it when they have news, so the caller reacts (and reports progress) on its thread. */
#ifndef OUTBOX_SETUP_SIGNAL_H
#define OUTBOX_SETUP_SIGNAL_H

#include <pthread.h>

struct setup_signal {
	pthread_mutex_t lock;
	pthread_cond_t posted; /* on the monotonic clock, as net_now_ms */
	unsigned long events;  /* how many posts so far */
};

void setup_signal_init(struct setup_signal *s);
void setup_signal_destroy(struct setup_signal *s);
/* Something changed: wake the waiter. Takes only the signal's own lock, so a poster may hold its
 * own lock while posting (the waiter never holds this lock while taking another). */
void setup_signal_post(struct setup_signal *s);
/* Wait until a post newer than *seen, or until_ms (net_now_ms's clock) passes; *seen becomes the
 * posts so far. Read the posters' state after this returns: a post that comes after that read is
 * newer than *seen, so the next wait returns at once and nothing is missed. */
void setup_signal_wait(struct setup_signal *s, unsigned long *seen, long long until_ms);

#endif
