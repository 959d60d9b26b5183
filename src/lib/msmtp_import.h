/* msmtp_import.h: what the parts of the msmtprc import share: the run and its entries, its errors
 * and notes (msmtp_import.c), the server draft (_server.c), the plan (_plan.c), the aliases (_alias.c). */
#ifndef OUTBOX_MSMTP_IMPORT_H
#define OUTBOX_MSMTP_IMPORT_H

#include "buf.h"
#include "msmtprc.h"
#include "outbox/account.h"
#include "outbox/msmtp.h"
#include "outbox/server.h"
#include "server_internal.h"

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

/* Read `path` whole into `text` (at most `max` bytes; wiped when freed with buf_free). */
int msmtp_import_read(outbox *h, const char *path, size_t max, struct buf *text);

/* The handle's last error again, said of `key` on line `line` of the file. */
int msmtp_import_fail_at(struct import_run *run, int rc, int line, const char *key);

/* A note on a value; one per line and command. */
int msmtp_import_note(struct import_run *run, int line, enum msmtprc_key key, const char *why);

/* The server name an msmtp account's name becomes (out holds at least 65 bytes). */
void msmtp_import_server_name(const char *account, char *out, size_t size);
/* The server an msmtp account describes, as a draft (*out, freed by the caller even on error). */
int msmtp_import_server_draft(struct import_run *run, struct import_entry *e, outbox_server **out);

/* The store looked at, then each msmtp account's entry and report row decided; nothing written. */
int msmtp_import_plan(struct import_run *run);

/* The aliases file msmtp's default account names (else the first account that names one), read
 * into r->aliases, each decided against the store: added, unchanged, or exists (left as it is). */
int msmtp_import_aliases(outbox *h, struct msmtprc *rc, const struct msmtprc_account *dflt,
			 outbox_msmtp_report *r);

#endif
