/* tls_probe.h: whether a port answers a TLS handshake, asked on a connection of its own, for a
 * session whose server stays silent where an SMTP greeting should come (an implicit-TLS port). */
#ifndef OUTBOX_TLS_PROBE_H
#define OUTBOX_TLS_PROBE_H

#include "outbox/error.h"

/* 1 when host:port completes a TLS handshake before deadline_ms (net_now_ms clock), whatever its
 * certificate: the port expects TLS from the first byte. 0 when it does not, or cannot be asked
 * (no connection, no answer by the deadline). The handle's error is left as it was. */
int tls_probe(outbox *h, const char *host, int port, long long deadline_ms);

#endif
