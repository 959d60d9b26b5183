/* queue_run.c: the outbox runner: claim what is due, work out each message's route, and spread the
 * messages over up to N workers by server, each server's messages over one reused connection. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account_internal.h"
#include "handle_internal.h"
#include "queue_recorder.h"
#include "queue_run_internal.h"
#include "server_internal.h"
#include "store.h"

/* Messages claimed at once: the first batch is small, so the first messages leave soon and a
 * second runner gets a share; while batches come back full they double up to the largest. A batch
 * ends by waiting for its last group's outcomes to be recorded, so a batch of many groups keeps
 * that work behind the sending; each group renews its claims as it is marked, so a long batch
 * does not outlive them. */
#define RUN_CLAIM_FIRST 64
#define RUN_CLAIM_MOST 512
#define RUN_DEFAULT_CONNECTIONS 4
#define RUN_MAX_CONNECTIONS 16

/* Which worker a server's messages go to, kept for the whole run so that a server's connection
 * stays with one worker from one batch to the next. */
struct run_route {
	char server[128];
	size_t worker;
};

/* Accounts as the run first read them: one read per account, not per message (each read outside
 * a transaction costs the locks of one). A change made while the run goes on counts next run. */
#define RUN_ACCOUNT_CACHE 64
struct run_account {
	char *address;
	outbox_account *account; /* NULL: there is no such account */
};

struct run {
	outbox *h;
	struct run_account accounts[RUN_ACCOUNT_CACHE];
	size_t naccounts;
	struct run_shared sh;
	struct run_worker workers[RUN_MAX_CONNECTIONS];
	size_t nworkers, started;
	struct run_route routes[RUN_MAX_SERVERS * 2];
	size_t nroutes;
	size_t batch; /* how many the next claim asks for */
};

/* The account `address`, read once per run; NULL when there is none. */
static const outbox_account *run_account(struct run *r, const char *address)
{
	struct run_account *c;
	outbox_account *a = NULL;
	size_t i;

	for (i = 0; i < r->naccounts; i++)
		if (strcmp(r->accounts[i].address, address) == 0)
			return r->accounts[i].account;
	if (outbox_account_load(r->h, address, &a) < 0)
		a = NULL;
	if (r->naccounts == RUN_ACCOUNT_CACHE) {
		/* Full: the oldest entry makes room. */
		free(r->accounts[0].address);
		outbox_account_free(r->accounts[0].account);
		memmove(r->accounts, r->accounts + 1, (RUN_ACCOUNT_CACHE - 1) * sizeof r->accounts[0]);
		r->naccounts--;
	}
	c = &r->accounts[r->naccounts];
	if ((c->address = strdup(address)) == NULL) {
		outbox_account_free(a);
		return NULL;
	}
	c->account = a;
	r->naccounts++;
	return a;
}

/* The servers to try for a message, in order (its own server, or its account's and then its
 * fallbacks: account_server_chain), and the account's retry schedule. */
static int run_route_job(struct run *r, struct run_job *job)
{
	const struct queue_item *it = job->it;
	const outbox_account *a = run_account(r, it->account);

	account_retry_policy(a, &job->policy);
	if (a == NULL && !(it->server && *it->server)) {
		snprintf(job->why, sizeof job->why, "the account %s no longer exists: add it again, or remove "
			 "the message (outbox queue remove %lld)", it->account, it->id);
		return 0;
	}
	return account_server_chain(r->h, a, it->server, &job->chain);
}

/* The worker for a message's first server: the one that had it before, else the least busy. */
static struct run_worker *run_pick_worker(struct run *r, const char *server)
{
	size_t i, best = 0;

	for (i = 0; i < r->nroutes; i++)
		if (strcmp(r->routes[i].server, server) == 0)
			return &r->workers[r->routes[i].worker];
	for (i = 1; i < r->started; i++)
		if (r->workers[i].njobs < r->workers[best].njobs)
			best = i;
	/* An idle worker not started yet beats sharing one; starting it needs a handle of its own. */
	if (r->started < r->nworkers && r->workers[best].njobs > 0) {
		struct outbox_error_copy saved;
		outbox_error_save(r->h, &saved);
		if (worker_start(&r->workers[r->started], &r->sh, NULL, outbox_home(r->h)) == 0)
			best = r->started++;
		else
			worker_stop(&r->workers[r->started]);
		outbox_error_restore(r->h, &saved);
	}
	if (r->nroutes < sizeof r->routes / sizeof r->routes[0]) {
		snprintf(r->routes[r->nroutes].server, sizeof r->routes[0].server, "%s", server);
		r->routes[r->nroutes++].worker = best;
	}
	return &r->workers[best];
}

static int run_give_job(struct run *r, struct run_worker *w, struct run_job *job)
{
	if (w->njobs == w->jobs_cap) {
		size_t cap = w->jobs_cap ? 2 * w->jobs_cap : 16;
		struct run_job **grown = realloc(w->jobs, cap * sizeof *grown);
		if (grown == NULL)
			return queue_oom(r->h);
		w->jobs = grown;
		w->jobs_cap = cap;
	}
	w->jobs[w->njobs++] = job;
	return 0;
}

static void *run_worker_thread(void *arg)
{
	worker_run_jobs(arg);
	return NULL;
}

/* Run every worker's jobs at once: the others in threads, worker 0 in this one. A worker whose
 * thread cannot start runs here after worker 0, so no job is dropped. */
static void run_round(struct run *r)
{
	pthread_t threads[RUN_MAX_CONNECTIONS];
	int running[RUN_MAX_CONNECTIONS] = {0};
	size_t i;

	for (i = 1; i < r->started; i++)
		if (r->workers[i].njobs > 0)
			running[i] = pthread_create(&threads[i], NULL, run_worker_thread, &r->workers[i]) == 0;
	worker_run_jobs(&r->workers[0]);
	for (i = 1; i < r->started; i++) {
		if (running[i])
			pthread_join(threads[i], NULL);
		else if (r->workers[i].njobs > 0)
			worker_run_jobs(&r->workers[i]);
	}
}

void run_failed(struct run_shared *sh, int code, const char *why)
{
	pthread_mutex_lock(&sh->lock);
	if (!sh->failed) {
		sh->failed = code < 0 ? code : OUTBOX_ESTORE;
		snprintf(sh->failure, sizeof sh->failure, "%s", why && *why ? why : "the store failed");
	}
	pthread_mutex_unlock(&sh->lock);
}

int run_stopping(struct run_shared *sh)
{
	int failed;

	pthread_mutex_lock(&sh->lock);
	failed = sh->failed;
	pthread_mutex_unlock(&sh->lock);
	return failed != 0;
}

/* The run stopped on the store's failure: say why, and what becomes of what it sent. */
static int run_report_failure(struct run *r)
{
	struct run_shared *sh = &r->sh;

	if (sh->unrecorded == 0)
		return outbox_fail(r->h, sh->failed, NULL, "%s; the run stopped, and nothing it sent is lost or "
				   "sent twice", sh->failure);
	return outbox_fail(r->h, sh->failed, NULL,
			   "%s; the run stopped: %zu message%s sent meanwhile could not be recorded, and the "
			   "next run sends %s again, marked \"may have been delivered\"", sh->failure, sh->unrecorded,
			   sh->unrecorded == 1 ? "" : "s", sh->unrecorded == 1 ? "it" : "them");
}

/* The messages one claim gave, with their routes. Outcomes point into it until the recorder has
 * done everything handed to it by the time the batch was sent (its ticket). */
struct run_batch {
	struct queue_item **items;
	struct run_job *jobs;
	size_t n;
	unsigned long long recorded_by;
};

static int run_claim(struct run *r, size_t want, struct run_batch *b)
{
	memset(b, 0, sizeof *b);
	return run_claim_with(r->h, &r->sh, want, &b->items, &b->n);
}

/* Route each message of the batch and give it to the worker of its first server. */
static int run_route_batch(struct run *r, struct run_batch *b)
{
	size_t i;
	int rc = 0;

	if ((b->jobs = calloc(b->n, sizeof *b->jobs)) == NULL)
		return queue_oom(r->h);
	for (i = 0; rc == 0 && i < b->n; i++) {
		b->jobs[i].it = b->items[i];
		if ((rc = run_route_job(r, &b->jobs[i])) == 0)
			rc = run_give_job(r, run_pick_worker(r, b->jobs[i].chain ? b->jobs[i].chain[0] : ""),
					  &b->jobs[i]);
	}
	return rc;
}

/* Free a batch once the outcomes that point into it are recorded. */
static void run_batch_free(struct run *r, struct run_batch *b)
{
	size_t i;

	recorder_wait(r->sh.recorder, b->recorded_by);
	for (i = 0; b->jobs && i < b->n; i++)
		strv_free(b->jobs[i].chain);
	free(b->jobs);
	queue_items_free(b->items, b->n);
	memset(b, 0, sizeof *b);
}

/* Claim, route and deliver batches until a claim made after the last one sent finds nothing
 * due. While a full batch is sent, the next is claimed in the recorder's thread. *sent_any says
 * whether any message was claimed. */
static int run_batches(struct run *r, int *sent_any)
{
	struct run_batch sent, cur;
	struct run_ahead ahead;
	size_t i;
	int rc, taken;

	memset(&sent, 0, sizeof sent);
	memset(&ahead, 0, sizeof ahead);
	rc = run_claim(r, r->batch, &cur);
	while (rc == 0 && cur.n > 0 && !run_stopping(&r->sh)) {
		*sent_any = 1;
		if (cur.n == r->batch) {
			if (r->batch < RUN_CLAIM_MOST)
				r->batch *= 2;
			run_ahead_ask(&r->sh, r->batch, &ahead);
		}
		/* On a failure before the round, the claims simply expire: nothing was sent. */
		if ((rc = run_route_batch(r, &cur)) == 0)
			run_round(r);
		run_ahead_late(&r->sh, rc == 0);
		for (i = 0; i < r->started; i++)
			r->workers[i].njobs = 0;
		cur.recorded_by = recorder_ticket(r->sh.recorder);
		run_batch_free(r, &sent);
		sent = cur;
		memset(&cur, 0, sizeof cur);
		if ((taken = run_ahead_take(&r->sh, &ahead, &cur.items, &cur.n)) < 0 && rc == 0)
			rc = outbox_fail(r->h, taken, NULL, "%s", ahead.why);
		if (rc == 0 && cur.n == 0 && !run_stopping(&r->sh))
			rc = run_claim(r, r->batch, &cur);
	}
	recorder_drain(r->sh.recorder);
	run_batch_free(r, &sent);
	run_batch_free(r, &cur);
	return rc;
}

/* Young files whose rows say done: an earlier run left them for this one (janitor_stop). They go
 * to the janitor, so they are deleted while this run sends. */
static void run_hand_leftovers(struct run *r, char *const *young)
{
	char **done = NULL, (*names)[33] = NULL;
	size_t n = 0;

	if (young == NULL || queue_spool_names_done(r->h, young, &done) < 0 || done == NULL)
		return;
	while (done[n])
		n++;
	if ((names = calloc(n, sizeof *names)) != NULL) {
		for (size_t i = 0; i < n; i++)
			snprintf(names[i], sizeof names[i], "%s", done[i]);
		janitor_sync_and_remove(r->sh.janitor, (const char(*)[33])names, n);
	}
	free(names);
	strv_free(done);
}

/* Files a crashed send linked but never recorded: after an hour nobody is about to record them.
 * Younger ones are a delivered message's, left by the run before, or a send's about to be. */
static void run_remove_orphans(struct run *r)
{
	char **keep = NULL, **young = NULL;
	struct outbox_error_copy saved;

	outbox_error_save(r->h, &saved);
	if (queue_spool_names(r->h, &keep) == 0 &&
	    spool_remove_orphans(r->h, &r->workers[0].sp, keep, 3600, &young) == 0)
		run_hand_leftovers(r, young);
	strv_free(keep);
	strv_free(young);
	outbox_error_restore(r->h, &saved);
}

/* A run for one message needs one to send: a message given up, sent or removed is not sent by
 * a run, and saying so beats a run that quietly sends nothing. */
static int run_check_id(outbox *h, long long id)
{
	struct queue_item *it = NULL;
	enum queue_state state;
	int rc;

	if ((rc = queue_get(h, id, &it)) < 0)
		return rc;
	state = it->state;
	queue_item_free(it);
	if (state == QUEUE_FAILED)
		return outbox_fail(h, OUTBOX_ENOTFOUND, "id", "message %lld was given up: outbox queue retry %lld "
				   "queues it again", id, id);
	if (state != QUEUE_QUEUED)
		return outbox_fail(h, OUTBOX_ENOTFOUND, "id", "message %lld is not in the outbox: it was %s", id,
				   state == QUEUE_DONE ? "sent" : "removed");
	return 0;
}

int outbox_queue_run(outbox *h, const outbox_queue_run_options *o, outbox_queue_stats *stats)
{
	struct run *r;
	size_t i;
	int rc, sent_any = 0;

	if (stats)
		memset(stats, 0, sizeof *stats);
	if (o && o->id > 0 && (rc = run_check_id(h, o->id)) < 0)
		return rc;
	if ((r = calloc(1, sizeof *r)) == NULL)
		return queue_oom(h);
	r->h = h;
	r->sh.o = o;
	r->sh.owner.dir = r->sh.owner.fd = -1;
	r->batch = RUN_CLAIM_FIRST;
	r->nworkers = o && o->connections > 0 ? (size_t)o->connections : RUN_DEFAULT_CONNECTIONS;
	if (r->nworkers > RUN_MAX_CONNECTIONS)
		r->nworkers = RUN_MAX_CONNECTIONS;
	pthread_mutex_init(&r->sh.lock, NULL);
	pthread_cond_init(&r->sh.marks_done, NULL);
	/* The lock is held from before the first claim until after the last outcome is recorded. */
	if ((rc = queue_owner_hold(h, &r->sh.owner)) < 0 || (rc = worker_start(&r->workers[0], &r->sh, h, NULL)) < 0)
		goto out;
	r->started = 1;
	if ((rc = janitor_start(h, &r->sh.janitor)) < 0 || (rc = recorder_start(h, r->sh.janitor, &r->sh.recorder)) < 0)
		goto out;
	/* Everything queued (or the one message asked for) is due now; one that fails again gets its
	 * next time from the schedule, so the run still ends. */
	if (o && (o->all || o->id > 0) && (rc = queue_due_now(h, o->server, o->id)) < 0)
		goto out;
	run_remove_orphans(r);
	rc = run_batches(r, &sent_any);
out:
	/* The recorder first: its last records hand the janitor the last sync and files. */
	recorder_stop(r->sh.recorder);
	if (r->sh.failed)
		rc = run_report_failure(r);
	for (i = 0; i < r->started || i == 0; i++)
		worker_stop(&r->workers[i]);
	/* A run that sent something ends with its last outcome synced, not with the deletions
	 * behind it; one that sent nothing has no reply to be late for, and clears what is left. */
	janitor_stop(r->sh.janitor, sent_any);
	queue_owner_drop(&r->sh.owner);
	pthread_mutex_destroy(&r->sh.lock);
	pthread_cond_destroy(&r->sh.marks_done);
	for (i = 0; i < r->naccounts; i++) {
		free(r->accounts[i].address);
		outbox_account_free(r->accounts[i].account);
	}
	if (stats)
		*stats = r->sh.stats;
	free(r);
	if (rc == 0)
		outbox_clear_error(h);
	return rc;
}
