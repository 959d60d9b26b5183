/* smtp_reply.c: reads SMTP replies and EHLO capabilities from raw server bytes, so that nothing a
 * broken or hostile server sends can make the client read, keep or believe more than the limits. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "smtp_reply.h"
#include "validate.h"

#define STR_(x) #x
#define STR(x) STR_(x)

/* RFC 4422: a SASL mechanism name is 1 to 20 of A-Z, 0-9, '-' and '_'. */
#define MECH_MAX 20

/* Our own ASCII case folding: strcasecmp follows the locale, and in some locales 'I' does not
 * fold to 'i', which would make "plain" and "PLAIN" different mechanisms. */
static unsigned char ascii_upper(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? (unsigned char)(c - 'a' + 'A') : c;
}

static int ascii_caseeq(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (ascii_upper((unsigned char)a[i]) != ascii_upper((unsigned char)b[i]))
			return 0;
	}
	return 1;
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int is_alnum(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Keep what fits: an over-long reply loses its tail, it is not refused, because the code already
 * says what happened and the text is only there for people. */
static void text_add(struct smtp_reply *r, const unsigned char *s, size_t n)
{
	size_t room = sizeof r->text - 1 - r->text_len;

	if (n > room)
		n = room;
	memcpy(r->text + r->text_len, s, n);
	r->text_len += n;
	r->text[r->text_len] = '\0';
}

/* Length of an RFC 3463 code "class.subject.detail" at the start of s[0..n), with its numbers in
 * e[], or 0 when there is none. The class must be the reply's own (2, 4 or 5), and the code must
 * end the text or be followed by a space, so "2.0.0x" or "5.1.1.2" stay text. */
static size_t enhanced_code(const unsigned char *s, size_t n, int class, int e[3])
{
	size_t i = 2, digits;
	int part, v;

	if (class != 2 && class != 4 && class != 5)
		return 0;
	if (n < 5 || s[0] != '0' + class || s[1] != '.')
		return 0;
	e[0] = class;
	for (part = 1; part < 3; part++) {
		for (v = 0, digits = 0; i < n && is_digit(s[i]) && digits <= 3; i++, digits++)
			v = v * 10 + (s[i] - '0');
		if (digits == 0 || digits > 3)
			return 0;
		e[part] = v;
		if (part == 1) {
			if (i >= n || s[i] != '.')
				return 0;
			i++;
		}
	}
	if (i < n && s[i] != ' ')
		return 0;
	return i;
}

/* Take the text of one complete line (after the code and separator): strip an enhanced code the
 * first time one appears, and again on later lines when it repeats, as servers do on every line;
 * a different one is kept as text rather than lost. */
static void line_text(struct smtp_reply *r, const unsigned char *t, size_t n)
{
	int e[3];
	size_t skip = enhanced_code(t, n, r->code / 100, e);

	if (skip > 0) {
		if (r->enhanced[0] == 0)
			memcpy(r->enhanced, e, sizeof e);
		else if (memcmp(r->enhanced, e, sizeof e) != 0)
			skip = 0;
		while (skip > 0 && skip < n && t[skip] == ' ')
			skip++;
	}
	if (r->lines > 0)
		text_add(r, (const unsigned char *)"\n", 1);
	text_add(r, t + skip, n - skip);
}

/* One pass over the bytes, each byte judged once and in order, so the first fault in the stream
 * is the one reported, and a prefix of a stream never reports a different error than the whole:
 * a caller may call again with more bytes and trust an error the moment it appears. */
ssize_t smtp_reply_parse(const char *buf, size_t len, struct smtp_reply *r)
{
	const unsigned char *s = (const unsigned char *)buf;
	unsigned char first[3] = {0, 0, 0}; /* the first line's code, which every line must repeat */
	size_t start = 0;

	r->code = 0;
	memset(r->enhanced, 0, sizeof r->enhanced);
	r->lines = 0;
	r->text_len = 0;
	r->text[0] = '\0';

	for (;;) {
		size_t stop = len, i, end;

		/* Never look further than the line or the reply may reach: past that it is an error
		 * whatever follows, and a server streaming garbage cannot keep us waiting for more. */
		if (stop > start + SMTP_REPLY_MAX_LINE)
			stop = start + SMTP_REPLY_MAX_LINE;
		if (stop > SMTP_REPLY_MAX_TOTAL)
			stop = SMTP_REPLY_MAX_TOTAL;
		for (i = start; i < stop; i++) {
			unsigned char c = s[i];
			size_t col = i - start;

			if (col < 3) {
				if (!is_digit(c) || (col == 0 && (c < '2' || c > '5')))
					return SMTP_REPLY_EBADCODE;
				if (r->lines == 0)
					first[col] = c;
				else if (c != first[col])
					return SMTP_REPLY_EMIXED;
				continue;
			}
			if (c == '\n')
				break;
			if (c == '\r') {
				/* Judged by the next byte; looking only inside `stop` keeps the verdict
				 * the same however the stream is split. */
				if (i + 1 < stop && s[i + 1] != '\n')
					return SMTP_REPLY_ECONTROL;
				continue;
			}
			if (col == 3) {
				if (c != ' ' && c != '-')
					return SMTP_REPLY_EBADSEP;
				continue;
			}
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return SMTP_REPLY_ECONTROL;
		}
		if (i == stop) {
			if (i - start >= SMTP_REPLY_MAX_LINE)
				return SMTP_REPLY_ELINE;
			if (i >= SMTP_REPLY_MAX_TOTAL)
				return SMTP_REPLY_ETOTAL;
			return SMTP_REPLY_INCOMPLETE;
		}

		/* s[i] is the LF ending a line of at least the three digits. */
		end = i;
		if (end > start + 3 && s[end - 1] == '\r')
			end--;
		if (r->lines == 0)
			r->code = (first[0] - '0') * 100 + (first[1] - '0') * 10 + (first[2] - '0');
		line_text(r, s + start + 4, end > start + 3 ? end - start - 4 : 0);
		r->lines++;
		/* "250\r\n", with no separator at all, ends a reply like "250 \r\n". */
		if (end == start + 3 || s[start + 3] == ' ')
			return (ssize_t)(i + 1);
		start = i + 1;
	}
}

const char *smtp_reply_strerror(int err)
{
	switch (err) {
	case SMTP_REPLY_INCOMPLETE:
		return "the reply is not complete yet";
	case SMTP_REPLY_EBADCODE:
		return "a reply line does not start with a code from 200 to 599";
	case SMTP_REPLY_EBADSEP:
		return "a reply code is followed by neither a space nor a hyphen";
	case SMTP_REPLY_EMIXED:
		return "the lines of one reply carry different codes";
	case SMTP_REPLY_ELINE:
		return "a reply line is longer than " STR(SMTP_REPLY_MAX_LINE) " bytes";
	case SMTP_REPLY_ETOTAL:
		return "a reply is longer than " STR(SMTP_REPLY_MAX_TOTAL) " bytes";
	case SMTP_REPLY_ECONTROL:
		return "a reply line holds a NUL, a bare CR or another control character";
	default:
		return err > 0 ? "not an error" : "unknown reply error";
	}
}

int smtp_reply_class(const struct smtp_reply *r)
{
	return r->code / 100;
}

const char *smtp_reply_line(const struct smtp_reply *r, char *out, size_t size)
{
	char raw[SMTP_REPLY_MAX_TEXT + 32];
	size_t i;

	if (size == 0)
		return out;
	if (r->code == 0)
		raw[0] = '\0';
	else if (r->enhanced[0])
		snprintf(raw, sizeof raw, "%d %d.%d.%d %s", r->code, r->enhanced[0], r->enhanced[1], r->enhanced[2], r->text);
	else
		snprintf(raw, sizeof raw, "%d %s", r->code, r->text);
	for (i = 0; raw[i]; i++)
		if (raw[i] == '\n')
			raw[i] = ' ';
	/* The server's words are untrusted: whatever they hold reaches people only as escapes. */
	return validate_display(out, size, raw, i);
}

static const struct {
	const char *name;
	unsigned bit;
} known_ext[] = {
	{"STARTTLS", SMTP_EXT_STARTTLS},
	{"AUTH", SMTP_EXT_AUTH},
	{"PIPELINING", SMTP_EXT_PIPELINING},
	{"CHUNKING", SMTP_EXT_CHUNKING},
	{"8BITMIME", SMTP_EXT_8BITMIME},
	{"SMTPUTF8", SMTP_EXT_SMTPUTF8},
	{"DSN", SMTP_EXT_DSN},
	{"ENHANCEDSTATUSCODES", SMTP_EXT_ENHANCEDSTATUSCODES},
	{"SIZE", SMTP_EXT_SIZE},
	{"BINARYMIME", SMTP_EXT_BINARYMIME},
	{"REQUIRETLS", SMTP_EXT_REQUIRETLS},
};

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 1870: "SIZE" alone or "SIZE 0" means no fixed limit. A number we cannot hold is no limit we
 * could ever reach, so it reads as 0 too; anything that is not a number is not believed. When
 * SIZE repeats, the strictest limit counts: refusing early beats being cut off mid-message. */
static void caps_size(struct smtp_caps *caps, const char *p, const char *end)
{
	unsigned long long v = 0;
	const char *digits;

	while (p < end && is_blank(*p))
		p++;
	for (digits = p; p < end && is_digit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (ULLONG_MAX - d) / 10)
			return;
		v = v * 10 + d;
	}
	if (p == digits || (p < end && !is_blank(*p)))
		return;
	if (v != 0 && (caps->size == 0 || v < caps->size))
		caps->size = v;
}

/* Each mechanism once, upper case, single spaces; a malformed name or one that no longer fits is
 * skipped whole, so a cut never invents a mechanism. */
static void caps_auth(struct smtp_caps *caps, const char *p, const char *end)
{
	size_t used = strlen(caps->auth);

	while (p < end) {
		char mech[MECH_MAX + 1];
		const char *w;
		size_t n, k;
		int ok = 1;

		while (p < end && is_blank(*p))
			p++;
		for (w = p; p < end && !is_blank(*p); p++) {
			unsigned char c = (unsigned char)*p;

			if (!is_alnum(c) && c != '-' && c != '_')
				ok = 0;
		}
		n = (size_t)(p - w);
		if (n == 0 || n > MECH_MAX || !ok)
			continue;
		for (k = 0; k < n; k++)
			mech[k] = (char)ascii_upper((unsigned char)w[k]);
		mech[n] = '\0';
		if (smtp_caps_has_auth(caps, mech) || used + (used > 0) + n >= sizeof caps->auth)
			continue;
		if (used > 0)
			caps->auth[used++] = ' ';
		memcpy(caps->auth + used, mech, n + 1);
		used += n;
	}
}

/* One EHLO line: a keyword (RFC 5321: letters, digits, '-') then parameters after a space. The
 * pre-RFC 2554 form "AUTH=LOGIN PLAIN" is still sent by servers that serve old clients. */
static void caps_line(struct smtp_caps *caps, const char *p, const char *end)
{
	const char *kw = p;
	size_t n, k;

	while (p < end && (is_alnum((unsigned char)*p) || *p == '-'))
		p++;
	n = (size_t)(p - kw);
	if (n == 0)
		return;
	if (p < end && !is_blank(*p) && !(*p == '=' && n == 4 && ascii_caseeq(kw, "AUTH", 4)))
		return;
	for (k = 0; k < sizeof known_ext / sizeof known_ext[0]; k++) {
		if (strlen(known_ext[k].name) == n && ascii_caseeq(kw, known_ext[k].name, n))
			break;
	}
	if (k == sizeof known_ext / sizeof known_ext[0])
		return;
	caps->ext |= known_ext[k].bit;
	if (known_ext[k].bit == SMTP_EXT_SIZE)
		caps_size(caps, p, end);
	else if (known_ext[k].bit == SMTP_EXT_AUTH)
		caps_auth(caps, p < end && *p == '=' ? p + 1 : p, end);
}

void smtp_caps_parse(const struct smtp_reply *ehlo, struct smtp_caps *caps)
{
	const char *p = ehlo->text, *end, *eol;
	size_t n = strnlen(ehlo->text, sizeof ehlo->text);
	/* A text filled to the brim may have lost the end of its last line; reading what is left
	 * could turn "AUTH PLAIN LOGIN" into a mechanism "LOG", so that line is left out. */
	int cut = ehlo->text_len >= sizeof ehlo->text - 1;

	memset(caps, 0, sizeof *caps);
	/* Only a 250 offers anything: after a refusal the client falls back to HELO and plain SMTP. */
	if (ehlo->code != 250)
		return;
	if (ehlo->text_len < n)
		n = ehlo->text_len;
	end = p + n;
	/* The first line is the server's greeting, not a keyword, whatever it says. */
	eol = memchr(p, '\n', n);
	while (eol != NULL) {
		p = eol + 1;
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL && cut)
			break;
		caps_line(caps, p, eol ? eol : end);
	}
}

int smtp_caps_has_auth(const struct smtp_caps *caps, const char *mech)
{
	size_t n, i = 0, w;

	if (mech == NULL || *mech == '\0')
		return 0;
	n = strlen(mech);
	while (i < sizeof caps->auth && caps->auth[i] != '\0') {
		for (w = i; i < sizeof caps->auth && caps->auth[i] != '\0' && caps->auth[i] != ' '; i++)
			;
		if (i - w == n && ascii_caseeq(caps->auth + w, mech, n))
			return 1;
		while (i < sizeof caps->auth && caps->auth[i] == ' ')
			i++;
	}
	return 0;
}
