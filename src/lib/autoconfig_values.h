/* autoconfig_values.h: what the values of an autoconfig outgoingServer mean to outbox: security,
 * port, host, the user name's placeholders and the login; pure, apart from the error slot. */
#ifndef OUTBOX_AUTOCONFIG_VALUES_H
#define OUTBOX_AUTOCONFIG_VALUES_H

#include "outbox/error.h"
#include "setup_candidate.h"

/* The kinds of login an <authentication> element names, as bits: a server may list several. */
enum {
	AUTOCONFIG_AUTH_PASSWORD = 1, /* password-cleartext, password-encrypted (and the old plain, secure) */
	AUTOCONFIG_AUTH_OAUTH2 = 2,   /* OAuth2 */
	AUTOCONFIG_AUTH_NONE = 4,     /* none, client-IP-address: no login */
	AUTOCONFIG_AUTH_OTHER = 8     /* NTLM, GSSAPI, TLS-client-cert, ...: nothing the probe can do */
};

/* One outgoingServer's text as the document gave it (trimmed); NULL when its element is missing. */
struct autoconfig_server_text {
	const char *hostname;
	const char *port;
	const char *socket_type;
	const char *username;
};

/* The bit of one <authentication> value; AUTOCONFIG_AUTH_OTHER for anything not known. */
unsigned autoconfig_auth_bit(const char *value);
/* Fill c's host, port, security and username from t, placeholders substituted for `address`.
 * OUTBOX_EPROTOCOL naming the element (outgoingServer/port ...) for a missing or implausible
 * value; c is then partly written and must be dropped. */
int autoconfig_server_judge(outbox *h, const struct autoconfig_server_text *t, const char *address,
			    struct setup_candidate *c);
/* `template` with %EMAILADDRESS%, %EMAILLOCALPART% and %EMAILDOMAIN% replaced from `address`;
 * an unknown %WORD% is refused (OUTBOX_EPROTOCOL naming `field`), as is a result that does not
 * fit `size`. A lone '%' stays. */
int autoconfig_substitute(outbox *h, const char *field, const char *template, const char *address,
			  char *out, size_t size);
/* The OAuth preset ("microsoft", "google") whose sign-in host is the oAuth2 element's issuer or
 * its authURL's host; "" when neither names one. */
const char *autoconfig_oauth_preset(const char *issuer, const char *auth_url);
/* Set c->auth (and c->oauth) from a server's `auth` bits: the best the probe can use. OAuth2 with
 * a preset ranks first when the caller can sign in with OAuth, else after a password; then no
 * login; "" when the document names nothing the probe can do (it then asks the server). */
void autoconfig_auth_choose(struct setup_candidate *c, unsigned auth, const char *preset,
			    int oauth_usable);

#endif
