/* outbox/doctor.h: checking a server's connection step by step without sending mail, each step
 * reported as it completes with the server's own words and, when it fails, what to do about it. */
#ifndef OUTBOX_DOCTOR_H
#define OUTBOX_DOCTOR_H

#include <stddef.h>
#include "error.h"
#include "server.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
	OUTBOX_STEP_SIGNIN,  /* an OAuth server's sign-in, before anything goes on the wire */
	OUTBOX_STEP_RESOLVE, /* the host name to addresses */
	OUTBOX_STEP_CONNECT, /* a TCP connection to one of them */
	OUTBOX_STEP_TLS,     /* implicit TLS or STARTTLS, and the certificate */
	OUTBOX_STEP_EHLO,    /* the greeting and the capabilities */
	OUTBOX_STEP_AUTH,    /* the credentials */
	OUTBOX_STEP_COUNT
} outbox_doctor_step;

typedef enum {
	OUTBOX_STEP_RUNNING, /* reported when a step starts, so a front end can show it in progress */
	OUTBOX_STEP_OK,
	OUTBOX_STEP_FAILED,  /* the check stops here */
	OUTBOX_STEP_SKIPPED  /* not needed with this configuration (no TLS, no authentication) */
} outbox_step_status;

/* One field to set on the server to fix a failed step: the field and its new value, exactly as
 * outbox_server_set takes it. A fix is a few of these, applied in order. */
typedef struct {
	outbox_server_field_id field;
	const char *value;
} outbox_doctor_fix;

typedef struct {
	outbox_doctor_step step;
	outbox_step_status status;
	const char *name;   /* "signin", "resolve", "connect", "tls", "ehlo", "auth": stable, for JSON */
	const char *title;  /* "Resolve smtp.example.com": what a person reads */
	const char *detail; /* what was found, or the failure with the server's own words */
	const char *advice; /* on failure, what to change; "" otherwise */
	long long elapsed_ms; /* time the step took; 0 while running */
	const outbox_signin *signin; /* the sign-in state, in the signin step's end; else NULL */
	/* The advice in a form's words: field labels ("set Security to TLS and Port to 465") where
	 * `advice` names command-line options; "" when advice is "". */
	const char *form_advice;
	const char *form_detail; /* the detail in the same words: options named by their labels */
	/* On failure, when a change of fields is the fix `advice` gives: those fields, else NULL
	 * and 0. The same decision as the advice's words, so a front end can offer to apply it. */
	const outbox_doctor_fix *fix;
	size_t nfix;
} outbox_doctor_report;

/* Called once when each step starts and once when it ends; the report is valid during the call. */
typedef void (*outbox_doctor_callback)(void *ctx, const outbox_doctor_report *report);

/* Run the connection steps for a server draft (saved or not, so a form can check unsaved edits),
 * using the draft's new password if one was set, else the stored one. A server with an OAuth
 * provider first reports its sign-in (step "signin"); one that cannot log in (not signed in, signed
 * in for another user, expired with no refresh token) ends the check there, and the login uses the
 * access token as sending does, refreshed when it is due. Nothing is sent: the session ends with
 * QUIT after AUTH. Returns 0 when every step passed, else the failed step's code
 * (OUTBOX_ETEMPFAIL, OUTBOX_EUNAVAILABLE, OUTBOX_EAUTH, ...) with the handle's message set. */
int outbox_doctor_check(outbox *h, const outbox_server *s, outbox_doctor_callback cb, void *ctx);

/* The same, also passing the conversation to `transcript` as it happens, one line at a time ('>'
 * sent, '<' received), AUTH data redacted and the server's control and bidi characters shown as
 * escapes, as `outbox send -v` shows it. `cb` and `transcript` may each be NULL; both get `ctx`. */
int outbox_doctor_check_transcript(outbox *h, const outbox_server *s, outbox_doctor_callback cb,
				   void (*transcript)(void *ctx, char direction, const char *line, size_t len),
				   void *ctx);

#ifdef __cplusplus
}
#endif
#endif
