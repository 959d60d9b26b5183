/* msmtp_export.c: `outbox export msmtprc`: the servers and accounts written as msmtp's
 * configuration, so msmtp sends as outbox would; a stored password is never written out. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "handle_internal.h"
#include "outbox/account.h"
#include "outbox/alias.h"
#include "outbox/msmtp.h"
#include "outbox/server.h"

/* `cmd value`, the value in double quotes when msmtp would otherwise trim or unquote it: msmtp
 * removes one pair of quotes around a whole argument and nothing else, so quoting is always safe. */
static int export_line(struct buf *b, const char *cmd, const char *value)
{
	size_t n = strlen(value);
	int quote = n == 0 || strchr(" \t", value[0]) || strchr(" \t", value[n - 1]) ||
		    (n >= 2 && value[0] == '"' && value[n - 1] == '"');

	return buf_printf(b, quote ? "%s \"%s\"\n" : "%s %s\n", cmd, value);
}

/* A SHA-256 pin as msmtp writes fingerprints: upper-case pairs joined by colons. */
static int export_fingerprint(struct buf *b, const char *pin)
{
	char out[3 * 32 + 1];
	size_t i, k = 0;

	for (i = 0; pin[i] && k + 2 < sizeof out; i++) {
		if (pin[i] == ':')
			continue;
		if (k % 3 == 2)
			out[k++] = ':';
		out[k++] = (char)((pin[i] >= 'a' && pin[i] <= 'f') ? pin[i] - 'a' + 'A' : pin[i]);
	}
	out[k] = '\0';
	return export_line(b, "tls_fingerprint", out);
}

static int export_server(struct buf *b, const outbox_server *s)
{
	const char *security = outbox_server_get(s, OUTBOX_SERVER_SECURITY);
	const char *auth = outbox_server_get(s, OUTBOX_SERVER_AUTH);
	outbox_password_source src = outbox_server_password_source(s);
	int tls = strcmp(security, "none") != 0, rc = 0;

	rc |= buf_printf(b, "\naccount %s\n", outbox_server_get(s, OUTBOX_SERVER_NAME));
	rc |= export_line(b, "host", outbox_server_get(s, OUTBOX_SERVER_HOST));
	rc |= export_line(b, "port", outbox_server_get(s, OUTBOX_SERVER_PORT));
	rc |= buf_printf(b, "tls %s\n", tls ? "on" : "off");
	if (tls) {
		rc |= buf_printf(b, "tls_starttls %s\n", strcmp(security, "starttls") == 0 ? "on" : "off");
		if (*outbox_server_get(s, OUTBOX_SERVER_TLS_CA))
			rc |= export_line(b, "tls_trust_file", outbox_server_get(s, OUTBOX_SERVER_TLS_CA));
		if (*outbox_server_get(s, OUTBOX_SERVER_TLS_PIN))
			rc |= export_fingerprint(b, outbox_server_get(s, OUTBOX_SERVER_TLS_PIN));
		if (strcmp(outbox_server_get(s, OUTBOX_SERVER_TLS_VERIFY), "false") == 0)
			rc |= buf_puts(b, "tls_certcheck off\n");
		if (*outbox_server_get(s, OUTBOX_SERVER_TLS_CERT))
			rc |= export_line(b, "tls_cert_file", outbox_server_get(s, OUTBOX_SERVER_TLS_CERT));
		if (*outbox_server_get(s, OUTBOX_SERVER_TLS_KEY))
			rc |= export_line(b, "tls_key_file", outbox_server_get(s, OUTBOX_SERVER_TLS_KEY));
	}
	rc |= buf_printf(b, "auth %s\n", strcmp(auth, "none") == 0 ? "off" : strcmp(auth, "auto") == 0 ? "on" : auth);
	if (*outbox_server_get(s, OUTBOX_SERVER_USER))
		rc |= export_line(b, "user", outbox_server_get(s, OUTBOX_SERVER_USER));
	if (*outbox_server_get(s, OUTBOX_SERVER_PASSWORD_COMMAND))
		rc |= export_line(b, "passwordeval", outbox_server_get(s, OUTBOX_SERVER_PASSWORD_COMMAND));
	else if (strcmp(outbox_server_get(s, OUTBOX_SERVER_OAUTH), "none") != 0)
		rc |= buf_puts(b, "# signs in with OAuth in outbox (outbox server login): msmtp needs a passwordeval\n"
				  "# that prints a current access token\n");
	else if (src == OUTBOX_PASSWORD_KEYRING || src == OUTBOX_PASSWORD_FILE)
		rc |= buf_printf(b, "# the password is in outbox's secret store (%s), not written here: add a\n"
				    "# passwordeval, or a password line in a file only you can read\n",
				 outbox_password_source_name(src));
	if (*outbox_server_get(s, OUTBOX_SERVER_HELO))
		rc |= export_line(b, "domain", outbox_server_get(s, OUTBOX_SERVER_HELO));
	rc |= export_line(b, "timeout", outbox_server_get(s, OUTBOX_SERVER_TIMEOUT));
	return rc;
}

/* The account a server's own msmtp account sends as: the default account when it uses the server,
 * else the first using it; -1 when none does. Each other account gets an msmtp account of its own,
 * named by its address, inheriting the server's. */
static long export_primary(outbox_account **accounts, size_t na, const char *server)
{
	long first = -1;
	size_t j;

	for (j = 0; j < na; j++) {
		if (strcmp(outbox_account_get(accounts[j], OUTBOX_ACCOUNT_SERVER), server) != 0)
			continue;
		if (strcmp(outbox_account_get(accounts[j], OUTBOX_ACCOUNT_DEFAULT), "true") == 0)
			return (long)j;
		if (first < 0)
			first = (long)j;
	}
	return first;
}

/* Every msmtp account, then `account default` for the default account (else server). */
static int export_all(struct buf *b, outbox_server **servers, size_t ns, outbox_account **accounts, size_t na)
{
	const char *dflt = NULL;
	size_t i, j;
	long p;
	int rc = 0;

	for (i = 0; i < ns; i++) {
		const char *name = outbox_server_get(servers[i], OUTBOX_SERVER_NAME);

		rc |= export_server(b, servers[i]);
		if ((p = export_primary(accounts, na, name)) >= 0)
			rc |= export_line(b, "from", outbox_account_get(accounts[p], OUTBOX_ACCOUNT_ADDRESS));
		if (strcmp(outbox_server_get(servers[i], OUTBOX_SERVER_DEFAULT), "true") == 0)
			dflt = name;
	}
	for (j = 0; j < na; j++) {
		const char *address = outbox_account_get(accounts[j], OUTBOX_ACCOUNT_ADDRESS);
		const char *server = outbox_account_get(accounts[j], OUTBOX_ACCOUNT_SERVER);
		int primary = export_primary(accounts, na, server) == (long)j;

		if (strcmp(outbox_account_get(accounts[j], OUTBOX_ACCOUNT_DEFAULT), "true") == 0)
			dflt = primary ? server : address;
		if (primary)
			continue;
		rc |= buf_printf(b, "\naccount %s : %s\n", address, server);
		rc |= export_line(b, "from", address);
	}
	if (dflt && strcmp(dflt, "default") != 0)
		rc |= buf_printf(b, "\naccount default : %s\n", dflt);
	return rc;
}

int outbox_msmtp_export(outbox *h, const char *aliases_path, char **text)
{
	outbox_server **servers = NULL;
	outbox_account **accounts = NULL;
	size_t ns = 0, na = 0;
	struct buf b = BUF_INIT;
	int rc;

	*text = NULL;
	if ((rc = outbox_server_list(h, &servers, &ns)) < 0 || (rc = outbox_account_list(h, &accounts, &na)) < 0) {
		outbox_server_list_free(servers, ns);
		return rc;
	}
	rc = buf_puts(&b, "# msmtp configuration written by `outbox export msmtprc`.\n"
			  "# Stored passwords are not written: see the comments below.\n\ndefaults\n");
	if (aliases_path)
		rc |= export_line(&b, "aliases", aliases_path);
	rc |= export_all(&b, servers, ns, accounts, na);
	outbox_server_list_free(servers, ns);
	outbox_account_list_free(accounts, na);
	if (rc != 0) {
		buf_free(&b);
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	*text = buf_detach(&b);
	return 0;
}

int outbox_msmtp_export_aliases(outbox *h, char **text)
{
	outbox_alias **list = NULL;
	size_t n = 0, i;
	struct buf b = BUF_INIT;
	int rc;

	*text = NULL;
	if ((rc = outbox_alias_list(h, &list, &n)) < 0)
		return rc;
	rc = buf_puts(&b, "# msmtp aliases written by `outbox export msmtprc`\n");
	for (i = 0; i < n; i++)
		rc |= buf_printf(&b, "%s: %s\n", outbox_alias_name(list[i]), outbox_alias_addresses(list[i]));
	outbox_alias_list_free(list, n);
	if (rc != 0) {
		buf_free(&b);
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	*text = buf_detach(&b);
	return 0;
}
