/* tls_probe.c: ask a port whether it speaks TLS from the first byte. A server that waits for a
 * ClientHello never greets; only a completed handshake tells it from a slow SMTP server. */
#include <string.h>
#include <unistd.h>

#include "handle_internal.h"
#include "net.h"
#include "tls.h"
#include "tls_probe.h"

int tls_probe_fd(outbox *h, int fd, const char *host, long long deadline_ms)
{
	struct outbox_error_copy saved;
	struct tls_options o;
	struct tls_conn *c = NULL;
	int answered;

	outbox_error_save(h, &saved);
	/* Only the handshake is asked for: the certificate is not judged (nothing is sent over it),
	 * so an untrusted one still shows that the port speaks TLS. */
	memset(&o, 0, sizeof o);
	o.host = host;
	answered = tls_connect(h, fd, &o, deadline_ms, &c) == 0;
	tls_close(c);
	outbox_error_restore(h, &saved);
	return answered;
}

int tls_probe(outbox *h, const char *address, int port, const char *host, long long deadline_ms)
{
	struct outbox_error_copy saved;
	int fd = -1, answered = 0;

	outbox_error_save(h, &saved);
	if (net_connect(h, address, port, deadline_ms, &fd) == 0)
		answered = tls_probe_fd(h, fd, host, deadline_ms);
	if (fd >= 0)
		close(fd);
	outbox_error_restore(h, &saved);
	return answered;
}
