/* dsn.h: what a message asks of delivery status notifications (RFC 3461: NOTIFY, RET, ENVID),
 * checked in one place for every front end, and written as MAIL and RCPT parameters. */
#ifndef OUTBOX_DSN_H
#define OUTBOX_DSN_H

#include "buf.h"
#include "outbox/error.h"

#define DSN_ENVID_MAX 100 /* octets of the ENVID parameter, xtext included (RFC 3461 4.4) */

/* Each value in its canonical form, "" for the default (NOTIFY=FAILURE,DELAY, RET=HDRS, ENVID=
 * the Message-ID): what the queue stores and what smtp.c sends. */
struct dsn_request {
	char notify[sizeof "SUCCESS,FAILURE,DELAY"]; /* "NEVER" or a list in this order */
	char ret[sizeof "HDRS"];                     /* "HDRS" or "FULL" */
	char envid[DSN_ENVID_MAX + 1];               /* printable ASCII, not yet xtext */
};

/* The parts of dsn_check, for a front end that words its own refusals (the -bs server): 0 and
 * the canonical form in out, or -1 for a value that is not NOTIFY's (RET's). */
int dsn_notify_canonical(const char *v, char *out, size_t size);
int dsn_ret_canonical(const char *v, char *out, size_t size);
/* Why an envelope id cannot be sent (not printable ASCII, empty, too long as xtext), or NULL. */
const char *dsn_envid_problem(const char *envid);

/* Check the three values (NULL for the default) as sendmail's -N, -R and -V give them, case
 * aside, and fill *out. A bad one is OUTBOX_EINVALID naming its flag. */
int dsn_check(outbox *h, const char *notify, const char *ret, const char *envid, struct dsn_request *out);

/* The value to send: the request's, else the default. */
const char *dsn_notify_or_default(const char *notify);
const char *dsn_ret_or_default(const char *ret);

/* ORCPT's value for an address (RFC 3461 4.2, RFC 6533 3): "rfc822;" and xtext for an ASCII
 * one, "utf-8;" and utf-8-addr-xtext (\x{HEX} for what xtext cannot carry) for the others. */
int dsn_orcpt(struct buf *out, const char *address);
/* xtext (RFC 3461 4) of a value, for ENVID and an ASCII ORCPT. */
int dsn_xtext(struct buf *out, const char *value);
/* The value of n octets of xtext appended to out: 0; -1 for what is not xtext (a character
 * xtext escapes, "+" without two upper-case hex digits, an escaped NUL); -2 out of memory. */
int dsn_xtext_decode(struct buf *out, const char *in, size_t n);

#endif
