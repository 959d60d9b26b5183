/* setup_candidate.h: what `outbox setup` finds before it probes: a way to reach a submission server
 * with where the idea came from, and what each source of settings answered, for the explanation. */
#ifndef OUTBOX_SETUP_CANDIDATE_H
#define OUTBOX_SETUP_CANDIDATE_H

#include <stddef.h>

#include "outbox/error.h"

/* Where settings come from, in the order of preference the issue gives them. */
enum setup_source {
	SETUP_SOURCE_AUTOCONFIG, /* https://autoconfig.DOMAIN/mail/config-v1.1.xml?emailaddress=... */
	SETUP_SOURCE_WELL_KNOWN, /* https://DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml */
	SETUP_SOURCE_ISPDB,      /* the ISPDB's entry for the domain: BASE/DOMAIN */
	SETUP_SOURCE_SRV,        /* RFC 6186: _submissions._tcp.DOMAIN, then _submission._tcp.DOMAIN */
	SETUP_SOURCE_MX,         /* the ISPDB's entry for the registered domain of the domain's MX host */
	SETUP_SOURCE_GUESS       /* smtp.DOMAIN, mail.DOMAIN, DOMAIN on 465 and 587 */
};

enum setup_security {
	SETUP_SECURITY_TLS,      /* implicit TLS from the first byte */
	SETUP_SECURITY_STARTTLS,
	SETUP_SECURITY_NONE      /* listed by a source, never chosen */
};

/* One way to reach a submission server. Strings are NUL-terminated; "" is "not said". */
struct setup_candidate {
	char host[256];
	int port;
	enum setup_security security;
	/* The login the source asks for, as a server's --auth value: "auto" when it names a password
	 * (cleartext or encrypted: the probe picks the strongest the server offers), "xoauth2" for
	 * OAuth2, "none" when it says no login, "" when it does not say. */
	char auth[16];
	/* The user name the source gives, placeholders already substituted; "" when it does not say
	 * (the probe then tries the full address, then the local part). */
	char username[320];
	/* The OAuth preset the source's OAuth2 entry maps to ("microsoft", "google"), else "". */
	char oauth[16];
	enum setup_source source;
	char origin[300];       /* the URL or DNS name it came from, as shown to the user */
	char display_name[128]; /* the provider's name, for the server's description; "" if none */
	/* Order within its source: SRV priority then weight, or the position in the file. */
	int rank;
};

struct setup_candidates {
	struct setup_candidate *v;
	size_t n, cap;
};

/* Append a copy of *c; OUTBOX_ENOMEM on failure (the list is as it was). */
int setup_candidates_add(outbox *h, struct setup_candidates *list, const struct setup_candidate *c);
void setup_candidates_free(struct setup_candidates *list);

/* What one lookup of one source did, for `outbox setup`'s explanation and --json. */
enum setup_outcome {
	SETUP_FOUND,       /* it answered with at least one submission server */
	SETUP_NOT_OFFERED, /* it answered: nothing here (404, NXDOMAIN, no record, a "." SRV target) */
	SETUP_NO_ANSWER,   /* nothing answered before the deadline */
	SETUP_FAILED       /* it answered with something broken or refused (bad XML, a bad certificate) */
};

struct setup_report {
	enum setup_source source;
	char what[300];   /* the URL or the DNS query */
	enum setup_outcome outcome;
	long long ms;     /* how long it took */
	char detail[300]; /* the error, or what was found, in words */
	/* The URL last asked when a redirect was followed (the document's, when found); "" when the
	 * first URL answered. */
	char redirected_to[300];
	long long done_at; /* when it ended, on net_now_ms's clock */
};

#endif
