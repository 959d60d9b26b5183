/* account_internal.h: the account draft as the library sees it, shared by the model (account.c)
 * and its persistence (account_store.c). */
#ifndef OUTBOX_ACCOUNT_INTERNAL_H
#define OUTBOX_ACCOUNT_INTERNAL_H

#include "outbox/account.h"
#include "record.h"

struct outbox_account {
	struct record rec;
	long long id;
	long long revision;
	char **fallbacks; /* server names, in order */
};

extern const struct field_spec account_fields[OUTBOX_ACCOUNT_FIELD_COUNT];

struct retry_policy;
/* The account's retry schedule, or retry_default for no account (NULL) or, should the database
 * have been edited by hand, for durations that do not make a schedule. */
void account_retry_policy(const outbox_account *a, struct retry_policy *policy);

#endif
