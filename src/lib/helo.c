/* helo.c: the name this host gives in EHLO. A strict server refuses a bare "vm": without a name
 * with a dot, the address literal of the connection's own end is what RFC 5321 4.1.4 allows. */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "helo.h"
#include "helo_cache.h"
#include "net.h"
#include "net_lookup.h"
#include "server_internal.h"

/* How long the canonical name may take: the lookup may ask a name server, and a dead one must
 * not hold the first session (the literal is the answer then). */
#define HELO_LOOKUP_MS 2000

/* A name worth giving: an ASCII host name with at least one dot, not a name of localhost. */
static int helo_is_fqdn(const char *name)
{
	size_t len = name ? strlen(name) : 0, label = 0, i;

	if (len == 0 || len > 253 || strchr(name, '.') == NULL)
		return 0;
	if (strncasecmp(name, "localhost.", 10) == 0 || strncasecmp(name, "localhost6.", 11) == 0)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '.') {
			if (label == 0 || name[i - 1] == '-')
				return 0;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			   (c == '-' && label > 0)) {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return label > 0 && name[len - 1] != '-';
}

/* The short name as a last resort: plain letters, digits and hyphens only. */
static int helo_is_short_name(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	return len > 0 && len <= 63 && strspn(name, "abcdefghijklmnopqrstuvwxyz"
					       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == len &&
	       name[0] != '-';
}

static int helo_literal(const struct sockaddr *sa, char *out, size_t size)
{
	char text[INET6_ADDRSTRLEN];

	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		if (inet_ntop(AF_INET, &in->sin_addr, text, sizeof text) == NULL)
			return 0;
		snprintf(out, size, "[%s]", text);
		return 1;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		/* An IPv4 peer reached over an IPv6 socket sees the IPv4 address. */
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			if (inet_ntop(AF_INET, in6->sin6_addr.s6_addr + 12, text, sizeof text) == NULL)
				return 0;
			snprintf(out, size, "[%s]", text);
			return 1;
		}
		if (inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text) == NULL)
			return 0;
		snprintf(out, size, "[IPv6:%s]", text);
		return 1;
	}
	return 0;
}

void helo_choose(const char *host, const char *canonical, const struct sockaddr *local, char *out,
		 size_t size)
{
	if (helo_is_fqdn(host))
		snprintf(out, size, "%s", host);
	else if (helo_is_fqdn(canonical))
		snprintf(out, size, "%s", canonical);
	else if (helo_literal(local, out, size))
		return;
	else if (helo_is_short_name(host))
		snprintf(out, size, "%s", host);
	else
		snprintf(out, size, "localhost");
}

/* This host's names, found once per process: from the store's memory of them (helo_cache.c) or
 * by a lookup, which may ask DNS; a runner opens many sessions. Guarded by helo_lock, since a
 * runner's workers open sessions in threads of their own. */
static pthread_mutex_t helo_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t helo_once = PTHREAD_ONCE_INIT;
static int helo_started;    /* a session has set out to find them */
static int helo_known;      /* helo_host and helo_canonical are final */
static int helo_remembered; /* the store has them, or nothing worth remembering was looked up */
static char helo_host[256];
static char helo_canonical[256];

/* Whether the host's own name is not enough and its canonical name must be asked for. */
static int helo_needs_lookup(const char *host)
{
	return !helo_is_fqdn(host) && helo_is_short_name(host);
}

static void helo_own_host(char *host, size_t size)
{
	if (gethostname(host, size) < 0)
		host[0] = '\0';
	host[size - 1] = '\0';
}

/* Settle the names, unless something settled them first. */
static void helo_settle(const char *host, const char *canonical, int remembered)
{
	pthread_mutex_lock(&helo_lock);
	if (!helo_known) {
		snprintf(helo_host, sizeof helo_host, "%s", host);
		snprintf(helo_canonical, sizeof helo_canonical, "%s", canonical);
		helo_known = 1;
		helo_remembered = remembered;
	}
	pthread_mutex_unlock(&helo_lock);
}

static void helo_look_up(void)
{
	struct addrinfo hints, *res = NULL;
	char host[256], canonical[256] = "";
	int timed_out = 0, known;

	pthread_mutex_lock(&helo_lock);
	known = helo_known;
	pthread_mutex_unlock(&helo_lock);
	if (known)
		return; /* the store remembered them */
	helo_own_host(host, sizeof host);
	if (helo_needs_lookup(host)) {
		memset(&hints, 0, sizeof hints);
		hints.ai_flags = AI_CANONNAME;
		hints.ai_socktype = SOCK_STREAM;
		if (net_lookup(host, "0", &hints, net_now_ms() + HELO_LOOKUP_MS, &res, &timed_out) == 0 &&
		    res && res->ai_canonname)
			snprintf(canonical, sizeof canonical, "%s", res->ai_canonname);
		if (res)
			freeaddrinfo(res);
	}
	/* A lookup that timed out is not remembered: the name server may answer next time. */
	helo_settle(host, canonical, !helo_needs_lookup(host) || timed_out);
}

static void *helo_look_up_main(void *arg)
{
	(void)arg;
	pthread_once(&helo_once, helo_look_up);
	return NULL;
}

void helo_prefetch(outbox *h, const outbox_server *s)
{
	char host[256], canonical[256];
	pthread_attr_t attr;
	pthread_t thread;
	int first;

	if (s && *s->rec.val[OUTBOX_SERVER_HELO])
		return;
	pthread_mutex_lock(&helo_lock);
	first = !helo_started && !helo_known;
	helo_started = 1;
	pthread_mutex_unlock(&helo_lock);
	if (!first)
		return;
	helo_own_host(host, sizeof host);
	if (!helo_needs_lookup(host)) {
		helo_settle(host, "", 1);
		return;
	}
	if (h && helo_cache_get(h, host, canonical, sizeof canonical)) {
		helo_settle(host, canonical, 1);
		return;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Without a thread, helo_name looks the names up itself. */
	(void)pthread_create(&thread, &attr, helo_look_up_main, NULL);
	pthread_attr_destroy(&attr);
}

void outbox_server_helo_automatic(char *out, size_t size)
{
	pthread_once(&helo_once, helo_look_up);
	pthread_mutex_lock(&helo_lock);
	snprintf(out, size, "%s", helo_is_fqdn(helo_host) ? helo_host : helo_is_fqdn(helo_canonical) ? helo_canonical : "");
	pthread_mutex_unlock(&helo_lock);
}

void helo_name(outbox *h, const outbox_server *s, int fd, char *out, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	const char *set = s ? s->rec.val[OUTBOX_SERVER_HELO] : "";
	char host[256], canonical[256];
	int remember;

	if (*set) {
		snprintf(out, size, "%s", set);
		return;
	}
	helo_prefetch(h, s);
	pthread_once(&helo_once, helo_look_up); /* waits for the lookup helo_prefetch began */
	pthread_mutex_lock(&helo_lock);
	snprintf(host, sizeof host, "%s", helo_host);
	snprintf(canonical, sizeof canonical, "%s", helo_canonical);
	remember = !helo_remembered;
	helo_remembered = 1;
	pthread_mutex_unlock(&helo_lock);
	if (remember && h)
		helo_cache_put(h, host, canonical);
	memset(&ss, 0, sizeof ss);
	helo_choose(host, canonical,
		    fd >= 0 && getsockname(fd, (struct sockaddr *)&ss, &len) == 0 ? (struct sockaddr *)&ss : NULL,
		    out, size);
}
