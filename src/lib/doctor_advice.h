/* doctor_advice.h: the doctor's words, as pure functions over what a step found: the capabilities
 * in a line, and for a failed step what happened (the server's own words where it spoke) and what
 * to change. No I/O, so each case is a table row in tests/unit/test_doctor.c. */
#ifndef OUTBOX_DOCTOR_ADVICE_H
#define OUTBOX_DOCTOR_ADVICE_H

#include <stddef.h>
#include "outbox/doctor.h"
#include "smtp_reply.h"

/* A failed step as the doctor saw it. Strings are never NULL ("" when unknown). */
struct doctor_failure {
	outbox_doctor_step step;
	int code;              /* the OUTBOX_E* code */
	const char *message;   /* the handle's message (outbox_errmsg) */
	const char *field;     /* the handle's field ("password", "tls-ca"), or "" */
	const char *reply;     /* the server's last reply on one line ("535 5.7.8 ..."), or "" */
	const char *name;      /* the server's name, for "outbox server edit NAME ..." */
	const char *host;
	int port;
	const char *security;  /* "tls", "starttls", "none" */
	const char *auth;      /* the --auth setting: "auto", "plain", ... */
	const char *user;
	const char *mech;      /* the mechanism tried, or "" */
	const struct smtp_reply *server_reply; /* the reply `reply` renders, or NULL */
	int oauth;             /* the server signs in with outbox's OAuth (--oauth), not a password */
	const char *helo;      /* the name given in EHLO, or ""; NULL counts as "" */
	const char *local;     /* this side's address as an EHLO literal ("[192.0.2.1]"), or ""; NULL too */
};

/* The fields to set when a change of fields is the fix: `set[i].value` points into `value`, so
 * the struct is filled where it lives and not copied. */
#define DOCTOR_FIX_MAX 3
struct doctor_fix {
	outbox_doctor_fix set[DOCTOR_FIX_MAX];
	char value[DOCTOR_FIX_MAX][256];
	size_t n;
};

/* "PIPELINING, CHUNKING, 8BITMIME, AUTH PLAIN LOGIN, SIZE 10240000", or "no extensions". */
void doctor_caps_words(const struct smtp_caps *caps, char *out, size_t size);

/* What failed (the server's words when its refusal ended the step, else the message, without
 * advice the library appended) and what to do, in plain words naming the options to set. When
 * `fix` is not NULL it gets the fields the advice sets, when a change of fields is the fix (n 0
 * when it is not): the command in the advice is written from it, so the two cannot disagree. */
void doctor_advise(const struct doctor_failure *f, char *detail, size_t detail_size, char *advice,
		   size_t advice_size, struct doctor_fix *fix);

/* The advice in a form's words: each "outbox server edit NAME --opt VALUE ..." becomes "set
 * Label to VALUE and ...", a lone "--opt" its label, "outbox server login NAME" and "outbox
 * server check NAME" the form's buttons; the labels come from the server field table. */
void doctor_form_words(const char *advice, char *out, size_t size); /* doctor_form.c */

#endif
