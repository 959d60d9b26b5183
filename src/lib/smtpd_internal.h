/* smtpd_internal.h: what the `sendmail -bs` engine (smtpd.c) shares with its reader of MAIL and
 * RCPT parameters (smtpd_param.c): the replies, and the parameters as they were read. */
#ifndef OUTBOX_SMTPD_INTERNAL_H
#define OUTBOX_SMTPD_INTERNAL_H

#include <stddef.h>

#include "dsn.h"
#include "smtpd.h"

/* What the parameters after a path asked for. */
struct smtpd_params {
	int smtputf8;
	int has_ret, has_envid, has_notify, has_orcpt;
	struct dsn_request dsn; /* RET and ENVID of MAIL, NOTIFY of RCPT; "" when not given */
};

/* "KEY" or "KEY=VALUE" words after a path. MAIL knows BODY, SMTPUTF8, RET and ENVID; RCPT knows
 * NOTIFY and ORCPT; anything else was not offered, and RFC 5321 4.1.1.11 answers 555 to a
 * parameter the server does not implement. A parameter given twice is a syntax error (RFC 3461
 * 4). Returns 0, or -1 with the reply made. */
int smtpd_param_parse(struct smtpd *s, const char *p, int is_mail, struct smtpd_params *out);

/* The reply to a command, with its CRLF; 0, so that a command can end with it. */
int smtpd_reply(struct smtpd *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A failed command's reply: counted, so a client that only makes errors is ended; -1. */
int smtpd_refuse(struct smtpd *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether s[0..n) is word, in any ASCII case. */
int smtpd_word_is(const char *s, size_t n, const char *word);
/* Words that reach the client (a server's, a checker's, its own echoed) on one line, with nothing
 * a terminal would obey: anything but printable ASCII becomes '?'. */
void smtpd_printable(char *text);

#endif
