/* validate_oauth.c: checks of a server's OAuth settings as they are typed: endpoints (HTTPS, or
 * plain HTTP to this machine only), the tenant that is put into a URL path, scopes, client ID. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "handle_internal.h"
#include "validate.h"

#define OAUTH_URL_MAX 2000

/* The value as a message may quote it: rendered safe and cut short. */
static const char *oauth_show(char *out, size_t size, const char *value)
{
	return validate_display(out, size, value, strlen(value));
}

static int oauth_printable(const char *value, int space_ok)
{
	const unsigned char *p;

	for (p = (const unsigned char *)value; *p; p++)
		if (*p > 0x7e || *p < 0x20 || (*p == ' ' && !space_ok))
			return 0;
	return 1;
}

int validate_loopback_host(const char *host)
{
	unsigned char a[16];
	static const unsigned char one[16] = {[15] = 1};
	char inner[INET6_ADDRSTRLEN + 1];
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	/* An IPv6 address as a URL writes it, in brackets, or bare. */
	if (n > 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof inner) {
		memcpy(inner, host + 1, n - 2);
		inner[n - 2] = '\0';
		host = inner;
	}
	return inet_pton(AF_INET6, host, a) == 1 && memcmp(a, one, sizeof one) == 0;
}

int validate_oauth_url(outbox *h, const char *field, const char *value)
{
	char v[120], host[300];
	const char *auth, *end, *port = NULL;
	size_t hostlen;
	int tls, rc;

	if (*value == '\0')
		return 0;
	if ((rc = validate_text(h, field, value, OAUTH_URL_MAX)) < 0)
		return rc;
	oauth_show(v, sizeof v, value);
	if (!oauth_printable(value, 0))
		return outbox_fail(h, OUTBOX_EINVALID, field,
				   "%s has a space or a character outside ASCII: give the URL percent-encoded", v);
	tls = strncasecmp(value, "https://", 8) == 0;
	if (!tls && strncasecmp(value, "http://", 7) != 0)
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s is not an https:// URL", v);
	auth = value + (tls ? 8 : 7);
	if (strchr(value, '#'))
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s has a fragment (#...); an endpoint has none", v);
	end = auth + strcspn(auth, "/?");
	if (memchr(auth, '@', (size_t)(end - auth)))
		return outbox_fail(h, OUTBOX_EINVALID, field,
				   "%s carries a user name or password; an endpoint must not", v);
	if (*auth == '[') {
		const char *close = memchr(auth, ']', (size_t)(end - auth));
		if (close == NULL)
			return outbox_fail(h, OUTBOX_EINVALID, field, "%s has an unclosed [ in its host", v);
		hostlen = (size_t)(close - auth - 1);
		if (hostlen >= sizeof host)
			return outbox_fail(h, OUTBOX_EINVALID, field, "%s has too long a host", v);
		memcpy(host, auth + 1, hostlen);
		host[hostlen] = '\0';
		if (close[1] == ':')
			port = close + 2;
		else if (close + 1 != end)
			return outbox_fail(h, OUTBOX_EINVALID, field, "%s has something after its host's ]", v);
		if (strchr(host, ':') == NULL)
			return outbox_fail(h, OUTBOX_EINVALID, field,
					   "%s has brackets around a host that is not an IPv6 address", v);
		if ((rc = validate_host(h, field, host)) < 0)
			return rc;
	} else {
		const char *colon = memchr(auth, ':', (size_t)(end - auth));
		hostlen = (size_t)((colon ? colon : end) - auth);
		if (hostlen >= sizeof host)
			return outbox_fail(h, OUTBOX_EINVALID, field, "%s has too long a host", v);
		memcpy(host, auth, hostlen);
		host[hostlen] = '\0';
		port = colon ? colon + 1 : NULL;
		if (hostlen == 0)
			return outbox_fail(h, OUTBOX_EINVALID, field, "%s has no host", v);
		if ((rc = validate_host(h, field, host)) < 0)
			return rc;
	}
	if (port) {
		long n = 0;
		const char *p;
		for (p = port; p < end && *p >= '0' && *p <= '9' && n <= 65535; p++)
			n = n * 10 + (*p - '0');
		if (p != end || p == port || n < 1 || n > 65535)
			return outbox_fail(h, OUTBOX_EINVALID, field, "%s has a port that is not 1 to 65535", v);
	}
	if (!tls && !validate_loopback_host(host))
		return outbox_fail(h, OUTBOX_EINVALID, field,
				   "%s is plain http:// to another machine: use https:// (http:// is only for "
				   "127.0.0.1, [::1] or localhost, to test)", v);
	return 0;
}

static int oauth_is_guid(const char *value)
{
	static const int dash[] = {8, 13, 18, 23};
	size_t i, d = 0;

	if (strlen(value) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (d < 4 && (int)i == dash[d]) {
			if (value[i] != '-')
				return 0;
			d++;
		} else if (!((value[i] >= '0' && value[i] <= '9') || (value[i] >= 'a' && value[i] <= 'f') ||
			     (value[i] >= 'A' && value[i] <= 'F'))) {
			return 0;
		}
	}
	return 1;
}

/* A DNS name of letters, digits and hyphens with at least two labels: the tenant goes into a URL
 * path, so nothing that could end or leave the path segment ('/', '?', '%', '.' alone) gets in. */
static int oauth_is_domain(const char *value)
{
	size_t label = 0, labels = 1, len = strlen(value);
	const char *p;

	if (len == 0 || len > 253)
		return 0;
	for (p = value; *p; p++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-')
				return 0;
			label = 0;
			labels++;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-') || (label == 0 && *p == '-') || ++label > 63)
			return 0;
	}
	return label > 0 && p[-1] != '-' && labels >= 2;
}

int validate_oauth_tenant(outbox *h, const char *field, const char *value)
{
	char v[120];

	if (*value == '\0' || strcmp(value, "common") == 0 || strcmp(value, "organizations") == 0 ||
	    strcmp(value, "consumers") == 0 || oauth_is_guid(value) || oauth_is_domain(value))
		return 0;
	return outbox_fail(h, OUTBOX_EINVALID, field,
			   "%s is not a tenant: give common, organizations, consumers, the directory's ID "
			   "(a GUID) or its domain (contoso.onmicrosoft.com)", oauth_show(v, sizeof v, value));
}

int validate_oauth_scope(outbox *h, const char *field, const char *value)
{
	char v[120];
	const char *p;

	if (*value == '\0')
		return 0;
	if (strlen(value) > 1000)
		return outbox_fail(h, OUTBOX_EINVALID, field, "is longer than 1000 bytes");
	oauth_show(v, sizeof v, value);
	for (p = value; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == ' ' && (p == value || p[1] == '\0' || p[1] == ' '))
			return outbox_fail(h, OUTBOX_EINVALID, field,
					   "%s has a leading, trailing or double space: separate scopes with one "
					   "space", v);
		if (c != ' ' && (c < 0x21 || c > 0x7e || c == '"' || c == '\\'))
			return outbox_fail(h, OUTBOX_EINVALID, field,
					   "%s has a character a scope cannot have (printable ASCII only, no \" "
					   "or \\)", v);
	}
	return 0;
}

int validate_oauth_client_id(outbox *h, const char *field, const char *value)
{
	char v[120];

	if (strlen(value) > 255)
		return outbox_fail(h, OUTBOX_EINVALID, field, "is longer than 255 bytes");
	if (!oauth_printable(value, 0))
		return outbox_fail(h, OUTBOX_EINVALID, field,
				   "%s has a space or a character outside printable ASCII",
				   oauth_show(v, sizeof v, value));
	return 0;
}

int validate_oauth_client_secret(outbox *h, const char *field, const char *value)
{
	if (*value == '\0')
		return outbox_fail(h, OUTBOX_EINVALID, field, "is empty");
	if (strlen(value) > 4096)
		return outbox_fail(h, OUTBOX_EINVALID, field, "is longer than 4096 bytes");
	if (!oauth_printable(value, 1))
		return outbox_fail(h, OUTBOX_EINVALID, field,
				   "has a line break or a character outside printable ASCII");
	return 0;
}
