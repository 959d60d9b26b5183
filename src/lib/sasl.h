/* sasl.h: SMTP AUTH mechanisms: choosing one and computing each step. GNU SASL does CRAM-MD5 and
 * SCRAM(-PLUS); PLAIN, LOGIN, XOAUTH2, OAUTHBEARER and EXTERNAL are built here. No I/O. */
#ifndef OUTBOX_SASL_H
#define OUTBOX_SASL_H

#include <stddef.h>
#include "outbox/error.h"

struct sasl_session;

struct sasl_params {
	const char *user;
	const char *password;   /* or the OAuth token for xoauth2/oauthbearer */
	const char *host;       /* the server's host name, for OAUTHBEARER */
	int port;
	const char *cb_type;    /* "tls-exporter" (TLS 1.3) or "tls-unique" (TLS 1.2), or NULL */
	const unsigned char *cb_data; /* channel binding data for SCRAM-*-PLUS */
	size_t cb_len;
};

/* Pick the mechanism to use. `offered` is the server's AUTH list (upper case, space separated);
 * `configured` is the server setting ("auto" or one method as in the CLI: "scram-sha-256" ...).
 * With "auto" the strongest offered wins: SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS (only with channel
 * binding data), SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN. A mechanism that reveals the
 * password (PLAIN, LOGIN, XOAUTH2, OAUTHBEARER) is never chosen without TLS unless
 * `allow_insecure`. Errors (OUTBOX_ECONFIG, field "auth") say what the server offers and what to
 * set. *mech gets a static upper-case name such as "SCRAM-SHA-256"; with "none" it is NULL. */
int sasl_choose(outbox *h, const char *offered, const char *configured, int tls, int allow_insecure,
		int have_channel_binding, const char **mech);

/* The --auth value that names `mech` as sasl_choose returns it ("SCRAM-SHA-256-PLUS" gives
 * "scram-sha-256": a configured SCRAM method uses -PLUS when it can), or "auto" for a name it does
 * not know. */
const char *sasl_method_of(const char *mech);

int sasl_start(outbox *h, const char *mech, const struct sasl_params *p, struct sasl_session **out);
/* One step. `challenge` is the base64 text after "334 " (NULL for the initial response sent with
 * AUTH). *response gets base64 text to send (possibly "" for an empty response, or "=" as AUTH's
 * initial response for an empty one); the caller wipes and frees it. *done is set once the
 * mechanism has nothing more to send after the server's next 235. */
int sasl_step(outbox *h, struct sasl_session *s, const char *challenge, char **response, int *done);
/* Whether the mechanism sends an initial response with AUTH (saving a round trip). */
int sasl_has_initial_response(const char *mech);
void sasl_end(struct sasl_session *s);

#endif
