/* dsn.c: delivery status notification requests (RFC 3461) checked once, whichever front end
 * filled them, and the encodings their parameters need (xtext, RFC 6533's utf-8-addr-xtext). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dsn.h"
#include "handle_internal.h"

static int dsn_xtext_escaped(unsigned char c);

static const char *const dsn_notify_words[] = {"SUCCESS", "FAILURE", "DELAY"};

int dsn_notify_canonical(const char *v, char *out, size_t size)
{
	unsigned seen = 0;
	const char *p = v, *comma;
	size_t i, n;

	if (strcasecmp(v, "never") == 0) {
		snprintf(out, size, "NEVER");
		return 0;
	}
	for (;;) {
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		for (i = 0; i < 3; i++)
			if (n == strlen(dsn_notify_words[i]) && strncasecmp(p, dsn_notify_words[i], n) == 0)
				break;
		if (i == 3)
			return -1;
		seen |= 1u << i;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	out[0] = '\0';
	for (i = 0; i < 3; i++)
		if (seen & (1u << i))
			snprintf(out + strlen(out), size - strlen(out), "%s%s", out[0] ? "," : "", dsn_notify_words[i]);
	return 0;
}

int dsn_ret_canonical(const char *v, char *out, size_t size)
{
	if (strcasecmp(v, "hdrs") != 0 && strcasecmp(v, "full") != 0)
		return -1;
	snprintf(out, size, "%s", strcasecmp(v, "hdrs") == 0 ? "HDRS" : "FULL");
	return 0;
}

/* Octets of a value once written as xtext: each escape takes three. */
static size_t dsn_xtext_length(const char *value)
{
	const unsigned char *p;
	size_t n = 0;

	for (p = (const unsigned char *)value; *p; p++)
		n += dsn_xtext_escaped(*p) ? 3 : 1;
	return n;
}

#define DSN_STRINGIFY(x) #x
#define DSN_NUMBER(x) DSN_STRINGIFY(x)

const char *dsn_envid_problem(const char *envid)
{
	const char *p;

	for (p = envid; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return "the envelope id must be printable ASCII (RFC 3461 ENVID)";
	if (*envid == '\0')
		return "the envelope id is empty";
	/* The limit is on the parameter as sent, so it counts the xtext escapes. */
	if (dsn_xtext_length(envid) > DSN_ENVID_MAX)
		return "the envelope id is longer than " DSN_NUMBER(DSN_ENVID_MAX) " octets as xtext (RFC 3461 ENVID)";
	return NULL;
}

int dsn_check(outbox *h, const char *notify, const char *ret, const char *envid, struct dsn_request *out)
{
	const char *why;

	memset(out, 0, sizeof *out);
	if (notify && dsn_notify_canonical(notify, out->notify, sizeof out->notify) < 0)
		return outbox_fail(h, OUTBOX_EINVALID, "-N",
				   "\"%.40s\" is not a DSN NOTIFY value: use never, or a comma list of "
				   "success, failure and delay", notify);
	if (ret && dsn_ret_canonical(ret, out->ret, sizeof out->ret) < 0)
		return outbox_fail(h, OUTBOX_EINVALID, "-R", "\"%.40s\" is not a DSN RET value: use hdrs or full",
				   ret);
	if (envid == NULL)
		return 0;
	if ((why = dsn_envid_problem(envid)) != NULL)
		return outbox_fail(h, OUTBOX_EINVALID, "-V", "%s", why);
	snprintf(out->envid, sizeof out->envid, "%s", envid);
	return 0;
}

const char *dsn_notify_or_default(const char *notify)
{
	return notify && *notify ? notify : "FAILURE,DELAY";
}

const char *dsn_ret_or_default(const char *ret)
{
	return ret && *ret ? ret : "HDRS";
}

/* RFC 3461 4: xtext carries "!" to "~" as themselves, but "+" and "=", which it escapes. */
static int dsn_xtext_escaped(unsigned char c)
{
	return c < 33 || c > 126 || c == '+' || c == '=';
}

int dsn_xtext(struct buf *out, const char *value)
{
	const unsigned char *p;

	for (p = (const unsigned char *)value; *p; p++) {
		int rc = dsn_xtext_escaped(*p) ? buf_printf(out, "+%02X", *p) : buf_append(out, p, 1);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int dsn_hex_digit(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int dsn_xtext_decode(struct buf *out, const char *in, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		int hi, lo;

		if (c == '+') {
			/* RFC 3461 4: exactly two upper-case hex digits after the plus. */
			if (i + 2 >= n || (hi = dsn_hex_digit(in[i + 1])) < 0 || (lo = dsn_hex_digit(in[i + 2])) < 0)
				return -1;
			/* A NUL would end the value early wherever it is used as a string. */
			if ((c = (unsigned char)(hi << 4 | lo)) == 0)
				return -1;
			i += 2;
		} else if (dsn_xtext_escaped(c)) {
			return -1;
		}
		if (buf_append(out, &c, 1) < 0)
			return -2;
	}
	return 0;
}

/* The code point of the UTF-8 sequence at s, and its length in *n; a byte that starts no valid
 * sequence stands for itself (the address was validated, so this is only a guard). */
static unsigned long dsn_code_point(const unsigned char *s, size_t *n)
{
	unsigned long cp;
	size_t len, i;

	if (s[0] < 0x80) {
		*n = 1;
		return s[0];
	}
	len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
	cp = len == 4 ? s[0] & 0x07u : len == 3 ? s[0] & 0x0fu : s[0] & 0x1fu;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			break;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if (len == 0 || i < len) {
		*n = 1;
		return s[0];
	}
	*n = len;
	return cp;
}

int dsn_orcpt(struct buf *out, const char *address)
{
	const unsigned char *p = (const unsigned char *)address;
	size_t n;
	int ascii = 1;

	for (; *p; p++)
		ascii &= *p < 0x80;
	if (ascii)
		return buf_puts(out, "rfc822;") < 0 ? -1 : dsn_xtext(out, address);
	if (buf_puts(out, "utf-8;") < 0)
		return -1;
	/* RFC 6533's QCHAR is printable ASCII but "\", "+" and "="; everything else, the non-ASCII
	 * characters included, goes as \x{HEX} with the code point in upper-case hex. */
	for (p = (const unsigned char *)address; *p; p += n) {
		unsigned long cp = dsn_code_point(p, &n);
		/* n == 1: an overlong sequence that decodes to ASCII is escaped too, never copied as
		 * its raw octets. */
		int rc = (n == 1 && cp > 0x20 && cp < 0x7f && cp != '\\' && cp != '+' && cp != '=')
				 ? buf_append(out, p, 1)
				 : buf_printf(out, "\\x{%02lX}", cp);
		if (rc < 0)
			return -1;
	}
	return 0;
}
