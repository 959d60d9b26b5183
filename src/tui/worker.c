/* worker.c: the UI's network jobs (a connection check, a sign-in) as detached threads the screen
 * never waits for, counted so that quitting can give the ones still running a moment to end. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "tui.h"

static pthread_mutex_t worker_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t worker_cond = PTHREAD_COND_INITIALIZER;
static int worker_running;

struct worker_call {
	void (*fn)(void *arg);
	void *arg;
};

static void *worker_main(void *p)
{
	struct worker_call call = *(struct worker_call *)p;

	free(p);
	call.fn(call.arg);
	pthread_mutex_lock(&worker_lock);
	worker_running--;
	pthread_cond_broadcast(&worker_cond);
	pthread_mutex_unlock(&worker_lock);
	return NULL;
}

int worker_spawn(void (*fn)(void *arg), void *arg)
{
	struct worker_call *call = malloc(sizeof *call);
	pthread_attr_t attr;
	pthread_t tid;
	int rc;

	if (call == NULL)
		return -1;
	call->fn = fn;
	call->arg = arg;
	pthread_mutex_lock(&worker_lock);
	worker_running++;
	pthread_mutex_unlock(&worker_lock);
	/* Detached: nobody waits for a cancelled job; it frees what it holds when it ends. */
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &attr, worker_main, call);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		free(call);
		pthread_mutex_lock(&worker_lock);
		worker_running--;
		pthread_mutex_unlock(&worker_lock);
		return -1;
	}
	return 0;
}

void worker_shutdown(int timeout_ms)
{
	struct timespec until;

	/* A cancelled job may still be waiting for a server. Give it a moment: the process's exit
	 * tears down TLS and the allocator's bookkeeping under a thread that may still use them. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&worker_lock);
	while (worker_running > 0)
		if (pthread_cond_timedwait(&worker_cond, &worker_lock, &until) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&worker_lock);
}
