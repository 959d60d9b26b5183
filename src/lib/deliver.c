/* deliver.c: `send` from start to end: the envelope checked, the account found, the message read
 * into a spool file, carried along its servers (deliver_route.c), then queued or reported as the
 * delivery policy decides. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account_internal.h"
#include "address_set.h"
#include "alias_internal.h"
#include "convert.h"
#include "deliver_internal.h"
#include "message.h"
#include "queue.h"
#include "retry.h"
#include "spool.h"
#include "outbox/send.h"
#include "oauth_token.h"
#include "secret.h"
#include "server_internal.h"
#include "store.h"
#include "validate.h"

/* Recipients as given, into the addresses they stand for, appended to *out (*n entries): a local
 * name ("root", as cron and mdadm write it) becomes its alias's addresses, anything else stays
 * itself; every result is then checked as an envelope address. */
static int deliver_expand(outbox *h, const char *const *given, char ***out, size_t *n)
{
	size_t i, from;
	int rc;

	for (i = 0; given && given[i]; i++) {
		from = *n;
		if (alias_is_local_name(given[i]))
			rc = alias_expand(h, given[i], out, n);
		else if ((rc = strv_append(out, n, given[i])) < 0)
			rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
		for (; rc == 0 && from < *n; from++)
			rc = deliver_check_envelope(h, "recipient", (*out)[from]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The account named by --account, else the one whose address is the envelope sender. */
static int deliver_account_before_reading(outbox *h, const outbox_send_request *req, const char *from,
					  outbox_account **out)
{
	*out = NULL;
	if (req->account)
		return outbox_account_load(h, req->account, out);
	if (from && strchr(from, '@') && outbox_account_load(h, from, out) == 0)
		return 0;
	outbox_clear_error(h);
	return 0;
}

int deliver_password_command(outbox *h, const outbox_server *s, char **password)
{
	/* The command gets as long as the server does for each step: a hung one must not hang sending. */
	return secret_run_command(h, s->rec.val[OUTBOX_SERVER_PASSWORD_COMMAND], s->rec.val[OUTBOX_SERVER_NAME],
				  strtoll(s->rec.val[OUTBOX_SERVER_TIMEOUT], NULL, 10) * 1000, password);
}

int deliver_password(outbox *h, const outbox_server *s, struct transcript verbose, char **password,
		     int *refreshed)
{
	*password = NULL;
	if (refreshed)
		*refreshed = 0;
	switch (s->password_source) {
	case OUTBOX_PASSWORD_KEYRING:
	case OUTBOX_PASSWORD_FILE:
		return secret_lookup(h, s->secret_id, s->password_source, password);
	case OUTBOX_PASSWORD_COMMAND:
		return deliver_password_command(h, s, password);
	default:
		/* An OAuth server has no password by design: its access token, which the SASL
		 * mechanisms xoauth2 and oauthbearer carry, takes the password's place. */
		if (strcmp(s->rec.val[OUTBOX_SERVER_OAUTH], "none") != 0)
			return oauth_token_access(h, s, 0, verbose, password, refreshed);
		if (*s->rec.val[OUTBOX_SERVER_USER] && server_auth_needs_user(s->rec.val[OUTBOX_SERVER_AUTH]) &&
		    strcmp(s->rec.val[OUTBOX_SERVER_AUTH], "none") != 0)
			return outbox_fail(h, OUTBOX_ECONFIG, "password",
					   "server \"%s\" logs in as \"%s\" but has no password: set one with 'outbox "
					   "server edit %s --password-prompt'", s->rec.val[OUTBOX_SERVER_NAME],
					   s->rec.val[OUTBOX_SERVER_USER], s->rec.val[OUTBOX_SERVER_NAME]);
		return 0;
	}
}

/* The recipients gathered so far, each once: the set finds a repeat in one lookup, where a scan
 * of the earlier ones made 100,000 recipients take 30 seconds. */
struct deliver_recipients {
	struct address_set seen; /* points at the result's own copies */
	size_t cap;              /* of the result's array, grown by doubling */
};

static int deliver_add_recipient(outbox *h, outbox_send_result *res, struct deliver_recipients *all,
				 const char *address)
{
	struct send_rcpt *grown, *r;
	char *copy;
	int added;

	if (res->count == all->cap) {
		size_t cap = all->cap ? 2 * all->cap : 16;
		if ((grown = realloc(res->rcpt, cap * sizeof *grown)) == NULL)
			return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
		res->rcpt = grown;
		all->cap = cap;
	}
	if ((copy = strdup(address)) == NULL || (added = address_set_add(&all->seen, copy)) < 0) {
		free(copy);
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	if (added == 0) {
		free(copy);
		return 0;
	}
	r = &res->rcpt[res->count++];
	memset(r, 0, sizeof *r);
	r->address = copy;
	r->state = OUTBOX_RCPT_DEFERRED;
	if ((r->reply = strdup("")) == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	return 0;
}

static void deliver_forget_recipients(outbox_send_result *res)
{
	size_t i;

	for (i = 0; i < res->count; i++) {
		free(res->rcpt[i].address);
		free(res->rcpt[i].reply);
	}
	res->count = 0;
}

/* Make the message durable in the outbox for its open recipients (invariant 1: fsync'd file,
 * linked, directory fsync'd, then the row committed); they become QUEUED, or stay UNCERTAIN. */
static int deliver_enqueue(outbox *h, struct spool *sp, struct spool_writer *w, const outbox_send_request *req,
			   const outbox_account *account, const struct deliver_message *m, const char *first_server,
			   outbox_send_result *res, const char *why)
{
	struct retry_policy policy;
	struct queue_entry_in in;
	char name[33], **to = NULL, **replies = NULL;
	long long id = 0;
	size_t i;
	int rc, uncertain = 0;

	/* Each recipient keeps the words that explain why it waits (its 451), so the outbox shows
	 * them rather than the message's last reply, which may be about another recipient. */
	for (i = 0; i < res->count; i++)
		if (res->rcpt[i].state == OUTBOX_RCPT_DEFERRED || res->rcpt[i].state == OUTBOX_RCPT_UNCERTAIN) {
			uncertain |= res->rcpt[i].state == OUTBOX_RCPT_UNCERTAIN;
			if (strv_push(&to, res->rcpt[i].address) < 0 ||
			    strv_push(&replies, res->rcpt[i].reply ? res->rcpt[i].reply : "") < 0) {
				strv_free(to);
				strv_free(replies);
				return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
			}
		}
	if (to == NULL)
		return 0;
	if ((rc = spool_commit(h, sp, w, name)) < 0) {
		strv_free(to);
		strv_free(replies);
		return rc;
	}
	memset(&in, 0, sizeof in);
	in.spool_name = name;
	in.account = res->account;
	in.server = req->server;
	in.sender = m->sender;
	in.message_id = m->message_id;
	in.size = (long long)m->size;
	in.body_8bit = m->body_8bit;
	in.smtputf8 = m->smtputf8;
	in.dsn = m->dsn;
	in.recipients = (const char *const *)to;
	in.replies = (const char *const *)replies;
	in.uncertain = uncertain;
	in.last_reply = why;
	in.attempted = !req->queue_only;
	in.attempt_server = req->queue_only ? first_server : res->server;
	/* After a failed attempt the retry schedule starts; --queue-only leaves it due at once. */
	account_retry_policy(account, &policy);
	in.not_before = req->queue_only ? store_now() : store_now() + policy.first_delay;
	if ((rc = queue_add(h, &in, &id)) < 0) {
		struct outbox_error_copy saved;
		outbox_error_save(h, &saved);
		spool_remove(h, sp, name);
		outbox_error_restore(h, &saved);
	} else {
		res->queue_id = id;
		res->next_attempt = in.not_before;
		for (i = 0; i < res->count; i++)
			if (res->rcpt[i].state == OUTBOX_RCPT_DEFERRED)
				res->rcpt[i].state = OUTBOX_RCPT_QUEUED;
	}
	strv_free(to);
	strv_free(replies);
	return rc;
}

/* Recipients the route left open and that are not queued: what kept them may pass (DEFERRED, as
 * with --no-queue), or needs the user (NOT_SENT). */
static void deliver_report_open(outbox_send_result *res)
{
	size_t i;

	for (i = 0; i < res->count; i++)
		if (res->rcpt[i].state == OUTBOX_RCPT_DEFERRED && !res->rcpt[i].temporary)
			res->rcpt[i].state = OUTBOX_RCPT_NOT_SENT;
}

/* The handle's words for an end that is not a plain success: the route's reasons when no
 * recipient got the message, else which ones did not and why. */
static int deliver_words(outbox *h, int code, const outbox_send_result *res, const struct deliver_route *route)
{
	size_t i, missing = 0, first = 0;

	for (i = 0; i < res->count; i++)
		if (res->rcpt[i].state != OUTBOX_RCPT_DELIVERED && missing++ == 0)
			first = i;
	if (missing == 0)
		return code;
	if (missing == res->count)
		return outbox_fail(h, code, NULL, "%s", route->why.data ? route->why.data : outbox_errmsg(h));
	return outbox_fail(h, code, NULL, "%zu of %zu recipient%s did not get the message; %s: %s", missing,
			   res->count, res->count == 1 ? "" : "s", res->rcpt[first].address, res->rcpt[first].reply);
}
/* Queue what the route left open, or report it, as the policy decides; the code to return. */
static int deliver_settle(outbox *h, struct spool *sp, struct spool_writer *w, const outbox_send_request *req,
			  const outbox_account *account, const struct deliver_message *m, char *const *chain,
			  outbox_send_result *res, struct deliver_route *route)
{
	struct policy_context ctx = {0, req->no_queue};
	size_t i, open = 0, refused = 0;
	enum policy_end end;
	int code;

	for (i = 0; i < res->count; i++) {
		open += res->rcpt[i].state == OUTBOX_RCPT_DEFERRED || res->rcpt[i].state == OUTBOX_RCPT_UNCERTAIN;
		refused += res->rcpt[i].state == OUTBOX_RCPT_REFUSED;
	}
	end = policy_end(&route->policy, open, &ctx);
	code = policy_code(&route->policy, end, refused);
	if (end == POLICY_END_REPORT)
		deliver_report_open(res);
	deliver_route_record(h, route, end, res->account, m);
	code = deliver_words(h, code, res, route);
	if (end == POLICY_END_QUEUE) {
		char why[900];
		int qrc;
		snprintf(why, sizeof why, "%s", outbox_errmsg(h));
		if ((qrc = deliver_enqueue(h, sp, w, req, account, m, chain[0], res, why)) < 0)
			return qrc;
		/* The handle keeps the reason (queueing may have said something else meanwhile): the
		 * caller tells the user why the message waits. */
		outbox_fail(h, OUTBOX_ETEMPFAIL, NULL, "%s", why);
	}
	return code;
}

/* A line over 998 octets is legal for no server, so the message is converted once, before any
 * attempt: the spool file is replaced by a copy with those parts re-encoded, and that legal copy
 * is what is sent and, if need be, queued. Nothing is kept of a message that cannot be converted. */
static int deliver_convert_long_lines(outbox *h, struct spool *sp, struct spool_writer *w, struct message_info *info)
{
	struct spool_writer conv;
	struct convert_result cr;
	int rc;

	if ((rc = spool_begin(h, sp, &conv)) < 0)
		return rc;
	if ((rc = convert_message(h, w->fd, conv.fd, CONVERT_LONG_LINES, &cr)) < 0) {
		spool_abort(&conv);
		return rc;
	}
	spool_writer_close(w);
	*w = conv;
	info->size = cr.size;
	info->has_8bit = cr.has_8bit;
	info->long_lines = 0;
	return 0;
}

int outbox_send(outbox *h, int in_fd, const outbox_send_request *req, outbox_send_result **out)
{
	outbox_send_result *res = calloc(1, sizeof *res);
	outbox_account *account = NULL;
	struct message_options mo;
	struct message_info info;
	struct deliver_message m;
	struct deliver_route route;
	struct spool sp;
	struct spool_writer w;
	struct dsn_request dsn;
	char domain[256], **chain = NULL, **given = NULL, **expanded = NULL, **from_headers = NULL;
	char *sender = NULL, unbracketed[512];
	const char *at, *from;
	size_t n_expanded = 0, n_from_headers = 0;
	struct deliver_recipients all = {ADDRESS_SET_INIT, 0};
	int have_spool = 0, have_writer = 0, by_default = 0, rc;
	size_t i;

	*out = NULL;
	memset(&info, 0, sizeof info);
	memset(&route, 0, sizeof route);
	if (res == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	/* Everything the caller gave is checked before the message is read: a bad value leaves no
	 * trace. A bare -f name waits for the account, whose domain completes it. */
	if ((rc = dsn_check(h, req->dsn_notify, req->dsn_ret, req->dsn_envid, &dsn)) < 0)
		goto done;
	from = deliver_sender_given(req->envelope_from, unbracketed, sizeof unbracketed);
	if (from && strchr(from, '@') && (rc = deliver_check_envelope(h, "from", from)) < 0)
		goto done;
	if ((rc = deliver_envelope_recipients(h, req->recipients, &given)) < 0 ||
	    (rc = deliver_expand(h, (const char *const *)given, &expanded, &n_expanded)) < 0)
		goto done;
	if ((rc = deliver_account_before_reading(h, req, from, &account)) < 0)
		goto done;
	/* Until the From: header is read, the default account stands in (its address goes into a
	 * From: header only when the message has none, and then it is the account used). */
	if (account == NULL) {
		by_default = 1;
		if (account_load_default(h, &account) < 0)
			outbox_clear_error(h);
	}

	memset(&mo, 0, sizeof mo);
	mo.extract_recipients = req->extract_recipients;
	mo.dot_ends_input = req->dot_ends_input;
	mo.from_address = account ? outbox_account_get(account, OUTBOX_ACCOUNT_ADDRESS)
				  : from && strchr(from, '@') ? from : NULL;
	mo.from_name = req->full_name ? req->full_name : account ? outbox_account_get(account, OUTBOX_ACCOUNT_NAME) : NULL;
	at = mo.from_address ? strrchr(mo.from_address, '@') : NULL;
	snprintf(domain, sizeof domain, "%s", at ? at + 1 : "localhost");
	mo.domain = domain;
	mo.now = store_now();
	/* The message goes straight into an unnamed spool file: if it must be queued, it is made
	 * durable where it lies, without a copy. */
	if ((rc = spool_open_dir(h, &sp)) < 0)
		goto done;
	have_spool = 1;
	if ((rc = spool_begin(h, &sp, &w)) < 0)
		goto done;
	have_writer = 1;
	if ((rc = message_prepare(h, in_fd, w.fd, &mo, &info)) < 0)
		goto done;
	if (info.long_lines && (rc = deliver_convert_long_lines(h, &sp, &w, &info)) < 0)
		goto done;
	res->size = (long long)info.size;
	res->message_id = strdup(info.message_id ? info.message_id : "");

	/* Without --account or a matching -f, the From: header names the account. */
	if (by_default && info.from && !info.added_from) {
		outbox_account *by_from = NULL;
		if (outbox_account_load(h, info.from, &by_from) == 0) {
			outbox_account_free(account);
			account = by_from;
		}
		outbox_clear_error(h);
	}
	if (account == NULL && (rc = account_load_default(h, &account)) < 0)
		goto done;
	res->account = strdup(outbox_account_get(account, OUTBOX_ACCOUNT_ADDRESS));
	if ((rc = deliver_envelope_sender(h, from, outbox_account_get(account, OUTBOX_ACCOUNT_ADDRESS), &sender)) < 0)
		goto done;
	memset(&m, 0, sizeof m);
	m.sender = sender;
	m.dsn = &dsn;
	m.message_id = info.message_id ? info.message_id : "";
	m.size = info.size;
	m.body_8bit = info.has_8bit;
	m.smtputf8 = info.needs_smtputf8;
	m.fd = w.fd;

	if ((rc = deliver_expand(h, (const char *const *)info.recipients, &from_headers, &n_from_headers)) < 0)
		goto done;
	for (i = 0; i < n_expanded; i++)
		if ((rc = deliver_add_recipient(h, res, &all, expanded[i])) < 0)
			goto done;
	for (i = 0; i < n_from_headers; i++)
		if ((rc = deliver_add_recipient(h, res, &all, from_headers[i])) < 0)
			goto done;
	if (res->count == 0) {
		rc = outbox_fail(h, OUTBOX_EINVALID, "recipient",
				 "no recipients: name them after the options, or use -t to take them from the "
				 "To, Cc and Bcc headers");
		goto done;
	}
	/* Refused before any attempt and before the outbox: above the limit a message would fail
	 * every attempt, and the memory of an attempt grows with its recipients. */
	if (res->count > OUTBOX_SEND_MAX_RECIPIENTS) {
		rc = outbox_fail(h, OUTBOX_EINVALID, "recipients",
				 "%zu different addresses, more than the %d one message can go to: send it in "
				 "parts", res->count, OUTBOX_SEND_MAX_RECIPIENTS);
		deliver_forget_recipients(res); /* none was tried: the refusal is the message's */
		goto done;
	}
	if ((rc = account_server_chain(h, account, req->server, &chain)) < 0)
		goto done;
	if (chain == NULL) {
		rc = outbox_fail(h, OUTBOX_ECONFIG, "server", "the account %s has no server to send through",
				 res->account);
		goto done;
	}
	if (req->queue_only) {
		free(res->server);
		res->server = strdup(chain[0]);
		rc = deliver_enqueue(h, &sp, &w, req, account, &m, chain[0], res,
				     "queued without an attempt (--queue-only)");
		goto done;
	}
	if ((rc = deliver_route_run(h, req, chain, &m, res, &route)) == 0)
		rc = deliver_settle(h, &sp, &w, req, account, &m, chain, res, &route);
done:
	address_set_free(&all.seen);
	deliver_route_free(&route);
	if (have_writer)
		spool_writer_close(&w);
	if (have_spool)
		spool_close_dir(&sp);
	strv_free(chain);
	strv_free(given);
	free(sender);
	strv_free(expanded);
	strv_free(from_headers);
	message_info_free(&info);
	outbox_account_free(account);
	if (res->message_id || res->count)
		*out = res;
	else
		outbox_send_result_free(res);
	return rc;
}

size_t outbox_send_result_count(const outbox_send_result *r)
{
	return r ? r->count : 0;
}

const char *outbox_send_result_address(const outbox_send_result *r, size_t i)
{
	return i < r->count ? r->rcpt[i].address : "";
}

outbox_rcpt_state outbox_send_result_state(const outbox_send_result *r, size_t i)
{
	return i < r->count ? r->rcpt[i].state : OUTBOX_RCPT_DEFERRED;
}

const char *outbox_send_result_reply(const outbox_send_result *r, size_t i)
{
	return i < r->count ? r->rcpt[i].reply : "";
}

const char *outbox_send_result_account(const outbox_send_result *r)
{
	return r->account ? r->account : "";
}

const char *outbox_send_result_server(const outbox_send_result *r)
{
	return r->server ? r->server : "";
}

const char *outbox_send_result_message_id(const outbox_send_result *r)
{
	return r->message_id ? r->message_id : "";
}

long long outbox_send_result_size(const outbox_send_result *r)
{
	return r->size;
}

long long outbox_send_result_queue_id(const outbox_send_result *r)
{
	return r ? r->queue_id : 0;
}

long long outbox_send_result_next_attempt(const outbox_send_result *r)
{
	return r && r->queue_id ? r->next_attempt : 0;
}

const char *outbox_send_result_words(const outbox_send_result *r, size_t i)
{
	switch (i < r->count ? r->rcpt[i].state : OUTBOX_RCPT_DEFERRED) {
	case OUTBOX_RCPT_DELIVERED: return "delivered";
	case OUTBOX_RCPT_REFUSED: return "refused";
	case OUTBOX_RCPT_QUEUED: return "queued";
	case OUTBOX_RCPT_UNCERTAIN:
		return r->queue_id ? "may have been delivered; queued to be tried again" : "may have been delivered";
	case OUTBOX_RCPT_NOT_SENT: return "not delivered";
	default: return "not delivered (temporary)";
	}
}

void outbox_send_result_free(outbox_send_result *r)
{
	if (r == NULL)
		return;
	deliver_forget_recipients(r);
	free(r->rcpt);
	free(r->account);
	free(r->server);
	free(r->message_id);
	free(r);
}
