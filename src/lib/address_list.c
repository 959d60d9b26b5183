/* address_list.c: a lenient RFC 5322 address-list parser (3.4, with the obsolete forms of 4.4 that
 * mailers still write), used for -t recipients and for the From: address of a message. */
#include <string.h>

#include "address_list.h"
#include "buf.h"
#include "outbox/error.h"

struct alp {
	const char *s;
	size_t len, i;
	struct buf word; /* the addr-spec being put back together from tokens */
	int gap;         /* CFWS came between the last token and the next */
	int angle;       /* this element already gave its address in <...> */
	address_list_fn fn;
	void *ctx;
};

static int is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* What ends an atom here. '.' and '@' stay inside tokens: they only matter once the tokens are
 * joined into an addr-spec, and joining keeps them. */
static int is_special(char c)
{
	return c != '\0' && strchr("()<>,;:\"[]", c) != NULL;
}

/* Just past the quoted string or domain literal opening at s[i]; an unclosed one runs to the end,
 * so the caller's validation sees (and names) the damage. */
static size_t skip_quoted(const char *s, size_t len, size_t i, char close)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		else if (s[i] == close)
			return i + 1;
	}
	return len;
}

static size_t skip_comment(const char *s, size_t len, size_t i)
{
	size_t depth = 0;

	for (; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		else if (s[i] == '(')
			depth++;
		else if (s[i] == ')' && --depth == 0)
			return i + 1;
	}
	return len;
}

static void skip_cfws(struct alp *a)
{
	while (a->i < a->len) {
		if (is_wsp(a->s[a->i]))
			a->i++;
		else if (a->s[a->i] == '(')
			a->i = skip_comment(a->s, a->len, a->i);
		else
			break;
		a->gap = 1;
	}
}

static int ew_char(char c)
{
	return c > ' ' && c < 0x7f && c != '?';
}

/* The length of an RFC 2047 encoded word "=?charset?B|Q?text?=" at s[i], or 0. It is taken whole
 * so that a ',' or '"' a careless mailer left unencoded in it cannot split an address. */
static size_t encoded_word(const char *s, size_t len, size_t i)
{
	size_t j = i + 2, start = j;

	if (len - i < 2 || s[i] != '=' || s[i + 1] != '?')
		return 0;
	while (j < len && ew_char(s[j]))
		j++;
	if (j == start || len - j < 3 || s[j] != '?' || s[j + 2] != '?')
		return 0;
	if (s[j + 1] != 'B' && s[j + 1] != 'b' && s[j + 1] != 'Q' && s[j + 1] != 'q')
		return 0;
	for (j += 3; j < len && ew_char(s[j]); j++)
		;
	if (len - j < 2 || s[j] != '?' || s[j + 1] != '=')
		return 0;
	return j + 2 - i;
}

/* Words separated by CFWS are joined with one space, except around '.' and '@' (obs-local-part
 * and obs-domain allow "a . b @ c"): a display name typed without brackets then reaches
 * validation as "Ann Smith" and is refused in words the user recognises. */
static int add_token(struct alp *a, const char *t, size_t n)
{
	char last;

	if (a->word.len > 0 && a->gap) {
		last = a->word.data[a->word.len - 1];
		if (last != '.' && last != '@' && t[0] != '.' && t[0] != '@' &&
		    buf_append(&a->word, " ", 1) < 0)
			return OUTBOX_ENOMEM;
	}
	a->gap = 0;
	return buf_append(&a->word, t, n) < 0 ? OUTBOX_ENOMEM : 0;
}

static int take_token(struct alp *a)
{
	const char *s = a->s;
	size_t start = a->i, end;

	if (s[start] == '"') {
		end = skip_quoted(s, a->len, start, '"');
	} else if (s[start] == '[') {
		end = skip_quoted(s, a->len, start, ']');
	} else if ((end = encoded_word(s, a->len, start)) != 0) {
		end += start;
	} else {
		for (end = start; end < a->len && !is_wsp(s[end]) && !is_special(s[end]); end++)
			;
	}
	a->i = end;
	return add_token(a, s + start, end - start);
}

static int emit(struct alp *a)
{
	int rc = 0;

	if (a->word.len > 0)
		rc = a->fn(a->ctx, a->word.data);
	buf_reset(&a->word);
	a->gap = 0;
	return rc;
}

static void forget_word(struct alp *a)
{
	buf_reset(&a->word);
	a->gap = 0;
}

/* "<...>" at a->i: the addr-spec inside, without an obsolete source route "@a,@b:" in front.
 * What came before it in the element was a display name and is dropped. */
static int take_angle(struct alp *a)
{
	int rc;
	char c;

	forget_word(a);
	for (a->i++;;) {
		skip_cfws(a);
		if (a->i >= a->len)
			break;
		c = a->s[a->i];
		if (c == '>') {
			a->i++;
			break;
		}
		if (c == ':') {
			forget_word(a);
			a->i++;
		} else if (c == ',' || c == ';' || c == '<' || c == ')' || c == ']') {
			a->i++;
		} else if ((rc = take_token(a)) < 0) {
			return rc;
		}
	}
	a->angle = 1;
	return emit(a);
}

/* A ',' or ';' or the end: an element without <...> is itself the address. */
static int end_element(struct alp *a)
{
	int rc = 0;

	if (!a->angle)
		rc = emit(a);
	forget_word(a);
	a->angle = 0;
	return rc;
}

int address_list_parse(const char *s, size_t len, address_list_fn fn, void *ctx)
{
	struct alp a = {.s = s, .len = len, .fn = fn, .ctx = ctx};
	int rc = 0;

	buf_init(&a.word, 0);
	while (rc == 0) {
		skip_cfws(&a);
		if (a.i >= len)
			break;
		switch (s[a.i]) {
		case ',':
		case ';': /* the end of a group is the end of its last element */
			a.i++;
			rc = end_element(&a);
			break;
		case ':': /* "name:" opens a group; the name is not an address */
			a.i++;
			forget_word(&a);
			a.angle = 0;
			break;
		case '<':
			rc = take_angle(&a);
			break;
		case '>':
		case ')':
		case ']':
			a.i++;
			break;
		default:
			rc = take_token(&a);
		}
	}
	if (rc == 0)
		rc = end_element(&a);
	buf_free(&a.word);
	return rc < 0 ? rc : 0;
}
