/* auth_advice.h: what a refused login means and what to do, from the providers' tell-tale replies
 * to AUTH, as one table; `send`, `queue run` and `server check` all take their words from it. */
#ifndef OUTBOX_AUTH_ADVICE_H
#define OUTBOX_AUTH_ADVICE_H

#include <stddef.h>
#include "smtp_reply.h"

/* Who logged in: with a password (or a token from a password command), or with the token of
 * outbox's own OAuth sign-in (the server has --oauth), where the fix is to sign in again. */
enum auth_advice_login { AUTH_ADVICE_PASSWORD, AUTH_ADVICE_OAUTH };

/* The fix for a refused or missing OAuth sign-in, to be followed by the server's name: the one
 * source of these words for the advice table, the token store and the doctor. */
#define AUTH_ADVICE_SIGN_IN_AGAIN "sign in again: outbox server login "

/* The advice for reply `r` to AUTH, naming server `name` in the commands to run, into out (cut
 * to fit size). Matched on the enhanced status code first, then on the reply's words, never on
 * the whole text. Returns 1 when a row matched, 0 (out "") when the reply is not a known one. */
int auth_advice_words(const struct smtp_reply *r, enum auth_advice_login login, const char *name, char *out,
		      size_t size);

#endif
