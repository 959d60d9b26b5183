/* queue_worker.c: one worker of the outbox runner: it carries its messages over connections it
 * keeps open, tries each message's servers in order, and records every recipient's outcome. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "deliver_internal.h"
#include "handle_internal.h"
#include "queue_run_internal.h"
#include "secret.h"
#include "session.h"
#include "store.h"

/* Outcomes are made durable at least this often. Between two syncs a crash of the process loses
 * nothing (the commits are in the kernel's cache), and a crash of the machine can only lose the
 * record that these messages were sent: they are then sent again, never lost. */
#define WORKER_SYNC_EVERY 64

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
	struct buf wal = BUF_INIT;
	int fd = -1, synced = 0;
	size_t i;

	if (w->unsynced == 0 && w->ndone == 0)
		return;
	/* fdatasync on any descriptor of the WAL writes out every frame committed so far, by this
	 * connection or any other; checkpointed frames were synced by the checkpoint itself. */
	if (buf_printf(&wal, "%s/outbox.db-wal", outbox_home(w->h)) == 0 &&
	    (fd = open(wal.data, O_RDONLY | O_CLOEXEC)) >= 0)
		synced = fdatasync(fd) == 0;
	if (fd >= 0)
		close(fd);
	buf_free(&wal);
	w->unsynced = 0;
	/* Without a sync the files stay: a done row's file is an orphan the next sweep removes. */
	for (i = 0; synced && i < w->ndone; i++)
		spool_discard(w->h, &w->sp, w->done[i]);
	w->ndone = 0;
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

/* What one message's attempt found out, filled as the servers are tried. */
struct worker_attempt {
	struct queue_rcpt_result *res;
	char (*replies)[SMTP_REPLY_MAX_TEXT + 32];
	struct smtp_rcpt *rcpt;
	char why[700];
	const char *carrier;
	int uncertain, done, marked;
};

/* Try the job's servers in order until one takes the transaction to its end. */
static void worker_try_chain(struct run_worker *w, const struct run_job *job, int fd, struct worker_attempt *a)
{
	const struct queue_item *it = job->it;
	struct smtp_txn t;
	size_t i, k;

	for (k = 0; job->chain && job->chain[k] && !a->done; k++) {
		struct run_conn *c = worker_connect(w, job->chain[k]);
		if (c == NULL || c->down) {
			snprintf(a->why, sizeof a->why, "%s: %s", job->chain[k], c ? c->why : "too many servers in one run");
			continue;
		}
		/* From here the server may get the data: if this process dies before the outcome
		 * is recorded, the next claim knows the message may have been delivered. */
		if (!a->marked) {
			if (queue_mark_sending(w->h, it->id, w->sh->owner) < 0) {
				snprintf(a->why, sizeof a->why, "%s", outbox_errmsg(w->h));
				return; /* removed meanwhile, or the claim was lost: not ours to send */
			}
			a->marked = 1;
		}
		memset(&t, 0, sizeof t);
		t.from = it->sender;
		t.rcpt = a->rcpt;
		t.nrcpt = it->nrcpts;
		t.size = it->size;
		t.body_8bit = it->body_8bit;
		t.smtputf8 = it->smtputf8;
		t.envid = it->message_id;
		if (lseek(fd, 0, SEEK_SET) != 0 || session_send(w->h, c->session, &t, fd) < 0) {
			snprintf(a->why, sizeof a->why, "%s: %s", job->chain[k], outbox_errmsg(w->h));
			snprintf(c->why, sizeof c->why, "%s", outbox_errmsg(w->h));
			c->down = 1;
			worker_conn_close(w, c);
			/* After the data went out a retry elsewhere could duplicate it: wait. */
			if (smtp_txn_uncertain(&t)) {
				a->uncertain = 1;
				a->carrier = c->name;
				return;
			}
			continue;
		}
		if (t.outcome && worker_server_unavailable(&t)) {
			deliver_reply_text(&t.mail_reply, a->replies[0], sizeof a->replies[0]);
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

/* Record the attempt and count it. */
static void worker_finish(struct run_worker *w, const struct run_job *job, struct worker_attempt *a)
{
	const struct queue_item *it = job->it;
	enum queue_state state = QUEUE_QUEUED;
	outbox_history_entry hist;
	struct queue_result qr;
	struct buf to = BUF_INIT;
	size_t i, refused = 0, delivered = 0;

	if (!a->done)
		for (i = 0; i < it->nrcpts; i++)
			a->res[i].reply = a->why;
	for (i = 0; a->done && i < it->nrcpts; i++) {
		refused += a->res[i].state == QUEUE_RCPT_REFUSED;
		delivered += a->res[i].state == QUEUE_RCPT_DELIVERED;
	}
	memset(&qr, 0, sizeof qr);
	qr.id = it->id;
	qr.owner = w->sh->owner;
	qr.server = a->carrier;
	qr.outcome = a->done ? "attempted" : a->uncertain ? "uncertain" : "deferred";
	qr.reply = a->done ? (it->nrcpts ? a->res[0].reply : "") : a->why;
	qr.rcpts = a->res;
	qr.nrcpts = it->nrcpts;
	qr.uncertain = a->uncertain;
	qr.policy = &job->policy;
	worker_history(it, a->carrier, qr.reply, &to, &hist);
	qr.history = &hist;
	if (queue_finish(w->h, &qr, &state) == 0) {
		w->unsynced++;
		if (state == QUEUE_DONE)
			worker_remember_done(w, it->spool_name);
		pthread_mutex_lock(&w->sh->lock);
		w->sh->stats.refused += refused;
		/* Done with nobody delivered to now (every recipient refused) is not "sent". */
		if (state == QUEUE_DONE)
			w->sh->stats.delivered += delivered > 0;
		else if (state == QUEUE_FAILED)
			w->sh->stats.failed++;
		else
			w->sh->stats.deferred++;
		if (w->sh->o && w->sh->o->progress)
			w->sh->o->progress(w->sh->o->ctx, &w->sh->stats);
		pthread_mutex_unlock(&w->sh->lock);
	}
	buf_free(&to);
	if (w->unsynced >= WORKER_SYNC_EVERY)
		worker_sync(w);
}

/* Try one claimed message through its chain of servers and record the outcome. */
static void worker_message(struct run_worker *w, const struct run_job *job)
{
	const struct queue_item *it = job->it;
	size_t n = it->nrcpts ? it->nrcpts : 1, i;
	struct worker_attempt a;
	int fd = -1;

	memset(&a, 0, sizeof a);
	a.carrier = "";
	a.res = calloc(n, sizeof *a.res);
	a.replies = calloc(n, sizeof *a.replies);
	a.rcpt = calloc(n, sizeof *a.rcpt);
	if (!a.res || !a.replies || !a.rcpt)
		goto out;
	for (i = 0; i < it->nrcpts; i++) {
		a.res[i].address = it->rcpts[i].address;
		a.res[i].state = QUEUE_RCPT_PENDING;
		a.res[i].reply = "";
		a.rcpt[i].address = it->rcpts[i].address;
	}
	snprintf(a.why, sizeof a.why, "%s", job->why);
	if (spool_open_message(w->h, &w->sp, it->spool_name, &fd) < 0)
		snprintf(a.why, sizeof a.why, "%s", outbox_errmsg(w->h));
	else
		worker_try_chain(w, job, fd, &a);
	worker_finish(w, job, &a);
out:
	if (fd >= 0)
		close(fd);
	free(a.res);
	free(a.replies);
	free(a.rcpt);
}

void worker_run_jobs(struct run_worker *w)
{
	size_t i;

	for (i = 0; i < w->njobs; i++)
		worker_message(w, w->jobs[i]);
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
