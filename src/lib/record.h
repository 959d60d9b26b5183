/* record.h: the machinery servers and accounts share: a table of field specs (key, label, column,
 * default), values held as canonical text, and loading/binding them against SQLite rows. */
#ifndef OUTBOX_RECORD_H
#define OUTBOX_RECORD_H

#include <sqlite3.h>
#include <stddef.h>
#include "buf.h"
#include "outbox/field.h"

struct field_spec {
	outbox_field pub;
	const char *column; /* NULL when the field is not a plain column (kept elsewhere) */
	const char *def;    /* the value of a new draft */
};

struct record {
	const struct field_spec *spec;
	size_t count;
	char **val; /* count strings, never NULL once initialised */
};

int record_init(struct record *r, const struct field_spec *spec, size_t count);
void record_free(struct record *r);
/* Replace value i with a copy of v; -1 on OOM, leaving the old value. */
int record_put(struct record *r, size_t i, const char *v);
/* Append "col, col, ..." for every field with a column, in spec order. */
int record_columns(const struct record *r, struct buf *out, const char *prefix);
/* Read the columns (in record_columns order) from a row starting at column `first`. */
int record_read_row(struct record *r, sqlite3_stmt *st, int first);
/* Bind the column values (in record_columns order) as parameters starting at `first`. Returns the
 * next free parameter index, or -1 on failure. */
int record_bind(const struct record *r, sqlite3_stmt *st, int first);
int record_find_key(const struct field_spec *spec, size_t count, const char *key);

/* A NULL-terminated array of strings. */
int strv_push(char ***v, const char *s);
void strv_free(char **v);
size_t strv_len(char *const *v);
/* strv_push for long lists: the caller keeps the count in *n (0 for an empty list), so each
 * append costs O(1), the array growing by doubling. */
int strv_append(char ***v, size_t *n, const char *s);

#endif
