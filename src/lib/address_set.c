/* address_set.c: the set of recipients already named, hashed without case, so dropping
 * duplicates costs one lookup per address instead of a comparison with every earlier one. */
#include <stdint.h>
#include <stdlib.h>

#include "address_set.h"

static unsigned char address_set_fold(char c)
{
	return (unsigned char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
}

/* ASCII case only, whatever the locale: strcasecmp would fold Latin-1 bytes in a Latin-1
 * locale, and the hash below must agree with the comparison. */
static int address_set_same(const char *a, const char *b)
{
	for (; *a && address_set_fold(*a) == address_set_fold(*b); a++, b++)
		;
	return address_set_fold(*a) == address_set_fold(*b);
}

/* FNV-1a over the case-folded bytes: addresses the same but for case hash alike. */
static uint64_t address_set_hash(const char *s)
{
	uint64_t h = 14695981039346656037u;

	for (; *s; s++)
		h = (h ^ address_set_fold(*s)) * 1099511628211u;
	return h;
}

/* The slot holding `address`, or the free slot where it would go. */
static size_t address_set_find(const struct address_set *set, const char *address)
{
	size_t mask = set->cap - 1, i = (size_t)address_set_hash(address) & mask;

	while (set->slot[i] != NULL && !address_set_same(set->slot[i], address))
		i = (i + 1) & mask;
	return i;
}

/* Keep the table at most half full, so a probe ends after a slot or two. */
static int address_set_grow(struct address_set *set)
{
	struct address_set bigger = {NULL, set->cap ? set->cap * 2 : 64, set->count};
	size_t i;

	if (bigger.cap < set->cap || (bigger.slot = calloc(bigger.cap, sizeof *bigger.slot)) == NULL)
		return -1;
	for (i = 0; i < set->cap; i++)
		if (set->slot[i] != NULL)
			bigger.slot[address_set_find(&bigger, set->slot[i])] = set->slot[i];
	free(set->slot);
	*set = bigger;
	return 0;
}

int address_set_add(struct address_set *set, const char *address)
{
	size_t i;

	if (2 * (set->count + 1) > set->cap && address_set_grow(set) < 0)
		return -1;
	i = address_set_find(set, address);
	if (set->slot[i] != NULL)
		return 0;
	set->slot[i] = address;
	set->count++;
	return 1;
}

void address_set_free(struct address_set *set)
{
	free(set->slot);
	set->slot = NULL;
	set->cap = set->count = 0;
}
