/* address_set.h: a set of addresses that tells a duplicate recipient in constant time, so a list
 * of ~100,000 (a 1 MiB header, a long command line) is cut to its distinct addresses in one pass. */
#ifndef OUTBOX_ADDRESS_SET_H
#define OUTBOX_ADDRESS_SET_H

#include <stddef.h>

/* The addresses are the caller's and must outlive the set; the set only points at them. */
struct address_set {
	const char **slot; /* open addressing; NULL marks a free slot */
	size_t cap, count; /* cap is 0 or a power of two */
};

#define ADDRESS_SET_INIT {NULL, 0, 0}

/* Two addresses are the same recipient when they are equal but for ASCII case, in the local
 * part as in the domain (RFC 5321 lets a server tell local parts apart by case, but hardly one
 * does, and mailing a person twice is the worse failure). 1 when `address` is new and was
 * added, 0 when the set had it already, -1 out of memory. */
int address_set_add(struct address_set *set, const char *address);
void address_set_free(struct address_set *set);

#endif
