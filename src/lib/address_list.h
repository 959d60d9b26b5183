/* address_list.h: the addr-specs in an RFC 5322 address list (To, Cc, Bcc, From, Resent-*), found by
 * a lenient parser that knows display names, quoted strings, comments, angle brackets and groups. */
#ifndef OUTBOX_ADDRESS_LIST_H
#define OUTBOX_ADDRESS_LIST_H

#include <stddef.h>

/* Called with each address; return 0 to go on, > 0 to stop early, < 0 to stop with that code. */
typedef int (*address_list_fn)(void *ctx, const char *addr);

/* Calls `fn` with each addr-spec of the field body s[0..len), in order, without display names,
 * comments or brackets; folding (CRLF + WSP) may still be in it. An element without angle
 * brackets is passed on as written (minus comments), so a typo reaches the caller's validation
 * rather than vanishing. Returns 0, fn's negative code, or OUTBOX_ENOMEM. */
int address_list_parse(const char *s, size_t len, address_list_fn fn, void *ctx);

#endif
