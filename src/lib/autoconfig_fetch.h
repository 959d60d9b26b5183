/* autoconfig_fetch.h: the HTTPS sources of `outbox setup`: the provider's autoconfig host, its
 * .well-known file and the ISPDB, each asked once and turned into candidates and a report. */
#ifndef OUTBOX_AUTOCONFIG_FETCH_H
#define OUTBOX_AUTOCONFIG_FETCH_H

#include <stddef.h>

#include "buf.h"
#include "http.h"
#include "outbox/error.h"
#include "setup_candidate.h"
#include "transcript.h"

/* Thunderbird's public database of providers, by domain: BASE/DOMAIN. */
#define AUTOCONFIG_ISPDB_DEFAULT "https://autoconfig.thunderbird.net/v1.1/"

/* What every lookup of one `outbox setup` run shares. */
struct autoconfig_fetch {
	const char *address; /* the user's address */
	const char *ispdb;   /* the ISPDB's base URL (--ispdb); NULL: AUTOCONFIG_ISPDB_DEFAULT */
	const char *ca_file; /* trusted for every request (--tls-ca); NULL: the system's CAs */
	/* When each request must have ended, connecting included, on net_now_ms's clock: setup's
	 * one deadline for every source. 0: none (libcurl's own, minutes). */
	long long deadline_ms;
	/* Host names the caller's resolver answered (--resolver): autoconfig.DOMAIN, DOMAIN, the
	 * ISPDB's host. A host not pinned is resolved by the system. Used for every request when
	 * `pin` is NULL. */
	const struct http_pin *pins;
	size_t pin_count;
	/* Called before each request, the first and each redirect's, with its URL: the pins for its
	 * host (setup_discover.c looks it up through --resolver), valid until the next call. 0, or a
	 * negative code with the message on `h` (the lookup's own handle): the lookup then says why
	 * it could not ask. */
	int (*pin)(void *ctx, outbox *h, const char *url, const struct http_pin **pins, size_t *pin_count);
	void *pin_ctx;
	int oauth_usable;          /* as in struct autoconfig_query */
	struct transcript verbose; /* fn NULL: none; else the requests' headers */
};

/* The URL `source` asks for the address: SETUP_SOURCE_AUTOCONFIG
 * https://autoconfig.DOMAIN/mail/config-v1.1.xml?emailaddress=ADDRESS, SETUP_SOURCE_WELL_KNOWN
 * https://DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml, SETUP_SOURCE_ISPDB and
 * SETUP_SOURCE_MX BASE/DOMAIN. DOMAIN is `domain` (for SETUP_SOURCE_MX: the registered domain of
 * the MX host, required), else the address's, in lower case. Appended to `out`. OUTBOX_EINVALID
 * naming the field for an unusable address, domain or ISPDB URL (plain http:// only to loopback). */
int autoconfig_fetch_url(outbox *h, const struct autoconfig_fetch *f, enum setup_source source,
			 const char *domain, struct buf *out);

/* Ask `source` (as autoconfig_fetch_url builds its URL), following redirects by
 * autoconfig_redirect.c's rule within the same deadline and CA, and append what it offers to `out`
 * (nothing, unless the report says SETUP_FOUND). The report is always filled: found; not
 * offered (404 or 410, or a document without an SMTP server for the domain, or the name
 * --resolver does not know); no answer (with the seconds waited, why nothing could be reached, or
 * that the deadline had passed before); failed (a certificate, a redirect refused, an error status,
 * a document refused, with why). After a redirect, the report's redirected_to is the URL asked
 * last, and the candidates' origin is that URL. Returns 0 with the report filled for whatever
 * this source met (a domain or URL it cannot ask is "failed" too); a negative code, with the
 * message on `h`, only when autoconfig_fetch_stops_run says the run stops. Lookups may run in
 * threads of their own, each with its own `out` and `report`: nothing else is written, and `h`
 * only on that negative return. */
/* The one answer to "does this fetch error (its code and field) stop the whole run, or only fail
 * its source": the run stops only for what no other source would do better with (libcurl or expat
 * that cannot load, a CA file that cannot be read, no memory, a bad address or ISPDB URL). A
 * server's answer or a domain DNS gave (an MX host's) fails that source only. */
int autoconfig_fetch_stops_run(int rc, const char *field);
int autoconfig_fetch(outbox *h, const struct autoconfig_fetch *f, enum setup_source source,
		     const char *domain, struct setup_candidates *out, struct setup_report *report);

#endif
