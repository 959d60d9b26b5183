/* deliver.c: the sending policy in one place: which account and server, the envelope, reading the
 * message, one session, and each recipient's outcome (delivered, refused, deferred, uncertain). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account_internal.h"
#include "deliver_internal.h"
#include "history_internal.h"
#include "message.h"
#include "queue.h"
#include "retry.h"
#include "spool.h"
#include "outbox/handle.h"
#include "outbox/send.h"
#include "secret.h"
#include "server_internal.h"
#include "session.h"
#include "store.h"
#include "validate.h"

struct send_rcpt {
	char *address;
	outbox_rcpt_state state;
	char *reply;
};

struct outbox_send_result {
	long long queue_id; /* the outbox entry holding deferred recipients, or 0 */
	char *account;
	char *server;
	char *message_id;
	long long size;
	size_t count;
	struct send_rcpt *rcpt;
};

/* Envelope values come from argv and headers; refuse what could inject commands (invariant 6). */
static int deliver_check_envelope(outbox *h, const char *field, const char *address)
{
	if (address[0] == '-')
		return outbox_fail(h, OUTBOX_EINVALID, field, "\"%.60s\" starts with \"-\"; an address cannot",
				   address);
	if (strpbrk(address, "\r\n"))
		return outbox_fail(h, OUTBOX_EINVALID, field, "an address contains a line break");
	return validate_address(h, field, address);
}

static int deliver_default_account(outbox *h, outbox_account **out)
{
	sqlite3_stmt *st;
	char *address = NULL;
	int rc;

	*out = NULL;
	if ((rc = store_prepare(h, &st, "SELECT address FROM accounts WHERE is_default = 1 AND removed_at IS NULL"
					" ORDER BY id LIMIT 1")) < 0)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW)
		address = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	if (address == NULL)
		return outbox_fail(h, OUTBOX_ECONFIG, "account",
				   "no account to send from: add one with 'outbox account add ADDRESS --server NAME', or "
				   "mark one as the default (--default)");
	rc = outbox_account_load(h, address, out);
	free(address);
	return rc;
}

/* The account named by --account, else the one whose address is the envelope sender. */
static int deliver_account_before_reading(outbox *h, const outbox_send_request *req, outbox_account **out)
{
	*out = NULL;
	if (req->account)
		return outbox_account_load(h, req->account, out);
	if (req->envelope_from && *req->envelope_from &&
	    outbox_account_load(h, req->envelope_from, out) == 0)
		return 0;
	outbox_clear_error(h);
	return 0;
}

int deliver_password(outbox *h, const outbox_server *s, char **password)
{
	*password = NULL;
	switch (s->password_source) {
	case OUTBOX_PASSWORD_KEYRING:
	case OUTBOX_PASSWORD_FILE:
		return secret_lookup(h, s->secret_id, s->password_source, password);
	case OUTBOX_PASSWORD_COMMAND:
		return secret_run_command(h, s->rec.val[OUTBOX_SERVER_PASSWORD_COMMAND], password);
	default:
		if (*s->rec.val[OUTBOX_SERVER_USER] && server_auth_needs_user(s->rec.val[OUTBOX_SERVER_AUTH]) &&
		    strcmp(s->rec.val[OUTBOX_SERVER_AUTH], "none") != 0)
			return outbox_fail(h, OUTBOX_ECONFIG, "password",
					   "server \"%s\" logs in as \"%s\" but has no password: set one with 'outbox "
					   "server edit %s --password-prompt'", s->rec.val[OUTBOX_SERVER_NAME],
					   s->rec.val[OUTBOX_SERVER_USER], s->rec.val[OUTBOX_SERVER_NAME]);
		return 0;
	}
}

static int deliver_add_recipient(outbox *h, outbox_send_result *res, const char *address)
{
	struct send_rcpt *grown;
	size_t i;

	for (i = 0; i < res->count; i++)
		if (strcasecmp(res->rcpt[i].address, address) == 0)
			return 0;
	if ((grown = realloc(res->rcpt, (res->count + 1) * sizeof *grown)) == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	res->rcpt = grown;
	grown[res->count].address = strdup(address);
	grown[res->count].state = OUTBOX_RCPT_DEFERRED;
	grown[res->count].reply = strdup("");
	if (!grown[res->count].address || !grown[res->count].reply)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	res->count++;
	return 0;
}

static void deliver_set_reply(struct send_rcpt *r, outbox_rcpt_state state, const char *text)
{
	char *copy = strdup(text ? text : "");

	if (copy) {
		free(r->reply);
		r->reply = copy;
	}
	r->state = state;
}

/* Carry the message over one session and copy each recipient's outcome into the result. */
static int deliver_over_session(outbox *h, const outbox_send_request *req, const outbox_server *srv,
				const char *password, const char *sender, const struct message_info *info,
				int spool_fd, outbox_send_result *res, int *try_next)
{
	struct session_params sp;
	struct session *s = NULL;
	struct smtp_txn t;
	size_t i;
	int rc;

	memset(&t, 0, sizeof t);
	if ((t.rcpt = calloc(res->count, sizeof *t.rcpt)) == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	for (i = 0; i < res->count; i++)
		t.rcpt[i].address = res->rcpt[i].address;
	t.nrcpt = res->count;
	t.from = sender;
	t.size = info->size;
	t.body_8bit = info->has_8bit;
	t.smtputf8 = info->needs_smtputf8;
	for (i = 0; !t.smtputf8 && i < res->count; i++)
		for (const unsigned char *p = (const unsigned char *)res->rcpt[i].address; *p; p++)
			t.smtputf8 |= *p >= 0x80;
	for (const unsigned char *p = (const unsigned char *)sender; *p; p++)
		t.smtputf8 |= *p >= 0x80;
	t.envid = info->message_id;
	t.last = 1;

	memset(&sp, 0, sizeof sp);
	sp.server = srv;
	sp.password = password;
	sp.transcript = req->transcript;
	sp.transcript_ctx = req->ctx;
	if ((rc = session_open(h, &sp, &s)) == 0 && lseek(spool_fd, 0, SEEK_SET) == 0)
		rc = session_send(h, s, &t, spool_fd);
	if (rc == 0) {
		for (i = 0; i < res->count; i++) {
			char words[SMTP_REPLY_MAX_TEXT + 32];
			const struct smtp_rcpt *r = &t.rcpt[i];
			outbox_rcpt_state st = r->state == SMTP_RCPT_DELIVERED ? OUTBOX_RCPT_DELIVERED
					       : r->state == SMTP_RCPT_REFUSED ? OUTBOX_RCPT_REFUSED
									     : OUTBOX_RCPT_DEFERRED;
			smtp_reply_line(&r->reply, words, sizeof words);
			deliver_set_reply(&res->rcpt[i], st, words);
		}
		rc = t.outcome;
		if (rc == 0) {
			for (i = 0; i < res->count && rc == 0; i++)
				if (res->rcpt[i].state == OUTBOX_RCPT_REFUSED)
					rc = OUTBOX_EREFUSED;
		}
		/* A 4xx to MAIL is about the server, not the message: another server may take it. */
		*try_next = t.mail_reply.code && smtp_reply_class(&t.mail_reply) == 4;
	} else {
		/* Before the data went out, nothing was delivered: a fallback server may take it. */
		*try_next = !smtp_txn_uncertain(&t) && rc != OUTBOX_EAUTH && rc != OUTBOX_ECONFIG;
		/* The session failed: nobody got it, unless the data had gone out already. */
		for (i = 0; i < res->count; i++)
			deliver_set_reply(&res->rcpt[i], smtp_txn_uncertain(&t) ? OUTBOX_RCPT_UNCERTAIN : OUTBOX_RCPT_DEFERRED,
					  outbox_errmsg(h));
	}
	{
		struct outbox_error_copy saved;
		outbox_error_save(h, &saved);
		session_close(h, s);
		outbox_error_restore(h, &saved);
	}
	free(t.rcpt);
	return rc;
}

static int deliver_has_deferred(const outbox_send_result *res)
{
	size_t i;

	for (i = 0; i < res->count; i++)
		if (res->rcpt[i].state == OUTBOX_RCPT_DEFERRED || res->rcpt[i].state == OUTBOX_RCPT_UNCERTAIN)
			return 1;
	return 0;
}

static int deliver_has_refused(const outbox_send_result *res)
{
	size_t i;

	for (i = 0; i < res->count; i++)
		if (res->rcpt[i].state == OUTBOX_RCPT_REFUSED)
			return 1;
	return 0;
}

/* A summary for the handle when some recipients did not get the message. */
static int deliver_summarise(outbox *h, int rc, const outbox_send_result *res)
{
	size_t refused = 0, deferred = 0, i, first = (size_t)-1;

	for (i = 0; i < res->count; i++) {
		if (res->rcpt[i].state == OUTBOX_RCPT_REFUSED)
			refused++;
		else if (res->rcpt[i].state != OUTBOX_RCPT_DELIVERED)
			deferred++;
		if (res->rcpt[i].state != OUTBOX_RCPT_DELIVERED && first == (size_t)-1)
			first = i;
	}
	if (rc != OUTBOX_EREFUSED && rc != OUTBOX_ETEMPFAIL)
		return rc;
	if (first == (size_t)-1 || !*res->rcpt[first].reply)
		return rc;
	if (refused && !deferred)
		rc = OUTBOX_EREFUSED;
	else if (deferred)
		rc = OUTBOX_ETEMPFAIL;
	return outbox_fail(h, rc, NULL, "%zu of %zu recipient%s did not get the message; %s: %s",
			   refused + deferred, res->count, res->count == 1 ? "" : "s", res->rcpt[first].address,
			   res->rcpt[first].reply);
}

static void deliver_record(outbox *h, int rc, const outbox_send_result *res, const char *sender)
{
	outbox_history_entry e;
	struct buf to = BUF_INIT;
	size_t i, delivered = 0;
	struct outbox_error_copy saved;

	outbox_error_save(h, &saved);
	for (i = 0; i < res->count; i++) {
		buf_printf(&to, "%s%s", i ? "," : "", res->rcpt[i].address);
		delivered += res->rcpt[i].state == OUTBOX_RCPT_DELIVERED;
	}
	memset(&e, 0, sizeof e);
	e.account = res->account;
	e.server = res->server;
	e.sender = sender;
	e.recipients = to.data ? to.data : "";
	e.outcome = rc == 0 ? "delivered" : delivered ? "partial" : rc == OUTBOX_EREFUSED ? "refused"
					    : rc == OUTBOX_ETEMPFAIL ? "deferred" : "failed";
	e.reply = rc == 0 && res->count ? res->rcpt[0].reply : outbox_errmsg(h);
	e.size = res->size;
	e.message_id = res->message_id;
	history_record(h, &e);
	buf_free(&to);
	outbox_error_restore(h, &saved);
}

/* The servers to try, in order: --server alone, else the account's server and, unless it is to
 * use only that one, its fallbacks. */
static int deliver_chain(outbox *h, const outbox_send_request *req, const outbox_account *account, char ***chain)
{
	const char *const *fb;

	*chain = NULL;
	if (strv_push(chain, req->server ? req->server : outbox_account_get(account, OUTBOX_ACCOUNT_SERVER)) < 0)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	if (req->server || strcmp(outbox_account_get(account, OUTBOX_ACCOUNT_ONLY_THIS_SERVER), "true") == 0)
		return 0;
	for (fb = outbox_account_fallbacks(account); *fb; fb++)
		if (strv_push(chain, *fb) < 0)
			return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	return 0;
}

/* Try each server of the chain until one carries the message or fails it for good. */
static int deliver_through_chain(outbox *h, const outbox_send_request *req, char *const *chain,
				 const char *sender, const struct message_info *info, int spool_fd,
				 outbox_send_result *res)
{
	outbox_server *srv = NULL;
	char *password = NULL;
	size_t k;
	int rc = 0, try_next = 0;

	for (k = 0; chain[k]; k++) {
		outbox_server_free(srv);
		srv = NULL;
		secret_wipe(password);
		password = NULL;
		if ((rc = outbox_server_load(h, chain[k], &srv)) < 0)
			break;
		free(res->server);
		res->server = strdup(chain[k]);
		if (req->notice && strcmp(outbox_server_get(srv, OUTBOX_SERVER_TLS_VERIFY), "false") == 0 &&
		    strcmp(outbox_server_get(srv, OUTBOX_SERVER_SECURITY), "none") != 0) {
			char words[300];
			snprintf(words, sizeof words,
				 "certificate verification is off for server \"%s\": anyone on the path can read "
				 "this message and the password", chain[k]);
			req->notice(req->ctx, words);
		}
		if ((rc = deliver_password(h, srv, &password)) < 0)
			break;
		rc = deliver_over_session(h, req, srv, password, sender, info, spool_fd, res, &try_next);
		if (rc == 0 || !try_next || !chain[k + 1])
			break;
		deliver_record(h, rc, res, sender);
		if (req->notice) {
			char words[700];
			snprintf(words, sizeof words, "%s unavailable (%s); trying %s", chain[k], outbox_errmsg(h),
				 chain[k + 1]);
			req->notice(req->ctx, words);
		}
	}
	secret_wipe(password);
	outbox_server_free(srv);
	return rc;
}

/* Make the message durable in the outbox for its deferred recipients (invariant 1: fsync'd file,
 * linked, directory fsync'd, then the row committed). */
static int deliver_enqueue(outbox *h, struct spool *sp, struct spool_writer *w, const outbox_send_request *req,
			   const outbox_account *account, const char *sender, const struct message_info *info,
			   outbox_send_result *res, const char *why)
{
	struct retry_policy policy;
	struct queue_entry_in in;
	char name[33], **to = NULL;
	long long id = 0;
	size_t i;
	int rc, uncertain = 0;

	for (i = 0; i < res->count; i++)
		if (res->rcpt[i].state == OUTBOX_RCPT_DEFERRED || res->rcpt[i].state == OUTBOX_RCPT_UNCERTAIN) {
			uncertain |= res->rcpt[i].state == OUTBOX_RCPT_UNCERTAIN;
			if (strv_push(&to, res->rcpt[i].address) < 0) {
				strv_free(to);
				return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
			}
		}
	if (to == NULL)
		return 0;
	if ((rc = spool_commit(h, sp, w, name)) < 0) {
		strv_free(to);
		return rc;
	}
	memset(&in, 0, sizeof in);
	in.spool_name = name;
	in.account = res->account;
	in.server = req->server;
	in.sender = sender;
	in.message_id = info->message_id;
	in.size = info->size;
	in.body_8bit = info->has_8bit;
	in.smtputf8 = info->needs_smtputf8;
	in.recipients = (const char *const *)to;
	in.uncertain = uncertain;
	in.last_reply = why;
	in.attempted = !req->queue_only;
	in.attempt_server = res->server;
	/* After a failed attempt the retry schedule starts; --queue-only leaves it due at once. */
	account_retry_policy(account, &policy);
	in.not_before = req->queue_only ? 0 : store_now() + policy.first_delay;
	if ((rc = queue_add(h, &in, &id)) < 0) {
		struct outbox_error_copy saved;
		outbox_error_save(h, &saved);
		spool_remove(h, sp, name);
		outbox_error_restore(h, &saved);
	} else {
		res->queue_id = id;
		for (i = 0; i < res->count; i++)
			if (res->rcpt[i].state == OUTBOX_RCPT_DEFERRED || res->rcpt[i].state == OUTBOX_RCPT_UNCERTAIN)
				res->rcpt[i].state = res->rcpt[i].state == OUTBOX_RCPT_UNCERTAIN ? OUTBOX_RCPT_UNCERTAIN
												   : OUTBOX_RCPT_QUEUED;
	}
	strv_free(to);
	return rc;
}

int outbox_send(outbox *h, int in_fd, const outbox_send_request *req, outbox_send_result **out)
{
	outbox_send_result *res = calloc(1, sizeof *res);
	outbox_account *account = NULL;
	struct message_options mo;
	struct message_info info;
	struct spool sp;
	struct spool_writer w;
	char domain[256], **chain = NULL;
	const char *sender, *at;
	int have_spool = 0, have_writer = 0, by_default = 0, rc;
	size_t i;

	*out = NULL;
	memset(&info, 0, sizeof info);
	if (res == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	if (req->envelope_from && *req->envelope_from &&
	    (rc = deliver_check_envelope(h, "from", req->envelope_from)) < 0)
		goto done;
	for (i = 0; req->recipients && req->recipients[i]; i++)
		if ((rc = deliver_check_envelope(h, "recipient", req->recipients[i])) < 0)
			goto done;
	if ((rc = deliver_account_before_reading(h, req, &account)) < 0)
		goto done;
	/* Until the From: header is read, the default account stands in (its address goes into a
	 * From: header only when the message has none, and then it is the account used). */
	if (account == NULL) {
		by_default = 1;
		if (deliver_default_account(h, &account) < 0)
			outbox_clear_error(h);
	}

	memset(&mo, 0, sizeof mo);
	mo.extract_recipients = req->extract_recipients;
	mo.dot_ends_input = req->dot_ends_input;
	mo.from_address = account ? outbox_account_get(account, OUTBOX_ACCOUNT_ADDRESS) : req->envelope_from;
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
	if (account == NULL && (rc = deliver_default_account(h, &account)) < 0)
		goto done;
	res->account = strdup(outbox_account_get(account, OUTBOX_ACCOUNT_ADDRESS));
	sender = req->envelope_from ? req->envelope_from : outbox_account_get(account, OUTBOX_ACCOUNT_ADDRESS);

	for (i = 0; req->recipients && req->recipients[i]; i++)
		if ((rc = deliver_add_recipient(h, res, req->recipients[i])) < 0)
			goto done;
	for (i = 0; info.recipients && info.recipients[i]; i++)
		if ((rc = deliver_check_envelope(h, "recipient", info.recipients[i])) < 0 ||
		    (rc = deliver_add_recipient(h, res, info.recipients[i])) < 0)
			goto done;
	if (res->count == 0) {
		rc = outbox_fail(h, OUTBOX_EINVALID, "recipient",
				 "no recipients: name them after the options, or use -t to take them from the "
				 "To, Cc and Bcc headers");
		goto done;
	}
	if ((rc = deliver_chain(h, req, account, &chain)) < 0)
		goto done;

	if (req->queue_only) {
		free(res->server);
		res->server = strdup(chain[0]);
		rc = deliver_enqueue(h, &sp, &w, req, account, sender, &info, res, "queued without an attempt (--queue-only)");
		goto done;
	}
	rc = deliver_through_chain(h, req, chain, sender, &info, w.fd, res);
	rc = deliver_summarise(h, rc, res);
	deliver_record(h, rc, res, sender);
	/* A temporary failure is not the user's problem: the outbox takes the message. */
	if (!req->no_queue && (rc == OUTBOX_ETEMPFAIL || rc == OUTBOX_EPROTOCOL ||
			       (rc == OUTBOX_EREFUSED && deliver_has_deferred(res)))) {
		char why[600];
		snprintf(why, sizeof why, "%s", outbox_errmsg(h));
		int qrc = deliver_enqueue(h, &sp, &w, req, account, sender, &info, res, why);
		if (qrc < 0)
			rc = qrc;
		else
			rc = deliver_has_refused(res) ? OUTBOX_EREFUSED : 0;
	}
done:
	if (have_writer)
		spool_writer_close(&w);
	if (have_spool)
		spool_close_dir(&sp);
	strv_free(chain);
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

void outbox_send_result_free(outbox_send_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->count; i++) {
		free(r->rcpt[i].address);
		free(r->rcpt[i].reply);
	}
	free(r->rcpt);
	free(r->account);
	free(r->server);
	free(r->message_id);
	free(r);
}
