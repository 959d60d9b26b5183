/* queue_worker.c: one worker of the outbox runner: it carries its messages over connections it
 * keeps open, tries each message's servers in order, and records every recipient's outcome. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "deliver_internal.h"
#include "handle_internal.h"
#include "net.h"
#include "queue_run_internal.h"
#include "secret.h"
#include "session.h"
#include "store.h"

/* Outcomes are made durable at least this often. Between two syncs a crash of the process loses
 * nothing (the commits are in the kernel's cache), and a crash of the machine can only lose the
 * record that these messages were sent: they are then sent again, never lost. */
#define WORKER_SYNC_EVERY 64
/* Messages sent between two commits, and how long a group may take before it is committed early;
 * see worker_group(). */
#define WORKER_GROUP 64
#define WORKER_GROUP_MS 50

int worker_start(struct run_worker *w, struct run_shared *sh, outbox *h, const char *home)
{
	int rc;

	memset(w, 0, sizeof *w);
	w->sh = sh;
	w->sp.dir_fd = w->sp.tmp_fd = -1;
	if (h) {
		w->h = h;
	} else {
		w->own_handle = 1;
		if ((rc = outbox_open(&w->h, home)) < 0)
			return rc;
	}
	if ((rc = spool_open_dir(w->h, &w->sp)) < 0)
		return rc;
	/* One fsync per message is what bounded the flush rate; worker_sync() restores durability
	 * for a group of outcomes at once. */
	return store_exec(w->h, "PRAGMA synchronous = NORMAL", "");
}

void worker_sync(struct run_worker *w)
{
	if (w->unsynced == 0 && w->ndone == 0)
		return;
	/* The janitor's thread waits for the disk, not this one. */
	janitor_sync_and_remove(w->sh->janitor, (const char(*)[33])w->done, w->ndone);
	w->unsynced = w->ndone = 0;
}

static void worker_remember_done(struct run_worker *w, const char *spool_name)
{
	if (w->ndone == w->done_cap) {
		size_t cap = w->done_cap ? 2 * w->done_cap : WORKER_SYNC_EVERY;
		char(*grown)[33] = realloc(w->done, cap * sizeof *grown);
		if (grown == NULL)
			return; /* the file stays as an orphan for the sweep: nothing is lost */
		w->done = grown;
		w->done_cap = cap;
	}
	snprintf(w->done[w->ndone++], 33, "%s", spool_name);
}

static void worker_conn_close(struct run_worker *w, struct run_conn *c)
{
	session_close(w->h, c->session);
	c->session = NULL;
}

/* Transcript lines from several workers at once must not interleave mid-line. */
static void worker_transcript(void *ctx, char direction, const char *line, size_t len)
{
	struct run_shared *sh = ctx;

	pthread_mutex_lock(&sh->lock);
	sh->o->transcript(sh->o->ctx, direction, line, len);
	pthread_mutex_unlock(&sh->lock);
}

/* The open connection to `name`, or NULL when the worker has too many servers already. */
static struct run_conn *worker_connect(struct run_worker *w, const char *name)
{
	struct session_params p;
	struct run_conn *c = NULL;
	size_t i;

	for (i = 0; i < w->nconns; i++)
		if (strcmp(w->conns[i].name, name) == 0)
			c = &w->conns[i];
	if (c == NULL) {
		if (w->nconns == RUN_MAX_SERVERS)
			return NULL;
		c = &w->conns[w->nconns++];
		memset(c, 0, sizeof *c);
		snprintf(c->name, sizeof c->name, "%s", name);
	}
	if (c->down || c->session)
		return c;
	if (c->server == NULL && (outbox_server_load(w->h, name, &c->server) < 0 ||
				  deliver_password(w->h, c->server, &c->password) < 0)) {
		c->down = 1;
		snprintf(c->why, sizeof c->why, "%s", outbox_errmsg(w->h));
		return c;
	}
	memset(&p, 0, sizeof p);
	p.server = c->server;
	p.password = c->password;
	if (w->sh->o && w->sh->o->transcript) {
		p.transcript = worker_transcript;
		p.transcript_ctx = w->sh;
	}
	if (session_open(w->h, &p, &c->session) < 0) {
		c->down = 1;
		snprintf(c->why, sizeof c->why, "%s", outbox_errmsg(w->h));
	}
	return c;
}

/* Whether the transaction's failure says "this server, not this message": try a fallback. */
static int worker_server_unavailable(const struct smtp_txn *t)
{
	return t->mail_reply.code && smtp_reply_class(&t->mail_reply) == 4;
}

/* The history line of an attempt; queue_finish records it with the outcome. */
static void worker_history(const struct queue_item *it, const char *server, const char *reply, struct buf *to,
			   outbox_history_entry *e)
{
	size_t i;

	for (i = 0; i < it->nrcpts; i++)
		buf_printf(to, "%s%s", i ? "," : "", it->rcpts[i].address);
	memset(e, 0, sizeof *e);
	e->account = it->account;
	e->server = server;
	e->sender = it->sender;
	e->recipients = to->data ? to->data : "";
	e->reply = reply;
	e->size = it->size;
	e->message_id = it->message_id;
}

/* What one message's attempt found out, filled as the servers are tried, kept until the group's
 * outcomes are committed. */
struct worker_attempt {
	struct queue_rcpt_result *res;
	char (*replies)[SMTP_REPLY_MAX_TEXT + 32];
	struct smtp_rcpt *rcpt;
	char why[700];
	const char *carrier;
	int uncertain, done;
	size_t delivered, refused;
	struct smtp_txn t; /* kept here, not on a stack frame: it may be begun behind the one before */
	struct queue_result qr;
	outbox_history_entry hist;
	struct buf to;
};

/* Try the job's servers in order until one takes the transaction to its end. When the next
 * message (`ahead`) starts on the same server, it is begun behind this one's data. */
static void worker_try_chain(struct run_worker *w, const struct run_job *job, int fd, struct worker_attempt *a,
			     const struct run_job *ahead_job, struct worker_attempt *ahead)
{
	const struct queue_item *it = job->it;
	struct smtp_txn *t = &a->t;
	size_t i, k;

	for (k = 0; job->chain && job->chain[k] && !a->done; k++) {
		struct run_conn *c = worker_connect(w, job->chain[k]);
		struct smtp_txn *next = NULL;
		if (c == NULL || c->down) {
			snprintf(a->why, sizeof a->why, "%s: %s", job->chain[k], c ? c->why : "too many servers in one run");
			continue;
		}
		if (ahead && ahead_job->chain && strcmp(ahead_job->chain[0], c->name) == 0)
			next = &ahead->t;
		if (lseek(fd, 0, SEEK_SET) != 0 || session_send_then(w->h, c->session, t, fd, next) < 0) {
			snprintf(a->why, sizeof a->why, "%s: %s", job->chain[k], outbox_errmsg(w->h));
			snprintf(c->why, sizeof c->why, "%s", outbox_errmsg(w->h));
			c->down = 1;
			worker_conn_close(w, c);
			/* After the data went out a retry elsewhere could duplicate it: wait. */
			if (smtp_txn_uncertain(t)) {
				a->uncertain = 1;
				a->carrier = c->name;
				return;
			}
			continue;
		}
		if (t->outcome && worker_server_unavailable(t)) {
			deliver_reply_text(&t->mail_reply, a->replies[0], sizeof a->replies[0]);
			snprintf(a->why, sizeof a->why, "%s: %s", job->chain[k], a->replies[0]);
			continue;
		}
		a->carrier = c->name;
		for (i = 0; i < it->nrcpts; i++) {
			deliver_reply_text(&a->rcpt[i].reply, a->replies[i], sizeof a->replies[i]);
			a->res[i].reply = a->replies[i];
			a->res[i].state = a->rcpt[i].state == SMTP_RCPT_DELIVERED ? QUEUE_RCPT_DELIVERED
					  : a->rcpt[i].state == SMTP_RCPT_REFUSED ? QUEUE_RCPT_REFUSED
										  : QUEUE_RCPT_PENDING;
		}
		a->done = 1;
	}
}

/* Ready an attempt's arrays; 0 or -1 when memory ran out (the message then waits for its lease). */
static int worker_attempt_init(struct worker_attempt *a, const struct run_job *job)
{
	const struct queue_item *it = job->it;
	size_t n = it->nrcpts ? it->nrcpts : 1, i;

	a->carrier = "";
	a->res = calloc(n, sizeof *a->res);
	a->replies = calloc(n, sizeof *a->replies);
	a->rcpt = calloc(n, sizeof *a->rcpt);
	if (!a->res || !a->replies || !a->rcpt)
		return -1;
	for (i = 0; i < it->nrcpts; i++) {
		a->res[i].address = it->rcpts[i].address;
		a->res[i].state = QUEUE_RCPT_PENDING;
		a->res[i].reply = "";
		a->rcpt[i].address = it->rcpts[i].address;
	}
	snprintf(a->why, sizeof a->why, "%s", job->why);
	a->t.from = it->sender;
	a->t.rcpt = a->rcpt;
	a->t.nrcpt = it->nrcpts;
	a->t.size = it->size;
	a->t.body_8bit = it->body_8bit;
	a->t.smtputf8 = it->smtputf8;
	a->t.envid = it->message_id;
	return 0;
}

static void worker_attempt_free(struct worker_attempt *a)
{
	free(a->res);
	free(a->replies);
	free(a->rcpt);
	buf_free(&a->to);
}

/* Send one message of the group (marked as being sent already). `begun` says the message may
 * have been begun behind the one before on its first server. */
static void worker_send(struct run_worker *w, const struct run_job *job, struct worker_attempt *a, int begun,
			const struct run_job *ahead_job, struct worker_attempt *ahead)
{
	int fd = -1;
	size_t i;

	if (spool_open_message(w->h, &w->sp, job->it->spool_name, &fd) < 0) {
		snprintf(a->why, sizeof a->why, "%s", outbox_errmsg(w->h));
		/* Its commands may be on the wire with no body to follow: that session cannot go on
		 * (nothing was delivered), so the next message gets a fresh one. */
		for (i = 0; begun && job->chain && i < w->nconns; i++)
			if (strcmp(w->conns[i].name, job->chain[0]) == 0)
				worker_conn_close(w, &w->conns[i]);
	} else
		worker_try_chain(w, job, fd, a, ahead_job, ahead);
	if (fd >= 0)
		close(fd);
}

/* The attempt as queue_finish records it. */
static void worker_result(struct run_worker *w, const struct run_job *job, struct worker_attempt *a)
{
	const struct queue_item *it = job->it;
	size_t i;

	if (!a->done)
		for (i = 0; i < it->nrcpts; i++)
			a->res[i].reply = a->why;
	for (i = 0; a->done && i < it->nrcpts; i++) {
		a->refused += a->res[i].state == QUEUE_RCPT_REFUSED;
		a->delivered += a->res[i].state == QUEUE_RCPT_DELIVERED;
	}
	memset(&a->qr, 0, sizeof a->qr);
	a->qr.id = it->id;
	a->qr.owner = w->sh->owner;
	a->qr.server = a->carrier;
	a->qr.outcome = a->done ? "attempted" : a->uncertain ? "uncertain" : "deferred";
	a->qr.reply = a->done ? (it->nrcpts ? a->res[0].reply : "") : a->why;
	a->qr.rcpts = a->res;
	a->qr.nrcpts = it->nrcpts;
	a->qr.uncertain = a->uncertain;
	a->qr.policy = &job->policy;
	worker_history(it, a->carrier, a->qr.reply, &a->to, &a->hist);
	a->qr.history = &a->hist;
}

/* Count the recorded outcomes, queue the delivered files for removal, report progress. */
static void worker_count(struct run_worker *w, struct run_job **jobs, struct worker_attempt *a, const int *rcs,
			 const enum queue_state *states, size_t n)
{
	size_t i;

	pthread_mutex_lock(&w->sh->lock);
	for (i = 0; i < n; i++) {
		if (rcs[i] < 0)
			continue;
		w->sh->stats.refused += a[i].refused;
		/* Done with nobody delivered to now (every recipient refused) is not "sent". */
		if (states[i] == QUEUE_DONE)
			w->sh->stats.delivered += a[i].delivered > 0;
		else if (states[i] == QUEUE_FAILED)
			w->sh->stats.failed++;
		else
			w->sh->stats.deferred++;
	}
	if (w->sh->o && w->sh->o->progress)
		w->sh->o->progress(w->sh->o->ctx, &w->sh->stats);
	pthread_mutex_unlock(&w->sh->lock);
	for (i = 0; i < n; i++)
		if (rcs[i] == 0 && states[i] == QUEUE_DONE)
			worker_remember_done(w, jobs[i]->it->spool_name);
}

/* A group of messages: marked as being sent in one transaction, sent one after another over the
 * worker's connections (each begun behind the one before when they share the server), their
 * outcomes recorded in one transaction. Should the process die in between, every message of the
 * group is reclaimed as "may have been delivered": a few false alarms are the price of two
 * commits per group instead of two per message. A slow server ends the group early, so the window
 * stays short in time too; the messages left are unmarked and start the next group. Returns how
 * many of the jobs it took. */
static size_t worker_group(struct run_worker *w, struct run_job **jobs, size_t n)
{
	struct worker_attempt a[WORKER_GROUP];
	const struct queue_result *results[WORKER_GROUP];
	enum queue_state states[WORKER_GROUP];
	long long ids[WORKER_GROUP], deadline = net_now_ms() + WORKER_GROUP_MS;
	int marked[WORKER_GROUP], rcs[WORKER_GROUP], offered[WORKER_GROUP + 1] = {0};
	size_t orig[WORKER_GROUP], i, m = 0, sent, taken = n;

	memset(a, 0, sizeof a);
	for (i = 0; i < n; i++)
		ids[i] = jobs[i]->it->id;
	if (queue_mark_sending_group(w->h, w->sh->owner, ids, n, marked) < 0)
		return n; /* the store is unwell: the claims expire and another run tries */
	/* The messages still ours (not removed meanwhile), ready to go. */
	for (i = 0; i < n; i++) {
		if (!marked[i])
			continue;
		if (worker_attempt_init(&a[m], jobs[i]) < 0) {
			worker_attempt_free(&a[m]);
			memset(&a[m], 0, sizeof a[m]);
			continue; /* out of memory: its claim expires and a later run sends it */
		}
		orig[m] = i;
		jobs[m++] = jobs[i];
	}
	for (sent = 0; sent < m; sent++) {
		/* A message begun behind the last one is on the wire: it must be carried through. */
		if (sent > 0 && !offered[sent] && net_now_ms() > deadline) {
			taken = orig[sent];
			break;
		}
		offered[sent + 1] = sent + 1 < m && net_now_ms() <= deadline;
		worker_send(w, jobs[sent], &a[sent], offered[sent], offered[sent + 1] ? jobs[sent + 1] : NULL,
			    offered[sent + 1] ? &a[sent + 1] : NULL);
		worker_result(w, jobs[sent], &a[sent]);
		results[sent] = &a[sent].qr;
	}
	if (sent > 0) {
		queue_finish_group(w->h, w->sh->owner, results, sent, rcs, states, ids + taken, n - taken);
		worker_count(w, jobs, a, rcs, states, sent);
		w->unsynced += sent;
	}
	for (i = 0; i < m; i++)
		worker_attempt_free(&a[i]);
	if (w->unsynced >= WORKER_SYNC_EVERY)
		worker_sync(w);
	return taken;
}

void worker_run_jobs(struct run_worker *w)
{
	size_t i, n;

	for (i = 0; i < w->njobs; i += worker_group(w, w->jobs + i, n))
		n = w->njobs - i < WORKER_GROUP ? w->njobs - i : WORKER_GROUP;
	w->njobs = 0;
}

void worker_stop(struct run_worker *w)
{
	size_t i;

	if (w->h == NULL)
		return;
	for (i = 0; i < w->nconns; i++) {
		worker_conn_close(w, &w->conns[i]);
		outbox_server_free(w->conns[i].server);
		secret_wipe(w->conns[i].password);
	}
	worker_sync(w);
	store_exec(w->h, "PRAGMA synchronous = FULL", "");
	spool_close_dir(&w->sp);
	free(w->done);
	free(w->jobs);
	if (w->own_handle)
		outbox_close(w->h);
	w->h = NULL;
}
