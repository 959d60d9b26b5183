/* setup_result.h: the discovery run behind a public outbox_setup_result, for the library's own
 * files (setup_save.c reads the chosen candidate and the login from it). */
#ifndef OUTBOX_SETUP_RESULT_H
#define OUTBOX_SETUP_RESULT_H

#include "outbox/setup.h"
#include "setup_discover.h"

struct setup_result {
	outbox_setup_result pub; /* first: the pointer the caller holds is the whole struct's */
	struct setup_discovery run;
	outbox_setup_lookup *lookups;
	outbox_setup_candidate *candidates;
	char address[320];
	char tried[SETUP_VERIFY_FORMS * 322];
};

/* The run a result shows. */
const struct setup_discovery *setup_result_run(const outbox_setup_result *pub);

#endif
