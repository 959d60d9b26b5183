/* oauth_signin.c: a server's OAuth sign-in as the user sees it (whom it is for, until when the
 * access token lasts, whether it can be renewed), one reading and one set of words for `server
 * show`, `server check` and the TUI, so that they never disagree. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth_advice.h"
#include "handle_internal.h"
#include "oauth_token.h"
#include "server_internal.h"

_Static_assert(sizeof(((outbox_signin *)0)->user) == OAUTH_TOKEN_USER_MAX + 1,
	       "the public user name holds what the token state records");

int outbox_server_signin(outbox *h, const outbox_server *s, outbox_signin *out)
{
	struct oauth_token_status st;
	int rc;

	memset(out, 0, sizeof *out);
	if (s->secret_id[0] == '\0' || strcmp(s->rec.val[OUTBOX_SERVER_OAUTH], "none") == 0)
		return 0;
	if ((rc = oauth_token_status(h, s, &st)) < 0 || !st.signed_in)
		return rc;
	out->signed_in = 1;
	snprintf(out->user, sizeof out->user, "%s", st.user);
	/* Providers take user names in any case: only another name is another user. */
	out->user_changed = st.user[0] && strcasecmp(st.user, s->rec.val[OUTBOX_SERVER_USER]) != 0;
	if (out->user_changed)
		snprintf(out->user_now, sizeof out->user_now, "%s", s->rec.val[OUTBOX_SERVER_USER]);
	out->expires_at = st.expires_at;
	out->expired = st.expires_at <= (long long)time(NULL);
	out->refresh_possible = st.refresh_possible;
	out->usable = !out->user_changed && (!out->expired || out->refresh_possible);
	return 0;
}

/* "2026-12-03 18:40:00 CET", this machine's local time. */
static void signin_local_time(long long at, char *out, size_t size)
{
	time_t t = (time_t)at;
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL || strftime(out, size, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		snprintf(out, size, "%lld", at);
}

void outbox_signin_words(const outbox_signin *in, char *out, size_t size)
{
	char until[64];

	if (!in->signed_in) {
		snprintf(out, size, "not signed in");
		return;
	}
	signin_local_time(in->expires_at, until, sizeof until);
	snprintf(out, size, "signed in%s%s%s%s%s; access token %s %s; %s", in->user[0] ? " as " : "", in->user,
		 in->user_changed ? ", but the server now logs in as " : "", in->user_now,
		 in->user_changed ? " (user name changed)" : "", in->expired ? "expired at" : "valid until", until,
		 in->refresh_possible ? "refresh possible" : "no refresh token to renew it");
}

void outbox_signin_advice(const outbox_signin *in, const char *name, char *out, size_t size)
{
	if (in->usable)
		snprintf(out, size, "%s", "");
	else if (!in->signed_in)
		snprintf(out, size, AUTH_ADVICE_SIGN_IN_AGAIN "%s", name);
	else if (in->user_changed)
		snprintf(out, size, "the tokens are %s's, not %s's: " AUTH_ADVICE_SIGN_IN_AGAIN "%s", in->user,
			 in->user_now, name);
	else
		snprintf(out, size, "the access token has expired and cannot be renewed: " AUTH_ADVICE_SIGN_IN_AGAIN
			 "%s", name);
}
