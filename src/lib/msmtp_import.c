/* msmtp_import.c: `outbox import msmtprc`: the file read, the plan (msmtp_import_plan.c) written
 * in one transaction, and the report; also the errors and notes that name a line of the file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account_internal.h"
#include "buf.h"
#include "handle_internal.h"
#include "msmtp_import.h"
#include "msmtprc.h"
#include "outbox/alias.h"
#include "outbox/msmtp.h"
#include "server_internal.h"
#include "store.h"

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
int msmtp_import_fail_at(struct import_run *run, int rc, int line, const char *key)
{
	char was[600];

	snprintf(was, sizeof was, "%s", outbox_errdetail(run->h));
	return outbox_fail(run->h, rc, key, "%s line %d: %s", run->path, line, was);
}

/* A note on a value; one per line and command. */
int msmtp_import_note(struct import_run *run, int line, enum msmtprc_key key, const char *why)
{
	size_t i;

	for (i = 0; i < run->rc.nnotes; i++)
		if (run->rc.notes[i].line == line && strcmp(run->rc.notes[i].key, msmtprc_key_name(key)) == 0)
			return 0;
	if (msmtprc_note(&run->rc, line, msmtprc_key_name(key), why) < 0)
		return outbox_fail(run->h, OUTBOX_ENOMEM, NULL, "out of memory");
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
	if ((rc = msmtp_import_plan(&run)) < 0 || (rc = msmtp_import_aliases(h, &run.rc, run.dflt, run.r)) < 0 ||
	    (rc = import_report_notes(&run)) < 0)
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
