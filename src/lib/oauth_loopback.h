/* oauth_loopback.h: the redirect listener of the browser sign-in (RFC 8252 section 7.3): one port
 * on 127.0.0.1, one request that carries the code, one short page back to the browser. */
#ifndef OUTBOX_OAUTH_LOOPBACK_H
#define OUTBOX_OAUTH_LOOPBACK_H

#include "outbox/error.h"

struct oauth_loopback {
	int fd;
	int port;
	char redirect_uri[40]; /* http://127.0.0.1:PORT/ */
};

/* Listen on 127.0.0.1 on a port the system picks. */
int oauth_loopback_open(outbox *h, struct oauth_loopback *lb);
struct oauth_wait;

/* Accept requests until the one for "/" arrives or timeout_ms passes; others (a favicon) get a
 * 404. Its query must carry `state`, and then code (*code, malloc'd) or error (OUTBOX_EAUTH with
 * the provider's words). The browser is answered either way. w (may be NULL): its progress hears
 * the seconds left about once a second and cancels by returning non-zero (OUTBOX_EAUTH). */
int oauth_loopback_wait(outbox *h, struct oauth_loopback *lb, const char *state, long timeout_ms,
			const struct oauth_wait *w, char **code);
void oauth_loopback_close(struct oauth_loopback *lb);

#endif
