/* net_lookup.h: getaddrinfo with a deadline. The system resolver has no timeout of its own that a
 * caller can set (a dead name server costs its own 5 s times its retries), so it runs aside. */
#ifndef OUTBOX_NET_LOOKUP_H
#define OUTBOX_NET_LOOKUP_H

struct addrinfo;

/* getaddrinfo(name, service, hints, res), given up at `deadline_ms` (net_now_ms's clock): then it
 * returns EAI_AGAIN with *timed_out set, and the lookup finishes and cleans up in the background.
 * Otherwise the result is getaddrinfo's, *timed_out 0. */
int net_lookup(const char *name, const char *service, const struct addrinfo *hints, long long deadline_ms,
	       struct addrinfo **res, int *timed_out);

#endif
