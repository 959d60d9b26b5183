/* smtpd_serve.c: `sendmail -bs`: the reading and writing around the smtpd engine. Each message's
 * data streams into an unnamed spool file (bounded memory), then goes to outbox_send. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "deliver_internal.h"
#include "handle_internal.h"
#include "smtpd.h"
#include "spool.h"
#include "outbox/serve.h"

#define SERVE_READ (64 * 1024)  /* bytes read at a time */
#define SERVE_FLUSH (16 * 1024) /* replies held before they are written even with input waiting */
#define SERVE_IDLE 300          /* seconds: RFC 5321 4.5.3.2.7, the server's timeout */

struct serve {
	outbox *h;
	const outbox_serve_options *opt;
	int in_fd, out_fd;
	struct buf out;            /* replies not yet written */
	struct spool sp;
	struct spool_writer w;
	int have_spool, have_writer;
	int data_failed;           /* the message's data could not be kept: it gets a 451 */
	char data_why[200];
};

/* RCPT and MAIL addresses pass the same checks as `sendmail ADDRESS` and -f. */
static int serve_check(void *ctx, const char *field, const char *address, char *why, size_t size)
{
	struct serve *v = ctx;
	int rc = deliver_check_envelope(v->h, field, address);

	if (rc == 0)
		return 0;
	/* A local name no alias maps is a user who is not here (RFC 3463 5.1.1); anything else is an
	 * address that cannot be used as written. */
	snprintf(why, size, "%s %s", rc == OUTBOX_ENOUSER ? "550 5.1.1" : "553 5.1.3", outbox_errmsg(v->h));
	outbox_clear_error(v->h);
	return -1;
}

static int serve_write(struct serve *v, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(v->out_fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return outbox_fail(v->h, OUTBOX_EIO, NULL, "writing a reply to the client failed: %s",
					   n < 0 ? strerror(errno) : "nothing was written");
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Replies wait until the engine needs more input, so a pipelined group gets its replies in one
 * write (RFC 2920: the server flushes before it would wait for input). */
static int serve_flush(struct serve *v)
{
	int rc = v->out.len ? serve_write(v, v->out.data, v->out.len) : 0;

	buf_reset(&v->out);
	return rc;
}

static int serve_reply(struct serve *v, const struct smtpd *s)
{
	if (buf_append(&v->out, s->reply, s->reply_len) < 0)
		return outbox_fail(v->h, OUTBOX_ENOMEM, NULL, "out of memory");
	return v->out.len >= SERVE_FLUSH ? serve_flush(v) : 0;
}

/* Up to `size` bytes from the client; 0 at the end of input; OUTBOX_ETEMPFAIL when it stays
 * silent past the idle time. */
static ssize_t serve_read(struct serve *v, char *buf, size_t size)
{
	struct pollfd p = {v->in_fd, POLLIN, 0};
	int idle = v->opt->idle_seconds > 0 ? v->opt->idle_seconds : SERVE_IDLE, n;
	ssize_t r;

	do
		n = poll(&p, 1, idle * 1000);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return outbox_fail(v->h, OUTBOX_ETEMPFAIL, NULL, "the client sent nothing for %d seconds", idle);
	if (n < 0)
		return outbox_fail(v->h, OUTBOX_EIO, NULL, "waiting for the client failed: %s", strerror(errno));
	do
		r = read(v->in_fd, buf, size);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return outbox_fail(v->h, OUTBOX_EIO, NULL, "reading from the client failed: %s", strerror(errno));
	return r;
}

/* An unnamed file in the store's spool: on the store's disk, not in memory (/tmp may be tmpfs),
 * and gone by itself however the process ends. */
static void serve_data(struct serve *v, const char *data, size_t len)
{
	ssize_t n;

	if (v->data_failed)
		return;
	if (!v->have_spool && spool_open_dir(v->h, &v->sp) == 0)
		v->have_spool = 1;
	if (v->have_spool && !v->have_writer && spool_begin(v->h, &v->sp, &v->w) == 0)
		v->have_writer = 1;
	while (v->have_writer && len > 0) {
		n = write(v->w.fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			outbox_fail(v->h, OUTBOX_EIO, NULL, "keeping the message failed: %s",
				    n < 0 ? strerror(errno) : "nothing was written");
			break;
		}
		data += n;
		len -= (size_t)n;
	}
	if (!v->have_writer || len > 0) {
		/* Keep reading to the end of the data, so the session stays in step, then say 451. */
		v->data_failed = 1;
		snprintf(v->data_why, sizeof v->data_why, "%s", outbox_errmsg(v->h));
		outbox_clear_error(v->h);
	}
}

static void serve_end_message(struct serve *v)
{
	if (v->have_writer)
		spool_writer_close(&v->w);
	v->have_writer = 0;
	v->data_failed = 0;
}

/* The message is complete: send it as outbox_send does for `sendmail RECIPIENT...`, and put the
 * outcome in the one reply DATA has. */
static void serve_deliver(struct serve *v, struct smtpd *s)
{
	outbox_send_request req = v->opt->send;
	outbox_send_result *res = NULL;
	const char *enhanced;
	char words[SMTPD_MAX_REPLY];
	int rc, code;

	serve_data(v, "", 0); /* an empty message still needs its file */
	if (v->data_failed) {
		smtpd_delivered(s, 451, "4.3.0", v->data_why);
		serve_end_message(v);
		return;
	}
	req.envelope_from = s->sender;
	req.recipients = (const char *const *)s->recipients;
	req.extract_recipients = 0;
	req.dot_ends_input = 0;
	/* What the client asked on MAIL and RCPT; where it asked nothing, the command line's (-N,
	 * -R, -V) or outbox's default. outbox_send checks them again, in the one place. */
	if (*s->dsn.notify)
		req.dsn_notify = s->dsn.notify;
	if (*s->dsn.ret)
		req.dsn_ret = s->dsn.ret;
	if (*s->dsn.envid)
		req.dsn_envid = s->dsn.envid;
	if (lseek(v->w.fd, 0, SEEK_SET) != 0)
		rc = outbox_fail(v->h, OUTBOX_EIO, NULL, "reading the kept message failed: %s", strerror(errno));
	else
		rc = outbox_send(v->h, v->w.fd, &req, &res);
	code = smtpd_verdict(rc, &enhanced);
	if (rc == 0 && outbox_send_result_queue_id(res))
		snprintf(words, sizeof words, "Ok: queued as %lld: %s", outbox_send_result_queue_id(res),
			 outbox_errmsg(v->h));
	else if (rc == 0)
		snprintf(words, sizeof words, "Ok: delivered as <%s>", outbox_send_result_message_id(res));
	else
		snprintf(words, sizeof words, "%s", outbox_errmsg(v->h));
	smtpd_delivered(s, code, enhanced, words);
	outbox_clear_error(v->h);
	outbox_send_result_free(res);
	serve_end_message(v);
}

/* One pass of the session: read, feed the engine, act on each event, until QUIT or the end. */
static int serve_loop(struct serve *v, struct smtpd *s)
{
	char *in = malloc(SERVE_READ);
	size_t off = 0, len = 0;
	enum smtpd_event ev;
	ssize_t n;
	int rc = 0;

	if (in == NULL)
		return outbox_fail(v->h, OUTBOX_ENOMEM, NULL, "out of memory");
	smtpd_greeting(s);
	if ((rc = serve_reply(v, s)) < 0)
		goto out;
	for (;;) {
		if (off == len) {
			if ((rc = serve_flush(v)) < 0)
				goto out;
			if ((n = serve_read(v, in, SERVE_READ)) < 0) {
				/* Gone quiet: say so before closing, as RFC 5321 4.5.3.2 describes. */
				rc = (int)n;
				if (rc == OUTBOX_ETEMPFAIL && buf_puts(&v->out, "421 4.4.2 Error: timeout exceeded\r\n") == 0)
					serve_write(v, v->out.data, v->out.len);
				goto out;
			}
			if (n == 0) {
				if (smtpd_eof(s))
					rc = outbox_fail(v->h, OUTBOX_ETEMPFAIL, NULL, "the input ended in the middle "
							 "of a message, which was not sent");
				goto out;
			}
			off = 0;
			len = (size_t)n;
		}
		off += smtpd_feed(s, in + off, len - off, &ev);
		switch (ev) {
		case SMTPD_MORE:
			break;
		case SMTPD_DATA:
			serve_data(v, s->data, s->data_len);
			break;
		case SMTPD_MESSAGE:
			serve_deliver(v, s);
			if ((rc = serve_reply(v, s)) < 0)
				goto out;
			break;
		case SMTPD_REPLY:
			if ((rc = serve_reply(v, s)) < 0)
				goto out;
			break;
		case SMTPD_QUIT:
			if ((rc = serve_reply(v, s)) < 0 || (rc = serve_flush(v)) < 0)
				goto out;
			if (strncmp(s->reply, "421", 3) == 0)
				rc = outbox_fail(v->h, OUTBOX_EPROTOCOL, NULL, "the client made too many errors; "
						 "the session was ended");
			goto out;
		}
	}
out:
	free(in);
	return rc;
}

int outbox_serve_stdio(outbox *h, int in_fd, int out_fd, const outbox_serve_options *opt)
{
	struct serve v;
	struct smtpd s;
	struct smtpd_config cfg;
	struct dsn_request dsn;
	int rc;

	/* The command line's -N, -R and -V stand for every message: a bad one is the user's mistake,
	 * said once now rather than as a 554 to each message. */
	if ((rc = dsn_check(h, opt->send.dsn_notify, opt->send.dsn_ret, opt->send.dsn_envid, &dsn)) < 0)
		return rc;
	memset(&v, 0, sizeof v);
	v.h = h;
	v.opt = opt;
	v.in_fd = in_fd;
	v.out_fd = out_fd;
	buf_init(&v.out, 0);
	memset(&cfg, 0, sizeof cfg);
	cfg.hostname = opt->hostname;
	cfg.check = serve_check;
	cfg.ctx = &v;
	smtpd_init(&s, &cfg);
	rc = serve_loop(&v, &s);
	serve_end_message(&v);
	if (v.have_spool)
		spool_close_dir(&v.sp);
	smtpd_free(&s);
	buf_free(&v.out);
	return rc;
}
