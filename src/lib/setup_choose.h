/* setup_choose.h: which of the probed candidates `outbox setup` takes, and why each other one
 * lost, in words; a pure function of the candidates, the probes and the kind of login. */
#ifndef OUTBOX_SETUP_CHOOSE_H
#define OUTBOX_SETUP_CHOOSE_H

#include <stddef.h>

#include "setup_candidate.h"
#include "setup_probe.h"

/* What the user brings to log in with. */
enum setup_login {
	SETUP_LOGIN_NONE,     /* nothing yet: the method is still picked from the offer */
	SETUP_LOGIN_PASSWORD, /* a password: it goes only where setup_verify allows */
	SETUP_LOGIN_OAUTH     /* an OAuth sign-in: XOAUTH2 (or OAUTHBEARER), no login now */
};

struct setup_verdict {
	int usable;    /* probed fine and can be used with this login */
	char auth[16]; /* the --auth value it gets: "scram-sha-256", "plain", "xoauth2", "none", ... */
	char mech[24]; /* what the server would be logged in with now ("SCRAM-SHA-256-PLUS"), or "" */
	char why[1024]; /* why it won, or why it lost, in words */
};

struct setup_choice {
	long winner;               /* the index of the chosen candidate, or -1 */
	size_t n;
	struct setup_verdict *v;   /* one per candidate */
	size_t *order;             /* candidate indices: the usable ones by preference, then the rest */
	size_t nusable;
};

/* Choose among `list` (probes from setup_probe_run over the same list) for `address`:
 * - only candidates whose probe is OK; plain text never (it is not even probed);
 * - the method from the server's AUTH offer: the strongest sasl.c does, as --auth auto picks it
 *   on a TLS connection; xoauth2 (else oauthbearer) for an OAuth login or a source that says
 *   OAuth2 without one; "none" when there is no login and the server offers none;
 * - for an OAuth login, only a candidate whose source names an OAuth preset
 *   (setup_choose_oauth_preset), which the save stores;
 * - when that method sends a password (anything but none and the OAuth ones), with a password
 *   given now or not, only hosts that may receive it (setup_verify_may_receive_password): a
 *   server saved with a password login sends the first password given later;
 * - then hosts in the order of their best candidate's source (autoconfig, well-known, ISPDB,
 *   SRV, MX, guess) and rank; on one host, TLS from the first byte before STARTTLS; then the
 *   source and rank of the candidate itself, then the port. A candidate naming a server an
 *   earlier one named loses to it.
 * Every verdict gets its words. Returns 0 (winner -1 when nothing is usable), OUTBOX_ENOMEM. */
int setup_choose(outbox *h, const char *address, enum setup_login login, const struct setup_candidates *list,
		 const struct setup_probes *probes, struct setup_choice *out);
/* The winner `loser` could not be used after all (its login could not be checked: the server was
 * not reached again): it loses with `why` and the next usable one, if any, wins. */
void setup_choose_next(struct setup_choice *c, const struct setup_candidates *list,
		       const struct setup_probes *probes, size_t loser, const char *why);
void setup_choice_free(struct setup_choice *c);

/* The OAuth preset ("google", "microsoft") an OAuth sign-in on candidate c is saved with: the one
 * its source's oAuth2 entry maps to; NULL, with why and what to do instead in words, when there is
 * none. The one test for the chooser and the save alike. */
const char *setup_choose_oauth_preset(const struct setup_candidate *c, char *why, size_t size);

/* "autoconfig", "well-known", "ISPDB", "SRV", "MX" or "guess". */
const char *setup_choose_source_word(enum setup_source s);

#endif
