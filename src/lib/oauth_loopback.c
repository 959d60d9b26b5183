/* oauth_loopback.c: the browser sign-in's redirect listener: strict and small, one connection at a
 * time, the request line and headers capped, because anything on this machine can connect to it. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "handle_internal.h"
#include "http.h"
#include "oauth.h"
#include "oauth_loopback.h"
#include "validate.h"

/* The request line and headers: a browser's are under 2 KiB. */
#define LOOPBACK_MAX_HEAD 8192
/* How long one connection may take to send its request before the next one is served: a browser
 * may open a connection it does not use (a preconnect), and it must not block the real one. */
#define LOOPBACK_CONN_MS 5000

int oauth_loopback_open(outbox *h, struct oauth_loopback *lb)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;

	memset(lb, 0, sizeof *lb);
	lb->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lb->fd < 0 || bind(lb->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lb->fd, 8) != 0 ||
	    getsockname(lb->fd, (struct sockaddr *)&a, &len) != 0) {
		int e = errno;

		oauth_loopback_close(lb);
		return outbox_fail(h, OUTBOX_EIO, NULL, "cannot listen on 127.0.0.1 for the browser: %s",
				   strerror(e));
	}
	lb->port = ntohs(a.sin_port);
	snprintf(lb->redirect_uri, sizeof lb->redirect_uri, "http://127.0.0.1:%d/", lb->port);
	return 0;
}

void oauth_loopback_close(struct oauth_loopback *lb)
{
	if (lb->fd >= 0)
		close(lb->fd);
	lb->fd = -1;
}

static long long loopback_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The request head, NUL-terminated, or -1 when the client is too slow, too long or gone. */
static int loopback_read_head(int fd, long long deadline, char *head, size_t size)
{
	size_t got = 0;

	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		long long left = deadline - loopback_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -1;
		n = recv(fd, head + got, size - 1 - got, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
		head[got] = '\0';
		if (memchr(head, '\0', got) != NULL)
			return -1;
		if (strstr(head, "\r\n\r\n") != NULL || strstr(head, "\n\n") != NULL)
			return 0;
		if (got == size - 1)
			return -1;
	}
}

/* `words` go into the page HTML-escaped: they may be the provider's (error_description). */
static void loopback_answer(int fd, int status, const char *title, const char *words)
{
	struct buf page = BUF_INIT, all = BUF_INIT;
	const char *p;

	buf_printf(&page, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>outbox</title>"
			  "</head><body><h1>%s</h1><p>", title);
	for (p = words; *p; p++) {
		const char *e = *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : *p == '&' ? "&amp;"
			      : *p == '"' ? "&quot;" : *p == '\'' ? "&#39;" : NULL;

		if (e)
			buf_puts(&page, e);
		else
			buf_append(&page, p, 1);
	}
	buf_puts(&page, "</p></body></html>\n");
	buf_printf(&all, "HTTP/1.1 %d %s\r\nContent-Type: text/html; charset=utf-8\r\n"
			 "Content-Length: %zu\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n%s",
		   status, status == 200 ? "OK" : status == 404 ? "Not Found" : "Bad Request",
		   page.len, page.data ? page.data : "");
	if (all.data)
		(void)!send(fd, all.data, all.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	buf_free(&page);
	buf_free(&all);
}

struct loopback_query {
	char *code, *state, *error, *error_description;
	int bad;
};

static void loopback_query_free(struct loopback_query *q)
{
	char **f[] = {&q->code, &q->state, &q->error, &q->error_description};
	size_t i;

	for (i = 0; i < sizeof f / sizeof f[0]; i++) {
		if (*f[i]) {
			explicit_bzero(*f[i], strlen(*f[i]));
			free(*f[i]);
		}
		*f[i] = NULL;
	}
}

/* The parameters this listener reads; a repeated one or one that does not decode is bad. */
static void loopback_query_parse(const char *query, size_t len, struct loopback_query *q)
{
	static const char *const names[] = {"code", "state", "error", "error_description"};
	const char *end = query + len;

	while (query < end) {
		const char *amp = memchr(query, '&', (size_t)(end - query)), *stop = amp ? amp : end;
		const char *eq = memchr(query, '=', (size_t)(stop - query));
		char **slot[] = {&q->code, &q->state, &q->error, &q->error_description};
		size_t i, nlen = (size_t)((eq ? eq : stop) - query);

		for (i = 0; eq && i < 4; i++) {
			if (strlen(names[i]) != nlen || memcmp(query, names[i], nlen) != 0)
				continue;
			if (*slot[i] != NULL ||
			    http_unescape_value(eq + 1, (size_t)(stop - eq - 1), slot[i]) < 0)
				q->bad = 1;
		}
		query = stop + (amp ? 1 : 0);
	}
}

/* What the one request for "/" says: 0 and *code, or a failure with the browser answered. */
static int loopback_judge(outbox *h, int fd, const char *query, size_t len, const char *state,
			  char **code)
{
	struct loopback_query q = {0};
	char err[96], desc[256];
	int rc = 0;

	loopback_query_parse(query, len, &q);
	if (q.bad) {
		loopback_answer(fd, 400, "Sign-in failed", "The answer could not be read.");
		rc = outbox_fail(h, OUTBOX_EPROTOCOL, NULL,
				 "the browser's answer repeats a parameter or does not decode");
	} else if (q.state == NULL || strcmp(q.state, state) != 0) {
		loopback_answer(fd, 400, "Sign-in failed",
				"This answer does not belong to the sign-in outbox started.");
		rc = outbox_fail(h, OUTBOX_EAUTH, NULL,
				 "the browser's answer does not carry this sign-in's state: refused; "
				 "start the sign-in again");
	} else if (q.error != NULL) {
		validate_display(err, sizeof err, q.error, strlen(q.error));
		validate_display(desc, sizeof desc, q.error_description ? q.error_description : "",
				 q.error_description ? strlen(q.error_description) : 0);
		loopback_answer(fd, 200, "Sign-in failed", *desc ? desc : err);
		rc = outbox_fail(h, OUTBOX_EAUTH, NULL, "the sign-in was refused in the browser (%s%s%s)",
				 err, *desc ? ": " : "", desc);
	} else if (q.code == NULL || *q.code == '\0' || strlen(q.code) > OAUTH_MAX_TOKEN) {
		loopback_answer(fd, 400, "Sign-in failed", "The answer carries no code.");
		rc = outbox_fail(h, OUTBOX_EPROTOCOL, NULL, "the browser's answer carries no code");
	} else {
		loopback_answer(fd, 200, "Signed in", "You can close this window and return to outbox.");
		*code = q.code;
		q.code = NULL;
	}
	loopback_query_free(&q);
	return rc;
}

/* One connection: 1 when it was not the answer (served and closed), else the judgement. */
static int loopback_serve(outbox *h, int fd, long long deadline, const char *state, char **code)
{
	char head[LOOPBACK_MAX_HEAD];
	const char *target, *sp, *q;
	long long conn_deadline = loopback_ms() + LOOPBACK_CONN_MS;

	if (loopback_read_head(fd, conn_deadline < deadline ? conn_deadline : deadline, head,
			       sizeof head) < 0)
		return 1;
	if (strncmp(head, "GET /", 5) != 0) {
		loopback_answer(fd, 400, "Not here", "outbox is waiting for the sign-in's answer.");
		return 1;
	}
	target = head + 4;
	sp = strpbrk(target, " \r\n");
	if (sp == NULL || strncmp(sp, " HTTP/1.", 8) != 0) {
		loopback_answer(fd, 400, "Not here", "outbox is waiting for the sign-in's answer.");
		return 1;
	}
	q = memchr(target, '?', (size_t)(sp - target));
	/* Anything but the redirect itself (a favicon, a probe) is not the answer. */
	if ((q ? q : sp) - target != 1) {
		loopback_answer(fd, 404, "Not here", "outbox is waiting for the sign-in's answer.");
		return 1;
	}
	return loopback_judge(h, fd, q ? q + 1 : sp, q ? (size_t)(sp - q - 1) : 0, state, code);
}

int oauth_loopback_wait(outbox *h, struct oauth_loopback *lb, const char *state, long timeout_ms,
			const struct oauth_wait *w, char **code)
{
	long long deadline = loopback_ms() + timeout_ms;
	int rc;

	*code = NULL;
	if ((rc = http_ready(h)) < 0)
		return rc;
	for (;;) {
		struct pollfd p = {lb->fd, POLLIN, 0};
		long long left = deadline - loopback_ms();
		int fd;

		if (left <= 0)
			return outbox_fail(h, OUTBOX_ETEMPFAIL, NULL,
					   "no answer from the browser within %ld seconds; start the "
					   "sign-in again", timeout_ms / 1000);
		/* A person may give up (Esc, Ctrl-C) long before the timeout: ask once a second. */
		if (w && w->progress && w->progress(w->ctx, (left + 999) / 1000) != 0)
			return outbox_fail(h, OUTBOX_EAUTH, NULL, "the sign-in was cancelled");
		if (poll(&p, 1, left < 1000 ? (int)left : 1000) <= 0)
			continue;
		fd = accept4(lb->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			continue;
		rc = loopback_serve(h, fd, deadline, state, code);
		close(fd);
		if (rc <= 0)
			return rc;
	}
}
