/* json.h: a small streaming JSON writer for --json output: correct escaping, commas placed for
 * the caller, keys turned from option style ("tls-ca") to the JSON style ("tls_ca"). */
#ifndef OUTBOX_CLI_JSON_H
#define OUTBOX_CLI_JSON_H

#include <stdio.h>

struct json {
	FILE *out;
	int depth;
	int need_comma[32];
};

void json_init(struct json *j, FILE *out);
void json_begin_object(struct json *j);
void json_end_object(struct json *j);
void json_begin_array(struct json *j);
void json_end_array(struct json *j);
/* Write a member name (converted to snake_case); the value follows with one of the calls below. */
void json_key(struct json *j, const char *key);
void json_string(struct json *j, const char *s);
void json_raw(struct json *j, const char *literal); /* numbers, true, false, null */
/* A member in one call: the key, then a string or an integer. */
void json_member_string(struct json *j, const char *key, const char *value);
void json_member_int(struct json *j, const char *key, long long value);
/* Finish the document with a newline. */
void json_end(struct json *j);

#endif
