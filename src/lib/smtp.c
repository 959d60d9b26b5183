/* smtp.c: the SMTP client state machine. One handler per expected reply decides what comes next;
 * commands are pipelined (RFC 2920) when offered, and BDAT (RFC 3030) replaces DATA when offered. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_advice.h"
#include "convert.h"
#include "dsn.h"
#include "handle_internal.h"
#include "outbox/send.h"
#include "sasl.h"
#include "secret.h"
#include "setup_address.h"
#include "smtp.h"

/* What each reply in flight answers, in order. */
enum smtp_role { R_GREETING, R_EHLO, R_HELO, R_STARTTLS, R_AUTH, R_AUTH_CANCEL, R_MAIL, R_RCPT,
		 R_DATA, R_DATA_END, R_BDAT, R_RSET, R_QUIT };

enum smtp_phase { P_TALK, P_START_TLS, P_BODY, P_READY, P_TXN_DONE, P_CLOSED, P_FAILED };

#define SMTP_MAX_INFLIGHT 4096

struct smtp {
	outbox *h;
	struct smtp_config cfg;
	enum smtp_phase phase;
	int error;
	int tls, ehlo_done_after_tls, used_helo;
	struct smtp_caps caps;
	struct buf out;
	struct buf in;
	struct {
		enum smtp_role role;
		size_t index;
	} expect[SMTP_MAX_INFLIGHT];
	size_t expect_head, expect_count;
	struct sasl_session *sasl;
	const char *mech;
	char cb_type[16];
	unsigned char cb[64];
	size_t cb_len;
	struct smtp_txn *txn;
	struct smtp_txn *next; /* begun behind txn's data (smtp_begin_next); current once txn ends */
	size_t next_rcpt;   /* without pipelining: the next RCPT to send */
	int bdat;
	int quit_sent;
	int sasl_done;      /* the mechanism finished its side (SCRAM: the server proved itself) */
	int need_rset;      /* the last transaction did not end with the data accepted */
	int mail_after_rset;/* without PIPELINING, MAIL waits for RSET's reply */
	int quit_ok;        /* the failure was a reply with nothing else in flight: both sides are in
			       step, so QUIT can still end the session as RFC 5321 4.1.1.10 asks */
	int sasl_cancel;    /* our side of the login failed while the server waits for an answer to its
			       challenge: "*" owes it one before QUIT (RFC 4954 4) */
};

static void smtp_log(struct smtp *e, char dir, const char *line, size_t len)
{
	if (e->cfg.transcript)
		e->cfg.transcript(e->cfg.transcript_ctx, dir, line, len);
}

/* Queue a command line. The transcript shows it whole, or, when `redact`, only its first `show`
 * bytes followed by "<redacted>", so no credential reaches a log. */
static int smtp_send_line(struct smtp *e, const char *line, int redact, size_t show)
{
	size_t len = strlen(line);

	if (buf_append(&e->out, line, len) < 0 || buf_append(&e->out, "\r\n", 2) < 0)
		return outbox_fail(e->h, OUTBOX_ENOMEM, NULL, "out of memory");
	if (redact) {
		char shown[128];
		snprintf(shown, sizeof shown, "%.*s<redacted>", (int)(show < 100 ? show : 100), line);
		smtp_log(e, '>', shown, strlen(shown));
	} else {
		smtp_log(e, '>', line, len);
	}
	return 0;
}

static void smtp_expect(struct smtp *e, enum smtp_role role, size_t index)
{
	size_t slot;

	if (e->expect_count == SMTP_MAX_INFLIGHT)
		return; /* cannot happen: callers cap recipients per transaction well below this */
	slot = (e->expect_head + e->expect_count) % SMTP_MAX_INFLIGHT;
	e->expect[slot].role = role;
	e->expect[slot].index = index;
	e->expect_count++;
}

static int smtp_fail(struct smtp *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int smtp_fail(struct smtp *e, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	e->phase = P_FAILED;
	e->error = code;
	return outbox_fail(e->h, code, NULL, "%s", msg);
}

/* A failure decided by the server's reply: 4xx temporary, 5xx permanent (with `perm_code`). */
static int smtp_fail_reply(struct smtp *e, const struct smtp_reply *r, int perm_code, const char *doing)
{
	char words[600];

	smtp_reply_line(r, words, sizeof words);
	if (r->code == 421)
		return smtp_fail(e, OUTBOX_ETEMPFAIL, "the server is shutting this connection down: %s", words);
	if (smtp_reply_class(r) == 4)
		return smtp_fail(e, OUTBOX_ETEMPFAIL, "the server refused %s for now: %s", doing, words);
	return smtp_fail(e, perm_code, "the server refused %s: %s", doing, words);
}

int smtp_new(outbox *h, const struct smtp_config *cfg, struct smtp **out)
{
	struct smtp *e = calloc(1, sizeof *e);

	*out = NULL;
	if (e == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	e->h = h;
	e->cfg = *cfg;
	e->tls = cfg->security == SMTP_SEC_TLS;
	buf_init(&e->out, 0);
	buf_init(&e->in, SMTP_REPLY_MAX_TOTAL * 2);
	e->phase = P_TALK;
	smtp_expect(e, R_GREETING, 0);
	*out = e;
	return 0;
}

void smtp_free(struct smtp *e)
{
	if (e == NULL)
		return;
	sasl_end(e->sasl);
	buf_free(&e->out);
	buf_free(&e->in);
	explicit_bzero(e->cb, sizeof e->cb);
	free(e);
}

static int smtp_wants_auth(const struct smtp *e)
{
	if (e->cfg.auth && strcmp(e->cfg.auth, "none") == 0)
		return 0;
	if (e->cfg.auth && strcmp(e->cfg.auth, "external") == 0)
		return 1;
	return e->cfg.user && *e->cfg.user;
}

static int smtp_send_ehlo(struct smtp *e)
{
	char line[300];

	snprintf(line, sizeof line, "EHLO %s", e->cfg.helo_name);
	smtp_expect(e, R_EHLO, 0);
	return smtp_send_line(e, line, 0, 0);
}

static int smtp_start_auth(struct smtp *e)
{
	struct sasl_params p;
	char *response = NULL;
	struct buf line = BUF_INIT;
	int done = 0, rc;

	if (!(e->caps.ext & SMTP_EXT_AUTH))
		return smtp_fail(e, OUTBOX_EUNAVAILABLE,
				 "the server does not offer authentication (AUTH)%s, but a user name is set: "
				 "remove it with --user \"\" if this server needs no login, or check the port",
				 e->tls ? "" : " on a connection without TLS");
	rc = sasl_choose(e->h, e->caps.auth, e->cfg.auth ? e->cfg.auth : "auto", e->tls, e->cfg.allow_insecure_auth,
			 e->cb_len > 0, &e->mech);
	if (rc < 0) {
		e->phase = P_FAILED;
		e->error = rc;
		return rc;
	}
	memset(&p, 0, sizeof p);
	p.user = e->cfg.user;
	p.password = e->cfg.password;
	p.host = e->cfg.host;
	p.port = e->cfg.port;
	if (e->cb_len) {
		p.cb_type = e->cb_type;
		p.cb_data = e->cb;
		p.cb_len = e->cb_len;
	}
	if ((rc = sasl_start(e->h, e->mech, &p, &e->sasl)) < 0) {
		e->phase = P_FAILED;
		e->error = rc;
		return rc;
	}
	if (sasl_has_initial_response(e->mech)) {
		if ((rc = sasl_step(e->h, e->sasl, NULL, &response, &done)) < 0) {
			e->phase = P_FAILED;
			e->error = rc;
			return rc;
		}
		e->sasl_done = done;
		rc = buf_printf(&line, "AUTH %s %s", e->mech, *response ? response : "=");
		secret_wipe(response);
	} else {
		rc = buf_printf(&line, "AUTH %s", e->mech);
	}
	if (rc < 0)
		return smtp_fail(e, OUTBOX_ENOMEM, "out of memory");
	smtp_expect(e, R_AUTH, 0);
	rc = smtp_send_line(e, line.data, sasl_has_initial_response(e->mech), strlen("AUTH ") + strlen(e->mech) + 1);
	buf_free(&line);
	return rc;
}

/* After the (last) EHLO: STARTTLS, AUTH or ready. */
static int smtp_after_ehlo(struct smtp *e)
{
	if (e->cfg.security == SMTP_SEC_STARTTLS && !e->tls) {
		if (!(e->caps.ext & SMTP_EXT_STARTTLS))
			return smtp_fail(e, OUTBOX_EUNAVAILABLE,
					 "the server does not offer STARTTLS, and this server's settings require "
					 "it; if the port expects TLS from the first byte (usually 465), set "
					 "--security tls");
		smtp_expect(e, R_STARTTLS, 0);
		return smtp_send_line(e, "STARTTLS", 0, 0);
	}
	if (smtp_wants_auth(e))
		return smtp_start_auth(e);
	e->phase = P_READY;
	return 0;
}

static int smtp_on_greeting(struct smtp *e, const struct smtp_reply *r)
{
	if (r->code != 220)
		return smtp_fail_reply(e, r, OUTBOX_EUNAVAILABLE, "the connection");
	return smtp_send_ehlo(e);
}

static int smtp_on_ehlo(struct smtp *e, const struct smtp_reply *r)
{
	if (r->code == 250) {
		smtp_caps_parse(r, &e->caps);
		return smtp_after_ehlo(e);
	}
	if (r->code == 421 || smtp_reply_class(r) == 4)
		return smtp_fail_reply(e, r, OUTBOX_EUNAVAILABLE, "EHLO");
	/* HELO only where nothing EHLO brings is needed. */
	if (e->cfg.security == SMTP_SEC_NONE && !smtp_wants_auth(e) && !e->used_helo) {
		char line[300];
		e->used_helo = 1;
		snprintf(line, sizeof line, "HELO %s", e->cfg.helo_name);
		smtp_expect(e, R_HELO, 0);
		return smtp_send_line(e, line, 0, 0);
	}
	return smtp_fail_reply(e, r, OUTBOX_EUNAVAILABLE,
			       "EHLO, without which it can do neither STARTTLS nor AUTH");
}

static int smtp_on_helo(struct smtp *e, const struct smtp_reply *r)
{
	if (r->code != 250)
		return smtp_fail_reply(e, r, OUTBOX_EUNAVAILABLE, "HELO");
	memset(&e->caps, 0, sizeof e->caps);
	e->phase = P_READY;
	return 0;
}

static int smtp_on_starttls(struct smtp *e, const struct smtp_reply *r)
{
	if (r->code != 220) {
		if (smtp_reply_class(r) == 4)
			return smtp_fail_reply(e, r, OUTBOX_ETEMPFAIL, "STARTTLS");
		return smtp_fail_reply(e, r, OUTBOX_EUNAVAILABLE, "STARTTLS (nothing was sent without TLS)");
	}
	/* Anything already received came before the handshake and cannot be trusted. */
	if (e->in.len > 0)
		return smtp_fail(e, OUTBOX_EUNAVAILABLE,
				 "the server sent %zu bytes after its STARTTLS reply, before TLS started: this is "
				 "how a man-in-the-middle injects commands, so outbox stopped", e->in.len);
	e->phase = P_START_TLS;
	return 0;
}

static int smtp_on_auth(struct smtp *e, const struct smtp_reply *r)
{
	char *response = NULL, words[600], advice[600];
	const char *name = e->cfg.name && *e->cfg.name ? e->cfg.name : "NAME";
	int done = 0, rc, known;

	if (r->code == 235) {
		/* SCRAM is mutual: success without the server's proof is not success. */
		if (!e->sasl_done && strncmp(e->mech, "SCRAM", 5) == 0)
			return smtp_fail(e, OUTBOX_EAUTH,
					 "the server accepted the login without proving it knows the password "
					 "(SCRAM): refusing to trust it");
		sasl_end(e->sasl);
		e->sasl = NULL;
		e->phase = P_READY;
		return 0;
	}
	if (r->code == 334) {
		if ((rc = sasl_step(e->h, e->sasl, r->text, &response, &done)) < 0) {
			/* The failure stands; closing answers the challenge with "*" (smtp_quit) so the
			 * server ends the exchange cleanly instead of waiting for an answer. */
			e->phase = P_FAILED;
			e->error = rc;
			e->sasl_cancel = 1;
			return rc;
		}
		e->sasl_done = done;
		smtp_expect(e, R_AUTH, 0);
		rc = smtp_send_line(e, response, 1, 0);
		secret_wipe(response);
		return rc;
	}
	/* The providers' known replies say what to do (auth_advice.c, as `server check` says it). */
	known = auth_advice_words(r, e->cfg.oauth ? AUTH_ADVICE_OAUTH : AUTH_ADVICE_PASSWORD, name, advice,
				  sizeof advice);
	if (r->code == 535 || r->code == 534 || r->code == 530 || smtp_reply_class(r) == 5) {
		if (!known)
			snprintf(advice, sizeof advice, "check the user name and password (outbox server edit %s "
				 "--password-prompt)", name);
		return smtp_fail(e, r->code == 538 ? OUTBOX_EUNAVAILABLE : OUTBOX_EAUTH,
				 "the server refused the login for \"%s\" with %s: %s; %s", e->cfg.user ? e->cfg.user : "",
				 e->mech, smtp_reply_line(r, words, sizeof words), advice);
	}
	if (known && smtp_reply_class(r) == 4 && r->code != 421)
		return smtp_fail(e, OUTBOX_ETEMPFAIL, "the server refused the login for now: %s; %s",
				 smtp_reply_line(r, words, sizeof words), advice);
	return smtp_fail_reply(e, r, OUTBOX_EAUTH, "the login");
}

static int smtp_is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

/* Whether the transaction needs SMTPUTF8: UTF-8 in the headers, or an address that is not ASCII. */
static int smtp_txn_utf8(const struct smtp_txn *t)
{
	size_t i;

	if (t->smtputf8 || !smtp_is_ascii(t->from))
		return 1;
	for (i = 0; i < t->nrcpt; i++)
		if (!smtp_is_ascii(t->rcpt[i].address))
			return 1;
	return 0;
}

/* An envelope address as this server takes it: as it is, or, for a server without SMTPUTF8, with
 * its domain as A-labels ("a@bücher.test" goes as "a@xn--bcher-kva.test", RFC 5890), which the
 * same mailbox answers to. Only a UTF-8 local part has no ASCII form: *why says so. */
static int smtp_address_for(const struct smtp *e, const char *addr, char *out, size_t size, char *why, size_t why_size)
{
	const char *at = strrchr(addr, '@');
	int rc;

	if (smtp_is_ascii(addr) || (e->caps.ext & SMTP_EXT_SMTPUTF8)) {
		if ((size_t)snprintf(out, size, "%s", addr) >= size) {
			snprintf(why, why_size, "it is too long");
			return OUTBOX_EINVALID;
		}
		return 0;
	}
	for (const char *p = addr; at && p < at; p++)
		if ((unsigned char)*p >= 0x80)
			at = NULL;
	if (at == NULL || (size_t)(at + 1 - addr) >= size) {
		snprintf(why, why_size, "its local part is UTF-8, which only a server with SMTPUTF8 takes");
		return OUTBOX_EINVALID;
	}
	memcpy(out, addr, (size_t)(at + 1 - addr));
	rc = setup_address_ascii(at + 1, out + (at + 1 - addr), size - (size_t)(at + 1 - addr), why, why_size);
	return rc;
}

/* MAIL FROM with the parameters the server offers and the message needs. */
static int smtp_send_mail(struct smtp *e)
{
	struct smtp_txn *t = e->txn;
	struct buf line = BUF_INIT;
	char from[SMTP_ADDRESS_MAX], why[160];
	int rc;

	/* smtp_check_txn made sure every address has a form this server takes. */
	if (smtp_address_for(e, t->from, from, sizeof from, why, sizeof why) < 0)
		return smtp_fail(e, OUTBOX_EUNAVAILABLE, "the sender %s cannot go to this server: %s", t->from, why);
	rc = buf_printf(&line, "MAIL FROM:<%s>", from);
	if (rc == 0 && (e->caps.ext & SMTP_EXT_SIZE))
		rc = buf_printf(&line, " SIZE=%lld", (long long)t->size);
	if (rc == 0 && t->body_8bit && (e->caps.ext & SMTP_EXT_8BITMIME))
		rc = buf_puts(&line, " BODY=8BITMIME");
	if (rc == 0 && (e->caps.ext & SMTP_EXT_SMTPUTF8) && smtp_txn_utf8(t))
		rc = buf_puts(&line, " SMTPUTF8");
	if (rc == 0 && (e->caps.ext & SMTP_EXT_DSN))
		rc = buf_printf(&line, " RET=%s", dsn_ret_or_default(t->dsn_ret));
	if (rc == 0 && (e->caps.ext & SMTP_EXT_DSN) && t->envid && *t->envid) {
		rc = buf_puts(&line, " ENVID=");
		if (rc == 0)
			rc = dsn_xtext(&line, t->envid);
	}
	if (rc < 0) {
		buf_free(&line);
		return smtp_fail(e, OUTBOX_ENOMEM, "out of memory");
	}
	smtp_expect(e, R_MAIL, 0);
	rc = smtp_send_line(e, line.data, 0, 0);
	buf_free(&line);
	return rc;
}

static int smtp_send_rcpt(struct smtp *e, size_t i)
{
	struct buf line = BUF_INIT;
	char to[SMTP_ADDRESS_MAX], why[160];
	int rc;

	if (smtp_address_for(e, e->txn->rcpt[i].address, to, sizeof to, why, sizeof why) < 0)
		return smtp_fail(e, OUTBOX_EUNAVAILABLE, "the recipient %s cannot go to this server: %s",
				 e->txn->rcpt[i].address, why);
	rc = buf_printf(&line, "RCPT TO:<%s>", to);
	if (rc == 0 && (e->caps.ext & SMTP_EXT_DSN)) {
		rc = buf_printf(&line, " NOTIFY=%s ORCPT=", dsn_notify_or_default(e->txn->dsn_notify));
		if (rc == 0)
			rc = dsn_orcpt(&line, e->txn->rcpt[i].address);
	}
	if (rc < 0) {
		buf_free(&line);
		return smtp_fail(e, OUTBOX_ENOMEM, "out of memory");
	}
	smtp_expect(e, R_RCPT, i);
	rc = smtp_send_line(e, line.data, 0, 0);
	buf_free(&line);
	return rc;
}

/* The command that introduces the body; for BDAT the body follows at once. */
static int smtp_send_data_command(struct smtp *e)
{
	char line[64];

	if (e->bdat) {
		snprintf(line, sizeof line, "BDAT %lld LAST", (long long)e->txn->size);
		smtp_expect(e, R_BDAT, 0);
		if (smtp_send_line(e, line, 0, 0) < 0)
			return -1;
		e->phase = P_BODY;
		return 0;
	}
	smtp_expect(e, R_DATA, 0);
	return smtp_send_line(e, "DATA", 0, 0);
}

/* MAIL, and with PIPELINING every RCPT and the DATA or BDAT command, in one flight. */
static int smtp_send_transaction(struct smtp *e)
{
	struct smtp_txn *t = e->txn;
	size_t i;
	int rc;

	if ((rc = smtp_send_mail(e)) < 0)
		return rc;
	if (e->caps.ext & SMTP_EXT_PIPELINING) {
		for (i = 0; i < t->nrcpt; i++)
			if ((rc = smtp_send_rcpt(e, i)) < 0)
				return rc;
		e->next_rcpt = t->nrcpt;
		return smtp_send_data_command(e);
	}
	return 0;
}

static size_t smtp_accepted(const struct smtp_txn *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->nrcpt; i++)
		n += t->rcpt[i].state == SMTP_RCPT_ACCEPTED;
	return n;
}

/* The transaction is over: its replies are in the smtp_txn, for the delivery policy to judge;
 * the engine only needs to know whether the server may still hold it open. */
static void smtp_finish_txn(struct smtp *e)
{
	e->phase = P_TXN_DONE;
	/* A transaction that ended before an answer to its data may still be open on the server;
	 * an answered DATA, BDAT or end of data closes it whatever the answer. */
	e->need_rset = e->txn->data_reply.code == 0;
}

static int smtp_on_mail(struct smtp *e, const struct smtp_reply *r)
{
	struct smtp_txn *t = e->txn;

	t->mail_reply = *r;
	if (smtp_reply_class(r) == 2) {
		if (!(e->caps.ext & SMTP_EXT_PIPELINING))
			return smtp_send_rcpt(e, e->next_rcpt++);
		return 0;
	}
	if (e->caps.ext & SMTP_EXT_PIPELINING)
		return 0; /* the RCPT and DATA replies still in flight settle it */
	smtp_finish_txn(e);
	return 0;
}

static int smtp_on_rcpt(struct smtp *e, const struct smtp_reply *r, size_t i)
{
	struct smtp_txn *t = e->txn;

	t->rcpt[i].reply = *r;
	t->rcpt[i].state = smtp_reply_class(r) == 2 ? SMTP_RCPT_ACCEPTED : SMTP_RCPT_NOT_ACCEPTED;
	if (e->caps.ext & SMTP_EXT_PIPELINING)
		return 0;
	if (e->next_rcpt < t->nrcpt)
		return smtp_send_rcpt(e, e->next_rcpt++);
	if (smtp_accepted(t) == 0) {
		smtp_finish_txn(e);
		return 0;
	}
	return smtp_send_data_command(e);
}

static int smtp_on_data(struct smtp *e, const struct smtp_reply *r)
{
	struct smtp_txn *t = e->txn;

	if (r->code == 354) {
		if (smtp_accepted(t) == 0) {
			/* Pipelined DATA went out before the recipients were refused: end it empty. */
			smtp_expect(e, R_DATA_END, 0);
			return smtp_send_line(e, ".", 0, 0);
		}
		e->phase = P_BODY;
		return 0;
	}
	/* DATA is the last command of a group, so every reply of the transaction is in. */
	if (smtp_accepted(t) == 0) {
		smtp_finish_txn(e);
		return 0;
	}
	t->data_reply = *r;
	smtp_finish_txn(e);
	return 0;
}

static int smtp_on_data_end(struct smtp *e, const struct smtp_reply *r)
{
	struct smtp_txn *t = e->txn;

	if (smtp_accepted(t) == 0) {
		smtp_finish_txn(e);
		return 0;
	}
	/* Only 250 accepts the data. Another 2xx here is out of step, such as the 221 to a pipelined
	 * QUIT from a server that never answered the data: whether it has the message is unknown. */
	if (smtp_reply_class(r) == 2 && r->code != 250) {
		char words[600];

		smtp_fail(e, OUTBOX_ETEMPFAIL,
			  "the server answered the message data with \"%s\" instead of 250: it may have "
			  "been delivered", smtp_reply_line(r, words, sizeof words));
		return 0;
	}
	t->data_reply = *r;
	smtp_finish_txn(e);
	return 0;
}

static int smtp_dispatch(struct smtp *e, enum smtp_role role, size_t index, const struct smtp_reply *r)
{
	switch (role) {
	case R_GREETING: return smtp_on_greeting(e, r);
	case R_EHLO: return smtp_on_ehlo(e, r);
	case R_HELO: return smtp_on_helo(e, r);
	case R_STARTTLS: return smtp_on_starttls(e, r);
	case R_AUTH: return smtp_on_auth(e, r);
	case R_AUTH_CANCEL:
		/* The server's answer to "*" (501 as a rule) changes nothing: the login failed already.
		 * Without pipelining, QUIT waited for it. */
		if (!(e->caps.ext & SMTP_EXT_PIPELINING)) {
			smtp_expect(e, R_QUIT, 0);
			smtp_send_line(e, "QUIT", 0, 0);
		}
		return 0;
	case R_MAIL: return smtp_on_mail(e, r);
	case R_RCPT: return smtp_on_rcpt(e, r, index);
	case R_DATA: return smtp_on_data(e, r);
	case R_DATA_END:
	case R_BDAT: return smtp_on_data_end(e, r);
	case R_RSET: /* only a 2xx gets here (smtp_reply_fits) */
		if (e->mail_after_rset) {
			e->mail_after_rset = 0;
			return smtp_send_transaction(e);
		}
		return 0;
	case R_QUIT:
		/* Pipelined after the data, its reply is only read once the data's was reported. */
		e->phase = P_CLOSED;
		return 0;
	}
	return 0;
}

/* Whether `code` can answer the command in `role` (RFC 5321 4.3.2; STARTTLS RFC 3207, AUTH RFC
 * 4954, BDAT RFC 3030). Any other code means the replies and the commands are out of step: read
 * on, and a 550 to DATA would be taken for a recipient's refusal. A 421 is handled before. */
static int smtp_reply_fits(enum smtp_role role, int code)
{
	int cls = code / 100;

	if (role == R_QUIT || role == R_AUTH_CANCEL)
		return 1;
	if (role == R_RSET)
		return cls == 2;
	if (cls == 4 || cls == 5)
		return 1;
	switch (role) {
	case R_GREETING:
	case R_STARTTLS: return code == 220;
	case R_EHLO:
	case R_HELO: return code == 250;
	case R_AUTH: return code == 235 || code == 334;
	case R_DATA: return code == 354;
	default: return cls == 2; /* MAIL, RCPT, the end of the data, BDAT */
	}
}

/* The command a reply was taken to answer, as a person would recognise it in a message. */
static const char *smtp_role_words(const struct smtp *e, enum smtp_role role, size_t index, char *out, size_t size)
{
	const struct smtp_txn *t = e->txn;

	switch (role) {
	case R_GREETING: return "the connection (a greeting)";
	case R_EHLO: return "EHLO";
	case R_HELO: return "HELO";
	case R_STARTTLS: return "STARTTLS";
	case R_AUTH: snprintf(out, size, "AUTH %s", e->mech ? e->mech : ""); return out;
	case R_MAIL: snprintf(out, size, "MAIL FROM:<%s>", t ? t->from : ""); return out;
	case R_RCPT:
		snprintf(out, size, "RCPT TO:<%s>", t && index < t->nrcpt ? t->rcpt[index].address : "");
		return out;
	case R_DATA: return "DATA";
	case R_DATA_END: return "the end of the message data (\".\")";
	case R_BDAT: return "BDAT";
	case R_RSET: return "RSET";
	case R_AUTH_CANCEL: return "the cancelled login (\"*\")";
	case R_QUIT: return "QUIT";
	}
	return "";
}

/* A reply the command it was matched with cannot get. When the data is out, the server may
 * still have the message: the words say so, and the transaction stays uncertain. */
static void smtp_fail_out_of_step(struct smtp *e, enum smtp_role role, size_t index, const struct smtp_reply *r)
{
	char words[600], command[400];

	smtp_reply_line(r, words, sizeof words);
	smtp_fail(e, OUTBOX_EPROTOCOL,
		  "protocol error: the server's reply \"%s\" cannot answer %s, so its replies are out of "
		  "step with the commands%s", words, smtp_role_words(e, role, index, command, sizeof command),
		  e->txn && smtp_txn_uncertain(e->txn) ? "; the message was sent, so it may have been delivered" : "");
}

/* Bytes from the server when no reply is due. Matched with the next command, they would shift
 * every reply after them onto the wrong command. */
static void smtp_fail_unasked(struct smtp *e)
{
	struct smtp_reply r;
	char words[600];
	ssize_t used = smtp_reply_parse(e->in.data, e->in.len, &r);

	if (used > 0) {
		smtp_log(e, '<', e->in.data, (size_t)used);
		if (r.code == 421) {
			smtp_fail_reply(e, &r, OUTBOX_ETEMPFAIL, "the session");
			return;
		}
		smtp_reply_line(&r, words, sizeof words);
	} else {
		snprintf(words, sizeof words, "%zu bytes", e->in.len);
	}
	smtp_fail(e, OUTBOX_EPROTOCOL, "protocol error: the server sent a reply nobody asked for: %s", words);
}

static void smtp_drain(struct smtp *e);

void smtp_input(struct smtp *e, const char *data, size_t len)
{
	if (e->phase == P_FAILED || e->phase == P_CLOSED)
		return;
	if (len == 0) {
		if (e->quit_sent && (e->expect_count <= 1 || e->phase == P_TXN_DONE)) {
			e->phase = e->phase == P_TXN_DONE ? P_TXN_DONE : P_CLOSED;
			e->expect_count = 0;
			return;
		}
		if (e->txn && smtp_txn_uncertain(e->txn) && e->phase != P_TXN_DONE) {
			smtp_fail(e, OUTBOX_ETEMPFAIL,
				  "the connection was lost after the message was sent and before the server "
				  "confirmed it: it may have been delivered");
			return;
		}
		smtp_fail(e, OUTBOX_ETEMPFAIL, "the server closed the connection%s",
			  e->expect_count && e->expect[e->expect_head].role == R_GREETING ? " before greeting" : "");
		return;
	}
	if (buf_append(&e->in, data, len) < 0) {
		smtp_fail(e, OUTBOX_EPROTOCOL, "the server sent more than %d bytes without completing a reply",
			  SMTP_REPLY_MAX_TOTAL * 2);
		return;
	}
	smtp_drain(e);
}

/* Hand each complete reply in the input buffer to its handler. Draining stops when a transaction
 * ends: its outcome is settled and the caller sees it first; whatever comes after it (the next
 * transaction's replies, QUIT's, or something nobody asked for) is read once the caller goes on,
 * and can only fail the session, never undo the finished transaction. */
static void smtp_drain(struct smtp *e)
{
	struct smtp_reply r;
	ssize_t used;

	while (e->in.len > 0 && (e->phase == P_TALK || e->phase == P_READY || e->phase == P_BODY)) {
		enum smtp_role role;
		size_t index;

		/* While the body waits to go out, no reply is due: not even BDAT's, whose chunk the
		 * server has not seen. */
		if (e->expect_count == 0 || e->phase == P_BODY) {
			smtp_fail_unasked(e);
			return;
		}
		used = smtp_reply_parse(e->in.data, e->in.len, &r);
		if (used == 0)
			return;
		if (used < 0) {
			smtp_fail(e, OUTBOX_EPROTOCOL, "the server's reply is not valid SMTP: %s",
				  smtp_reply_strerror((int)used));
			return;
		}
		smtp_log(e, '<', e->in.data, (size_t)used);
		memmove(e->in.data, e->in.data + used, e->in.len - (size_t)used);
		e->in.len -= (size_t)used;
		e->in.data[e->in.len] = '\0';
		role = e->expect[e->expect_head].role;
		index = e->expect[e->expect_head].index;
		e->expect_head = (e->expect_head + 1) % SMTP_MAX_INFLIGHT;
		e->expect_count--;
		if (r.code == 421 && role != R_QUIT) {
			/* A 421 to the data is still an answer to it: refused for now, not lost. */
			if ((role == R_DATA_END || role == R_BDAT) && e->txn)
				e->txn->data_reply = r;
			smtp_fail_reply(e, &r, OUTBOX_ETEMPFAIL, "the session");
			return;
		}
		if (!smtp_reply_fits(role, r.code)) {
			smtp_fail_out_of_step(e, role, index, &r);
			return;
		}
		smtp_dispatch(e, role, index, &r);
		/* A SASL challenge waits for an answer, not for QUIT: only "*" can answer it. */
		if (e->phase == P_FAILED)
			e->quit_ok = e->expect_count == 0 && e->in.len == 0 &&
				     !(role == R_AUTH && r.code == 334 && !e->sasl_cancel);
	}
}

enum smtp_action smtp_next(struct smtp *e)
{
	if (e->out.len > 0 && e->phase != P_FAILED)
		return SMTP_WRITE;
	/* Replies that arrived with the previous transaction's last one are already here; when the
	 * session is ready, nothing is due and such bytes are a fault of the session. */
	if ((e->phase == P_TALK || e->phase == P_READY) && e->in.len > 0)
		smtp_drain(e);
	if (e->out.len > 0 && e->phase != P_FAILED)
		return SMTP_WRITE;
	switch (e->phase) {
	case P_START_TLS: return SMTP_START_TLS;
	case P_BODY: return SMTP_BODY;
	case P_READY: return SMTP_READY;
	case P_TXN_DONE:
		if (e->next) {
			/* The next transaction is on the wire already: it becomes the current one. */
			e->txn = e->next;
			e->next = NULL;
			e->phase = P_TALK;
			return SMTP_TXN_DONE;
		}
		e->phase = e->quit_sent ? (e->expect_count ? P_TALK : P_CLOSED) : P_READY;
		return SMTP_TXN_DONE;
	case P_CLOSED: return SMTP_CLOSED;
	case P_FAILED: return SMTP_FAILED;
	default:
		return e->expect_count ? SMTP_READ : SMTP_CLOSED;
	}
}

const char *smtp_output(const struct smtp *e, size_t *len)
{
	*len = e->out.len;
	return e->out.data;
}

void smtp_consume_output(struct smtp *e)
{
	buf_reset(&e->out);
}

void smtp_tls_started(struct smtp *e, const char *cb_type, const unsigned char *cb, size_t cb_len)
{
	e->tls = 1;
	memset(&e->caps, 0, sizeof e->caps); /* what was offered in clear no longer counts */
	if (cb && cb_len <= sizeof e->cb && cb_type) {
		memcpy(e->cb, cb, cb_len);
		e->cb_len = cb_len;
		snprintf(e->cb_type, sizeof e->cb_type, "%s", cb_type);
	}
	e->phase = P_TALK;
	if (e->cfg.security == SMTP_SEC_STARTTLS)
		smtp_send_ehlo(e);
}

/* A message within outbox_send's limit always fits in the window of replies awaited. */
_Static_assert(OUTBOX_SEND_MAX_RECIPIENTS <= SMTP_MAX_INFLIGHT - 8,
	       "a transaction's MAIL, RCPTs and data fit in the window of replies awaited");

unsigned smtp_needs_7bit(const struct smtp *e, const struct smtp_txn *t)
{
	unsigned what = 0;

	if (t->body_8bit && !(e->caps.ext & SMTP_EXT_8BITMIME))
		what |= CONVERT_8BIT;
	if (t->smtputf8 && !(e->caps.ext & SMTP_EXT_SMTPUTF8))
		what |= CONVERT_HEADERS;
	return what;
}

/* Whether this server can take the transaction at all; the handle says why not. */
static int smtp_check_txn(struct smtp *e, const struct smtp_txn *t)
{
	char addr[SMTP_ADDRESS_MAX], why[160];
	size_t i;

	if (t->nrcpt == 0 || t->nrcpt > SMTP_MAX_INFLIGHT - 8)
		return outbox_fail(e->h, OUTBOX_EINVALID, "recipients", "between 1 and %d recipients per message",
				   SMTP_MAX_INFLIGHT - 8);
	/* Still needing a conversion here means the 7-bit copy could not be made (session.c). */
	if (smtp_needs_7bit(e, t) & CONVERT_8BIT)
		return outbox_fail(e->h, OUTBOX_EUNAVAILABLE, NULL,
				   "the message has 8-bit data that cannot be re-encoded (in a header) and the "
				   "server does not offer 8BITMIME: send through another server");
	if (smtp_needs_7bit(e, t) & CONVERT_HEADERS)
		return outbox_fail(e->h, OUTBOX_EUNAVAILABLE, NULL,
				   "the message has UTF-8 in a header that has no ASCII form (a local part of "
				   "an address, or a field such as Message-ID) and the server does not offer "
				   "SMTPUTF8: send through a server that does");
	/* A UTF-8 domain goes as A-labels; a UTF-8 local part has no form without SMTPUTF8. */
	for (i = 0; i <= t->nrcpt; i++) {
		const char *a = i < t->nrcpt ? t->rcpt[i].address : t->from;
		if (smtp_address_for(e, a, addr, sizeof addr, why, sizeof why) < 0)
			return outbox_fail(e->h, OUTBOX_EUNAVAILABLE, NULL,
					   "the address %s cannot go to this server: %s; send through a server "
					   "that offers SMTPUTF8", a, why);
	}
	if ((e->caps.ext & SMTP_EXT_SIZE) && e->caps.size && (unsigned long long)t->size > e->caps.size)
		return outbox_fail(e->h, OUTBOX_EREFUSED, NULL,
				   "the message is %lld bytes and the server accepts at most %llu", (long long)t->size,
				   e->caps.size);
	return 0;
}

static void smtp_reset_txn(struct smtp_txn *t)
{
	size_t i;

	memset(&t->mail_reply, 0, sizeof t->mail_reply);
	memset(&t->data_reply, 0, sizeof t->data_reply);
	t->data_sent = 0;
	t->unsuitable = 0;
	for (i = 0; i < t->nrcpt; i++) {
		t->rcpt[i].state = SMTP_RCPT_PENDING;
		memset(&t->rcpt[i].reply, 0, sizeof t->rcpt[i].reply);
	}
}

int smtp_begin(struct smtp *e, struct smtp_txn *t)
{
	int rc;

	if (e->phase != P_READY)
		return outbox_fail(e->h, OUTBOX_EPROTOCOL, NULL, "internal error: transaction started out of turn");
	smtp_reset_txn(t);
	/* Something the server sent after the last transaction ended: it fails the session here,
	 * before this transaction's commands could be matched with it. */
	if (e->in.len > 0) {
		smtp_fail_unasked(e);
		return e->error;
	}
	if ((rc = smtp_check_txn(e, t)) < 0) {
		t->unsuitable = 1;
		return rc;
	}
	e->txn = t;
	e->bdat = (e->caps.ext & SMTP_EXT_CHUNKING) != 0;
	e->next_rcpt = 0;
	e->phase = P_TALK;
	if (e->need_rset) {
		e->need_rset = 0;
		smtp_expect(e, R_RSET, 0);
		if ((rc = smtp_send_line(e, "RSET", 0, 0)) < 0)
			return rc;
		/* RSET may lead a pipelined group; without PIPELINING, MAIL waits for its reply. */
		if (!(e->caps.ext & SMTP_EXT_PIPELINING)) {
			e->mail_after_rset = 1;
			return 0;
		}
	}
	return smtp_send_transaction(e);
}

int smtp_begin_next(struct smtp *e, struct smtp_txn *t)
{
	struct smtp_txn *cur;
	int rc;

	/* Only behind DATA's final ".": it ends the transaction on the server whatever the reply, so
	 * the next one needs no RSET, and RFC 2920 lets MAIL follow it in the same group. */
	if (!(e->caps.ext & SMTP_EXT_PIPELINING) || e->bdat || e->next || e->quit_sent || e->phase != P_TALK ||
	    !e->txn || !e->txn->data_sent)
		return outbox_fail(e->h, OUTBOX_EINVALID, NULL, "the next transaction cannot be begun yet");
	if ((rc = smtp_check_txn(e, t)) < 0)
		return rc;
	smtp_reset_txn(t);
	cur = e->txn;
	e->txn = t; /* the commands are written from the transaction they belong to */
	rc = smtp_send_transaction(e);
	e->txn = cur;
	if (rc == 0)
		e->next = t;
	return rc;
}

int smtp_is_current(const struct smtp *e, const struct smtp_txn *t)
{
	return e->txn == t && e->phase != P_READY && e->phase != P_FAILED && e->phase != P_CLOSED;
}

int smtp_body_is_bdat(const struct smtp *e)
{
	return e->bdat;
}

void smtp_body_sent(struct smtp *e)
{
	char note[64];

	snprintf(note, sizeof note, "<%lld bytes of message data>", (long long)e->txn->size);
	smtp_log(e, '>', note, strlen(note));
	e->txn->data_sent = 1;
	e->phase = P_TALK;
	if (!e->bdat) {
		smtp_expect(e, R_DATA_END, 0);
		smtp_send_line(e, ".", 0, 0);
	}
	if (e->txn->last && (e->caps.ext & SMTP_EXT_PIPELINING))
		smtp_quit(e);
}

int smtp_can_quit(const struct smtp *e)
{
	return !e->quit_sent && (e->phase == P_READY || (e->phase == P_FAILED && e->quit_ok));
}

void smtp_quit(struct smtp *e)
{
	if (e->quit_sent || (e->phase == P_FAILED && !e->quit_ok))
		return;
	if (e->phase == P_FAILED) {
		/* The failure stands (smtp_error); the dialogue only goes on for QUIT's reply. */
		buf_reset(&e->out);
		e->phase = P_TALK;
	}
	e->quit_sent = 1;
	if (e->sasl_cancel) {
		e->sasl_cancel = 0;
		smtp_expect(e, R_AUTH_CANCEL, 0);
		smtp_send_line(e, "*", 0, 0);
		if (!(e->caps.ext & SMTP_EXT_PIPELINING))
			return; /* QUIT follows the answer to "*" (smtp_dispatch) */
	}
	smtp_expect(e, R_QUIT, 0);
	smtp_send_line(e, "QUIT", 0, 0);
	if (e->phase == P_READY)
		e->phase = P_TALK;
}

int smtp_error(const struct smtp *e)
{
	return e->error;
}

const struct smtp_caps *smtp_capabilities(const struct smtp *e)
{
	return &e->caps;
}

const char *smtp_auth_mechanism(const struct smtp *e)
{
	return e->mech;
}

int smtp_tls_active(const struct smtp *e)
{
	return e->tls;
}

int smtp_awaiting_greeting(const struct smtp *e)
{
	return e->expect_count > 0 && e->expect[e->expect_head].role == R_GREETING;
}

const char *smtp_awaited(const struct smtp *e, char *out, size_t size, size_t *received)
{
	*received = e->in.len;
	if (e->expect_count == 0)
		return "";
	return smtp_role_words(e, e->expect[e->expect_head].role, e->expect[e->expect_head].index, out, size);
}
