/* setup_discover.h: one `outbox setup` run from an address to a chosen (and, with a password,
 * logged-in) server: every source at once under one deadline, each one's servers probed as soon
 * as it answers (the guesses at once), then choose and verify. */
#ifndef OUTBOX_SETUP_DISCOVER_H
#define OUTBOX_SETUP_DISCOVER_H

#include <stddef.h>

#include "dns_query.h"
#include "setup_candidate.h"
#include "setup_choose.h"
#include "setup_probe.h"
#include "setup_verify.h"

/* How long each stage (the lookups, the probes, the login check) may take when the caller does
 * not say: a few seconds, so a domain where nothing answers fails soon. */
#define SETUP_DISCOVER_TIMEOUT_MS 5000
/* How often a run with nothing to report still asks its caller's progress whether to stop. */
#define SETUP_DISCOVER_TICK_MS 100
/* Registered domains of the MX hosts asked of the ISPDB: the most preferred ones. */
#define SETUP_DISCOVER_MX_DOMAINS 2
/* autoconfig, well-known, ISPDB, two SRV, MX, an ISPDB lookup per MX domain, guesses. */
#define SETUP_DISCOVER_MAX_REPORTS (7 + SETUP_DISCOVER_MX_DOMAINS)

struct setup_discover_options {
	const char *address;                 /* the user's address: local@domain */
	const char *ispdb;                   /* --ispdb base URL; NULL: AUTOCONFIG_ISPDB_DEFAULT */
	const char *tls_ca;                  /* --tls-ca, for HTTPS and the probes; or NULL */
	const struct dns_resolver *resolver; /* --resolver; NULL or zeroed: the system's */
	long long timeout_ms;                /* per stage; 0: SETUP_DISCOVER_TIMEOUT_MS */
	enum setup_login login;
	const char *password;                /* SETUP_LOGIN_PASSWORD: checked on the winner */
	const char *username;                /* tried first in that check; NULL: none */
	/* Called on the caller's thread with a line of words as each stage begins ("looking up the
	 * settings of example.com...", "checking the login on smtp.example.com..."), as each lookup
	 * ends ("autoconfig URL: found: ... (12 ms)") and as each probe has its verdict ("probed
	 * smtp.example.com port 465 tls: ok, ..."), and with NULL at least every
	 * SETUP_DISCOVER_TICK_MS while nothing happens; may be NULL. Nonzero cancels the run. */
	int (*progress)(void *ctx, const char *what);
	void *ctx;
};

struct setup_discovery {
	char domain[256];                 /* the address's domain, lowercased */
	size_t nreports;
	struct setup_report reports[SETUP_DISCOVER_MAX_REPORTS]; /* in the sources' order */
	struct setup_candidates candidates; /* in the sources' order, each source's own order kept */
	struct setup_probes probes;
	struct setup_choice choice;
	int login_checked;                /* a login was tried: `login` says how it went */
	struct setup_login_check login;
	/* How long each stage took: lookups until the last one ended and probes until the last
	 * verdict, both counted from started_at (they overlap); the login check on its own. */
	long long lookups_ms, probes_ms, login_ms;
	long long started_at;             /* net_now_ms when the lookups and the guesses' probes began */
};

/* Run every source for o->address at once, each in a thread writing only its own report and
 * candidates, until one deadline (o->timeout_ms from now): the provider's autoconfig host, its
 * .well-known file, the ISPDB, the SRV records, the MX hosts' registered domains in the ISPDB,
 * and the guesses (smtp.DOMAIN, mail.DOMAIN, DOMAIN on 465 tls and 587 starttls). With a
 * resolver, each HTTPS host is first looked up there and pinned, so no lookup leaves it. The
 * guesses are probed at once and each source's candidates as soon as it answers, each distinct
 * server once, each probe with o->timeout_ms of its own. Then choose (over the candidates in the
 * sources' order, as if nothing had overlapped), and with a password check the login on the winner.
 * Returns 0 when a server was chosen (and logged in to); OUTBOX_EUNAVAILABLE when none is
 * usable; the login check's code (OUTBOX_EAUTH for a refused password) when it failed; in all
 * three *out holds what was tried. OUTBOX_EINVALID naming the field for an unusable address,
 * --ispdb URL or --tls-ca, OUTBOX_ECONFIG without libcurl, OUTBOX_ENOMEM: then *out is empty.
 * OUTBOX_ECANCELLED, *out empty too, as soon as o->progress returned nonzero: nothing more is
 * begun (no probe, no login), and lookups and probes under way are left to end by their deadlines
 * on their own threads, which hold copies of everything they use.
 * Free *out with setup_discovery_free either way. */
int setup_discover_run(outbox *h, const struct setup_discover_options *o, struct setup_discovery *out);
void setup_discovery_free(struct setup_discovery *d);

/* "found", "not offered", "no answer" or "failed". */
const char *setup_discover_outcome_word(enum setup_outcome o);

#endif
