/* http.h: one HTTP request at a time through libcurl (loaded with dlopen on first use), for the
 * OAuth endpoints: a form POST or a GET, certificates always verified, redirects never followed. */
#ifndef OUTBOX_HTTP_H
#define OUTBOX_HTTP_H

#include <stddef.h>

#include "buf.h"
#include "outbox/error.h"
#include "transcript.h"

/* A response body larger than this is refused: token and device responses are a few KiB. */
#define HTTP_MAX_BODY (64 * 1024)

struct http_request {
	const char *url;
	/* For a POST: name, value, name, value, ..., NULL, sent as application/x-www-form-urlencoded.
	 * NULL makes the request a GET. */
	const char *const *form;
	const char *ca_file; /* trust this CA file instead of the system's; NULL: the system's */
	long timeout_ms;     /* the whole request, connecting included */
	struct transcript verbose; /* fn NULL: none; else '>' and '<' lines, secrets redacted */
	/* The option that sets ca_file, named by a certificate error so the user knows where to give
	 * a private CA; NULL: "tls-ca". */
	const char *ca_option;
};

struct http_response {
	long status;
	struct buf body;        /* NUL-terminated, at most HTTP_MAX_BODY bytes */
	char content_type[128]; /* "" when the server sent none */
};

/* 0 when libcurl could be loaded; else OUTBOX_ECONFIG with the words that say what to install. */
int http_ready(outbox *h);
/* The one rule for an endpoint URL: https:// anywhere, http:// only to 127.0.0.0/8, [::1] or
 * "localhost" (which is then connected to 127.0.0.1 only). Else OUTBOX_EINVALID naming `field`
 * and the URL. */
int http_url_check(outbox *h, const char *field, const char *url);
/* Perform the request. Any answer with a status, 4xx and 5xx included, is 0: the caller reads its
 * body. A failure to get one is OUTBOX_ETEMPFAIL (network, timeout), OUTBOX_EUNAVAILABLE (the
 * certificate), OUTBOX_ECONFIG (libcurl missing, a CA file), OUTBOX_EPROTOCOL (a body too large).
 * `resp` is always initialised; free it with http_response_free. */
int http_perform(outbox *h, const struct http_request *req, struct http_response *resp);
/* Wipes the body (it may hold tokens) and frees it. */
void http_response_free(struct http_response *resp);
/* Append `s` percent-escaped (everything but ALPHA, DIGIT and "-._~") by libcurl. */
int http_escape(outbox *h, struct buf *out, const char *s);
/* Decode a query or form value: '+' is a space, %XX a byte. A value that decodes to a NUL or a
 * control character is refused (-1), as is anything libcurl cannot decode. *out is malloc'd. */
int http_unescape_value(const char *s, size_t len, char **out);
/* Whether a form field carries a secret the transcript must not show: names containing "token"
 * or "secret", and code, device_code, code_verifier, password. */
int http_field_is_secret(const char *name);

#endif
