/* setup_auto.c: `outbox server edit NAME --auto`: discovery again for a saved server (after a provider
 * moved it), the difference from what is stored, and saving only what changed in one edit. */
#include <stdio.h>
#include <string.h>

#include "deliver_internal.h"
#include "dns_domain.h"
#include "handle_internal.h"
#include "outbox/server.h"
#include "outbox/setup.h"
#include "secret.h"
#include "setup_address.h"

/* The fields discovery decides, in the order they are set: security before port, since setting the
 * security moves a port that was not given; the user name last, as the login check found it. */
static const outbox_server_field_id auto_fields[OUTBOX_SETUP_AUTO_FIELDS] = {
	OUTBOX_SERVER_HOST, OUTBOX_SERVER_SECURITY, OUTBOX_SERVER_PORT, OUTBOX_SERVER_AUTH, OUTBOX_SERVER_USER};

/* 1 when `address`'s domain has the same registered domain as `host` (ann@example.org for
 * smtp.example.org), so its provider is the host's and its lookup may be checked with the host's
 * password. The domain is setup's (setup_address.c): A-labels, as the host's name has them. */
static int auto_address_matches_host(const char *address, const char *host_domain)
{
	outbox scratch = {0}; /* a domain that is none matches nothing */
	char ascii[256], domain[256];

	return host_domain[0] && setup_address_domain(&scratch, "address", address, ascii, sizeof ascii, NULL) == 0 &&
	       dns_domain_registered(ascii, domain, sizeof domain) == 0 && strcmp(domain, host_domain) == 0;
}

int outbox_setup_auto_address(outbox *h, const outbox_server *s, const char **address, const char **from)
{
	const char *user = outbox_server_get(s, OUTBOX_SERVER_USER);
	const char *const *accounts = outbox_server_used_by(s);
	const char *at = strchr(user, '@');
	char host_domain[256];
	size_t i;

	if (at && at != user && at[1] && strchr(at + 1, '@') == NULL) {
		*address = user;
		*from = "its user name";
		return 0;
	}
	/* An account's address is looked up only when it is of the host's own domain: a relay
	 * (relay.company.example) used by ann@other.example would otherwise have other.example's
	 * provider found, and the relay's password tried there. */
	if (dns_domain_registered(outbox_server_get(s, OUTBOX_SERVER_HOST), host_domain, sizeof host_domain) < 0)
		host_domain[0] = '\0';
	for (i = 0; accounts[i]; i++)
		if (auto_address_matches_host(accounts[i], host_domain)) {
			*address = accounts[i];
			*from = "the first account using it in its host's domain";
			return 0;
		}
	*address = *from = NULL;
	if (accounts[0])
		return outbox_fail(h, OUTBOX_EINVALID, "auto",
				   "server \"%s\" has no address for --auto to look up: its user name is not an "
				   "address and no account using it is in the domain of %s, so its password would "
				   "go to another provider; see what setup finds with: outbox setup %s --dry-run",
				   outbox_server_get(s, OUTBOX_SERVER_NAME), outbox_server_get(s, OUTBOX_SERVER_HOST),
				   accounts[0]);
	return outbox_fail(h, OUTBOX_EINVALID, "auto",
			   "server \"%s\" has no address for --auto to look up: its user name is not an address "
			   "and no account uses it; set one with --user ADDRESS", outbox_server_get(s, OUTBOX_SERVER_NAME));
}

int outbox_setup_auto_discover(outbox *h, const outbox_server *s, const char *address,
			       const outbox_setup_options *o, int (*progress)(void *ctx, const char *what),
			       void *ctx, outbox_setup_result **out)
{
	static const struct transcript quiet;
	outbox_setup_options with = *o;
	char *password = NULL;
	int rc;

	*out = NULL;
	with.password = NULL;
	with.password_command = NULL;
	with.oauth_client_id = NULL;
	with.username = NULL;
	if (strcmp(outbox_server_get(s, OUTBOX_SERVER_OAUTH), "none") != 0) {
		/* An OAuth server signs in with a token, not a password: no login check, and the
		 * method must stay an OAuth one. */
		with.oauth_client_id = outbox_server_get(s, OUTBOX_SERVER_OAUTH_CLIENT_ID);
	} else if (strcmp(outbox_server_get(s, OUTBOX_SERVER_AUTH), "none") != 0) {
		if ((rc = deliver_password(h, s, quiet, &password, NULL)) < 0)
			return rc;
		with.password = password;
		/* The user name that works today, whatever the provider's files say. */
		with.username = outbox_server_get(s, OUTBOX_SERVER_USER);
	}
	rc = outbox_setup_discover(h, address, &with, progress, ctx, out);
	secret_wipe(password);
	return rc;
}

/* What discovery found for one of auto_fields: the chosen candidate's value, and for the user
 * name the one that logged in (none checked: the stored one stays). */
static void auto_found_value(const outbox_setup_result *r, const char *stored, outbox_server_field_id id,
			     char *out, size_t size)
{
	const outbox_setup_candidate *c = &r->candidates[r->chosen];

	switch (id) {
	case OUTBOX_SERVER_HOST: snprintf(out, size, "%s", c->host); break;
	case OUTBOX_SERVER_SECURITY: snprintf(out, size, "%s", c->security); break;
	case OUTBOX_SERVER_PORT: snprintf(out, size, "%d", c->port); break;
	case OUTBOX_SERVER_USER:
		snprintf(out, size, "%s", r->login_checked && r->login_user && *r->login_user ? r->login_user : stored);
		break;
	default: snprintf(out, size, "%s", c->auth); break;
	}
}

size_t outbox_setup_auto_changes(const outbox_server *s, const outbox_setup_result *r,
				 outbox_setup_change out[OUTBOX_SETUP_AUTO_FIELDS])
{
	size_t i, n = 0;

	if (r == NULL || r->chosen < 0)
		return 0;
	for (i = 0; i < OUTBOX_SETUP_AUTO_FIELDS; i++) {
		outbox_setup_change *ch = &out[n];

		ch->field = auto_fields[i];
		snprintf(ch->before, sizeof ch->before, "%s", outbox_server_get(s, auto_fields[i]));
		auto_found_value(r, ch->before, auto_fields[i], ch->after, sizeof ch->after);
		/* "auto" already takes the best method the server offers each time it connects:
		 * discovery's pick is no reason to fix it to one. "none" has no user name or password
		 * to log in with (discovery ran without any), so a method the server offers could not
		 * be saved: a server without credentials stays without. */
		if (auto_fields[i] == OUTBOX_SERVER_AUTH &&
		    (strcmp(ch->before, "auto") == 0 || strcmp(ch->before, "none") == 0))
			continue;
		if (strcmp(ch->before, ch->after) != 0)
			n++;
	}
	return n;
}

struct auto_apply {
	const outbox_setup_change *changes;
	size_t n;
};

/* Inside the edit's transaction: a field changed by someone else since the difference was made
 * is a conflict, as for any draft, rather than overwritten. */
static int auto_apply(outbox *h, outbox_server *s, void *ctx)
{
	const struct auto_apply *a = ctx;
	char kept[OUTBOX_SETUP_AUTO_FIELDS][256];
	size_t i, k;
	int rc;

	for (i = 0; i < a->n; i++)
		if (strcmp(outbox_server_get(s, a->changes[i].field), a->changes[i].before) != 0)
			return outbox_fail(h, OUTBOX_ECONFLICT, outbox_server_field_info(a->changes[i].field)->key,
					   "server \"%s\" was changed by another process while discovery ran; "
					   "nothing saved: run it again", outbox_server_get(s, OUTBOX_SERVER_NAME));
	for (k = 0; k < OUTBOX_SETUP_AUTO_FIELDS; k++)
		snprintf(kept[k], sizeof kept[k], "%s", outbox_server_get(s, auto_fields[k]));
	for (i = 0; i < a->n; i++)
		if ((rc = outbox_server_set(h, s, a->changes[i].field, a->changes[i].after)) < 0)
			return rc;
	/* Setting the security moves a default port with it (587 to 465 for tls); a field discovery
	 * found unchanged (a tls server on 587) keeps what it was. */
	for (k = 0; k < OUTBOX_SETUP_AUTO_FIELDS; k++) {
		for (i = 0; i < a->n && a->changes[i].field != auto_fields[k]; i++)
			;
		if (i == a->n && strcmp(outbox_server_get(s, auto_fields[k]), kept[k]) != 0 &&
		    (rc = outbox_server_set(h, s, auto_fields[k], kept[k])) < 0)
			return rc;
	}
	return 0;
}

int outbox_setup_auto_save(outbox *h, const char *name, const outbox_setup_change *changes, size_t n,
			   outbox_server **saved)
{
	struct auto_apply a = {changes, n};

	*saved = NULL;
	return outbox_server_edit(h, name, auto_apply, &a, saved);
}
