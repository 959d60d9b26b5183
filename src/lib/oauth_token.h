/* oauth_token.h: a server's OAuth tokens kept like passwords (keyring, else a 0600 file), and the
 * one way a sender gets a valid access token: the stored one, or a refresh under a lock. */
#ifndef OUTBOX_OAUTH_TOKEN_H
#define OUTBOX_OAUTH_TOKEN_H

#include "oauth.h"
#include "server_internal.h"

/* A token this close to its expiry is refreshed first: a message must not outlive its login. */
#define OAUTH_TOKEN_MARGIN 60

/* The longest user name a sign-in records (the server's --user is at most this long). */
#define OAUTH_TOKEN_USER_MAX 320

/* What is known about a server's sign-in without reading a secret. */
struct oauth_token_status {
	int signed_in;
	long long expires_at;  /* the access token's end, seconds since the epoch */
	int refresh_possible;  /* a refresh token is stored */
	char user[OAUTH_TOKEN_USER_MAX + 1]; /* the --user signed in as; "" if the sign-in did not say */
};

/* Where tokens to save come from: a sign-in records the server's --user as whom it was for; a
 * refresh keeps what the sign-in recorded. */
enum oauth_token_origin { OAUTH_TOKEN_SIGNED_IN, OAUTH_TOKEN_REFRESHED };

/* The client the server's settings describe, its secret (if any) looked up; free with
 * oauth_token_client_free. */
int oauth_token_client(outbox *h, const outbox_server *s, struct transcript verbose,
		       struct oauth_client *c);
void oauth_token_client_free(struct oauth_client *c);

/* Store what a sign-in or a refresh returned: the refresh token first (so a rotated one is never
 * lost), then the access token with its expiry. */
int oauth_token_save(outbox *h, const outbox_server *s, const struct oauth_tokens *t,
		     enum oauth_token_origin origin);
/* The stored refresh token (*out, to wipe and free), or OUTBOX_EAUTH when not signed in. */
int oauth_token_refresh_token(outbox *h, const outbox_server *s, char **out);
int oauth_token_status(outbox *h, const outbox_server *s, struct oauth_token_status *st);
/* Delete the stored tokens; what is not there is not an error. */
int oauth_token_forget(outbox *h, const outbox_server *s);

/* A valid access token for sending (*token, to wipe and free): the stored one while it has at
 * least OAUTH_TOKEN_MARGIN seconds left, else a refresh. Not signed in or a refused refresh is
 * OUTBOX_EAUTH with the words "sign in again: outbox server login NAME"; a provider out of reach
 * is OUTBOX_ETEMPFAIL. force: refresh even though the stored one looks valid (the server refused
 * it), unless another process already replaced it. *refreshed (may be NULL) is 1 when this call
 * got the token from the provider just now: refused all the same, another refresh would not help.
 * verbose: where a refresh's HTTP exchange is shown (`-v`), secrets hidden; fn NULL for nowhere. */
int oauth_token_access(outbox *h, const outbox_server *s, int force, struct transcript verbose, char **token,
		       int *refreshed);

/* Whether a login that ended with `failure` earns one forced refresh and one more login, for
 * `send` and `server check` alike: an OAuth server refused its cached token (the provider may
 * have ended it alone), not a token fetched for this very login (`refreshed`). */
int oauth_token_retry_refused(const outbox_server *s, int failure, int refreshed);

#endif
