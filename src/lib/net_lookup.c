/* net_lookup.c: runs getaddrinfo in a detached thread and waits for it only until the caller's
 * deadline; whichever of the two is last to let go of the lookup frees it. */
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net_lookup.h"

struct lookup {
	pthread_mutex_t lock;
	pthread_cond_t finished;
	int done, abandoned, rc;
	struct addrinfo hints, *res;
	char *name, *service;
};

static void lookup_free(struct lookup *l)
{
	if (l->res)
		freeaddrinfo(l->res);
	free(l->name);
	free(l->service);
	pthread_cond_destroy(&l->finished);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

static void *lookup_main(void *arg)
{
	struct lookup *l = arg;
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(l->name, l->service, &l->hints, &res), abandoned;

	pthread_mutex_lock(&l->lock);
	l->rc = rc;
	l->res = res;
	l->done = 1;
	abandoned = l->abandoned;
	pthread_cond_signal(&l->finished);
	pthread_mutex_unlock(&l->lock);
	/* The caller gave up: nobody else will free it. Otherwise the caller frees it. */
	if (abandoned)
		lookup_free(l);
	return NULL;
}

static struct lookup *lookup_new(const char *name, const char *service, const struct addrinfo *hints)
{
	struct lookup *l = calloc(1, sizeof *l);
	pthread_condattr_t ca;

	if (l == NULL)
		return NULL;
	l->hints = *hints;
	l->name = strdup(name);
	l->service = strdup(service);
	pthread_mutex_init(&l->lock, NULL);
	/* The deadline is on the monotonic clock; so is the wait, so a clock change cannot stretch it. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->finished, &ca);
	pthread_condattr_destroy(&ca);
	if (l->name == NULL || l->service == NULL) {
		lookup_free(l);
		return NULL;
	}
	return l;
}

int net_lookup(const char *name, const char *service, const struct addrinfo *hints, long long deadline_ms,
	       struct addrinfo **res, int *timed_out)
{
	struct lookup *l = lookup_new(name, service, hints);
	pthread_attr_t attr;
	pthread_t thread;
	struct timespec until = {deadline_ms / 1000, (deadline_ms % 1000) * 1000000};
	int started, rc;

	*res = NULL;
	*timed_out = 0;
	if (l == NULL)
		return EAI_MEMORY;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	started = pthread_create(&thread, &attr, lookup_main, l) == 0;
	pthread_attr_destroy(&attr);
	if (!started) {
		/* No thread to spare: look up here, without the deadline, rather than not at all. */
		lookup_free(l);
		return getaddrinfo(name, service, hints, res);
	}
	pthread_mutex_lock(&l->lock);
	/* 0 is a wakeup (perhaps spurious); anything else, the deadline above all, ends the wait. */
	while (!l->done && pthread_cond_timedwait(&l->finished, &l->lock, &until) == 0)
		;
	if (!l->done) {
		l->abandoned = 1;
		pthread_mutex_unlock(&l->lock);
		*timed_out = 1;
		return EAI_AGAIN;
	}
	pthread_mutex_unlock(&l->lock);
	rc = l->rc;
	*res = l->res;
	l->res = NULL;
	lookup_free(l);
	return rc;
}
