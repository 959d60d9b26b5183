/* msmtp_import_alias.c: msmtp's aliases file, read for `outbox import msmtprc`: each local name
 * and its addresses, decided against the alias table (msmtp's `default` is outbox's too). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alias_internal.h"
#include "handle_internal.h"
#include "msmtp_import.h"
#include "outbox/alias.h"

struct import_alias_read {
	outbox *h;
	outbox_msmtp_report *r;
	const char *path;
	int failed; /* a negative code when reading stopped; the handle says why */
};

static int import_alias_one(void *ctx, int line, const char *name, const char *addresses)
{
	struct import_alias_read *ar = ctx;
	outbox_msmtp_report *r = ar->r;
	outbox_import_alias *grown, *a;
	outbox_alias *have = NULL;
	char *norm = NULL;
	size_t i;
	int rc;

	if (!alias_is_local_name(name)) {
		ar->failed = outbox_fail(ar->h, OUTBOX_EINVALID, "aliases",
					 "%s line %d: \"%.64s\" is not a local name (letters, digits and .!#$%%&'*+/=?^_`{|}~-)",
					 ar->path, line, name);
		return 1;
	}
	/* A name given twice keeps its first line; a later one is left out. */
	for (i = 0; i < r->naliases; i++)
		if (strcasecmp(r->aliases[i].name, name) == 0)
			return 0;
	if ((grown = realloc(r->aliases, (r->naliases + 1) * sizeof *grown)) == NULL)
		goto oom;
	r->aliases = grown;
	a = &r->aliases[r->naliases];
	memset(a, 0, sizeof *a);
	a->line = line;
	if ((a->name = strdup(name)) == NULL || (a->addresses = strdup(addresses)) == NULL) {
		free(a->name);
		goto oom;
	}
	r->naliases++;
	/* Checked now, by the rule the write applies, so --dry-run refuses what the import would; and
	 * compared in the stored form, so "Bob <b@x>" is unchanged beside a stored "b@x". */
	if ((rc = alias_normalize(ar->h, addresses, &norm)) < 0) {
		char was[400];

		snprintf(was, sizeof was, "%s", outbox_errdetail(ar->h));
		ar->failed = outbox_fail(ar->h, rc, "aliases", "%s line %d (%s): %s", ar->path, line, name, was);
		return 1;
	}
	rc = outbox_alias_load(ar->h, name, &have);
	if (rc == OUTBOX_ENOTFOUND) {
		outbox_clear_error(ar->h);
		a->outcome = OUTBOX_IMPORT_ADDED;
		free(norm);
		return 0;
	}
	if (rc < 0) {
		free(norm);
		ar->failed = rc;
		return 1;
	}
	a->outcome = strcmp(outbox_alias_addresses(have), norm) == 0 ? OUTBOX_IMPORT_UNCHANGED : OUTBOX_IMPORT_EXISTS;
	outbox_alias_free(have);
	free(norm);
	return 0;
oom:
	ar->failed = outbox_fail(ar->h, OUTBOX_ENOMEM, NULL, "out of memory");
	return 1;
}

/* The aliases file to read, and a note on each other account's different one. */
static const struct msmtprc_setting *import_alias_file(struct msmtprc *rc, const struct msmtprc_account *dflt)
{
	const struct msmtprc_setting *chosen = NULL;
	size_t i;

	if (dflt && dflt->set[MSMTPRC_ALIASES].value && *dflt->set[MSMTPRC_ALIASES].value)
		chosen = &dflt->set[MSMTPRC_ALIASES];
	for (i = 0; i < rc->naccounts; i++) {
		const struct msmtprc_setting *s = &rc->accounts[i].set[MSMTPRC_ALIASES];

		if (s->value == NULL || *s->value == '\0')
			continue;
		if (chosen == NULL)
			chosen = s;
		else if (strcmp(s->value, chosen->value) != 0 && msmtprc_note(rc, s->line, "aliases",
				"outbox has one alias table: only the default account's aliases file is imported") < 0)
			return NULL;
	}
	return chosen;
}

int msmtp_import_aliases(outbox *h, struct msmtprc *rc, const struct msmtprc_account *dflt, outbox_msmtp_report *r)
{
	const struct msmtprc_setting *s = import_alias_file(rc, dflt);
	const char *home = getenv("HOME");
	struct import_alias_read ar = {h, r, NULL, 0};
	struct buf path = BUF_INIT, text = BUF_INIT;
	char err[300];
	int rc_;

	if (s == NULL)
		return 0;
	/* A leading '~' is $HOME, as msmtp reads file names. */
	if ((s->value[0] == '~' && home ? buf_printf(&path, "%s%s", home, s->value + 1) : buf_puts(&path, s->value)) < 0)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	r->aliases_path = buf_detach(&path);
	ar.path = r->aliases_path;
	if ((rc_ = msmtp_import_read(h, r->aliases_path, MSMTPRC_MAX_SIZE, &text)) < 0) {
		char was[600];

		snprintf(was, sizeof was, "%s", outbox_errdetail(h));
		return outbox_fail(h, rc_, "aliases", "line %d: %s", s->line, was);
	}
	rc_ = msmtprc_aliases_parse(text.data, text.len, import_alias_one, &ar, err, sizeof err);
	buf_free(&text);
	if (ar.failed)
		return ar.failed;
	if (rc_ < 0)
		return outbox_fail(h, OUTBOX_EINVALID, "aliases", "%s %s", r->aliases_path, err);
	return 0;
}
