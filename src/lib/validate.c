/* validate.c: the checks behind every value a user types, so a bad value is refused where it is
 * given, with a one-line message that names the field and shows the value safely. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handle_internal.h"
#include "idna.h"
#include "retry.h"
#include "validate.h"

/* Enough of a value to recognise it; the rest would push the message past one line. */
#define SHOW_MAX 64
/* Worst case: every shown byte escaped as \xNN, one more character past the cut, quotes, "...". */
#define SHOW_SIZE (SHOW_MAX * 4 + 32)

#define HOST_MAX 253
#define LABEL_MAX 63
#define LOCAL_MAX 64
/* RFC 5321 allows 256 octets for the path, and two of them are the angle brackets. */
#define ADDRESS_MAX 254
#define NAME_MAX_LEN 64

static void append(char *out, size_t size, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void append(char *out, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(out + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len = (size_t)n < size - *len ? *len + (size_t)n : size - 1;
}

/* Length of the well-formed UTF-8 character at `s` (1-4) within `avail` bytes, or 0 when it is
 * not one. Overlong forms, surrogates and code points past U+10FFFF are refused, as RFC 3629
 * requires. */
static size_t utf8_char_in(const unsigned char *s, size_t avail, uint32_t *cp)
{
	uint32_t c, min;
	size_t n, i;

	if (avail == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2, c = s[0] & 0x1f, min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3, c = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n > avail)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* The same in a NUL-terminated string, where the NUL ends any character early. */
static size_t utf8_char(const unsigned char *s, uint32_t *cp)
{
	return utf8_char_in(s, 4, cp);
}

static int is_control(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

/* Invisible characters that can make a shown value look like a different one (bidi overrides,
 * zero-width spaces, line separators), so they are shown as escapes rather than as themselves. */
static int is_deceptive(uint32_t c)
{
	return c == 0x061c || (c >= 0x200b && c <= 0x200f) || (c >= 0x2028 && c <= 0x202e) ||
	       (c >= 0x2060 && c <= 0x2069) || c == 0xfeff;
}

/* How one character of untrusted text is shown: itself, or a visible escape when it is a control
 * character, an invisible or direction-changing one, or a byte that is not UTF-8. `n` gets the
 * bytes it used. With `quoted`, '"' and '\\' are escaped too, for text shown inside quotes. The
 * one place that decides what may reach a terminal as it is. */
static void render_char(char *out, size_t size, const unsigned char *p, size_t avail, int quoted,
			size_t *n)
{
	uint32_t c;

	*n = utf8_char_in(p, avail, &c);
	if (*n == 0) {
		snprintf(out, size, "\\x%02X", *p);
		*n = 1;
	} else if (c == '\n') {
		snprintf(out, size, "\\n");
	} else if (c == '\r') {
		snprintf(out, size, "\\r");
	} else if (c == '\t') {
		snprintf(out, size, "\\t");
	} else if (quoted && (c == '"' || c == '\\')) {
		snprintf(out, size, "\\%c", (int)c);
	} else if (c < 0x80 && is_control(c)) {
		snprintf(out, size, "\\x%02X", (unsigned)c);
	} else if (is_control(c) || is_deceptive(c)) {
		snprintf(out, size, "\\u%04X", (unsigned)c);
	} else {
		snprintf(out, size, "%.*s", (int)*n, (const char *)p);
	}
}

const char *validate_display(char *out, size_t size, const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t used = 0, at = 0, cut = 0, n, k;
	char piece[16];

	if (size == 0)
		return out;
	out[0] = '\0';
	while (used < len) {
		if (p[used] >= 0x20 && p[used] < 0x7f) {
			/* Printable ASCII, nearly all of any reply, is itself: no formatting per byte, as
			 * the runner renders every reply of every message. */
			piece[0] = (char)p[used];
			piece[1] = '\0';
			n = k = 1;
		} else {
			render_char(piece, sizeof piece, p + used, len - used, 0, &n);
			k = strlen(piece);
		}
		if (at + k >= size) {
			/* Back to the last whole piece that leaves room for "...": a cut never splits
			 * an escape or a character. */
			if (cut + 3 < size)
				memcpy(out + cut, "...", 4);
			else
				out[cut] = '\0';
			return out;
		}
		memcpy(out + at, piece, k + 1);
		at += k;
		used += n;
		if (at + 3 < size)
			cut = at;
	}
	return out;
}

/* `value` in double quotes as a C programmer would write it, cut after SHOW_MAX bytes, so a
 * message never carries a line break, a terminal escape or a page of text. */
static void show(char *out, size_t size, const char *value)
{
	const unsigned char *p = (const unsigned char *)value;
	size_t len = 0, used = 0, n;
	char piece[16];

	append(out, size, &len, "\"");
	while (*p && used < SHOW_MAX) {
		render_char(piece, sizeof piece, p, strnlen((const char *)p, 4), 1, &n);
		append(out, size, &len, "%s", piece);
		p += n;
		used += n;
	}
	append(out, size, &len, "%s\"", *p ? "..." : "");
}

/* A phrase for the character at `s`, to finish "it has ..." in a message. */
static void describe_char(char *out, size_t size, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;
	uint32_t c;

	n = utf8_char(p, &c);
	if (n == 0)
		snprintf(out, size, "a byte that is not UTF-8 (\\x%02X)", *p);
	else if (c == ' ')
		snprintf(out, size, "a space");
	else if (c == '\t')
		snprintf(out, size, "a tab");
	else if (c == '\n' || c == '\r')
		snprintf(out, size, "a line break");
	else if (is_control(c))
		snprintf(out, size, "a control character (U+%04X)", (unsigned)c);
	else if (is_deceptive(c))
		snprintf(out, size, "an invisible character (U+%04X)", (unsigned)c);
	else if (c == '"')
		snprintf(out, size, "a double quote");
	else
		snprintf(out, size, "\"%.*s\"", (int)n, s);
}

/* The first byte of `s` that is not well-formed UTF-8 or is a control character, or NULL. */
static const char *find_bad_char(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;
	uint32_t c;

	while (*p) {
		n = utf8_char(p, &c);
		if (n == 0 || is_control(c))
			return (const char *)p;
		p += n;
	}
	return NULL;
}

/* The refusal for what find_bad_char() found: no stored value may hold it. */
static int fail_bad_char(outbox *h, const char *field, const char *value, const char *bad)
{
	char v[SHOW_SIZE], c[64];
	uint32_t cp;

	show(v, sizeof v, value);
	if (utf8_char((const unsigned char *)bad, &cp) == 0)
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s is not valid UTF-8 text", v);
	if (cp == '\n' || cp == '\r')
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s has a line break; it must be one line", v);
	describe_char(c, sizeof c, bad);
	return outbox_fail(h, OUTBOX_EINVALID, field, "%s has %s", v, c);
}

int validate_text(outbox *h, const char *field, const char *value, size_t max)
{
	size_t len = strlen(value);
	const char *bad;
	char v[SHOW_SIZE];

	if (len > max) {
		show(v, sizeof v, value);
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s is %zu bytes long; the most is %zu", v,
				   len, max);
	}
	if ((bad = find_bad_char(value)) != NULL)
		return fail_bad_char(h, field, value, bad);
	return 0;
}

static int is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int validate_name(outbox *h, const char *field, const char *value)
{
	const char *p;
	char v[SHOW_SIZE], c[64];

	if (*value == '\0')
		return outbox_fail(h, OUTBOX_EINVALID, field, "is required");
	show(v, sizeof v, value);
	for (p = value; *p; p++) {
		if (!is_alnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-') {
			describe_char(c, sizeof c, p);
			return outbox_fail(h, OUTBOX_EINVALID, field,
					   "%s has %s; use only letters, digits, '.', '_' and '-'", v, c);
		}
	}
	if (p - value > NAME_MAX_LEN)
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s is longer than %d characters", v,
				   NAME_MAX_LEN);
	/* A leading '-' would read as an option on the command line; a leading '.' as hidden. */
	if (*value == '-' || *value == '.')
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s must not start with '%c'", v, *value);
	return 0;
}

static int is_ldh(unsigned char c)
{
	return is_alnum(c) || c == '-';
}

/* Label rules on an ASCII name without its trailing dot: 0, or -1 with the reason in `why`. */
static int ldh_problem(const char *name, char *why, size_t size)
{
	const char *label = name, *p;
	char c[64];
	size_t n;

	if (strlen(name) > HOST_MAX) {
		snprintf(why, size, "it is longer than %d characters", HOST_MAX);
		return -1;
	}
	for (;;) {
		for (p = label; *p && *p != '.'; p++) {
			if (!is_ldh((unsigned char)*p)) {
				describe_char(c, sizeof c, p);
				snprintf(why, size, "it has %s, which host names cannot have", c);
				return -1;
			}
		}
		n = (size_t)(p - label);
		if (n == 0) {
			snprintf(why, size, "it has an empty label (a dot at the start or end, or two in a row)");
			return -1;
		}
		if (n > LABEL_MAX) {
			snprintf(why, size, "a label is longer than %d characters", LABEL_MAX);
			return -1;
		}
		if (label[0] == '-' || p[-1] == '-') {
			snprintf(why, size, "a label starts or ends with '-'");
			return -1;
		}
		if (*p == '\0')
			return 0;
		label = p + 1;
	}
}

static int has_a_label(const char *name)
{
	const char *p;

	for (p = name; *p; p++) {
		if ((p == name || p[-1] == '.') && strncasecmp(p, "xn--", 4) == 0)
			return 1;
	}
	return 0;
}

/* Whether `name` is a DNS host name: 0, or OUTBOX_EINVALID with the reason in `why`, or
 * OUTBOX_ENOMEM, or OUTBOX_ECONFIG (why says so) when libidn2 cannot be loaded. Plain ASCII names are checked as LDH labels only, without IDNA2008, because
 * IDNA refuses some names DNS serves (a "--" in the third and fourth place); international
 * names and A-labels go through libidn2, and its ASCII result is checked as LDH labels again. */
static int dns_check(const char *name, int trailing_dot_ok, char *why, size_t size)
{
	char tmp[1024];
	const char *p;
	size_t len = strlen(name);
	int ascii = 1, rc;
	char *out = NULL;

	if (len == 0) {
		snprintf(why, size, "it is empty");
		return OUTBOX_EINVALID;
	}
	if (len >= sizeof tmp) {
		snprintf(why, size, "it is longer than %d characters", HOST_MAX);
		return OUTBOX_EINVALID;
	}
	snprintf(tmp, sizeof tmp, "%s", name);
	if (trailing_dot_ok && len > 1 && tmp[len - 1] == '.')
		tmp[--len] = '\0';
	/* ASCII punctuation passes through IDNA mapping unchanged, so the raw text names it best. */
	for (p = tmp; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c >= 0x80) {
			ascii = 0;
		} else if (!is_ldh(c) && c != '.') {
			char d[64];
			describe_char(d, sizeof d, p);
			snprintf(why, size, "it has %s, which host names cannot have", d);
			return OUTBOX_EINVALID;
		}
	}
	if (ascii && ldh_problem(tmp, why, size) < 0)
		return OUTBOX_EINVALID;
	if (ascii && !has_a_label(tmp))
		return 0;
	rc = idna_to_ascii(tmp, &out);
	if (rc == IDN2_MALLOC) {
		snprintf(why, size, "out of memory");
		return OUTBOX_ENOMEM;
	}
	if (rc == IDNA_UNAVAILABLE) { /* no fault of the name: the callers say only why */
		snprintf(why, size, "%s", idna_strerror(rc));
		return OUTBOX_ECONFIG;
	}
	if (rc != IDN2_OK) {
		snprintf(why, size, "%s", idna_strerror(rc));
		idna_free(out);
		return OUTBOX_EINVALID;
	}
	rc = ldh_problem((const char *)out, why, size);
	idna_free(out);
	return rc < 0 ? OUTBOX_EINVALID : 0;
}

static int digits_and_dots(const char *s)
{
	int digits = 0;

	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			digits = 1;
		else if (*s != '.')
			return 0;
	}
	return digits;
}

int validate_host(outbox *h, const char *field, const char *value)
{
	unsigned char addr[16];
	const char *bad, *colon;
	char v[SHOW_SIZE], why[160];
	int rc;

	if (*value == '\0')
		return outbox_fail(h, OUTBOX_EINVALID, field, "is required");
	if ((bad = find_bad_char(value)) != NULL)
		return fail_bad_char(h, field, value, bad);
	show(v, sizeof v, value);
	if (strpbrk(value, "[]") != NULL)
		return outbox_fail(h, OUTBOX_EINVALID, field,
				   "%s has brackets; give an IPv6 address without them", v);
	if (inet_pton(AF_INET, value, addr) == 1)
		return 0;
	if ((colon = strchr(value, ':')) != NULL) {
		if (inet_pton(AF_INET6, value, addr) == 1)
			return 0;
		if (strchr(colon + 1, ':') == NULL)
			return outbox_fail(h, OUTBOX_EINVALID, field,
					   "%s has a port; give the port on its own", v);
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s is not a valid IPv6 address", v);
	}
	/* "999.1.1.1" is meant as an address; letting it through as a name would hide the typo. */
	if (digits_and_dots(value))
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s is not a valid IPv4 address", v);
	rc = dns_check(value, 1, why, sizeof why);
	if (rc == OUTBOX_ENOMEM)
		return outbox_fail(h, rc, NULL, "out of memory while checking a host name");
	if (rc == OUTBOX_ECONFIG)
		return outbox_fail(h, rc, field, "%s: %s", v, why);
	if (rc < 0)
		return outbox_fail(h, rc, field, "%s is not a valid host name: %s", v, why);
	return 0;
}

int validate_duration(outbox *h, const char *field, const char *value, long long min, long long max,
		      long long *out)
{
	char v[SHOW_SIZE], lo[24], hi[24];
	long long n = retry_parse_duration(value);

	show(v, sizeof v, value);
	retry_format_duration(min, lo, sizeof lo);
	retry_format_duration(max, hi, sizeof hi);
	if (n < 0)
		return outbox_fail(h, OUTBOX_EINVALID, field,
				   "%s is not a duration: write it like 90s, 15m, 2h or 5d", v);
	if (n < min || n > max)
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s is out of range: from %s to %s", v, lo, hi);
	*out = n;
	return 0;
}

int validate_int(outbox *h, const char *field, const char *value, long min, long max, long *out)
{
	const char *p = value;
	char *end;
	char v[SHOW_SIZE];
	long n;

	show(v, sizeof v, value);
	if (*p == '-')
		p++;
	if (*p == '\0')
		goto bad;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
	}
	errno = 0;
	n = strtol(value, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		goto bad;
	*out = n;
	return 0;
bad:
	return outbox_fail(h, OUTBOX_EINVALID, field, "%s is not a number from %ld to %ld", v, min, max);
}

int validate_bool(outbox *h, const char *field, const char *value, int *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	char v[SHOW_SIZE];
	size_t i;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	show(v, sizeof v, value);
	return outbox_fail(h, OUTBOX_EINVALID, field,
			   "%s is not one of true, false, yes, no, on, off, 1, 0", v);
}

int validate_choice(outbox *h, const char *field, const char *value, const char *const *choices)
{
	char v[SHOW_SIZE], list[256];
	size_t i, len = 0;

	list[0] = '\0';
	for (i = 0; choices[i] != NULL; i++) {
		if (strcmp(value, choices[i]) == 0)
			return 0;
		append(list, sizeof list, &len, "%s%s", i ? ", " : "", choices[i]);
	}
	show(v, sizeof v, value);
	return outbox_fail(h, OUTBOX_EINVALID, field, "%s is not one of %s", v, list);
}

static int is_atext(unsigned char c)
{
	return is_alnum(c) || c >= 0x80 || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* The Local-part of RFC 5321 (with RFC 6531's UTF-8) at `value`; on success *at is the '@'.
 * Control characters and malformed UTF-8 are already refused. */
static int check_local_part(outbox *h, const char *field, const char *value, const char *v,
			    const char **at)
{
	const char *p = value;
	char c[64];

	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\') {
				if ((unsigned char)p[1] < ' ' || (unsigned char)p[1] > '~')
					return outbox_fail(h, OUTBOX_EINVALID, field,
							   "%s has a '\\' in quotes that is not followed by a printable ASCII character",
							   v);
				p++;
			}
		}
		if (*p != '"')
			return outbox_fail(h, OUTBOX_EINVALID, field, "%s has a quote that is never closed", v);
		if (p == value + 1)
			return outbox_fail(h, OUTBOX_EINVALID, field, "%s has nothing between the quotes", v);
		p++;
		if (*p != '@') {
			if (strchr(p, '@') == NULL)
				return outbox_fail(h, OUTBOX_EINVALID, field, "%s has no \"@domain\"", v);
			return outbox_fail(h, OUTBOX_EINVALID, field,
					   "%s has text between the closing quote and the \"@\"", v);
		}
		*at = p;
		return 0;
	}
	for (; *p && *p != '@'; p++) {
		if (*p == '.') {
			if (p == value)
				return outbox_fail(h, OUTBOX_EINVALID, field, "%s starts with a dot", v);
			if (p[1] == '.')
				return outbox_fail(h, OUTBOX_EINVALID, field,
						   "%s has two dots in a row before the \"@\"", v);
			if (p[1] == '@')
				return outbox_fail(h, OUTBOX_EINVALID, field,
						   "%s has a dot just before the \"@\"", v);
		} else if (!is_atext((unsigned char)*p)) {
			describe_char(c, sizeof c, p);
			return outbox_fail(h, OUTBOX_EINVALID, field,
					   "%s has %s before the \"@\", which is only allowed in quotes", v, c);
		}
	}
	if (*p != '@')
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s has no \"@domain\"", v);
	if (p == value)
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s has nothing before the \"@\"", v);
	*at = p;
	return 0;
}

/* An address literal after the "@": "[1.2.3.4]" or "[IPv6:::1]" (RFC 5321 4.1.3). */
static int check_address_literal(outbox *h, const char *field, const char *domain, const char *v)
{
	unsigned char addr[16];
	char inner[64];
	size_t len = strlen(domain);

	if (domain[len - 1] != ']')
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s has a '[' without a closing ']'", v);
	if (len - 2 >= sizeof inner)
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s has an address literal that is too long", v);
	snprintf(inner, sizeof inner, "%.*s", (int)(len - 2), domain + 1);
	if (strncasecmp(inner, "IPv6:", 5) == 0) {
		if (inet_pton(AF_INET6, inner + 5, addr) == 1)
			return 0;
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s has an IPv6 literal that is not valid", v);
	}
	if (inet_pton(AF_INET, inner, addr) == 1)
		return 0;
	if (inet_pton(AF_INET6, inner, addr) == 1)
		return outbox_fail(h, OUTBOX_EINVALID, field,
				   "%s has an IPv6 literal without its tag; write it as [IPv6:%s]", v, inner);
	return outbox_fail(h, OUTBOX_EINVALID, field,
			   "%s has an address literal that is neither IPv4 nor [IPv6:...]", v);
}

int validate_ehlo_name(outbox *h, const char *field, const char *value)
{
	unsigned char addr[16];
	const char *bad, *p;
	char v[SHOW_SIZE], why[160];
	int rc;

	if (*value == '\0')
		return outbox_fail(h, OUTBOX_EINVALID, field, "is required");
	if ((bad = find_bad_char(value)) != NULL)
		return fail_bad_char(h, field, value, bad);
	show(v, sizeof v, value);
	if (*value == '[')
		return check_address_literal(h, field, value, v);
	/* A bare address is not a Domain in EHLO; RFC 5321 wants it as a literal. */
	if (inet_pton(AF_INET, value, addr) == 1)
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s is an IP address; write it as [%s]", v, value);
	if (inet_pton(AF_INET6, value, addr) == 1)
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s is an IPv6 address; write it as [IPv6:%s]", v,
				   value);
	for (p = value; *p; p++)
		if ((unsigned char)*p >= 0x80)
			return outbox_fail(h, OUTBOX_EINVALID, field,
					   "%s is not ASCII; give the name's A-label (xn--) form", v);
	if (digits_and_dots(value))
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s is neither a domain nor an IPv4 address", v);
	rc = dns_check(value, 0, why, sizeof why);
	if (rc == OUTBOX_ENOMEM)
		return outbox_fail(h, rc, NULL, "out of memory while checking a domain");
	if (rc == OUTBOX_ECONFIG)
		return outbox_fail(h, rc, field, "%s: %s", v, why);
	if (rc < 0)
		return outbox_fail(h, rc, field, "%s is not a valid domain: %s", v, why);
	return 0;
}

int validate_address(outbox *h, const char *field, const char *value)
{
	unsigned char addr[4];
	const char *bad, *at = NULL, *domain;
	char v[SHOW_SIZE], why[160];
	size_t len = strlen(value);
	int rc;

	if (len == 0)
		return outbox_fail(h, OUTBOX_EINVALID, field, "is required");
	if ((bad = find_bad_char(value)) != NULL)
		return fail_bad_char(h, field, value, bad);
	show(v, sizeof v, value);
	if (len > ADDRESS_MAX)
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s is longer than %d bytes", v, ADDRESS_MAX);
	if ((rc = check_local_part(h, field, value, v, &at)) < 0)
		return rc;
	if (at - value > LOCAL_MAX)
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s has more than %d bytes before the \"@\"",
				   v, LOCAL_MAX);
	domain = at + 1;
	if (*domain == '\0')
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s has no domain after the \"@\"", v);
	if (strchr(domain, '@') != NULL)
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s has more than one \"@\"", v);
	if (*domain == '[')
		return check_address_literal(h, field, domain, v);
	if (digits_and_dots(domain)) {
		if (inet_pton(AF_INET, domain, addr) == 1)
			return outbox_fail(h, OUTBOX_EINVALID, field,
					   "%s has an IP address as its domain; put it in square brackets", v);
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s has a domain of only digits and dots", v);
	}
	/* RFC 5321's Domain has no trailing dot, unlike a host name typed for a connection. */
	rc = dns_check(domain, 0, why, sizeof why);
	if (rc == OUTBOX_ENOMEM)
		return outbox_fail(h, rc, NULL, "out of memory while checking a domain");
	if (rc == OUTBOX_ECONFIG)
		return outbox_fail(h, rc, field, "%s: %s", v, why);
	if (rc < 0)
		return outbox_fail(h, rc, field, "%s has a domain that is not valid: %s", v, why);
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int validate_sha256_pin(outbox *h, const char *field, const char *value, char out[65])
{
	const char *p;
	char v[SHOW_SIZE], c[64];
	size_t digits = 0, colons = 0, i;

	if (*value == '\0')
		return outbox_fail(h, OUTBOX_EINVALID, field, "is required");
	show(v, sizeof v, value);
	for (p = value; *p; p++) {
		if (*p == ':') {
			colons++;
		} else if (hex_value(*p) < 0) {
			describe_char(c, sizeof c, p);
			return outbox_fail(h, OUTBOX_EINVALID, field,
					   "%s is not a SHA-256 fingerprint: it has %s, which is not a hex digit",
					   v, c);
		} else {
			digits++;
		}
	}
	if (digits != 64)
		return outbox_fail(h, OUTBOX_EINVALID, field,
				   "%s is not a SHA-256 fingerprint: it has %zu hex digits, not 64", v, digits);
	/* Colons are either absent or between every pair, as openssl prints them; anything in between
	 * is more likely a damaged copy than a fingerprint. */
	if (colons != 0) {
		for (i = 0; value[i]; i++) {
			if ((i % 3 == 2) != (value[i] == ':'))
				break;
		}
		if (colons != 31 || value[i] != '\0')
			return outbox_fail(h, OUTBOX_EINVALID, field,
					   "%s has colons out of place; write 64 hex digits, or 32 pairs separated by colons",
					   v);
	}
	for (p = value, i = 0; *p; p++) {
		if (*p != ':')
			out[i++] = "0123456789abcdef"[hex_value(*p)];
	}
	out[i] = '\0';
	return 0;
}

int validate_readable_file(outbox *h, const char *field, const char *path)
{
	struct stat st;
	char v[SHOW_SIZE];

	if (*path == '\0')
		return outbox_fail(h, OUTBOX_EINVALID, field, "is required");
	show(v, sizeof v, path);
	if (stat(path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return outbox_fail(h, OUTBOX_EINVALID, field, "%s: no such file", v);
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s cannot be read: %s", v, strerror(errno));
	}
	if (S_ISDIR(st.st_mode))
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s is a directory", v);
	if (!S_ISREG(st.st_mode))
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s is not a regular file", v);
	if (access(path, R_OK) < 0)
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s cannot be read: %s", v, strerror(errno));
	return 0;
}
