/* oauth_device.c: the device authorization grant (RFC 8628): ask for a code the user types on
 * another device, then poll the token endpoint at the provider's pace until they answer. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "handle_internal.h"
#include "http.h"
#include "oauth.h"

int oauth_device_start(outbox *h, const struct oauth_client *c, const char *device_url,
		       const char *scope, struct oauth_device *out)
{
	const char *form[8] = {"scope", scope};
	struct http_response resp;
	int rc;

	memset(out, 0, sizeof *out);
	/* The device request carries no secret on Google's and Microsoft's: a public client. */
	oauth_client_fields(c, form, 2);
	if ((rc = oauth_post(h, c, device_url, form, &resp)) < 0)
		return rc;
	rc = oauth_device_parse(h, resp.status, resp.body.data, resp.body.len, out);
	http_response_free(&resp);
	return rc;
}

int oauth_device_poll_once(outbox *h, const struct oauth_client *c, const char *token_url,
			   const struct oauth_device *d, struct oauth_tokens *out)
{
	const char *form[10] = {"grant_type", "urn:ietf:params:oauth:grant-type:device_code",
				"device_code", d->device_code};

	oauth_client_fields(c, form, 4);
	return oauth_token_request(h, c, token_url, form, out);
}

static long long device_now(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec;
}

static void device_sleep(void *ctx, int seconds)
{
	struct timespec ts = {seconds, 0};

	(void)ctx;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int oauth_device_wait(outbox *h, const struct oauth_client *c, const char *token_url,
		      struct oauth_device *d, const struct oauth_wait *w, struct oauth_tokens *out)
{
	long long (*now)(void *) = w && w->now ? w->now : device_now;
	void (*pause)(void *, int) = w && w->sleep ? w->sleep : device_sleep;
	void *ctx = w ? w->ctx : NULL;
	long long deadline = now(ctx) + d->expires_in, left;
	int interval = d->interval > 0 ? d->interval : 5, rc;

	memset(out, 0, sizeof *out);
	for (;;) {
		left = deadline - now(ctx);
		if (left <= 0)
			return outbox_fail(h, OUTBOX_EAUTH, NULL,
					   "the sign-in code expired after %lld seconds before it was "
					   "confirmed; start the sign-in again", d->expires_in);
		if (w && w->progress && w->progress(w->ctx, left) != 0)
			return outbox_fail(h, OUTBOX_EAUTH, NULL, "the sign-in was cancelled");
		/* The first poll waits too: the user cannot have answered yet. */
		pause(ctx, (long long)interval < left ? interval : (int)left);
		if (now(ctx) >= deadline)
			continue;
		/* Asked again after the wait: a poll after a cancel could sign in the user who
		 * cancelled, if they had approved the code meanwhile. */
		if (w && w->progress && w->progress(w->ctx, deadline - now(ctx)) != 0)
			return outbox_fail(h, OUTBOX_EAUTH, NULL, "the sign-in was cancelled");
		rc = oauth_device_poll_once(h, c, token_url, d, out);
		if (rc == OAUTH_SLOW_DOWN)
			interval += 5; /* RFC 8628 section 3.5: for this and every later poll */
		else if (rc == OUTBOX_ETEMPFAIL)
			interval = interval < 60 ? interval * 2 : interval; /* a blip: poll less */
		else if (rc != OAUTH_PENDING)
			return rc;
	}
}
