/* session.c: the I/O around the protocol engine: sockets and TLS, each wait for the server bounded
 * as a whole by its timeout (the one place that decides it), the message body streamed from its
 * spool file (dot-stuffed for DATA), the transcript, and for the doctor the end of each step of
 * opening (connect, TLS, EHLO, AUTH). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "convert.h"
#include "handle_internal.h"
#include "helo.h"
#include "message.h"
#include "net.h"
#include "server_internal.h"
#include "session.h"
#include "spool.h"
#include "tls.h"
#include "tls_probe.h"

/* The slowest transfer of the message that is still waited for: a link this slow is broken, or
 * a server taking the data a byte at a time to hold the client (see session_send_body). */
#define SESSION_MIN_DATA_RATE 1024 /* bytes per second */
/* Under TLS, progress is seen a record at a time; 16 KiB is the largest record (RFC 8446). */
#define SESSION_TLS_PIECE 16384
/* How long the handshake that asks whether a silent port speaks TLS may take at most. */
#define SESSION_TLS_PROBE_MS 5000

struct session {
	const outbox_server *server; /* the caller keeps it alive until session_close */
	struct smtp *engine;
	int fd;
	struct tls_conn *tls;
	long long step_ms;   /* the server's timeout: how long each wait for the server may last */
	long long end_by;    /* session_params.deadline_ms: no wait goes past it; 0: none */
	long long waiting_since; /* when the wait under way began: the last command or byte of the
				    message went out, or the last complete reply came in */
	long long data_started;  /* while the message goes out: when it began to, */
	long long data_limit;    /* and when its transfer must be over; else 0 */
	char tls_words[128];
	char helo[256];      /* the engine's helo_name points here */
	char local[80];      /* this side's address as a literal, for the doctor's advice on a refused name */
	const char *host;
	const char *address; /* what to connect to: session_params.address, else the host */
	int port;
	int done;
	long long probe_ms; /* session_params.greeting_probe_ms */
	int probed;         /* the port was asked early whether it speaks TLS (session_probe_due) */
	/* Step reports (session_params.step): the step under way (-1 for none), and what the
	 * reports say, gathered as the session goes. */
	void (*step)(void *ctx, const struct session_event *ev);
	void *step_ctx;
	void (*transcript)(void *ctx, char direction, const char *line, size_t len);
	void *transcript_ctx;
	int cur_step;
	char last_verb[8]; /* the last command sent: tells which reply ends the EHLO step */
	char peer[64];
	char greeting[256];
	struct smtp_caps caps;
	int have_reply;
	struct smtp_reply reply;
	int broken;             /* a failure left nothing to say: closing neither sends QUIT nor
				   reads, so no late reply changes what the caller decided */
	struct smtp_txn *ahead; /* session_send_then: begin this one behind the current data */
	struct buf tail;        /* the body's last piece, written together with what follows it */
};

/* End the step under way (reporting it when someone listens) and make `next` the one under way. */
static void session_step_end(struct session *s, int rc, int next)
{
	struct session_event ev;
	int ended = s->cur_step;

	s->cur_step = next;
	if (s->step == NULL || ended < 0)
		return;
	memset(&ev, 0, sizeof ev);
	ev.step = (enum session_step)ended;
	ev.rc = rc;
	ev.peer = s->peer;
	ev.tls = s->tls ? s->tls_words : "";
	ev.greeting = s->greeting;
	ev.helo = s->helo;
	ev.local = s->local;
	ev.caps = &s->caps;
	ev.mech = s->engine ? smtp_auth_mechanism(s->engine) : NULL;
	ev.reply = s->have_reply ? &s->reply : NULL;
	s->step(s->step_ctx, &ev);
}

/* The local address as an EHLO literal, as helo.c writes one; "" when there is none. */
static void session_local_literal(struct session *s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	s->local[0] = '\0';
	if (getsockname(s->fd, (struct sockaddr *)&ss, &len) == 0)
		helo_choose("", "", (struct sockaddr *)&ss, s->local, sizeof s->local);
	if (s->local[0] != '[')
		s->local[0] = '\0';
}

/* A new wait for the server begins: for the reply to what was just sent, or for the next reply
 * once one is complete. Only a whole reply ends a wait: a server that trickles its reply a byte at
 * a time gets no more time than one that stays silent. */
static void session_wait_begin(struct session *s)
{
	s->waiting_since = net_now_ms();
}

/* Installed as the engine's transcript. The engine shows each reply here, complete, before acting
 * on it: the wait for it is over. When steps are reported, a 250 to the EHLO that counts is seen
 * before AUTH begins: the EHLO step ends there, and whatever fails next belongs to AUTH, without
 * the engine knowing about steps. */
static void session_observe(void *ctx, char direction, const char *line, size_t len)
{
	struct session *s = ctx;
	size_t n = 0;

	if (s->transcript)
		s->transcript(s->transcript_ctx, direction, line, len);
	if (direction == '<')
		session_wait_begin(s);
	if (s->step == NULL)
		return;
	if (direction == '>') {
		while (n < len && n < sizeof s->last_verb - 1 && line[n] != ' ' && line[n] != '\r')
			n++;
		memcpy(s->last_verb, line, n);
		s->last_verb[n] = '\0';
		return;
	}
	if (smtp_reply_parse(line, len, &s->reply) <= 0)
		return;
	s->have_reply = 1;
	if (!s->greeting[0] && !s->last_verb[0]) {
		while (n < s->reply.text_len && s->reply.text[n] != '\n')
			n++;
		snprintf(s->greeting, sizeof s->greeting, "%d %.*s", s->reply.code, (int)n, s->reply.text);
	}
	if (s->cur_step == SESSION_STEP_EHLO && s->reply.code == 250 &&
	    (strcmp(s->last_verb, "EHLO") == 0 || strcmp(s->last_verb, "HELO") == 0)) {
		if (strcmp(s->last_verb, "EHLO") == 0)
			smtp_caps_parse(&s->reply, &s->caps);
		session_step_end(s, 0, SESSION_STEP_AUTH);
	}
}

/* When a wait that would end `at` must end: sooner when the caller gave the session a deadline. */
static long long session_cap(const struct session *s, long long at)
{
	return s->end_by && at > s->end_by ? s->end_by : at;
}

/* Sending waits for the server to take the bytes: the timeout bounds each stretch in which it
 * takes none, so the deadline moves on as bytes go out; while the message goes out, never past
 * the transfer's own limit. */
static long long session_write_deadline(const struct session *s)
{
	long long deadline = session_cap(s, net_now_ms() + s->step_ms);

	return s->data_limit && deadline > s->data_limit ? s->data_limit : deadline;
}

static int session_write_timed_out(outbox *h, struct session *s)
{
	if (s->data_limit && net_now_ms() >= s->data_limit)
		return outbox_fail(h, OUTBOX_ETEMPFAIL, NULL,
				   "%s port %d took the message too slowly: sending it took longer than %lld s "
				   "(less than %d KiB a second)", s->host, s->port,
				   (s->data_limit - s->data_started + 500) / 1000, SESSION_MIN_DATA_RATE / 1024);
	return outbox_fail(h, OUTBOX_ETEMPFAIL, NULL, "%s port %d stopped accepting data for %lld s", s->host,
			   s->port, s->step_ms / 1000);
}

/* Write all of data; once it is out, the wait for what answers it begins. */
static int session_write(outbox *h, struct session *s, const char *data, size_t len)
{
	long long deadline = session_write_deadline(s);
	int rc;

	while (len > 0) {
		if (s->tls) {
			size_t piece = len < SESSION_TLS_PIECE ? len : SESSION_TLS_PIECE;
			if ((rc = tls_write(h, s->tls, data, piece, deadline)) < 0)
				return tls_timed_out(s->tls) ? session_write_timed_out(h, s) : rc;
			data += piece;
			len -= piece;
			deadline = session_write_deadline(s);
			continue;
		}
		/* send() with MSG_NOSIGNAL: a server that hangs up must not kill the caller with SIGPIPE. */
		ssize_t n = send(s->fd, data, len, MSG_NOSIGNAL);
		if (n > 0) {
			data += n;
			len -= (size_t)n;
			deadline = session_write_deadline(s);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int ready = net_wait(s->fd, POLLOUT, deadline);
			if (ready > 0)
				continue;
			if (ready == 0)
				return session_write_timed_out(h, s);
		}
		return outbox_fail(h, OUTBOX_ETEMPFAIL, NULL, "the connection to %s port %d was lost: %s", s->host,
				   s->port, strerror(errno));
	}
	session_wait_begin(s);
	return 0;
}

/* The wait under way ran out: say what was waited for, for how long, and whether the server was
 * silent or only too slow. */
static int session_read_timed_out(outbox *h, struct session *s)
{
	char words[400];
	size_t received = 0;
	const char *awaited = smtp_awaited(s->engine, words, sizeof words, &received);
	/* The wait it was given: the server's timeout, or less when a deadline cut it. */
	long long waited_s = (session_cap(s, s->waiting_since + s->step_ms) - s->waiting_since + 999) / 1000;

	if (!*awaited)
		awaited = "the session";
	if (received == 0)
		return outbox_fail(h, OUTBOX_ETEMPFAIL, NULL, "no reply from %s port %d to %s within %lld s", s->host,
				   s->port, awaited, waited_s);
	return outbox_fail(h, OUTBOX_ETEMPFAIL, NULL,
			   "no complete reply from %s port %d to %s within %lld s (%zu byte%s of it came, too "
			   "slowly)", s->host, s->port, awaited, waited_s, received,
			   received == 1 ? "" : "s");
}

static int session_nothing_received(const struct session *s)
{
	char words[64];
	size_t received = 0;

	smtp_awaited(s->engine, words, sizeof words, &received);
	return received == 0;
}

/* Whether the server has said nothing at all where its greeting should be, on a connection that
 * is not TLS yet: a port that expects TLS from the first byte waits for our ClientHello. */
static int session_greeting_silent(const struct session *s)
{
	return !s->tls && smtp_awaiting_greeting(s->engine) && session_nothing_received(s);
}

/* The one failure for a port that speaks TLS where plain SMTP was expected: the setting is wrong,
 * so it is not a temporary failure (the policy stops instead of queueing and retrying). */
static int session_fail_implicit_tls(outbox *h, const struct session *s, const char *seen)
{
	return outbox_fail(h, OUTBOX_EUNAVAILABLE, "security",
			   "%s port %d %s instead of an SMTP greeting: this port expects implicit TLS: "
			   "--security tls", s->host, s->port, seen);
}

/* The greeting has not come: ask whether the port answers a TLS handshake. Only a completed
 * handshake counts, so a slow SMTP server is never taken for TLS. Early (own_connection 0), on a
 * second connection, so that the session's own still gets its greeting if one comes; once the
 * wait is over, on the session's connection, which is of no more use and which a server that
 * serves one connection at a time is busy with. Returns the failure when the port speaks TLS,
 * else 0 (the caller goes on as before). */
static int session_silent_port(outbox *h, struct session *s, int own_connection)
{
	long long until = session_cap(s, net_now_ms() + (s->step_ms < SESSION_TLS_PROBE_MS ? s->step_ms
											      : SESSION_TLS_PROBE_MS));
	int speaks_tls;

	s->probed = 1;
	if (own_connection) {
		s->broken = 1; /* the handshake's bytes leave nothing to say on it */
		speaks_tls = tls_probe_fd(h, s->fd, s->host, until);
	} else {
		speaks_tls = tls_probe(h, s->address, s->port, s->host, until);
	}
	return speaks_tls ? session_fail_implicit_tls(h, s, "answers a TLS handshake") : 0;
}

/* When the port should be asked early whether it speaks TLS (a caller that set
 * greeting_probe_ms), or 0 when not. */
static long long session_probe_due(const struct session *s)
{
	if (s->probe_ms <= 0 || s->probed || !session_greeting_silent(s))
		return 0;
	return s->waiting_since + s->probe_ms;
}

/* Read what is there before the wait under way runs out (it does not start again with each
 * read); 0 means the server closed, negative a failure or the deadline. */
static ssize_t session_read(outbox *h, struct session *s, char *buf, size_t size)
{
	long long deadline = session_cap(s, s->waiting_since + s->step_ms);
	long long probe_at = session_probe_due(s);

	if (s->tls) {
		ssize_t n = tls_read(h, s->tls, buf, size, deadline);
		return n < 0 && tls_timed_out(s->tls) ? session_read_timed_out(h, s) : n;
	}
	for (;;) {
		ssize_t n = read(s->fd, buf, size);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			int early = probe_at && probe_at < deadline;
			int ready = net_wait(s->fd, POLLIN, early ? probe_at : deadline);
			if (ready > 0)
				continue;
			if (ready == 0 && early) {
				int rc = session_silent_port(h, s, 0);
				if (rc < 0)
					return rc;
				probe_at = 0; /* not TLS: wait out the rest for the greeting */
				continue;
			}
			if (ready == 0)
				return session_read_timed_out(h, s);
		}
		if (errno == ECONNRESET)
			return 0;
		return outbox_fail(h, OUTBOX_ETEMPFAIL, NULL, "the connection to %s port %d was lost: %s", s->host,
				   s->port, strerror(errno));
	}
}

static int session_start_tls(outbox *h, struct session *s)
{
	const outbox_server *srv = s->server;
	struct tls_options o;
	const char *cb_type = NULL;
	unsigned char cb[64];
	size_t cb_len = sizeof cb;
	int rc;

	memset(&o, 0, sizeof o);
	o.host = srv->rec.val[OUTBOX_SERVER_HOST];
	o.verify = strcmp(srv->rec.val[OUTBOX_SERVER_TLS_VERIFY], "true") == 0;
	o.ca_file = *srv->rec.val[OUTBOX_SERVER_TLS_CA] ? srv->rec.val[OUTBOX_SERVER_TLS_CA] : NULL;
	o.pin = *srv->rec.val[OUTBOX_SERVER_TLS_PIN] ? srv->rec.val[OUTBOX_SERVER_TLS_PIN] : NULL;
	o.cert_file = *srv->rec.val[OUTBOX_SERVER_TLS_CERT] ? srv->rec.val[OUTBOX_SERVER_TLS_CERT] : NULL;
	o.key_file = *srv->rec.val[OUTBOX_SERVER_TLS_KEY] ? srv->rec.val[OUTBOX_SERVER_TLS_KEY] : NULL;
	if ((rc = tls_connect(h, s->fd, &o, session_cap(s, net_now_ms() + s->step_ms), &s->tls)) < 0)
		return rc;
	tls_description(s->tls, s->tls_words, sizeof s->tls_words);
	if (tls_channel_binding(s->tls, &cb_type, cb, &cb_len) < 0) {
		cb_type = NULL;
		cb_len = 0;
	}
	smtp_tls_started(s->engine, cb_type, cb_type ? cb : NULL, cb_len);
	explicit_bzero(cb, sizeof cb);
	session_wait_begin(s); /* for the greeting under implicit TLS */
	if (s->cur_step == SESSION_STEP_TLS)
		session_step_end(s, 0, SESSION_STEP_EHLO);
	return 0;
}

/* Stream the body: BDAT takes the bytes as they are, DATA needs leading dots doubled. Exactly
 * t->size bytes are read, so the end needs no extra read. The last piece is kept in s->tail, to
 * go out in one write with the final "." and whatever follows it (session_flush_tail).
 * A fixed time for the whole transfer would fail a large message on a slow link, so the timeout
 * bounds each stretch in which the server takes none of it (session_write); and so that a server
 * taking it a byte at a time cannot hold the client for ever either, the transfer as a whole
 * must not take longer than the timeout plus the time it takes at SESSION_MIN_DATA_RATE. Bytes
 * the server sends meanwhile extend nothing. */
static int session_send_body(outbox *h, struct session *s, struct smtp_txn *t, int fd)
{
	char chunk[65536];
	int bdat = smtp_body_is_bdat(s->engine), at_line_start = 1, rc = 0;
	off_t sent = 0;

	s->data_started = net_now_ms();
	s->data_limit = s->data_started + s->step_ms + (long long)t->size * 1000 / SESSION_MIN_DATA_RATE;
	buf_reset(&s->tail);
	while (rc == 0 && sent < t->size) {
		size_t want = t->size - sent < (off_t)sizeof chunk ? (size_t)(t->size - sent) : sizeof chunk;
		ssize_t n = read(fd, chunk, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = outbox_fail(h, OUTBOX_EIO, NULL, "cannot read the message: %s", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		sent += n;
		/* The piece before this one can go now; this one may be the last. */
		if (s->tail.len > 0 && (rc = session_write(h, s, s->tail.data, s->tail.len)) < 0)
			break;
		buf_reset(&s->tail);
		if (bdat ? buf_append(&s->tail, chunk, (size_t)n) < 0
			 : message_dot_stuff(chunk, (size_t)n, &at_line_start, &s->tail) < 0)
			rc = outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	if (rc == 0 && sent != t->size)
		rc = outbox_fail(h, OUTBOX_EIO, NULL, "the message is %lld bytes, expected %lld", (long long)sent,
				 (long long)t->size);
	if (rc < 0) {
		buf_reset(&s->tail);
		s->data_limit = 0;
	}
	return rc;
}

/* Write the body's last piece and the engine's output after it (the final ".", the next
 * transaction's commands) in one go: one system call and one packet instead of two. */
static int session_flush_tail(outbox *h, struct session *s)
{
	size_t len;
	const char *out = smtp_output(s->engine, &len);
	int rc;

	if (len > 0 && buf_append(&s->tail, out, len) < 0) {
		s->data_limit = 0;
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	}
	smtp_consume_output(s->engine);
	rc = session_write(h, s, s->tail.data, s->tail.len);
	buf_reset(&s->tail);
	s->data_limit = 0;
	return rc;
}

/* Run the engine until it needs the caller (ready, a transaction done, closed) or fails. */
static int session_run(outbox *h, struct session *s, struct smtp_txn *t, int body_fd, enum smtp_action *stopped)
{
	char in[8192];
	int rc;

	for (;;) {
		enum smtp_action a = smtp_next(s->engine);
		switch (a) {
		case SMTP_WRITE: {
			size_t len;
			const char *out = smtp_output(s->engine, &len);
			rc = session_write(h, s, out, len);
			smtp_consume_output(s->engine);
			if (rc < 0)
				return rc;
			break;
		}
		case SMTP_READ: {
			ssize_t n = session_read(h, s, in, sizeof in);
			if (n < 0) {
				/* A server that stays silent instead of greeting is usually waiting for TLS:
				 * when the port answers a handshake, that is a setting to change. */
				if (n == OUTBOX_ETEMPFAIL && session_greeting_silent(s)) {
					if ((rc = session_silent_port(h, s, 1)) < 0)
						return rc;
					outbox_fail(h, (int)n, NULL, "%s: the server sent no greeting, and the port "
						    "does not answer a TLS handshake either", outbox_errmsg(h));
				}
				if (t && smtp_txn_uncertain(t))
					outbox_fail(h, (int)n, NULL,
						    "%s after the message was sent, before the server confirmed it: it "
						    "may have been delivered", outbox_errmsg(h));
				return (int)n;
			}
			/* A TLS record (handshake or alert, version 3.x) where the greeting should be. */
			if (n >= 2 && (in[0] == 0x16 || in[0] == 0x15) && in[1] == 0x03 && session_greeting_silent(s))
				return session_fail_implicit_tls(h, s, "sent TLS bytes");
			smtp_input(s->engine, in, (size_t)n);
			break;
		}
		case SMTP_START_TLS:
			if ((rc = session_start_tls(h, s)) < 0)
				return rc;
			break;
		case SMTP_BODY:
			/* A late 354 while the session is being closed (after a timeout): there is no
			 * message to give it, so the session ends here. */
			if (t == NULL)
				return outbox_fail(h, OUTBOX_ETEMPFAIL, NULL, "the session was abandoned");
			if ((rc = session_send_body(h, s, t, body_fd)) < 0)
				return rc;
			smtp_body_sent(s->engine);
			if (s->ahead) {
				/* Best effort: when the next one cannot go ahead, it simply starts later. */
				struct outbox_error_copy saved;
				outbox_error_save(h, &saved);
				smtp_begin_next(s->engine, s->ahead);
				outbox_error_restore(h, &saved);
				s->ahead = NULL;
			}
			if ((rc = session_flush_tail(h, s)) < 0)
				return rc;
			break;
		case SMTP_FAILED:
			return smtp_error(s->engine);
		default:
			*stopped = a;
			return 0;
		}
	}
}

/* The session failed: closing says QUIT only after a refusal that left the dialogue in step;
 * after anything else (a timeout, a lost connection, TLS, a broken reply) there is nothing to
 * say or wait for, and no late reply may change what the caller decided. */
static void session_failed(struct session *s)
{
	s->broken = s->broken || !(s->engine && smtp_can_quit(s->engine));
}

int session_open(outbox *h, const struct session_params *p, struct session **out)
{
	const outbox_server *srv = p->server;
	struct session *s = calloc(1, sizeof *s);
	struct smtp_config cfg;
	const char *security = srv->rec.val[OUTBOX_SERVER_SECURITY];
	enum smtp_action stopped = SMTP_FAILED;
	int rc;

	*out = NULL;
	if (s == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	s->fd = -1;
	s->cur_step = SESSION_STEP_CONNECT;
	s->step = p->step;
	s->step_ctx = p->step_ctx;
	s->transcript = p->transcript;
	s->transcript_ctx = p->transcript_ctx;
	s->server = srv;
	s->host = srv->rec.val[OUTBOX_SERVER_HOST];
	s->address = p->address ? p->address : s->host;
	s->port = (int)strtol(srv->rec.val[OUTBOX_SERVER_PORT], NULL, 10);
	s->probe_ms = p->greeting_probe_ms;
	s->step_ms = strtoll(srv->rec.val[OUTBOX_SERVER_TIMEOUT], NULL, 10) * 1000;
	s->end_by = p->deadline_ms;
	memset(&cfg, 0, sizeof cfg);
	cfg.helo_name = s->helo; /* filled once connected: it may be the local address */
	cfg.security = strcmp(security, "tls") == 0 ? SMTP_SEC_TLS
		       : strcmp(security, "starttls") == 0 ? SMTP_SEC_STARTTLS : SMTP_SEC_NONE;
	cfg.auth = srv->rec.val[OUTBOX_SERVER_AUTH];
	cfg.user = srv->rec.val[OUTBOX_SERVER_USER];
	cfg.password = p->password;
	cfg.host = s->host;
	cfg.port = s->port;
	cfg.name = srv->rec.val[OUTBOX_SERVER_NAME];
	cfg.oauth = *srv->rec.val[OUTBOX_SERVER_OAUTH] && strcmp(srv->rec.val[OUTBOX_SERVER_OAUTH], "none") != 0;
	cfg.allow_insecure_auth = strcmp(srv->rec.val[OUTBOX_SERVER_ALLOW_INSECURE_AUTH], "true") == 0;
	cfg.transcript = session_observe;
	cfg.transcript_ctx = s;
	if ((rc = smtp_new(h, &cfg, &s->engine)) < 0)
		goto fail;
	helo_prefetch(h, srv);
	if ((rc = net_connect(h, s->address, s->port, session_cap(s, net_now_ms() + s->step_ms),
			       &s->fd)) < 0)
		goto fail;
	helo_name(p->remember_helo ? h : NULL, srv, s->fd, s->helo, sizeof s->helo);
	session_wait_begin(s); /* for the greeting */
	if (s->step) {
		net_peer_name(s->fd, s->peer, sizeof s->peer);
		session_local_literal(s);
	}
	session_step_end(s, 0, cfg.security == SMTP_SEC_NONE ? SESSION_STEP_EHLO : SESSION_STEP_TLS);
	if (cfg.security == SMTP_SEC_TLS && (rc = session_start_tls(h, s)) < 0)
		goto fail;
	if ((rc = session_run(h, s, NULL, -1, &stopped)) < 0)
		goto fail;
	if (stopped != SMTP_READY) {
		rc = outbox_fail(h, OUTBOX_EPROTOCOL, NULL, "the session ended before it was ready");
		goto fail;
	}
	if (s->cur_step == SESSION_STEP_EHLO) {
		/* Ready without the EHLO reply seen: nothing to tell but that it went well. */
		s->caps = *smtp_capabilities(s->engine);
		session_step_end(s, 0, SESSION_STEP_AUTH);
	}
	if (smtp_auth_mechanism(s->engine))
		session_step_end(s, 0, -1);
	else
		s->cur_step = -1; /* no login was needed: there was no AUTH step */
	*out = s;
	return 0;
fail:
	session_step_end(s, rc, -1);
	session_failed(s);
	session_close(h, s);
	return rc;
}

int session_send(outbox *h, struct session *s, struct smtp_txn *t, int body_fd)
{
	return session_send_then(h, s, t, body_fd, NULL);
}

/* A 7-bit copy of the message for a server without 8BITMIME (RFC 6152 asks the client to convert)
 * or without SMTPUTF8 (UTF-8 headers get A-labels and encoded words): made in the spool's
 * temporary space, used for this transaction only, and gone when closed. The original stays as it
 * was for the next server. A copy that still needs what the server lacks (a UTF-8 local part in a
 * header, a UTF-8 Message-ID) is not used: smtp_begin refuses the message with words that say so. */
struct session_copy {
	struct spool sp;
	struct spool_writer w;
	int have_sp, have_w;
};

static int session_copy_7bit(outbox *h, struct smtp_txn *t, unsigned what, int body_fd, struct session_copy *c,
			     int *fd)
{
	struct convert_result cr;
	int rc;

	if ((rc = spool_open_dir(h, &c->sp)) < 0)
		return rc;
	c->have_sp = 1;
	if ((rc = spool_begin(h, &c->sp, &c->w)) < 0)
		return rc;
	c->have_w = 1;
	if ((rc = convert_message(h, body_fd, c->w.fd, what, &cr)) < 0)
		return rc == OUTBOX_EINVALID ? 0 : rc; /* not convertible: refused by smtp_begin */
	if (cr.header_8bit || ((what & CONVERT_8BIT) && cr.has_8bit))
		return 0;
	if (what & CONVERT_8BIT)
		t->body_8bit = 0;
	if (what & CONVERT_HEADERS)
		t->smtputf8 = 0;
	t->size = cr.size;
	*fd = c->w.fd;
	return lseek(*fd, 0, SEEK_SET) == 0 ? 0 : outbox_fail(h, OUTBOX_EIO, NULL, "cannot read the converted message");
}

static void session_copy_free(struct session_copy *c)
{
	if (c->have_w)
		spool_writer_close(&c->w);
	if (c->have_sp)
		spool_close_dir(&c->sp);
}

int session_send_then(outbox *h, struct session *s, struct smtp_txn *t, int body_fd, struct smtp_txn *next)
{
	enum smtp_action stopped = SMTP_FAILED;
	struct session_copy copy;
	int body_8bit = t->body_8bit, smtputf8 = t->smtputf8, rc = 0;
	unsigned what;
	off_t size = t->size;

	memset(&copy, 0, sizeof copy);
	/* A transaction begun behind the last one is under way already (and passed the check that
	 * it needs no copy: smtp_begin_next declines one that does). */
	if (!smtp_is_current(s->engine, t) && (what = smtp_needs_7bit(s->engine, t)) != 0)
		rc = session_copy_7bit(h, t, what, body_fd, &copy, &body_fd);
	if (rc == 0 && !smtp_is_current(s->engine, t))
		rc = smtp_begin(s->engine, t);
	if (rc == 0) {
		s->ahead = next;
		/* The caller's own time since the last reply (recording an outcome) is not the server's. */
		session_wait_begin(s);
		rc = session_run(h, s, t, body_fd, &stopped);
		s->ahead = NULL;
		if (rc < 0)
			session_failed(s);
		else if (stopped != SMTP_TXN_DONE)
			rc = outbox_fail(h, OUTBOX_EPROTOCOL, NULL, "the transaction ended without an outcome");
	}
	session_copy_free(&copy);
	t->body_8bit = body_8bit;
	t->smtputf8 = smtputf8;
	t->size = size;
	return rc;
}

void session_close(outbox *h, struct session *s)
{
	struct outbox_error_copy saved;
	enum smtp_action stopped, now;

	if (s == NULL)
		return;
	/* Closing is a courtesy: what goes wrong here never replaces the caller's error. After a
	 * failed send (a timeout, a lost connection, a broken reply) nothing more is said or read, so
	 * no late reply changes what the caller decided about the transaction. */
	outbox_error_save(h, &saved);
	now = s->engine && s->fd >= 0 && !s->broken ? smtp_next(s->engine) : SMTP_CLOSED;
	/* QUIT whenever the server waits for a command: ready, or after a refusal that left the
	 * dialogue in step (RFC 5321 4.1.1.10), so it does not log a lost connection. */
	if (now == SMTP_READY || (now == SMTP_FAILED && smtp_can_quit(s->engine))) {
		s->step_ms = s->step_ms > 2000 ? 2000 : s->step_ms; /* don't wait long for QUIT's reply */
		smtp_quit(s->engine);
		session_run(h, s, NULL, -1, &stopped);
	} else if (now == SMTP_READ) {
		/* A pipelined QUIT may still have its reply in flight; read it briefly. */
		s->step_ms = 1000;
		session_wait_begin(s);
		session_run(h, s, NULL, -1, &stopped);
	}
	outbox_error_restore(h, &saved);
	if (s->tls)
		tls_close(s->tls);
	if (s->fd >= 0)
		close(s->fd);
	smtp_free(s->engine);
	buf_free(&s->tail);
	free(s);
}

void session_abort(outbox *h, struct session *s)
{
	if (s)
		s->broken = 1;
	session_close(h, s);
}

const struct smtp *session_engine(const struct session *s)
{
	return s->engine;
}

const char *session_tls_description(const struct session *s)
{
	return s->tls ? s->tls_words : "";
}
