/* msmtprc.c: msmtp's configuration file and aliases file read the way msmtp reads them, so an
 * import sees what msmtp sends with. Pure and bounded: no file, environment or command is touched. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msmtprc.h"

static const char *const msmtprc_names[MSMTPRC_KEY_COUNT] = {
	[MSMTPRC_HOST] = "host",
	[MSMTPRC_PORT] = "port",
	[MSMTPRC_TLS] = "tls",
	[MSMTPRC_TLS_STARTTLS] = "tls_starttls",
	[MSMTPRC_TLS_TRUST_FILE] = "tls_trust_file",
	[MSMTPRC_TLS_FINGERPRINT] = "tls_fingerprint",
	[MSMTPRC_TLS_CERTCHECK] = "tls_certcheck",
	[MSMTPRC_TLS_CERT_FILE] = "tls_cert_file",
	[MSMTPRC_TLS_KEY_FILE] = "tls_key_file",
	[MSMTPRC_AUTH] = "auth",
	[MSMTPRC_USER] = "user",
	[MSMTPRC_PASSWORD] = "password",
	[MSMTPRC_PASSWORDEVAL] = "passwordeval",
	[MSMTPRC_FROM] = "from",
	[MSMTPRC_DOMAIN] = "domain",
	[MSMTPRC_TIMEOUT] = "timeout",
	[MSMTPRC_ALIASES] = "aliases",
};

/* msmtp's other commands, each with why outbox leaves it behind. An "off" or empty argument
 * asks for what outbox does anyway, so such a line is not reported. */
static const struct {
	const char *name;
	const char *why;
} msmtprc_unmapped[] = {
	{"eval", "outbox runs no command while importing: write the value itself in the file"},
	{"source_ip", "outbox lets the system choose the source address"},
	{"proxy_host", "outbox connects directly; it has no SOCKS proxy"},
	{"proxy_port", "outbox connects directly; it has no SOCKS proxy"},
	{"socket", "outbox connects over TCP only"},
	{"protocol", "outbox speaks SMTP only, not LMTP"},
	{"logfile", "outbox keeps its own history (outbox log)"},
	{"logfile_time_format", "outbox keeps its own history (outbox log)"},
	{"syslog", "outbox keeps its own history (outbox log)"},
	{"ntlmdomain", "outbox has no NTLM authentication"},
	{"tls_crl_file", "outbox reads no CRL file"},
	{"tls_priorities", "outbox uses OpenSSL's defaults (TLS 1.2 or later)"},
	{"tls_min_dh_prime_bits", "outbox uses OpenSSL's defaults (TLS 1.2 or later)"},
	{"tls_host_override", "outbox checks the certificate against the host name"},
	{"allow_from_override", "outbox chooses the account from -f or From"},
	{"set_from_header", "outbox leaves the message's From header as written"},
	{"add_missing_from_header", "outbox leaves the message's From header as written"},
	{"set_date_header", "outbox's own header handling applies"},
	{"add_missing_date_header", "outbox's own header handling applies"},
	{"set_msgid_header", "outbox's own header handling applies"},
	{"remove_bcc_headers", "outbox always removes Bcc headers"},
	{"undisclosed_recipients", "outbox leaves To and Cc as written"},
	{"dsn_notify", "outbox asks for DSNs only when the sender does (-N)"},
	{"dsn_return", "outbox asks for DSNs only when the sender does (-R)"},
	{"auto_from", "obsolete in msmtp; outbox takes the sender from -f or From"},
	{"maildomain", "obsolete in msmtp; outbox takes the sender from -f or From"},
};

const char *msmtprc_key_name(enum msmtprc_key key)
{
	return (unsigned)key < MSMTPRC_KEY_COUNT ? msmtprc_names[key] : "";
}

static void msmtprc_err(char *err, size_t size, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void msmtprc_err(char *err, size_t size, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (size == 0)
		return;
	n = snprintf(err, size, "line %d: ", line);
	if (n < 0 || (size_t)n >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, size - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Wipe, then free: a value may be a password. */
static void msmtprc_free_value(char *v)
{
	if (v) {
		volatile char *p = v;
		while (*p)
			*p++ = '\0';
		free(v);
	}
}

static void msmtprc_free_account(struct msmtprc_account *a)
{
	size_t k;

	free(a->name);
	free(a->parent);
	for (k = 0; k < MSMTPRC_KEY_COUNT; k++)
		msmtprc_free_value(a->set[k].value);
	memset(a, 0, sizeof *a);
}

void msmtprc_free(struct msmtprc *rc)
{
	size_t i;

	for (i = 0; i < rc->naccounts; i++)
		msmtprc_free_account(&rc->accounts[i]);
	free(rc->accounts);
	free(rc->notes);
	memset(rc, 0, sizeof *rc);
}

const struct msmtprc_account *msmtprc_find(const struct msmtprc *rc, const char *name)
{
	size_t i;

	for (i = 0; i < rc->naccounts; i++)
		if (strcmp(rc->accounts[i].name, name) == 0)
			return &rc->accounts[i];
	return NULL;
}

int msmtprc_note(struct msmtprc *rc, int line, const char *key, const char *why)
{
	struct msmtprc_note *n = realloc(rc->notes, (rc->nnotes + 1) * sizeof *n);

	if (n == NULL)
		return -1;
	rc->notes = n;
	n += rc->nnotes++;
	n->line = line;
	snprintf(n->key, sizeof n->key, "%s", key);
	snprintf(n->why, sizeof n->why, "%s", why);
	return 0;
}

/* Put a copy of `value` in the setting, replacing what was there. */
static int msmtprc_put(struct msmtprc_setting *s, const char *value, int line)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return -1;
	msmtprc_free_value(s->value);
	s->value = copy;
	s->line = line;
	return 0;
}

/* Every setting `from` has, copied over `to`'s. */
static int msmtprc_inherit(struct msmtprc_setting *to, const struct msmtprc_setting *from)
{
	size_t k;

	for (k = 0; k < MSMTPRC_KEY_COUNT; k++)
		if (from[k].value && msmtprc_put(&to[k], from[k].value, from[k].line) < 0)
			return -1;
	return 0;
}

static char *msmtprc_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

/* `account NAME [: PARENT[,...]]`: a new account with the defaults so far, then each parent's
 * settings in turn. Returns 0, -1 (err set) or -2 (memory). */
static int msmtprc_account(struct msmtprc *rc, const struct msmtprc_setting *defaults, char *arg,
			   int line, char *err, size_t errsize)
{
	struct msmtprc_account *a, *grown;
	char *colon = strchr(arg, ':'), *list = NULL, *item, *next;
	const char *name;

	if (colon) {
		*colon = '\0';
		list = colon + 1;
	}
	name = msmtprc_trim(arg);
	if (*name == '\0') {
		msmtprc_err(err, errsize, line, "account needs a name");
		return -1;
	}
	if (msmtprc_find(rc, name)) {
		msmtprc_err(err, errsize, line, "account %s is defined twice", name);
		return -1;
	}
	grown = realloc(rc->accounts, (rc->naccounts + 1) * sizeof *grown);
	if (grown == NULL)
		return -2;
	rc->accounts = grown;
	a = &rc->accounts[rc->naccounts];
	memset(a, 0, sizeof *a);
	a->line = line;
	if ((a->name = strdup(name)) == NULL || msmtprc_inherit(a->set, defaults) < 0) {
		msmtprc_free_account(a);
		return -2;
	}
	for (item = list; item; item = next) {
		const struct msmtprc_account *parent;
		const char *pname;

		next = strchr(item, ',');
		if (next)
			*next++ = '\0';
		pname = msmtprc_trim(item);
		if ((parent = msmtprc_find(rc, pname)) == NULL) {
			msmtprc_err(err, errsize, line, "account %s inherits from \"%s\", which is not defined above it",
				    a->name, pname);
			msmtprc_free_account(a);
			return -1;
		}
		if ((a->parent == NULL && (a->parent = strdup(pname)) == NULL) ||
		    msmtprc_inherit(a->set, parent->set) < 0) {
			msmtprc_free_account(a);
			return -2;
		}
	}
	rc->naccounts++;
	return 0;
}

/* A command outbox does not take: a note, unless its argument asks for nothing. */
static int msmtprc_other(struct msmtprc *rc, const char *cmd, const char *arg, int line)
{
	size_t i;

	for (i = 0; i < sizeof msmtprc_unmapped / sizeof msmtprc_unmapped[0]; i++) {
		if (strcmp(cmd, msmtprc_unmapped[i].name) != 0)
			continue;
		if (strcmp(cmd, "eval") != 0 &&
		    (*arg == '\0' || strcmp(arg, "off") == 0 || (strcmp(cmd, "protocol") == 0 && strcmp(arg, "smtp") == 0)))
			return 0;
		return msmtprc_note(rc, line, cmd, msmtprc_unmapped[i].why);
	}
	return msmtprc_note(rc, line, cmd, "not an msmtp command outbox knows");
}

/* One line, already checked for bytes and length. */
static int msmtprc_line(struct msmtprc *rc, struct msmtprc_setting *defaults, int *section, char *s,
			int line, char *err, size_t errsize)
{
	char *cmd, *arg;
	size_t k, n;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0' || *s == '#')
		return 0;
	cmd = s;
	while (*s && *s != ' ' && *s != '\t')
		s++;
	if (*s)
		*s++ = '\0';
	arg = msmtprc_trim(s);
	/* msmtp takes off one pair of double quotes around the whole argument, nothing more. */
	n = strlen(arg);
	if (n >= 2 && arg[0] == '"' && arg[n - 1] == '"') {
		arg[n - 1] = '\0';
		arg++;
	}
	if (strcmp(cmd, "defaults") == 0) {
		*section = 1;
		return 0;
	}
	if (strcmp(cmd, "account") == 0) {
		*section = 2;
		return msmtprc_account(rc, defaults, arg, line, err, errsize);
	}
	if (*section == 0) {
		msmtprc_err(err, errsize, line, "%.32s comes before any account or defaults line", cmd);
		return -1;
	}
	for (k = 0; k < MSMTPRC_KEY_COUNT; k++) {
		if (strcmp(cmd, msmtprc_names[k]) != 0)
			continue;
		if (*section == 1)
			return msmtprc_put(&defaults[k], arg, line) < 0 ? -2 : 0;
		rc->accounts[rc->naccounts - 1].own_lines++;
		return msmtprc_put(&rc->accounts[rc->naccounts - 1].set[k], arg, line) < 0 ? -2 : 0;
	}
	return msmtprc_other(rc, cmd, arg, line) < 0 ? -2 : 0;
}

/* Split `text` into lines for `each`, refusing NUL and control bytes (tab allowed, a CR before
 * the LF dropped) and lines over MSMTPRC_MAX_LINE. */
static int msmtprc_lines(const char *text, size_t len, int (*each)(void *ctx, char *line, int number),
			 void *ctx, char *err, size_t errsize)
{
	char line[MSMTPRC_MAX_LINE + 2];
	size_t i = 0, n;
	int number = 0, rc;

	if (len > MSMTPRC_MAX_SIZE) {
		msmtprc_err(err, errsize, 1, "the file is over %d bytes", MSMTPRC_MAX_SIZE);
		return -1;
	}
	while (i < len) {
		number++;
		for (n = 0; i < len && text[i] != '\n'; i++, n++) {
			unsigned char c = (unsigned char)text[i];

			if (n >= MSMTPRC_MAX_LINE) {
				msmtprc_err(err, errsize, number, "the line is over %d bytes", MSMTPRC_MAX_LINE);
				return -1;
			}
			if ((c < 0x20 && c != '\t' && !(c == '\r' && (i + 1 == len || text[i + 1] == '\n'))) ||
			    c == 0x7f) {
				msmtprc_err(err, errsize, number, "control byte 0x%02x in the line", c);
				return -1;
			}
			line[n] = (char)c;
		}
		if (n > 0 && line[n - 1] == '\r')
			n--;
		line[n] = '\0';
		i++; /* the '\n' */
		if ((rc = each(ctx, line, number)) != 0) {
			explicit_bzero(line, sizeof line);
			return rc;
		}
	}
	explicit_bzero(line, sizeof line);
	return 0;
}

struct msmtprc_state {
	struct msmtprc *rc;
	struct msmtprc_setting defaults[MSMTPRC_KEY_COUNT];
	int section; /* 0 none yet, 1 defaults, 2 an account */
	char *err;
	size_t errsize;
};

static int msmtprc_config_line(void *ctx, char *line, int number)
{
	struct msmtprc_state *st = ctx;

	return msmtprc_line(st->rc, st->defaults, &st->section, line, number, st->err, st->errsize);
}

int msmtprc_parse(const char *text, size_t len, struct msmtprc *out, char *err, size_t errsize)
{
	struct msmtprc_state st;
	size_t k;
	int rc;

	memset(out, 0, sizeof *out);
	memset(&st, 0, sizeof st);
	st.rc = out;
	st.err = err;
	st.errsize = errsize;
	if (errsize)
		err[0] = '\0';
	rc = msmtprc_lines(text, len, msmtprc_config_line, &st, err, errsize);
	for (k = 0; k < MSMTPRC_KEY_COUNT; k++)
		msmtprc_free_value(st.defaults[k].value);
	if (rc != 0)
		msmtprc_free(out);
	if (rc == -2 && errsize)
		snprintf(err, errsize, "out of memory");
	return rc;
}

struct msmtprc_alias_state {
	int (*each)(void *ctx, int line, const char *name, const char *addresses);
	void *ctx;
	char *err;
	size_t errsize;
	char list[2 * MSMTPRC_MAX_LINE + 2]; /* ", " for each ',' of the line */
};

/* `name: a@x, b@y`; a '#' starts a comment anywhere. The list is handed on with single ", "
 * between the addresses. */
static int msmtprc_alias_line(void *ctx, char *line, int number)
{
	struct msmtprc_alias_state *st = ctx;
	char *hash = strchr(line, '#'), *colon, *item, *next;
	const char *name;
	size_t used = 0;

	if (hash)
		*hash = '\0';
	if (*msmtprc_trim(line) == '\0')
		return 0;
	if ((colon = strchr(line, ':')) == NULL) {
		msmtprc_err(st->err, st->errsize, number, "no colon after the local name");
		return -1;
	}
	*colon = '\0';
	name = msmtprc_trim(line);
	if (*name == '\0') {
		msmtprc_err(st->err, st->errsize, number, "no local name before the colon");
		return -1;
	}
	for (item = colon + 1; item; item = next) {
		const char *addr;

		if ((next = strchr(item, ',')) != NULL)
			*next++ = '\0';
		addr = msmtprc_trim(item);
		if (*addr == '\0')
			continue;
		used += (size_t)snprintf(st->list + used, sizeof st->list - used, "%s%s", used ? ", " : "", addr);
	}
	if (used == 0) {
		msmtprc_err(st->err, st->errsize, number, "alias %s has no address", name);
		return -1;
	}
	return st->each(st->ctx, number, name, st->list);
}

int msmtprc_aliases_parse(const char *text, size_t len,
			  int (*each)(void *ctx, int line, const char *name, const char *addresses), void *ctx,
			  char *err, size_t errsize)
{
	struct msmtprc_alias_state *st = calloc(1, sizeof *st);
	int rc;

	if (st == NULL) {
		if (errsize)
			snprintf(err, errsize, "out of memory");
		return -1;
	}
	if (errsize)
		err[0] = '\0';
	st->each = each;
	st->ctx = ctx;
	st->err = err;
	st->errsize = errsize;
	rc = msmtprc_lines(text, len, msmtprc_alias_line, st, err, errsize);
	free(st);
	return rc;
}
