/* removal_plan.h: what removing a server changes (accounts moved, the default, fallback lists),
 * decided once here for both the removal itself and the front ends' confirmation. */
#ifndef OUTBOX_REMOVAL_PLAN_H
#define OUTBOX_REMOVAL_PLAN_H

#include "outbox/server.h"

/* One account the removal touches: it uses the server, or lists it as a fallback. */
struct removal_account {
	long long id;
	char *address;
	int moves;            /* uses the server: moves to the target */
	char *before_ids;     /* its fallback list as stored, "3,7,9" (journalled for undo) */
	char *after_ids;      /* what the removal writes */
	char **before, **after; /* the same as names (live servers only), NULL-terminated */
	size_t nbefore, nafter;
};

struct outbox_server_removal {
	long long server_id, target_id;
	char *server, *target;
	int was_default, others, needs_target;
	char **moved;
	size_t nmoved;
	struct removal_account *acc;
	size_t nacc;
};

/* Inside the caller's transaction (or a read): the plan for removing the loaded server `s`,
 * its accounts moving to `reassign` (NULL: none). */
int removal_plan_build(outbox *h, const outbox_server *s, const char *reassign, outbox_server_removal **out);
/* Fails with the handle's error (OUTBOX_EINUSE) when the plan needs a target it does not have. */
int removal_plan_check(outbox *h, const outbox_server_removal *p);

#endif
