/* autoconfig_redirect.h: the one rule for the redirects setup's HTTPS lookups follow: which answers
 * are redirects, where they may lead (https:// only), and how many hops a lookup may take. */
#ifndef OUTBOX_AUTOCONFIG_REDIRECT_H
#define OUTBOX_AUTOCONFIG_REDIRECT_H

#include <stddef.h>

#include "http.h"
#include "outbox/error.h"

/* Redirects one lookup follows at most; the next one is refused as too many. */
#define AUTOCONFIG_MAX_REDIRECTS 5
/* The longest URL a lookup asks for, the first or one it was sent to. */
#define AUTOCONFIG_MAX_URL 2048

/* The URLs one lookup asked, in order: url[0] the first, url[n - 1] the one asked last. */
struct autoconfig_hops {
	size_t n;
	char url[AUTOCONFIG_MAX_REDIRECTS + 1][AUTOCONFIG_MAX_URL];
};

/* Start `hops` at `url`; OUTBOX_EINVALID when it is too long to be followed. */
int autoconfig_redirect_start(outbox *h, struct autoconfig_hops *hops, const char *url);

/* Whether an answer with this status sends the client elsewhere for the same document: 301, 302,
 * 303, 307 and 308 (300, 304 and 305 do not name one document to ask for). */
int autoconfig_redirect_status(long status);

/* Follow the redirect `resp` (the answer to the last URL of `hops`, a status
 * autoconfig_redirect_status accepts): its Location resolved against that URL and appended to
 * `hops`. Refused, OUTBOX_EPROTOCOL with one line saying why: no Location or an unusable one,
 * more than AUTOCONFIG_MAX_REDIRECTS hops, a URL asked before (a loop), plain http:// after
 * https:// (http:// is followed only from a plain loopback URL, and only to loopback, by
 * http_url_check's rule), anything http_url_check refuses. OUTBOX_ENOMEM, OUTBOX_ECONFIG as
 * http.c gives them. */
int autoconfig_redirect_next(outbox *h, struct autoconfig_hops *hops, const struct http_response *resp);

#endif
