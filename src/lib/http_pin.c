/* http_pin.c: the host names a request's caller resolved itself (struct http_pin), checked and
 * written as libcurl's CURLOPT_RESOLVE entries; http.c only hands the entries to libcurl. */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "handle_internal.h"
#include "http.h"
#include "net.h"


static int pins_check(outbox *h, const struct http_request *req)
{
	size_t i;

	for (i = 0; i < req->pin_count; i++) {
		const struct http_pin *p = &req->pins[i];

		if (p->host == NULL || *p->host == '\0' || strpbrk(p->host, ":,[] \t\r\n") != NULL)
			return outbox_fail(h, OUTBOX_EINVALID, "resolve",
					   "a pinned host must be a host name");
		if (!net_ip_literal(p->address, NULL))
			return outbox_fail(h, OUTBOX_EINVALID, "resolve",
					   "the address pinned for %.200s is not an IP address", p->host);
	}
	return 0;
}

int http_pin_entries(outbox *h, const struct http_request *req, long port,
		     int (*add)(void *ctx, const char *entry), void *ctx)
{
	struct buf entry = BUF_INIT;
	size_t i, j;
	int rc;

	if ((rc = pins_check(h, req)) < 0)
		return rc;
	for (i = 0; i < req->pin_count && rc == 0; i++) {
		const char *host = req->pins[i].host;
		int seen = 0;

		for (j = 0; j < i && !seen; j++)
			seen = strcasecmp(req->pins[j].host, host) == 0;
		if (seen)
			continue; /* its addresses went with the first entry for the host */
		buf_reset(&entry);
		rc = buf_printf(&entry, "%s:%ld:", host, port);
		for (j = i; j < req->pin_count && rc == 0; j++) {
			int v6 = net_ip_literal(req->pins[j].address, NULL) == AF_INET6;

			if (strcasecmp(req->pins[j].host, host) == 0)
				rc = buf_printf(&entry, "%s%s%s%s", j == i ? "" : ",", v6 ? "[" : "",
						req->pins[j].address, v6 ? "]" : "");
		}
		if (rc == 0)
			rc = add(ctx, entry.data);
	}
	buf_free(&entry);
	return rc < 0 ? outbox_fail(h, OUTBOX_ENOMEM, NULL, "out of memory") : 0;
}
