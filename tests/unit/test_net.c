/* test_net.c: resolving and connecting on loopback: both families, IDNA names, refusals and the
 * resolver's failures in words, the deadline, and staggered attempts where the slow address loses. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT, when the build does not already ask for it */
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "handle_internal.h"
#include "net.h"
#include "unit.h"

/* A resolver of our own for a few names under .test, so that a name can have exactly the
 * addresses a test needs (both families, in a chosen order) or fail in a chosen way. Every other
 * name goes to the system's getaddrinfo. glibc's freeaddrinfo frees node by node, so a list
 * joined from several of its answers is freed correctly. */
static const struct fake_name {
	const char *name;
	int error;                /* an EAI_* code to fail with, or 0 */
	const char *addrs[5];
} fake_names[] = {
	{"dual.test", 0, {"::1", "127.0.0.1"}},
	{"order.test", 0, {"::1", "::ffff:127.0.0.2", "127.0.0.1", "127.0.0.2"}},
	{"again.test", EAI_AGAIN, {NULL}},
	{"nodata.test", EAI_NODATA, {NULL}},
	{"fail.test", EAI_FAIL, {NULL}},
};

typedef int getaddrinfo_fn(const char *, const char *, const struct addrinfo *, struct addrinfo **);

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res)
{
	static getaddrinfo_fn *real;
	struct addrinfo numeric, *head = NULL, **tail = &head;
	size_t i, j;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "getaddrinfo");
	for (i = 0; node && i < sizeof fake_names / sizeof fake_names[0]; i++) {
		const struct fake_name *f = &fake_names[i];
		if (strcmp(node, f->name) != 0 || (hints && (hints->ai_flags & AI_NUMERICHOST)))
			continue;
		if (f->error)
			return f->error;
		numeric = *hints;
		numeric.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
		for (j = 0; f->addrs[j]; j++) {
			int rc = real(f->addrs[j], service, &numeric, tail);
			if (rc != 0) {
				freeaddrinfo(head);
				return rc;
			}
			while (*tail)
				tail = &(*tail)->ai_next;
		}
		*res = head;
		return 0;
	}
	return real(node, service, hints, res);
}

/* A listening socket on `addr` (port 0 for any); -1 when the address family is not available. */
static int listener(const char *addr, int port, int backlog, int *bound_port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, v6 = strchr(addr, ':') != NULL;

	memset(&ss, 0, sizeof ss);
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, addr, &s6->sin6_addr);
		len = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, addr, &s4->sin_addr);
		len = sizeof *s4;
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (v6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, backlog) < 0) {
		close(fd);
		return -1;
	}
	if (bound_port) {
		len = sizeof ss;
		getsockname(fd, (struct sockaddr *)&ss, &len);
		*bound_port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
	}
	return fd;
}

/* A port with nothing listening on it on 127.0.0.1 or ::1. */
static int free_port(void)
{
	int port = 0, fd = listener("127.0.0.1", 0, 1, &port);

	assert_true(fd >= 0);
	close(fd);
	return port;
}

/* A listener that never answers a new connection: its accept queue (backlog 0 holds one) is
 * full, so the kernel drops further SYNs and the connecting side waits. */
static int black_hole(const char *addr, int port, int *bound_port, int *filler)
{
	int fd = listener(addr, port, 0, bound_port);
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (fd < 0)
		return -1;
	getsockname(fd, (struct sockaddr *)&ss, &len);
	*filler = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(*filler, (struct sockaddr *)&ss, len), 0);
	return fd;
}

static int ipv6_loopback(void)
{
	int fd = listener("::1", 0, 1, NULL);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

static void expect_connected(int fd, const char *want_peer, const char *what)
{
	char peer[64];
	int flags, nodelay = 0;
	socklen_t len = sizeof nodelay;

	EXPECT_INT(net_peer_name(fd, peer, sizeof peer), 0, what);
	EXPECT_STR(peer, want_peer, what);
	flags = fcntl(fd, F_GETFL);
	EXPECT_INT(!!(flags & O_NONBLOCK), 1, "non-blocking");
	EXPECT_INT(!!(fcntl(fd, F_GETFD) & FD_CLOEXEC), 1, "close-on-exec");
	getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len);
	EXPECT_INT(!!nodelay, 1, "TCP_NODELAY");
}

static void test_connect_loopback(void **state)
{
	const struct {
		const char *listen, *host, *peer;
	} cases[] = {
		{"127.0.0.1", "127.0.0.1", "127.0.0.1"},
		{"::1", "::1", "::1"},
		{"127.0.0.1", "localhost", "127.0.0.1"},
		/* Fullwidth letters map to "localhost" under UTS #46: the name went through IDNA. */
		{"127.0.0.1", "\xef\xbd\x8c\xef\xbd\x8f\xef\xbd\x83\xef\xbd\x81\xef\xbd\x8c\xef\xbd\x88\xef\xbd\x8f"
			      "\xef\xbd\x93\xef\xbd\x94", "127.0.0.1"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		outbox h;
		int port = 0, lfd, fd = -1, rc;
		memset(&h, 0, sizeof h);
		if (strchr(cases[i].listen, ':') && !ipv6_loopback())
			continue;
		lfd = listener(cases[i].listen, 0, 4, &port);
		assert_true(lfd >= 0);
		rc = net_connect(&h, cases[i].host, port, net_now_ms() + 5000, &fd);
		if (rc != 0)
			fail_msg("net_connect(%s): %d %s", cases[i].host, rc, outbox_errmsg(&h));
		expect_connected(fd, cases[i].peer, cases[i].host);
		close(fd);
		close(lfd);
	}
}

static void test_refused(void **state)
{
	outbox h;
	char want[128];
	int port = free_port(), fd = 12345;

	(void)state;
	memset(&h, 0, sizeof h);
	EXPECT_INT(net_connect(&h, "127.0.0.1", port, net_now_ms() + 5000, &fd), OUTBOX_ETEMPFAIL, "refused");
	EXPECT_INT(fd, -1, "fd after a failure");
	snprintf(want, sizeof want, "cannot connect to 127.0.0.1 port %d: 127.0.0.1: connection refused", port);
	EXPECT_STR(outbox_errmsg(&h), want, "refused message");
	EXPECT_INT(outbox_errfield(&h) == NULL, 1, "no field");
}

/* Every address is tried and each failure named, in the interleaved order of RFC 8305: the
 * families alternate, each keeping the resolver's order. */
static void test_all_refused_in_order(void **state)
{
	outbox h;
	char want[300];
	int port = free_port(), fd;

	(void)state;
	if (!ipv6_loopback())
		skip();
	memset(&h, 0, sizeof h);
	EXPECT_INT(net_connect(&h, "order.test", port, net_now_ms() + 5000, &fd), OUTBOX_ETEMPFAIL, "refused");
	snprintf(want, sizeof want, "cannot connect to order.test port %d: ::1: connection refused; "
		 "127.0.0.1: connection refused; ::ffff:127.0.0.2: connection refused; "
		 "127.0.0.2: connection refused", port);
	EXPECT_STR(outbox_errmsg(&h), want, "all refused");
}

static void test_resolve_failures(void **state)
{
	const struct {
		const char *host;
		int rc;
		const char *part;
	} cases[] = {
		{"nonexistent.invalid", OUTBOX_EUNAVAILABLE, "cannot resolve nonexistent.invalid: "},
		{"nodata.test", OUTBOX_EUNAVAILABLE, "cannot resolve nodata.test: "},
		{"again.test", OUTBOX_ETEMPFAIL, "cannot resolve again.test: Temporary failure in name resolution"},
		{"fail.test", OUTBOX_ETEMPFAIL, "cannot resolve fail.test: "},
		{"bad\xff" "utf8.example", OUTBOX_EUNAVAILABLE, "cannot resolve bad"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		outbox h;
		int fd;
		memset(&h, 0, sizeof h);
		EXPECT_INT(net_connect(&h, cases[i].host, 25, net_now_ms() + 10000, &fd), cases[i].rc, cases[i].host);
		EXPECT_CONTAINS(outbox_errmsg(&h), cases[i].part, cases[i].host);
	}
}

static void test_bad_port(void **state)
{
	outbox h;
	int fd;

	(void)state;
	memset(&h, 0, sizeof h);
	EXPECT_INT(net_connect(&h, "127.0.0.1", 0, net_now_ms() + 1000, &fd), OUTBOX_EINVALID, "port 0");
	EXPECT_STR(outbox_errfield(&h), "port", "field");
	EXPECT_INT(net_connect(&h, "127.0.0.1", 65536, net_now_ms() + 1000, &fd), OUTBOX_EINVALID, "port 65536");
}

static void test_deadline(void **state)
{
	outbox h;
	char want[128];
	int port = 0, filler = -1, lfd = black_hole("127.0.0.1", 0, &port, &filler), fd;
	long long start, took;

	(void)state;
	assert_true(lfd >= 0);
	memset(&h, 0, sizeof h);
	start = net_now_ms();
	EXPECT_INT(net_connect(&h, "127.0.0.1", port, start + 300, &fd), OUTBOX_ETEMPFAIL, "no answer");
	took = net_now_ms() - start;
	if (took < 290 || took > 1500)
		fail_msg("deadline: took %lld ms, want about 300", took);
	snprintf(want, sizeof want, "cannot connect to 127.0.0.1 port %d: 127.0.0.1: no answer (timed out after "
		 "300 ms)", port);
	EXPECT_STR(outbox_errmsg(&h), want, "timeout message");
	close(filler);
	close(lfd);
}

/* ::1 first, refused at once; 127.0.0.1 must then start at once rather than 250 ms later. */
static void test_ipv6_refused_ipv4_wins(void **state)
{
	outbox h;
	int port = 0, lfd = listener("127.0.0.1", 0, 4, &port), fd = -1, rc;
	long long start;

	(void)state;
	if (!ipv6_loopback())
		skip();
	memset(&h, 0, sizeof h);
	start = net_now_ms();
	rc = net_connect(&h, "dual.test", port, start + 5000, &fd);
	if (rc != 0)
		fail_msg("net_connect(dual.test): %d %s", rc, outbox_errmsg(&h));
	if (net_now_ms() - start > 200)
		fail_msg("the IPv4 attempt waited %lld ms after ::1 was refused", net_now_ms() - start);
	expect_connected(fd, "127.0.0.1", "dual.test");
	close(fd);
	close(lfd);
}

/* ::1 never answers; after the 250 ms stagger 127.0.0.1 is tried while ::1 still waits, and wins. */
static void test_staggered_attempt_wins(void **state)
{
	outbox h;
	int port = 0, filler = -1, hole, lfd, fd = -1, rc;
	long long start, took;

	(void)state;
	if (!ipv6_loopback())
		skip();
	hole = black_hole("::1", 0, &port, &filler);
	assert_true(hole >= 0);
	lfd = listener("127.0.0.1", port, 4, NULL);
	assert_true(lfd >= 0);
	memset(&h, 0, sizeof h);
	start = net_now_ms();
	rc = net_connect(&h, "dual.test", port, start + 5000, &fd);
	took = net_now_ms() - start;
	if (rc != 0)
		fail_msg("net_connect(dual.test): %d %s", rc, outbox_errmsg(&h));
	expect_connected(fd, "127.0.0.1", "staggered");
	if (took < 240 || took > 1500)
		fail_msg("the second attempt won after %lld ms, want about 250", took);
	close(fd);
	close(lfd);
	close(filler);
	close(hole);
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void test_wait(void **state)
{
	int sv[2];
	long long start, took;
	struct sigaction sa, old;
	struct itimerval it;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);

	start = net_now_ms();
	EXPECT_INT(net_wait(sv[0], POLLIN, start + 150), 0, "nothing to read");
	took = net_now_ms() - start;
	if (took < 150 || took > 1000)
		fail_msg("net_wait returned after %lld ms, want 150", took);

	EXPECT_INT(net_wait(sv[0], POLLOUT, net_now_ms() + 1000), 1, "writable");
	EXPECT_INT(net_wait(sv[0], POLLIN, net_now_ms() - 10), 0, "deadline already past");
	assert_int_equal(write(sv[1], "x", 1), 1);
	EXPECT_INT(net_wait(sv[0], POLLIN, net_now_ms() + 1000), 1, "readable");
	EXPECT_INT(net_wait(-1, POLLIN, net_now_ms() + 50), 0, "a negative fd is ignored by poll");

	/* A signal part way through must neither end the wait early nor restart the full timeout. */
	assert_int_equal(read(sv[0], (char[1]){0}, 1), 1);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm; /* no SA_RESTART: poll fails with EINTR */
	sigaction(SIGALRM, &sa, &old);
	memset(&it, 0, sizeof it);
	it.it_value.tv_usec = 50000;
	setitimer(ITIMER_REAL, &it, NULL);
	start = net_now_ms();
	EXPECT_INT(net_wait(sv[0], POLLIN, start + 200), 0, "interrupted wait");
	took = net_now_ms() - start;
	sigaction(SIGALRM, &old, NULL);
	if (took < 200 || took > 600)
		fail_msg("interrupted net_wait returned after %lld ms, want 200", took);

	close(sv[0]);
	close(sv[1]);
}

static void test_peer_name_unconnected(void **state)
{
	char out[64] = "junk";
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	(void)state;
	EXPECT_INT(net_peer_name(fd, out, sizeof out), -1, "not connected");
	EXPECT_STR(out, "", "name of an unconnected socket");
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_loopback),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_all_refused_in_order),
		cmocka_unit_test(test_resolve_failures),
		cmocka_unit_test(test_bad_port),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_ipv6_refused_ipv4_wins),
		cmocka_unit_test(test_staggered_attempt_wins),
		cmocka_unit_test(test_wait),
		cmocka_unit_test(test_peer_name_unconnected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
