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

#endif
