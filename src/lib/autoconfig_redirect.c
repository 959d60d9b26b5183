/* autoconfig_redirect.c: where a redirect answered to one of setup's HTTPS lookups leads, and
 * whether it may be followed: https:// only, a few hops, no loop. Requests stay with autoconfig_fetch.c. */
#include <stdio.h>
#include <string.h>

#include "autoconfig_redirect.h"
#include "buf.h"
#include "handle_internal.h"
#include "validate.h"

int autoconfig_redirect_start(outbox *h, struct autoconfig_hops *hops, const char *url)
{
	hops->n = 0;
	if (strlen(url) >= sizeof hops->url[0])
		return outbox_fail(h, OUTBOX_EINVALID, "url", "longer than %zu bytes", sizeof hops->url[0] - 1);
	snprintf(hops->url[0], sizeof hops->url[0], "%s", url);
	hops->n = 1;
	return 0;
}

int autoconfig_redirect_status(long status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

static int redirect_is_https(const char *url)
{
	return strncmp(url, "https://", 8) == 0;
}

/* Whether `next`, resolved, may be asked after the URLs in `hops`; 0 or OUTBOX_EPROTOCOL. */
static int redirect_judge(outbox *h, const struct autoconfig_hops *hops, long status, const char *next,
			  const char *shown)
{
	outbox scratch = {0};
	size_t i;
	int rc;

	if (strlen(next) >= sizeof hops->url[0])
		return outbox_fail(h, OUTBOX_EPROTOCOL, NULL, "HTTP %ld to a URL longer than %zu bytes: refused",
				   status, sizeof hops->url[0] - 1);
	/* Plain http:// only ever after a plain loopback URL given by the user (--ispdb): a
	 * provider's https:// answer never leads to one, not even on this machine. */
	if (!redirect_is_https(next) && redirect_is_https(hops->url[0]))
		return outbox_fail(h, OUTBOX_EPROTOCOL, NULL,
				   "HTTP %ld to %s: refused, a redirect from https:// must stay on https://",
				   status, shown);
	if ((rc = http_url_check(&scratch, "location", next)) < 0) {
		if (rc == OUTBOX_ENOMEM || rc == OUTBOX_ECONFIG)
			return outbox_fail(h, rc, NULL, "%s", outbox_errdetail(&scratch));
		return outbox_fail(h, OUTBOX_EPROTOCOL, NULL, "HTTP %ld: %s", status, outbox_errdetail(&scratch));
	}
	for (i = 0; i < hops->n; i++)
		if (strcmp(hops->url[i], next) == 0)
			return outbox_fail(h, OUTBOX_EPROTOCOL, NULL,
					   "HTTP %ld to %s, asked before: a redirect loop, refused", status, shown);
	if (hops->n > AUTOCONFIG_MAX_REDIRECTS)
		return outbox_fail(h, OUTBOX_EPROTOCOL, NULL,
				   "HTTP %ld to %s: refused, more than %d redirects", status, shown,
				   AUTOCONFIG_MAX_REDIRECTS);
	return 0;
}

int autoconfig_redirect_next(outbox *h, struct autoconfig_hops *hops, const struct http_response *resp)
{
	struct buf next = BUF_INIT;
	outbox scratch = {0};
	char shown[256];
	int rc;

	if (resp->location_bad)
		return outbox_fail(h, OUTBOX_EPROTOCOL, NULL,
				   "HTTP %ld with a Location that is no URL (too long, or with spaces or "
				   "control characters): refused", resp->status);
	if (resp->location[0] == '\0')
		return outbox_fail(h, OUTBOX_EPROTOCOL, NULL, "HTTP %ld: a redirect without a Location", resp->status);
	if ((rc = http_url_resolve(&scratch, hops->url[hops->n - 1], resp->location, &next)) < 0) {
		if (rc == OUTBOX_ENOMEM || rc == OUTBOX_ECONFIG)
			return outbox_fail(h, rc, NULL, "%s", outbox_errdetail(&scratch));
		return outbox_fail(h, OUTBOX_EPROTOCOL, NULL, "HTTP %ld with a Location that is no URL: %s",
				   resp->status, outbox_errdetail(&scratch));
	}
	validate_display(shown, sizeof shown, next.data, next.len);
	if ((rc = redirect_judge(h, hops, resp->status, next.data, shown)) == 0)
		snprintf(hops->url[hops->n++], sizeof hops->url[0], "%s", next.data);
	buf_free(&next);
	return rc;
}
