/* error.c: the error slot on a handle and the mapping of error codes to sysexits(3).
 * Messages are kept as field + detail so a form can show the detail beside its field. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "handle_internal.h"
#include "outbox/handle.h"

int outbox_fail(outbox *h, int code, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (h == NULL)
		return code;
	snprintf(h->err_field, sizeof h->err_field, "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(h->err_detail, sizeof h->err_detail, fmt, ap);
	va_end(ap);
	if (field != NULL)
		snprintf(h->err_message, sizeof h->err_message, "%s: %s", field, h->err_detail);
	else
		snprintf(h->err_message, sizeof h->err_message, "%s", h->err_detail);
	return code;
}

int outbox_fail_db(outbox *h, const char *doing)
{
	int rc = sqlite3_errcode(h->db);

	if (rc == SQLITE_NOMEM)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "%s: out of memory", doing);
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return outbox_fail(h, OUTBOX_EBUSY, NULL,
				   "%s: the database is busy in another outbox process; try again", doing);
	/* SQLite says "disk I/O error" for a write the full disk refused while it sets up the WAL:
	 * the system's own code tells the real story. */
	if (rc == SQLITE_FULL || sqlite3_system_errno(h->db) == ENOSPC || sqlite3_system_errno(h->db) == EDQUOT)
		return outbox_fail(h, OUTBOX_ESTORE, NULL,
				   "%s: the disk holding %s is full: free some space, then try again", doing,
				   outbox_home(h));
	if (rc == SQLITE_READONLY)
		return outbox_fail(h, OUTBOX_ESTORE, NULL, "%s: the store %s is read-only", doing,
				   outbox_home(h));
	return outbox_fail(h, OUTBOX_ESTORE, NULL, "%s: %s", doing, sqlite3_errmsg(h->db));
}

void outbox_clear_error(outbox *h)
{
	h->err_field[0] = h->err_detail[0] = h->err_message[0] = '\0';
}

void outbox_error_save(const outbox *h, struct outbox_error_copy *copy)
{
	memcpy(copy->field, h->err_field, sizeof copy->field);
	memcpy(copy->detail, h->err_detail, sizeof copy->detail);
	memcpy(copy->message, h->err_message, sizeof copy->message);
}

void outbox_error_restore(outbox *h, const struct outbox_error_copy *copy)
{
	memcpy(h->err_field, copy->field, sizeof copy->field);
	memcpy(h->err_detail, copy->detail, sizeof copy->detail);
	memcpy(h->err_message, copy->message, sizeof copy->message);
}

const char *outbox_errmsg(const outbox *h)
{
	return h ? h->err_message : "out of memory";
}

const char *outbox_errfield(const outbox *h)
{
	return h && h->err_field[0] ? h->err_field : NULL;
}

const char *outbox_errdetail(const outbox *h)
{
	return h ? h->err_detail : "out of memory";
}

int outbox_exit_code(int err)
{
	switch (err) {
	case OUTBOX_OK:
		return EX_OK;
	case OUTBOX_EINVALID:
	case OUTBOX_ENOTFOUND:
	case OUTBOX_EEXISTS:
	case OUTBOX_EINUSE:
	case OUTBOX_ENOTHING:
		return EX_DATAERR;
	/* Another process got there first: the same command may well work when run again. */
	case OUTBOX_ECONFLICT:
	case OUTBOX_EBUSY:
		return EX_TEMPFAIL;
	case OUTBOX_ECONFIG:
		return EX_CONFIG;
	case OUTBOX_EIO:
	case OUTBOX_ESTORE:
		return EX_IOERR;
	case OUTBOX_ENOMEM:
		return EX_OSERR;
	case OUTBOX_ETEMPFAIL:
	case OUTBOX_EPROTOCOL:
		return EX_TEMPFAIL;
	case OUTBOX_EREFUSED:
		return EX_DATAERR;
	case OUTBOX_EUNAVAILABLE:
		return EX_UNAVAILABLE;
	case OUTBOX_EAUTH:
		return EX_NOPERM;
	/* Stopped by its caller, nothing done: the same command may be run again. */
	case OUTBOX_ECANCELLED:
		return EX_TEMPFAIL;
	/* sendmail's own answer to a local user it does not know. */
	case OUTBOX_ENOUSER:
		return EX_NOUSER;
	default:
		return EX_SOFTWARE;
	}
}
