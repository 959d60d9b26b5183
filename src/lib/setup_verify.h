/* setup_verify.h: with a password, `outbox setup` logs in to the chosen server before anything is
 * saved (AUTH, then QUIT: no mail), and decides which hosts may receive the password at all. */
#ifndef OUTBOX_SETUP_VERIFY_H
#define OUTBOX_SETUP_VERIFY_H

#include <stddef.h>

#include "setup_candidate.h"
#include "setup_choose.h"
#include "setup_probe.h"

/* The user-name forms tried: the caller's (--auto: the server's stored one), the source's, the full
 * address, the local part. */
#define SETUP_VERIFY_FORMS 4

struct setup_login_check {
	long candidate;      /* the index of the candidate logged in to, or -1 */
	char user[320];      /* the user name that logged in */
	const char *form;    /* which form it was: "the user name given", "the source's user name",
				"the full address", "the local part"; "" when none did */
	char mech[24];       /* the mechanism of that login */
	size_t ntried;       /* the forms tried, in order, on the winner */
	char tried[SETUP_VERIFY_FORMS][320];
	long long ms;        /* the whole check */
};

/* Whether the password may go to the host of candidate i of `list`: only when the host is in the
 * address's own domain (the domain itself or a name under it), or a candidate of the provider's
 * own autoconfig (autoconfig, well-known) or of the ISPDB (directly, or for the MX's domain) names
 * that host, on any port (TLS checks the name, not the port). A host only an SRV record or a guess
 * names outside the domain never gets it: plain DNS can be forged, and a forged record must not
 * carry the password to a host the user never named. The one rule, for the chooser and the login
 * check alike. 1, or 0 with why in words. */
int setup_verify_may_receive_password(const struct setup_candidates *list, size_t i, const char *address,
				      char *why, size_t size);

/* The user names to try on candidate c, in order and each once: `given` (NULL or "": none), its
 * own, the full address, the local part. Returns how many. */
size_t setup_verify_forms(const struct setup_candidate *c, const char *address, const char *given,
			  char out[SETUP_VERIFY_FORMS][320], const char *form[SETUP_VERIFY_FORMS]);

/* Log in to the choice's winner with `password` and the method its verdict names, trying the
 * user-name forms of setup_verify_forms (`username` first) in turn, a new connection each; the
 * first that logs in wins and is kept in *out. When the winner cannot be reached again (its
 * connection, TLS or EHLO fails), nothing was sent to it, so it loses and the next usable
 * candidate is tried. Once a login was refused, or
 * failed in any other way once AUTH began, no other host gets the password: OUTBOX_EAUTH with the
 * server's words and the forms tried for a refusal, the failure's own code otherwise, and the
 * choice has no winner. OUTBOX_EINVALID (field "address") for an address without a local part
 * and a domain. Nothing else is ever sent: QUIT follows the login. */
int setup_verify_choice(outbox *h, const char *address, const char *username, const char *password,
			const struct setup_candidates *list, const struct setup_probes *probes,
			struct setup_choice *choice, const struct setup_probe_options *o,
			struct setup_login_check *out);

#endif
