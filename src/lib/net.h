/* net.h: resolving a host and connecting to it: every address of both families, attempts staggered
 * rather than one full timeout after another, one deadline for the whole step. */
#ifndef OUTBOX_NET_H
#define OUTBOX_NET_H

#include <stddef.h>
#include <sys/types.h>
#include "outbox/error.h"

/* Milliseconds on a monotonic clock; deadlines are absolute values of it. */
long long net_now_ms(void);
/* What is left until deadline_ms in whole seconds, rounded up and at least 1: for the waits that
 * count in seconds (session.c's timeout, glibc's resolver), so none ends before the deadline and
 * none outlives it by more than a second. */
int net_seconds_left(long long deadline_ms);
/* AF_INET or AF_INET6 when `host` is an IP literal of that family (written without brackets), with
 * its bytes in addr[] when addr is not NULL; else 0. The one test of "an address, not a name". */
int net_ip_literal(const char *host, unsigned char addr[16]);

struct addrinfo;

/* Resolve host (as net_connect does: IP literals without a lookup, IDNA2008 names) into a list
 * for getaddrinfo's freeaddrinfo(), before `deadline_ms`. Errors as net_connect's for a name that
 * does not resolve; a resolver that has not answered by the deadline is OUTBOX_ETEMPFAIL.
 * net_connect resolves by itself; this is for a caller that reports the addresses (the doctor). */
int net_resolve(outbox *h, const char *host, int port, long long deadline_ms, struct addrinfo **res);

/* Connect to host:port (a DNS name, international names converted with IDNA2008, or an IP literal)
 * before `deadline_ms`. Addresses are tried in the resolver's order with families interleaved
 * (RFC 8305), a new attempt starting every 250 ms while earlier ones are still pending; the first
 * to connect wins and the others are closed. *fd is a connected, non-blocking, close-on-exec
 * socket with TCP_NODELAY. The DNS lookup counts against the same deadline. Errors:
 * OUTBOX_EUNAVAILABLE when the name does not resolve, OUTBOX_ETEMPFAIL for a temporary DNS
 * failure (a resolver with no answer by the deadline too), refused connections or the deadline;
 * the message names the host, port and each address's failure (field NULL). */
int net_connect(outbox *h, const char *host, int port, long long deadline_ms, int *fd);

/* Wait until fd is readable (events POLLIN) or writable (POLLOUT) or the deadline passes.
 * Returns 1 when ready, 0 at the deadline, -1 with errno on error. */
int net_wait(int fd, short events, long long deadline_ms);

/* A text form of the peer address of a connected socket ("192.0.2.1" or "2001:db8::1"). */
int net_peer_name(int fd, char *out, size_t size);

#endif
