/* smtpd_param.c: the parameters after MAIL's and RCPT's path (RFC 5321 4.1.2): BODY, SMTPUTF8 and
 * DSN's RET, ENVID, NOTIFY and ORCPT (RFC 3461), the DSN ones judged by dsn.c as -N/-R/-V are. */
#include <stdio.h>
#include <string.h>

#include "smtpd.h"
#include "smtpd_internal.h"

/* ENVID's xtext, decoded and held to what outbox_send takes (dsn.c decides). 0, or -1 with the
 * reply made. */
static int param_envid(struct smtpd *s, const char *v, size_t n, struct smtpd_params *out)
{
	struct buf value = BUF_INIT;
	const char *why;
	int rc = dsn_xtext_decode(&value, v, n);

	if (rc == -2) {
		buf_free(&value);
		smtpd_reply(s, "451 4.3.0 Out of memory");
		return -1;
	}
	if (rc < 0) {
		buf_free(&value);
		return smtpd_refuse(s, "501 5.5.4 ENVID is not xtext (RFC 3461 4)");
	}
	why = dsn_envid_problem(value.data ? value.data : "");
	if (why == NULL)
		snprintf(out->dsn.envid, sizeof out->dsn.envid, "%s", value.data);
	buf_free(&value);
	if (why)
		return smtpd_refuse(s, "501 5.5.4 ENVID: %s", why);
	return 0;
}

/* ORCPT=addr-type;xtext, checked for its form only. It is not passed on: the request has one
 * list of recipients, and smtp.c writes each one's ORCPT from the address itself, which is the
 * address the client put in RCPT TO; carrying the client's would need a new field per recipient
 * in the public API for what, from a local program, names the same address. */
static int param_orcpt(struct smtpd *s, const char *v, size_t n)
{
	struct buf value = BUF_INIT;
	const char *semi = memchr(v, ';', n);
	size_t i;
	int rc;

	for (i = 0; semi && v + i < semi; i++)
		if (!((v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') ||
		      v[i] == '-'))
			break;
	if (semi == NULL || semi == v || v + i != semi || semi + 1 == v + n)
		return smtpd_refuse(s, "501 5.5.4 ORCPT must be addr-type;xtext (RFC 3461 4.2)");
	rc = dsn_xtext_decode(&value, semi + 1, (size_t)(v + n - semi - 1));
	buf_free(&value);
	if (rc == -2) {
		smtpd_reply(s, "451 4.3.0 Out of memory");
		return -1;
	}
	if (rc < 0)
		return smtpd_refuse(s, "501 5.5.4 ORCPT's address is not xtext (RFC 3461 4)");
	return 0;
}

int smtpd_param_parse(struct smtpd *s, const char *p, int is_mail, struct smtpd_params *out)
{
	char value[SMTPD_MAX_LINE]; /* a value as a string for dsn.c: it fits, as the line did */

	memset(out, 0, sizeof *out);
	while (*p) {
		const char *w, *eq, *v;
		size_t n, vn;
		int *seen = NULL;

		if (*p != ' ')
			return smtpd_refuse(s, "501 5.5.4 Syntax: a space must come before each parameter");
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		for (w = p; *p && *p != ' '; p++)
			;
		n = (size_t)(p - w);
		eq = memchr(w, '=', n);
		v = eq ? eq + 1 : w + n;
		vn = eq ? n - (size_t)(v - w) : 0;
		if (is_mail && eq && smtpd_word_is(w, (size_t)(eq - w), "BODY")) {
			if (!smtpd_word_is(v, vn, "7BIT") && !smtpd_word_is(v, vn, "8BITMIME"))
				return smtpd_refuse(s, "501 5.5.4 BODY must be 7BIT or 8BITMIME");
		} else if (is_mail && smtpd_word_is(w, n, "SMTPUTF8")) {
			out->smtputf8 = 1;
		} else if (is_mail && eq && smtpd_word_is(w, (size_t)(eq - w), "RET")) {
			seen = &out->has_ret;
			snprintf(value, sizeof value, "%.*s", (int)vn, v);
			if (*seen || dsn_ret_canonical(value, out->dsn.ret, sizeof out->dsn.ret) < 0)
				return smtpd_refuse(s, "501 5.5.4 RET must be FULL or HDRS, once");
		} else if (is_mail && eq && smtpd_word_is(w, (size_t)(eq - w), "ENVID")) {
			seen = &out->has_envid;
			if (*seen)
				return smtpd_refuse(s, "501 5.5.4 ENVID given twice");
			if (param_envid(s, v, vn, out) < 0)
				return -1;
		} else if (!is_mail && eq && smtpd_word_is(w, (size_t)(eq - w), "NOTIFY")) {
			seen = &out->has_notify;
			snprintf(value, sizeof value, "%.*s", (int)vn, v);
			if (*seen || dsn_notify_canonical(value, out->dsn.notify, sizeof out->dsn.notify) < 0)
				return smtpd_refuse(s, "501 5.5.4 NOTIFY must be NEVER, or a comma list of SUCCESS, FAILURE "
						 "and DELAY, once");
		} else if (!is_mail && eq && smtpd_word_is(w, (size_t)(eq - w), "ORCPT")) {
			seen = &out->has_orcpt;
			if (*seen)
				return smtpd_refuse(s, "501 5.5.4 ORCPT given twice");
			if (param_orcpt(s, v, vn) < 0)
				return -1;
		} else {
			char shown[64];

			snprintf(shown, sizeof shown, "%.*s", (int)(n > 60 ? 60 : n), w);
			smtpd_printable(shown);
			return smtpd_refuse(s, "555 5.5.4 %s parameter not recognized: %s", is_mail ? "MAIL FROM" : "RCPT TO",
				      shown);
		}
		if (seen)
			*seen = 1;
	}
	return 0;
}
