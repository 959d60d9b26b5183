/* worker.c: the UI's network jobs (a connection check, a sign-in, a setup) as detached threads the
 * screen never waits for, shared with their dialogs, counted so quitting can let them end. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

void worker_job_release(struct worker_job *j)
{
	int last;

	pthread_mutex_lock(&j->lock);
	last = --j->refs == 0;
	pthread_mutex_unlock(&j->lock);
	if (!last)
		return;
	pthread_mutex_destroy(&j->lock);
	free(j->home);
	j->destroy(j);
}

static void worker_job_thread(void *arg)
{
	struct worker_job *j = arg;
	outbox *h = NULL;
	int rc;

	if ((rc = outbox_open(&h, j->home)) == 0)
		rc = j->run(h, j);
	pthread_mutex_lock(&j->lock);
	j->rc = rc;
	snprintf(j->errmsg, sizeof j->errmsg, "%s", h ? outbox_errmsg(h) : "out of memory");
	j->done = 1;
	j->changes++;
	pthread_mutex_unlock(&j->lock);
	outbox_close(h);
	worker_job_release(j);
}

int worker_job_start(struct tui *t, struct worker_job *j)
{
	j->refs = 2; /* the dialog's and the worker's */
	j->home = strdup(outbox_home(t->h));
	if (j->home == NULL || pthread_mutex_init(&j->lock, NULL) != 0) {
		free(j->home);
		j->destroy(j);
		return -1;
	}
	if (worker_spawn(worker_job_thread, j) != 0) {
		j->refs = 1;
		worker_job_release(j);
		return -1;
	}
	return 0;
}
