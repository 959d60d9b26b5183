/* server.c: the server model: its fields, their defaults, and the check of each value as it is
 * set, so the command line and the terminal UI refuse bad input with the same words. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handle_internal.h"
#include "secret.h"
#include "server_internal.h"
#include "validate.h"

static const char *const security_modes[] = {"tls", "starttls", "none", NULL};
static const char *const auth_methods[] = {"auto", "none", "plain", "login", "cram-md5",
					   "scram-sha-1", "scram-sha-256", "xoauth2",
					   "oauthbearer", "external", NULL};
static const char *const oauth_providers[] = {"none", "microsoft", "google", "custom", NULL};

const struct field_spec server_fields[OUTBOX_SERVER_FIELD_COUNT] = {
	[OUTBOX_SERVER_NAME] = {{"name", "Server Name", OUTBOX_FIELD_TEXT, NULL,
				 "the name used on the command line"}, "name", ""},
	[OUTBOX_SERVER_DESCRIPTION] = {{"description", "Description", OUTBOX_FIELD_TEXT, NULL,
					"what lists show, e.g. \"Work (Fastmail)\""}, "description", ""},
	[OUTBOX_SERVER_HOST] = {{"host", "Host Name", OUTBOX_FIELD_TEXT, NULL,
				 "the server's host name or IP address"}, "host", ""},
	[OUTBOX_SERVER_PORT] = {{"port", "Port", OUTBOX_FIELD_NUMBER, NULL,
				 "465 for tls, 587 for starttls, 25 for none unless set"}, "port", "587"},
	[OUTBOX_SERVER_SECURITY] = {{"security", "Security", OUTBOX_FIELD_CHOICE, security_modes,
				     "tls (from the first byte), starttls, or none"}, "security", "starttls"},
	[OUTBOX_SERVER_AUTH] = {{"auth", "Authentication", OUTBOX_FIELD_CHOICE, auth_methods,
				 "auto picks the strongest method both sides offer"}, "auth", "auto"},
	[OUTBOX_SERVER_USER] = {{"user", "User Name", OUTBOX_FIELD_TEXT, NULL,
				 "the login name, often the mail address"}, "username", ""},
	[OUTBOX_SERVER_PASSWORD_COMMAND] = {{"password-command", "Password Command", OUTBOX_FIELD_TEXT, NULL,
					     "a command that prints the password"}, "password_command", ""},
	[OUTBOX_SERVER_ALLOW_INSECURE_AUTH] = {{"allow-insecure-auth", "Allow Insecure Authentication",
						OUTBOX_FIELD_BOOL, NULL,
						"allow a password over a connection without TLS"},
					       "allow_insecure_auth", "false"},
	[OUTBOX_SERVER_TLS_VERIFY] = {{"tls-verify", "Verify Certificate", OUTBOX_FIELD_BOOL, NULL,
				       "check the server's certificate and name"}, "tls_verify", "true"},
	[OUTBOX_SERVER_TLS_CA] = {{"tls-ca", "CA File", OUTBOX_FIELD_PATH, NULL,
				   "trust this CA file instead of the system's"}, "tls_ca", ""},
	[OUTBOX_SERVER_TLS_PIN] = {{"tls-pin", "Certificate Pin", OUTBOX_FIELD_TEXT, NULL,
				    "SHA-256 of the server's certificate"}, "tls_pin", ""},
	[OUTBOX_SERVER_TLS_CERT] = {{"tls-cert", "Client Certificate", OUTBOX_FIELD_PATH, NULL,
				     "a client certificate to present"}, "tls_cert", ""},
	[OUTBOX_SERVER_TLS_KEY] = {{"tls-key", "Client Key", OUTBOX_FIELD_PATH, NULL,
				    "the client certificate's private key"}, "tls_key", ""},
	[OUTBOX_SERVER_TIMEOUT] = {{"timeout", "Timeout", OUTBOX_FIELD_NUMBER, NULL,
				    "seconds to wait for each step"}, "timeout", "60"},
	[OUTBOX_SERVER_DEFAULT] = {{"default", "Default Server", OUTBOX_FIELD_BOOL, NULL,
				    "the server new accounts use"}, "is_default", "false"},
	[OUTBOX_SERVER_OAUTH] = {{"oauth", "OAuth Provider", OUTBOX_FIELD_CHOICE, oauth_providers,
				  "sign in with OAuth 2.0; a provider's preset fills the server and endpoints"},
				 "oauth_provider", "none"},
	[OUTBOX_SERVER_OAUTH_CLIENT_ID] = {{"oauth-client-id", "OAuth Client ID", OUTBOX_FIELD_TEXT, NULL,
					    "the client ID of the application you registered"},
					   "oauth_client_id", ""},
	[OUTBOX_SERVER_OAUTH_TENANT] = {{"oauth-tenant", "OAuth Tenant", OUTBOX_FIELD_TEXT, NULL,
					 "microsoft: common, organizations, consumers, a tenant ID or domain"},
					"oauth_tenant", ""},
	[OUTBOX_SERVER_OAUTH_DEVICE_URL] = {{"oauth-device-url", "OAuth Device URL", OUTBOX_FIELD_TEXT, NULL,
					     "the device authorization endpoint (sign-in with a code)"},
					    "oauth_device_url", ""},
	[OUTBOX_SERVER_OAUTH_AUTHORIZE_URL] = {{"oauth-authorize-url", "OAuth Authorize URL", OUTBOX_FIELD_TEXT,
						NULL, "the authorization endpoint (sign-in in a browser)"},
					       "oauth_authorize_url", ""},
	[OUTBOX_SERVER_OAUTH_TOKEN_URL] = {{"oauth-token-url", "OAuth Token URL", OUTBOX_FIELD_TEXT, NULL,
					    "the token endpoint"}, "oauth_token_url", ""},
	[OUTBOX_SERVER_OAUTH_REVOKE_URL] = {{"oauth-revoke-url", "OAuth Revoke URL", OUTBOX_FIELD_TEXT, NULL,
					     "the revocation endpoint, if the provider has one"},
					    "oauth_revoke_url", ""},
	[OUTBOX_SERVER_OAUTH_SCOPE] = {{"oauth-scope", "OAuth Scope", OUTBOX_FIELD_TEXT, NULL,
					"the scopes to ask for, separated by spaces"}, "oauth_scope", ""},
	[OUTBOX_SERVER_OAUTH_TLS_CA] = {{"oauth-tls-ca", "OAuth CA File", OUTBOX_FIELD_PATH, NULL,
					 "trust this CA file for the endpoints instead of the system's"},
					"oauth_tls_ca", ""},
	[OUTBOX_SERVER_HELO] = {{"helo", "EHLO Name", OUTBOX_FIELD_TEXT, NULL,
				 "the name this host gives in EHLO; empty: its fully qualified name"}, "helo", ""},
};
_Static_assert(OUTBOX_SERVER_FIELD_COUNT <= 64, "a draft's typed fields are bits of a 64-bit word");

const outbox_field *outbox_server_field_info(outbox_server_field_id id)
{
	if ((unsigned)id >= OUTBOX_SERVER_FIELD_COUNT)
		return NULL;
	return &server_fields[id].pub;
}

int outbox_server_field_by_key(const char *key)
{
	return record_find_key(server_fields, OUTBOX_SERVER_FIELD_COUNT, key);
}

const char *server_default_port(const char *security)
{
	if (strcmp(security, "tls") == 0)
		return "465";
	if (strcmp(security, "none") == 0)
		return "25";
	return "587";
}

int server_auth_is_oauth(const char *auth)
{
	return strcmp(auth, "xoauth2") == 0 || strcmp(auth, "oauthbearer") == 0;
}

int server_auth_reveals_password(const char *auth)
{
	return strcmp(auth, "plain") == 0 || strcmp(auth, "login") == 0 || server_auth_is_oauth(auth);
}

int server_auth_needs_user(const char *auth)
{
	return strcmp(auth, "auto") != 0 && strcmp(auth, "none") != 0 &&
	       strcmp(auth, "external") != 0;
}

outbox_server *outbox_server_new(void)
{
	outbox_server *s = calloc(1, sizeof *s);

	if (s == NULL)
		return NULL;
	if (record_init(&s->rec, server_fields, OUTBOX_SERVER_FIELD_COUNT) < 0) {
		free(s);
		return NULL;
	}
	s->password_source = OUTBOX_PASSWORD_NONE;
	return s;
}

outbox_server *outbox_server_dup(const outbox_server *s)
{
	outbox_server *c = outbox_server_new();
	size_t i;
	int failed = c == NULL;

	for (i = 0; !failed && i < OUTBOX_SERVER_FIELD_COUNT; i++)
		failed = record_put(&c->rec, i, s->rec.val[i]) < 0;
	for (i = 0; !failed && s->used_by && s->used_by[i]; i++)
		failed = strv_push(&c->used_by, s->used_by[i]) < 0;
	for (i = 0; !failed && s->fallback_for && s->fallback_for[i]; i++)
		failed = strv_push(&c->fallback_for, s->fallback_for[i]) < 0;
	if (!failed && s->new_password)
		failed = (c->new_password = strdup(s->new_password)) == NULL;
	if (!failed && s->client_secret.value)
		failed = (c->client_secret.value = strdup(s->client_secret.value)) == NULL;
	if (failed) {
		outbox_server_free(c);
		return NULL;
	}
	/* The same identity and password state, so a check of the copy finds the stored password
	 * and a save of it is checked against the same revision. */
	c->id = s->id;
	c->revision = s->revision;
	c->port_explicit = s->port_explicit;
	memcpy(c->secret_id, s->secret_id, sizeof c->secret_id);
	c->password_source = s->password_source;
	c->password_change = s->password_change;
	c->typed = s->typed;
	c->client_secret.source = s->client_secret.source;
	c->client_secret.change = s->client_secret.change;
	memcpy(c->client_secret.id, s->client_secret.id, sizeof c->client_secret.id);
	return c;
}

void outbox_server_free(outbox_server *s)
{
	if (s == NULL)
		return;
	record_free(&s->rec);
	secret_wipe(s->new_password);
	secret_wipe(s->client_secret.value);
	strv_free(s->used_by);
	strv_free(s->fallback_for);
	free(s);
}

const char *outbox_server_get(const outbox_server *s, outbox_server_field_id id)
{
	if ((unsigned)id >= OUTBOX_SERVER_FIELD_COUNT)
		return "";
	return s->rec.val[id];
}

/* Check `value` for field `id` and leave its canonical form in `canon` (which may be `value`). */
static int server_check_field(outbox *h, outbox_server_field_id id, const char *value,
			      char *canon, size_t canon_size)
{
	const char *key = server_fields[id].pub.key;
	long n;
	int flag, rc;

	snprintf(canon, canon_size, "%s", value);
	switch (id) {
	case OUTBOX_SERVER_NAME:
		return validate_name(h, key, value);
	case OUTBOX_SERVER_HOST:
		if (*value == '\0')
			return outbox_fail(h, OUTBOX_EINVALID, key, "is required");
		return validate_host(h, key, value);
	case OUTBOX_SERVER_PORT:
		if ((rc = validate_int(h, key, value, 1, 65535, &n)) < 0)
			return rc;
		snprintf(canon, canon_size, "%ld", n);
		return 0;
	case OUTBOX_SERVER_TIMEOUT:
		if ((rc = validate_int(h, key, value, 1, 3600, &n)) < 0)
			return rc;
		snprintf(canon, canon_size, "%ld", n);
		return 0;
	case OUTBOX_SERVER_SECURITY:
		return validate_choice(h, key, value, security_modes);
	case OUTBOX_SERVER_AUTH:
		return validate_choice(h, key, value, auth_methods);
	case OUTBOX_SERVER_ALLOW_INSECURE_AUTH:
	case OUTBOX_SERVER_TLS_VERIFY:
	case OUTBOX_SERVER_DEFAULT:
		if ((rc = validate_bool(h, key, value, &flag)) < 0)
			return rc;
		snprintf(canon, canon_size, "%s", flag ? "true" : "false");
		return 0;
	case OUTBOX_SERVER_TLS_PIN: {
		char hex[65];
		if (*value == '\0')
			return 0;
		if ((rc = validate_sha256_pin(h, key, value, hex)) < 0)
			return rc;
		snprintf(canon, canon_size, "%s", hex);
		return 0;
	}
	case OUTBOX_SERVER_TLS_CA:
	case OUTBOX_SERVER_OAUTH_TLS_CA:
	case OUTBOX_SERVER_TLS_CERT:
	case OUTBOX_SERVER_TLS_KEY: {
		/* Stored absolute, so the setting still works from another working directory. */
		char *abs;
		if (*value == '\0')
			return 0;
		if ((rc = validate_text(h, key, value, 4096)) < 0 ||
		    (rc = validate_readable_file(h, key, value)) < 0)
			return rc;
		if ((abs = realpath(value, NULL)) == NULL)
			return outbox_fail(h, OUTBOX_EINVALID, key, "cannot resolve \"%s\"", value);
		if (strlen(abs) >= canon_size) {
			free(abs);
			return outbox_fail(h, OUTBOX_EINVALID, key, "the path is too long");
		}
		snprintf(canon, canon_size, "%s", abs);
		free(abs);
		return 0;
	}
	case OUTBOX_SERVER_DESCRIPTION:
		return validate_text(h, key, value, 200);
	case OUTBOX_SERVER_USER:
		return validate_text(h, key, value, 320);
	case OUTBOX_SERVER_PASSWORD_COMMAND:
		return validate_text(h, key, value, 2000);
	case OUTBOX_SERVER_OAUTH:
		return validate_choice(h, key, value, oauth_providers);
	case OUTBOX_SERVER_OAUTH_CLIENT_ID:
		return validate_oauth_client_id(h, key, value);
	case OUTBOX_SERVER_OAUTH_TENANT:
		return validate_oauth_tenant(h, key, value);
	case OUTBOX_SERVER_OAUTH_DEVICE_URL:
	case OUTBOX_SERVER_OAUTH_AUTHORIZE_URL:
	case OUTBOX_SERVER_OAUTH_TOKEN_URL:
	case OUTBOX_SERVER_OAUTH_REVOKE_URL:
		return validate_oauth_url(h, key, value);
	case OUTBOX_SERVER_OAUTH_SCOPE:
		return validate_oauth_scope(h, key, value);
	case OUTBOX_SERVER_HELO:
		return *value ? validate_ehlo_name(h, key, value) : 0;
	default:
		return outbox_fail(h, OUTBOX_EINVALID, NULL, "unknown server field %d", (int)id);
	}
}

int outbox_server_set(outbox *h, outbox_server *s, outbox_server_field_id id, const char *value)
{
	char canon[4200];
	const char *old_security;
	int rc;

	if ((unsigned)id >= OUTBOX_SERVER_FIELD_COUNT)
		return outbox_fail(h, OUTBOX_EINVALID, NULL, "unknown server field %d", (int)id);
	if (value == NULL)
		value = "";
	if ((rc = server_check_field(h, id, value, canon, sizeof canon)) < 0)
		return rc;
	/* Checked already; these two may change other fields, as the security mode moves the port. */
	if (id == OUTBOX_SERVER_OAUTH || id == OUTBOX_SERVER_OAUTH_TENANT) {
		rc = id == OUTBOX_SERVER_OAUTH ? server_oauth_set_provider(h, s, canon)
					       : server_oauth_set_tenant(h, s, canon);
		if (rc == 0)
			s->typed |= 1ull << id;
		return rc;
	}
	old_security = s->rec.val[OUTBOX_SERVER_SECURITY];
	/* A port the user never typed follows the security mode, as in a mail client's dialog. */
	if (id == OUTBOX_SERVER_SECURITY && !s->port_explicit &&
	    strcmp(s->rec.val[OUTBOX_SERVER_PORT], server_default_port(old_security)) == 0 &&
	    record_put(&s->rec, OUTBOX_SERVER_PORT, server_default_port(canon)) < 0)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	if (record_put(&s->rec, id, canon) < 0)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	if (id == OUTBOX_SERVER_PORT)
		s->port_explicit = 1;
	s->typed |= 1ull << id;
	if (id == OUTBOX_SERVER_PASSWORD_COMMAND && *canon) {
		secret_wipe(s->new_password);
		s->new_password = NULL;
		s->password_change = PASSWORD_FORGET;
	}
	return 0;
}

int outbox_server_set_password(outbox *h, outbox_server *s, const char *password)
{
	char *copy = NULL;
	int rc;

	if (password != NULL) {
		if (*password == '\0')
			return outbox_fail(h, OUTBOX_EINVALID, "password", "is empty");
		if (strlen(password) > 4096)
			return outbox_fail(h, OUTBOX_EINVALID, "password", "is longer than 4096 bytes");
		if (strpbrk(password, "\r\n"))
			return outbox_fail(h, OUTBOX_EINVALID, "password", "contains a line break");
		if ((copy = strdup(password)) == NULL)
			return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	secret_wipe(s->new_password);
	s->new_password = copy;
	s->password_change = copy ? PASSWORD_SET : PASSWORD_FORGET;
	if (copy && (rc = record_put(&s->rec, OUTBOX_SERVER_PASSWORD_COMMAND, "")) < 0)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	return 0;
}

int outbox_server_set_oauth_client_secret(outbox *h, outbox_server *s, const char *secret)
{
	char *copy = NULL;
	int rc;

	if (secret != NULL) {
		if ((rc = validate_oauth_client_secret(h, "oauth-client-secret", secret)) < 0)
			return rc;
		if ((copy = strdup(secret)) == NULL)
			return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	secret_wipe(s->client_secret.value);
	s->client_secret.value = copy;
	s->client_secret.change = copy ? PASSWORD_SET : PASSWORD_FORGET;
	return 0;
}

outbox_password_source outbox_server_oauth_client_secret_source(const outbox_server *s)
{
	if (s->client_secret.change == PASSWORD_SET)
		return OUTBOX_PASSWORD_KEYRING; /* where it will go; save reports the real place */
	if (s->client_secret.change == PASSWORD_FORGET)
		return OUTBOX_PASSWORD_NONE;
	return s->client_secret.source;
}

outbox_password_source outbox_server_password_source(const outbox_server *s)
{
	if (s->password_change == PASSWORD_SET)
		return OUTBOX_PASSWORD_KEYRING; /* where it will go; save reports the real place */
	if (*s->rec.val[OUTBOX_SERVER_PASSWORD_COMMAND])
		return OUTBOX_PASSWORD_COMMAND;
	if (s->password_change == PASSWORD_FORGET)
		return OUTBOX_PASSWORD_NONE;
	return s->password_source;
}

const char *outbox_password_source_name(outbox_password_source src)
{
	switch (src) {
	case OUTBOX_PASSWORD_KEYRING:
		return "keyring";
	case OUTBOX_PASSWORD_FILE:
		return "file";
	case OUTBOX_PASSWORD_COMMAND:
		return "command";
	default:
		return "none";
	}
}

static const char *const no_names[] = {NULL};

const char *const *outbox_server_used_by(const outbox_server *s)
{
	return s->used_by ? (const char *const *)s->used_by : no_names;
}

const char *const *outbox_server_fallback_for(const outbox_server *s)
{
	return s->fallback_for ? (const char *const *)s->fallback_for : no_names;
}
