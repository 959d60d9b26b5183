/* outbox/msmtp.h: moving between msmtp and outbox. An msmtprc's accounts become servers and
 * accounts (its aliases file the alias table) in one transaction; the store goes back out as one. */
#ifndef OUTBOX_MSMTP_H
#define OUTBOX_MSMTP_H

#include <stddef.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
	OUTBOX_IMPORT_ADDED,     /* new in the store (with --dry-run: would be) */
	OUTBOX_IMPORT_UNCHANGED, /* the store has it already, the same */
	OUTBOX_IMPORT_EXISTS,    /* the store has one by that name with other settings: left alone */
	OUTBOX_IMPORT_SKIPPED,   /* nothing to import (the reason says why) */
	OUTBOX_IMPORT_NONE       /* no such part: an msmtp account without `from` has no account */
} outbox_import_outcome;

/* "imported" (or "would import" for a dry run), "unchanged", "exists", "skipped", "none". */
const char *outbox_import_outcome_name(outbox_import_outcome o, int dry_run);

/* One msmtp account and what became of it. */
typedef struct {
	char *msmtp_account;                /* its name in the file */
	int line;                           /* its `account` line */
	char *server;                       /* the server it became or matched; "" when none */
	outbox_import_outcome server_outcome;
	char *address;                      /* the account (its `from`); "" when none */
	outbox_import_outcome account_outcome;
	int is_default;                     /* msmtp's default account */
	char *detail;                       /* why it was skipped, or what moved (a password) */
} outbox_import_account;

/* A line that carries something outbox does not take over. */
typedef struct {
	int line;
	char *key;
	char *why;
} outbox_import_note;

typedef struct {
	char *name;
	char *addresses;
	outbox_import_outcome outcome;
	int line; /* in the aliases file */
} outbox_import_alias;

typedef struct {
	char *path;         /* the file read */
	char *aliases_path; /* the aliases file read, or NULL */
	outbox_import_account *accounts;
	size_t naccounts;
	outbox_import_note *notes; /* ordered by line */
	size_t nnotes;
	outbox_import_alias *aliases;
	size_t naliases;
} outbox_msmtp_report;

/* The file `outbox import msmtprc` reads without one named: ~/.msmtprc, else
 * $XDG_CONFIG_HOME/msmtp/config (~/.config when unset), as msmtp looks. OUTBOX_ENOTFOUND naming
 * both when neither exists. */
int outbox_msmtp_default_path(outbox *h, char *out, size_t size);

#define OUTBOX_IMPORT_DRY_RUN 1u /* decide and report everything; write nothing */

/* Import msmtp's configuration file `path` (NULL: the default path): each account with a host
 * becomes a server named after it and, with a `from`, an account for that address; a password
 * goes to the secret store, a passwordeval becomes the password command, the aliases file's
 * entries become aliases. All of it in one transaction: on failure (a value outbox refuses, a
 * line msmtp would refuse, a file that cannot be read) nothing is written and the handle names
 * the file, line and setting. What is in the store already is left alone. *report (free with
 * outbox_msmtp_report_free) is filled on success. */
int outbox_msmtp_import(outbox *h, const char *path, unsigned flags, outbox_msmtp_report **report);
void outbox_msmtp_report_free(outbox_msmtp_report *r);

/* The servers and accounts as an msmtprc (msmtp reads it and sends as outbox would): one msmtp
 * account per server, named after it, with the first account's address as `from`, and one
 * inheriting account per further address; password commands as passwordeval; a stored password
 * never (a comment says where it is). `aliases_path`, when not NULL, is written as the `aliases`
 * file of the defaults. *text is malloc'd. */
int outbox_msmtp_export(outbox *h, const char *aliases_path, char **text);
/* The alias table as msmtp's aliases file ("name: a@x, b@y" lines). *text is malloc'd. */
int outbox_msmtp_export_aliases(outbox *h, char **text);

#ifdef __cplusplus
}
#endif
#endif
