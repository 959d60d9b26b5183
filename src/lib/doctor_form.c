/* doctor_form.c: the doctor's advice reworded for a form: the command-line options it names become
 * the field labels a form shows, so the terminal UI says "set Security to TLS" from the same words. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "doctor_advice.h"
#include "outbox/server.h"

/* Appending to out[0..size), kept terminated when full. */
struct doctor_form_out {
	char *buf;
	size_t size, len;
};

static void doctor_form_put(struct doctor_form_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void doctor_form_put(struct doctor_form_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len + 1 >= o->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len = o->len + (size_t)n < o->size ? o->len + (size_t)n : o->size - 1;
}

/* The length of the word at p: up to a space, ')', ',' or ';', or a '.' that ends a sentence. */
static size_t doctor_form_token(const char *p)
{
	size_t n = 0;

	while (p[n] && p[n] != ' ' && p[n] != ')' && p[n] != ',' && p[n] != ';' &&
	       !(p[n] == '.' && (p[n + 1] == '\0' || p[n + 1] == ' ')))
		n++;
	return n;
}

/* A placeholder such as N, HOST, FILE or SHA256: capitals and digits, at least one capital. */
static int doctor_form_placeholder(const char *p, size_t n)
{
	int letter = 0;

	for (size_t i = 0; i < n; i++) {
		if (isupper((unsigned char)p[i]))
			letter = 1;
		else if (!isdigit((unsigned char)p[i]) && p[i] != '_')
			return 0;
	}
	return letter;
}

/* The field an option names ("--tls-ca" gives tls-ca's), with *negated for "--no-tls-verify". */
static int doctor_form_field(const char *opt, size_t n, int *negated)
{
	char key[64];

	*negated = 0;
	if (n < 3 || n - 2 >= sizeof key)
		return -1;
	snprintf(key, sizeof key, "%.*s", (int)(n - 2), opt + 2);
	if (strncmp(key, "no-", 3) == 0 && outbox_server_field_by_key(key + 3) >= 0) {
		*negated = 1;
		return outbox_server_field_by_key(key + 3);
	}
	return outbox_server_field_by_key(key);
}

/* A value as a form shows it: the security modes as they are spoken, the rest as typed. */
static void doctor_form_value(struct doctor_form_out *o, int id, const char *v, size_t n)
{
	if (id == OUTBOX_SERVER_SECURITY && n == 4 && strncmp(v, "none", 4) == 0)
		doctor_form_put(o, "None");
	else if (id == OUTBOX_SERVER_SECURITY)
		for (size_t i = 0; i < n; i++)
			doctor_form_put(o, "%c", toupper((unsigned char)v[i]));
	else
		doctor_form_put(o, "%.*s", (int)n, v);
}

/* "outbox server edit NAME --a x --b Y" at p (past "outbox server edit "): "set A to x and
 * change B". Returns how much of p it read, or 0 when an option is not a server field. */
static size_t doctor_form_edit(struct doctor_form_out *o, const char *p)
{
	const char *q = p + doctor_form_token(p);
	size_t vlens[8], count = 0, i;
	int ids[8], negs[8];
	const char *vals[8], *last = NULL;

	while (count < 8 && q[0] == ' ' && q[1] == '-' && q[2] == '-') {
		const char *opt = q + 1;
		size_t n = doctor_form_token(opt);
		int neg, id = doctor_form_field(opt, n, &neg);
		q = opt + n;
		vals[count] = NULL;
		vlens[count] = 0;
		if (n == strlen("--password-prompt") && strncmp(opt, "--password-prompt", n) == 0) {
			id = -2;
		} else if (id < 0) {
			return 0;
		} else if (!neg && q[0] == ' ' && q[1] != '-' &&
			   outbox_server_field_info((outbox_server_field_id)id)->kind != OUTBOX_FIELD_BOOL) {
			vals[count] = q + 1;
			vlens[count] = doctor_form_token(q + 1);
			q += 1 + vlens[count];
		}
		ids[count] = id;
		negs[count] = neg;
		count++;
	}
	if (count == 0)
		return 0;
	for (i = 0; i < count; i++) {
		const char *label = ids[i] >= 0 ? outbox_server_field_info((outbox_server_field_id)ids[i])->label
						: "Password",
			   *verb;
		if (ids[i] == -2)
			verb = "type the password in ";
		else if (negs[i])
			verb = "untick ";
		else if (outbox_server_field_info((outbox_server_field_id)ids[i])->kind == OUTBOX_FIELD_BOOL)
			verb = "tick ";
		else if (vals[i] == NULL || doctor_form_placeholder(vals[i], vlens[i]))
			verb = "change ";
		else if (vlens[i] == 2 && strncmp(vals[i], "\"\"", 2) == 0)
			verb = "clear ";
		else
			verb = "set ";
		/* "set Security to TLS and Port to 465": a verb is said once for a run of them. */
		doctor_form_put(o, "%s%s%s", i == 0 ? "" : i + 1 == count ? " and " : ", ", verb == last ? "" : verb,
				label);
		if (strcmp(verb, "set ") == 0) {
			doctor_form_put(o, " to ");
			doctor_form_value(o, ids[i], vals[i], vlens[i]);
		}
		last = verb;
	}
	return (size_t)(q - p);
}

/* A lone "--security tls" in a sentence: "Security TLS"; the value only when it is a choice. */
static size_t doctor_form_option(struct doctor_form_out *o, const char *p)
{
	size_t n = doctor_form_token(p), vn;
	int neg, id = doctor_form_field(p, n, &neg);
	const outbox_field *info;

	if (id < 0)
		return 0;
	info = outbox_server_field_info(id);
	doctor_form_put(o, "%s%s", neg ? "no " : "", info->label);
	if (info->kind == OUTBOX_FIELD_CHOICE && p[n] == ' ') {
		vn = doctor_form_token(p + n + 1);
		for (const char *const *c = info->choices; c && *c; c++)
			if (strlen(*c) == vn && strncmp(*c, p + n + 1, vn) == 0) {
				doctor_form_put(o, " ");
				doctor_form_value(o, id, p + n + 1, vn);
				return n + 1 + vn;
			}
	}
	return n;
}

void doctor_form_words(const char *advice, char *out, size_t size)
{
	static const char edit[] = "outbox server edit ", login[] = "outbox server login ",
			  check[] = "outbox server check ";
	struct doctor_form_out o = {out, size, 0};
	const char *p = advice;

	if (size == 0)
		return;
	out[0] = '\0';
	while (*p) {
		size_t used = 0;
		int word_start = p == advice || p[-1] == ' ' || p[-1] == '(';
		if (strncmp(p, edit, sizeof edit - 1) == 0)
			used = doctor_form_edit(&o, p + sizeof edit - 1);
		if (used) {
			p += sizeof edit - 1 + used;
			continue;
		}
		if (strncmp(p, login, sizeof login - 1) == 0) {
			doctor_form_put(&o, "save the server and press Sign In");
			p += sizeof login - 1;
			p += doctor_form_token(p);
			continue;
		}
		if (strncmp(p, check, sizeof check - 1) == 0) {
			doctor_form_put(&o, "press Check Connection");
			p += sizeof check - 1;
			p += doctor_form_token(p);
			continue;
		}
		if (word_start && p[0] == '-' && p[1] == '-' && (used = doctor_form_option(&o, p)) > 0) {
			p += used;
			continue;
		}
		doctor_form_put(&o, "%c", *p++);
	}
}
