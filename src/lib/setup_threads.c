/* setup_threads.c: one process-wide count of the lookup and probe threads of `outbox setup`, so a
 * program that cancelled a run does not exit under threads still inside libcurl or OpenSSL. */
#include <openssl/crypto.h>
#include <pthread.h>
#include <time.h>

#include "outbox/setup.h"
#include "setup_threads.h"

static pthread_mutex_t threads_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t threads_left = PTHREAD_COND_INITIALIZER; /* the count went down */
static unsigned long threads_running;

void setup_threads_enter(void)
{
	pthread_mutex_lock(&threads_lock);
	threads_running++;
	pthread_mutex_unlock(&threads_lock);
}

void setup_threads_not_started(void)
{
	pthread_mutex_lock(&threads_lock);
	threads_running--;
	pthread_cond_broadcast(&threads_left);
	pthread_mutex_unlock(&threads_lock);
}

void setup_threads_leave(void)
{
	/* Free this thread's OpenSSL state (its error queue, its random generators) now: left to the
	 * thread's exit, it could outlive a settled program's exit and be reported as leaked. */
	OPENSSL_thread_stop();
	setup_threads_not_started();
}

int outbox_setup_settle(long long timeout_ms)
{
	struct timespec until;
	int settled;

	if (timeout_ms < 0)
		timeout_ms = 0;
	/* The realtime clock, as the static condition variable waits on it: a wait of a few seconds. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)(timeout_ms / 1000);
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&threads_lock);
	/* Any answer but a wake-up (the time is up, or an error) ends the wait. */
	while (threads_running > 0 && pthread_cond_timedwait(&threads_left, &threads_lock, &until) == 0)
		;
	settled = threads_running == 0;
	pthread_mutex_unlock(&threads_lock);
	return settled;
}
