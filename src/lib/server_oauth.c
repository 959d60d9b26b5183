/* server_oauth.c: a server's OAuth 2.0 settings as one model: the provider's preset filling what
 * the user did not type, endpoints following the tenant, and the checks of the whole record. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handle_internal.h"
#include "oauth_preset.h"
#include "secret.h"
#include "server_internal.h"

/* The endpoint fields with the preset's template for each. */
struct oauth_endpoint {
	outbox_server_field_id id;
	size_t template_offset;
};

static const struct oauth_endpoint oauth_endpoints[] = {
	{OUTBOX_SERVER_OAUTH_DEVICE_URL, offsetof(struct oauth_preset, device_url)},
	{OUTBOX_SERVER_OAUTH_AUTHORIZE_URL, offsetof(struct oauth_preset, authorize_url)},
	{OUTBOX_SERVER_OAUTH_TOKEN_URL, offsetof(struct oauth_preset, token_url)},
	{OUTBOX_SERVER_OAUTH_REVOKE_URL, offsetof(struct oauth_preset, revoke_url)},
};
#define OAUTH_NENDPOINTS (sizeof oauth_endpoints / sizeof oauth_endpoints[0])

/* Every OAuth field but the provider, for "none" to clear and to check. */
static const outbox_server_field_id oauth_settings[] = {
	OUTBOX_SERVER_OAUTH_CLIENT_ID, OUTBOX_SERVER_OAUTH_TENANT, OUTBOX_SERVER_OAUTH_DEVICE_URL,
	OUTBOX_SERVER_OAUTH_AUTHORIZE_URL, OUTBOX_SERVER_OAUTH_TOKEN_URL, OUTBOX_SERVER_OAUTH_REVOKE_URL,
	OUTBOX_SERVER_OAUTH_SCOPE, OUTBOX_SERVER_OAUTH_TLS_CA};
#define OAUTH_NSETTINGS (sizeof oauth_settings / sizeof oauth_settings[0])

static int oauth_typed(const outbox_server *s, outbox_server_field_id id)
{
	return (s->typed >> id) & 1u;
}

static const char *oauth_template(const struct oauth_preset *p, const struct oauth_endpoint *e)
{
	return *(const char *const *)((const char *)p + e->template_offset);
}

/* Put `value` in field `id` unless the user typed that field on this draft. */
static int oauth_fill(outbox *h, outbox_server *s, outbox_server_field_id id, const char *value)
{
	if (oauth_typed(s, id) || value == NULL)
		return 0;
	if (record_put(&s->rec, id, value) < 0)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	return 0;
}

static int oauth_fill_endpoints(outbox *h, outbox_server *s, const struct oauth_preset *p)
{
	char url[2100];
	size_t i;
	int rc;

	for (i = 0; i < OAUTH_NENDPOINTS; i++) {
		if (oauth_preset_url(oauth_template(p, &oauth_endpoints[i]), s->rec.val[OUTBOX_SERVER_OAUTH_TENANT],
				     url, sizeof url) < 0)
			return outbox_fail(h, OUTBOX_EINVALID, "oauth-tenant", "is too long for an endpoint");
		if ((rc = oauth_fill(h, s, oauth_endpoints[i].id, url)) < 0)
			return rc;
	}
	return 0;
}

/* Back to a server without OAuth: what the provider filled goes, what was typed stays (and the
 * whole-record check says it has no effect). A token mechanism without a provider would need a
 * token from somewhere else, so auth goes back to auto unless typed. */
static int oauth_clear(outbox *h, outbox_server *s)
{
	size_t i;
	int rc;

	for (i = 0; i < OAUTH_NSETTINGS; i++)
		if ((rc = oauth_fill(h, s, oauth_settings[i], "")) < 0)
			return rc;
	if (server_auth_is_oauth(s->rec.val[OUTBOX_SERVER_AUTH]) &&
	    (rc = oauth_fill(h, s, OUTBOX_SERVER_AUTH, "auto")) < 0)
		return rc;
	return 0;
}

int server_oauth_set_provider(outbox *h, outbox_server *s, const char *provider)
{
	const struct oauth_preset *p = oauth_preset_find(provider);
	const char *security;
	int rc;

	/* The same provider again changes nothing: an edit that names it keeps earlier overrides. */
	if (strcmp(s->rec.val[OUTBOX_SERVER_OAUTH], provider) == 0)
		return 0;
	if (record_put(&s->rec, OUTBOX_SERVER_OAUTH, provider) < 0)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	/* Another provider's application and secret are no use with this one. */
	if (s->client_secret.change != PASSWORD_SET && s->client_secret.source != OUTBOX_PASSWORD_NONE)
		s->client_secret.change = PASSWORD_FORGET;
	if (p == NULL)
		return oauth_clear(h, s);

	/* custom names no server: host, port and security stay the user's. */
	if (p->host && ((rc = oauth_fill(h, s, OUTBOX_SERVER_HOST, p->host)) < 0 ||
			(rc = oauth_fill(h, s, OUTBOX_SERVER_SECURITY, p->security)) < 0))
		return rc;
	/* A typed security mode brings its own port, as when it is set without a preset. */
	security = s->rec.val[OUTBOX_SERVER_SECURITY];
	if (p->port && !oauth_typed(s, OUTBOX_SERVER_PORT)) {
		if ((rc = oauth_fill(h, s, OUTBOX_SERVER_PORT,
				     oauth_typed(s, OUTBOX_SERVER_SECURITY) ? server_default_port(security)
									    : p->port)) < 0)
			return rc;
		s->port_explicit = strcmp(s->rec.val[OUTBOX_SERVER_PORT], server_default_port(security)) != 0;
	}
	if (!server_auth_is_oauth(s->rec.val[OUTBOX_SERVER_AUTH]) &&
	    (rc = oauth_fill(h, s, OUTBOX_SERVER_AUTH, p->auth)) < 0)
		return rc;
	if ((rc = oauth_fill(h, s, OUTBOX_SERVER_OAUTH_CLIENT_ID, "")) < 0 ||
	    (rc = oauth_fill(h, s, OUTBOX_SERVER_OAUTH_TENANT, p->tenant ? p->tenant : "")) < 0 ||
	    (rc = oauth_fill(h, s, OUTBOX_SERVER_OAUTH_SCOPE, p->scope ? p->scope : "")) < 0)
		return rc;
	return oauth_fill_endpoints(h, s, p);
}

int server_oauth_set_tenant(outbox *h, outbox_server *s, const char *tenant)
{
	const struct oauth_preset *p = oauth_preset_find(s->rec.val[OUTBOX_SERVER_OAUTH]);
	char was[2100], now[2100];
	char *old;
	size_t i;

	/* An empty tenant on a provider that has tenants means its default, or the URLs break. */
	if (*tenant == '\0' && p && p->tenant)
		tenant = p->tenant;
	if ((old = strdup(s->rec.val[OUTBOX_SERVER_OAUTH_TENANT])) == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	for (i = 0; p && i < OAUTH_NENDPOINTS; i++) {
		const char *t = oauth_template(p, &oauth_endpoints[i]);
		char *const cur = s->rec.val[oauth_endpoints[i].id];
		if (t == NULL || oauth_preset_url(t, old, was, sizeof was) < 0 || strcmp(cur, was) != 0)
			continue; /* not the preset's: an override, which stays */
		if (oauth_preset_url(t, tenant, now, sizeof now) < 0) {
			free(old);
			return outbox_fail(h, OUTBOX_EINVALID, "oauth-tenant", "is too long for an endpoint");
		}
		if (record_put(&s->rec, oauth_endpoints[i].id, now) < 0) {
			free(old);
			return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
		}
	}
	free(old);
	if (record_put(&s->rec, OUTBOX_SERVER_OAUTH_TENANT, tenant) < 0)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	return 0;
}

static const char *oauth_key(outbox_server_field_id id)
{
	return outbox_server_field_info(id)->key;
}

static int oauth_validate_without(outbox *h, const outbox_server *s)
{
	size_t i;

	for (i = 0; i < OAUTH_NSETTINGS; i++)
		if (*s->rec.val[oauth_settings[i]])
			return outbox_fail(h, OUTBOX_EINVALID, oauth_key(oauth_settings[i]),
					   "has no effect without --oauth: add --oauth microsoft, google or custom");
	if (s->client_secret.change == PASSWORD_SET)
		return outbox_fail(h, OUTBOX_EINVALID, "oauth-client-secret",
				   "has no effect without --oauth: add --oauth microsoft, google or custom");
	return 0;
}

int server_oauth_validate(outbox *h, const outbox_server *s)
{
	char *const *v = s->rec.val;
	const char *provider = v[OUTBOX_SERVER_OAUTH];
	const struct oauth_preset *p = oauth_preset_find(provider);
	int stored_password = (s->password_source == OUTBOX_PASSWORD_KEYRING ||
			       s->password_source == OUTBOX_PASSWORD_FILE) &&
			      s->password_change != PASSWORD_FORGET;

	if (p == NULL)
		return oauth_validate_without(h, s);
	if (!*v[OUTBOX_SERVER_OAUTH_CLIENT_ID])
		return outbox_fail(h, OUTBOX_EINVALID, "oauth-client-id",
				   "is required with --oauth: register an application with %s and give its "
				   "client ID (man outbox, OAUTH 2.0 SIGN-IN)",
				   strcmp(provider, "custom") == 0 ? "the provider" : provider);
	if (!server_auth_is_oauth(v[OUTBOX_SERVER_AUTH]))
		return outbox_fail(h, OUTBOX_EINVALID, "auth",
				   "%s cannot carry an OAuth token: use --auth xoauth2 or oauthbearer",
				   v[OUTBOX_SERVER_AUTH]);
	if (s->password_change == PASSWORD_SET || *v[OUTBOX_SERVER_PASSWORD_COMMAND])
		return outbox_fail(h, OUTBOX_EINVALID, "password",
				   "an OAuth server signs in with a token, not a password: leave out "
				   "--password-stdin, --password-prompt and --password-command");
	if (stored_password)
		return outbox_fail(h, OUTBOX_EINVALID, "password",
				   "server \"%s\" has a stored password, which OAuth does not use: add "
				   "--no-password to forget it", v[OUTBOX_SERVER_NAME]);
	if (*v[OUTBOX_SERVER_OAUTH_TENANT] && p->tenant == NULL)
		return outbox_fail(h, OUTBOX_EINVALID, "oauth-tenant",
				   "has no effect with --oauth %s: only microsoft has tenants", provider);
	if (!*v[OUTBOX_SERVER_OAUTH_TOKEN_URL])
		return outbox_fail(h, OUTBOX_EINVALID, "oauth-token-url", "is required with --oauth %s",
				   provider);
	if (!*v[OUTBOX_SERVER_OAUTH_DEVICE_URL] && !*v[OUTBOX_SERVER_OAUTH_AUTHORIZE_URL])
		return outbox_fail(h, OUTBOX_EINVALID, "oauth-authorize-url",
				   "--oauth %s needs --oauth-authorize-url (browser sign-in) or "
				   "--oauth-device-url (sign-in with a code), or both", provider);
	if (!*v[OUTBOX_SERVER_OAUTH_SCOPE])
		return outbox_fail(h, OUTBOX_EINVALID, "oauth-scope",
				   "is required with --oauth %s: the scopes that let the token send mail", provider);
	return 0;
}
