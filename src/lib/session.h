/* session.h: one connection to one server, driven over net and tls by the smtp engine: open it
 * (connect, TLS, EHLO, AUTH), carry one or more transactions, close it. */
#ifndef OUTBOX_SESSION_H
#define OUTBOX_SESSION_H

#include "outbox/server.h"
#include "smtp.h"

struct session;

/* The steps of session_open, in order, for a caller that reports progress (the doctor). With
 * STARTTLS the greeting and the first EHLO belong to the TLS step; the EHLO step is the one whose
 * capabilities count. TLS is left out without TLS, AUTH when no login is needed. */
enum session_step { SESSION_STEP_CONNECT, SESSION_STEP_TLS, SESSION_STEP_EHLO, SESSION_STEP_AUTH };

struct session_event {
	enum session_step step;
	int rc;                         /* 0 when the step ended well, else its code (the handle says why) */
	const char *peer;               /* the address connected to, or "" */
	const char *tls;                /* "TLSv1.3 TLS_AES_256_GCM_SHA384" once TLS is up, or "" */
	const char *greeting;           /* the first line of the greeting, or "" */
	const char *helo;               /* the name given in EHLO (helo.c), or "" before connecting */
	const char *local;              /* this side's address as an EHLO literal ("[192.0.2.1]"), or "" */
	const struct smtp_caps *caps;   /* what the EHLO that counts offered (all zero before it) */
	const char *mech;               /* the SASL mechanism once chosen, or NULL */
	const struct smtp_reply *reply; /* the server's last reply, or NULL */
};

struct session_params {
	const outbox_server *server;
	const char *password;  /* NULL when the server has none */
	void (*transcript)(void *ctx, char direction, const char *line, size_t len);
	void *transcript_ctx;
	/* Optional: told as each step of session_open ends, well or not; sending leaves it NULL. */
	void (*step)(void *ctx, const struct session_event *ev);
	void *step_ctx;
	/* Optional: connect to this IP address instead of resolving the server's host name, for a
	 * caller that resolved it its own way (setup's --resolver); TLS still checks the host name. */
	const char *address;
	/* Optional: a time (net_now_ms's clock) no wait of the session goes past, for a caller with
	 * one deadline for a whole probe (setup); 0: each wait gets the server's timeout. */
	long long deadline_ms;
	/* Optional: after this much silence where the greeting should be, ask the port on a second
	 * connection whether it speaks TLS, and keep waiting for the greeting when it does not; 0:
	 * do not. Either way, once the greeting wait is over the session's own connection is asked.
	 * Sending leaves it 0; the doctor asks early, since someone is watching. A port that
	 * answers TLS is a setting error (OUTBOX_EUNAVAILABLE, field "security"), never temporary. */
	long long greeting_probe_ms;
	/* Non-zero: a lookup of this host's name for EHLO is remembered in the store (helo_cache.c).
	 * Sending sets it; a check or a probe changes nothing in the store. */
	int remember_helo;
};

/* Connect and get the server ready for a transaction. On failure *out is NULL and the handle
 * says what went wrong; the code is an OUTBOX_E* that deliver turns into an exit status. */
int session_open(outbox *h, const struct session_params *p, struct session **out);
/* Carry one transaction, the body read from body_fd (CRLF form, t->size bytes, from its current
 * offset). Returns 0 when the transaction ran to its end (its replies, in t, say how it
 * went), or a negative code when the session failed (the session is then unusable). */
int session_send(outbox *h, struct session *s, struct smtp_txn *t, int body_fd);
/* session_send, and as soon as t's data is out, begin `next` (when not NULL) in the same flight,
 * so its MAIL, RCPT and DATA replies come back with t's (see smtp_begin_next). The caller then
 * sends `next` with session_send or session_send_then, as with any transaction; when the server
 * does not allow going ahead, that call simply begins it. */
int session_send_then(outbox *h, struct session *s, struct smtp_txn *t, int body_fd, struct smtp_txn *next);
/* QUIT if not yet sent and the server waits for a command (the session is ready, or a refusal
 * ended it in step: smtp_can_quit), wait briefly for the reply, close. NULL is fine. */
void session_close(outbox *h, struct session *s);
/* Close at once, without QUIT and without reading: for a caller that gives up on transactions
 * still on the wire, whose smtp_txn it is about to free. NULL is fine. */
void session_abort(outbox *h, struct session *s);
/* The engine, for capabilities and the mechanism used. */
const struct smtp *session_engine(const struct session *s);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384" or "" without TLS. */
const char *session_tls_description(const struct session *s);

#endif
