/* oauth_login.c: `server login` and `server logout` as library calls: run the grant the user or
 * the provider's preset chose, store the tokens (oauth_token.c), revoke and forget them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handle_internal.h"
#include "oauth.h"
#include "oauth_loopback.h"
#include "oauth_preset.h"
#include "oauth_token.h"
#include "secret.h"
#include "server_internal.h"

/* How long the browser sign-in waits for the redirect: as long as a person may take. */
#define OAUTH_LOGIN_BROWSER_WAIT_MS (5L * 60 * 1000)

static const char *login_field(const outbox_server *s, outbox_server_field_id id)
{
	return s->rec.val[id];
}

static int login_load(outbox *h, const char *name, outbox_server **s)
{
	int rc;

	if ((rc = outbox_server_load(h, name, s)) < 0)
		return rc;
	if (strcmp(login_field(*s, OUTBOX_SERVER_OAUTH), "none") == 0) {
		outbox_server_free(*s);
		*s = NULL;
		return outbox_fail(h, OUTBOX_EINVALID, "oauth",
				   "server \"%s\" does not sign in with OAuth 2.0: add --oauth with "
				   "'outbox server edit %s'", name, name);
	}
	return 0;
}

/* The grant to run: the one asked for if the server has its endpoint, else the preset's
 * preferred one, else whichever endpoint the server has. */
static int login_pick(outbox *h, const outbox_server *s, outbox_signin_grant asked, outbox_signin_grant *out)
{
	const struct oauth_preset *p = oauth_preset_find(login_field(s, OUTBOX_SERVER_OAUTH));
	int device = *login_field(s, OUTBOX_SERVER_OAUTH_DEVICE_URL) != '\0';
	int browser = *login_field(s, OUTBOX_SERVER_OAUTH_AUTHORIZE_URL) != '\0';

	if (asked == OUTBOX_SIGNIN_PREFERRED)
		asked = p && p->preferred == OAUTH_GRANT_BROWSER && browser ? OUTBOX_SIGNIN_BROWSER
			: device ? OUTBOX_SIGNIN_DEVICE : OUTBOX_SIGNIN_BROWSER;
	if (asked == OUTBOX_SIGNIN_DEVICE && !device)
		return outbox_fail(h, OUTBOX_EINVALID, "oauth-device-url",
				   "server \"%s\" has no device sign-in endpoint: use --browser, or set "
				   "--oauth-device-url", login_field(s, OUTBOX_SERVER_NAME));
	if (asked == OUTBOX_SIGNIN_BROWSER && !browser)
		return outbox_fail(h, OUTBOX_EINVALID, "oauth-authorize-url",
				   "server \"%s\" has no browser sign-in endpoint: use --device, or set "
				   "--oauth-authorize-url", login_field(s, OUTBOX_SERVER_NAME));
	*out = asked;
	return 0;
}

struct login_wait {
	const outbox_signin_events *ev;
	long long left; /* the seconds left at the last report */
};

static int login_progress(void *ctx, long long left)
{
	struct login_wait *w = ctx;

	w->left = left;
	return w->ev && w->ev->progress ? w->ev->progress(w->ev->ctx, left) : 0;
}

/* The device grant's wait between polls, a second at a time with a report after each: Esc or
 * Ctrl-C is heard within a second, however long the provider asked to wait (up to a minute
 * after network failures). A signal (a resized terminal too) does not shorten the second: a
 * poll sooner than the interval earns slow_down, 5 s more for good. */
static void login_sleep(void *ctx, int seconds)
{
	struct login_wait *w = ctx;
	long long left = w->left;

	for (int i = 0; i < seconds; i++) {
		struct timespec one = {1, 0};
		if (i > 0 && login_progress(w, left - i) != 0)
			return;
		while (nanosleep(&one, &one) != 0 && errno == EINTR)
			;
	}
}

static const char *login_scope(const outbox_server *s)
{
	return login_field(s, OUTBOX_SERVER_OAUTH_SCOPE);
}

static int login_device(outbox *h, const outbox_server *s, const struct oauth_client *c,
			const outbox_signin_events *ev, struct oauth_tokens *out)
{
	struct oauth_device d;
	struct login_wait lw = {ev, 0};
	struct oauth_wait w = {login_progress, NULL, login_sleep, &lw};
	int rc;

	memset(&d, 0, sizeof d);
	if ((rc = oauth_device_start(h, c, login_field(s, OUTBOX_SERVER_OAUTH_DEVICE_URL), login_scope(s), &d)) < 0)
		return rc;
	if (ev && ev->device_code)
		ev->device_code(ev->ctx, d.verification_uri, d.user_code, d.verification_uri_complete);
	rc = oauth_device_wait(h, c, login_field(s, OUTBOX_SERVER_OAUTH_TOKEN_URL), &d, &w, out);
	oauth_device_free(&d);
	return rc;
}

static int login_browser(outbox *h, const outbox_server *s, const struct oauth_client *c,
			 const outbox_signin_events *ev, struct oauth_tokens *out)
{
	struct oauth_loopback lb;
	struct oauth_pkce pk;
	const char *hint[] = {"login_hint", login_field(s, OUTBOX_SERVER_USER), NULL};
	char *url = NULL, *code = NULL;
	struct login_wait lw = {ev, 0};
	struct oauth_wait w = {login_progress, NULL, NULL, &lw};
	int rc;

	if ((rc = oauth_pkce_new(h, &pk)) < 0)
		return rc;
	if ((rc = oauth_loopback_open(h, &lb)) < 0)
		goto out_pkce;
	if ((rc = oauth_code_url(h, login_field(s, OUTBOX_SERVER_OAUTH_AUTHORIZE_URL), c->client_id,
				 lb.redirect_uri, login_scope(s), pk.challenge, pk.state,
				 *hint[1] ? hint : NULL, &url)) < 0)
		goto out;
	if (ev && ev->browser_url)
		ev->browser_url(ev->ctx, url);
	if ((rc = oauth_loopback_wait(h, &lb, pk.state, OAUTH_LOGIN_BROWSER_WAIT_MS, &w, &code)) < 0)
		goto out;
	rc = oauth_code_exchange(h, c, login_field(s, OUTBOX_SERVER_OAUTH_TOKEN_URL), code, pk.verifier,
				 lb.redirect_uri, out);
out:
	secret_wipe(code);
	free(url);
	oauth_loopback_close(&lb);
out_pkce:
	oauth_pkce_clear(&pk);
	return rc;
}

int outbox_server_login(outbox *h, const char *name, outbox_signin_grant grant,
			const outbox_signin_events *ev, long long *expires_at)
{
	outbox_server *s = NULL;
	struct oauth_client c;
	struct oauth_tokens t;
	struct oauth_token_status st;
	int rc;

	memset(&t, 0, sizeof t);
	memset(&c, 0, sizeof c);
	if ((rc = login_load(h, name, &s)) < 0 || (rc = login_pick(h, s, grant, &grant)) < 0 ||
	    (rc = oauth_token_client(h, s, (struct transcript){ev ? ev->transcript : NULL, ev ? ev->ctx : NULL},
				     &c)) < 0)
		goto out;
	rc = grant == OUTBOX_SIGNIN_DEVICE ? login_device(h, s, &c, ev, &t) : login_browser(h, s, &c, ev, &t);
	if (rc < 0)
		goto out;
	/* A cancel that came during the last request (the poll that succeeded, the code exchange)
	 * still stores nothing: the person was told the sign-in ended. */
	if (ev && ev->progress && ev->progress(ev->ctx, 0) != 0) {
		rc = outbox_fail(h, OUTBOX_EAUTH, NULL, "the sign-in was cancelled");
		goto out;
	}
	if (t.refresh_token == NULL) {
		rc = outbox_fail(h, OUTBOX_ECONFIG, "oauth-scope",
				 "the provider gave no refresh token, so the sign-in would end within the "
				 "hour: add the scope that grants one (offline_access for Microsoft)");
		goto out;
	}
	if ((rc = oauth_token_save(h, s, &t, OAUTH_TOKEN_SIGNED_IN)) < 0 || (rc = oauth_token_status(h, s, &st)) < 0)
		goto out;
	if (expires_at)
		*expires_at = st.expires_at;
out:
	oauth_token_client_free(&c);
	oauth_tokens_free(&t);
	outbox_server_free(s);
	return rc;
}

int outbox_server_logout(outbox *h, const char *name, char **warning)
{
	const char *revoke_url;
	outbox_server *s = NULL;
	struct oauth_client c;
	char *refresh = NULL;
	int rc;

	*warning = NULL;
	memset(&c, 0, sizeof c);
	if ((rc = login_load(h, name, &s)) < 0)
		return rc;
	revoke_url = login_field(s, OUTBOX_SERVER_OAUTH_REVOKE_URL);
	/* Revoking the refresh token ends the whole grant at providers that offer revocation; not
	 * reaching one must not keep the tokens here. */
	if (*revoke_url && oauth_token_refresh_token(h, s, &refresh) == 0 &&
	    oauth_token_client(h, s, (struct transcript){NULL, NULL}, &c) == 0 &&
	    oauth_revoke(h, &c, revoke_url, refresh, "refresh_token") < 0)
		*warning = strdup(outbox_errmsg(h));
	outbox_clear_error(h);
	oauth_token_client_free(&c);
	secret_wipe(refresh);
	rc = oauth_token_forget(h, s);
	outbox_server_free(s);
	return rc;
}
