/* record.c: field-table driven records: one copy of the load/bind code for every record type,
 * and one place that turns typed columns (integers, flags) into the text the API hands out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

int record_init(struct record *r, const struct field_spec *spec, size_t count)
{
	size_t i;

	r->spec = spec;
	r->count = count;
	r->val = calloc(count, sizeof *r->val);
	if (r->val == NULL)
		return -1;
	for (i = 0; i < count; i++) {
		if ((r->val[i] = strdup(spec[i].def ? spec[i].def : "")) == NULL) {
			record_free(r);
			return -1;
		}
	}
	return 0;
}

void record_free(struct record *r)
{
	size_t i;

	if (r->val) {
		for (i = 0; i < r->count; i++)
			free(r->val[i]);
		free(r->val);
	}
	r->val = NULL;
}

int record_put(struct record *r, size_t i, const char *v)
{
	char *copy = strdup(v ? v : "");

	if (copy == NULL)
		return -1;
	free(r->val[i]);
	r->val[i] = copy;
	return 0;
}

int record_columns(const struct record *r, struct buf *out, const char *prefix)
{
	size_t i;
	int first = 1;

	for (i = 0; i < r->count; i++) {
		if (!r->spec[i].column)
			continue;
		if (buf_printf(out, "%s%s%s", first ? "" : ", ", prefix, r->spec[i].column) < 0)
			return -1;
		first = 0;
	}
	return 0;
}

int record_read_row(struct record *r, sqlite3_stmt *st, int first)
{
	size_t i;
	int col = first;

	for (i = 0; i < r->count; i++) {
		const struct field_spec *f = &r->spec[i];
		char num[32];
		const char *text;

		if (!f->column)
			continue;
		if (f->pub.kind == OUTBOX_FIELD_BOOL) {
			text = sqlite3_column_int(st, col) ? "true" : "false";
		} else if (f->pub.kind == OUTBOX_FIELD_NUMBER) {
			snprintf(num, sizeof num, "%lld", (long long)sqlite3_column_int64(st, col));
			text = num;
		} else {
			text = (const char *)sqlite3_column_text(st, col);
		}
		if (record_put(r, i, text ? text : "") < 0)
			return -1;
		col++;
	}
	return 0;
}

int record_bind(const struct record *r, sqlite3_stmt *st, int first)
{
	size_t i;
	int p = first, rc;

	for (i = 0; i < r->count; i++) {
		const struct field_spec *f = &r->spec[i];

		if (!f->column)
			continue;
		if (f->pub.kind == OUTBOX_FIELD_BOOL)
			rc = sqlite3_bind_int(st, p, strcmp(r->val[i], "true") == 0);
		else if (f->pub.kind == OUTBOX_FIELD_NUMBER)
			rc = sqlite3_bind_int64(st, p, strtoll(r->val[i], NULL, 10));
		else
			rc = sqlite3_bind_text(st, p, r->val[i], -1, SQLITE_TRANSIENT);
		if (rc != SQLITE_OK)
			return -1;
		p++;
	}
	return p;
}

int record_find_key(const struct field_spec *spec, size_t count, const char *key)
{
	size_t i;

	for (i = 0; key && i < count; i++)
		if (strcmp(spec[i].pub.key, key) == 0)
			return (int)i;
	return -1;
}

size_t strv_len(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

int strv_append(char ***v, size_t *n, const char *s)
{
	char *copy = strdup(s);

	if (copy == NULL)
		return -1;
	/* Room for n+1 strings and the NULL runs out exactly when n+1 is a power of two. */
	if (((*n + 1) & *n) == 0) {
		char **grown = realloc(*v, 2 * (*n + 1) * sizeof *grown);
		if (grown == NULL) {
			free(copy);
			return -1;
		}
		*v = grown;
	}
	(*v)[(*n)++] = copy;
	(*v)[*n] = NULL;
	return 0;
}

int strv_push(char ***v, const char *s)
{
	size_t n = strv_len(*v);
	char **grown;
	char *copy = strdup(s);

	if (copy == NULL)
		return -1;
	grown = realloc(*v, (n + 2) * sizeof *grown);
	if (grown == NULL) {
		free(copy);
		return -1;
	}
	grown[n] = copy;
	grown[n + 1] = NULL;
	*v = grown;
	return 0;
}

void strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}
