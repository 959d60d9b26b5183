/* helo.h: the name this host gives in EHLO (helo.c): the server's own setting, else the host's
 * fully qualified name, else an address literal of the connection's local address. */
#ifndef OUTBOX_HELO_H
#define OUTBOX_HELO_H

#include <stddef.h>
#include <sys/socket.h>
#include "outbox/server.h"

/* The choice itself, pure for the tests: `host` (gethostname) when it has a dot, else
 * `canonical` (its AI_CANONNAME) when that has one, neither a localhost name; else the literal
 * of `local` ("[192.0.2.1]", "[IPv6:2001:db8::1]"; NULL when unknown); else `host`; else
 * "localhost". Names that are not plain ASCII host names are passed over. */
void helo_choose(const char *host, const char *canonical, const struct sockaddr *local, char *out,
		 size_t size);
/* Start finding this host's names for a session about to connect to `s` (nothing when `s` has a
 * helo setting): from the store `h` remembers them in (NULL: none), else by a lookup in the
 * background (a thread, the resolver's files, perhaps a name server), which then overlaps the
 * server's lookup, the connection and its greeting instead of following them. Once per process. */
void helo_prefetch(outbox *h, const outbox_server *s);
/* The name to give server `s` on the connected socket `fd`: its helo setting, else helo_choose
 * with this host's names (found once per process; once looked up, remembered in the store `h`,
 * unless NULL) and the socket's local address. */
void helo_name(outbox *h, const outbox_server *s, int fd, char *out, size_t size);

#endif
