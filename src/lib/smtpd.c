/* smtpd.c: a small, strict SMTP server engine (RFC 5321, with PIPELINING, 8BITMIME, SMTPUTF8 and
 * ENHANCEDSTATUSCODES, DSN) for `sendmail -bs`: commands parsed from bounded lines, DATA unstuffed as
 * it streams by, one reply per command in order. The caller does the reading and writing; the
 * parameters after MAIL's and RCPT's path are read in smtpd_param.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpd.h"
#include "smtpd_internal.h"
#include "outbox/send.h"

#define PATH_MAX_OCTETS 256 /* RFC 5321 4.5.3.1.3: a path, the brackets included */

enum smtpd_state {
	ST_START,   /* no EHLO or HELO yet */
	ST_READY,   /* greeted; no transaction */
	ST_MAIL,    /* MAIL taken, no recipient yet */
	ST_RCPT,    /* at least one recipient */
	ST_DATA,    /* reading the message */
	ST_DELIVER, /* the message ended; its reply comes from smtpd_delivered */
	ST_CLOSED
};

/* Where DATA stands: a line's first octet decides between data, a stuffed dot and the end. */
enum smtpd_data_state {
	DS_LINE_START,
	DS_DOT,    /* a line began with '.': the end if the line ends here, else the dot is dropped */
	DS_DOT_CR, /* "." then CR: the end if LF follows */
	DS_MIDDLE
};

static int ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

int smtpd_word_is(const char *s, size_t n, const char *word)
{
	size_t i;

	if (strlen(word) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (ascii_lower((unsigned char)s[i]) != ascii_lower((unsigned char)word[i]))
			return 0;
	return 1;
}

/* Whether s starts with prefix, in any case. */
static int starts_with(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strlen(s) >= n && smtpd_word_is(s, n, prefix);
}

int smtpd_reply(struct smtpd *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(s->reply, sizeof s->reply - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof s->reply - 3)
		n = (int)(sizeof s->reply - 3);
	memcpy(s->reply + n, "\r\n", 3);
	s->reply_len = (size_t)n + 2;
	return 0;
}

int smtpd_refuse(struct smtpd *s, const char *fmt, ...)
{
	char text[SMTPD_MAX_REPLY];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	s->errors++;
	smtpd_reply(s, "%s", text);
	return -1;
}

static void transaction_reset(struct smtpd *s)
{
	size_t i;

	for (i = 0; i < s->nrecipients; i++)
		free(s->recipients[i]);
	if (s->recipients)
		s->recipients[0] = NULL;
	s->nrecipients = 0;
	free(s->sender);
	s->sender = NULL;
	s->smtputf8 = 0;
	memset(&s->dsn, 0, sizeof s->dsn);
	if (s->state > ST_READY)
		s->state = ST_READY;
}

void smtpd_init(struct smtpd *s, const struct smtpd_config *cfg)
{
	memset(s, 0, sizeof *s);
	s->cfg = *cfg;
	if (s->cfg.hostname == NULL || *s->cfg.hostname == '\0')
		s->cfg.hostname = "localhost";
	if (s->cfg.max_recipients == 0)
		s->cfg.max_recipients = OUTBOX_SEND_MAX_RECIPIENTS;
	s->state = ST_START;
}

void smtpd_free(struct smtpd *s)
{
	transaction_reset(s);
	free(s->recipients);
	s->recipients = NULL;
	s->cap = 0;
}

void smtpd_greeting(struct smtpd *s)
{
	smtpd_reply(s, "220 %s ESMTP outbox", s->cfg.hostname);
}

/* The address between '<' and '>' at *p, a source route ("@a,@b:") dropped as RFC 5321 4.1.2
 * asks; a quoted local part may hold '>' or spaces. Returns 0 and moves *p past the '>', or -1. */
static int parse_path(const char **p, char *out, size_t size)
{
	const char *s = *p, *start;
	int quoted = 0;
	size_t n;

	if (*s++ != '<')
		return -1;
	if (*s == '@') {
		while (*s && *s != ':' && *s != '>')
			s++;
		if (*s++ != ':')
			return -1;
	}
	for (start = s; *s; s++) {
		if (quoted) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == '"')
				quoted = 0;
		} else if (*s == '"') {
			quoted = 1;
		} else if (*s == '>') {
			break;
		} else if (*s == ' ' || *s == '<') {
			return -1;
		}
	}
	if (*s != '>' || (n = (size_t)(s - start)) >= size)
		return -1;
	memcpy(out, start, n);
	out[n] = '\0';
	*p = s + 1;
	return 0;
}

/* local@domain with both sides present (the last '@' divides them, as a quoted local part may
 * hold one); a recipient may also be a bare local name, for the checker to judge. */
static int mailbox_ok(const char *a, int bare_allowed)
{
	const char *at = strrchr(a, '@');

	if (*a == '\0')
		return 0;
	if (at == NULL)
		return bare_allowed;
	return at != a && at[1] != '\0';
}

static int has_8bit(const char *a)
{
	for (; *a; a++)
		if ((unsigned char)*a >= 0x80)
			return 1;
	return 0;
}

void smtpd_printable(char *text)
{
	for (; *text; text++)
		if ((unsigned char)*text < 0x20 || (unsigned char)*text >= 0x7f)
			*text = '?';
}

/* The checker's refusal, or 0. */
static int check_address(struct smtpd *s, const char *field, const char *address)
{
	char why[SMTPD_MAX_REPLY - 8];

	if (s->cfg.check == NULL || s->cfg.check(s->cfg.ctx, field, address, why, sizeof why) == 0)
		return 0;
	smtpd_printable(why);
	smtpd_refuse(s, "%s", why);
	return -1;
}

static int cmd_mail(struct smtpd *s, const char *arg)
{
	char address[PATH_MAX_OCTETS];
	struct smtpd_params params;

	if (s->state == ST_START)
		return smtpd_refuse(s, "503 5.5.1 Error: send EHLO or HELO first");
	if (s->state != ST_READY)
		return smtpd_refuse(s, "503 5.5.1 Error: nested MAIL command");
	if (!starts_with(arg, "FROM:"))
		return smtpd_refuse(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
	arg += 5;
	while (*arg == ' ')
		arg++;
	if (parse_path(&arg, address, sizeof address) < 0 || (*address && !mailbox_ok(address, 0)))
		return smtpd_refuse(s, "501 5.1.7 Bad sender address syntax");
	if (smtpd_param_parse(s, arg, 1, &params) < 0)
		return -1;
	if (has_8bit(address) && !params.smtputf8)
		return smtpd_refuse(s, "553 5.6.7 A UTF-8 address needs the SMTPUTF8 parameter");
	if (*address && check_address(s, "from", address) < 0)
		return -1;
	if ((s->sender = strdup(address)) == NULL)
		return smtpd_reply(s, "451 4.3.0 Out of memory");
	s->smtputf8 = params.smtputf8;
	memcpy(s->dsn.ret, params.dsn.ret, sizeof s->dsn.ret);
	memcpy(s->dsn.envid, params.dsn.envid, sizeof s->dsn.envid);
	s->state = ST_MAIL;
	return smtpd_reply(s, "250 2.1.0 Ok");
}

static int add_recipient(struct smtpd *s, const char *address)
{
	char *copy;

	if (s->nrecipients + 1 >= s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		char **grown = realloc(s->recipients, cap * sizeof *grown);
		if (grown == NULL)
			return -1;
		s->recipients = grown;
		s->cap = cap;
	}
	if ((copy = strdup(address)) == NULL)
		return -1;
	s->recipients[s->nrecipients++] = copy;
	s->recipients[s->nrecipients] = NULL;
	return 0;
}

static int cmd_rcpt(struct smtpd *s, const char *arg)
{
	char address[PATH_MAX_OCTETS];
	struct smtpd_params params;

	if (s->state != ST_MAIL && s->state != ST_RCPT)
		return smtpd_refuse(s, "503 5.5.1 Error: need MAIL command");
	if (!starts_with(arg, "TO:"))
		return smtpd_refuse(s, "501 5.5.4 Syntax: RCPT TO:<address>");
	arg += 3;
	while (*arg == ' ')
		arg++;
	if (parse_path(&arg, address, sizeof address) < 0 || !mailbox_ok(address, 1))
		return smtpd_refuse(s, "501 5.1.3 Bad recipient address syntax");
	if (smtpd_param_parse(s, arg, 0, &params) < 0)
		return -1;
	/* RFC 5321 4.5.3.1.10: 452 for one too many, and the client sends the rest in another
	 * transaction; the limit is the send path's own. Not counted as an error. */
	if (s->nrecipients >= s->cfg.max_recipients)
		return smtpd_reply(s, "452 4.5.3 Error: too many recipients (at most %zu in one message)",
			     s->cfg.max_recipients);
	/* outbox_send takes one NOTIFY for the whole message, so the first recipient's holds; one
	 * that asks otherwise gets a 4xx (RFC 3461 5.2.1 lets a server refuse what it cannot
	 * accommodate), and the client sends it in a transaction of its own, as after a 452. Asking
	 * nothing is not asking the default: the message then gets the command line's -N, which may
	 * differ, so only the same request (canonical, or none) shares a transaction. */
	if (s->nrecipients > 0 && strcmp(params.dsn.notify, s->dsn.notify) != 0)
		return smtpd_reply(s, "455 4.5.4 One NOTIFY per message: send this recipient in a separate transaction");
	if (has_8bit(address) && !s->smtputf8)
		return smtpd_refuse(s, "553 5.6.7 A UTF-8 address needs SMTPUTF8 on MAIL FROM");
	if (check_address(s, "recipient", address) < 0)
		return -1;
	if (add_recipient(s, address) < 0)
		return smtpd_reply(s, "451 4.3.0 Out of memory");
	if (s->nrecipients == 1)
		memcpy(s->dsn.notify, params.dsn.notify, sizeof s->dsn.notify);
	s->state = ST_RCPT;
	return smtpd_reply(s, "250 2.1.5 Ok");
}

static int cmd_data(struct smtpd *s, const char *arg)
{
	if (*arg)
		return smtpd_refuse(s, "501 5.5.4 Syntax: DATA takes no argument");
	if (s->state == ST_MAIL)
		return smtpd_refuse(s, "554 5.5.1 Error: no valid recipients");
	if (s->state != ST_RCPT)
		return smtpd_refuse(s, "503 5.5.1 Error: need RCPT command");
	s->state = ST_DATA;
	s->data_state = DS_LINE_START;
	return smtpd_reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

static int cmd_hello(struct smtpd *s, const char *arg, int extended)
{
	const char *p;

	if (*arg == '\0')
		return smtpd_refuse(s, "501 5.5.4 Syntax: %s hostname", extended ? "EHLO" : "HELO");
	for (p = arg; *p; p++)
		if (*p == ' ')
			return smtpd_refuse(s, "501 5.5.4 Syntax: %s hostname (one word)", extended ? "EHLO" : "HELO");
	/* RFC 5321 4.1.4: a new EHLO ends any transaction, as RSET does. */
	transaction_reset(s);
	s->state = ST_READY;
	if (!extended)
		return smtpd_reply(s, "250 %s", s->cfg.hostname);
	/* Only what is implemented: no SIZE (no limit is enforced), no STARTTLS or AUTH (standard
	 * input is not a network). */
	return smtpd_reply(s, "250-%s\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-DSN\r\n"
		 "250-ENHANCEDSTATUSCODES\r\n250 HELP", s->cfg.hostname);
}

/* One command line, without its line end: 0 when it was taken, -1 when refused. */
static int command(struct smtpd *s, enum smtpd_event *ev)
{
	const char *line = s->line, *arg;
	size_t verb, i;

	*ev = SMTPD_REPLY;
	if (s->line_len > 0 && s->line[s->line_len - 1] == '\r')
		s->line_len--;
	s->line[s->line_len] = '\0';
	if (s->errors >= SMTPD_MAX_ERRORS) {
		s->state = ST_CLOSED;
		*ev = SMTPD_QUIT;
		return smtpd_reply(s, "421 4.7.0 %s Error: too many errors", s->cfg.hostname);
	}
	if (s->overlong)
		return smtpd_refuse(s, "500 5.5.2 Error: line too long (more than %d octets)", SMTPD_MAX_LINE);
	for (i = 0; i < s->line_len; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			return smtpd_refuse(s, "500 5.5.2 Error: a control character in the command");
	for (verb = 0; verb < s->line_len && line[verb] != ' '; verb++)
		;
	for (arg = line + verb; *arg == ' '; arg++)
		;

	if (smtpd_word_is(line, verb, "EHLO") || smtpd_word_is(line, verb, "HELO"))
		return cmd_hello(s, arg, ascii_lower((unsigned char)line[0]) == 'e');
	if (smtpd_word_is(line, verb, "MAIL"))
		return cmd_mail(s, arg);
	if (smtpd_word_is(line, verb, "RCPT"))
		return cmd_rcpt(s, arg);
	if (smtpd_word_is(line, verb, "DATA"))
		return cmd_data(s, arg);
	if (smtpd_word_is(line, verb, "RSET")) {
		if (*arg)
			return smtpd_refuse(s, "501 5.5.4 Syntax: RSET takes no argument");
		transaction_reset(s);
		return smtpd_reply(s, "250 2.0.0 Ok");
	}
	if (smtpd_word_is(line, verb, "NOOP"))
		return smtpd_reply(s, "250 2.0.0 Ok");
	if (smtpd_word_is(line, verb, "QUIT")) {
		if (*arg)
			return smtpd_refuse(s, "501 5.5.4 Syntax: QUIT takes no argument");
		transaction_reset(s);
		s->state = ST_CLOSED;
		*ev = SMTPD_QUIT;
		return smtpd_reply(s, "221 2.0.0 Bye");
	}
	if (smtpd_word_is(line, verb, "VRFY")) {
		if (*arg == '\0')
			return smtpd_refuse(s, "501 5.5.4 Syntax: VRFY address");
		return smtpd_reply(s, "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery");
	}
	if (smtpd_word_is(line, verb, "HELP"))
		return smtpd_reply(s, "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP");
	if (smtpd_word_is(line, verb, "EXPN") || smtpd_word_is(line, verb, "STARTTLS") ||
	    smtpd_word_is(line, verb, "AUTH") || smtpd_word_is(line, verb, "BDAT") ||
	    smtpd_word_is(line, verb, "ETRN") || smtpd_word_is(line, verb, "TURN"))
		return smtpd_refuse(s, "502 5.5.1 Error: command not implemented");
	return smtpd_refuse(s, "500 5.5.2 Error: command not recognized");
}

static size_t end_of_data(struct smtpd *s, enum smtpd_event *ev, size_t used)
{
	s->state = ST_DELIVER;
	*ev = SMTPD_MESSAGE;
	return used;
}

/* RFC 5321 4.5.2: a line "." ends the data; a dot that starts any other line is dropped. A line
 * ends at LF, with or without CR before it, as the send path reads a message the same way: what
 * ends the data here is a line end there too. Nothing is copied: data points into the input. */
static size_t data_feed(struct smtpd *s, const char *in, size_t len, enum smtpd_event *ev)
{
	size_t i = 0;

	while (i < len) {
		switch (s->data_state) {
		case DS_LINE_START:
			s->data_state = in[i] == '.' ? DS_DOT : DS_MIDDLE;
			i += in[i] == '.';
			break;
		case DS_DOT:
			if (in[i] == '\n')
				return end_of_data(s, ev, i + 1);
			if (in[i] == '\r') {
				s->data_state = DS_DOT_CR;
				i++;
			} else {
				s->data_state = DS_MIDDLE;
			}
			break;
		case DS_DOT_CR:
			if (in[i] == '\n')
				return end_of_data(s, ev, i + 1);
			/* ".\r" and more on the line: the dot goes, the CR is data held back till now. */
			s->data_state = DS_MIDDLE;
			s->data = "\r";
			s->data_len = 1;
			*ev = SMTPD_DATA;
			return i;
		default: {
			const char *lf = memchr(in + i, '\n', len - i);
			size_t end = lf ? (size_t)(lf - in) + 1 : len;

			if (lf)
				s->data_state = DS_LINE_START;
			s->data = in + i;
			s->data_len = end - i;
			*ev = SMTPD_DATA;
			return end;
		}
		}
	}
	*ev = SMTPD_MORE;
	return len;
}

size_t smtpd_feed(struct smtpd *s, const char *in, size_t len, enum smtpd_event *ev)
{
	size_t i;

	s->data_len = 0;
	s->reply_len = 0;
	if (s->state == ST_DATA)
		return data_feed(s, in, len, ev);
	if (s->state == ST_DELIVER || s->state == ST_CLOSED) {
		/* A caller's mistake: nothing is taken until the message has its reply. */
		*ev = s->state == ST_CLOSED ? SMTPD_QUIT : SMTPD_MESSAGE;
		return 0;
	}
	for (i = 0; i < len; i++) {
		if (in[i] == '\n') {
			command(s, ev);
			s->line_len = 0;
			s->overlong = 0;
			return i + 1;
		}
		/* Room for the CR, the LF that is not stored, and a NUL. */
		if (s->line_len < SMTPD_MAX_LINE - 1)
			s->line[s->line_len++] = in[i];
		else
			s->overlong = 1;
	}
	*ev = SMTPD_MORE;
	return len;
}

int smtpd_eof(struct smtpd *s)
{
	int open = s->state == ST_MAIL || s->state == ST_RCPT || s->state == ST_DATA;

	transaction_reset(s);
	s->state = ST_CLOSED;
	return open;
}

void smtpd_delivered(struct smtpd *s, int code, const char *enhanced, const char *words)
{
	char text[SMTPD_MAX_REPLY - 32];

	snprintf(text, sizeof text, "%s", words ? words : "");
	smtpd_printable(text);
	transaction_reset(s);
	s->state = ST_READY;
	/* A refused or failed message is the server's answer, not the client's error: only bad
	 * commands count toward the session's end. */
	smtpd_reply(s, "%d %s %s", code, enhanced, *text ? text : "Ok");
}
