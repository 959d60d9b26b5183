/* autoconfig_values.c: an autoconfig outgoingServer's values judged one by one: a plausible host
 * and port, a known security, the user name's placeholders, and the login the probe should try. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "autoconfig_values.h"
#include "handle_internal.h"
#include "oauth_preset.h"
#include "setup_address.h"
#include "validate.h"

static const struct {
	const char *value;
	unsigned bit;
} auth_values[] = {
	{"password-cleartext", AUTOCONFIG_AUTH_PASSWORD},
	{"plain", AUTOCONFIG_AUTH_PASSWORD}, /* the name before password-cleartext */
	{"password-encrypted", AUTOCONFIG_AUTH_PASSWORD},
	{"secure", AUTOCONFIG_AUTH_PASSWORD}, /* the name before password-encrypted */
	{"OAuth2", AUTOCONFIG_AUTH_OAUTH2},
	{"none", AUTOCONFIG_AUTH_NONE},
	{"client-IP-address", AUTOCONFIG_AUTH_NONE},
};

unsigned autoconfig_auth_bit(const char *value)
{
	size_t i;

	for (i = 0; i < sizeof auth_values / sizeof auth_values[0]; i++)
		if (strcasecmp(auth_values[i].value, value) == 0)
			return auth_values[i].bit;
	return AUTOCONFIG_AUTH_OTHER;
}

static const struct {
	const char *value;
	enum setup_security security;
} socket_types[] = {
	{"SSL", SETUP_SECURITY_TLS},
	{"STARTTLS", SETUP_SECURITY_STARTTLS},
	{"plain", SETUP_SECURITY_NONE},
};

static int fail_value(outbox *h, const char *field, const char *value, const char *why)
{
	char shown[80];

	if (value == NULL)
		return outbox_fail(h, OUTBOX_EPROTOCOL, field, "missing: an SMTP server needs one");
	validate_display(shown, sizeof shown, value, strlen(value));
	return outbox_fail(h, OUTBOX_EPROTOCOL, field, "\"%s\" %s", shown, why);
}

static int judge_port(outbox *h, const char *value, int *port)
{
	long n = 0;
	size_t i;

	if (value == NULL || *value == '\0' || strlen(value) > 5)
		return fail_value(h, "outgoingServer/port", value, "is not a port (1-65535)");
	for (i = 0; value[i]; i++) {
		if (value[i] < '0' || value[i] > '9')
			return fail_value(h, "outgoingServer/port", value, "is not a port (1-65535)");
		n = n * 10 + (value[i] - '0');
	}
	if (n < 1 || n > 65535)
		return fail_value(h, "outgoingServer/port", value, "is not a port (1-65535)");
	*port = (int)n;
	return 0;
}

static int judge_security(outbox *h, const char *value, enum setup_security *security)
{
	size_t i;

	for (i = 0; value != NULL && i < sizeof socket_types / sizeof socket_types[0]; i++)
		if (strcmp(socket_types[i].value, value) == 0) {
			*security = socket_types[i].security;
			return 0;
		}
	return fail_value(h, "outgoingServer/socketType", value,
			  "is not a socket type outbox knows (SSL, STARTTLS, plain)");
}

/* The part of the address a placeholder stands for, as a pointer and a length: the address and
 * its local part as typed, the domain in setup_address.c's form (A-labels, as host names need). */
static int placeholder(const char *name, size_t len, const char *address, size_t local_len, const char *domain,
		       const char **v, size_t *vlen)
{
	if (len == 12 && strncmp(name, "EMAILADDRESS", len) == 0) {
		*v = address;
		*vlen = strlen(address);
	} else if (len == 14 && strncmp(name, "EMAILLOCALPART", len) == 0) {
		*v = address;
		*vlen = local_len;
	} else if (len == 11 && strncmp(name, "EMAILDOMAIN", len) == 0) {
		*v = domain;
		*vlen = strlen(domain);
	} else {
		return -1;
	}
	return 0;
}

int autoconfig_substitute(outbox *h, const char *field, const char *template, const char *address,
			  char *out, size_t size)
{
	size_t n = 0, len, local_len;
	const char *p = template, *v;
	char domain[256];
	int rc;

	if ((rc = setup_address_domain(h, "address", address, domain, sizeof domain, &local_len)) < 0)
		return rc;
	while (*p) {
		const char *end = *p == '%' ? strchr(p + 1, '%') : NULL;
		size_t name = end ? (size_t)(end - p - 1) : 0;

		if (end != NULL && name > 0 && strspn(p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == name) {
			if (placeholder(p + 1, name, address, local_len, domain, &v, &len) < 0)
				return outbox_fail(h, OUTBOX_EPROTOCOL, field,
						   "the placeholder %%%.*s%% is not one outbox knows "
						   "(%%EMAILADDRESS%%, %%EMAILLOCALPART%%, %%EMAILDOMAIN%%)",
						   name > 32 ? 32 : (int)name, p + 1);
			p = end + 1;
		} else {
			v = p++;
			len = 1;
		}
		if (n + len >= size)
			return outbox_fail(h, OUTBOX_EPROTOCOL, field, "longer than %zu bytes: refused",
					   size - 1);
		memcpy(out + n, v, len);
		n += len;
	}
	out[n] = '\0';
	return 0;
}

int autoconfig_server_judge(outbox *h, const struct autoconfig_server_text *t, const char *address,
			    struct setup_candidate *c)
{
	int rc;

	if (t->hostname == NULL || *t->hostname == '\0')
		return fail_value(h, "outgoingServer/hostname", NULL, NULL);
	if ((rc = autoconfig_substitute(h, "outgoingServer/hostname", t->hostname, address, c->host,
					sizeof c->host)) < 0)
		return rc;
	/* validate_host's words ("... is not a valid host name: ..."), as a refusal of the document. */
	if ((rc = validate_host(h, "outgoingServer/hostname", c->host)) < 0)
		return rc == OUTBOX_EINVALID ? OUTBOX_EPROTOCOL : rc;
	if ((rc = judge_port(h, t->port, &c->port)) < 0 ||
	    (rc = judge_security(h, t->socket_type, &c->security)) < 0)
		return rc;
	c->username[0] = '\0';
	if (t->username != NULL) {
		if ((rc = autoconfig_substitute(h, "outgoingServer/username", t->username, address,
						c->username, sizeof c->username)) < 0)
			return rc;
		if ((rc = validate_text(h, "outgoingServer/username", c->username,
					sizeof c->username - 1)) < 0)
			return rc == OUTBOX_EINVALID ? OUTBOX_EPROTOCOL : rc;
	}
	return 0;
}

/* The host of an https:// URL, into out; "" when it is not one. */
static void url_host(const char *url, char *out, size_t size)
{
	size_t n;

	out[0] = '\0';
	if (strncasecmp(url, "https://", 8) != 0)
		return;
	url += 8;
	n = strcspn(url, ":/?#@");
	if (url[n] == '@' || n >= size)
		return;
	memcpy(out, url, n);
	out[n] = '\0';
}

const char *autoconfig_oauth_preset(const char *issuer, const char *auth_url)
{
	const struct oauth_preset *p = oauth_preset_for_host(issuer);
	char host[256];

	if (p == NULL) {
		url_host(auth_url, host, sizeof host);
		p = oauth_preset_for_host(host);
	}
	/* "custom" has no sign-in page of its own, so it never matches a host. */
	return p != NULL ? p->name : "";
}

void autoconfig_auth_choose(struct setup_candidate *c, unsigned auth, const char *preset,
			    int oauth_usable)
{
	int oauth_known = (auth & AUTOCONFIG_AUTH_OAUTH2) && *preset;
	const char *choice = "";

	if (oauth_known && oauth_usable)
		choice = "xoauth2";
	else if (auth & AUTOCONFIG_AUTH_PASSWORD)
		choice = "auto";
	else if (auth & AUTOCONFIG_AUTH_OAUTH2)
		choice = "xoauth2";
	else if (auth & AUTOCONFIG_AUTH_NONE)
		choice = "none";
	snprintf(c->auth, sizeof c->auth, "%s", choice);
	snprintf(c->oauth, sizeof c->oauth, "%s", (auth & AUTOCONFIG_AUTH_OAUTH2) ? preset : "");
}
