/* policy.c: the delivery policy: how each recipient fared in an attempt, whether the next server
 * takes over, what waits in the outbox and the exit code, decided here and nowhere else. */
#include <stdio.h>

#include "policy.h"

static int policy_class(const struct smtp_reply *r)
{
	return r->code ? smtp_reply_class(r) : 0;
}

int policy_code_is_temporary(int code)
{
	switch (code) {
	case OUTBOX_ETEMPFAIL: /* 4xx, 421, no connection, a timeout, a lost reply */
	case OUTBOX_EPROTOCOL: /* a broken reply: the next session may be sound */
	case OUTBOX_EIO:       /* reading the message or the store on this machine */
	case OUTBOX_ENOMEM:
	case OUTBOX_ESTORE:
	case OUTBOX_EBUSY:
		return 1;
	default: /* EAUTH, EUNAVAILABLE, ECONFIG, ...: a password, a setting, the server's TLS */
		return 0;
	}
}

/* This machine failed, not the server: another server would not help. */
static int policy_local(int code)
{
	return code == OUTBOX_EIO || code == OUTBOX_ENOMEM || code == OUTBOX_ESTORE || code == OUTBOX_EBUSY;
}

static struct policy_rcpt policy_as(enum policy_outcome outcome, enum policy_reason reason)
{
	struct policy_rcpt p = {outcome, reason, 0};
	return p;
}

/* One recipient: the answers are read in the order the server gave them, and the first that
 * decides wins. A 4xx to MAIL makes the RCPT answers that follow it meaningless (a pipelining
 * server answers them "503 need MAIL"), so they never turn it into a refusal. */
static struct policy_rcpt policy_decide(const struct smtp_txn *t, const struct smtp_rcpt *r)
{
	int mail = policy_class(&t->mail_reply), rcpt = policy_class(&r->reply), data = policy_class(&t->data_reply);

	if (t->unsuitable)
		return policy_as(POLICY_REFUSED, POLICY_BY_FAILURE);
	if (mail == 5)
		return policy_as(POLICY_REFUSED, POLICY_BY_MAIL);
	if (mail == 4)
		return policy_as(POLICY_DEFERRED, POLICY_BY_MAIL);
	if (rcpt == 5)
		return policy_as(POLICY_REFUSED, POLICY_BY_RCPT);
	if (rcpt == 4)
		return policy_as(POLICY_DEFERRED, POLICY_BY_RCPT);
	if (rcpt != 2 && !(t->data_sent && data != 4 && data != 5))
		return policy_as(POLICY_DEFERRED, POLICY_BY_FAILURE); /* never answered */
	if (t->data_sent) {
		/* The recipient was accepted, or the data went out with its RCPT still unanswered
		 * (pipelined BDAT). Only a 250 takes the message; only a 4xx or 5xx turns it away.
		 * Anything else, or nothing, leaves the server possibly holding it (invariant 1). */
		if (t->data_reply.code == 250)
			return policy_as(POLICY_DELIVERED, POLICY_BY_DATA);
		if (data == 5)
			return policy_as(POLICY_REFUSED, POLICY_BY_DATA);
		if (data == 4)
			return policy_as(POLICY_DEFERRED, POLICY_BY_DATA);
		return policy_as(POLICY_UNCERTAIN, POLICY_BY_FAILURE);
	}
	if (data == 5)
		return policy_as(POLICY_REFUSED, POLICY_BY_DATA);
	if (data == 4)
		return policy_as(POLICY_DEFERRED, POLICY_BY_DATA);
	return policy_as(POLICY_DEFERRED, POLICY_BY_FAILURE); /* the data never went */
}

static struct policy_rcpt policy_one(const struct smtp_txn *t, const struct smtp_rcpt *r, int failure)
{
	struct policy_rcpt p = policy_decide(t, r);

	/* A server's own 4xx, or a reply lost after the data, passes with time; a failure of the
	 * attempt passes when its code does (not a refused login, not a certificate). */
	if (p.outcome == POLICY_UNCERTAIN || (p.outcome == POLICY_DEFERRED && p.reason != POLICY_BY_FAILURE))
		p.temporary = 1;
	else if (p.outcome == POLICY_DEFERRED)
		p.temporary = failure == 0 || policy_code_is_temporary(failure);
	return p;
}

void policy_judge(const struct smtp_txn *t, int failure, struct policy_rcpt *out, struct policy_attempt *a)
{
	size_t i;

	a->delivered = a->refused = a->deferred = a->uncertain = 0;
	a->temporary = 0;
	for (i = 0; i < t->nrcpt; i++) {
		out[i] = policy_one(t, &t->rcpt[i], failure);
		a->temporary |= out[i].temporary;
		switch (out[i].outcome) {
		case POLICY_DELIVERED: a->delivered++; break;
		case POLICY_REFUSED: a->refused++; break;
		case POLICY_DEFERRED: a->deferred++; break;
		case POLICY_UNCERTAIN: a->uncertain++; break;
		}
	}
	/* The server failed, not the message: it could not be reached or used, it ended the session
	 * (421, a lost connection, a timeout, a broken reply), or it turned the sender away for now. A
	 * message the server cannot take as it is (too big, 8-bit) is the message's failure. */
	a->server_failed = (failure && !t->unsuitable && !policy_local(failure)) || policy_class(&t->mail_reply) == 4;
	a->refusal_code = a->refused == 0 ? 0 : t->unsuitable ? failure : OUTBOX_EREFUSED;
	if (failure)
		a->code = failure;
	else if (a->deferred || a->uncertain)
		a->code = OUTBOX_ETEMPFAIL;
	else if (a->refused)
		a->code = OUTBOX_EREFUSED;
	else
		a->code = 0;
}

const char *policy_reason_words(const struct smtp_txn *t, size_t i, const struct policy_rcpt *v,
				const char *failure, char *buf, size_t size)
{
	char line[SMTP_REPLY_MAX_TEXT + 32];

	switch (v->reason) {
	case POLICY_BY_MAIL:
		snprintf(buf, size, "the server refused the sender <%s>%s: %s", t->from ? t->from : "",
			 policy_class(&t->mail_reply) == 4 ? " for now" : "",
			 smtp_reply_line(&t->mail_reply, line, sizeof line));
		return buf;
	case POLICY_BY_RCPT: return smtp_reply_line(&t->rcpt[i].reply, buf, size);
	case POLICY_BY_DATA: return smtp_reply_line(&t->data_reply, buf, size);
	default:
		snprintf(buf, size, "%s", failure ? failure : "");
		return buf;
	}
}

enum policy_step policy_after_attempt(struct policy_route *r, const struct policy_attempt *a, int more_servers)
{
	if (r->attempts++ == 0)
		r->first_code = a->code;
	if (r->refusal_code == 0)
		r->refusal_code = a->refusal_code;
	r->temporary |= a->temporary;
	r->uncertain |= a->uncertain > 0;
	/* Once a server may hold the message, another one must not get it too: a duplicate is the
	 * outbox's business, retried with the same Message-ID, never a second route's. */
	if (a->server_failed && !r->uncertain && a->deferred > 0 && more_servers)
		return POLICY_NEXT_SERVER;
	return POLICY_STOP;
}

enum policy_end policy_end(const struct policy_route *r, size_t open, const struct policy_context *c)
{
	if (open == 0)
		return POLICY_END_NOTHING_OPEN;
	if (c->in_outbox)
		return POLICY_END_QUEUE;
	if (c->no_queue)
		return POLICY_END_REPORT;
	return r->temporary || r->uncertain ? POLICY_END_QUEUE : POLICY_END_REPORT;
}

int policy_code(const struct policy_route *r, enum policy_end end, size_t refused)
{
	if (end == POLICY_END_REPORT)
		return r->first_code ? r->first_code : OUTBOX_ETEMPFAIL;
	if (refused)
		return r->refusal_code ? r->refusal_code : OUTBOX_EREFUSED;
	return 0;
}

const char *policy_meanwhile(int code)
{
	if (policy_code_is_temporary(code))
		return "Meanwhile, mail sent through this server waits in the outbox and goes out by itself "
		       "once the server works again.";
	return "Until this is fixed, sending through this server stops with this error instead of "
	       "queueing (mail already queued waits), and accounts with fallback servers use those.";
}

const char *policy_history_word(size_t delivered, size_t refused, size_t waiting, size_t failed)
{
	if (failed)
		return delivered ? "partial" : "failed";
	if (waiting)
		return delivered ? "partial" : "deferred";
	if (refused)
		return delivered ? "partial" : "refused";
	return "delivered";
}
