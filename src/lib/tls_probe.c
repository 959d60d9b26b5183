/* tls_probe.c: ask a port, on a connection of its own, whether it speaks TLS from the first byte.
 * A server that waits for a ClientHello never greets; this tells it from a slow SMTP server. */
#include <string.h>
#include <unistd.h>

#include "handle_internal.h"
#include "net.h"
#include "tls.h"
#include "tls_probe.h"

int tls_probe(outbox *h, const char *host, int port, long long deadline_ms)
{
	struct outbox_error_copy saved;
	struct tls_options o;
	struct tls_conn *c = NULL;
	int fd = -1, answered = 0;

	outbox_error_save(h, &saved);
	/* Only the handshake is asked for: the certificate is not judged (nothing is sent), so an
	 * untrusted one still shows the port speaks TLS. */
	memset(&o, 0, sizeof o);
	o.host = host;
	if (net_connect(h, host, port, deadline_ms, &fd) == 0 && tls_connect(h, fd, &o, deadline_ms, &c) == 0)
		answered = 1;
	if (c)
		tls_close(c);
	if (fd >= 0)
		close(fd);
	outbox_error_restore(h, &saved);
	return answered;
}
