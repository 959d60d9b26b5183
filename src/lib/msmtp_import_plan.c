/* msmtp_import_plan.c: what `outbox import msmtprc` would do, decided before anything is written:
 * for each msmtp account, a new server and account, or one the store or the import has already. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "account_internal.h"
#include "handle_internal.h"
#include "msmtp_import.h"
#include "msmtprc.h"
#include "outbox/account.h"
#include "outbox/server.h"

/* Whether two servers send the same way: every field but the name, description and default. */
static int import_same_server(const outbox_server *a, const outbox_server *b)
{
	int i;

	for (i = 0; i < OUTBOX_SERVER_FIELD_COUNT; i++) {
		if (i == OUTBOX_SERVER_NAME || i == OUTBOX_SERVER_DESCRIPTION || i == OUTBOX_SERVER_DEFAULT)
			continue;
		if (strcmp(outbox_server_get(a, (outbox_server_field_id)i), outbox_server_get(b, (outbox_server_field_id)i)) != 0)
			return 0;
	}
	return 1;
}

/* Whether two servers are one for outbox's duplicate check: host, port and user. */
static int import_same_login(const outbox_server *a, const outbox_server *b)
{
	return strcasecmp(outbox_server_get(a, OUTBOX_SERVER_HOST), outbox_server_get(b, OUTBOX_SERVER_HOST)) == 0 &&
	       strcmp(outbox_server_get(a, OUTBOX_SERVER_PORT), outbox_server_get(b, OUTBOX_SERVER_PORT)) == 0 &&
	       strcmp(outbox_server_get(a, OUTBOX_SERVER_USER), outbox_server_get(b, OUTBOX_SERVER_USER)) == 0;
}

static int import_text(struct import_run *run, char **field, const char *text)
{
	char *copy = strdup(text);

	if (copy == NULL)
		return outbox_fail(run->h, OUTBOX_ENOMEM, NULL, "out of memory");
	free(*field);
	*field = copy;
	return 0;
}

/* Which server the msmtp account's mail goes through: a new one, one this import makes already
 * (the same host, port and user), or one the store has. */
static int import_choose_server(struct import_run *run, struct import_entry *e, size_t k)
{
	outbox_server *draft = NULL;
	size_t i;
	int rc;

	if ((rc = msmtp_import_server_draft(run, e, &draft)) < 0) {
		outbox_server_free(draft);
		return rc;
	}
	for (i = 0; i < k; i++) {
		if (run->e[i].server && import_same_login(run->e[i].server, draft)) {
			char why[300];

			/* One server per host, port and user: a second account there that asks for other
			 * settings (certificate checks, another password) cannot share it unnoticed. */
			if (!import_same_server(run->e[i].server, draft)) {
				outbox_server_free(draft);
				return outbox_fail(run->h, OUTBOX_EINVALID, "account",
						   "%s line %d (account %s): the same host, port and user as account %s, "
						   "with other settings; outbox keeps one server for them: make the two "
						   "accounts' settings the same, or remove one",
						   run->path, e->m->line, e->m->name, run->e[i].m->name);
			}
			outbox_server_free(draft);
			e->row->server_outcome = OUTBOX_IMPORT_UNCHANGED;
			snprintf(why, sizeof why, "the same host, port and user as msmtp account %s: its server",
				 run->e[i].m->name);
			if ((rc = import_text(run, &e->row->detail, why)) < 0)
				return rc;
			return import_text(run, &e->row->server, outbox_server_get(run->e[i].server, OUTBOX_SERVER_NAME));
		}
	}
	for (i = 0; i < run->nhave; i++) {
		const outbox_server *have = run->have[i];
		int same_name = strcmp(outbox_server_get(have, OUTBOX_SERVER_NAME),
				       outbox_server_get(draft, OUTBOX_SERVER_NAME)) == 0;

		if (!same_name && !import_same_login(have, draft))
			continue;
		e->row->server_outcome = import_same_server(have, draft) ? OUTBOX_IMPORT_UNCHANGED : OUTBOX_IMPORT_EXISTS;
		rc = import_text(run, &e->row->server, outbox_server_get(have, OUTBOX_SERVER_NAME));
		/* The store's server is kept, its password too: a password in the file is not moved. */
		if (rc == 0)
			rc = import_text(run, &e->row->detail,
					 e->row->server_outcome == OUTBOX_IMPORT_UNCHANGED ? ""
					 : same_name ? "a server of this name exists with other settings: left as it is"
						     : "the store sends through this host, port and user already");
		outbox_server_free(draft);
		return rc;
	}
	/* What no single value shows (a password method without TLS, a key without its certificate)
	 * is refused here, naming the account, so --dry-run refuses it too. */
	if ((rc = outbox_server_validate(run->h, draft)) < 0) {
		char was[600], field[64];

		snprintf(was, sizeof was, "%s", outbox_errdetail(run->h));
		snprintf(field, sizeof field, "%s", outbox_errfield(run->h) ? outbox_errfield(run->h) : "account");
		outbox_server_free(draft);
		return outbox_fail(run->h, rc, field, "%s line %d (account %s): %s", run->path, e->m->line, e->m->name,
				   was);
	}
	e->server = draft;
	e->row->server_outcome = OUTBOX_IMPORT_ADDED;
	return import_text(run, &e->row->server, outbox_server_get(draft, OUTBOX_SERVER_NAME));
}

/* The account for the msmtp account's `from`, through the server chosen. */
static int import_choose_account(struct import_run *run, struct import_entry *e, size_t k)
{
	const struct msmtprc_setting *from = &e->m->set[MSMTPRC_FROM];
	outbox_account *have = NULL, *a;
	size_t i;
	int rc;

	if (from->value == NULL || *from->value == '\0')
		return 0;
	if (strpbrk(from->value, "%*?[")) {
		return msmtp_import_note(run, from->line, MSMTPRC_FROM,
				   "a pattern, not an address: an outbox account is one address (outbox account add)");
	}
	if ((rc = import_text(run, &e->row->address, from->value)) < 0)
		return rc;
	for (i = 0; i < k; i++) {
		if (run->e[i].account && strcasecmp(outbox_account_get(run->e[i].account, OUTBOX_ACCOUNT_ADDRESS),
						    from->value) == 0) {
			e->row->account_outcome = OUTBOX_IMPORT_UNCHANGED;
			return 0;
		}
	}
	rc = outbox_account_load(run->h, from->value, &have);
	if (rc == 0) {
		e->row->account_outcome = strcmp(outbox_account_get(have, OUTBOX_ACCOUNT_SERVER), e->row->server) == 0
						  ? OUTBOX_IMPORT_UNCHANGED
						  : OUTBOX_IMPORT_EXISTS;
		rc = 0;
		if (e->row->account_outcome == OUTBOX_IMPORT_EXISTS) {
			char why[400];

			snprintf(why, sizeof why, "%s%sthe account sends through %s: left as it is", e->row->detail,
				 *e->row->detail ? "; " : "", outbox_account_get(have, OUTBOX_ACCOUNT_SERVER));
			rc = import_text(run, &e->row->detail, why);
		}
		outbox_account_free(have);
		return rc;
	}
	if (rc != OUTBOX_ENOTFOUND)
		return rc;
	outbox_clear_error(run->h);
	if ((a = outbox_account_new()) == NULL)
		return outbox_fail(run->h, OUTBOX_ENOMEM, NULL, "out of memory");
	e->account = a;
	if ((rc = outbox_account_set(run->h, a, OUTBOX_ACCOUNT_ADDRESS, from->value)) < 0)
		return msmtp_import_fail_at(run, rc, from->line, "from");
	/* The server may be one this import makes: the save checks it in the transaction. */
	if (record_put(&a->rec, OUTBOX_ACCOUNT_SERVER, e->row->server) < 0)
		return outbox_fail(run->h, OUTBOX_ENOMEM, NULL, "out of memory");
	if (run->dflt == e->m && !run->store_has_default &&
	    (rc = outbox_account_set(run->h, a, OUTBOX_ACCOUNT_DEFAULT, "true")) < 0)
		return rc;
	e->row->account_outcome = OUTBOX_IMPORT_ADDED;
	return 0;
}

/* `account default : NAME` with nothing of its own only names msmtp's default account. */
static const struct msmtprc_account *import_default(const struct msmtprc *rc, int *alias_only)
{
	const struct msmtprc_account *d = msmtprc_find(rc, "default");

	*alias_only = d && d->parent && d->own_lines == 0;
	if (*alias_only)
		return msmtprc_find(rc, d->parent);
	return d;
}

static int import_plan(struct import_run *run)
{
	int alias_only, rc;
	size_t k;

	run->dflt = import_default(&run->rc, &alias_only);
	run->e = calloc(run->rc.naccounts ? run->rc.naccounts : 1, sizeof *run->e);
	run->r->accounts = calloc(run->rc.naccounts ? run->rc.naccounts : 1, sizeof *run->r->accounts);
	if (run->e == NULL || run->r->accounts == NULL)
		return outbox_fail(run->h, OUTBOX_ENOMEM, NULL, "out of memory");
	for (k = 0; k < run->rc.naccounts; k++) {
		struct import_entry *e = &run->e[run->n];
		const struct msmtprc_account *m = &run->rc.accounts[k];

		e->m = m;
		e->row = &run->r->accounts[run->r->naccounts++];
		run->n++;
		e->row->line = m->line;
		e->row->server_outcome = e->row->account_outcome = OUTBOX_IMPORT_NONE;
		e->row->is_default = run->dflt == m || (alias_only && strcmp(m->name, "default") == 0);
		if ((rc = import_text(run, &e->row->msmtp_account, m->name)) < 0 ||
		    (rc = import_text(run, &e->row->server, "")) < 0 || (rc = import_text(run, &e->row->address, "")) < 0 ||
		    (rc = import_text(run, &e->row->detail, "")) < 0)
			return rc;
		if (alias_only && strcmp(m->name, "default") == 0) {
			e->row->server_outcome = OUTBOX_IMPORT_SKIPPED;
			if ((rc = import_text(run, &e->row->detail, "names the default account")) < 0)
				return rc;
			continue;
		}
		if (m->set[MSMTPRC_HOST].value == NULL || *m->set[MSMTPRC_HOST].value == '\0') {
			e->row->server_outcome = OUTBOX_IMPORT_SKIPPED;
			if ((rc = import_text(run, &e->row->detail, "no host: a base for other accounts only")) < 0)
				return rc;
			continue;
		}
		if ((rc = import_choose_server(run, e, run->n - 1)) < 0)
			return rc;
		if (e->row->server_outcome == OUTBOX_IMPORT_EXISTS) {
			if (m->set[MSMTPRC_FROM].value && *m->set[MSMTPRC_FROM].value) {
				e->row->account_outcome = OUTBOX_IMPORT_SKIPPED;
				if ((rc = import_text(run, &e->row->address, m->set[MSMTPRC_FROM].value)) < 0)
					return rc;
			}
			continue;
		}
		if (e->server && run->dflt == m && !run->store_has_default &&
		    (rc = outbox_server_set(run->h, e->server, OUTBOX_SERVER_DEFAULT, "true")) < 0)
			return rc;
		if ((rc = import_choose_account(run, e, run->n - 1)) < 0)
			return rc;
	}
	return 0;
}

/* The store's servers, and whether it has a default server or account already. */
static int import_look(struct import_run *run)
{
	outbox_account **accounts = NULL;
	size_t n = 0, i;
	int rc;

	if ((rc = outbox_server_list(run->h, &run->have, &run->nhave)) < 0 ||
	    (rc = outbox_account_list(run->h, &accounts, &n)) < 0)
		return rc;
	for (i = 0; i < n; i++)
		if (strcmp(outbox_account_get(accounts[i], OUTBOX_ACCOUNT_DEFAULT), "true") == 0)
			run->store_has_default = 1;
	for (i = 0; i < run->nhave; i++)
		if (strcmp(outbox_server_get(run->have[i], OUTBOX_SERVER_DEFAULT), "true") == 0)
			run->store_has_default = 1;
	outbox_account_list_free(accounts, n);
	return 0;
}

int msmtp_import_plan(struct import_run *run)
{
	int rc;

	if ((rc = import_look(run)) < 0)
		return rc;
	return import_plan(run);
}
