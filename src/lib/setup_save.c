/* setup_save.c: what `outbox setup` keeps of a discovery: the chosen server as a server record named
 * after the domain and an account for the address using it, saved in one transaction or not at all,
 * journalled in it so `outbox undo` can take the setup back. */
#include <stdio.h>
#include <string.h>

#include "account_internal.h"
#include "handle_internal.h"
#include "outbox/account.h"
#include "outbox/server.h"
#include "outbox/setup.h"
#include "server_internal.h"
#include "setup_result.h"
#include "setup_undo.h"

/* The user name stored on candidate `k` (an index into the run's candidates): the one that
 * logged in to it, else its source's, else the address. */
static const char *save_user(const struct setup_discovery *d, size_t k, const char *address)
{
	const struct setup_candidate *c = &d->candidates.v[k];

	if (d->login_checked && d->login.candidate == (long)k)
		return d->login.user;
	return c->username[0] ? c->username : address;
}

/* The server's fields from candidate `k`, in the order the form shows them. A candidate that
 * was not probed fine has no method: auth is left for the user to choose. */
static int save_server_fields(outbox *h, outbox_server *s, const outbox_setup_result *r, size_t k,
			      const outbox_setup_save_options *o, const char *name)
{
	const struct setup_discovery *d = setup_result_run(r);
	const struct setup_candidate *c = &d->candidates.v[k];
	const char *auth = d->choice.v[k].auth;
	char port[8], description[256], why[600];
	int rc;

	snprintf(port, sizeof port, "%d", c->port);
	snprintf(description, sizeof description, "%s", c->display_name[0] ? c->display_name : r->domain);
	if ((rc = outbox_server_set(h, s, OUTBOX_SERVER_NAME, name)) < 0 ||
	    (rc = outbox_server_set(h, s, OUTBOX_SERVER_DESCRIPTION, description)) < 0 ||
	    (rc = outbox_server_set(h, s, OUTBOX_SERVER_HOST, c->host)) < 0 ||
	    (rc = outbox_server_set(h, s, OUTBOX_SERVER_SECURITY, setup_probe_security_word(c->security))) < 0 ||
	    (rc = outbox_server_set(h, s, OUTBOX_SERVER_PORT, port)) < 0 ||
	    (auth[0] && (rc = outbox_server_set(h, s, OUTBOX_SERVER_AUTH, auth)) < 0))
		return rc;
	if (strcmp(auth, "none") != 0 &&
	    (rc = outbox_server_set(h, s, OUTBOX_SERVER_USER, save_user(d, k, r->address))) < 0)
		return rc;
	if (o->tls_ca && (rc = outbox_server_set(h, s, OUTBOX_SERVER_TLS_CA, o->tls_ca)) < 0)
		return rc;
	if (o->oauth_client_id) {
		const char *preset = setup_choose_oauth_preset(c, why, sizeof why);

		if (preset == NULL)
			return outbox_fail(h, OUTBOX_EUNAVAILABLE, "oauth-client-id", "%s", why);
		if ((rc = outbox_server_set(h, s, OUTBOX_SERVER_OAUTH, preset)) < 0 ||
		    (rc = outbox_server_set(h, s, OUTBOX_SERVER_OAUTH_CLIENT_ID, o->oauth_client_id)) < 0)
			return rc;
	} else if (o->password_command) {
		rc = outbox_server_set(h, s, OUTBOX_SERVER_PASSWORD_COMMAND, o->password_command);
	} else if (o->password) {
		rc = outbox_server_set_password(h, s, o->password);
	}
	return rc;
}

/* The account names the server that is saved with it: it cannot exist yet, so the field is put
 * without outbox_account_set's check; the save checks it in the one transaction. */
static int save_account_server(outbox *h, outbox_account *a, const char *name)
{
	if (record_put(&a->rec, OUTBOX_ACCOUNT_SERVER, name) < 0)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	return 0;
}

int outbox_setup_check_input(outbox *h, const char *address, const char *full_name)
{
	outbox_account *a = outbox_account_new();
	int rc;

	if (a == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	/* The account's own checks, field by field, as the save will make them. */
	rc = outbox_account_set(h, a, OUTBOX_ACCOUNT_ADDRESS, address ? address : "");
	if (rc == 0 && full_name && *full_name)
		rc = outbox_account_set(h, a, OUTBOX_ACCOUNT_NAME, full_name);
	outbox_account_free(a);
	a = NULL;
	if (rc < 0)
		return rc;
	rc = outbox_account_load(h, address, &a);
	if (rc == OUTBOX_ENOTFOUND) {
		outbox_clear_error(h);
		return 0;
	}
	if (rc == 0)
		rc = outbox_fail(h, OUTBOX_EEXISTS, "address",
				 "an account for %s already exists: remove it first (outbox account remove %s), or "
				 "find its server's settings again (outbox server edit %s --auto)",
				 outbox_account_get(a, OUTBOX_ACCOUNT_ADDRESS), outbox_account_get(a, OUTBOX_ACCOUNT_ADDRESS),
				 outbox_account_get(a, OUTBOX_ACCOUNT_SERVER));
	outbox_account_free(a);
	return rc;
}

/* What the save would refuse, checked on the drafts so that --dry-run refuses it too: the
 * account's address, then the server (its fields, a server already sending through the same
 * host, port and user). The save's transaction checks both again, against a concurrent change. */
static int save_check(outbox *h, const outbox_server *s, const outbox_account *a)
{
	int rc;

	if ((rc = outbox_setup_check_input(h, outbox_account_get(a, OUTBOX_ACCOUNT_ADDRESS), NULL)) < 0)
		return rc;
	return outbox_server_validate(h, s);
}

int outbox_setup_drafts_for(outbox *h, const outbox_setup_result *r, size_t candidate,
			    const outbox_setup_save_options *o, outbox_server **server, outbox_account **account)
{
	static const outbox_setup_save_options none;
	const struct setup_discovery *d;
	char name[300];
	size_t k;
	int rc;

	*server = NULL;
	*account = NULL;
	if (o == NULL)
		o = &none;
	if (r == NULL || candidate >= r->ncandidates)
		return outbox_fail(h, OUTBOX_EUNAVAILABLE, NULL, "no such server was found: nothing to save");
	d = setup_result_run(r);
	k = d->choice.order[candidate]; /* the public list is in the choice's order */
	if ((*server = outbox_server_new()) == NULL || (*account = outbox_account_new()) == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	if ((rc = server_free_name(h, r->domain, name, sizeof name)) < 0 ||
	    (rc = save_server_fields(h, *server, r, k, o, name)) < 0 ||
	    (rc = outbox_account_set(h, *account, OUTBOX_ACCOUNT_ADDRESS, r->address)) < 0 ||
	    (o->full_name && o->full_name[0] &&
	     (rc = outbox_account_set(h, *account, OUTBOX_ACCOUNT_NAME, o->full_name)) < 0) ||
	    (rc = save_account_server(h, *account, name)) < 0)
		return rc;
	if (!d->choice.v[k].usable)
		return outbox_fail(h, OUTBOX_EUNAVAILABLE, NULL, "%s port %d cannot be used: %s", d->candidates.v[k].host,
				   d->candidates.v[k].port, d->choice.v[k].why);
	return save_check(h, *server, *account);
}

int outbox_setup_drafts(outbox *h, const outbox_setup_result *r, const outbox_setup_save_options *o,
			outbox_server **server, outbox_account **account)
{
	int rc;

	*server = NULL;
	*account = NULL;
	if (r == NULL || r->chosen < 0)
		return outbox_fail(h, OUTBOX_EUNAVAILABLE, NULL, "no server was chosen: nothing to save");
	if ((rc = outbox_setup_drafts_for(h, r, (size_t)r->chosen, o, server, account)) < 0) {
		outbox_server_free(*server);
		outbox_account_free(*account);
		*server = NULL;
		*account = NULL;
	}
	return rc;
}

struct save_pair {
	outbox_server *server;
	outbox_account *account;
};

/* Runs inside the server's save transaction: the account and the undo journal's entry commit
 * with it, or none does. */
static int save_account_too(outbox *h, void *ctx)
{
	struct save_pair *p = ctx;
	int rc;

	if ((rc = account_write_checked(h, p->account)) < 0)
		return rc;
	return setup_undo_journal(h, p->account->id, p->server->id,
				  outbox_account_get(p->account, OUTBOX_ACCOUNT_ADDRESS));
}

int outbox_setup_save(outbox *h, const outbox_setup_result *r, const outbox_setup_save_options *o,
		      char *server_name, size_t size)
{
	outbox_server *s;
	outbox_account *a;
	struct save_pair pair;
	int rc;

	if (size)
		server_name[0] = '\0';
	if ((rc = outbox_setup_drafts(h, r, o, &s, &a)) < 0)
		return rc;
	pair.server = s;
	pair.account = a;
	rc = server_save_with(h, s, save_account_too, &pair);
	if (rc == 0 && size)
		snprintf(server_name, size, "%s", outbox_server_get(s, OUTBOX_SERVER_NAME));
	outbox_server_free(s);
	outbox_account_free(a);
	return rc;
}
