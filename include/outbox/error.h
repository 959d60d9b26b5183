/* outbox/error.h: the one error contract of liboutbox.
 * Every call returns 0 or one of these negative codes; the words for a human stay on the handle. */
#ifndef OUTBOX_ERROR_H
#define OUTBOX_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct outbox outbox;

enum outbox_error_code {
	OUTBOX_OK = 0,
	OUTBOX_EINVALID = -1,  /* a value failed validation: the field is named */
	OUTBOX_ENOTFOUND = -2, /* no server or account by that name */
	OUTBOX_EEXISTS = -3,   /* the name, address or host/port/user is taken */
	OUTBOX_EINUSE = -4,    /* refused because something still depends on it */
	OUTBOX_ENOTHING = -5,  /* nothing to undo */
	OUTBOX_ECONFIG = -6,   /* the store or its directory cannot be used */
	OUTBOX_EIO = -7,       /* the operating system refused a read or write */
	OUTBOX_ENOMEM = -8,
	OUTBOX_ESTORE = -9,    /* the database reported an error */
	OUTBOX_ECONFLICT = -10,   /* another process changed the record since it was loaded */
	OUTBOX_ETEMPFAIL = -11,   /* try again later: 4xx, 421, refused or lost connection, timeout */
	OUTBOX_EREFUSED = -12,    /* the server refused for good (5xx): the message or a recipient */
	OUTBOX_EUNAVAILABLE = -13,/* the server cannot be used as configured: TLS, missing feature */
	OUTBOX_EAUTH = -14,       /* the server refused the credentials */
	OUTBOX_EPROTOCOL = -15,   /* the server broke the protocol (bad or oversized replies) */
	OUTBOX_EBUSY = -16,       /* another outbox process held the store past the busy timeout */
	OUTBOX_ECANCELLED = -17,  /* the caller asked the call to stop (its progress callback said so) */
	OUTBOX_ENOUSER = -18      /* a local recipient name ("root") that no alias maps to an address */
};

/* The last failure on this handle as "field: what is wrong", or "" after success. */
const char *outbox_errmsg(const outbox *h);
/* The field the last failure is about ("port", "host"), or NULL when it is about no one field. */
const char *outbox_errfield(const outbox *h);
/* The last failure's text without the field name, for a form that shows it beside the field. */
const char *outbox_errdetail(const outbox *h);
/* The sysexits(3) code a command should exit with for this error code. */
int outbox_exit_code(int err);

#ifdef __cplusplus
}
#endif
#endif
