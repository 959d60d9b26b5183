/* deliver_route.c: one message's way along its servers for `send`: an attempt per server, each
 * judged by the policy, recipients a failed server left going on to the next, and the history. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deliver_internal.h"
#include "handle_internal.h"
#include "history_internal.h"
#include "oauth_token.h"
#include "secret.h"
#include "store.h"
#include "transcript.h"
#include "server_internal.h"
#include "session.h"

static void deliver_set(struct send_rcpt *r, outbox_rcpt_state state, const char *words)
{
	char *copy = strdup(words ? words : "");

	if (copy) {
		free(r->reply);
		r->reply = copy;
	}
	r->state = state;
}

/* The transaction for the recipients still open, which the attempt carries. */
static int deliver_txn(outbox *h, const struct deliver_message *m, outbox_send_result *res, struct smtp_txn *t,
		       size_t *open)
{
	size_t i;

	memset(t, 0, sizeof *t);
	if ((t->rcpt = calloc(res->count, sizeof *t->rcpt)) == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	for (i = 0; i < res->count; i++)
		if (res->rcpt[i].state == OUTBOX_RCPT_DEFERRED) {
			open[t->nrcpt] = i;
			t->rcpt[t->nrcpt++].address = res->rcpt[i].address;
		}
	t->from = m->sender;
	t->size = m->size;
	t->body_8bit = m->body_8bit;
	t->smtputf8 = m->smtputf8; /* the engine looks at the addresses */
	t->envid = m->dsn && *m->dsn->envid ? m->dsn->envid : m->message_id;
	t->dsn_notify = m->dsn ? m->dsn->notify : NULL;
	t->dsn_ret = m->dsn ? m->dsn->ret : NULL;
	t->last = 1;
	return 0;
}

/* Open a session and carry the transaction: 0 when it ran to its end, else the failure's code
 * (the handle says why). The replies are in t either way. */
static int deliver_over_session(outbox *h, const outbox_send_request *req, const outbox_server *srv,
				const char *password, struct smtp_txn *t, int fd)
{
	struct session_params sp;
	struct session *s = NULL;
	struct outbox_error_copy saved;
	struct transcript shown = {req->transcript, req->ctx};
	int rc;

	memset(&sp, 0, sizeof sp);
	sp.server = srv;
	sp.password = password;
	sp.transcript = req->transcript ? transcript_forward : NULL;
	sp.transcript_ctx = &shown;
	sp.remember_helo = 1;
	if ((rc = session_open(h, &sp, &s)) == 0) {
		if (lseek(fd, 0, SEEK_SET) != 0)
			rc = outbox_fail(h, OUTBOX_EIO, NULL, "cannot read the message again from its spool file");
		else
			rc = session_send(h, s, t, fd);
	}
	/* Closing says QUIT; whatever goes wrong then is no news about the message. */
	outbox_error_save(h, &saved);
	session_close(h, s);
	outbox_error_restore(h, &saved);
	return rc;
}

/* One attempt through server `name`: set it up, carry the transaction, and judge it. */
static int deliver_attempt(outbox *h, const outbox_send_request *req, const char *name, const struct deliver_message *m,
			   struct smtp_txn *t, struct policy_rcpt *v, struct policy_attempt *pa)
{
	outbox_server *srv = NULL;
	char *password = NULL;
	int failure, refreshed = 0;
	/* A refresh's HTTP exchange shows in `-v` beside the SMTP conversation. */
	struct transcript shown = {req->transcript, req->ctx};

	if ((failure = outbox_server_load(h, name, &srv)) == 0 &&
	    (failure = deliver_password(h, srv, shown, &password, &refreshed)) == 0) {
		if (req->notice && strcmp(outbox_server_get(srv, OUTBOX_SERVER_TLS_VERIFY), "false") == 0 &&
		    strcmp(outbox_server_get(srv, OUTBOX_SERVER_SECURITY), "none") != 0) {
			char words[300];
			snprintf(words, sizeof words,
				 "certificate verification is off for server \"%s\": anyone on the path can read "
				 "this message and the password", name);
			req->notice(req->ctx, words);
		}
		failure = deliver_over_session(h, req, srv, password, t, m->fd);
		/* A provider may revoke an access token alone: a refused token gets one forced refresh
		 * (unless another sender already replaced it) and one more login. Nothing of the
		 * transaction has gone out before the login, so it starts again as it was. A token
		 * the provider issued for this very attempt is not refreshed again: the refusal, with
		 * its advice, is the answer. */
		if (oauth_token_retry_refused(srv, failure, refreshed)) {
			char *fresh = NULL;
			if ((failure = oauth_token_access(h, srv, 1, shown, &fresh, NULL)) == 0)
				failure = deliver_over_session(h, req, srv, fresh, t, m->fd);
			secret_wipe(fresh);
		}
	}
	secret_wipe(password);
	outbox_server_free(srv);
	policy_judge(t, failure, v, pa);
	return failure;
}

/* Copy the attempt's outcomes to the recipients it carried, and note the attempt for the history. */
static void deliver_apply(outbox *h, const struct smtp_txn *t, const size_t *open, const struct policy_rcpt *v,
			  const struct policy_attempt *pa, const char *name, outbox_send_result *res,
			  struct deliver_attempt *da)
{
	static const outbox_rcpt_state states[] = {
		[POLICY_DELIVERED] = OUTBOX_RCPT_DELIVERED,
		[POLICY_REFUSED] = OUTBOX_RCPT_REFUSED,
		[POLICY_DEFERRED] = OUTBOX_RCPT_DEFERRED,
		[POLICY_UNCERTAIN] = OUTBOX_RCPT_UNCERTAIN,
	};
	char words[SMTP_REPLY_MAX_TEXT + 32];
	const char *explain = NULL;
	size_t i;

	snprintf(da->server, sizeof da->server, "%s", name);
	for (i = 0; i < t->nrcpt; i++) {
		struct send_rcpt *r = &res->rcpt[open[i]];
		deliver_set(r, states[v[i].outcome], policy_reason_words(t, i, &v[i], outbox_errmsg(h), words, sizeof words));
		r->temporary = v[i].temporary;
		da->open_temporary += v[i].temporary && v[i].outcome != POLICY_DELIVERED && v[i].outcome != POLICY_REFUSED;
		buf_printf(&da->recipients, "%s%s", i ? "," : "", r->address);
		/* The attempt is explained by its first recipient that did not get the message. */
		if (!explain && v[i].outcome != POLICY_DELIVERED)
			explain = r->reply;
	}
	buf_puts(&da->reply, explain ? explain : t->nrcpt ? res->rcpt[open[0]].reply : "");
	da->delivered = pa->delivered;
	da->refused = pa->refused;
	da->open = pa->deferred + pa->uncertain;
}

int deliver_route_run(outbox *h, const outbox_send_request *req, char *const *chain, const struct deliver_message *m,
		      outbox_send_result *res, struct deliver_route *route)
{
	size_t n = res->count ? res->count : 1, k;
	struct policy_rcpt *v = calloc(n, sizeof *v);
	size_t *open = calloc(n, sizeof *open);
	int named = chain[0] && chain[1], rc = 0; /* with fallbacks, words name their server */
	struct smtp_txn t;

	memset(route, 0, sizeof *route);
	memset(&t, 0, sizeof t);
	if (!v || !open || !(route->attempts = calloc(strv_len(chain) + 1, sizeof *route->attempts))) {
		rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
		goto out;
	}
	for (k = 0; chain[k]; k++) {
		struct deliver_attempt *da = &route->attempts[route->n];
		struct policy_attempt pa;
		int failure;

		free(t.rcpt);
		if ((rc = deliver_txn(h, m, res, &t, open)) < 0)
			break;
		route->n++;
		free(res->server);
		res->server = strdup(chain[k]);
		failure = deliver_attempt(h, req, chain[k], m, &t, v, &pa);
		deliver_apply(h, &t, open, v, &pa, chain[k], res, da);
		if (da->open || da->refused)
			buf_printf(&route->why, "%s%s%s%s", route->why.len ? "; " : "", named ? chain[k] : "",
				   named ? ": " : "", da->reply.data ? da->reply.data : "");
		if (policy_after_attempt(&route->policy, &pa, chain[k + 1] != NULL) != POLICY_NEXT_SERVER)
			break;
		if (req->notice) {
			char words[900];
			snprintf(words, sizeof words, "server \"%s\" failed (%s); sending through \"%s\" instead",
				 chain[k], failure ? outbox_errmsg(h) : da->reply.data ? da->reply.data : "", chain[k + 1]);
			req->notice(req->ctx, words);
		}
	}
out:
	free(t.rcpt);
	free(v);
	free(open);
	return rc;
}

void deliver_route_record(outbox *h, const struct deliver_route *route, enum policy_end end, const char *account,
			  const struct deliver_message *m)
{
	struct outbox_error_copy saved;
	size_t k;

	outbox_error_save(h, &saved);
	/* One commit that does not wait for the disk: each attempt's server already has its answer,
	 * so a power cut would lose log lines, not mail. A message queued next is synced with them. */
	if (route->n == 0 || store_begin_unsynced(h) < 0) {
		outbox_error_restore(h, &saved);
		return;
	}
	for (k = 0; k < route->n; k++) {
		const struct deliver_attempt *a = &route->attempts[k];
		/* Recipients an attempt left open went on to the next server, or, after the last, to
		 * the outbox, or back to the caller: to try again later when what kept them may pass. */
		int last = k + 1 == route->n;
		size_t waiting = !last || end == POLICY_END_QUEUE ? a->open : end == POLICY_END_REPORT ? a->open_temporary : 0;
		outbox_history_entry e;

		memset(&e, 0, sizeof e);
		e.account = account;
		e.server = a->server;
		e.sender = m->sender;
		e.recipients = a->recipients.data ? a->recipients.data : "";
		e.outcome = policy_history_word(a->delivered, a->refused, waiting, a->open - waiting);
		e.reply = a->reply.data ? a->reply.data : "";
		e.size = (long long)m->size;
		e.message_id = m->message_id;
		history_record(h, &e);
	}
	store_commit(h);
	outbox_error_restore(h, &saved);
}

void deliver_route_free(struct deliver_route *route)
{
	size_t k;

	for (k = 0; k < route->n; k++) {
		buf_free(&route->attempts[k].recipients);
		buf_free(&route->attempts[k].reply);
	}
	free(route->attempts);
	buf_free(&route->why);
	memset(route, 0, sizeof *route);
}
