/* queue_run.c: the outbox runner: claim what is due, carry each server's messages over one reused
 * connection, fall back to an account's other servers, and record every recipient's outcome. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account_internal.h"
#include "deliver_internal.h"
#include "history_internal.h"
#include "outbox/queue.h"
#include "queue.h"
#include "secret.h"
#include "server_internal.h"
#include "session.h"
#include "spool.h"
#include "store.h"

#define RUN_CLAIM_BATCH 50
#define RUN_LEASE_SECONDS 900
#define RUN_MAX_SERVERS 32

/* One server's connection for the whole run: opened on first use, reused by every message for
 * it, and remembered as down once it failed so later messages go to their fallbacks at once. */
struct run_conn {
	char name[128];
	outbox_server *server;
	char *password;
	struct session *session;
	int down;
	char why[600];
};

struct run {
	outbox *h;
	const outbox_queue_run_options *o;
	char owner[96];
	struct spool sp;
	struct run_conn conns[RUN_MAX_SERVERS];
	size_t nconns;
	outbox_queue_stats stats;
};

static void run_conn_close(struct run *r, struct run_conn *c)
{
	session_close(r->h, c->session);
	c->session = NULL;
}

/* The open connection to `name`, or NULL (with c->why) when it cannot be had. */
static struct run_conn *run_connect(struct run *r, const char *name)
{
	struct session_params p;
	struct run_conn *c = NULL;
	size_t i;
	int rc;

	for (i = 0; i < r->nconns; i++)
		if (strcmp(r->conns[i].name, name) == 0)
			c = &r->conns[i];
	if (c == NULL) {
		if (r->nconns == RUN_MAX_SERVERS)
			return NULL;
		c = &r->conns[r->nconns++];
		memset(c, 0, sizeof *c);
		snprintf(c->name, sizeof c->name, "%s", name);
	}
	if (c->down)
		return c;
	if (c->session)
		return c;
	if (c->server == NULL &&
	    ((rc = outbox_server_load(r->h, name, &c->server)) < 0 || (rc = deliver_password(r->h, c->server, &c->password)) < 0)) {
		c->down = 1;
		snprintf(c->why, sizeof c->why, "%s", outbox_errmsg(r->h));
		return c;
	}
	memset(&p, 0, sizeof p);
	p.server = c->server;
	p.password = c->password;
	p.transcript = r->o ? r->o->transcript : NULL;
	p.transcript_ctx = r->o ? r->o->ctx : NULL;
	if (session_open(r->h, &p, &c->session) < 0) {
		c->down = 1;
		snprintf(c->why, sizeof c->why, "%s", outbox_errmsg(r->h));
	}
	return c;
}

/* The account's retry schedule; the default one for a message whose account is gone. */
static void run_policy(const outbox_account *a, struct retry_policy *policy)
{
	*policy = retry_default;
	if (a == NULL)
		return;
	policy->first_delay = retry_parse_duration(outbox_account_get(a, OUTBOX_ACCOUNT_RETRY_FIRST));
	policy->max_delay = retry_parse_duration(outbox_account_get(a, OUTBOX_ACCOUNT_RETRY_MAX));
	policy->give_up = retry_parse_duration(outbox_account_get(a, OUTBOX_ACCOUNT_GIVE_UP));
	/* The store holds only validated durations; this guards against a hand-edited database. */
	if (policy->first_delay < 1 || policy->max_delay < policy->first_delay || policy->give_up < 1)
		*policy = retry_default;
}

/* The servers to try for a message, in order: its own (or its account's), then the account's
 * fallbacks unless the account uses only that server; and the account's retry schedule. */
static int run_chain(struct run *r, const struct queue_item *it, char ***chain, struct retry_policy *policy,
		     char *why, size_t why_size)
{
	outbox_account *a = NULL;
	const char *const *fb;

	*chain = NULL;
	if (outbox_account_load(r->h, it->account, &a) < 0)
		a = NULL;
	run_policy(a, policy);
	if (it->server && *it->server) {
		outbox_account_free(a);
		return strv_push(chain, it->server) < 0 ? queue_oom(r->h) : 0;
	}
	if (a == NULL) {
		snprintf(why, why_size, "the account %s no longer exists: add it again, or remove the message "
			 "(outbox queue remove %lld)", it->account, it->id);
		return 0;
	}
	if (strv_push(chain, outbox_account_get(a, OUTBOX_ACCOUNT_SERVER)) < 0) {
		outbox_account_free(a);
		return queue_oom(r->h);
	}
	if (strcmp(outbox_account_get(a, OUTBOX_ACCOUNT_ONLY_THIS_SERVER), "true") != 0)
		for (fb = outbox_account_fallbacks(a); *fb; fb++)
			if (strv_push(chain, *fb) < 0) {
				outbox_account_free(a);
				return queue_oom(r->h);
			}
	outbox_account_free(a);
	return 0;
}

/* Whether the transaction's failure says "this server, not this message": try a fallback. */
static int run_server_unavailable(const struct smtp_txn *t)
{
	return t->mail_reply.code && smtp_reply_class(&t->mail_reply) == 4;
}

/* The history line of an attempt; queue_finish records it with the outcome. */
static void run_history(const struct queue_item *it, const char *server, const char *reply, struct buf *to,
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

/* Try one claimed message through its chain of servers and record the outcome. */
static void run_message(struct run *r, const struct queue_item *it)
{
	struct queue_rcpt_result *res = calloc(it->nrcpts ? it->nrcpts : 1, sizeof *res);
	char (*replies)[SMTP_REPLY_MAX_TEXT + 32] = calloc(it->nrcpts ? it->nrcpts : 1, sizeof *replies);
	struct smtp_rcpt *rcpt = calloc(it->nrcpts ? it->nrcpts : 1, sizeof *rcpt);
	char why[700] = "", **chain = NULL;
	const char *carrier = "";
	struct queue_result qr;
	struct retry_policy policy = retry_default;
	struct smtp_txn t;
	enum queue_state state = QUEUE_QUEUED;
	outbox_history_entry hist;
	struct buf to = BUF_INIT;
	int fd = -1, uncertain = 0, done = 0;
	size_t i, k;

	if (!res || !replies || !rcpt)
		goto out;
	for (i = 0; i < it->nrcpts; i++) {
		res[i].address = it->rcpts[i].address;
		res[i].state = QUEUE_RCPT_PENDING;
		res[i].reply = "";
		rcpt[i].address = it->rcpts[i].address;
	}
	if (spool_open_message(r->h, &r->sp, it->spool_name, &fd) < 0) {
		snprintf(why, sizeof why, "%s", outbox_errmsg(r->h));
	} else if (run_chain(r, it, &chain, &policy, why, sizeof why) == 0) {
		for (k = 0; chain && chain[k] && !done; k++) {
			struct run_conn *c = run_connect(r, chain[k]);
			if (c == NULL || c->down) {
				snprintf(why, sizeof why, "%s: %s", chain[k], c ? c->why : "too many servers in one run");
				continue;
			}
			memset(&t, 0, sizeof t);
			t.from = it->sender;
			t.rcpt = rcpt;
			t.nrcpt = it->nrcpts;
			t.size = it->size;
			t.body_8bit = it->body_8bit;
			t.smtputf8 = it->smtputf8;
			t.envid = it->message_id;
			if (lseek(fd, 0, SEEK_SET) != 0 || session_send(r->h, c->session, &t, fd) < 0) {
				snprintf(why, sizeof why, "%s: %s", chain[k], outbox_errmsg(r->h));
				snprintf(c->why, sizeof c->why, "%s", outbox_errmsg(r->h));
				c->down = 1;
				run_conn_close(r, c);
				/* After the data went out a retry elsewhere could duplicate it: wait. */
				if (t.data_sent) {
					uncertain = 1;
					carrier = c->name;
					break;
				}
				continue;
			}
			if (t.outcome && run_server_unavailable(&t)) {
				deliver_reply_text(&t.mail_reply, replies[0], sizeof replies[0]);
				snprintf(why, sizeof why, "%s: %s", chain[k], replies[0]);
				continue;
			}
			carrier = c->name;
			for (i = 0; i < it->nrcpts; i++) {
				deliver_reply_text(&rcpt[i].reply, replies[i], sizeof replies[i]);
				res[i].reply = replies[i];
				res[i].state = rcpt[i].state == SMTP_RCPT_DELIVERED ? QUEUE_RCPT_DELIVERED
					       : rcpt[i].state == SMTP_RCPT_REFUSED ? QUEUE_RCPT_REFUSED
										 : QUEUE_RCPT_PENDING;
				if (res[i].state == QUEUE_RCPT_REFUSED)
					r->stats.refused++;
			}
			done = 1;
		}
	}
	if (!done)
		for (i = 0; i < it->nrcpts; i++)
			res[i].reply = why;
	memset(&qr, 0, sizeof qr);
	qr.id = it->id;
	qr.owner = r->owner;
	qr.server = carrier;
	qr.outcome = done ? "attempted" : uncertain ? "uncertain" : "deferred";
	qr.reply = done ? (it->nrcpts ? res[0].reply : "") : why;
	qr.rcpts = res;
	qr.nrcpts = it->nrcpts;
	qr.uncertain = uncertain;
	qr.policy = &policy;
	run_history(it, carrier, qr.reply, &to, &hist);
	qr.history = &hist;
	if (queue_finish(r->h, &qr, &state) == 0) {
		if (state == QUEUE_DONE) {
			r->stats.delivered++;
			/* No directory fsync: if the unlink is lost in a crash, the file is an orphan
			 * of a done row and the next run's clean-up takes it. */
			spool_discard(r->h, &r->sp, it->spool_name);
		} else if (state == QUEUE_FAILED) {
			r->stats.failed++;
		} else {
			r->stats.deferred++;
		}
	}
out:
	buf_free(&to);
	if (fd >= 0)
		close(fd);
	strv_free(chain);
	free(res);
	free(replies);
	free(rcpt);
}

/* Files a crashed send linked but never recorded: after an hour nobody is about to record them. */
static void run_remove_orphans(struct run *r)
{
	char **keep = NULL;
	struct outbox_error_copy saved;

	outbox_error_save(r->h, &saved);
	if (queue_spool_names(r->h, &keep) == 0)
		spool_remove_orphans(r->h, &r->sp, keep, 3600);
	strv_free(keep);
	outbox_error_restore(r->h, &saved);
}

int outbox_queue_run(outbox *h, const outbox_queue_run_options *o, outbox_queue_stats *stats)
{
	struct run *r = calloc(1, sizeof *r);
	struct queue_item **items = NULL;
	char host[64], id[33];
	size_t n, i;
	int rc;

	if (r == NULL)
		return queue_oom(h);
	r->h = h;
	r->o = o;
	if (gethostname(host, sizeof host) < 0)
		snprintf(host, sizeof host, "localhost");
	host[sizeof host - 1] = '\0';
	if ((rc = secret_new_id(h, id)) < 0 || (rc = spool_open_dir(h, &r->sp)) < 0) {
		free(r);
		return rc;
	}
	snprintf(r->owner, sizeof r->owner, "%s:%ld:%.8s", host, (long)getpid(), id);
	run_remove_orphans(r);
	for (;;) {
		if ((rc = queue_claim(h, r->owner, RUN_LEASE_SECONDS, o ? o->server : NULL, RUN_CLAIM_BATCH, &items, &n)) < 0)
			break;
		if (n == 0)
			break;
		for (i = 0; i < n; i++) {
			run_message(r, items[i]);
			if (o && o->progress)
				o->progress(o->ctx, &r->stats);
		}
		queue_items_free(items, n);
		items = NULL;
	}
	for (i = 0; i < r->nconns; i++) {
		run_conn_close(r, &r->conns[i]);
		outbox_server_free(r->conns[i].server);
		secret_wipe(r->conns[i].password);
	}
	spool_close_dir(&r->sp);
	if (stats)
		*stats = r->stats;
	free(r);
	if (rc == 0)
		outbox_clear_error(h);
	return rc;
}
