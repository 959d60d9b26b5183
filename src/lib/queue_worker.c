/* queue_worker.c: one worker of the outbox runner: it carries its messages over connections it
 * keeps open, tries each message's servers in order, and records every recipient's outcome. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "deliver_internal.h"
#include "handle_internal.h"
#include "net.h"
#include "oauth_token.h"
#include "queue_recorder.h"
#include "queue_run_internal.h"
#include "secret.h"
#include "transcript.h"
#include "session.h"
#include "store.h"

/* Messages sent between two commits, and how long a group may take before it is committed early;
 * see worker_run_jobs(). */
#define WORKER_GROUP RECORDER_GROUP_MAX
#define WORKER_GROUP_MS 50

/* A group's mark made ahead, in the recorder's thread, while the group before it is sent: the
 * sending thread's own mark waited for the recorder's write lock, 15-20 ms of a 2,000-message
 * run, the recorder being often off the CPU while it held it. In the recorder's turn there is
 * no lock to wait for, and the result is there long before the group is. */
struct worker_premark {
	const char *owner;
	size_t first, n; /* the jobs it marks: w->jobs[first], and the n after it */
	long long ids[WORKER_GROUP];
	int marked[WORKER_GROUP];
	int rc;
	unsigned long long ticket; /* the recorder's; 0 while none is asked for */
};

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
	/* Without one (out of memory), every group is marked in the worker's own time. */
	w->premark = calloc(1, sizeof *w->premark);
	/* The marks commit without waiting for the disk, as the recorder's outcomes do; the
	 * janitor's sync after each group makes both durable. */
	return store_exec(w->h, "PRAGMA synchronous = NORMAL", "");
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
	transcript_show(sh->o->transcript, sh->o->ctx, direction, line, len);
	pthread_mutex_unlock(&sh->lock);
}

/* The server failed with `code` (the handle says why): later messages of this run skip it, and the
 * user hears of it once, loudly, since its messages now go to fallback servers or wait. */
static void worker_conn_down(struct run_worker *w, struct run_conn *c, int code)
{
	const outbox_queue_run_options *o = w->sh->o;

	c->down = code;
	snprintf(c->why, sizeof c->why, "%s", outbox_errmsg(w->h));
	worker_conn_close(w, c);
	if (o && o->notice) {
		char words[sizeof c->name + sizeof c->why + 128];
		snprintf(words, sizeof words, "server \"%s\" failed (%s); its messages go to their accounts' "
			 "fallback servers, or wait in the outbox", c->name, c->why);
		pthread_mutex_lock(&w->sh->lock);
		o->notice(o->ctx, words);
		pthread_mutex_unlock(&w->sh->lock);
	}
}

/* The open connection to `name`, or NULL when the worker has too many servers already. */
static struct run_conn *worker_connect(struct run_worker *w, const char *name)
{
	struct session_params p;
	struct run_conn *c = NULL;
	size_t i;
	int rc, refreshed = 0;
	/* A refresh's HTTP exchange shows in `-v` with the conversations. */
	struct transcript verbose = {w->sh->o && w->sh->o->transcript ? worker_transcript : NULL, w->sh};

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
	if (c->server == NULL && ((rc = outbox_server_load(w->h, name, &c->server)) < 0 ||
				  (rc = deliver_password(w->h, c->server, verbose, &c->password, &refreshed)) < 0)) {
		worker_conn_down(w, c, rc);
		return c;
	}
	memset(&p, 0, sizeof p);
	p.server = c->server;
	p.password = c->password;
	p.remember_helo = 1;
	if (w->sh->o && w->sh->o->transcript) {
		p.transcript = worker_transcript;
		p.transcript_ctx = w->sh;
	}
	rc = session_open(w->h, &p, &c->session);
	/* As sending does: a refused stored token gets one forced refresh and one more login. */
	if (oauth_token_retry_refused(c->server, rc, refreshed)) {
		char *fresh = NULL;
		if ((rc = oauth_token_access(w->h, c->server, 1, verbose, &fresh, NULL)) == 0) {
			secret_wipe(c->password);
			c->password = fresh;
			p.password = fresh;
			rc = session_open(w->h, &p, &c->session);
		}
	}
	if (rc < 0)
		worker_conn_down(w, c, rc);
	return c;
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
	struct queue_rcpt_result *res;              /* each pending recipient's outcome, for the store */
	char (*replies)[SMTP_REPLY_MAX_TEXT + 32];  /* the words res[i].reply points at */
	struct smtp_rcpt *rcpt;                     /* the transaction's recipients */
	size_t *open;                               /* which res each of them is */
	struct policy_rcpt *judged;                 /* one attempt's, in the transaction's order */
	struct policy_route route;
	char why[700];
	const char *carrier;
	int answered; /* the last server tried ran the transaction to its end */
	size_t delivered, refused;
	/* Why its spool file must not be read (spool_judge), "" while nothing says so: it is then
	 * quarantined, never sent, and never begun behind another message. */
	char quarantine[700];
	struct smtp_txn t; /* kept here, not on a stack frame: it may be begun behind the one before */
	struct queue_result qr;
	outbox_history_entry hist;
	struct buf to;
};

/* The transaction for the recipients the last server left open, with no replies yet (only
 * deferred ones: the policy moves on only when nothing may have been delivered). The first
 * server's transaction is left as it is: it may be under way already, begun behind the message
 * before. */
static void worker_reopen(struct worker_attempt *a, size_t nres)
{
	size_t i;

	a->t.nrcpt = 0;
	for (i = 0; i < nres; i++)
		if (a->res[i].state == QUEUE_RCPT_PENDING) {
			memset(&a->rcpt[a->t.nrcpt], 0, sizeof a->rcpt[0]);
			a->rcpt[a->t.nrcpt].address = a->res[i].address;
			a->open[a->t.nrcpt++] = i;
		}
	memset(&a->t.mail_reply, 0, sizeof a->t.mail_reply);
	memset(&a->t.data_reply, 0, sizeof a->t.data_reply);
	a->t.data_sent = a->t.unsuitable = 0;
}

/* Copy an attempt's outcomes to the recipients it carried, in words the server or the failure
 * gives, as the policy names them. */
static void worker_apply(struct worker_attempt *a, const struct policy_rcpt *v, const char *why)
{
	static const enum queue_rcpt_state states[] = {
		[POLICY_DELIVERED] = QUEUE_RCPT_DELIVERED,
		[POLICY_REFUSED] = QUEUE_RCPT_REFUSED,
		[POLICY_DEFERRED] = QUEUE_RCPT_PENDING,
		[POLICY_UNCERTAIN] = QUEUE_RCPT_PENDING,
	};
	const struct smtp_txn *t = &a->t;
	size_t i;

	for (i = 0; i < t->nrcpt; i++) {
		size_t r = a->open[i];
		char *words = a->replies[r];
		a->res[r].state = states[v[i].outcome];
		a->res[r].reply = words;
		policy_reason_words(t, i, &v[i], why, words, sizeof a->replies[0]);
	}
}

/* Try the job's servers in order, as the policy says: the next one takes over only when this one
 * failed and nothing may have been delivered. When the next message (`ahead`) starts on the same
 * server, it is begun behind this one's data. The reply keeps each failed server's words in the
 * order tried ("main: ...; backup: ..."), as `send` gives them: the last one alone would hide why
 * the account's own server failed. */
static void worker_try_chain(struct run_worker *w, const struct run_job *job, int fd, struct worker_attempt *a,
			     const struct run_job *ahead_job, struct worker_attempt *ahead)
{
	struct policy_attempt pa;
	struct buf tried = BUF_INIT;
	size_t k;

	for (k = 0; job->chain && job->chain[k]; k++) {
		struct run_conn *c = worker_connect(w, job->chain[k]);
		struct smtp_txn *next = NULL;
		int failure = 0, said = 1;

		if (k > 0)
			worker_reopen(a, job->it->nrcpts);
		if (c == NULL || c->down) {
			/* Not tried here: a transaction begun on its dead session left nothing to read. */
			if (k == 0)
				worker_reopen(a, job->it->nrcpts);
			failure = c ? c->down : OUTBOX_ETEMPFAIL;
			snprintf(a->why, sizeof a->why, "%s: %s", job->chain[k], c ? c->why : "too many servers in one run");
		} else if (lseek(fd, 0, SEEK_SET) != 0) {
			failure = outbox_fail(w->h, OUTBOX_EIO, NULL, "cannot read the message again: %s", strerror(errno));
			snprintf(a->why, sizeof a->why, "%s", outbox_errmsg(w->h));
		} else {
			if (ahead && !ahead->quarantine[0] && ahead_job->chain && strcmp(ahead_job->chain[0], c->name) == 0)
				next = &ahead->t;
			if ((failure = session_send_then(w->h, c->session, &a->t, fd, next)) < 0)
				snprintf(a->why, sizeof a->why, "%s: %s", job->chain[k], outbox_errmsg(w->h));
			said = failure < 0;
			a->carrier = c->name;
		}
		if (said) {
			buf_printf(&tried, "%s%s", tried.len ? "; " : "", a->why);
			if (k > 0 && tried.data)
				snprintf(a->why, sizeof a->why, "%s", tried.data);
		}
		a->answered = failure == 0;
		policy_judge(&a->t, failure, a->judged, &pa);
		worker_apply(a, a->judged, a->why);
		/* A session that failed is over. The server's failure also keeps later messages away
		 * from it; a message it cannot take (too big) leaves it as it was. */
		if (c && !c->down && c->session && failure < 0 && !a->t.unsuitable) {
			if (pa.server_failed)
				worker_conn_down(w, c, failure);
			else
				worker_conn_close(w, c);
		}
		if (policy_after_attempt(&a->route, &pa, job->chain[k + 1] != NULL) != POLICY_NEXT_SERVER)
			break;
	}
	buf_free(&tried);
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
	a->open = calloc(n, sizeof *a->open);
	a->judged = calloc(n, sizeof *a->judged);
	if (!a->res || !a->replies || !a->rcpt || !a->open || !a->judged)
		return -1;
	for (i = 0; i < it->nrcpts; i++) {
		a->res[i].address = it->rcpts[i].address;
		a->res[i].state = QUEUE_RCPT_PENDING;
		a->res[i].reply = a->replies[i];
		a->rcpt[i].address = it->rcpts[i].address;
		a->open[i] = i;
		snprintf(a->replies[i], sizeof a->replies[0], "%s", job->why);
	}
	snprintf(a->why, sizeof a->why, "%s", job->why);
	a->t.from = it->sender;
	a->t.rcpt = a->rcpt;
	a->t.nrcpt = it->nrcpts;
	a->t.size = it->size;
	a->t.body_8bit = it->body_8bit;
	a->t.smtputf8 = it->smtputf8;
	a->t.envid = *it->dsn.envid ? it->dsn.envid : it->message_id;
	a->t.dsn_notify = it->dsn.notify;
	a->t.dsn_ret = it->dsn.ret;
	return 0;
}

static void worker_attempt_free(struct worker_attempt *a)
{
	free(a->res);
	free(a->replies);
	free(a->rcpt);
	free(a->open);
	free(a->judged);
	buf_free(&a->to);
}

/* The message's spool file was refused: say why in the words `queue show` gives, and tell the
 * user now, since someone put that file there. */
static void worker_quarantine(struct run_worker *w, const struct run_job *job, struct worker_attempt *a)
{
	const outbox_queue_run_options *o = w->sh->o;
	char words[sizeof a->quarantine + 64];

	snprintf(a->quarantine, sizeof a->quarantine, "%s: not sent; remove it with 'outbox queue remove %lld'",
		 outbox_errmsg(w->h), job->it->id);
	if (o && o->notice) {
		snprintf(words, sizeof words, "message %lld: %s", job->it->id, a->quarantine);
		pthread_mutex_lock(&w->sh->lock);
		o->notice(o->ctx, words);
		pthread_mutex_unlock(&w->sh->lock);
	}
}

/* Judge a marked message's file before anything of it goes out, so one that must not be read is
 * never begun behind the message before it. A failure of the system decides nothing: the open
 * before sending judges again. */
static void worker_check_file(struct run_worker *w, const struct run_job *job, struct worker_attempt *a)
{
	enum spool_verdict v;
	struct outbox_error_copy saved;

	outbox_error_save(w->h, &saved);
	if (spool_check_message(w->h, &w->sp, job->it->spool_name, job->it->size, &v) < 0 && v != SPOOL_OK)
		worker_quarantine(w, job, a);
	outbox_error_restore(w->h, &saved);
}

/* Send one message of the group (marked as being sent already). `begun` says the message may
 * have been begun behind the one before on its first server. */
static void worker_send(struct run_worker *w, const struct run_job *job, struct worker_attempt *a, int begun,
			const struct run_job *ahead_job, struct worker_attempt *ahead)
{
	enum spool_verdict v = SPOOL_OK;
	int fd = -1;
	size_t i;

	/* Refused when the group was made: nothing of it went out, and nothing is read now. */
	if (a->quarantine[0]) {
		for (i = 0; i < job->it->nrcpts; i++)
			snprintf(a->replies[i], sizeof a->replies[0], "%s", a->quarantine);
	} else if (spool_open_message(w->h, &w->sp, job->it->spool_name, job->it->size, &fd, &v) < 0) {
		/* Refused now (the file changed since the group was made): quarantined. Otherwise this
		 * machine failed, not a server: the message waits, and no fallback is tried. */
		if (v != SPOOL_OK)
			worker_quarantine(w, job, a);
		snprintf(a->why, sizeof a->why, "%s", outbox_errmsg(w->h));
		for (i = 0; i < job->it->nrcpts; i++)
			snprintf(a->replies[i], sizeof a->replies[0], "%s", v != SPOOL_OK ? a->quarantine : a->why);
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

/* The attempt as queue_finish records it: each recipient's outcome, and the attempt in the log.
 * A queued message stays in the outbox whatever failed; the retry schedule takes it from here. */
static void worker_result(struct run_worker *w, const struct run_job *job, struct worker_attempt *a)
{
	const struct queue_item *it = job->it;
	const char *explain = NULL;
	size_t i;

	for (i = 0; i < it->nrcpts; i++) {
		a->refused += a->res[i].state == QUEUE_RCPT_REFUSED;
		a->delivered += a->res[i].state == QUEUE_RCPT_DELIVERED;
		if (!explain && a->res[i].state != QUEUE_RCPT_DELIVERED)
			explain = a->res[i].reply;
	}
	memset(&a->qr, 0, sizeof a->qr);
	a->qr.id = it->id;
	a->qr.owner = w->sh->owner.name;
	a->qr.server = a->carrier;
	a->qr.outcome = a->quarantine[0] ? "quarantined" : a->route.uncertain ? "uncertain"
		       : a->answered ? "attempted" : "deferred";
	a->qr.reply = a->quarantine[0] ? a->quarantine : explain ? explain : it->nrcpts ? a->res[0].reply : a->why;
	a->qr.quarantine = a->quarantine[0] ? a->quarantine : NULL;
	a->qr.rcpts = a->res;
	a->qr.nrcpts = it->nrcpts;
	a->qr.uncertain = a->route.uncertain;
	a->qr.policy = &job->policy;
	worker_history(it, a->carrier, a->qr.reply, &a->to, &a->hist);
	a->qr.history = &a->hist;
}

/* A group of messages on their way: marked as being sent, sent one after another over the
 * worker's connections, then handed to the recorder, which frees it once their outcomes are
 * committed. */
struct worker_group {
	struct run_shared *sh;
	struct run_job *jobs[WORKER_GROUP]; /* the marked ones, in order */
	struct worker_attempt a[WORKER_GROUP];
	const struct queue_result *results[WORKER_GROUP];
	size_t orig[WORKER_GROUP]; /* each one's index in the jobs the group was made from */
	size_t n, m, sent;         /* jobs offered, marked, sent */
};

static void worker_group_free(struct worker_group *g)
{
	size_t i;

	for (i = 0; i < g->m; i++)
		worker_attempt_free(&g->a[i]);
	free(g);
}

/* Told by the recorder, in its thread: count the outcomes, report progress, have the janitor
 * sync the records and then delete the delivered messages' files, and free the group. */
static void worker_recorded(void *ctx, const int *rcs, const enum queue_state *states, const char *error)
{
	struct worker_group *g = ctx;
	struct run_shared *sh = g->sh;
	char names[WORKER_GROUP][33];
	size_t i, k = 0, lost = 0;
	int code = 0;

	/* A message removed or taken over meanwhile (ECONFLICT) is nobody's failure; anything else is
	 * the store's: that outcome is not recorded, so the message goes again as after a crash. */
	for (i = 0; i < g->sent; i++)
		if (rcs[i] < 0 && rcs[i] != OUTBOX_ECONFLICT) {
			code = rcs[i];
			lost++;
		}
	if (lost) {
		pthread_mutex_lock(&sh->lock);
		sh->unrecorded += lost;
		pthread_mutex_unlock(&sh->lock);
		run_failed(sh, code, error);
	}
	pthread_mutex_lock(&sh->lock);
	for (i = 0; i < g->sent; i++) {
		if (rcs[i] < 0)
			continue;
		sh->stats.refused += g->a[i].refused;
		/* Done with nobody delivered to now (every recipient refused) is not "sent". */
		if (states[i] == QUEUE_DONE)
			sh->stats.delivered += g->a[i].delivered > 0;
		else if (states[i] == QUEUE_FAILED)
			sh->stats.failed++;
		else
			sh->stats.deferred++;
	}
	if (sh->o && sh->o->progress)
		sh->o->progress(sh->o->ctx, &sh->stats);
	pthread_mutex_unlock(&sh->lock);
	for (i = 0; i < g->sent; i++)
		if (rcs[i] == 0 && states[i] == QUEUE_DONE)
			snprintf(names[k++], sizeof names[0], "%s", g->jobs[i]->it->spool_name);
	/* Commits do not wait for the disk; this sync is what makes the group's records durable. */
	janitor_sync_and_remove(sh->janitor, (const char(*)[33])names, k);
	worker_group_free(g);
}

static void worker_premark_in(outbox *h, void *ctx)
{
	struct worker_premark *p = ctx;

	p->rc = queue_mark_sending_group(h, p->owner, RUN_LEASE_SECONDS, p->ids, p->n, p->marked);
}

/* Ask for the mark of the group that starts at job `first`, as the one now made will be followed
 * unless it ends early. */
static void worker_premark_ask(struct run_worker *w, size_t first)
{
	struct worker_premark *p = w->premark;
	size_t i;

	if (p == NULL || p->ticket != 0 || first >= w->njobs || run_stopping(w->sh))
		return;
	p->owner = w->sh->owner.name;
	p->first = first;
	p->n = w->njobs - first < WORKER_GROUP ? w->njobs - first : WORKER_GROUP;
	for (i = 0; i < p->n; i++)
		p->ids[i] = w->jobs[first + i]->it->id;
	p->ticket = recorder_call(w->sh->recorder, worker_premark_in, p);
}

/* The mark asked for ahead, once made, when it covers exactly these n jobs from `first`: 1 with
 * marked[] filled, else 0 and the caller marks them itself (a group that ended early moved the
 * next one's start; a mark that failed is made again, and its failure told, by the caller). */
static int worker_premark_take(struct run_worker *w, size_t first, size_t n, int *marked)
{
	struct worker_premark *p = w->premark;

	if (p == NULL || p->ticket == 0)
		return 0;
	recorder_wait(w->sh->recorder, p->ticket);
	p->ticket = 0;
	if (p->rc < 0 || p->first != first || p->n != n)
		return 0;
	memcpy(marked, p->marked, n * sizeof *marked);
	return 1;
}

/* Mark the n jobs from w->jobs[first] as being sent, in one transaction (or take the mark made
 * ahead), and ask for the next group's. NULL when the store or memory failed: the run then stops
 * (run_failed), and the claims end with it (a message a group before left unsent keeps that
 * group's mark, so it comes back as "may have been delivered": a false alarm, where a lost message
 * would be a real one). */
static struct worker_group *worker_group_prepare(struct run_worker *w, size_t first, size_t n)
{
	struct worker_group *g = calloc(1, sizeof *g);
	struct run_job **jobs = w->jobs + first;
	long long ids[WORKER_GROUP] = {0}; /* all set below; the compiler cannot see n <= WORKER_GROUP */
	int marked[WORKER_GROUP], rc = 0;
	size_t i;

	if (g == NULL) {
		run_failed(w->sh, OUTBOX_ENOMEM, "out of memory");
		return NULL;
	}
	g->sh = w->sh;
	g->n = n;
	if (!worker_premark_take(w, first, n, marked)) {
		for (i = 0; i < n; i++)
			ids[i] = jobs[i]->it->id;
		run_mark_begin(w->sh);
		rc = queue_mark_sending_group(w->h, w->sh->owner.name, RUN_LEASE_SECONDS, ids, n, marked);
		run_mark_end(w->sh);
	}
	if (rc < 0) {
		run_failed(w->sh, rc, outbox_errmsg(w->h));
		free(g);
		return NULL;
	}
	/* The messages still ours (not removed meanwhile), ready to go. */
	for (i = 0; i < n; i++) {
		if (!marked[i])
			continue;
		if (worker_attempt_init(&g->a[g->m], jobs[i]) < 0) {
			worker_attempt_free(&g->a[g->m]);
			memset(&g->a[g->m], 0, sizeof g->a[0]);
			continue; /* out of memory: its claim expires and a later run sends it */
		}
		worker_check_file(w, jobs[i], &g->a[g->m]);
		g->orig[g->m] = i;
		g->jobs[g->m++] = jobs[i];
	}
	worker_premark_ask(w, first + n);
	run_marked(w->sh);
	return g;
}

/* Send message k of the group: `begun` says it may have been begun behind the one before; when
 * `ahead` is given, that message (of this group or the next) is begun behind this one. */
static void worker_group_send_one(struct run_worker *w, struct worker_group *g, size_t k, int begun,
				  const struct run_job *ahead_job, struct worker_attempt *ahead)
{
	worker_send(w, g->jobs[k], &g->a[k], begun, ahead_job, ahead);
	worker_result(w, g->jobs[k], &g->a[k]);
	g->results[k] = &g->a[k].qr;
	g->sent = k + 1;
}

/* Stop before message k of the group. When it was begun behind the message before, its commands
 * are on the wire and the engine points at its transaction, which goes with the group: that
 * session ends here, without another word, so nothing is read into it (nothing was delivered:
 * its data never went). */
static void worker_abandon(struct run_worker *w, struct worker_group *g, size_t k, int begun)
{
	size_t i;

	for (i = 0; begun && g->jobs[k]->chain && i < w->nconns; i++)
		if (strcmp(w->conns[i].name, g->jobs[k]->chain[0]) == 0) {
			session_abort(w->h, w->conns[i].session);
			w->conns[i].session = NULL;
		}
}

static void worker_group_submit(struct run_worker *w, struct worker_group *g)
{
	if (g->sent == 0)
		worker_group_free(g);
	else
		recorder_submit(w->sh->recorder, g->results, g->sent, worker_recorded, g);
}

/* The next group, from job *i on: marked, or NULL when nothing is left or the run is stopping
 * (a group that cannot be marked stops it: sending what cannot be recorded would send it twice). */
static struct worker_group *worker_next_group(struct run_worker *w, size_t *i)
{
	size_t n = w->njobs - *i < WORKER_GROUP ? w->njobs - *i : WORKER_GROUP;

	if (*i >= w->njobs || run_stopping(w->sh))
		return NULL;
	return worker_group_prepare(w, *i, n);
}

/* The jobs in groups. Each group is marked in one transaction before it is sent and recorded in
 * one after: should the process die in between, every message of the group is reclaimed as "may
 * have been delivered", a few false alarms being the price of two commits per group instead of
 * two per message. A group ends after WORKER_GROUP messages, or early with the first message sent
 * after WORKER_GROUP_MS, so on a slow server that window stays short in time too. Before its last
 * message goes, the next group is marked, so that message can begin the next one behind it as
 * every other does: no round trip is lost between groups. The recording happens in the
 * recorder's thread while the next group is sent, and so does the mark of the group after it,
 * asked for as soon as the one before is marked (worker_premark): the sending thread marks a
 * group itself only at the start, or after a group that ended early. */
void worker_run_jobs(struct run_worker *w)
{
	size_t i = 0;
	struct worker_group *g = worker_next_group(w, &i);
	int begun = 0; /* g's first message may have been begun behind the last group's last */

	while (g) {
		long long deadline = net_now_ms() + WORKER_GROUP_MS;
		struct worker_group *next = NULL;
		size_t k;

		for (k = 0; k < g->m; k++) {
			int last = k + 1 == g->m || net_now_ms() > deadline;
			/* The store failed (a full disk): what is sent now could not be recorded. The
			 * rest keep their mark and their claim, which end with this run. */
			if (run_stopping(w->sh)) {
				worker_abandon(w, g, k, begun);
				break;
			}
			if (!last) {
				worker_group_send_one(w, g, k, begun, g->jobs[k + 1], &g->a[k + 1]);
				/* A refused file is never begun, nor anything behind one. */
				begun = !g->a[k].quarantine[0] && !g->a[k + 1].quarantine[0];
				continue;
			}
			/* The rest of the jobs, from the one after this, make the next group. */
			i += k + 1 == g->m ? g->n : g->orig[k] + 1;
			next = worker_next_group(w, &i);
			worker_group_send_one(w, g, k, begun, next && next->m ? next->jobs[0] : NULL,
					      next && next->m ? &next->a[0] : NULL);
			begun = next && next->m && !g->a[k].quarantine[0] && !next->a[0].quarantine[0];
			break;
		}
		if (g->m == 0) {
			/* None of its messages was still ours to send. */
			i += g->n;
			next = worker_next_group(w, &i);
			begun = 0;
		}
		worker_group_submit(w, g);
		g = next;
	}
	/* A mark asked for and not taken (the run is stopping) writes into w->premark until done. */
	worker_premark_take(w, SIZE_MAX, 0, NULL);
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
	store_exec(w->h, "PRAGMA synchronous = FULL", "");
	spool_close_dir(&w->sp);
	free(w->jobs);
	free(w->premark);
	if (w->own_handle)
		outbox_close(w->h);
	w->h = NULL;
}
