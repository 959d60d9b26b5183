/* outbox/alias.h: local names as recipients ("root", "postmaster"), each mapped to the addresses
 * that mail to it goes to, as an MTA's aliases file does; "default" catches every other name. */
#ifndef OUTBOX_ALIAS_H
#define OUTBOX_ALIAS_H

#include <stddef.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct outbox_alias outbox_alias;

/* The alias that catches every local name without an alias of its own. */
#define OUTBOX_ALIAS_DEFAULT "default"

/* Set alias `name` (a local name: no '@', no spaces) to `addresses` (an RFC 5322 address list,
 * "a@x, Bob <b@y>"), replacing what it had; checked, one transaction. Every address must have a
 * domain: an alias is expanded once, never into another alias. */
int outbox_alias_set(outbox *h, const char *name, const char *addresses);
int outbox_alias_remove(outbox *h, const char *name);   /* OUTBOX_ENOTFOUND when none */
int outbox_alias_list(outbox *h, outbox_alias ***out, size_t *count); /* ordered by name */
const char *outbox_alias_name(const outbox_alias *a);
const char *outbox_alias_addresses(const outbox_alias *a); /* normalized "a@x, b@y" */
void outbox_alias_list_free(outbox_alias **list, size_t count);

/* The alias `name` (names compare without regard to case); OUTBOX_ENOTFOUND when none. */
int outbox_alias_load(outbox *h, const char *name, outbox_alias **out);
void outbox_alias_free(outbox_alias *a);

#ifdef __cplusplus
}
#endif
#endif
