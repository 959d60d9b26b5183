/* tls.h: the TLS client (OpenSSL 3) for implicit TLS and STARTTLS: TLS 1.2 or newer, SNI, the
 * certificate and host name verified, optional SHA-256 pin and client certificate, channel binding. */
#ifndef OUTBOX_TLS_H
#define OUTBOX_TLS_H

#include <stddef.h>
#include <sys/types.h>
#include "outbox/error.h"

struct tls_conn;

struct tls_options {
	const char *host;      /* the name to verify and to send as SNI (none for an IP literal) */
	int verify;            /* check the chain against the system store or ca_file, and the name */
	const char *ca_file;   /* trust this file instead of the system store; NULL for the system */
	const char *pin;       /* 64 lowercase hex digits: SHA-256 of the server's DER certificate */
	const char *cert_file; /* client certificate and key, or NULL */
	const char *key_file;
};

/* Run the client handshake on the connected non-blocking socket `fd` before `deadline_ms`
 * (net_now_ms clock). The certificate must be present, verified when `verify`, and match `pin`
 * when given. Errors are OUTBOX_EUNAVAILABLE with a message that says which check failed in plain
 * words: "self-signed certificate", "signed by an unknown certificate authority", "the
 * certificate is for other.example, not smtp.example.org", "the certificate expired on ...",
 * "certificate pin mismatch: the server's SHA-256 is ...", plus what to do; OUTBOX_ETEMPFAIL for
 * a timeout or a connection lost during the handshake. The fd stays owned by the caller. */
int tls_connect(outbox *h, int fd, const struct tls_options *o, long long deadline_ms,
		struct tls_conn **out);
/* Read up to len bytes (at least one) before the deadline. Returns bytes read, 0 at a clean close,
 * or a negative outbox error code (OUTBOX_ETEMPFAIL on timeout or reset) with the message set. */
ssize_t tls_read(outbox *h, struct tls_conn *c, void *buf, size_t len, long long deadline_ms);
/* Write all of buf before the deadline. Returns 0 or a negative outbox error code. */
int tls_write(outbox *h, struct tls_conn *c, const void *buf, size_t len, long long deadline_ms);
/* Whether the last tls_read or tls_write failed because its deadline passed, so that a caller
 * whose deadline covers more than one call can say what ran out of time. */
int tls_timed_out(const struct tls_conn *c);
/* Whether decrypted bytes are already buffered (so a caller must not wait on the socket). */
int tls_pending(const struct tls_conn *c);
/* Channel binding data for SCRAM-PLUS: "tls-exporter" under TLS 1.3 (RFC 9266), "tls-unique"
 * under TLS 1.2 (RFC 5929). *type is static. Returns 0, or -1 when none is available. */
int tls_channel_binding(struct tls_conn *c, const char **type, unsigned char *out, size_t *len);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384", for the transcript and the doctor. */
const char *tls_description(const struct tls_conn *c, char *buf, size_t size);
/* Send close_notify (best effort, without waiting) and free. */
void tls_close(struct tls_conn *c);

#endif
