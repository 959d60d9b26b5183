/* message.c: reads a message once, in chunks, into wire form (CRLF line ends, lines checked, missing
 * headers added, -t recipients taken, Bcc and an mbox From line dropped); only the header section is held in memory. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "address_list.h"
#include "address_set.h"
#include "alias_internal.h"
#include "handle_internal.h"
#include "message.h"
#include "record.h"
#include "validate.h"

#define CHUNK (64 * 1024)    /* read size; also the output size that triggers a write */
#define NAME_MAX_BYTES 256   /* a display name for a generated From: */

struct prep {
	outbox *h;
	int out_fd;
	const struct message_options *opt;
	struct message_info *info;
	struct buf line;   /* the current line without its end, up to MESSAGE_MAX_LINE octets */
	struct buf head;   /* the header section so far, CRLF after each line */
	struct buf out;    /* wire-form bytes not yet written */
	size_t line_len;   /* octets in the current line, counting those past the cap */
	long long line_no; /* of the current line, from 1 */
	long long lines;   /* lines taken; a terminating "." is not one */
	int pending_cr;    /* the last octet was a CR: an LF next is part of the same line end */
	int in_body, done;
};

/* Recipients found with -t, before duplicates are removed. */
struct rcpt_list {
	char **v;
	size_t n, cap;
};

/* One header field in the buffered header section: its name and its body, folding included. */
struct field {
	const char *start, *name, *body;
	size_t len, name_len, body_len;
};

static int is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static int has_8bit(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	}
	return 0;
}

static int fail_nomem(outbox *h)
{
	return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory while reading the message");
}

/* ---- output ---- */

static int write_all(struct prep *p, const char *data, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(p->out_fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return outbox_fail(p->h, OUTBOX_EIO, NULL, "writing the message to the spool failed: %s",
					   n < 0 ? strerror(errno) : "nothing was written");
		data += n;
		len -= (size_t)n;
		p->info->size += n;
	}
	return 0;
}

static int flush(struct prep *p)
{
	int rc = write_all(p, p->out.data, p->out.len);

	buf_reset(&p->out);
	return rc;
}

/* Output is gathered into writes of about CHUNK bytes; anything that large goes straight out. */
static int emit(struct prep *p, const char *data, size_t len)
{
	int rc;

	if (len >= CHUNK) {
		if ((rc = flush(p)) < 0)
			return rc;
		return write_all(p, data, len);
	}
	if (buf_append(&p->out, data, len) < 0)
		return fail_nomem(p->h);
	return p->out.len >= CHUNK ? flush(p) : 0;
}

/* ---- header fields ---- */

/* "Name:" (RFC 5322 ftext, then the obsolete optional whitespace before the colon). */
static int is_field_start(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i] > ' ' && s[i] < 0x7f && s[i] != ':')
		i++;
	if (i == 0)
		return 0;
	while (i < n && is_wsp(s[i]))
		i++;
	return i < n && s[i] == ':';
}

/* The field at head[*pos], with its continuation lines. Every line in `head` ends in CRLF and is
 * either a field's first line or a continuation, so this cannot fail in the middle. */
static int next_field(const struct buf *head, size_t *pos, struct field *f)
{
	const char *end, *p, *colon;

	if (*pos >= head->len)
		return 0;
	end = head->data + head->len;
	f->start = p = head->data + *pos;
	do {
		p = memchr(p, '\r', (size_t)(end - p));
		p += 2;
	} while (p < end && is_wsp(*p));
	f->len = (size_t)(p - f->start);
	colon = memchr(f->start, ':', f->len);
	f->name = f->start;
	f->name_len = (size_t)(colon - f->start);
	while (f->name_len > 0 && is_wsp(f->name[f->name_len - 1]))
		f->name_len--;
	f->body = colon + 1;
	f->body_len = (size_t)(p - 2 - f->body);
	*pos += f->len;
	return 1;
}

static int name_is(const struct field *f, const char *name)
{
	return f->name_len == strlen(name) && strncasecmp(f->name, name, f->name_len) == 0;
}

static int is_recipient_field(const struct field *f, int resent)
{
	if (resent)
		return name_is(f, "Resent-To") || name_is(f, "Resent-Cc") || name_is(f, "Resent-Bcc");
	return name_is(f, "To") || name_is(f, "Cc") || name_is(f, "Bcc");
}

/* Only the first mailbox is wanted from From: (a list there needs Sender:, which is not ours). */
static int take_first(void *ctx, const char *addr)
{
	char **out = ctx;

	*out = strdup(addr);
	return *out == NULL ? OUTBOX_ENOMEM : 1;
}

/* The msg-id between "<" and ">", or for a sloppy one without brackets its first word; its
 * length is 0 when the field holds none. */
static size_t message_id_of(const struct field *f, const char **id)
{
	const char *s = f->body, *end = f->body + f->body_len, *lt, *gt;
	size_t len;

	lt = memchr(s, '<', f->body_len);
	if (lt != NULL && (gt = memchr(lt, '>', (size_t)(end - lt))) != NULL) {
		s = lt + 1;
		end = gt;
	}
	while (s < end && (unsigned char)*s <= ' ')
		s++;
	for (len = 0; s + len < end && (unsigned char)s[len] > ' '; len++)
		;
	*id = s;
	return len;
}

/* A Message-ID: field without an id cannot serve to recognise a retried message: it is dropped
 * and replaced by a generated one, rather than kept beside a second Message-ID:. */
static int is_empty_message_id(const struct field *f)
{
	const char *id;

	return name_is(f, "Message-ID") && message_id_of(f, &id) == 0;
}

/* ---- -t recipients ---- */

struct collect_ctx {
	outbox *h;
	struct rcpt_list *list;
	const struct field *f;
};

static int collect(void *vctx, const char *addr)
{
	struct collect_ctx *c = vctx;
	struct rcpt_list *l = c->list;
	char detail[sizeof c->h->err_detail], **grown;
	int rc;

	/* A local name ("To: root") is delivery's to expand through its alias, and to check then. */
	if (!alias_is_local_name(addr) && (rc = validate_address(c->h, "message", addr)) < 0) {
		if (rc == OUTBOX_ENOMEM)
			return rc;
		/* The validator names the address; the user also needs to know which header holds it. */
		memcpy(detail, c->h->err_detail, sizeof detail);
		return outbox_fail(c->h, rc, "message", "in the %.*s header: %s",
				   (int)(c->f->name_len > 40 ? 40 : c->f->name_len), c->f->name, detail);
	}
	if (l->n + 1 >= l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		if ((grown = realloc(l->v, cap * sizeof *grown)) == NULL)
			return fail_nomem(c->h);
		l->v = grown;
		l->cap = cap;
	}
	if ((l->v[l->n] = strdup(addr)) == NULL)
		return fail_nomem(c->h);
	l->v[++l->n] = NULL;
	return 0;
}

/* Drop later copies of an address, keeping the order of first mention, in one pass: a 1 MiB
 * header can name ~100,000 addresses. */
static int rcpt_dedupe(struct rcpt_list *l)
{
	struct address_set seen = ADDRESS_SET_INIT;
	size_t i, kept = 0;
	int added = 0;

	for (i = 0; i < l->n; i++) {
		if ((added = address_set_add(&seen, l->v[i])) < 0)
			break;
		if (added)
			l->v[kept++] = l->v[i];
		else
			free(l->v[i]); /* the set points at the first mention only */
	}
	address_set_free(&seen);
	if (added < 0) {
		/* Leave the list whole (kept ones, then those not looked at) for the caller to free. */
		memmove(l->v + kept, l->v + i, (l->n - i) * sizeof *l->v);
		l->n = kept + (l->n - i);
		l->v[l->n] = NULL;
		return -1;
	}
	l->n = kept;
	if (l->v)
		l->v[kept] = NULL;
	return 0;
}

static int extract_recipients(struct prep *p, int resent)
{
	struct rcpt_list list = {NULL, 0, 0};
	struct field f;
	struct collect_ctx ctx = {p->h, &list, &f};
	size_t pos = 0;
	int rc = 0;

	while (rc == 0 && next_field(&p->head, &pos, &f)) {
		if (is_recipient_field(&f, resent))
			rc = address_list_parse(f.body, f.body_len, collect, &ctx);
	}
	if (rc == OUTBOX_ENOMEM) /* the parser's own allocations leave no message */
		rc = fail_nomem(p->h);
	if (rc == 0 && list.v == NULL && (list.v = calloc(1, sizeof *list.v)) == NULL)
		rc = fail_nomem(p->h);
	if (rc == 0 && rcpt_dedupe(&list) < 0)
		rc = fail_nomem(p->h);
	if (rc < 0) {
		strv_free(list.v);
		return rc;
	}
	p->info->recipients = list.v;
	return 0;
}

/* ---- headers we add ---- */

static int format_date(struct buf *b, long long now)
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t t = (time_t)now;
	struct tm tm;
	long off;
	char sign = '+';

	if (localtime_r(&t, &tm) == NULL)
		return -1;
	off = tm.tm_gmtoff;
	if (off < 0) {
		sign = '-';
		off = -off;
	}
	/* English names by hand: strftime's %a and %b follow the locale, RFC 5322 does not. */
	return buf_printf(b, "Date: %s, %d %s %04d %02d:%02d:%02d %c%02ld%02ld\r\n", days[tm.tm_wday],
			  tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
			  tm.tm_sec, sign, off / 3600, off % 3600 / 60);
}

static int base64_append(struct buf *b, const unsigned char *s, size_t len)
{
	static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char q[4];
	size_t i;
	unsigned long v;

	for (i = 0; i < len; i += 3) {
		v = (unsigned long)s[i] << 16;
		if (i + 1 < len)
			v |= (unsigned long)s[i + 1] << 8;
		if (i + 2 < len)
			v |= s[i + 2];
		q[0] = digits[v >> 18 & 63];
		q[1] = digits[v >> 12 & 63];
		q[2] = i + 1 < len ? digits[v >> 6 & 63] : '=';
		q[3] = i + 2 < len ? digits[v & 63] : '=';
		if (buf_append(b, q, 4) < 0)
			return -1;
	}
	return 0;
}

/* A display name as an RFC 5322 phrase: atoms as they are, quoted when it has specials, and RFC
 * 2047 encoded words when it is not ASCII (so the header stays 7-bit and needs no SMTPUTF8). */
static int format_phrase(struct buf *b, const char *name)
{
	size_t len = strlen(name), i, n;
	int plain = name[0] != ' ' && name[len - 1] != ' ';

	if (has_8bit(name, len)) {
		/* 45 octets give 60 base64 digits: each word stays within RFC 2047's 75, and is cut
		 * between UTF-8 characters, never inside one. */
		for (i = 0; i < len; i += n) {
			n = len - i > 45 ? 45 : len - i;
			while (i + n < len && ((unsigned char)name[i + n] & 0xc0) == 0x80)
				n--;
			if ((i > 0 && buf_puts(b, "\r\n ") < 0) || buf_puts(b, "=?UTF-8?B?") < 0 ||
			    base64_append(b, (const unsigned char *)name + i, n) < 0 || buf_puts(b, "?=") < 0)
				return -1;
		}
		return 0;
	}
	for (i = 0; plain && i < len; i++) {
		if (name[i] == ' ')
			plain = name[i + 1] != ' ';
		else
			plain = strchr("()<>[]:;@\\,.\"", name[i]) == NULL;
	}
	if (plain)
		return buf_puts(b, name);
	if (buf_puts(b, "\"") < 0)
		return -1;
	for (i = 0; i < len; i++) {
		if ((name[i] == '"' || name[i] == '\\') && buf_puts(b, "\\") < 0)
			return -1;
		if (buf_append(b, name + i, 1) < 0)
			return -1;
	}
	return buf_puts(b, "\"");
}

static int random_id(outbox *h, const char *domain, char **out)
{
	unsigned char r[16];
	size_t got = 0, i;
	ssize_t n;
	struct buf b = BUF_INIT;

	while (got < sizeof r) {
		n = getrandom(r + got, sizeof r - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return outbox_fail(h, OUTBOX_EIO, NULL, "no random bytes for a Message-ID: %s",
					   strerror(errno));
		got += (size_t)n;
	}
	for (i = 0; i < sizeof r; i++) {
		if (buf_printf(&b, "%02x", r[i]) < 0)
			goto nomem;
	}
	if (buf_printf(&b, "@%s", domain) < 0)
		goto nomem;
	*out = buf_detach(&b);
	return *out ? 0 : fail_nomem(h);
nomem:
	buf_free(&b);
	return fail_nomem(h);
}

/* From:, Date:, Message-ID:, each only when the message has none, in that order. */
static int added_headers(struct prep *p, struct buf *b, int has_from, int has_date, int has_id)
{
	const struct message_options *opt = p->opt;
	struct message_info *info = p->info;
	int rc;

	if (!has_from && opt->from_address != NULL) {
		if (opt->from_name == NULL || opt->from_name[0] == '\0')
			rc = buf_printf(b, "From: %s\r\n", opt->from_address);
		else if ((rc = buf_puts(b, "From: ")) == 0 && (rc = format_phrase(b, opt->from_name)) == 0)
			rc = buf_printf(b, " <%s>\r\n", opt->from_address);
		if (rc < 0)
			return fail_nomem(p->h);
		free(info->from);
		if ((info->from = strdup(opt->from_address)) == NULL)
			return fail_nomem(p->h);
		info->added_from = 1;
	}
	if (!has_date) {
		/* 0 is no one's sending time: a caller that left it unset gets the clock. */
		if (format_date(b, opt->now ? opt->now : (long long)time(NULL)) < 0)
			return outbox_fail(p->h, OUTBOX_EINVALID, NULL,
					   "the time %lld cannot be written as a date", opt->now);
		info->added_date = 1;
	}
	if (!has_id) {
		rc = random_id(p->h, opt->domain ? opt->domain : "localhost", &info->message_id);
		if (rc < 0)
			return rc;
		if (buf_printf(b, "Message-ID: <%s>\r\n", info->message_id) < 0)
			return fail_nomem(p->h);
		info->added_message_id = 1;
	}
	return 0;
}

/* A field as it is, except that a line of it over the limit is folded (RFC 5322 2.2.3): a line
 * end is put before the last space or tab that keeps the line within MESSAGE_MAX_LINE octets,
 * which unfolding takes out again. A line with no such space cannot be folded: refused. */
static int emit_field(struct prep *p, const struct field *f)
{
	const char *s = f->start, *end = f->start + f->len, *eol, *cut;
	int rc;

	for (; s < end; s = eol + 2) {
		eol = memmem(s, (size_t)(end - s), "\r\n", 2);
		while (eol - s > MESSAGE_MAX_LINE) {
			/* Never at the line's first octet: a continuation starts with the space it keeps. */
			for (cut = s + MESSAGE_MAX_LINE; cut > s && !is_wsp(*cut); cut--)
				;
			if (cut == s)
				return outbox_fail(p->h, OUTBOX_EINVALID, "message",
						   "the %.*s header has a line over %d octets without a space to "
						   "fold it at: shorten it or encode it (RFC 2047)",
						   (int)(f->name_len > 40 ? 40 : f->name_len), f->name, MESSAGE_MAX_LINE);
			if ((rc = emit(p, s, (size_t)(cut - s))) < 0 || (rc = emit(p, "\r\n", 2)) < 0)
				return rc;
			s = cut;
		}
		if ((rc = emit(p, s, (size_t)(eol + 2 - s))) < 0)
			return rc;
	}
	return 0;
}

/* The header section is complete: learn from it, then write the added headers and the kept
 * fields, and the empty line that separates them from a body when `separator`. */
static int finish_header(struct prep *p, int separator)
{
	struct message_info *info = p->info;
	struct buf add = BUF_INIT;
	struct field f;
	const char *id;
	size_t pos = 0, n;
	int has_from = 0, has_date = 0, has_id = 0, resent = 0, rc = 0, drop;

	while (next_field(&p->head, &pos, &f)) {
		if (name_is(&f, "Date")) {
			has_date = 1;
		} else if (name_is(&f, "Message-ID") && !has_id && (n = message_id_of(&f, &id)) > 0) {
			has_id = 1;
			if ((info->message_id = strndup(id, n)) == NULL)
				return fail_nomem(p->h);
		} else if (name_is(&f, "From") && !has_from) {
			has_from = 1;
			if (address_list_parse(f.body, f.body_len, take_first, &info->from) < 0)
				return fail_nomem(p->h);
		} else if (name_is(&f, "Resent-To") || name_is(&f, "Resent-Cc") ||
			   name_is(&f, "Resent-Bcc")) {
			/* RFC 5322 3.6.6: a resent message goes to the Resent-* recipients only. */
			resent = 1;
		}
	}
	if (p->opt->extract_recipients && (rc = extract_recipients(p, resent)) < 0)
		return rc;
	if ((rc = added_headers(p, &add, has_from, has_date, has_id)) < 0)
		goto out;
	if (has_8bit(p->head.data, p->head.len) || has_8bit(add.data, add.len))
		info->needs_smtputf8 = 1;
	if (has_8bit(add.data, add.len))
		info->has_8bit = 1;
	if ((rc = emit(p, add.data, add.len)) < 0)
		goto out;
	for (pos = 0; next_field(&p->head, &pos, &f);) {
		/* Bcc and Resent-Bcc go whether or not -t read them, as Postfix and msmtp do: the
		 * header exists to name who must not be seen. */
		drop = is_empty_message_id(&f) || name_is(&f, "Bcc") || name_is(&f, "Resent-Bcc");
		if (!drop && (rc = emit_field(p, &f)) < 0)
			goto out;
	}
	if (separator && (rc = emit(p, "\r\n", 2)) < 0)
		goto out;
	p->in_body = 1;
	buf_free(&p->head);
out:
	buf_free(&add);
	return rc;
}

/* ---- lines ---- */

static int body_line(struct prep *p)
{
	int rc;

	/* A line over the limit is kept: the message is converted once read (convert.c). */
	if (p->line_len > MESSAGE_MAX_LINE)
		p->info->long_lines = 1;
	rc = emit(p, p->line.data, p->line.len);

	return rc < 0 ? rc : emit(p, "\r\n", 2);
}

/* Whether the current line belongs to the header section: a field's first line, or a
 * continuation of the last one. */
static int is_header_line(const struct prep *p)
{
	const char *s = p->line.data;
	size_t n = p->line.len;

	return n > 0 && ((is_wsp(s[0]) && p->head.len > 0) || is_field_start(s, n));
}

static int header_line(struct prep *p)
{
	const char *s = p->line.data;
	size_t n = p->line_len;
	int rc;

	if (n == 0)
		return finish_header(p, 1);
	if (is_header_line(p)) {
		if (p->head.len + n + 2 > MESSAGE_MAX_HEADER)
			return outbox_fail(p->h, OUTBOX_EINVALID, "message",
					   "the header section passes %d KiB at line %lld; is the empty line "
					   "between the headers and the body missing?",
					   MESSAGE_MAX_HEADER / 1024, p->line_no);
		if (buf_append(&p->head, s, n) < 0 || buf_append(&p->head, "\r\n", 2) < 0)
			return fail_nomem(p->h);
		return 0;
	}
	/* Not a header field: the body starts here, as sendmail and Postfix read it, and it gets the
	 * empty line that separates it from the headers. On the first line, there are no headers. */
	if ((rc = finish_header(p, 1)) < 0)
		return rc;
	return body_line(p);
}

static int end_line(struct prep *p)
{
	int rc;

	if (!p->in_body && p->line_len > MESSAGE_MAX_HEADER)
		return outbox_fail(p->h, OUTBOX_EINVALID, "message",
				   "line %lld is %zu octets long, more than the %d KiB a header section may "
				   "have; is the empty line between the headers and the body missing?",
				   p->line_no, p->line_len, MESSAGE_MAX_HEADER / 1024);
	if (p->opt->dot_ends_input && p->line_len == 1 && p->line.data[0] == '.') {
		p->done = 1;
		return 0;
	}
	/* An mbox separator ("From <sha> <date>", as git format-patch writes) is no header and no
	 * part of the message: Postfix drops it, and kept it would end the headers at once. */
	if (p->line_no == 1 && p->line_len >= 5 && memcmp(p->line.data, "From ", 5) == 0) {
		buf_reset(&p->line);
		p->line_len = 0;
		p->line_no++;
		return 0;
	}
	p->lines++;
	rc = p->in_body ? body_line(p) : header_line(p);
	buf_reset(&p->line);
	p->line_len = 0;
	p->line_no++;
	return rc;
}

/* One chunk of input. Line ends may be CRLF, LF or a bare CR; pending_cr makes a CRLF that a
 * chunk boundary cuts in two still one line end. */
static int take(struct prep *p, const unsigned char *data, size_t n)
{
	size_t i = 0, j, room, keep;
	int rc, eight;

	while (i < n && !p->done) {
		if (p->pending_cr) {
			p->pending_cr = 0;
			if (data[i] == '\n') {
				i++;
				continue;
			}
		}
		if (data[i] == '\r' || data[i] == '\n') {
			p->pending_cr = data[i++] == '\r';
			if ((rc = end_line(p)) < 0)
				return rc;
			continue;
		}
		for (j = i, eight = 0; j < n && data[j] != '\r' && data[j] != '\n'; j++) {
			if (data[j] == '\0')
				return outbox_fail(p->h, OUTBOX_EINVALID, "message",
						   "line %lld contains a NUL byte; mail cannot carry one: "
						   "remove it or encode the body (base64)",
						   p->line_no);
			eight |= data[j] & 0x80;
		}
		if (eight)
			p->info->has_8bit = 1;
		/* A body line over the limit goes out as it comes, so memory stays bounded whatever its
		 * length; it is re-encoded once the whole message is read. */
		if (p->in_body && p->line_len + (j - i) > MESSAGE_MAX_LINE) {
			if ((rc = emit(p, p->line.data, p->line.len)) < 0 || (rc = emit(p, (const char *)data + i, j - i)) < 0)
				return rc;
			buf_reset(&p->line);
			p->info->long_lines = 1;
			p->line_len += j - i;
			i = j;
			continue;
		}
		/* A header line may be long (it is folded); past the header section's limit the octets
		 * are only counted, so the refusal can say how long the line is. */
		room = p->line_len < MESSAGE_MAX_HEADER ? MESSAGE_MAX_HEADER - p->line_len : 0;
		keep = j - i < room ? j - i : room;
		if (buf_append(&p->line, data + i, keep) < 0)
			return fail_nomem(p->h);
		p->line_len += j - i;
		i = j;
		/* A long line that is no header field starts the body (as header_line would decide at its
		 * end): deciding now lets the rest of it stream, whatever its length. */
		if (!p->in_body && p->line.len > MESSAGE_MAX_LINE && !is_header_line(p) &&
		    (rc = finish_header(p, 1)) < 0)
			return rc;
	}
	return 0;
}

/* The right side of a generated Message-ID: a host name, or a no-fold-literal as RFC 5322 3.6.4
 * allows, which is what an account at an address literal ("a@[192.0.2.1]") gives. */
static int check_domain(outbox *h, const char *d)
{
	size_t len = strlen(d), i;
	unsigned char c;

	if (len > 2 && d[0] == '[' && d[len - 1] == ']') {
		for (i = 1; i < len - 1; i++) {
			c = (unsigned char)d[i];
			if (c <= ' ' || c >= 0x7f || strchr("[]\\<>", c) != NULL)
				return outbox_fail(h, OUTBOX_EINVALID, "domain",
						   "\"%.64s\" is not a usable address literal", d);
		}
		return 0;
	}
	return validate_host(h, "domain", d);
}

static int check_options(outbox *h, const struct message_options *opt)
{
	int rc;

	if (opt->from_address != NULL && (rc = validate_address(h, "from", opt->from_address)) < 0)
		return rc;
	if (opt->from_name != NULL && (rc = validate_text(h, "name", opt->from_name, NAME_MAX_BYTES)) < 0)
		return rc;
	if (opt->domain != NULL && (rc = check_domain(h, opt->domain)) < 0)
		return rc;
	return 0;
}

int message_prepare(outbox *h, int in_fd, int out_fd, const struct message_options *opt,
		    struct message_info *info)
{
	static const struct message_options defaults;
	struct prep p;
	unsigned char *chunk = NULL;
	ssize_t n;
	int rc;

	memset(info, 0, sizeof *info);
	if (opt == NULL)
		opt = &defaults;
	if ((rc = check_options(h, opt)) < 0)
		return rc;
	memset(&p, 0, sizeof p);
	p.h = h;
	p.out_fd = out_fd;
	p.opt = opt;
	p.info = info;
	p.line_no = 1;
	buf_init(&p.line, MESSAGE_MAX_HEADER);
	buf_init(&p.head, MESSAGE_MAX_HEADER);
	buf_init(&p.out, 0);
	if ((chunk = malloc(CHUNK)) == NULL) {
		rc = fail_nomem(h);
		goto out;
	}
	while (!p.done) {
		n = read(in_fd, chunk, CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = outbox_fail(h, OUTBOX_EIO, NULL, "reading the message failed: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if ((rc = take(&p, chunk, (size_t)n)) < 0)
			goto out;
	}
	/* A last line without a line end still counts; it gets its CRLF like any other. */
	if (!p.done && p.line_len > 0 && (rc = end_line(&p)) < 0)
		goto out;
	if (p.lines == 0) {
		rc = outbox_fail(h, OUTBOX_EINVALID, "message", "the message is empty");
		goto out;
	}
	if (!p.in_body && (rc = finish_header(&p, 0)) < 0)
		goto out;
	rc = flush(&p);
out:
	free(chunk);
	buf_free(&p.line);
	buf_free(&p.head);
	buf_free(&p.out);
	if (rc < 0)
		message_info_free(info);
	return rc;
}

void message_info_free(struct message_info *info)
{
	if (info == NULL)
		return;
	strv_free(info->recipients);
	free(info->message_id);
	free(info->from);
	memset(info, 0, sizeof *info);
}

int message_dot_stuff(const char *in, size_t len, int *at_line_start, struct buf *out)
{
	size_t saved = out->len, from = 0, i;
	int start = *at_line_start;

	for (i = 0; i < len; i++) {
		if (start && in[i] == '.') {
			/* Copy through this '.', and let the next span copy it again. */
			if (buf_append(out, in + from, i + 1 - from) < 0)
				goto fail;
			from = i;
		}
		start = in[i] == '\n';
	}
	if (buf_append(out, in + from, len - from) < 0)
		goto fail;
	*at_line_start = start;
	return 0;
fail:
	/* All or nothing, so a caller can flush and retry the same input. */
	if (out->data != NULL) {
		out->len = saved;
		out->data[saved] = '\0';
	}
	return OUTBOX_ENOMEM;
}
