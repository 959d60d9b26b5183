/* http.h: one HTTP request at a time through libcurl (loaded with dlopen on first use), for the
 * OAuth endpoints and autoconfig: a form POST or a GET, certificates verified, redirects never followed
 * here (a 3xx is an answer like any other: autoconfig_redirect.c decides whether to ask its Location). */
#ifndef OUTBOX_HTTP_H
#define OUTBOX_HTTP_H

#include <stddef.h>

#include "buf.h"
#include "outbox/error.h"
#include "transcript.h"

/* A response body larger than this is refused: token and device responses are a few KiB. */
#define HTTP_MAX_BODY (64 * 1024)

/* The longest Location header kept; a longer one is reported as unusable. */
#define HTTP_MAX_LOCATION 2048

/* A host name answered by the caller's resolver rather than the system's: the request to `host`
 * connects to `address` (an IPv4 or IPv6 literal), and the certificate is still checked against
 * `host`. Several entries for one host give it several addresses, tried in order. */
struct http_pin {
	const char *host;
	const char *address;
};

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
	/* Host names resolved by the caller (CURLOPT_RESOLVE); a host not listed is resolved by the
	 * system. Ignored for plain http to "localhost", which is always 127.0.0.1. */
	const struct http_pin *pins;
	size_t pin_count;
	const char *accept; /* the Accept header's value; NULL: application/json */
};

struct http_response {
	long status;
	struct buf body;        /* NUL-terminated, at most HTTP_MAX_BODY bytes */
	char content_type[128]; /* "" when the server sent none */
	/* Set when http_perform failed because the request's timeout passed: nothing answered in
	 * time (OUTBOX_ETEMPFAIL also covers a refused connection or an unknown host). */
	int timed_out;
	/* The Location header's value as sent, trimmed ("" when none), for the caller that follows
	 * redirects; location_bad when there was one but it was too long or held spaces, control or
	 * non-ASCII bytes (location is then ""). */
	char location[HTTP_MAX_LOCATION];
	int location_bad;
};

/* 0 when libcurl could be loaded; else OUTBOX_ECONFIG with the words that say what to install. */
int http_ready(outbox *h);
/* The one rule for an endpoint URL: https:// anywhere, http:// only to 127.0.0.0/8, [::1] or
 * "localhost" (which is then connected to 127.0.0.1 only). Else OUTBOX_EINVALID naming `field`
 * and the URL. */
int http_url_check(outbox *h, const char *field, const char *url);
/* The host `url` names, as libcurl will connect to it (an IPv6 literal without its brackets), after
 * http_url_check's rule: the name to pin is the name libcurl looks up. */
int http_url_host(outbox *h, const char *url, char *host, size_t size);
/* `reference` (a Location header's value: absolute, scheme-relative, or a path, query or
 * fragment) resolved against `base` by RFC 3986's rules, through libcurl's URL parser, appended
 * to `out` in libcurl's normalised form. OUTBOX_EINVALID naming "location" when it is no URL. */
int http_url_resolve(outbox *h, const char *base, const char *reference, struct buf *out);
/* When the header line `line` (len bytes, its CRLF included or not) is a Location header: its
 * value, trimmed, into out (NUL-terminated) and 1; -1 when it is one but the value is empty, does
 * not fit in `size`, or holds a byte that no URI holds (space, control, non-ASCII); 0 when the
 * line is another header. Pure (http_location.c): out is written only on 1. */
int http_location_value(const char *line, size_t len, char *out, size_t size);
/* Perform the request. Any answer with a status, 4xx and 5xx included, is 0: the caller reads its
 * body. A failure to get one is OUTBOX_ETEMPFAIL (network, timeout), OUTBOX_EUNAVAILABLE (the
 * certificate), OUTBOX_ECONFIG (libcurl missing, a CA file), OUTBOX_EPROTOCOL (a body too large).
 * `resp` is always initialised; free it with http_response_free. */
int http_perform(outbox *h, const struct http_request *req, struct http_response *resp);
/* For http.c: the form `form` (as in struct http_request) percent-encoded into `body`, and into
 * `shown` with the values of secret fields (http_field_is_secret) replaced by "(hidden)". */
int http_form_build(outbox *h, const char *const *form, struct buf *body, struct buf *shown);
/* For http.c: the request's pins checked (OUTBOX_EINVALID naming "resolve" for a bad host or
 * address) and given to `add` as CURLOPT_RESOLVE entries, one per host, "HOST:PORT:ADDR[,ADDR...]"
 * with IPv6 addresses in brackets, on `port`. OUTBOX_ENOMEM when `add` fails. */
int http_pin_entries(outbox *h, const struct http_request *req, long port,
		     int (*add)(void *ctx, const char *entry), void *ctx);
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
