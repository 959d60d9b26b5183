/* tls_probe.h: whether a port answers a TLS handshake, for a session whose server stays silent
 * where an SMTP greeting should come (an implicit-TLS port set up as starttls or none). */
#ifndef OUTBOX_TLS_PROBE_H
#define OUTBOX_TLS_PROBE_H

#include "outbox/error.h"

/* 1 when the server on the connected socket `fd` completes a TLS handshake before deadline_ms
 * (net_now_ms clock), whatever its certificate; 0 when it does not or does not answer in time.
 * The connection is spent either way: the caller only closes it. `host` is sent as SNI. The
 * handle's error is left as it was. */
int tls_probe_fd(outbox *h, int fd, const char *host, long long deadline_ms);
/* tls_probe_fd on a connection of its own to address:port, so the caller's stays as it is; 0
 * too when no connection can be made. */
int tls_probe(outbox *h, const char *address, int port, const char *host, long long deadline_ms);

#endif
