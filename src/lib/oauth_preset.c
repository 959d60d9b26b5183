/* oauth_preset.c: the OAuth 2.0 providers outbox knows, as a table. Each value is the provider's
 * published one; no client ID ships here: every user registers an application of their own. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "oauth_preset.h"

static const struct oauth_preset presets[] = {
	/* Microsoft 365 (Exchange Online): SMTP AUTH submission with XOAUTH2, the Outlook resource's
	 * SMTP.Send scope (offline_access for a refresh token), the identity platform's v2.0
	 * endpoints under a tenant. The identity platform has no token revocation endpoint, so
	 * signing out can only forget the tokens. */
	{"microsoft", "smtp.office365.com", "587", "starttls", "xoauth2",
	 "https://outlook.office.com/SMTP.Send offline_access", "common",
	 "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/devicecode",
	 "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
	 "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token", NULL,
	 OAUTH_GRANT_DEVICE | OAUTH_GRANT_BROWSER, OAUTH_GRANT_DEVICE},
	/* Google (Gmail, Workspace): implicit TLS on 465, XOAUTH2, the full-mail scope. Google's
	 * device endpoint exists, but its device grant refuses the mail scope: browser only. */
	{"google", "smtp.gmail.com", "465", "tls", "xoauth2", "https://mail.google.com/", NULL,
	 "https://oauth2.googleapis.com/device/code", "https://accounts.google.com/o/oauth2/v2/auth",
	 "https://oauth2.googleapis.com/token", "https://oauth2.googleapis.com/revoke",
	 OAUTH_GRANT_BROWSER, OAUTH_GRANT_BROWSER},
	/* Any other provider: every endpoint and the scope by option; the grant follows from which
	 * endpoints are given. */
	{"custom", NULL, NULL, NULL, "xoauth2", NULL, NULL, NULL, NULL, NULL, NULL,
	 OAUTH_GRANT_DEVICE | OAUTH_GRANT_BROWSER, OAUTH_GRANT_DEVICE},
};

const struct oauth_preset *oauth_preset_find(const char *name)
{
	size_t i;

	for (i = 0; name && i < sizeof presets / sizeof presets[0]; i++)
		if (strcmp(presets[i].name, name) == 0)
			return &presets[i];
	return NULL;
}

const struct oauth_preset *oauth_preset_for_host(const char *host)
{
	size_t i, n;

	for (i = 0; host && *host && i < sizeof presets / sizeof presets[0]; i++) {
		const char *url = presets[i].authorize_url, *start;

		if (url == NULL || (start = strstr(url, "://")) == NULL)
			continue;
		start += 3;
		n = strcspn(start, ":/");
		if (strlen(host) == n && strncasecmp(start, host, n) == 0)
			return &presets[i];
	}
	return NULL;
}

int oauth_preset_url(const char *url_template, const char *tenant, char *out, size_t size)
{
	const char *mark = url_template ? strstr(url_template, "{tenant}") : NULL;
	int n;

	if (url_template == NULL)
		n = snprintf(out, size, "%s", "");
	else if (mark == NULL)
		n = snprintf(out, size, "%s", url_template);
	else
		n = snprintf(out, size, "%.*s%s%s", (int)(mark - url_template), url_template,
			     tenant ? tenant : "", mark + strlen("{tenant}"));
	return n < 0 || (size_t)n >= size ? -1 : 0;
}
