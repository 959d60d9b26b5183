/* dns_query.c: each query in a detached thread of its own, with glibc's resolver told to give up
 * soon after the caller's deadline; the caller waits for the batch only until that deadline, and
 * whichever of it and the threads lets go of the batch last frees it. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns_query.h"
#include "handle_internal.h"
#include "idna.h"
#include "net.h"
#include "validate.h"

/* Room for the largest DNS message, which a TCP answer may be. */
#define DNS_ANSWER_BUF 65536

int dns_resolver_parse(outbox *h, const char *spec, struct dns_resolver *out)
{
	char addr[64], shown[96], ip[INET_ADDRSTRLEN];
	const char *colon = strrchr(spec, ':');
	char *end = NULL;
	long port;

	memset(out, 0, sizeof *out);
	validate_display(shown, sizeof shown, spec, strlen(spec));
	if (colon == NULL || (size_t)(colon - spec) >= sizeof addr)
		return outbox_fail(h, OUTBOX_EINVALID, "resolver",
				   "%s is not an IPv4 address and a port, like 127.0.0.1:5353", shown);
	memcpy(addr, spec, (size_t)(colon - spec));
	addr[colon - spec] = '\0';
	if (inet_pton(AF_INET, addr, &out->addr.sin_addr) != 1)
		return outbox_fail(h, OUTBOX_EINVALID, "resolver",
				   "%s does not start with an IPv4 address (a name server is given by its "
				   "address, like 127.0.0.1:5353; IPv6 ones cannot be)", shown);
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 || port < 1 || port > 65535)
		return outbox_fail(h, OUTBOX_EINVALID, "resolver",
				   "%s does not end with a port from 1 to 65535, like 127.0.0.1:5353", shown);
	out->addr.sin_family = AF_INET;
	out->addr.sin_port = htons((uint16_t)port);
	out->given = 1;
	inet_ntop(AF_INET, &out->addr.sin_addr, ip, sizeof ip);
	snprintf(out->shown, sizeof out->shown, "%s:%d", ip, (int)(uint16_t)port);
	return 0;
}

const char *dns_resolver_name(const struct dns_resolver *r)
{
	return r != NULL && r->given ? r->shown : "the system's resolver";
}

static int is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

int dns_query_name(outbox *h, const char *field, const char *prefix, const char *host, char *out,
		   size_t size)
{
	char *ascii = NULL;
	const char *name = host;
	size_t len;
	int rc;

	if ((rc = validate_host(h, field, host)) < 0)
		return rc;
	if (net_ip_literal(host, NULL))
		return outbox_fail(h, OUTBOX_EINVALID, field, "%s is an IP address, not a domain name", host);
	if (!is_ascii(host)) {
		rc = idna_to_ascii(host, &ascii);
		if (rc != IDN2_OK) {
			idna_free(ascii);
			return outbox_fail(h, rc == IDN2_MALLOC ? OUTBOX_ENOMEM : OUTBOX_EINVALID, field,
					   "%s cannot be written in ASCII for DNS: %s", host, idna_strerror(rc));
		}
		name = (const char *)ascii;
	}
	len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		len--; /* validate_host allows "example.org."; a query name here has no trailing dot */
	rc = 0;
	if (strlen(prefix) + len > 253 || strlen(prefix) + len >= size)
		rc = outbox_fail(h, OUTBOX_EINVALID, field, "%s makes a query name over 253 characters", host);
	else
		snprintf(out, size, "%s%.*s", prefix, (int)len, name);
	idna_free(ascii);
	return rc;
}

/* One query's slot in a batch: the thread writes `q` and then, under the lock, `done`. */
struct slot {
	struct batch *batch;
	struct dns_query q;
	int done;
};

struct batch {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	int refs;        /* the caller and each thread still running */
	size_t pending;  /* queries without a result */
	struct dns_resolver resolver;
	long long started_ms, deadline_ms;
	size_t n;
	struct slot slot[];
};

static void batch_release(struct batch *b)
{
	int last;

	pthread_mutex_lock(&b->lock);
	last = --b->refs == 0;
	pthread_mutex_unlock(&b->lock);
	if (!last)
		return;
	pthread_cond_destroy(&b->changed);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* Point the resolver state at the one server the user named, freeing the IPv6 servers res_ninit
 * may have allocated from /etc/resolv.conf (res_nclose only frees those below nscount). */
static void state_use_server(res_state st, const struct dns_resolver *r)
{
	int i;

	for (i = 0; i < st->nscount && i < MAXNS; i++) {
		free(st->_u._ext.nsaddrs[i]);
		st->_u._ext.nsaddrs[i] = NULL;
	}
	st->nsaddr_list[0] = r->addr;
	st->nscount = 1;
}

/* glibc waits `retrans` seconds for each server on each of `retry` rounds: one round, and a wait
 * just covering what is left of the deadline, so its own timeout never comes before the caller's
 * deadline (a failure seen earlier is an answer) and an abandoned thread ends soon after it. */
static void state_set_wait(res_state st, long long deadline_ms)
{
	st->retry = 1;
	st->retrans = net_seconds_left(deadline_ms);
}

static void query_failed(struct dns_query *q, enum dns_query_result result, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void query_failed(struct dns_query *q, enum dns_query_result result, const char *fmt, ...)
{
	va_list ap;

	q->result = result;
	va_start(ap, fmt);
	vsnprintf(q->detail, sizeof q->detail, fmt, ap);
	va_end(ap);
}

/* The words for a query the deadline ended, the same whichever side saw it first. */
static void query_unanswered(struct dns_query *q, const struct batch *b)
{
	memset(&q->answer, 0, sizeof q->answer);
	query_failed(q, DNS_QUERY_NO_ANSWER, "no answer from %s in %.1f s", dns_resolver_name(&b->resolver),
		     (double)(b->deadline_ms - b->started_ms) / 1000.0);
}

/* What res_nquery's -1 means, from glibc's h_errno and errno. */
static void query_judge_error(struct dns_query *q, const struct batch *b, int herr, int err)
{
	const char *server = dns_resolver_name(&b->resolver);

	switch (herr) {
	case HOST_NOT_FOUND:
		q->result = DNS_QUERY_ANSWERED;
		q->answer.status = DNS_ANSWER_NXDOMAIN;
		return;
	case NO_DATA:
		q->result = DNS_QUERY_ANSWERED;
		q->answer.status = DNS_ANSWER_NODATA;
		return;
	case TRY_AGAIN:
		if (err == ECONNREFUSED)
			query_failed(q, DNS_QUERY_NO_ANSWER, "nothing answers DNS at %s (connection refused)",
				     server);
		else if (net_now_ms() >= b->deadline_ms)
			query_unanswered(q, b);
		else
			/* Before glibc's own timeout: the server said SERVFAIL or REFUSED. */
			query_failed(q, DNS_QUERY_FAILED, "%s could not answer (SERVFAIL or REFUSED)", server);
		return;
	case NO_RECOVERY:
		query_failed(q, DNS_QUERY_FAILED, "%s refused the query or answered it with an error", server);
		return;
	default:
		query_failed(q, DNS_QUERY_FAILED, "the query could not be sent to %s: %s", server,
			     strerror(err));
		return;
	}
}

static void query_one(struct batch *b, struct dns_query *q, unsigned char *buf)
{
	struct __res_state st;
	outbox scratch;
	int len, herr, err;

	memset(&st, 0, sizeof st);
	memset(&scratch, 0, sizeof scratch);
	if (res_ninit(&st) != 0) {
		query_failed(q, DNS_QUERY_FAILED, "the resolver could not be set up (/etc/resolv.conf)");
		return;
	}
	if (b->resolver.given)
		state_use_server(&st, &b->resolver);
	state_set_wait(&st, b->deadline_ms);
	errno = 0;
	len = res_nquery(&st, q->name, ns_c_in, q->type, buf, DNS_ANSWER_BUF);
	herr = st.res_h_errno;
	err = errno;
	res_nclose(&st);
	if (len < 0) {
		query_judge_error(q, b, herr, err);
		return;
	}
	if (len > DNS_ANSWER_BUF)
		len = DNS_ANSWER_BUF; /* glibc says how long the answer was, even when it was cut */
	if (dns_answer_parse(&scratch, buf, (size_t)len, q->name, q->type, &q->answer) < 0)
		query_failed(q, DNS_QUERY_FAILED, "%s", outbox_errmsg(&scratch));
	else
		q->result = DNS_QUERY_ANSWERED;
}

static void *query_main(void *arg)
{
	struct slot *s = arg;
	struct batch *b = s->batch;
	unsigned char *buf = malloc(DNS_ANSWER_BUF);

	if (buf == NULL)
		query_failed(&s->q, DNS_QUERY_FAILED, "out of memory");
	else
		query_one(b, &s->q, buf);
	free(buf);
	pthread_mutex_lock(&b->lock);
	s->q.ms = net_now_ms() - b->started_ms;
	s->done = 1;
	b->pending--;
	pthread_cond_broadcast(&b->changed);
	pthread_mutex_unlock(&b->lock);
	batch_release(b);
	return NULL;
}

static struct batch *batch_new(const struct dns_resolver *r, const struct dns_query *q, size_t n,
			       long long deadline_ms)
{
	struct batch *b = calloc(1, sizeof *b + n * sizeof b->slot[0]);
	pthread_condattr_t ca;
	size_t i;

	if (b == NULL)
		return NULL;
	pthread_mutex_init(&b->lock, NULL);
	/* The deadline is on the monotonic clock; so is the wait, so a clock change cannot stretch it. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->changed, &ca);
	pthread_condattr_destroy(&ca);
	if (r != NULL)
		b->resolver = *r;
	b->started_ms = net_now_ms();
	b->deadline_ms = deadline_ms;
	b->n = b->pending = n;
	b->refs = 1;
	for (i = 0; i < n; i++) {
		b->slot[i].batch = b;
		memcpy(b->slot[i].q.name, q[i].name, sizeof q[i].name);
		b->slot[i].q.type = q[i].type;
	}
	return b;
}

static void batch_start(struct batch *b)
{
	pthread_attr_t attr;
	pthread_t thread;
	size_t i;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (i = 0; i < b->n; i++) {
		pthread_mutex_lock(&b->lock);
		b->refs++;
		pthread_mutex_unlock(&b->lock);
		if (pthread_create(&thread, &attr, query_main, &b->slot[i]) == 0)
			continue;
		pthread_mutex_lock(&b->lock);
		b->refs--;
		query_failed(&b->slot[i].q, DNS_QUERY_FAILED, "no thread could be started for the query");
		b->slot[i].done = 1;
		b->pending--;
		pthread_mutex_unlock(&b->lock);
	}
	pthread_attr_destroy(&attr);
}

int dns_query_run(outbox *h, const struct dns_resolver *r, struct dns_query *q, size_t n,
		  long long deadline_ms)
{
	/* A negative time is no moment to wait for (tv_nsec must not be negative): no wait. */
	struct timespec until = {deadline_ms < 0 ? 0 : deadline_ms / 1000,
				 deadline_ms < 0 ? 0 : (deadline_ms % 1000) * 1000000};
	struct batch *b;
	size_t i;
	int rc;

	if ((rc = dns_answer_ready(h)) < 0)
		return rc;
	if ((b = batch_new(r, q, n, deadline_ms)) == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory");
	batch_start(b);
	pthread_mutex_lock(&b->lock);
	/* Any answer but a wake-up (the time is up, or an error) ends the wait: looping on an error
	 * would hold the lock the queries need. */
	while (b->pending > 0 && pthread_cond_timedwait(&b->changed, &b->lock, &until) == 0)
		;
	for (i = 0; i < n; i++) {
		struct dns_query *out = &q[i];

		if (b->slot[i].done) {
			*out = b->slot[i].q;
			continue;
		}
		memcpy(out->name, b->slot[i].q.name, sizeof out->name);
		out->type = b->slot[i].q.type;
		query_unanswered(out, b);
		out->ms = net_now_ms() - b->started_ms;
	}
	pthread_mutex_unlock(&b->lock);
	batch_release(b);
	return 0;
}
