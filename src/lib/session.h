/* session.h: one connection to one server, driven over net and tls by the smtp engine: open it
 * (connect, TLS, EHLO, AUTH), carry one or more transactions, close it. */
#ifndef OUTBOX_SESSION_H
#define OUTBOX_SESSION_H

#include "outbox/server.h"
#include "smtp.h"

struct session;

struct session_params {
	const outbox_server *server;
	const char *password;  /* NULL when the server has none */
	void (*transcript)(void *ctx, char direction, const char *line, size_t len);
	void *transcript_ctx;
};

/* Connect and get the server ready for a transaction. On failure *out is NULL and the handle
 * says what went wrong; the code is an OUTBOX_E* that deliver turns into an exit status. */
int session_open(outbox *h, const struct session_params *p, struct session **out);
/* Carry one transaction, the body read from body_fd (CRLF form, t->size bytes, from its current
 * offset). Returns 0 when the transaction ran to its end (t->outcome and the recipients say how it
 * went), or a negative code when the session failed (the session is then unusable). */
int session_send(outbox *h, struct session *s, struct smtp_txn *t, int body_fd);
/* QUIT if not yet sent, wait briefly for the reply, close. NULL is fine. */
void session_close(outbox *h, struct session *s);
/* The engine, for capabilities and the mechanism used. */
const struct smtp *session_engine(const struct session *s);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384" or "" without TLS. */
const char *session_tls_description(const struct session *s);

#endif
