/* oauth_preset.h: what outbox knows about each OAuth 2.0 provider, as data: its documented
 * submission server and its sign-in endpoints, so a server added with --oauth needs only a client ID. */
#ifndef OUTBOX_OAUTH_PRESET_H
#define OUTBOX_OAUTH_PRESET_H

#include <stddef.h>

/* The ways to sign in (RFC 8628 device authorization; RFC 6749 code grant with PKCE and a
 * loopback redirect), as bits so a preset can allow several. */
enum oauth_grant { OAUTH_GRANT_DEVICE = 1, OAUTH_GRANT_BROWSER = 2 };

struct oauth_preset {
	const char *name;     /* the value of --oauth */
	const char *host;     /* the provider's submission server; NULL: the user gives it */
	const char *port;
	const char *security;
	const char *auth;     /* the SASL mechanism the provider documents */
	const char *scope;
	const char *tenant;   /* the default tenant; NULL when the provider has none */
	/* Endpoints; "{tenant}" stands for the tenant. NULL: the provider has none (or, for custom,
	 * the user gives each). */
	const char *device_url;
	const char *authorize_url;
	const char *token_url;
	const char *revoke_url;
	unsigned grants;                 /* the grants the provider allows for the mail scope */
	enum oauth_grant preferred;      /* what `server login` runs without --device/--browser */
};

/* The preset called `name` ("microsoft", "google", "custom"), or NULL ("none", or unknown). */
const struct oauth_preset *oauth_preset_find(const char *name);
/* The preset whose sign-in page (authorize_url) is on `host` ("login.microsoftonline.com"), compared
 * without case; NULL when none is. For a provider's own settings that name their OAuth issuer. */
const struct oauth_preset *oauth_preset_for_host(const char *host);
/* `url_template` with "{tenant}" replaced by `tenant`, into out; "" for a NULL template. -1 when
 * it does not fit. */
int oauth_preset_url(const char *url_template, const char *tenant, char *out, size_t size);

#endif
