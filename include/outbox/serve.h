/* outbox/serve.h: `sendmail -bs`: an SMTP server on a pair of file descriptors (standard input
 * and output), handing each message it is given to outbox_send with the envelope of MAIL and RCPT. */
#ifndef OUTBOX_SERVE_H
#define OUTBOX_SERVE_H

#include "error.h"
#include "send.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
	/* Each message goes out with these settings (account, server, queue_only, no_queue,
	 * full_name, transcript, notice; dsn_notify, dsn_ret and dsn_envid where the client gives
	 * no NOTIFY, RET or ENVID, and a bad one is refused before the greeting); its envelope_from
	 * and recipients come from MAIL FROM and RCPT TO, and extract_recipients and dot_ends_input
	 * are not used. */
	outbox_send_request send;
	const char *hostname;  /* the name in the greeting; NULL: "localhost" */
	int idle_seconds;      /* how long to wait for the client's next bytes; 0: 300 (RFC 5321 4.5.3.2) */
} outbox_serve_options;

/* Speak SMTP (RFC 5321 with PIPELINING, 8BITMIME, SMTPUTF8, DSN, ENHANCEDSTATUSCODES) reading from
 * in_fd and writing to out_fd until QUIT. Each message's data is spooled to an unnamed file in
 * the store (memory stays bounded), then sent; the reply to its DATA is 250 when every recipient
 * has it or waits in the outbox, 554 when one was refused, 451 when it did not go and was not
 * queued (smtpd_verdict in smtpd.c decides, in one place). Returns 0 after QUIT or at the end of
 * the input between transactions; OUTBOX_ETEMPFAIL when the input ended or went quiet in the
 * middle of one (that message was not accepted); OUTBOX_EIO when a read or write failed;
 * OUTBOX_EINVALID, naming the flag, for a bad dsn_* setting, before anything is written. */
int outbox_serve_stdio(outbox *h, int in_fd, int out_fd, const outbox_serve_options *opt);

#ifdef __cplusplus
}
#endif
#endif
