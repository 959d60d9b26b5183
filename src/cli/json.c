/* json.c: the JSON writer behind every --json listing. Strings are escaped per RFC 8259, UTF-8 is
 * passed through, and control characters become \u escapes. */
#include <string.h>

#include "json.h"

void json_init(struct json *j, FILE *out)
{
	memset(j, 0, sizeof *j);
	j->out = out;
}

/* Per depth: 0 nothing written yet, 1 an element written (a comma comes next), 2 a key written
 * (its value comes next, without a comma). */
static void json_value_start(struct json *j)
{
	if (j->depth == 0)
		return;
	if (j->need_comma[j->depth] == 1)
		fputc(',', j->out);
	j->need_comma[j->depth] = 1;
}

static void json_open(struct json *j, char c)
{
	json_value_start(j);
	fputc(c, j->out);
	if (j->depth < 31)
		j->depth++;
	j->need_comma[j->depth] = 0;
}

static void json_close(struct json *j, char c)
{
	fputc(c, j->out);
	if (j->depth > 0)
		j->depth--;
}

void json_begin_object(struct json *j) { json_open(j, '{'); }
void json_end_object(struct json *j) { json_close(j, '}'); }
void json_begin_array(struct json *j) { json_open(j, '['); }
void json_end_array(struct json *j) { json_close(j, ']'); }

static void json_escaped(FILE *out, const char *s, int snake)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', out);
	for (; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\t')
			fputs("\\t", out);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else if (snake && *p == '-')
			fputc('_', out);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

void json_key(struct json *j, const char *key)
{
	if (j->need_comma[j->depth] == 1)
		fputc(',', j->out);
	json_escaped(j->out, key, 1);
	fputc(':', j->out);
	j->need_comma[j->depth] = 2; /* the value comes next, without a comma */
}

void json_string(struct json *j, const char *s)
{
	json_value_start(j);
	json_escaped(j->out, s ? s : "", 0);
}

void json_raw(struct json *j, const char *literal)
{
	json_value_start(j);
	fputs(literal, j->out);
}

void json_member_string(struct json *j, const char *key, const char *value)
{
	json_key(j, key);
	json_string(j, value);
}

void json_member_int(struct json *j, const char *key, long long value)
{
	char num[32];

	snprintf(num, sizeof num, "%lld", value);
	json_key(j, key);
	json_raw(j, num);
}

void json_end(struct json *j)
{
	fputc('\n', j->out);
}
