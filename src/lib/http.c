/* http.c: the HTTPS of OAuth endpoints and autoconfig lookups through libcurl, loaded with dlopen the
 * first time one is made, so a plain send never pays for loading libcurl and its dependencies. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>

#include "handle_internal.h"
#include "http.h"
#include "validate.h"

/* Only the symbols used here, resolved once for the whole process. */
static struct {
	void *handle;
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	void (*easy_cleanup)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	char *(*easy_escape)(CURL *, const char *, int);
	char *(*easy_unescape)(CURL *, const char *, int, int *);
	void (*free)(void *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLU *(*url)(void);
	CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
	CURLUcode (*url_get)(const CURLU *, CURLUPart, char **, unsigned int);
	void (*url_cleanup)(CURLU *);
} lib;
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

#define HTTP_SYM(field, name) (*(void **)&lib.field = dlsym(handle, name)) != NULL

static void http_load(void)
{
	void *handle = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);

	if (handle == NULL)
		return;
	if (HTTP_SYM(global_init, "curl_global_init") && HTTP_SYM(easy_init, "curl_easy_init") &&
	    HTTP_SYM(easy_setopt, "curl_easy_setopt") && HTTP_SYM(easy_perform, "curl_easy_perform") &&
	    HTTP_SYM(easy_getinfo, "curl_easy_getinfo") && HTTP_SYM(easy_cleanup, "curl_easy_cleanup") &&
	    HTTP_SYM(easy_strerror, "curl_easy_strerror") && HTTP_SYM(easy_escape, "curl_easy_escape") &&
	    HTTP_SYM(easy_unescape, "curl_easy_unescape") && HTTP_SYM(free, "curl_free") &&
	    HTTP_SYM(slist_append, "curl_slist_append") &&
	    HTTP_SYM(slist_free_all, "curl_slist_free_all") && HTTP_SYM(url, "curl_url") &&
	    HTTP_SYM(url_set, "curl_url_set") && HTTP_SYM(url_get, "curl_url_get") &&
	    HTTP_SYM(url_cleanup, "curl_url_cleanup") &&
	    /* Once, here, before any thread can make a request. */
	    lib.global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK)
		lib.handle = handle;
}

int http_ready(outbox *h)
{
	pthread_once(&lib_once, http_load);
	if (lib.handle == NULL)
		return outbox_fail(h, OUTBOX_ECONFIG, NULL,
				   "OAuth and setup need libcurl: install libcurl4 (Debian); libcurl.so.4 "
				   "could not be loaded");
	return 0;
}

/* What the URL rule found: whether the request is plain HTTP, to "localhost", on which port and
 * host (as libcurl parsed it: IPv6 literals keep their brackets). */
struct http_target {
	int plain;
	int localhost;
	long port;
	char host[256];
};

/* Which hosts may be reached over plain http is validate_loopback_host's to say, for the
 * settings and the requests alike. */
static int host_is_loopback(const char *host, int *localhost)
{
	*localhost = strcasecmp(host, "localhost") == 0;
	return validate_loopback_host(host);
}

static int url_judge(outbox *h, const char *field, const char *url, struct http_target *t)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL;
	char shown[256];
	int rc = 0, localhost = 0;

	if ((rc = http_ready(h)) < 0)
		return rc;
	memset(t, 0, sizeof *t);
	validate_display(shown, sizeof shown, url, strlen(url));
	if ((u = lib.url()) == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	if (lib.url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    lib.url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    lib.url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    lib.url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		rc = outbox_fail(h, OUTBOX_EINVALID, field, "%s is not a URL outbox can use", shown);
	} else if (lib.url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		rc = outbox_fail(h, OUTBOX_EINVALID, field,
				 "%s carries a user name: give credentials by their own options", shown);
	} else if (strlen(host) >= sizeof t->host) {
		rc = outbox_fail(h, OUTBOX_EINVALID, field, "%s names a host too long to be one", shown);
	} else if (strcmp(scheme, "https") == 0) {
		t->plain = 0;
		t->port = strtol(port, NULL, 10);
	} else if (strcmp(scheme, "http") == 0 && host_is_loopback(host, &localhost)) {
		t->plain = 1;
		t->localhost = localhost;
		t->port = strtol(port, NULL, 10);
	} else {
		rc = outbox_fail(h, OUTBOX_EINVALID, field,
				 "%s is refused: endpoints must be https://, or http:// on a loopback "
				 "address (127.0.0.1, [::1], localhost) for testing", shown);
	}
	if (rc == 0)
		snprintf(t->host, sizeof t->host, "%s", host);
	lib.free(scheme);
	lib.free(host);
	lib.free(port);
	lib.free(user);
	lib.url_cleanup(u);
	return rc;
}

int http_url_check(outbox *h, const char *field, const char *url)
{
	struct http_target t;

	return url_judge(h, field, url, &t);
}

int http_url_host(outbox *h, const char *url, char *host, size_t size)
{
	struct http_target t;
	size_t len;
	int rc;

	if ((rc = url_judge(h, "url", url, &t)) < 0)
		return rc;
	len = strlen(t.host);
	if (len >= 2 && t.host[0] == '[' && t.host[len - 1] == ']')
		snprintf(host, size, "%.*s", (int)(len - 2), t.host + 1);
	else
		snprintf(host, size, "%s", t.host);
	return 0;
}

int http_url_resolve(outbox *h, const char *base, const char *reference, struct buf *out)
{
	CURLU *u;
	char *joined = NULL, shown[256];
	int rc;

	if ((rc = http_ready(h)) < 0)
		return rc;
	if ((u = lib.url()) == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	/* Setting a URL on a handle that holds one resolves it against that one, RFC 3986 5.2. */
	if (lib.url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK ||
	    lib.url_set(u, CURLUPART_URL, reference, 0) != CURLUE_OK ||
	    lib.url_get(u, CURLUPART_URL, &joined, 0) != CURLUE_OK) {
		validate_display(shown, sizeof shown, reference, strlen(reference));
		rc = outbox_fail(h, OUTBOX_EINVALID, "location", "%s is not a URL outbox can use", shown);
	} else if (buf_puts(out, joined) < 0) {
		rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	lib.free(joined);
	lib.url_cleanup(u);
	return rc;
}

int http_escape(outbox *h, struct buf *out, const char *s)
{
	char *e;
	int rc = 0;

	if ((rc = http_ready(h)) < 0)
		return rc;
	/* A NULL handle is allowed since libcurl 7.82; the escaping needs no state. */
	e = lib.easy_escape(NULL, s, (int)strlen(s));
	if (e == NULL || buf_puts(out, e) < 0)
		rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	if (e != NULL) {
		explicit_bzero(e, strlen(e));
		lib.free(e);
	}
	return rc;
}

int http_unescape_value(const char *s, size_t len, char **out)
{
	char *plus, *raw;
	int n = 0, i, rc = 0;

	*out = NULL;
	if (http_ready(NULL) < 0 || len > 16384 || (plus = strndup(s, len)) == NULL)
		return -1;
	for (i = 0; plus[i]; i++)
		if (plus[i] == '+')
			plus[i] = ' ';
	/* strndup stopped at a NUL in `s`, if there was one: decode only what was copied. */
	raw = lib.easy_unescape(NULL, plus, i, &n);
	explicit_bzero(plus, (size_t)i);
	free(plus);
	if (raw == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if ((unsigned char)raw[i] < 0x20 || raw[i] == 0x7f)
			rc = -1;
	if (rc == 0 && (*out = strndup(raw, (size_t)n)) == NULL)
		rc = -1;
	explicit_bzero(raw, (size_t)n);
	lib.free(raw);
	return rc;
}

struct http_call {
	struct http_response *resp;
	const struct http_request *req;
	const struct buf *form_shown;
	int too_big;
	int form_done;
};

static size_t http_write(char *data, size_t size, size_t n, void *ctx)
{
	struct http_call *c = ctx;

	if (buf_append(&c->resp->body, data, size * n) < 0) {
		c->too_big = 1;
		return 0;
	}
	return size * n;
}

/* Each header line of the answer: only Location is kept. A new status line (after a 100 Continue)
 * starts the headers over. */
static size_t http_header(char *data, size_t size, size_t n, void *ctx)
{
	struct http_call *c = ctx;
	size_t len = size * n;

	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		c->resp->location[0] = '\0';
		c->resp->location_bad = 0;
	} else if (http_location_value(data, len, c->resp->location, sizeof c->resp->location) < 0) {
		c->resp->location[0] = '\0';
		c->resp->location_bad = 1;
	}
	return len;
}

/* Headers line by line, an Authorization header's value hidden; the form as http_form_build showed it;
 * bodies coming in never (they carry tokens): http_perform names their size instead. */
static int http_debug(CURL *curl, curl_infotype type, char *data, size_t size, void *ctx)
{
	struct http_call *c = ctx;
	const struct transcript *t = &c->req->verbose;
	char direction = type == CURLINFO_HEADER_OUT || type == CURLINFO_DATA_OUT ? '>' : '<';

	if (type == CURLINFO_DATA_OUT && !c->form_done && c->form_shown->data) {
		c->form_done = 1;
		transcript_show(t->fn, t->ctx, '>', c->form_shown->data, c->form_shown->len);
		return 0;
	}
	if (type != CURLINFO_HEADER_OUT && type != CURLINFO_HEADER_IN)
		return 0;
	while (size > 0) {
		const char *nl = memchr(data, '\n', size);
		size_t line = nl ? (size_t)(nl - data) + 1 : size;

		if (line >= 14 && strncasecmp(data, "authorization:", 14) == 0)
			transcript_show(t->fn, t->ctx, direction, "Authorization: (hidden)", 23);
		else if (line > 2 || (line > 0 && data[0] != '\r' && data[0] != '\n'))
			transcript_show(t->fn, t->ctx, direction, data, line);
		data += line;
		size -= line;
	}
	return 0;
}

/* `reached`: a server was connected to, so what went wrong may be its answer's fault. */
static int http_failed(outbox *h, const struct http_call *c, CURLcode code, const char *detail, int reached)
{
	char url[256], why[CURL_ERROR_SIZE + 64];
	const char *words = *detail ? detail : lib.easy_strerror(code);
	const char *ca_option = c->req->ca_option ? c->req->ca_option : "tls-ca";

	validate_display(url, sizeof url, c->req->url, strlen(c->req->url));
	validate_display(why, sizeof why, words, strlen(words));
	switch (code) {
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		if (c->too_big || code == CURLE_FILESIZE_EXCEEDED)
			return outbox_fail(h, OUTBOX_EPROTOCOL, NULL,
					   "the answer from %s is larger than %d KiB: refused", url,
					   HTTP_MAX_BODY / 1024);
		break;
	case CURLE_OUT_OF_MEMORY:
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	case CURLE_PEER_FAILED_VERIFICATION:
		return outbox_fail(h, OUTBOX_EUNAVAILABLE, NULL,
				   "the certificate of %s could not be verified: %s (if it is signed by a "
				   "private CA, trust that CA with --%s FILE)", url, why, ca_option);
	case CURLE_SSL_CACERT_BADFILE:
		return outbox_fail(h, OUTBOX_ECONFIG, ca_option, "cannot load the CA file for %s: %s", url,
				   why);
	case CURLE_UNSUPPORTED_PROTOCOL:
		/* After connecting, it is the answer ("Received HTTP/0.9": the host speaks no HTTP). */
		if (reached)
			return outbox_fail(h, OUTBOX_EPROTOCOL, NULL, "the answer from %s is not HTTP: %s", url,
					   why);
		/* libcurl itself cannot ask that URL */
		__attribute__((fallthrough));
	case CURLE_URL_MALFORMAT:
	case CURLE_UNKNOWN_OPTION:
	case CURLE_NOT_BUILT_IN:
		return outbox_fail(h, OUTBOX_ECONFIG, NULL, "cannot request %s: %s", url, why);
	case CURLE_OPERATION_TIMEDOUT:
		return outbox_fail(h, OUTBOX_ETEMPFAIL, NULL, "no answer from %s in %ld ms: %s", url,
				   c->req->timeout_ms, why);
	default:
		break;
	}
	/* Resolving, connecting, a handshake or a connection lost: may pass. */
	return outbox_fail(h, OUTBOX_ETEMPFAIL, NULL, "cannot reach %s: %s", url, why);
}

/* One more CURLOPT_RESOLVE entry; -1 when out of memory. */
static int resolve_add(void *ctx, const char *entry)
{
	struct curl_slist **resolve = ctx, *more = lib.slist_append(*resolve, entry);

	if (more == NULL)
		return -1;
	*resolve = more;
	return 0;
}

static int http_configure(outbox *h, CURL *curl, const struct http_request *req,
			  const struct http_target *t, struct http_call *c, const struct buf *form,
			  struct curl_slist **headers, struct curl_slist **resolve, char *errbuf)
{
	char pin[64], accept[128];
	int bad = 0, rc;

	snprintf(accept, sizeof accept, "Accept: %s", req->accept ? req->accept : "application/json");
	*headers = lib.slist_append(NULL, accept);
	if (*headers == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	bad |= lib.easy_setopt(curl, CURLOPT_URL, req->url) != CURLE_OK;
	bad |= lib.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
	bad |= lib.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	bad |= lib.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= lib.easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
	bad |= lib.easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
	bad |= lib.easy_setopt(curl, CURLOPT_USERAGENT, "outbox") != CURLE_OK;
	bad |= lib.easy_setopt(curl, CURLOPT_HTTPHEADER, *headers) != CURLE_OK;
	bad |= lib.easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK;
	bad |= lib.easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_MAX_BODY) != CURLE_OK;
	bad |= lib.easy_setopt(curl, CURLOPT_WRITEFUNCTION, http_write) != CURLE_OK;
	bad |= lib.easy_setopt(curl, CURLOPT_WRITEDATA, c) != CURLE_OK;
	bad |= lib.easy_setopt(curl, CURLOPT_HEADERFUNCTION, http_header) != CURLE_OK;
	bad |= lib.easy_setopt(curl, CURLOPT_HEADERDATA, c) != CURLE_OK;
	if (req->timeout_ms > 0) {
		bad |= lib.easy_setopt(curl, CURLOPT_TIMEOUT_MS, req->timeout_ms) != CURLE_OK;
		bad |= lib.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, req->timeout_ms) != CURLE_OK;
	}
	if (req->ca_file != NULL)
		bad |= lib.easy_setopt(curl, CURLOPT_CAINFO, req->ca_file) != CURLE_OK;
	if (req->form != NULL) {
		bad |= lib.easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)form->len) != CURLE_OK;
		bad |= lib.easy_setopt(curl, CURLOPT_POSTFIELDS, form->data ? form->data : "") != CURLE_OK;
	}
	if (t->plain) {
		/* Plain HTTP stays on this machine: no proxy, and "localhost" is 127.0.0.1 whatever a
		 * resolver or /etc/hosts says, so a code or a token never leaves it unencrypted. */
		bad |= lib.easy_setopt(curl, CURLOPT_NOPROXY, "*") != CURLE_OK;
		if (t->localhost) {
			snprintf(pin, sizeof pin, "localhost:%ld:127.0.0.1", t->port);
			if ((*resolve = lib.slist_append(NULL, pin)) == NULL)
				return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
			bad |= lib.easy_setopt(curl, CURLOPT_RESOLVE, *resolve) != CURLE_OK;
		}
	}
	if (!t->localhost && req->pin_count > 0) {
		if ((rc = http_pin_entries(h, req, t->port, resolve_add, resolve)) < 0)
			return rc;
		bad |= lib.easy_setopt(curl, CURLOPT_RESOLVE, *resolve) != CURLE_OK;
	}
	if (req->verbose.fn != NULL) {
		bad |= lib.easy_setopt(curl, CURLOPT_DEBUGFUNCTION, http_debug) != CURLE_OK;
		bad |= lib.easy_setopt(curl, CURLOPT_DEBUGDATA, c) != CURLE_OK;
		bad |= lib.easy_setopt(curl, CURLOPT_VERBOSE, 1L) != CURLE_OK;
	}
	if (bad)
		return outbox_fail(h, OUTBOX_ECONFIG, NULL,
				   "this libcurl lacks an option outbox needs: install libcurl 7.85 or later");
	return 0;
}

static void copy_content_type(struct http_response *resp, const char *ct)
{
	size_t i, n = 0;

	for (i = 0; ct != NULL && ct[i] && n + 1 < sizeof resp->content_type; i++)
		if (ct[i] >= 0x20 && ct[i] < 0x7f)
			resp->content_type[n++] = ct[i];
	resp->content_type[n] = '\0';
}

int http_perform(outbox *h, const struct http_request *req, struct http_response *resp)
{
	struct http_target t;
	struct buf form = BUF_INIT, shown = BUF_INIT;
	struct http_call c = {resp, req, &shown, 0, 0};
	struct curl_slist *headers = NULL, *resolve = NULL;
	char errbuf[CURL_ERROR_SIZE] = "", note[96];
	const char *ct = NULL;
	CURL *curl = NULL;
	CURLcode code;
	int rc;

	memset(resp, 0, sizeof *resp);
	buf_init(&resp->body, HTTP_MAX_BODY);
	if ((rc = url_judge(h, "url", req->url, &t)) < 0)
		return rc;
	if (req->form != NULL && (rc = http_form_build(h, req->form, &form, &shown)) < 0)
		goto out;
	if ((curl = lib.easy_init()) == NULL) {
		rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "cannot start libcurl: out of memory");
		goto out;
	}
	if ((rc = http_configure(h, curl, req, &t, &c, &form, &headers, &resolve, errbuf)) < 0)
		goto out;
	code = lib.easy_perform(curl);
	if (code != CURLE_OK) {
		char *ip = NULL;

		lib.easy_getinfo(curl, CURLINFO_PRIMARY_IP, &ip);
		rc = http_failed(h, &c, code, errbuf, ip != NULL && *ip != '\0');
		resp->timed_out = code == CURLE_OPERATION_TIMEDOUT;
		goto out;
	}
	lib.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
	lib.easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ct);
	copy_content_type(resp, ct);
	if (resp->body.data == NULL && buf_puts(&resp->body, "") < 0) {
		rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
		goto out;
	}
	if (req->verbose.fn != NULL) {
		int n = snprintf(note, sizeof note, "(a body of %zu bytes, not shown: it may hold tokens)",
				 resp->body.len);
		transcript_show(req->verbose.fn, req->verbose.ctx, '<', note, (size_t)n);
	}
out:
	if (curl != NULL)
		lib.easy_cleanup(curl);
	if (headers != NULL)
		lib.slist_free_all(headers);
	if (resolve != NULL)
		lib.slist_free_all(resolve);
	buf_free(&form);
	buf_free(&shown);
	if (rc < 0)
		http_response_free(resp);
	return rc;
}

void http_response_free(struct http_response *resp)
{
	buf_free(&resp->body);
	buf_init(&resp->body, HTTP_MAX_BODY);
}
