/* msmtp_import_server.c: one msmtp account's settings made into a draft server for `import msmtprc`,
 * each value through `outbox_server_set` (the checks of `server add`), a note for what is left out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handle_internal.h"
#include "msmtp_import.h"
#include "msmtprc.h"
#include "outbox/server.h"

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

	return rc < 0 ? msmtp_import_fail_at(run, rc, from->line, msmtprc_key_name(key)) : 0;
}

/* The password command, or the password moved to the secret store. */
static int import_password(struct import_run *run, struct import_entry *e, outbox_server *s)
{
	const struct msmtprc_setting *set = e->m->set;
	const struct msmtprc_setting *pw = &set[MSMTPRC_PASSWORD], *eval = &set[MSMTPRC_PASSWORDEVAL];
	int rc;

	if (eval->value && *eval->value) {
		if (pw->value && *pw->value &&
		    (rc = msmtp_import_note(run, pw->line, MSMTPRC_PASSWORD,
				      "passwordeval is set too: outbox keeps the command, not this password")) < 0)
			return rc;
		return import_set(run, s, OUTBOX_SERVER_PASSWORD_COMMAND, eval->value, eval, MSMTPRC_PASSWORDEVAL);
	}
	if (pw->value && *pw->value) {
		if ((rc = outbox_server_set_password(run->h, s, pw->value)) < 0)
			return msmtp_import_fail_at(run, rc, pw->line, "password");
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
	if (msmtp_import_note(run, a->line, MSMTPRC_AUTH, "outbox does not have this method: auto chooses another the server offers") < 0)
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
			if ((rc = msmtp_import_note(run, trust->line, MSMTPRC_TLS_TRUST_FILE,
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
			if ((rc = msmtp_import_note(run, fp->line, MSMTPRC_TLS_FINGERPRINT,
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
		    (rc = msmtp_import_note(run, set[keys[i]].line, keys[i], "tls is off in this account: not used")) < 0)
			return rc;
	return 0;
}

/* A server name from an msmtp account's name, which may be anything msmtp takes ("me@gmail.com",
 * as many files name their accounts, and as `outbox export msmtprc` names an address's account):
 * every character a server name cannot hold becomes '-', none leads with '-' or '.', and it is cut
 * to the 64 a name may have. */
void msmtp_import_server_name(const char *account, char *out, size_t size)
{
	size_t n = 0;
	const char *p;

	for (p = account; *p && n + 1 < size && n < 64; p++) {
		int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			 *p == '.' || *p == '_' || *p == '-';
		if (n == 0 && (!ok || *p == '-' || *p == '.'))
			continue;
		out[n++] = ok ? *p : '-';
	}
	out[n] = '\0';
}

/* The server an msmtp account describes, as a draft. */
int msmtp_import_server_draft(struct import_run *run, struct import_entry *e, outbox_server **out)
{
	const struct msmtprc_setting *set = e->m->set;
	struct msmtprc_setting at = {NULL, e->m->line};
	outbox_server *s = outbox_server_new();
	const char *security, *port;
	char name[65];
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
	msmtp_import_server_name(e->m->name, name, sizeof name);
	if ((rc = outbox_server_set(run->h, s, OUTBOX_SERVER_NAME, name)) < 0)
		return msmtp_import_fail_at(run, rc, e->m->line, "account");
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
		    (rc = msmtp_import_note(run, set[MSMTPRC_PASSWORD].line, MSMTPRC_PASSWORD,
				      "auth is off in this account: the password is not used and not stored")) < 0) ||
		   (set[MSMTPRC_PASSWORDEVAL].value && *set[MSMTPRC_PASSWORDEVAL].value &&
		    (rc = msmtp_import_note(run, set[MSMTPRC_PASSWORDEVAL].line, MSMTPRC_PASSWORDEVAL,
				      "auth is off in this account: the command is not used")) < 0)) {
		return rc;
	}
	if (set[MSMTPRC_DOMAIN].value) {
		if (strchr(set[MSMTPRC_DOMAIN].value, '%') || *set[MSMTPRC_DOMAIN].value == '\0') {
			if ((rc = msmtp_import_note(run, set[MSMTPRC_DOMAIN].line, MSMTPRC_DOMAIN,
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
