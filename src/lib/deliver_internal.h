/* deliver_internal.h: what one-shot sending shares between its files (deliver.c reads and queues
 * the message, deliver_route.c carries it along the servers) and with the queue runner and the
 * doctor: fetching a server's password. */
#ifndef OUTBOX_DELIVER_INTERNAL_H
#define OUTBOX_DELIVER_INTERNAL_H

#include <sys/types.h>
#include "buf.h"
#include "dsn.h"
#include "outbox/send.h"
#include "outbox/server.h"
#include "policy.h"
#include "transcript.h"

/* The password from the keyring or file, or by running the server's command; NULL without one.
 * For an OAuth server, its access token; *refreshed (may be NULL) says whether it came from the
 * provider just now (oauth_token_access). */
int deliver_password(outbox *h, const outbox_server *s, struct transcript verbose, char **password,
		     int *refreshed);
/* The output of the server's password command (the draft's, for the doctor), bounded by the
 * server's timeout. */
int deliver_password_command(outbox *h, const outbox_server *s, char **password);

/* deliver_envelope.c. An envelope address checked: no leading "-" or line break, valid, and a
 * name without a domain handed to deliver_local_name. */
int deliver_check_envelope(outbox *h, const char *field, const char *address);
/* A name without a domain: a recipient with an alias (deliver_expand expands it), else refused. */
int deliver_local_name(outbox *h, const char *field, const char *name);
/* Each argument read as an RFC 5322 address list ("Bob <bob@x>", "<bob@x>", "a@x, b@y"), every
 * address checked; *out is a NULL-terminated strv (strv_free), NULL when args has none. */
int deliver_envelope_recipients(outbox *h, const char *const *args, char ***out);
/* -f without the angle brackets some callers put around it (into buf when it had them). */
const char *deliver_sender_given(const char *from, char *buf, size_t size);
/* The envelope sender for `given` (-f without brackets, or NULL for the account's address): ""
 * stays the null sender, a bare name gets the account's domain; checked. Free *out. */
int deliver_envelope_sender(outbox *h, const char *given, const char *account_address, char **out);

struct send_rcpt {
	char *address;
	outbox_rcpt_state state; /* DEFERRED while still to be tried */
	int temporary;           /* DEFERRED for a reason that may pass (the policy's word) */
	char *reply;             /* the words that explain the state */
};

struct outbox_send_result {
	long long queue_id;     /* the outbox entry holding the recipients still to be tried, or 0 */
	long long next_attempt; /* when that entry is tried next */
	char *account;
	char *server;           /* the server of the last attempt */
	char *message_id;
	long long size;
	size_t count;
	struct send_rcpt *rcpt;
};

/* The message as the route needs it: read and spooled already. */
struct deliver_message {
	const char *sender;     /* "" for the null sender */
	const struct dsn_request *dsn;
	const char *message_id;
	off_t size;
	int body_8bit, smtputf8;
	int fd; /* the spool file, read from its start for each attempt */
};

/* One attempt, as the history records it once the route has ended. */
struct deliver_attempt {
	char server[128];
	struct buf recipients;  /* the addresses it carried, comma-separated */
	struct buf reply;       /* the words that explain it: the failure, or the first answer that
				   is not a delivery, else the 250 */
	size_t delivered, refused, open;
	size_t open_temporary; /* of the open ones, those held by what may pass */
};

/* A message's way along its servers. */
struct deliver_route {
	struct policy_route policy;
	struct deliver_attempt *attempts;
	size_t n;
	struct buf why; /* why recipients were left: each attempt's words, named by server when the
			   route took more than one */
};

/* Carry the message to res's recipients along `chain` (the account's server, then its fallbacks),
 * deciding after each attempt with the policy: recipients left by a failed server go to the
 * next, with a notice that says why. Each recipient ends DELIVERED, REFUSED, UNCERTAIN or
 * DEFERRED (left open), with its reply; `route` holds the tally and the words. Fails only when
 * memory runs out (before or between attempts). */
int deliver_route_run(outbox *h, const outbox_send_request *req, char *const *chain, const struct deliver_message *m,
		      outbox_send_result *res, struct deliver_route *route);
/* Record each attempt in the history, the last one as `end` settled what it left open. */
void deliver_route_record(outbox *h, const struct deliver_route *route, enum policy_end end, const char *account,
			  const struct deliver_message *m);
void deliver_route_free(struct deliver_route *route);

#endif
