/* msmtp_import.h: what the parts of the msmtprc import share: reading a file in bounded memory,
 * and the aliases file's entries made into the report's aliases (msmtp_import_alias.c). */
#ifndef OUTBOX_MSMTP_IMPORT_H
#define OUTBOX_MSMTP_IMPORT_H

#include "buf.h"
#include "msmtprc.h"
#include "outbox/msmtp.h"

/* Read `path` whole into `text` (at most `max` bytes; wiped when freed with buf_free). */
int msmtp_import_read(outbox *h, const char *path, size_t max, struct buf *text);

/* The aliases file msmtp's default account names (else the first account that names one), read
 * into r->aliases, each decided against the store: added, unchanged, or exists (left as it is). */
int msmtp_import_aliases(outbox *h, struct msmtprc *rc, const struct msmtprc_account *dflt,
			 outbox_msmtp_report *r);

#endif
