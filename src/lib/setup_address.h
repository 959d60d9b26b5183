/* setup_address.h: the one split of an address into its local part and its domain for `outbox
 * setup`, so that every part (URLs, pins, DNS, guesses, the trust rule, placeholders) sees one domain. */
#ifndef OUTBOX_SETUP_ADDRESS_H
#define OUTBOX_SETUP_ADDRESS_H

#include <stddef.h>
#include "outbox/error.h"

/* `name` (a domain or host name) in the form DNS, URLs and certificates use: lower case, no final
 * dot, each U-label as its A-label (IDNA2008, libidn2: "Bücher.test" is "xn--bcher-kva.test").
 * 0; OUTBOX_EINVALID (why in `why`) when it is no host name or does not fit `size`; OUTBOX_ENOMEM. */
int setup_address_ascii(const char *name, char *out, size_t size, char *why, size_t why_size);
/* The address's domain after its last "@", by setup_address_ascii, and the length of the local
 * part before it (a UTF-8 local part stays as it is typed). On failure, a one-line message on `h`
 * naming `field`. */
int setup_address_domain(outbox *h, const char *field, const char *address, char *out, size_t size,
			 size_t *local_len);

#endif
