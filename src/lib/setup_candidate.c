/* setup_candidate.c: the growing list of candidates the sources of `outbox setup` fill, each
 * source appending its own; copies, so a source's buffers can go when it is done. */
#include <stdlib.h>

#include "handle_internal.h"
#include "setup_candidate.h"

int setup_candidates_add(outbox *h, struct setup_candidates *list, const struct setup_candidate *c)
{
	if (list->n == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 8;
		struct setup_candidate *v = realloc(list->v, cap * sizeof *v);

		if (v == NULL)
			return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
		list->v = v;
		list->cap = cap;
	}
	list->v[list->n++] = *c;
	return 0;
}

void setup_candidates_free(struct setup_candidates *list)
{
	free(list->v);
	list->v = NULL;
	list->n = list->cap = 0;
}
