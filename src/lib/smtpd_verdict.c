/* smtpd_verdict.c: the reply `sendmail -bs` gives a message, from what outbox_send made of it:
 * the one place that decides between 250, 554 and 451 for the whole message. */
#include "smtpd.h"
#include "outbox/error.h"

int smtpd_verdict(int rc, const char **enhanced)
{
	switch (rc) {
	case OUTBOX_OK:
		*enhanced = "2.0.0";
		return 250;
	case OUTBOX_EREFUSED:
		*enhanced = "5.0.0";
		return 554;
	/* The message as given cannot go (a line too long, a NUL, too many recipients): sending it
	 * again will not help. */
	case OUTBOX_EINVALID:
		*enhanced = "5.6.0";
		return 554;
	/* Not sent because of how outbox is set up (the login, TLS, no account): not the client's
	 * fault, and it may go once the user fixes it, as Postfix says of its own configuration. */
	case OUTBOX_ECONFIG:
	case OUTBOX_EAUTH:
	case OUTBOX_EUNAVAILABLE:
	case OUTBOX_ENOTFOUND:
		*enhanced = "4.3.5";
		return 451;
	default:
		*enhanced = "4.3.0";
		return 451;
	}
}
