/* outbox/account.h: mail accounts, each sending through its chosen outgoing server.
 * The same draft shape as servers: set checked fields, then save in one transaction. */
#ifndef OUTBOX_ACCOUNT_H
#define OUTBOX_ACCOUNT_H

#include <stddef.h>
#include "error.h"
#include "field.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct outbox_account outbox_account;

typedef enum {
	OUTBOX_ACCOUNT_ADDRESS,  /* the sender address, unique */
	OUTBOX_ACCOUNT_NAME,     /* display name for From */
	OUTBOX_ACCOUNT_SERVER,   /* the "Outgoing Mail Server" */
	OUTBOX_ACCOUNT_FALLBACK, /* servers to try in order when the server is unavailable */
	OUTBOX_ACCOUNT_ONLY_THIS_SERVER,
	OUTBOX_ACCOUNT_DEFAULT,
	/* The outbox's retry schedule for this account's messages, as durations ("1m", "1h", "5d"):
	 * the first retry, the longest wait the doubling grows to, and when to give up. */
	OUTBOX_ACCOUNT_RETRY_FIRST,
	OUTBOX_ACCOUNT_RETRY_MAX,
	OUTBOX_ACCOUNT_GIVE_UP,
	OUTBOX_ACCOUNT_FIELD_COUNT
} outbox_account_field_id;

const outbox_field *outbox_account_field_info(outbox_account_field_id id);
int outbox_account_field_by_key(const char *key);

outbox_account *outbox_account_new(void);
int outbox_account_load(outbox *h, const char *address, outbox_account **out);
void outbox_account_free(outbox_account *a);

const char *outbox_account_get(const outbox_account *a, outbox_account_field_id id);
int outbox_account_set(outbox *h, outbox_account *a, outbox_account_field_id id, const char *value);
/* The fallback servers, in order, NULL-terminated. */
const char *const *outbox_account_fallbacks(const outbox_account *a);

int outbox_account_validate(outbox *h, const outbox_account *a);
int outbox_account_save(outbox *h, outbox_account *a);
/* Changes a load-modify-save caller makes to the freshly loaded draft: 0 or a negative code. */
typedef int (*outbox_account_edit_fn)(outbox *h, outbox_account *a, void *ctx);
/* Load `address`, apply the changes and save, all in one write transaction, so the draft never
 * goes stale (see outbox_server_edit). On success *out is the saved account, to free. */
int outbox_account_edit(outbox *h, const char *address, outbox_account_edit_fn apply, void *ctx,
			outbox_account **out);

int outbox_account_list(outbox *h, outbox_account ***out, size_t *count);
void outbox_account_list_free(outbox_account **list, size_t count);

/* Choose the account's outgoing server: load, set, save in one call. */
int outbox_account_set_server(outbox *h, const char *address, const char *server);
/* Remove an account; undoable unless flags has OUTBOX_REMOVE_PURGE. */
int outbox_account_remove(outbox *h, const char *address, unsigned flags);

#ifdef __cplusplus
}
#endif
#endif
