/* tls.c: the OpenSSL 3 client over a non-blocking socket, for implicit TLS and STARTTLS alike:
 * TLS 1.2 or newer, SNI, chain and name checks, pin, client certificate, channel binding. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "handle_internal.h"
#include "idna.h"
#include "net.h"
#include "tls.h"
#include "tls_verify.h"

struct tls_conn {
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
	int eof;          /* the peer closed the TCP stream, for BIO_CTRL_EOF */
	int broken;       /* a fatal error: no close_notify may be sent */
	int timed_out;    /* the last tls_read or tls_write ended at its deadline */
	char host[256];   /* as the user wrote it, for messages */
	char name[256];   /* what is verified: an A-label name or an IP address */
	int is_ip;
	int has_pin;
	unsigned char pin[32];
	int asked_passphrase;
	int has_client_cert;
	/* The first verification failure, kept from the callback, since OpenSSL does not keep the
	 * server's certificate on a handshake that failed and the message wants its names and hash. */
	long verify_err;
	int verify_depth;
	X509 *failed;
	X509 *leaf;
};

/* A socket BIO of our own: OpenSSL's writes with write(2), which raises SIGPIPE when the server
 * has gone, and a library must not kill its caller for that. send(MSG_NOSIGNAL) does not. */
static BIO_METHOD *sock_method;
static CRYPTO_ONCE sock_once = CRYPTO_ONCE_STATIC_INIT;

static int sock_write(BIO *b, const char *data, int len)
{
	struct tls_conn *c = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	do
		n = send(c->fd, data, (size_t)len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		BIO_set_retry_write(b);
	return (int)n;
}

static int sock_read(BIO *b, char *data, int len)
{
	struct tls_conn *c = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	do
		n = recv(c->fd, data, (size_t)len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		BIO_set_retry_read(b);
	if (n == 0)
		c->eof = 1;
	return (int)n;
}

static long sock_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct tls_conn *c = BIO_get_data(b);

	(void)num;
	(void)ptr;
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1; /* nothing is buffered here */
	case BIO_CTRL_EOF:
		return c->eof;
	default:
		return 0;
	}
}

static void sock_method_init(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "outbox socket");

	if (m && BIO_meth_set_write(m, sock_write) && BIO_meth_set_read(m, sock_read) &&
	    BIO_meth_set_ctrl(m, sock_ctrl)) {
		sock_method = m;
		return;
	}
	BIO_meth_free(m);
}

static BIO *sock_bio(struct tls_conn *c)
{
	BIO *b;

	if (!CRYPTO_THREAD_run_once(&sock_once, sock_method_init) || sock_method == NULL)
		return NULL;
	if ((b = BIO_new(sock_method)) == NULL)
		return NULL;
	BIO_set_data(b, c);
	BIO_set_init(b, 1);
	return b;
}

/* The most telling entry of OpenSSL's error queue in words, and the queue emptied. The first
 * entry is the cause ("No such file or directory"); later ones are what failed because of it. */
static const char *ssl_words(char *buf, size_t size)
{
	unsigned long e = ERR_get_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	if (e == 0)
		snprintf(buf, size, "unknown error");
	else if (r)
		snprintf(buf, size, "%s", r);
	else
		ERR_error_string_n(e, buf, size);
	ERR_clear_error();
	return buf;
}

static void format_ms(long long ms, char *out, size_t size)
{
	if (ms < 0)
		ms = 0;
	/* Rounded, since the clock was read a moment after the caller set the deadline. */
	if (ms >= 1000)
		snprintf(out, size, "%lld s", (ms + 500) / 1000);
	else
		snprintf(out, size, "%lld ms", (ms + 5) / 10 * 10);
}

/* An encrypted key would make OpenSSL ask on the terminal; a library must not, so it fails,
 * noting why for the message. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	struct tls_conn *c = u;

	(void)buf;
	(void)size;
	(void)rwflag;
	c->asked_passphrase = 1;
	return 0;
}

static int setup_ctx(outbox *h, struct tls_conn *c, const struct tls_options *o)
{
	char words[256];
	const char *key = o->key_file ? o->key_file : o->cert_file;

	if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "cannot start TLS: %s", ssl_words(words, sizeof words));
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	/* A renegotiated TLS 1.2 session would change tls-unique under SCRAM-PLUS. */
	SSL_CTX_set_options(c->ctx, SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE);
	SSL_CTX_set_default_passwd_cb(c->ctx, no_passphrase);
	SSL_CTX_set_default_passwd_cb_userdata(c->ctx, c);

	if (o->verify) {
		if (o->ca_file) {
			if (SSL_CTX_load_verify_locations(c->ctx, o->ca_file, NULL) != 1)
				return outbox_fail(h, OUTBOX_ECONFIG, "tls-ca", "cannot load %s: %s", o->ca_file,
						   ssl_words(words, sizeof words));
		} else if (SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
			return outbox_fail(h, OUTBOX_ECONFIG, "tls-ca",
					   "cannot load the system's certificate authorities: %s",
					   ssl_words(words, sizeof words));
		}
	}
	if (o->cert_file == NULL && o->key_file == NULL)
		return 0;
	c->has_client_cert = 1;
	if (o->cert_file == NULL)
		return outbox_fail(h, OUTBOX_ECONFIG, "tls-cert",
				   "a private key needs its client certificate: add --tls-cert FILE");
	if (SSL_CTX_use_certificate_chain_file(c->ctx, o->cert_file) != 1)
		return outbox_fail(h, OUTBOX_ECONFIG, "tls-cert", "cannot use %s: %s", o->cert_file,
				   ssl_words(words, sizeof words));
	if (SSL_CTX_use_PrivateKey_file(c->ctx, key, SSL_FILETYPE_PEM) != 1) {
		unsigned long e = ERR_peek_error();
		if (c->asked_passphrase)
			return outbox_fail(h, OUTBOX_ECONFIG, "tls-key", "%s is protected by a passphrase, which "
					   "outbox cannot ask for: save the key without one", key);
		if (ERR_GET_LIB(e) == ERR_LIB_X509 && ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH)
			goto mismatch;
		return outbox_fail(h, OUTBOX_ECONFIG, "tls-key", "cannot use %s: %s", key,
				   ssl_words(words, sizeof words));
	}
	if (SSL_CTX_check_private_key(c->ctx) != 1)
		goto mismatch;
	return 0;
mismatch:
	ERR_clear_error();
	return outbox_fail(h, OUTBOX_ECONFIG, "tls-key", "%s is not the key of the certificate in %s", key,
			   o->cert_file);
}

/* The name to check and send: brackets and a final dot removed, an international name in its
 * ASCII form (certificates carry A-labels), an IP literal recognised as one. */
static int setup_name(outbox *h, struct tls_conn *c, const struct tls_options *o)
{
	const char *host = o->host;
	size_t len;
	char *ascii = NULL;

	if (host == NULL || *host == '\0') {
		/* Nothing to check against but the address we are connected to. */
		if (net_peer_name(c->fd, c->host, sizeof c->host) < 0)
			return outbox_fail(h, OUTBOX_ETEMPFAIL, NULL, "the connection was lost before TLS: %s",
					   strerror(errno));
		host = c->host;
	} else {
		snprintf(c->host, sizeof c->host, "%s", host);
	}
	len = strlen(host);
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']')
		snprintf(c->name, sizeof c->name, "%.*s", (int)(len - 2), host + 1);
	else
		snprintf(c->name, sizeof c->name, "%s", host);
	len = strlen(c->name);
	if (len > 1 && c->name[len - 1] == '.')
		c->name[len - 1] = '\0';
	if (net_ip_literal(c->name, NULL)) {
		c->is_ip = 1;
		return 0;
	}
	for (len = 0; c->name[len] && (unsigned char)c->name[len] < 0x80; len++)
		;
	if (c->name[len] == '\0')
		return 0;
	int rc = idna_to_ascii(c->name, &ascii);
	if (rc != IDN2_OK)
		return outbox_fail(h, OUTBOX_EUNAVAILABLE, NULL, "cannot use the name %s for TLS: %s", c->host,
				   idna_strerror(rc));
	snprintf(c->name, sizeof c->name, "%s", (const char *)ascii);
	idna_free(ascii);
	return 0;
}

/* Remember the server's certificate and the first problem found, then let OpenSSL decide as
 * it would have: with SSL_VERIFY_PEER a problem ends the handshake. */
static int verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct tls_conn *c = ssl ? SSL_get_app_data(ssl) : NULL;
	X509 *cert;

	if (c == NULL)
		return ok;
	if (c->leaf == NULL && (cert = X509_STORE_CTX_get0_cert(x)) != NULL && X509_up_ref(cert))
		c->leaf = cert;
	if (!ok && c->verify_err == 0) {
		c->verify_err = X509_STORE_CTX_get_error(x);
		c->verify_depth = X509_STORE_CTX_get_error_depth(x);
		if ((cert = X509_STORE_CTX_get_current_cert(x)) != NULL && X509_up_ref(cert))
			c->failed = cert;
	}
	return ok;
}

static int setup_ssl(outbox *h, struct tls_conn *c, const struct tls_options *o)
{
	char words[256];
	BIO *bio;

	if ((c->ssl = SSL_new(c->ctx)) == NULL || (bio = sock_bio(c)) == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "cannot start TLS: %s", ssl_words(words, sizeof words));
	SSL_set_bio(c->ssl, bio, bio);
	SSL_set_app_data(c->ssl, c);
	/* SNI is for names only (RFC 6066); an address is checked against the certificate's IPs. */
	if (!c->is_ip && SSL_set_tlsext_host_name(c->ssl, c->name) != 1)
		return outbox_fail(h, OUTBOX_EUNAVAILABLE, NULL, "cannot use the name %s for TLS: %s", c->host,
				   ssl_words(words, sizeof words));
	if (!o->verify) {
		SSL_set_verify(c->ssl, SSL_VERIFY_NONE, NULL);
		return 0;
	}
	SSL_set_verify(c->ssl, SSL_VERIFY_PEER, verify_cb);
	if (c->is_ip) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), c->name) != 1)
			return outbox_fail(h, OUTBOX_EUNAVAILABLE, NULL, "cannot check the address %s: %s", c->host,
					   ssl_words(words, sizeof words));
	} else {
		/* "*.example.org" may stand for "smtp.example.org", but "smtp*.example.org" may not. */
		SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (SSL_set1_host(c->ssl, c->name) != 1)
			return outbox_fail(h, OUTBOX_EUNAVAILABLE, NULL, "cannot check the name %s: %s", c->host,
					   ssl_words(words, sizeof words));
	}
	return 0;
}

/* A failure that is not about the server's certificate: what the error queue says, in the terms
 * of what the user can change. Those a retry cannot cure are OUTBOX_EUNAVAILABLE; the rest get
 * `code`: a handshake that failed for no known reason is as bad, a session that broke is not. */
static int ssl_failure(outbox *h, struct tls_conn *c, int sslerr, int saved_errno, const char *during,
		       int code)
{
	unsigned long e = ERR_peek_error();
	int reason = ERR_GET_REASON(e);
	char words[256];

	c->broken = 1;
	if (sslerr == SSL_ERROR_SYSCALL && e == 0) {
		if (saved_errno == 0 || c->eof)
			return outbox_fail(h, OUTBOX_ETEMPFAIL, NULL, "%s closed the connection %s", c->host, during);
		return outbox_fail(h, OUTBOX_ETEMPFAIL, NULL, "the connection to %s was lost %s: %s", c->host, during,
				   strerror(saved_errno));
	}
	if (ERR_GET_LIB(e) == ERR_LIB_SSL) {
		switch (reason) {
		case SSL_R_UNEXPECTED_EOF_WHILE_READING:
			ERR_clear_error();
			return outbox_fail(h, OUTBOX_ETEMPFAIL, NULL, "%s closed the connection %s", c->host, during);
		case SSL_R_UNSUPPORTED_PROTOCOL:
		case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
		case SSL_R_VERSION_TOO_LOW:
		case SSL_R_NO_PROTOCOLS_AVAILABLE:
			ERR_clear_error();
			return outbox_fail(h, OUTBOX_EUNAVAILABLE, NULL,
					   "%s does not offer TLS 1.2 or newer, and older versions are not safe to use",
					   c->host);
		case SSL_R_WRONG_VERSION_NUMBER:
		case SSL_R_PACKET_LENGTH_TOO_LONG:
		case SSL_R_RECORD_LENGTH_MISMATCH:
		case SSL_R_HTTP_REQUEST:
			ERR_clear_error();
			return outbox_fail(h, OUTBOX_EUNAVAILABLE, NULL,
					   "%s did not answer in TLS: if this port expects STARTTLS, use --security "
					   "starttls", c->host);
		case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
		case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
		case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
		case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
		case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
		case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
		case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
			/* Alerts about the client's certificate: a retry would meet the same answer. */
			if (!c->has_client_cert) {
				ERR_clear_error();
				return outbox_fail(h, OUTBOX_EUNAVAILABLE, NULL,
						   "%s requires a client certificate: set one with --tls-cert FILE "
						   "and --tls-key FILE", c->host);
			}
			return outbox_fail(h, OUTBOX_EUNAVAILABLE, NULL, "%s refused our client certificate: %s",
					   c->host, ssl_words(words, sizeof words));
		default:
			break;
		}
	}
	return outbox_fail(h, code, NULL, "TLS with %s failed %s: %s", c->host, during,
			   ssl_words(words, sizeof words));
}

/* After the handshake: a certificate must be there even unverified (no anonymous TLS), and it
 * must match the pin when one is set. */
static int check_peer(outbox *h, struct tls_conn *c, const struct tls_options *o)
{
	X509 *cert = SSL_get0_peer_certificate(c->ssl);

	if (cert == NULL)
		return outbox_fail(h, OUTBOX_EUNAVAILABLE, NULL, "%s sent no certificate", c->host);
	if (o->verify && SSL_get_verify_result(c->ssl) != X509_V_OK)
		return tls_verify_fail(h, c->host, SSL_get_verify_result(c->ssl), 0, cert, cert);
	if (c->has_pin)
		return tls_verify_pin(h, c->host, cert, c->pin);
	return 0;
}

static int handshake(outbox *h, struct tls_conn *c, const struct tls_options *o, long long start,
		     long long deadline_ms)
{
	char took[32];

	for (;;) {
		int r, e, ready, saved;

		ERR_clear_error();
		errno = 0;
		r = SSL_connect(c->ssl);
		saved = errno; /* before anything else can change it */
		if (r == 1)
			return check_peer(h, c, o);
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			ready = net_wait(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline_ms);
			if (ready > 0)
				continue;
			c->broken = 1;
			if (ready == 0) {
				format_ms(deadline_ms - start, took, sizeof took);
				return outbox_fail(h, OUTBOX_ETEMPFAIL, NULL,
						   "%s did not finish the TLS handshake within %s", c->host, took);
			}
			return outbox_fail(h, OUTBOX_ETEMPFAIL, NULL, "the connection to %s was lost during the "
					   "TLS handshake: %s", c->host, strerror(errno));
		}
		if (o->verify && c->verify_err == 0 && SSL_get_verify_result(c->ssl) != X509_V_OK) {
			/* Not seen by the callback: take the code and the chain OpenSSL kept. */
			STACK_OF(X509) *chain = SSL_get_peer_cert_chain(c->ssl);
			c->verify_err = SSL_get_verify_result(c->ssl);
			if (c->leaf == NULL && chain && sk_X509_num(chain) > 0 && X509_up_ref(sk_X509_value(chain, 0)))
				c->leaf = sk_X509_value(chain, 0);
		}
		if (o->verify && c->verify_err != 0) {
			c->broken = 1;
			ERR_clear_error();
			return tls_verify_fail(h, c->host, c->verify_err, c->verify_depth, c->failed, c->leaf);
		}
		return ssl_failure(h, c, e, saved, "during the TLS handshake", OUTBOX_EUNAVAILABLE);
	}
}

int tls_connect(outbox *h, int fd, const struct tls_options *o, long long deadline_ms, struct tls_conn **out)
{
	long long start = net_now_ms();
	struct tls_conn *c;
	int rc;

	*out = NULL;
	ERR_clear_error();
	if ((c = calloc(1, sizeof *c)) == NULL)
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "cannot start TLS: out of memory");
	c->fd = fd;
	c->has_pin = o->pin && *o->pin;
	if ((c->has_pin && (rc = tls_verify_parse_pin(h, o->pin, c->pin)) < 0) || (rc = setup_name(h, c, o)) < 0 ||
	    (rc = setup_ctx(h, c, o)) < 0 || (rc = setup_ssl(h, c, o)) < 0 ||
	    (rc = handshake(h, c, o, start, deadline_ms)) < 0) {
		c->broken = 1;
		tls_close(c);
		return rc;
	}
	/* Only needed while the handshake could fail. */
	X509_free(c->leaf);
	X509_free(c->failed);
	c->leaf = c->failed = NULL;
	*out = c;
	return 0;
}

ssize_t tls_read(outbox *h, struct tls_conn *c, void *buf, size_t len, long long deadline_ms)
{
	long long start = net_now_ms();
	char took[32];

	c->timed_out = 0;
	for (;;) {
		size_t n = 0;
		int r, e, ready, saved;

		ERR_clear_error();
		errno = 0;
		r = SSL_read_ex(c->ssl, buf, len, &n);
		saved = errno; /* before anything else can change it */
		if (r == 1)
			return (ssize_t)n;
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_ZERO_RETURN)
			return 0;
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			ready = net_wait(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline_ms);
			if (ready > 0)
				continue;
			if (ready == 0) {
				c->timed_out = 1;
				format_ms(deadline_ms - start, took, sizeof took);
				return outbox_fail(h, OUTBOX_ETEMPFAIL, NULL, "no reply from %s within %s", c->host, took);
			}
			c->broken = 1;
			return outbox_fail(h, OUTBOX_ETEMPFAIL, NULL, "the connection to %s was lost: %s", c->host,
					   strerror(errno));
		}
		/* A server that closes without close_notify: what plain TCP would call a close. The SMTP
		 * replies delimit themselves, so a cut-off reply is still seen as one. */
		if ((e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && c->eof) ||
		    (e == SSL_ERROR_SSL && ERR_GET_LIB(ERR_peek_error()) == ERR_LIB_SSL &&
		     ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
			ERR_clear_error();
			c->broken = 1;
			return 0;
		}
		return ssl_failure(h, c, e, saved, "while reading", OUTBOX_ETEMPFAIL);
	}
}

int tls_write(outbox *h, struct tls_conn *c, const void *buf, size_t len, long long deadline_ms)
{
	const unsigned char *p = buf;
	long long start = net_now_ms();
	char took[32];

	c->timed_out = 0;
	while (len > 0) {
		size_t n = 0;
		int r, e, ready, saved;

		ERR_clear_error();
		errno = 0;
		r = SSL_write_ex(c->ssl, p, len, &n);
		saved = errno; /* before anything else can change it */
		if (r == 1) {
			p += n;
			len -= n;
			continue;
		}
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			ready = net_wait(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline_ms);
			if (ready > 0)
				continue;
			if (ready == 0) {
				c->timed_out = 1;
				format_ms(deadline_ms - start, took, sizeof took);
				return outbox_fail(h, OUTBOX_ETEMPFAIL, NULL, "%s stopped accepting data for %s", c->host,
						   took);
			}
			c->broken = 1;
			return outbox_fail(h, OUTBOX_ETEMPFAIL, NULL, "the connection to %s was lost: %s", c->host,
					   strerror(errno));
		}
		return ssl_failure(h, c, e, saved, "while writing", OUTBOX_ETEMPFAIL);
	}
	return 0;
}

int tls_timed_out(const struct tls_conn *c)
{
	return c && c->timed_out;
}

int tls_pending(const struct tls_conn *c)
{
	return c && c->ssl && SSL_pending(c->ssl) > 0;
}

int tls_channel_binding(struct tls_conn *c, const char **type, unsigned char *out, size_t *len)
{
	static const char exporter_label[] = "EXPORTER-Channel-Binding";
	size_t n;

	*type = NULL;
	if (c == NULL || c->ssl == NULL)
		return -1;
	if (SSL_version(c->ssl) >= TLS1_3_VERSION) {
		/* RFC 9266: 32 bytes, that label, no context. */
		if (*len < 32 || SSL_export_keying_material(c->ssl, out, 32, exporter_label,
							    sizeof exporter_label - 1, NULL, 0, 0) != 1)
			return -1;
		*type = "tls-exporter";
		*len = 32;
		return 0;
	}
	/* tls-unique is only safe with the extended master secret (RFC 7627): without it, the
	 * triple handshake attack lets a middleman share the value. Better no binding than a weak one. */
	if (SSL_get_extms_support(c->ssl) != 1)
		return -1;
	/* RFC 5929: the first Finished of the handshake, the client's on a full handshake and the
	 * server's on an abbreviated (resumed) one. */
	if (SSL_session_reused(c->ssl))
		n = SSL_get_peer_finished(c->ssl, out, *len);
	else
		n = SSL_get_finished(c->ssl, out, *len);
	if (n == 0 || n > *len)
		return -1;
	*type = "tls-unique";
	*len = n;
	return 0;
}

const char *tls_description(const struct tls_conn *c, char *buf, size_t size)
{
	if (size == 0)
		return buf;
	if (c == NULL || c->ssl == NULL)
		snprintf(buf, size, "no TLS");
	else
		snprintf(buf, size, "%s %s", SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl));
	return buf;
}

void tls_close(struct tls_conn *c)
{
	if (c == NULL)
		return;
	if (c->ssl) {
		/* One close_notify without waiting for the answer: the socket closes right after. */
		if (!c->broken && SSL_is_init_finished(c->ssl)) {
			ERR_clear_error();
			SSL_shutdown(c->ssl);
		}
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	X509_free(c->leaf);
	X509_free(c->failed);
	ERR_clear_error();
	free(c);
}
