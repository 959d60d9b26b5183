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

/* This host's names, looked up once: the lookup may ask DNS, and a runner opens many sessions. */
static pthread_once_t helo_once = PTHREAD_ONCE_INIT;
static char helo_host[256];
static char helo_canonical[256];

static void helo_look_up(void)
{
	struct addrinfo hints, *res = NULL;
	int timed_out = 0;

	if (gethostname(helo_host, sizeof helo_host) < 0)
		helo_host[0] = '\0';
	helo_host[sizeof helo_host - 1] = '\0';
	if (helo_is_fqdn(helo_host) || !helo_is_short_name(helo_host))
		return;
	memset(&hints, 0, sizeof hints);
	hints.ai_flags = AI_CANONNAME;
	hints.ai_socktype = SOCK_STREAM;
	if (net_lookup(helo_host, "0", &hints, net_now_ms() + HELO_LOOKUP_MS, &res, &timed_out) == 0 && res &&
	    res->ai_canonname)
		snprintf(helo_canonical, sizeof helo_canonical, "%s", res->ai_canonname);
	if (res)
		freeaddrinfo(res);
}

void outbox_server_helo_automatic(char *out, size_t size)
{
	pthread_once(&helo_once, helo_look_up);
	snprintf(out, size, "%s", helo_is_fqdn(helo_host) ? helo_host : helo_is_fqdn(helo_canonical) ? helo_canonical : "");
}

void helo_name(const outbox_server *s, int fd, char *out, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	const char *set = s ? s->rec.val[OUTBOX_SERVER_HELO] : "";

	if (*set) {
		snprintf(out, size, "%s", set);
		return;
	}
	pthread_once(&helo_once, helo_look_up);
	memset(&ss, 0, sizeof ss);
	helo_choose(helo_host, helo_canonical,
		    fd >= 0 && getsockname(fd, (struct sockaddr *)&ss, &len) == 0 ? (struct sockaddr *)&ss : NULL,
		    out, size);
}
