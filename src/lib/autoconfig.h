/* autoconfig.h: what a Thunderbird autoconfig document (clientConfig 1.1, from autoconfig.DOMAIN,
 * .well-known or the ISPDB) says about sending mail for an address, as setup candidates. */
#ifndef OUTBOX_AUTOCONFIG_H
#define OUTBOX_AUTOCONFIG_H

#include <stddef.h>

#include "outbox/error.h"
#include "setup_candidate.h"

/* A document larger than this is refused: the largest ISPDB entries are a few KiB. */
#define AUTOCONFIG_MAX_BYTES (64 * 1024)
/* clientConfig > emailProvider > outgoingServer > hostname is 4 deep; nothing useful is deeper. */
#define AUTOCONFIG_MAX_DEPTH 8
/* Elements in the whole document (an ISPDB entry may list a few hundred domains). */
#define AUTOCONFIG_MAX_ELEMENTS 4096
/* The text of one element that is read (a host name, a port, a user name, a display name). */
#define AUTOCONFIG_MAX_TEXT 1024
/* Submission servers taken from one document; more are refused as implausible. */
#define AUTOCONFIG_MAX_SERVERS 16

/* What the document is read for. */
struct autoconfig_query {
	/* The user's address, for %EMAILADDRESS%, %EMAILLOCALPART% and %EMAILDOMAIN%. */
	const char *address;
	/* The domain an emailProvider must list to be used: the address's domain, or the
	 * registered domain of its MX host for an ISPDB lookup by MX. NULL: the address's. */
	const char *domain;
	enum setup_source source; /* copied into each candidate */
	const char *origin;       /* the URL the document came from, copied into each candidate */
	/* Whether the caller can sign in with OAuth (it has a client ID): then a server's OAuth2,
	 * when it maps to a preset, ranks above a password; otherwise a password ranks first. */
	int oauth_usable;
};

/* Parse `doc` (len bytes) and append to `out` one candidate per outgoingServer type="smtp" of
 * each emailProvider listing the query's domain, in document order (rank 0, 1, ...). A document
 * naming no such server is 0 with nothing appended: the caller tells "not offered" by out->n.
 * Anything refused is OUTBOX_EPROTOCOL with one line naming the element and the problem (not
 * XML, a DOCTYPE, too large, too deep, a bad host name or port), OUTBOX_EINVALID for a query
 * without a usable address, OUTBOX_ECONFIG when libexpat cannot be loaded; then `out` is as it
 * was. expat is loaded with dlopen on the first call, so a plain send never loads it. */
int autoconfig_parse(outbox *h, const struct autoconfig_query *q, const char *doc, size_t len,
		     struct setup_candidates *out);

/* 0 when libexpat could be loaded; else OUTBOX_ECONFIG with the words that say what to install. */
int autoconfig_ready(outbox *h);

#endif
