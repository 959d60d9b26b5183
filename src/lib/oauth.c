/* oauth.c: the requests of the authorization code grant, refresh and revocation, each one form POST
 * to the provider through http.c, its answer judged by oauth_json.c. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "handle_internal.h"
#include "http.h"
#include "oauth.h"

static void oauth_wipe_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void oauth_tokens_free(struct oauth_tokens *t)
{
	oauth_wipe_free(t->access_token);
	oauth_wipe_free(t->refresh_token);
	oauth_wipe_free(t->scope);
	memset(t, 0, sizeof *t);
}

void oauth_device_free(struct oauth_device *d)
{
	oauth_wipe_free(d->device_code);
	oauth_wipe_free(d->user_code);
	oauth_wipe_free(d->verification_uri);
	oauth_wipe_free(d->verification_uri_complete);
	memset(d, 0, sizeof *d);
}

int oauth_code_url(outbox *h, const char *authorize_url, const char *client_id,
		   const char *redirect_uri, const char *scope, const char *challenge,
		   const char *state, const char *const *extra, char **url)
{
	const char *const params[] = {"response_type", "code", "client_id", client_id,
				      "redirect_uri", redirect_uri, "scope", scope,
				      "code_challenge", challenge, "code_challenge_method", "S256",
				      "state", state, NULL};
	struct buf b = BUF_INIT;
	size_t i;
	int rc;

	*url = NULL;
	if ((rc = http_url_check(h, "oauth-authorize-url", authorize_url)) < 0)
		return rc;
	/* An endpoint that has a query already (a tenant, a policy) keeps it. */
	if (buf_puts(&b, authorize_url) < 0 || buf_puts(&b, strchr(authorize_url, '?') ? "&" : "?") < 0)
		goto nomem;
	for (i = 0; params[i] != NULL; i += 2) {
		if ((i && buf_puts(&b, "&") < 0) || buf_puts(&b, params[i]) < 0 || buf_puts(&b, "=") < 0)
			goto nomem;
		if ((rc = http_escape(h, &b, params[i + 1] ? params[i + 1] : "")) < 0)
			goto fail;
	}
	for (i = 0; extra != NULL && extra[i] != NULL && extra[i + 1] != NULL; i += 2) {
		if (buf_puts(&b, "&") < 0 || (rc = http_escape(h, &b, extra[i])) < 0 ||
		    buf_puts(&b, "=") < 0 || (rc = http_escape(h, &b, extra[i + 1])) < 0)
			goto fail;
	}
	*url = buf_detach(&b);
	return 0;
nomem:
	rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
fail:
	buf_free(&b);
	return rc < 0 ? rc : OUTBOX_ENOMEM;
}

int oauth_post(outbox *h, const struct oauth_client *c, const char *url,
		      const char *const *form, struct http_response *resp)
{
	struct http_request req = {.url = url, .form = form, .ca_file = c->ca_file,
				   .timeout_ms = c->timeout_ms, .verbose = c->verbose,
				   .ca_option = OAUTH_CA_OPTION};

	return http_perform(h, &req, resp);
}

/* client_secret_post: both providers accept it, and it keeps the form the one place a secret goes. */
size_t oauth_client_fields(const struct oauth_client *c, const char **form, size_t n)
{
	form[n++] = "client_id";
	form[n++] = c->client_id;
	if (c->client_secret != NULL && *c->client_secret != '\0') {
		form[n++] = "client_secret";
		form[n++] = c->client_secret;
	}
	form[n] = NULL;
	return n;
}

int oauth_token_request(outbox *h, const struct oauth_client *c, const char *url,
			       const char **form, struct oauth_tokens *out)
{
	struct http_response resp;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = oauth_post(h, c, url, form, &resp)) < 0)
		return rc;
	rc = oauth_token_parse(h, resp.status, resp.body.data, resp.body.len, out);
	http_response_free(&resp);
	return rc;
}

int oauth_code_exchange(outbox *h, const struct oauth_client *c, const char *token_url,
			const char *code, const char *verifier, const char *redirect_uri,
			struct oauth_tokens *out)
{
	const char *form[16] = {"grant_type", "authorization_code", "code", code,
				"code_verifier", verifier, "redirect_uri", redirect_uri};
	int rc;

	oauth_client_fields(c, form, 8);
	rc = oauth_token_request(h, c, token_url, form, out);
	/* Pending or slow_down belong to the device grant; here they are a broken answer. */
	if (rc > 0) {
		oauth_tokens_free(out);
		return outbox_fail(h, OUTBOX_EPROTOCOL, NULL,
				   "the provider answered the code exchange as if it were a device sign-in");
	}
	return rc;
}

int oauth_refresh(outbox *h, const struct oauth_client *c, const char *token_url,
		  const char *refresh_token, const char *scope, struct oauth_tokens *out)
{
	const char *form[16] = {"grant_type", "refresh_token", "refresh_token", refresh_token};
	size_t n = 4;
	int rc;

	if (scope != NULL && *scope != '\0') {
		form[n++] = "scope";
		form[n++] = scope;
	}
	oauth_client_fields(c, form, n);
	rc = oauth_token_request(h, c, token_url, form, out);
	if (rc > 0) {
		oauth_tokens_free(out);
		return outbox_fail(h, OUTBOX_EPROTOCOL, NULL,
				   "the provider answered the refresh as if it were a device sign-in");
	}
	if (rc < 0)
		return rc;
	/* RFC 6749 section 6: without a new refresh token, the old one stays good. */
	out->refresh_rotated = out->refresh_token != NULL && strcmp(out->refresh_token, refresh_token) != 0;
	if (out->refresh_token == NULL && (out->refresh_token = strdup(refresh_token)) == NULL) {
		oauth_tokens_free(out);
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	return 0;
}

int oauth_revoke(outbox *h, const struct oauth_client *c, const char *revoke_url,
		 const char *token, const char *hint)
{
	const char *form[12] = {"token", token};
	struct http_response resp;
	size_t n = 2;
	int rc;

	if (hint != NULL) {
		form[n++] = "token_type_hint";
		form[n++] = hint;
	}
	oauth_client_fields(c, form, n);
	if ((rc = oauth_post(h, c, revoke_url, form, &resp)) < 0)
		return rc;
	rc = oauth_answer_judge(h, resp.status, resp.body.data, resp.body.len);
	http_response_free(&resp);
	return rc;
}
