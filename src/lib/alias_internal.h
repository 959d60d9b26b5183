/* alias_internal.h: what delivery asks of the alias table (alias.c): whether a recipient is a
 * local name, and the addresses it stands for. */
#ifndef OUTBOX_ALIAS_INTERNAL_H
#define OUTBOX_ALIAS_INTERNAL_H

#include <stddef.h>
#include "outbox/error.h"

/* Whether `name` is a local name an alias could have: a dot-atom of at most 64 bytes, no '@',
 * not starting with '-'. */
int alias_is_local_name(const char *name);
/* Append the addresses local name `name` stands for (its alias, else the "default" alias) to *out,
 * an strv of *n entries (strv_append); OUTBOX_ENOUSER, naming the command that adds one, when
 * neither exists. The addresses have domains: expansion is one level. */
int alias_expand(outbox *h, const char *name, char ***out, size_t *n);
/* `addresses` (an address list) checked and as the store keeps it, "a@x, b@y", in *out (malloc'd):
 * what outbox_alias_set stores, for a caller that must know first (the msmtp import's dry run). */
int alias_normalize(outbox *h, const char *addresses, char **out);

#endif
