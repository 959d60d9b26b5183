/* oauth_json.c: what a provider's JSON answer means, through json-c (loaded with dlopen on first
 * use): tokens, a device code, or an OAuth error turned into one line and an outbox code. Pure. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <json_object.h>
#include <json_tokener.h>

#include "handle_internal.h"
#include "http.h"
#include "oauth.h"
#include "validate.h"

static struct {
	void *handle;
	struct json_tokener *(*tokener_new_ex)(int);
	void (*tokener_set_flags)(struct json_tokener *, int);
	struct json_object *(*tokener_parse_ex)(struct json_tokener *, const char *, int);
	size_t (*tokener_get_parse_end)(struct json_tokener *);
	void (*tokener_free)(struct json_tokener *);
	int (*put)(struct json_object *);
	json_bool (*object_get_ex)(const struct json_object *, const char *, struct json_object **);
	enum json_type (*get_type)(const struct json_object *);
	const char *(*get_string)(struct json_object *);
	int (*get_string_len)(const struct json_object *);
	int64_t (*get_int64)(const struct json_object *);
} js;
static pthread_once_t js_once = PTHREAD_ONCE_INIT;

#define JSON_SYM(field, name) (*(void **)&js.field = dlsym(handle, name)) != NULL

static void json_load(void)
{
	void *handle = dlopen("libjson-c.so.5", RTLD_NOW | RTLD_LOCAL);

	if (handle == NULL)
		return;
	if (JSON_SYM(tokener_new_ex, "json_tokener_new_ex") &&
	    JSON_SYM(tokener_set_flags, "json_tokener_set_flags") &&
	    JSON_SYM(tokener_parse_ex, "json_tokener_parse_ex") &&
	    JSON_SYM(tokener_get_parse_end, "json_tokener_get_parse_end") &&
	    JSON_SYM(tokener_free, "json_tokener_free") && JSON_SYM(put, "json_object_put") &&
	    JSON_SYM(object_get_ex, "json_object_object_get_ex") &&
	    JSON_SYM(get_type, "json_object_get_type") &&
	    JSON_SYM(get_string, "json_object_get_string") &&
	    JSON_SYM(get_string_len, "json_object_get_string_len") &&
	    JSON_SYM(get_int64, "json_object_get_int64"))
		js.handle = handle;
}

static int json_ready(outbox *h)
{
	pthread_once(&js_once, json_load);
	if (js.handle == NULL)
		return outbox_fail(h, OUTBOX_ECONFIG, NULL,
				   "OAuth needs json-c: install libjson-c5 (Debian); libjson-c.so.5 could "
				   "not be loaded");
	return 0;
}

/* The whole body as one JSON object, strictly, or NULL. An answer is small: depth 8 is plenty. */
static struct json_object *json_parse_object(const char *body, size_t len)
{
	struct json_tokener *tok;
	struct json_object *o = NULL;

	if (len == 0 || len > HTTP_MAX_BODY || memchr(body, '\0', len) != NULL)
		return NULL;
	if ((tok = js.tokener_new_ex(8)) == NULL)
		return NULL;
	js.tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = js.tokener_parse_ex(tok, body, (int)len);
	/* Whitespace may follow the object, nothing else. */
	if (o != NULL) {
		size_t end = js.tokener_get_parse_end(tok);

		while (end < len && strchr(" \t\r\n", body[end]) != NULL)
			end++;
		if (end != len || js.get_type(o) != json_type_object) {
			js.put(o);
			o = NULL;
		}
	}
	js.tokener_free(tok);
	return o;
}

/* A string member, or NULL when absent or not a string; *len its length (it may hold NULs). */
static const char *member_string(struct json_object *o, const char *key, size_t *len)
{
	struct json_object *m;

	if (!js.object_get_ex(o, key, &m) || m == NULL || js.get_type(m) != json_type_string)
		return NULL;
	*len = (size_t)js.get_string_len(m);
	return js.get_string(m);
}

static int member_present(struct json_object *o, const char *key)
{
	struct json_object *m;

	return js.object_get_ex(o, key, &m) && m != NULL && js.get_type(m) != json_type_null;
}

/* Wipe the parsed copies of secrets before json-c frees them. */
static void member_wipe(struct json_object *o, const char *key)
{
	size_t len = 0;
	const char *s = member_string(o, key, &len);

	if (s != NULL)
		explicit_bzero((char *)(uintptr_t)s, len);
}

static void json_release(struct json_object *o)
{
	static const char *const secrets[] = {"access_token", "refresh_token", "id_token",
					      "device_code", NULL};
	size_t i;

	if (o == NULL)
		return;
	for (i = 0; secrets[i]; i++)
		member_wipe(o, secrets[i]);
	js.put(o);
}

/* A token or code: 1 to OAUTH_MAX_TOKEN visible ASCII characters, no space (RFC 6750's b64token
 * and what an AUTH line can carry). `lo` 0x20 allows spaces (scope, user_code). */
static int text_ok(const char *s, size_t len, unsigned char lo)
{
	size_t i;

	if (len == 0 || len > OAUTH_MAX_TOKEN)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < lo || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

/* Copy string member `key` into *out (NULL when absent and !required). */
static int take_string(outbox *h, struct json_object *o, const char *key, int required,
		       unsigned char lo, char **out)
{
	size_t len = 0;
	const char *s = member_string(o, key, &len);

	*out = NULL;
	if (s == NULL && !member_present(o, key)) {
		if (!required)
			return 0;
		return outbox_fail(h, OUTBOX_EPROTOCOL, NULL, "the provider's answer has no %s", key);
	}
	if (s == NULL || !text_ok(s, len, lo))
		return outbox_fail(h, OUTBOX_EPROTOCOL, NULL,
				   "the provider's %s is not %s", key,
				   lo > 0x20 ? "a token of visible ASCII characters"
					     : "one line of visible ASCII text");
	if ((*out = strndup(s, len)) == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	return 0;
}

/* A count of seconds, as a JSON integer or a string of digits (some providers quote it). Absent is
 * *out = fallback; more than `max` is max. */
static int take_seconds(outbox *h, struct json_object *o, const char *key, long long fallback,
			long long max, long long *out)
{
	struct json_object *m;
	size_t len = 0, i;
	const char *s;
	long long v = 0;

	*out = fallback;
	if (!member_present(o, key))
		return 0;
	js.object_get_ex(o, key, &m);
	if (js.get_type(m) == json_type_int) {
		int64_t n = js.get_int64(m);

		if (n <= 0)
			goto bad;
		v = n > max ? max : n;
	} else if ((s = member_string(o, key, &len)) != NULL && len > 0 && len <= 18) {
		for (i = 0; i < len; i++) {
			if (s[i] < '0' || s[i] > '9')
				goto bad;
			v = v * 10 + (s[i] - '0');
		}
		if (v <= 0)
			goto bad;
		v = v > max ? max : v;
	} else {
		goto bad;
	}
	*out = v;
	return 0;
bad:
	return outbox_fail(h, OUTBOX_EPROTOCOL, NULL, "the provider's %s is not a positive number of "
			   "seconds", key);
}

/* How an OAuth error code reads, and what kind of failure it is (DESIGN.md has the table). */
static const struct {
	const char *error;
	int code;
	const char *words;
} oauth_errors[] = {
	{"invalid_grant", OUTBOX_EAUTH, "the sign-in was refused or revoked"},
	{"access_denied", OUTBOX_EAUTH, "the sign-in was refused"},
	{"expired_token", OUTBOX_EAUTH, "the sign-in code expired before it was confirmed"},
	{"invalid_client", OUTBOX_ECONFIG, "the provider refused the client: check the client ID "
					   "and secret"},
	{"unauthorized_client", OUTBOX_ECONFIG, "the provider does not allow this client this kind "
						"of sign-in"},
	{"invalid_scope", OUTBOX_ECONFIG, "the provider refused the scope"},
	{"unsupported_grant_type", OUTBOX_EUNAVAILABLE, "the provider does not offer this kind of "
							"sign-in"},
	{"server_error", OUTBOX_ETEMPFAIL, "the provider failed; try again later"},
	{"temporarily_unavailable", OUTBOX_ETEMPFAIL, "the provider is unavailable for now; try "
						      "again later"},
};

/* The answer as one line and a code, for a status that is not 2xx or a body with "error". */
static int error_judge(outbox *h, long status, struct json_object *o)
{
	char err[96] = "", desc[256] = "", uri[160] = "";
	const char *s, *words = NULL;
	size_t len, i;
	int code;

	if (o != NULL && (s = member_string(o, "error", &len)) != NULL)
		validate_display(err, sizeof err, s, len);
	if (o != NULL && (s = member_string(o, "error_description", &len)) != NULL)
		validate_display(desc, sizeof desc, s, len);
	if (o != NULL && (s = member_string(o, "error_uri", &len)) != NULL)
		validate_display(uri, sizeof uri, s, len);
	/* By the HTTP status when the error is not one OAuth names. */
	if (status >= 500 || status == 429) {
		code = OUTBOX_ETEMPFAIL;
		words = "the provider failed; try again later";
	} else if (status >= 300 && status < 400) {
		code = OUTBOX_ECONFIG;
		words = "the endpoint redirects, and redirects are not followed: give its final URL";
	} else if (status >= 400) {
		code = OUTBOX_ECONFIG;
		words = *err ? "the provider refused the request" : "the endpoint refused the request: "
								    "check its URL";
	} else {
		code = OUTBOX_EPROTOCOL;
		words = "the provider answered with an error";
	}
	for (i = 0; i < sizeof oauth_errors / sizeof oauth_errors[0]; i++)
		if (strcmp(err, oauth_errors[i].error) == 0) {
			code = oauth_errors[i].code;
			words = oauth_errors[i].words;
		}
	if (*err == '\0')
		return outbox_fail(h, code, NULL, "%s (HTTP %ld)", words, status);
	return outbox_fail(h, code, NULL, "%s (%s%s%s)%s%s", words, err, *desc ? ": " : "", desc,
			   *uri ? "; see " : "", uri);
}

/* Parse `body` and judge everything but success. *o is the object on success (2xx, no "error"). */
static int answer_open(outbox *h, long status, const char *body, size_t len,
		       struct json_object **o)
{
	int rc;

	*o = NULL;
	if ((rc = json_ready(h)) < 0)
		return rc;
	*o = json_parse_object(body, len);
	if (status >= 200 && status < 300 && *o != NULL && !member_present(*o, "error"))
		return 0;
	if (status >= 200 && status < 300 && *o == NULL)
		return outbox_fail(h, OUTBOX_EPROTOCOL, NULL,
				   "the provider's answer is not a JSON object (HTTP %ld)", status);
	rc = error_judge(h, status, *o);
	json_release(*o);
	*o = NULL;
	return rc;
}

int oauth_answer_judge(outbox *h, long status, const char *body, size_t len)
{
	struct json_object *o;
	int rc;

	/* A revocation's success has no body to speak of: only a failure's is read. */
	if (status >= 200 && status < 300)
		return 0;
	rc = answer_open(h, status, body, len, &o);
	json_release(o);
	return rc;
}

int oauth_token_parse(outbox *h, long status, const char *body, size_t len,
		      struct oauth_tokens *out)
{
	struct json_object *o = NULL, *e = NULL;
	char *type = NULL;
	const char *err;
	size_t elen = 0;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = json_ready(h)) < 0)
		return rc;
	/* The device grant's two answers that mean "keep polling" are not failures. */
	if (status >= 400 && status < 500 && (e = json_parse_object(body, len)) != NULL &&
	    (err = member_string(e, "error", &elen)) != NULL) {
		rc = elen == 21 && memcmp(err, "authorization_pending", 21) == 0 ? OAUTH_PENDING
		     : elen == 9 && memcmp(err, "slow_down", 9) == 0		? OAUTH_SLOW_DOWN
										: 0;
	}
	json_release(e);
	if (rc > 0)
		return rc;
	if ((rc = answer_open(h, status, body, len, &o)) < 0)
		return rc;
	if ((rc = take_string(h, o, "access_token", 1, 0x21, &out->access_token)) < 0 ||
	    (rc = take_string(h, o, "token_type", 1, 0x21, &type)) < 0 ||
	    (rc = take_string(h, o, "refresh_token", 0, 0x21, &out->refresh_token)) < 0 ||
	    (rc = take_string(h, o, "scope", 0, 0x20, &out->scope)) < 0 ||
	    (rc = take_seconds(h, o, "expires_in", 0, OAUTH_MAX_EXPIRES_IN, &out->expires_in)) < 0)
		goto out;
	if (strcasecmp(type, "Bearer") != 0) {
		char shown[64];

		validate_display(shown, sizeof shown, type, strlen(type));
		rc = outbox_fail(h, OUTBOX_EPROTOCOL, NULL,
				 "the provider issued a token of type %s; outbox can use only Bearer "
				 "tokens", shown);
	}
out:
	free(type);
	json_release(o);
	if (rc < 0)
		oauth_tokens_free(out);
	return rc;
}

int oauth_device_parse(outbox *h, long status, const char *body, size_t len,
		       struct oauth_device *out)
{
	struct json_object *o = NULL;
	long long interval = 5;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = answer_open(h, status, body, len, &o)) < 0)
		return rc;
	if ((rc = take_string(h, o, "device_code", 1, 0x21, &out->device_code)) < 0 ||
	    (rc = take_string(h, o, "user_code", 1, 0x20, &out->user_code)) < 0 ||
	    (rc = take_string(h, o, "verification_uri_complete", 0, 0x21,
			      &out->verification_uri_complete)) < 0 ||
	    (rc = take_seconds(h, o, "expires_in", -1, OAUTH_MAX_EXPIRES_IN, &out->expires_in)) < 0 ||
	    (rc = take_seconds(h, o, "interval", 5, 300, &interval)) < 0)
		goto out;
	/* Google names it verification_url, as drafts of RFC 8628 did. */
	rc = take_string(h, o, member_present(o, "verification_uri") ? "verification_uri"
								       : "verification_url",
			 1, 0x21, &out->verification_uri);
	if (rc == 0 && out->expires_in < 0)
		rc = outbox_fail(h, OUTBOX_EPROTOCOL, NULL, "the provider's answer has no expires_in");
	out->interval = (int)interval;
out:
	json_release(o);
	if (rc < 0)
		oauth_device_free(out);
	return rc;
}
