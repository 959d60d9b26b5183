/* msmtp_import.c: `outbox import msmtprc`: msmtp's accounts made into servers and accounts, each
 * value put through the same checks as `server add`, everything written in one transaction. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "account_internal.h"
#include "buf.h"
#include "handle_internal.h"
#include "msmtp_import.h"
#include "msmtprc.h"
#include "outbox/account.h"
#include "outbox/alias.h"
#include "outbox/msmtp.h"
#include "outbox/server.h"
#include "server_internal.h"
#include "store.h"

/* One msmtp account on its way in. */
struct import_entry {
	const struct msmtprc_account *m;
	outbox_server *server;   /* a new server to write, or NULL */
	outbox_account *account; /* a new account to write, or NULL */
	struct server_write w;
	int written;
	outbox_import_account *row; /* its line in the report */
};

struct import_run {
	outbox *h;
	const char *path;
	struct msmtprc rc;
	const struct msmtprc_account *dflt; /* msmtp's default account, or NULL */
	struct import_entry *e;
	size_t n;
	outbox_msmtp_report *r;
	outbox_server **have;  /* the servers in the store before the import */
	size_t nhave;
	int store_has_default; /* a server or account is the default already: the import moves neither */
};

const char *outbox_import_outcome_name(outbox_import_outcome o, int dry_run)
{
	switch (o) {
	case OUTBOX_IMPORT_ADDED: return dry_run ? "would import" : "imported";
	case OUTBOX_IMPORT_UNCHANGED: return "unchanged";
	case OUTBOX_IMPORT_EXISTS: return "exists";
	case OUTBOX_IMPORT_SKIPPED: return "skipped";
	case OUTBOX_IMPORT_NONE: break;
	}
	return "none";
}

int outbox_msmtp_default_path(outbox *h, char *out, size_t size)
{
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	char second[4096];

	if (home == NULL || *home == '\0')
		return outbox_fail(h, OUTBOX_ECONFIG, "file", "HOME is not set: name the msmtprc to import");
	snprintf(out, size, "%s/.msmtprc", home);
	if (access(out, F_OK) == 0)
		return 0;
	if (xdg && *xdg == '/')
		snprintf(second, sizeof second, "%s/msmtp/config", xdg);
	else
		snprintf(second, sizeof second, "%s/.config/msmtp/config", home);
	if (access(second, F_OK) == 0) {
		snprintf(out, size, "%s", second);
		return 0;
	}
	return outbox_fail(h, OUTBOX_ENOTFOUND, "file", "neither %s nor %s exists: name the msmtprc to import",
			   out, second);
}

int msmtp_import_read(outbox *h, const char *path, size_t max, struct buf *text)
{
	FILE *f = fopen(path, "r");
	char chunk[4096];
	size_t got;

	buf_init(text, max);
	if (f == NULL)
		return outbox_fail(h, errno == ENOENT ? OUTBOX_ENOTFOUND : OUTBOX_EIO, "file", "cannot read %s: %s",
				   path, strerror(errno));
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (buf_append(text, chunk, got) < 0) {
			explicit_bzero(chunk, sizeof chunk);
			fclose(f);
			buf_free(text);
			return outbox_fail(h, OUTBOX_EINVALID, "file", "%s is over %zu bytes: not a configuration file",
					   path, max);
		}
	}
	explicit_bzero(chunk, sizeof chunk);
	if (ferror(f)) {
		fclose(f);
		buf_free(text);
		return outbox_fail(h, OUTBOX_EIO, "file", "cannot read %s", path);
	}
	fclose(f);
	if (text->data == NULL && buf_puts(text, "") < 0)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	return 0;
}

/* The handle's last error again, said of `key` on line `line` of the file. */
static int import_fail_at(struct import_run *run, int rc, int line, const char *key)
{
	char was[600];

	snprintf(was, sizeof was, "%s", outbox_errdetail(run->h));
	return outbox_fail(run->h, rc, key, "%s line %d: %s", run->path, line, was);
}

/* A note on a value; one per line and command. */
static int import_note(struct import_run *run, int line, enum msmtprc_key key, const char *why)
{
	size_t i;

	for (i = 0; i < run->rc.nnotes; i++)
		if (run->rc.notes[i].line == line && strcmp(run->rc.notes[i].key, msmtprc_key_name(key)) == 0)
			return 0;
	if (msmtprc_note(&run->rc, line, msmtprc_key_name(key), why) < 0)
		return outbox_fail(run->h, OUTBOX_ENOMEM, NULL, "out of memory");
	return 0;
}

/* on, off, or empty (which msmtp reads as on). */
static int import_flag(struct import_run *run, const struct msmtprc_setting *s, enum msmtprc_key key,
		       int unset, int *out)
{
	if (s->value == NULL)
		*out = unset;
	else if (*s->value == '\0' || strcmp(s->value, "on") == 0)
		*out = 1;
	else if (strcmp(s->value, "off") == 0)
		*out = 0;
	else
		return outbox_fail(run->h, OUTBOX_EINVALID, msmtprc_key_name(key), "%s line %d: \"%.64s\" is not on or off",
				   run->path, s->line, s->value);
	return 0;
}

/* A file name as msmtp reads it: a leading '~' is $HOME. */
static void import_path(const char *value, char *out, size_t size)
{
	const char *home = getenv("HOME");

	if (value[0] == '~' && home)
		snprintf(out, size, "%s%s", home, value + 1);
	else
		snprintf(out, size, "%s", value);
}

static int import_set(struct import_run *run, outbox_server *s, outbox_server_field_id id, const char *value,
		      const struct msmtprc_setting *from, enum msmtprc_key key)
{
	int rc = outbox_server_set(run->h, s, id, value);

	return rc < 0 ? import_fail_at(run, rc, from->line, msmtprc_key_name(key)) : 0;
}

/* The password command, or the password moved to the secret store. */
static int import_password(struct import_run *run, struct import_entry *e, outbox_server *s)
{
	const struct msmtprc_setting *set = e->m->set;
	const struct msmtprc_setting *pw = &set[MSMTPRC_PASSWORD], *eval = &set[MSMTPRC_PASSWORDEVAL];
	int rc;

	if (eval->value && *eval->value) {
		if (pw->value && *pw->value &&
		    (rc = import_note(run, pw->line, MSMTPRC_PASSWORD,
				      "passwordeval is set too: outbox keeps the command, not this password")) < 0)
			return rc;
		return import_set(run, s, OUTBOX_SERVER_PASSWORD_COMMAND, eval->value, eval, MSMTPRC_PASSWORDEVAL);
	}
	if (pw->value && *pw->value) {
		if ((rc = outbox_server_set_password(run->h, s, pw->value)) < 0)
			return import_fail_at(run, rc, pw->line, "password");
		free(e->row->detail);
		e->row->detail = strdup("password moved to the secret store");
		if (e->row->detail == NULL)
			return outbox_fail(run->h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	return 0;
}

/* auth: off (msmtp's default) is none, on or empty is auto, a method outbox has is kept. */
static int import_auth(struct import_run *run, outbox_server *s, const struct msmtprc_setting *a, int *none)
{
	const outbox_field *f = outbox_server_field_info(OUTBOX_SERVER_AUTH);
	char method[32];
	size_t i;

	*none = a->value == NULL || strcmp(a->value, "off") == 0;
	if (*none)
		return import_set(run, s, OUTBOX_SERVER_AUTH, "none", a, MSMTPRC_AUTH);
	if (*a->value == '\0' || strcmp(a->value, "on") == 0)
		return import_set(run, s, OUTBOX_SERVER_AUTH, "auto", a, MSMTPRC_AUTH);
	snprintf(method, sizeof method, "%s", a->value);
	for (i = 0; method[i]; i++)
		method[i] = (char)((method[i] >= 'A' && method[i] <= 'Z') ? method[i] - 'A' + 'a' : method[i]);
	for (i = 0; f->choices[i]; i++)
		if (strcmp(f->choices[i], method) == 0)
			return import_set(run, s, OUTBOX_SERVER_AUTH, method, a, MSMTPRC_AUTH);
	if (import_note(run, a->line, MSMTPRC_AUTH, "outbox does not have this method: auto chooses another the server offers") < 0)
		return OUTBOX_ENOMEM;
	return import_set(run, s, OUTBOX_SERVER_AUTH, "auto", a, MSMTPRC_AUTH);
}

/* The TLS settings, for a server with TLS. */
static int import_tls(struct import_run *run, outbox_server *s, const struct msmtprc_setting *set)
{
	const struct msmtprc_setting *trust = &set[MSMTPRC_TLS_TRUST_FILE], *fp = &set[MSMTPRC_TLS_FINGERPRINT];
	char path[4096];
	size_t digits = 0, i;
	int check, rc;

	if (trust->value && strcmp(trust->value, "system") != 0) {
		if (*trust->value == '\0') {
			if ((rc = import_note(run, trust->line, MSMTPRC_TLS_TRUST_FILE,
					      "no CA trusted: outbox keeps the system's CAs (a fingerprint pins the certificate)")) < 0)
				return rc;
		} else {
			import_path(trust->value, path, sizeof path);
			if ((rc = import_set(run, s, OUTBOX_SERVER_TLS_CA, path, trust, MSMTPRC_TLS_TRUST_FILE)) < 0)
				return rc;
		}
	}
	if (fp->value && *fp->value) {
		for (i = 0; fp->value[i]; i++)
			digits += fp->value[i] != ':';
		if (digits == 40 || digits == 32) {
			if ((rc = import_note(run, fp->line, MSMTPRC_TLS_FINGERPRINT,
					      "a SHA-1 or MD5 fingerprint is obsolete and not imported: outbox pins a "
					      "SHA-256 one (outbox server check shows it)")) < 0)
				return rc;
		} else if ((rc = import_set(run, s, OUTBOX_SERVER_TLS_PIN, fp->value, fp, MSMTPRC_TLS_FINGERPRINT)) < 0) {
			return rc;
		}
	}
	if ((rc = import_flag(run, &set[MSMTPRC_TLS_CERTCHECK], MSMTPRC_TLS_CERTCHECK, 1, &check)) < 0)
		return rc;
	if (!check && (rc = import_set(run, s, OUTBOX_SERVER_TLS_VERIFY, "false", &set[MSMTPRC_TLS_CERTCHECK],
				       MSMTPRC_TLS_CERTCHECK)) < 0)
		return rc;
	if (set[MSMTPRC_TLS_CERT_FILE].value && *set[MSMTPRC_TLS_CERT_FILE].value) {
		import_path(set[MSMTPRC_TLS_CERT_FILE].value, path, sizeof path);
		if ((rc = import_set(run, s, OUTBOX_SERVER_TLS_CERT, path, &set[MSMTPRC_TLS_CERT_FILE],
				     MSMTPRC_TLS_CERT_FILE)) < 0)
			return rc;
	}
	if (set[MSMTPRC_TLS_KEY_FILE].value && *set[MSMTPRC_TLS_KEY_FILE].value) {
		import_path(set[MSMTPRC_TLS_KEY_FILE].value, path, sizeof path);
		if ((rc = import_set(run, s, OUTBOX_SERVER_TLS_KEY, path, &set[MSMTPRC_TLS_KEY_FILE],
				     MSMTPRC_TLS_KEY_FILE)) < 0)
			return rc;
	}
	return 0;
}

/* TLS settings in an account without TLS: msmtp ignores them, and so does outbox. */
static int import_tls_unused(struct import_run *run, const struct msmtprc_setting *set)
{
	static const enum msmtprc_key keys[] = {MSMTPRC_TLS_TRUST_FILE, MSMTPRC_TLS_FINGERPRINT,
						MSMTPRC_TLS_CERT_FILE, MSMTPRC_TLS_KEY_FILE};
	size_t i;
	int rc;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (set[keys[i]].value && *set[keys[i]].value && strcmp(set[keys[i]].value, "system") != 0 &&
		    (rc = import_note(run, set[keys[i]].line, keys[i], "tls is off in this account: not used")) < 0)
			return rc;
	return 0;
}

/* The server an msmtp account describes, as a draft. */
static int import_server_draft(struct import_run *run, struct import_entry *e, outbox_server **out)
{
	const struct msmtprc_setting *set = e->m->set;
	struct msmtprc_setting at = {NULL, e->m->line};
	outbox_server *s = outbox_server_new();
	const char *security, *port;
	int tls, starttls, none, rc;

	*out = s;
	if (s == NULL)
		return outbox_fail(run->h, OUTBOX_ENOMEM, NULL, "out of memory");
	if ((rc = import_flag(run, &set[MSMTPRC_TLS], MSMTPRC_TLS, 0, &tls)) < 0 ||
	    (rc = import_flag(run, &set[MSMTPRC_TLS_STARTTLS], MSMTPRC_TLS_STARTTLS, 1, &starttls)) < 0)
		return rc;
	security = !tls ? "none" : starttls ? "starttls" : "tls";
	/* msmtp's default port is 25, or 465 for TLS from the first byte; outbox's would be 587. */
	port = set[MSMTPRC_PORT].value ? set[MSMTPRC_PORT].value : tls && !starttls ? "465" : "25";
	if ((rc = outbox_server_set(run->h, s, OUTBOX_SERVER_NAME, e->m->name)) < 0)
		return import_fail_at(run, rc, e->m->line, "account");
	if ((rc = import_set(run, s, OUTBOX_SERVER_HOST, set[MSMTPRC_HOST].value, &set[MSMTPRC_HOST], MSMTPRC_HOST)) < 0 ||
	    (rc = import_set(run, s, OUTBOX_SERVER_SECURITY, security, set[MSMTPRC_TLS].value ? &set[MSMTPRC_TLS] : &at,
			     MSMTPRC_TLS)) < 0 ||
	    (rc = import_set(run, s, OUTBOX_SERVER_PORT, port, set[MSMTPRC_PORT].value ? &set[MSMTPRC_PORT] : &at,
			     MSMTPRC_PORT)) < 0)
		return rc;
	if ((rc = tls ? import_tls(run, s, set) : import_tls_unused(run, set)) < 0 ||
	    (rc = import_auth(run, s, &set[MSMTPRC_AUTH], &none)) < 0)
		return rc;
	if (!none) {
		if (set[MSMTPRC_USER].value && *set[MSMTPRC_USER].value &&
		    (rc = import_set(run, s, OUTBOX_SERVER_USER, set[MSMTPRC_USER].value, &set[MSMTPRC_USER],
				     MSMTPRC_USER)) < 0)
			return rc;
		if ((rc = import_password(run, e, s)) < 0)
			return rc;
	} else if ((set[MSMTPRC_PASSWORD].value && *set[MSMTPRC_PASSWORD].value &&
		    (rc = import_note(run, set[MSMTPRC_PASSWORD].line, MSMTPRC_PASSWORD,
				      "auth is off in this account: the password is not used and not stored")) < 0) ||
		   (set[MSMTPRC_PASSWORDEVAL].value && *set[MSMTPRC_PASSWORDEVAL].value &&
		    (rc = import_note(run, set[MSMTPRC_PASSWORDEVAL].line, MSMTPRC_PASSWORDEVAL,
				      "auth is off in this account: the command is not used")) < 0)) {
		return rc;
	}
	if (set[MSMTPRC_DOMAIN].value) {
		if (strchr(set[MSMTPRC_DOMAIN].value, '%') || *set[MSMTPRC_DOMAIN].value == '\0') {
			if ((rc = import_note(run, set[MSMTPRC_DOMAIN].line, MSMTPRC_DOMAIN,
					      "outbox says EHLO with this host's full name unless given one")) < 0)
				return rc;
		} else if ((rc = import_set(run, s, OUTBOX_SERVER_HELO, set[MSMTPRC_DOMAIN].value, &set[MSMTPRC_DOMAIN],
					    MSMTPRC_DOMAIN)) < 0) {
			return rc;
		}
	}
	if (set[MSMTPRC_TIMEOUT].value && strcmp(set[MSMTPRC_TIMEOUT].value, "off") != 0 &&
	    (rc = import_set(run, s, OUTBOX_SERVER_TIMEOUT, set[MSMTPRC_TIMEOUT].value, &set[MSMTPRC_TIMEOUT],
			     MSMTPRC_TIMEOUT)) < 0)
		return rc;
	return 0;
}

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

	if ((rc = import_server_draft(run, e, &draft)) < 0) {
		outbox_server_free(draft);
		return rc;
	}
	for (i = 0; i < k; i++) {
		if (run->e[i].server && import_same_login(run->e[i].server, draft)) {
			char why[300];

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
		int same_name = strcmp(outbox_server_get(have, OUTBOX_SERVER_NAME), e->m->name) == 0;

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
	return import_text(run, &e->row->server, e->m->name);
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
		return import_note(run, from->line, MSMTPRC_FROM,
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
		return import_fail_at(run, rc, from->line, "from");
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

/* The drafts written in one transaction: all of them, or none. */
static int import_write(struct import_run *run)
{
	size_t i;
	int rc;

	if ((rc = store_begin(run->h)) < 0)
		return rc;
	for (i = 0; i < run->n; i++) {
		if (run->e[i].server == NULL)
			continue;
		if ((rc = server_write_checked(run->h, run->e[i].server, &run->e[i].w)) < 0)
			goto fail;
		run->e[i].written = 1;
	}
	for (i = 0; i < run->n; i++)
		if (run->e[i].account && (rc = account_write_checked(run->h, run->e[i].account)) < 0)
			goto fail;
	for (i = 0; i < run->r->naliases; i++) {
		if (run->r->aliases[i].outcome != OUTBOX_IMPORT_ADDED)
			continue;
		if ((rc = outbox_alias_set(run->h, run->r->aliases[i].name, run->r->aliases[i].addresses)) < 0) {
			rc = outbox_fail(run->h, rc, "aliases", "%s line %d: %s", run->r->aliases_path,
					 run->r->aliases[i].line, outbox_errmsg(run->h));
			goto fail;
		}
	}
	if ((rc = store_commit(run->h)) < 0)
		goto fail;
	for (i = 0; i < run->n; i++)
		if (run->e[i].written)
			server_write_finish(run->h, run->e[i].server, &run->e[i].w, 1);
	return 0;
fail:
	store_rollback(run->h);
	for (i = 0; i < run->n; i++)
		if (run->e[i].written)
			server_write_finish(run->h, run->e[i].server, &run->e[i].w, 0);
	return rc;
}

static int import_note_cmp(const void *a, const void *b)
{
	const outbox_import_note *x = a, *y = b;

	return (x->line > y->line) - (x->line < y->line);
}

/* The notes into the report, ordered by line. */
static int import_report_notes(struct import_run *run)
{
	size_t i;

	run->r->notes = calloc(run->rc.nnotes ? run->rc.nnotes : 1, sizeof *run->r->notes);
	if (run->r->notes == NULL)
		return outbox_fail(run->h, OUTBOX_ENOMEM, NULL, "out of memory");
	for (i = 0; i < run->rc.nnotes; i++) {
		outbox_import_note *n = &run->r->notes[run->r->nnotes++];

		n->line = run->rc.notes[i].line;
		if ((n->key = strdup(run->rc.notes[i].key)) == NULL || (n->why = strdup(run->rc.notes[i].why)) == NULL)
			return outbox_fail(run->h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	qsort(run->r->notes, run->r->nnotes, sizeof *run->r->notes, import_note_cmp);
	return 0;
}

int outbox_msmtp_import(outbox *h, const char *path, unsigned flags, outbox_msmtp_report **report)
{
	struct import_run run;
	struct buf text = BUF_INIT;
	char found[4096], err[300];
	size_t i;
	int rc;

	*report = NULL;
	memset(&run, 0, sizeof run);
	run.h = h;
	if (path == NULL) {
		if ((rc = outbox_msmtp_default_path(h, found, sizeof found)) < 0)
			return rc;
		path = found;
	}
	run.path = path;
	if ((run.r = calloc(1, sizeof *run.r)) == NULL || (run.r->path = strdup(path)) == NULL) {
		outbox_msmtp_report_free(run.r);
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	if ((rc = msmtp_import_read(h, path, MSMTPRC_MAX_SIZE, &text)) < 0)
		goto done;
	rc = msmtprc_parse(text.data, text.len, &run.rc, err, sizeof err);
	buf_free(&text); /* wiped: it may hold passwords */
	if (rc == -2) {
		rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
		goto done;
	}
	if (rc < 0) {
		rc = outbox_fail(h, OUTBOX_EINVALID, "file", "%s %s", path, err);
		goto done;
	}
	if ((rc = import_look(&run)) < 0 || (rc = import_plan(&run)) < 0 ||
	    (rc = msmtp_import_aliases(h, &run.rc, run.dflt, run.r)) < 0 || (rc = import_report_notes(&run)) < 0)
		goto done;
	if (!(flags & OUTBOX_IMPORT_DRY_RUN))
		rc = import_write(&run);
done:
	for (i = 0; i < run.n; i++) {
		outbox_server_free(run.e[i].server);
		outbox_account_free(run.e[i].account);
	}
	free(run.e);
	outbox_server_list_free(run.have, run.nhave);
	msmtprc_free(&run.rc);
	if (rc < 0)
		outbox_msmtp_report_free(run.r);
	else
		*report = run.r;
	return rc;
}

void outbox_msmtp_report_free(outbox_msmtp_report *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->naccounts; i++) {
		free(r->accounts[i].msmtp_account);
		free(r->accounts[i].server);
		free(r->accounts[i].address);
		free(r->accounts[i].detail);
	}
	for (i = 0; i < r->nnotes; i++) {
		free(r->notes[i].key);
		free(r->notes[i].why);
	}
	for (i = 0; i < r->naliases; i++) {
		free(r->aliases[i].name);
		free(r->aliases[i].addresses);
	}
	free(r->accounts);
	free(r->notes);
	free(r->aliases);
	free(r->path);
	free(r->aliases_path);
	free(r);
}
