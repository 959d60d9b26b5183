/* msmtprc.h: msmtp's configuration file read as msmtp reads it (defaults, `account X : Y`
 * inheritance, quoting), into accounts of raw settings. Pure: bytes in, accounts and notes out. */
#ifndef OUTBOX_MSMTPRC_H
#define OUTBOX_MSMTPRC_H

#include <stddef.h>

/* The commands outbox has a place for; every other command becomes a note. */
enum msmtprc_key {
	MSMTPRC_HOST,
	MSMTPRC_PORT,
	MSMTPRC_TLS,
	MSMTPRC_TLS_STARTTLS,
	MSMTPRC_TLS_TRUST_FILE,
	MSMTPRC_TLS_FINGERPRINT,
	MSMTPRC_TLS_CERTCHECK,
	MSMTPRC_TLS_CERT_FILE,
	MSMTPRC_TLS_KEY_FILE,
	MSMTPRC_AUTH,
	MSMTPRC_USER,
	MSMTPRC_PASSWORD,
	MSMTPRC_PASSWORDEVAL,
	MSMTPRC_FROM,
	MSMTPRC_DOMAIN,
	MSMTPRC_TIMEOUT,
	MSMTPRC_ALIASES,
	MSMTPRC_KEY_COUNT
};

/* The command's name as msmtp spells it ("tls_starttls"). */
const char *msmtprc_key_name(enum msmtprc_key key);

/* A setting as the account ends up with it: its argument (quotes removed, never NULL once set)
 * and the line that set it, which may be in `defaults` or in an account inherited from. */
struct msmtprc_setting {
	char *value; /* NULL: not set */
	int line;
};

struct msmtprc_account {
	char *name;
	int line;      /* the `account` line */
	int own_lines; /* settings written in this account itself, not inherited */
	char *parent;  /* the first account it inherits from, or NULL */
	struct msmtprc_setting set[MSMTPRC_KEY_COUNT];
};

/* A line that carries something outbox does not take over, and why. */
struct msmtprc_note {
	int line;
	char key[32];
	char why[200];
};

struct msmtprc {
	struct msmtprc_account *accounts; /* in the order of the file */
	size_t naccounts;
	struct msmtprc_note *notes;
	size_t nnotes;
};

/* The longest file and line read: an msmtprc is a few kilobytes. */
#define MSMTPRC_MAX_SIZE (1024 * 1024)
#define MSMTPRC_MAX_LINE 4096

/* Read the file's text. 0, or -1 with `err` saying "line N: what is wrong" for what msmtp itself
 * would refuse (a setting before any account or defaults, an unknown or repeated account, a
 * parent not defined yet, NUL or control bytes, an overlong line or file); nothing is kept then.
 * -2 when memory runs out. */
int msmtprc_parse(const char *text, size_t len, struct msmtprc *out, char *err, size_t errsize);
void msmtprc_free(struct msmtprc *rc);

/* The account called `name`, or NULL. */
const struct msmtprc_account *msmtprc_find(const struct msmtprc *rc, const char *name);

/* Add a note (for the importer's own findings about values); -1 when memory runs out. */
int msmtprc_note(struct msmtprc *rc, int line, const char *key, const char *why);

/* msmtp's aliases file: `local: a@x, b@y` lines, `#` comments. Calls `each` for each alias
 * with its name and its addresses as written (comma-separated, spaces trimmed); 0, or -1 with
 * `err` saying "line N: ..." for a line without a colon, an empty name or list, or a control
 * byte. A nonzero return from `each` stops the reading and is returned. */
int msmtprc_aliases_parse(const char *text, size_t len,
			  int (*each)(void *ctx, int line, const char *name, const char *addresses), void *ctx,
			  char *err, size_t errsize);

#endif
