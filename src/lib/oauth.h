/* oauth.h: the OAuth 2.0 protocol as pure functions over http.c: PKCE, the device grant (RFC 8628),
 * the authorization code grant's URL and exchange, refresh and revocation (RFC 7009). No storage. */
#ifndef OUTBOX_OAUTH_H
#define OUTBOX_OAUTH_H

#include <stddef.h>

#include "outbox/error.h"
#include "transcript.h"

struct http_response;

/* The server option that sets oauth_client.ca_file, named when a provider's certificate fails. */
#define OAUTH_CA_OPTION "oauth-tls-ca"

/* What every request to a provider carries. client_secret may be NULL (a public client). */
struct oauth_client {
	const char *client_id;
	const char *client_secret;
	const char *ca_file;  /* trust this CA file for the endpoints; NULL: the system's */
	long timeout_ms;      /* each request as a whole */
	struct transcript verbose;
};

/* A token response. Every string is malloc'd and wiped by oauth_tokens_free. */
struct oauth_tokens {
	char *access_token;
	char *refresh_token; /* NULL when the provider sent none (and none was kept) */
	char *scope;         /* NULL when the provider did not say */
	long long expires_in; /* seconds; 0 when the provider did not say */
	int refresh_rotated; /* oauth_refresh: the provider sent a new refresh token */
};

/* Longest expires_in believed: a token said to live longer is refreshed after this anyway. */
#define OAUTH_MAX_EXPIRES_IN (366LL * 24 * 3600)
/* A token or code longer than this is refused: real ones are a few KiB at most. */
#define OAUTH_MAX_TOKEN 16384

void oauth_tokens_free(struct oauth_tokens *t);

/* PKCE (RFC 7636): a verifier of 64 characters from the unreserved set, its S256 challenge, and a
 * random state for the redirect. */
struct oauth_pkce {
	char verifier[65];
	char challenge[44];
	char state[23];
};
int oauth_pkce_new(outbox *h, struct oauth_pkce *p);
/* BASE64URL(SHA-256(verifier)) without padding: 43 characters and a NUL. */
int oauth_pkce_challenge(const char *verifier, char out[44]);
/* Wipes the verifier and the state. */
void oauth_pkce_clear(struct oauth_pkce *p);

/* The authorization URL the browser opens: the endpoint with response_type=code, client_id,
 * redirect_uri, scope, code_challenge (S256) and state added to its query, each value escaped;
 * `extra` is NULL or name, value, ..., NULL (login_hint, prompt). *url is malloc'd. */
int oauth_code_url(outbox *h, const char *authorize_url, const char *client_id,
		   const char *redirect_uri, const char *scope, const char *challenge,
		   const char *state, const char *const *extra, char **url);
int oauth_code_exchange(outbox *h, const struct oauth_client *c, const char *token_url,
			const char *code, const char *verifier, const char *redirect_uri,
			struct oauth_tokens *out);
/* A new access token. out->refresh_token is the provider's new one when it rotated it
 * (refresh_rotated 1), else a copy of `refresh_token`. `scope` may be NULL. */
int oauth_refresh(outbox *h, const struct oauth_client *c, const char *token_url,
		  const char *refresh_token, const char *scope, struct oauth_tokens *out);
/* Revoke `token`; hint is "refresh_token", "access_token" or NULL. */
int oauth_revoke(outbox *h, const struct oauth_client *c, const char *revoke_url,
		 const char *token, const char *hint);

/* For the grant files: the client's own fields appended to a form of `n` entries (client_id, then
 * client_secret when there is one) and the NULL; returns the new count. The form must have room
 * for n + 5 entries. */
size_t oauth_client_fields(const struct oauth_client *c, const char **form, size_t n);
/* POST `form` to `url` for the caller to judge the answer (*resp, to free). */
int oauth_post(outbox *h, const struct oauth_client *c, const char *url, const char *const *form,
	       struct http_response *resp);
/* POST `form` to a token endpoint and judge the answer as tokens. */
int oauth_token_request(outbox *h, const struct oauth_client *c, const char *url, const char **form,
			struct oauth_tokens *out);

/* The device grant. */
struct oauth_device {
	char *device_code;
	char *user_code;
	char *verification_uri;
	char *verification_uri_complete; /* NULL when the provider offers none */
	long long expires_in;
	int interval; /* seconds between polls: 5 when the provider did not say */
};
void oauth_device_free(struct oauth_device *d);
int oauth_device_start(outbox *h, const struct oauth_client *c, const char *device_url,
		       const char *scope, struct oauth_device *out);

/* One poll: 0 with tokens, OAUTH_PENDING while the user has not answered, OAUTH_SLOW_DOWN when
 * asked to poll less often, or a negative code. */
enum { OAUTH_PENDING = 1, OAUTH_SLOW_DOWN = 2 };
int oauth_device_poll_once(outbox *h, const struct oauth_client *c, const char *token_url,
			   const struct oauth_device *d, struct oauth_tokens *out);

/* How oauth_device_wait waits. progress is called before each wait and before each poll with the
 * seconds left until the code expires; returning non-zero cancels (oauth_loopback_wait calls it
 * about once a second). now and sleep default (NULL) to the monotonic
 * clock and nanosleep; tests pass their own so that nothing sleeps. */
struct oauth_wait {
	int (*progress)(void *ctx, long long seconds_left);
	long long (*now)(void *ctx);
	void (*sleep)(void *ctx, int seconds);
	void *ctx;
};
/* Poll at the interval until the user answers: slow_down adds 5 s to the interval, a network
 * failure doubles it (RFC 8628 section 3.5) and polling goes on; access_denied, expired_token and expires_in passing end it with OUTBOX_EAUTH. */
int oauth_device_wait(outbox *h, const struct oauth_client *c, const char *token_url,
		      struct oauth_device *d, const struct oauth_wait *w, struct oauth_tokens *out);

/* The judgement of a token endpoint's answer (oauth_json.c), pure: status and body in, tokens or
 * one line of words and a code out. OAUTH_PENDING / OAUTH_SLOW_DOWN for the device grant's two
 * "keep polling" errors. */
int oauth_token_parse(outbox *h, long status, const char *body, size_t len,
		      struct oauth_tokens *out);
/* The device authorization response. */
int oauth_device_parse(outbox *h, long status, const char *body, size_t len,
		       struct oauth_device *out);
/* Any other answer (revocation): 0 for 2xx, else the OAuth error's words and code. */
int oauth_answer_judge(outbox *h, long status, const char *body, size_t len);

#endif
