/* net.c: from a host name and port to one connected socket: IDNA2008 names, both address families
 * interleaved, attempts staggered 250 ms apart in one poll loop (RFC 8305), one overall deadline
 * that the DNS lookup keeps to as well. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "handle_internal.h"
#include "idna.h"
#include "net.h"
#include "net_lookup.h"

/* RFC 8305 recommends 250 ms between attempts: long enough for a healthy first address to win,
 * short enough that a dead one costs little. */
#define NET_STAGGER_MS 250
/* A name with more addresses than this gets the first ones only; the deadline would pass anyway. */
#define NET_MAX_ADDRS 16

struct attempt {
	const struct addrinfo *ai;
	int fd;       /* -1 when not started or finished */
	int err;      /* errno of a failed attempt, 0 while pending or not started */
	int started;
	char addr[INET6_ADDRSTRLEN + 16];
};

long long net_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int net_seconds_left(long long deadline_ms)
{
	long long left = deadline_ms - net_now_ms();

	if (left <= 1000)
		return 1;
	return left >= (long long)INT_MAX * 1000 ? INT_MAX : (int)((left + 999) / 1000);
}

int net_ip_literal(const char *host, unsigned char addr[16])
{
	unsigned char scratch[16];

	if (host == NULL)
		return 0;
	if (addr == NULL)
		addr = scratch;
	if (inet_pton(AF_INET, host, addr) == 1)
		return AF_INET;
	return inet_pton(AF_INET6, host, addr) == 1 ? AF_INET6 : 0;
}

/* poll() takes an int of milliseconds; a far deadline is waited for in int-sized pieces. */
static int poll_timeout(long long deadline_ms)
{
	long long left = deadline_ms - net_now_ms();

	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

int net_wait(int fd, short events, long long deadline_ms)
{
	for (;;) {
		struct pollfd p = {fd, events, 0};
		int n = poll(&p, 1, poll_timeout(deadline_ms));
		if (n > 0)
			return 1; /* POLLERR and POLLHUP too: the next read or write reports them */
		if (n == 0) {
			if (net_now_ms() >= deadline_ms)
				return 0;
			continue;
		}
		if (errno != EINTR)
			return -1;
	}
}

int net_peer_name(int fd, char *out, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (size > 0)
		out[0] = '\0';
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (getnameinfo((struct sockaddr *)&ss, len, out, (socklen_t)(size > INT_MAX ? INT_MAX : size), NULL,
			0, NI_NUMERICHOST) != 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* Resolver failures in the caller's terms: a name that does not exist will not start to exist on
 * a retry, while a resolver that did not answer may answer later. */
static int resolve_fail(outbox *h, const char *host, int rc)
{
	switch (rc) {
	case EAI_NONAME:
#ifdef EAI_NODATA
	case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
	case EAI_ADDRFAMILY:
#endif
		return outbox_fail(h, OUTBOX_EUNAVAILABLE, NULL, "cannot resolve %s: %s", host, gai_strerror(rc));
	case EAI_MEMORY:
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "cannot resolve %s: out of memory", host);
	case EAI_SYSTEM:
		return outbox_fail(h, OUTBOX_ETEMPFAIL, NULL, "cannot resolve %s: %s", host, strerror(errno));
	case EAI_AGAIN:
	case EAI_FAIL:
		return outbox_fail(h, OUTBOX_ETEMPFAIL, NULL, "cannot resolve %s: %s", host, gai_strerror(rc));
	default:
		return outbox_fail(h, OUTBOX_EUNAVAILABLE, NULL, "cannot resolve %s: %s", host, gai_strerror(rc));
	}
}

static int is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

static int resolve(outbox *h, const char *host, int port, long long deadline_ms, struct addrinfo **res)
{
	struct addrinfo hints;
	char service[16];
	char *ascii = NULL;
	const char *name = host;
	long long started = net_now_ms();
	int rc, timed_out = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	snprintf(service, sizeof service, "%d", port);

	/* An IP literal needs no resolver, and must not wait on one that is down. */
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(host, service, &hints, res) == 0)
		return 0;

	if (!is_ascii(host)) {
		rc = idna_to_ascii(host, &ascii);
		if (rc != IDN2_OK)
			return outbox_fail(h, OUTBOX_EUNAVAILABLE, NULL, "cannot resolve %s: %s", host,
					   idna_strerror(rc));
		name = (const char *)ascii;
	}
	/* AI_ADDRCONFIG keeps us from trying IPv6 on an IPv4-only host, but it ignores loopback, so on a
	 * host whose only addresses are loopback it can hide everything: then ask again without it. */
	hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
	rc = net_lookup(name, service, &hints, deadline_ms, res, &timed_out);
	if (rc == EAI_NONAME
#ifdef EAI_NODATA
	    || rc == EAI_NODATA
#endif
#ifdef EAI_ADDRFAMILY
	    || rc == EAI_ADDRFAMILY
#endif
	) {
		hints.ai_flags = AI_NUMERICSERV;
		rc = net_lookup(name, service, &hints, deadline_ms, res, &timed_out);
	}
	idna_free(ascii);
	if (timed_out)
		return outbox_fail(h, OUTBOX_ETEMPFAIL, NULL,
				   "cannot resolve %s: no answer from the DNS resolver in %lld s; check the network "
				   "connection and the name servers in /etc/resolv.conf",
				   host, (deadline_ms - started + 999) / 1000);
	if (rc != 0)
		return resolve_fail(h, host, rc);
	if (*res == NULL)
		return outbox_fail(h, OUTBOX_EUNAVAILABLE, NULL, "cannot resolve %s: no addresses", host);
	return 0;
}

int net_resolve(outbox *h, const char *host, int port, long long deadline_ms, struct addrinfo **res)
{
	*res = NULL;
	return resolve(h, host, port, deadline_ms, res);
}

/* The next address at or after `ai` that is IPv4 or IPv6 and is (or is not) of family `fam`. */
static const struct addrinfo *next_of(const struct addrinfo *ai, int fam, int same)
{
	for (; ai; ai = ai->ai_next)
		if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) && (ai->ai_family == fam) == same)
			return ai;
	return NULL;
}

/* RFC 8305 section 4: keep the resolver's order within each family, but alternate families, so
 * that a broken IPv6 path costs one stagger interval rather than every IPv6 address in turn. */
static size_t interleave(const struct addrinfo *list, struct attempt *out, size_t max)
{
	const struct addrinfo *first = next_of(list, AF_UNSPEC, 0); /* the first usable address */
	const struct addrinfo *cur[2];
	int fam = first ? first->ai_family : AF_INET, turn = 0;
	size_t n = 0;

	cur[0] = next_of(list, fam, 1);
	cur[1] = next_of(list, fam, 0);
	while (n < max && (cur[0] || cur[1])) {
		int t = cur[turn] ? turn : !turn;
		memset(&out[n], 0, sizeof out[n]);
		out[n].ai = cur[t];
		out[n].fd = -1;
		if (getnameinfo(cur[t]->ai_addr, cur[t]->ai_addrlen, out[n].addr, sizeof out[n].addr, NULL, 0,
				NI_NUMERICHOST) != 0)
			snprintf(out[n].addr, sizeof out[n].addr, "?");
		n++;
		cur[t] = next_of(cur[t]->ai_next, fam, t == 0);
		turn = !t;
	}
	return n;
}

/* Start one attempt. Returns 1 when it connected at once, 0 when pending or failed (err set). */
static int attempt_start(struct attempt *a)
{
	int one = 1;

	a->started = 1;
	a->fd = socket(a->ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai->ai_protocol);
	if (a->fd < 0) {
		a->err = errno;
		return 0;
	}
	/* SMTP is command and reply: Nagle would hold each short command for the previous ACK. */
	setsockopt(a->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(a->fd, a->ai->ai_addr, a->ai->ai_addrlen) == 0)
		return 1;
	if (errno == EINPROGRESS || errno == EINTR)
		return 0;
	a->err = errno;
	close(a->fd);
	a->fd = -1;
	return 0;
}

static int connect_fail(outbox *h, const char *host, int port, const struct attempt *at, size_t n,
			int timed_out, long long waited_ms)
{
	struct buf b = BUF_INIT;
	size_t i, untried = 0;
	int listed = 0, rc;

	/* The handle keeps about 500 bytes; a longer list would be cut mid-word anyway. */
	buf_init(&b, 440);
	buf_printf(&b, "cannot connect to %s port %d: ", host, port);
	for (i = 0; i < n; i++) {
		char one[200], reason[120];
		if (!at[i].started) {
			untried++;
			continue;
		}
		if (at[i].err == 0 && !timed_out)
			continue;
		/* strerror() speaks in sentence case; inside our sentence it reads better in lower case. */
		snprintf(reason, sizeof reason, "%s", at[i].err ? strerror(at[i].err) : "no answer");
		if (reason[0] >= 'A' && reason[0] <= 'Z' && reason[1] >= 'a' && reason[1] <= 'z')
			reason[0] = (char)(reason[0] - 'A' + 'a');
		snprintf(one, sizeof one, "%s%s: %s", listed ? "; " : "", at[i].addr, reason);
		if (buf_puts(&b, one) < 0)
			break;
		listed++;
	}
	if (timed_out) {
		if (untried)
			buf_printf(&b, "%s%zu %saddress%s not tried", listed ? "; " : "", untried,
				   listed ? "more " : "", untried == 1 ? "" : "es");
		if (waited_ms < 0)
			waited_ms = 0;
		if (waited_ms >= 1000)
			buf_printf(&b, " (timed out after %lld s)", (waited_ms + 500) / 1000);
		else
			buf_printf(&b, " (timed out after %lld ms)", (waited_ms + 5) / 10 * 10);
	}
	rc = outbox_fail(h, OUTBOX_ETEMPFAIL, NULL, "%s", b.data ? b.data : "cannot connect");
	buf_free(&b);
	return rc;
}

static void attempt_close(struct attempt *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}

int net_connect(outbox *h, const char *host, int port, long long deadline_ms, int *fd)
{
	struct addrinfo *list = NULL;
	struct attempt at[NET_MAX_ADDRS];
	struct pollfd pfd[NET_MAX_ADDRS];
	size_t map[NET_MAX_ADDRS];
	size_t n, next = 0, i;
	long long start = net_now_ms(), next_start = start;
	int rc, winner = -1;

	*fd = -1;
	if (port < 1 || port > 65535)
		return outbox_fail(h, OUTBOX_EINVALID, "port", "%d is not a port number (1 to 65535)", port);
	if ((rc = resolve(h, host, port, deadline_ms, &list)) < 0)
		return rc;
	n = interleave(list, at, NET_MAX_ADDRS);
	if (n == 0) {
		freeaddrinfo(list);
		return outbox_fail(h, OUTBOX_EUNAVAILABLE, NULL, "cannot resolve %s: no IPv4 or IPv6 address", host);
	}

	for (;;) {
		long long now = net_now_ms(), wake;
		nfds_t npoll = 0;

		/* A new attempt when the stagger interval is up, or at once when nothing is pending
		 * (the previous one failed outright): a refused address should not cost 250 ms. */
		while (next < n && now < deadline_ms) {
			int pending = 0;
			for (i = 0; i < next; i++)
				pending += at[i].fd >= 0;
			if (pending && now < next_start)
				break;
			if (attempt_start(&at[next])) {
				winner = (int)next++;
				break;
			}
			next_start = now + NET_STAGGER_MS;
			next++;
			if (at[next - 1].fd >= 0)
				break;
		}
		if (winner >= 0)
			break;

		for (i = 0; i < next; i++) {
			if (at[i].fd < 0)
				continue;
			pfd[npoll].fd = at[i].fd;
			pfd[npoll].events = POLLOUT;
			pfd[npoll].revents = 0;
			map[npoll++] = i;
		}
		if (npoll == 0 && next >= n) {
			rc = connect_fail(h, host, port, at, n, 0, now - start);
			goto out;
		}
		if (now >= deadline_ms) {
			rc = connect_fail(h, host, port, at, n, 1, deadline_ms - start);
			goto out;
		}
		wake = next < n && next_start < deadline_ms ? next_start : deadline_ms;
		int ready = poll(pfd, npoll, poll_timeout(wake));
		if (ready < 0 && errno != EINTR) {
			rc = outbox_fail(h, OUTBOX_ETEMPFAIL, NULL, "cannot connect to %s port %d: poll: %s", host,
					 port, strerror(errno));
			goto out;
		}
		for (i = 0; ready > 0 && i < npoll; i++) {
			struct attempt *a = &at[map[i]];
			int err = 0;
			socklen_t len = sizeof err;
			if (pfd[i].revents == 0)
				continue;
			if (getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
				err = errno;
			if (err == 0 && (pfd[i].revents & POLLOUT)) {
				winner = (int)map[i];
				break;
			}
			if (err == 0)
				err = ECONNREFUSED; /* POLLHUP/POLLERR without a recorded error */
			a->err = err;
			attempt_close(a);
			next_start = net_now_ms(); /* a failure frees the next attempt to start now */
		}
		if (winner >= 0)
			break;
	}

	*fd = at[winner].fd;
	at[winner].fd = -1;
	rc = 0;
out:
	for (i = 0; i < n; i++)
		attempt_close(&at[i]);
	freeaddrinfo(list);
	return rc;
}
