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

/* The servers a message goes through, in order: `server` alone when one is named (send --server,
 * or a message queued for that server), else the account's server and, unless the account uses
 * only that one, its fallbacks. The one list send and the queue runner both follow. *chain is a
 * NULL-terminated strv (strv_free); a NULL account with no server gives an empty one. */
int account_server_chain(outbox *h, const outbox_account *a, const char *server, char ***chain);

/* Check and write the account in the write transaction the caller began, without committing:
 * on failure the caller rolls back (and a new account's id is then stale: zero it). */
int account_write_checked(outbox *h, outbox_account *a);

/* The default account, or OUTBOX_ECONFIG saying how to make one. */
int account_load_default(outbox *h, outbox_account **out);

#endif
