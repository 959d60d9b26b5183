/* test_tls.c: the TLS client against an in-process OpenSSL server on loopback, with certificates
 * made by the openssl command at start: each refusal in its own words, pins, client certificates,
 * versions, reads and writes, channel binding agreed by both ends, and the deadline. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "handle_internal.h"
#include "net.h"
#include "tls.h"
#include "unit.h"

static char dir[64];        /* the temporary directory with the certificates */
static char self_fp[65];    /* SHA-256 of self.pem, computed here independently of the library */
static char server_fp[65];  /* SHA-256 of server.pem */

/* Where each certificate and key lives: dir/NAME.pem and dir/NAME.key. */
static const char *path(const char *name, const char *ext)
{
	static char bufs[8][128];
	static int next;
	char *p = bufs[next++ % 8];

	snprintf(p, sizeof bufs[0], "%s/%s.%s", dir, name, ext);
	return p;
}

/* The test PKI. `openssl ca` signs, since only it can set dates in the past with the 3.0 CLI;
 * the subject alternative names travel in each request and are copied. */
static const char pki_script[] =
	"set -e\n"
	"cd \"$1\"\n"
	"K='-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes'\n"
	"mkdir db && : > db/index.txt && echo 1000 > db/serial\n"
	"cat > ca.cnf <<'EOF'\n"
	"[ca]\ndefault_ca = test\n"
	"[test]\ndatabase = db/index.txt\nserial = db/serial\nnew_certs_dir = db\ndefault_md = sha256\n"
	"policy = any\nunique_subject = no\ncopy_extensions = copy\ndefault_days = 365\n"
	"[any]\ncommonName = supplied\n"
	"EOF\n"
	"root() { openssl req -x509 $K -keyout $1.key -out $1.pem -days 3650 -subj \"/CN=$2\" "
	"-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign; }\n"
	"# leaf NAME CA CN SAN [ca options...]\n"
	"leaf() { n=$1 ca=$2 cn=$3 san=$4; shift 4\n"
	"  openssl req -new $K -keyout $n.key -out $n.csr -subj \"/CN=$cn\" -addext \"subjectAltName=$san\" $EXT\n"
	"  openssl ca -batch -notext -config ca.cnf -cert $ca.pem -keyfile $ca.key -in $n.csr -out $n.pem \"$@\"; }\n"
	"root ca 'Outbox Test CA'\n"
	"root unknown-ca 'Unknown Test CA'\n"
	"leaf server ca localhost DNS:localhost,IP:127.0.0.1\n"
	"leaf stranger unknown-ca localhost DNS:localhost,IP:127.0.0.1\n"
	"leaf wrongname ca other.example DNS:other.example\n"
	"leaf expired ca localhost DNS:localhost -startdate 20200101000000Z -enddate 20200201000000Z\n"
	"leaf future ca localhost DNS:localhost -startdate 20900101000000Z -enddate 20910101000000Z\n"
	"EXT='-addext extendedKeyUsage=clientAuth' leaf client ca 'outbox client' email:client@example.org\n"
	"openssl pkey -in client.key -aes256 -passout pass:secret -out client-locked.key\n"
	"openssl req -x509 $K -keyout self.key -out self.pem -days 365 -subj /CN=localhost "
	"-addext subjectAltName=DNS:localhost,IP:127.0.0.1\n";

static void fingerprint(const char *pem, char hex[65])
{
	FILE *f = fopen(pem, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL, md[32];
	unsigned int mdlen = 0, i;
	int len = x ? i2d_X509(x, &der) : -1;

	assert_true(len > 0);
	assert_int_equal(EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL), 1);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	OPENSSL_free(der);
	X509_free(x);
	fclose(f);
}

static int make_pki(void **state)
{
	char cmd[512];
	FILE *f;

	(void)state;
	snprintf(dir, sizeof dir, "/tmp/outbox-tls-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof cmd, "%s/pki.sh", dir);
	assert_non_null(f = fopen(cmd, "w"));
	fputs(pki_script, f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "sh '%s/pki.sh' '%s' > '%s/pki.log' 2>&1", dir, dir, dir);
	if (system(cmd) != 0) {
		snprintf(cmd, sizeof cmd, "cat '%s/pki.log' >&2", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "(no log)\n");
		fail_msg("could not make the test certificates with the openssl command");
	}
	fingerprint(path("self", "pem"), self_fp);
	fingerprint(path("server", "pem"), server_fp);
	return 0;
}

static int remove_pki(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- the server: one connection per test, in a thread ---- */

enum serve {
	SERVE_ECHO,    /* handshake, then send back what arrives until the client closes */
	SERVE_BYE,     /* handshake, send "bye" and close_notify */
	SERVE_RESET,   /* handshake, then close with a TCP reset */
	SERVE_SILENT,  /* accept and say nothing */
	SERVE_BANNER,  /* a plain SMTP greeting: implicit TLS to a STARTTLS port */
	SERVE_CLOSE,   /* read the ClientHello and close */
};

struct server {
	SSL_CTX *ctx;
	enum serve mode;
	int lfd, port;
	pthread_t thread;
	/* what the server saw */
	int handshake_ok;
	char sni[128];
	char client_cn[128];
	unsigned char exporter[32];
	unsigned char unique[64];
	size_t unique_len;
};

struct server_opts {
	const char *cert;          /* name in the PKI */
	int max_version;           /* 0 for the newest */
	int require_client_cert;
};

static void server_conn(struct server *s, int fd)
{
	SSL *ssl;
	char buf[1024];
	int n;

	if (s->mode == SERVE_CLOSE) {
		/* Take the ClientHello first: closing with unread data would send a reset, not a close. */
		n = (int)read(fd, buf, sizeof buf);
		(void)n;
		return;
	}
	if (s->mode == SERVE_SILENT || s->mode == SERVE_BANNER) {
		if (s->mode == SERVE_BANNER && write(fd, "220 mx.example ESMTP\r\n", 22) != 22)
			return;
		while (read(fd, buf, sizeof buf) > 0)
			;
		return;
	}
	ssl = SSL_new(s->ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) == 1) {
		X509 *peer = SSL_get1_peer_certificate(ssl);
		const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
		s->handshake_ok = 1;
		snprintf(s->sni, sizeof s->sni, "%s", sni ? sni : "");
		if (peer)
			X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, s->client_cn,
						  sizeof s->client_cn);
		X509_free(peer);
		if (SSL_version(ssl) == TLS1_3_VERSION)
			SSL_export_keying_material(ssl, s->exporter, 32, "EXPORTER-Channel-Binding", 24, NULL, 0, 0);
		else
			s->unique_len = SSL_get_peer_finished(ssl, s->unique, sizeof s->unique);
		if (s->mode == SERVE_BYE) {
			SSL_write(ssl, "bye", 3);
			SSL_shutdown(ssl);
		} else if (s->mode == SERVE_RESET) {
			struct linger lg = {1, 0};
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		} else {
			while ((n = SSL_read(ssl, buf, sizeof buf)) > 0)
				if (SSL_write(ssl, buf, n) != n)
					break;
			SSL_shutdown(ssl);
		}
	}
	SSL_free(ssl);
}

static void *server_main(void *arg)
{
	struct server *s = arg;
	struct pollfd p = {s->lfd, POLLIN, 0};
	struct timeval tv = {5, 0};
	sigset_t pipe;
	int fd;

	/* The test server writes with OpenSSL's own socket BIO, which can raise SIGPIPE when the client
	 * has gone; that signal goes to the writing thread, so blocking it here keeps it from ending
	 * the run while the client side keeps the default action (see test_reset). */
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, NULL);
	/* Bounded waits everywhere, so a client bug fails a test instead of hanging the run. */
	if (poll(&p, 1, 5000) != 1 || (fd = accept(s->lfd, NULL, NULL)) < 0)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	server_conn(s, fd);
	close(fd);
	ERR_clear_error();
	return NULL;
}

static void server_start(struct server *s, enum serve mode, const struct server_opts *o)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;

	memset(s, 0, sizeof *s);
	s->mode = mode;
	if (o) {
		s->ctx = SSL_CTX_new(TLS_server_method());
		assert_non_null(s->ctx);
		assert_int_equal(SSL_CTX_use_certificate_chain_file(s->ctx, path(o->cert, "pem")), 1);
		assert_int_equal(SSL_CTX_use_PrivateKey_file(s->ctx, path(o->cert, "key"), SSL_FILETYPE_PEM), 1);
		if (o->max_version) {
			/* TLS 1.1 needs security level 0 in OpenSSL 3, or the server will not offer it. */
			SSL_CTX_set_security_level(s->ctx, 0);
			SSL_CTX_set_min_proto_version(s->ctx, TLS1_VERSION);
			SSL_CTX_set_max_proto_version(s->ctx, o->max_version);
		}
		if (o->require_client_cert) {
			assert_int_equal(SSL_CTX_load_verify_locations(s->ctx, path("ca", "pem"), NULL), 1);
			SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
		}
	}
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(listen(s->lfd, 4), 0);
	getsockname(s->lfd, (struct sockaddr *)&sin, &len);
	s->port = ntohs(sin.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void server_stop(struct server *s)
{
	pthread_join(s->thread, NULL);
	close(s->lfd);
	SSL_CTX_free(s->ctx);
}

/* ---- the client side ---- */

struct client {
	outbox h;
	int fd;
	struct tls_conn *tls;
	int rc;
};

static struct tls_options verified(const char *host)
{
	struct tls_options o;

	memset(&o, 0, sizeof o);
	o.host = host;
	o.verify = 1;
	o.ca_file = path("ca", "pem");
	return o;
}

static void client_run(struct client *c, const struct server *s, const struct tls_options *o, long long ms)
{
	memset(c, 0, sizeof *c);
	c->fd = -1;
	if (net_connect(&c->h, "127.0.0.1", s->port, net_now_ms() + 5000, &c->fd) != 0)
		fail_msg("net_connect: %s", outbox_errmsg(&c->h));
	c->rc = tls_connect(&c->h, c->fd, o, net_now_ms() + ms, &c->tls);
}

static void client_end(struct client *c)
{
	tls_close(c->tls);
	if (c->fd >= 0)
		close(c->fd);
}

/* One handshake expected to work, or to fail with `rc` and these words in the message. */
static void expect_handshake(const char *what, enum serve mode, const struct server_opts *so,
			     const struct tls_options *o, int rc, const char *part1, const char *part2)
{
	struct server s;
	struct client c;

	server_start(&s, mode, so);
	client_run(&c, &s, o, 5000);
	if (rc == 0 && c.rc != 0)
		fail_msg("%s: handshake failed: %s", what, outbox_errmsg(&c.h));
	EXPECT_INT(c.rc, rc, what);
	if (rc != 0) {
		EXPECT_INT(c.tls == NULL, 1, "no connection after a failure");
		if (part1)
			EXPECT_CONTAINS(outbox_errmsg(&c.h), part1, what);
		if (part2)
			EXPECT_CONTAINS(outbox_errmsg(&c.h), part2, what);
	}
	client_end(&c);
	server_stop(&s);
}

static const struct server_opts serve_good = {"server", 0, 0};

static void test_verified(void **state)
{
	struct server s;
	struct client c;
	struct tls_options o = verified("localhost");
	char desc[128];

	(void)state;
	server_start(&s, SERVE_ECHO, &serve_good);
	client_run(&c, &s, &o, 5000);
	if (c.rc != 0)
		fail_msg("handshake: %s", outbox_errmsg(&c.h));
	tls_description(c.tls, desc, sizeof desc);
	EXPECT_CONTAINS(desc, "TLSv1.3 TLS_", "description");
	client_end(&c);
	server_stop(&s);
	EXPECT_INT(s.handshake_ok, 1, "server side");
	EXPECT_STR(s.sni, "localhost", "SNI");
}

/* An IP literal is checked against the certificate's IP names and never sent as SNI; an
 * international name is checked and sent in its ASCII form. */
static void test_names(void **state)
{
	const struct {
		const char *host, *sni;
	} cases[] = {
		{"127.0.0.1", ""},
		{"[127.0.0.1]", ""},
		{"localhost.", "localhost"},
		{"\xef\xbd\x8c\xef\xbd\x8f\xef\xbd\x83\xef\xbd\x81\xef\xbd\x8c\xef\xbd\x88\xef\xbd\x8f\xef\xbd\x93"
		 "\xef\xbd\x94", "localhost"}, /* fullwidth "localhost" maps to it under UTS #46 */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct server s;
		struct client c;
		struct tls_options o = verified(cases[i].host);
		server_start(&s, SERVE_ECHO, &serve_good);
		client_run(&c, &s, &o, 5000);
		if (c.rc != 0)
			fail_msg("%s: %s", cases[i].host, outbox_errmsg(&c.h));
		client_end(&c);
		server_stop(&s);
		EXPECT_STR(s.sni, cases[i].sni, cases[i].host);
	}
}

static void test_refusals(void **state)
{
	char pin_advice[128];
	const struct {
		const char *what, *cert, *host, *part1, *part2;
	} cases[] = {
		{"self-signed", "self", "localhost", "cannot trust the certificate of localhost: the server's "
		 "certificate is self-signed; if you trust this server, set its certificate with --tls-ca FILE",
		 pin_advice},
		{"unknown CA", "stranger", "localhost", "the server's certificate is signed by an unknown "
		 "certificate authority, \"Unknown Test CA\"; if you trust this server", "--tls-pin "},
		{"wrong name", "wrongname", "localhost", "the certificate is for other.example, not localhost; "
		 "connect to one of those names, or if you trust this server", "--tls-pin "},
		{"wrong address", "server", "127.0.0.2", "the certificate is for localhost, 127.0.0.1, not 127.0.0.2",
		 "--tls-pin "},
		{"name for an address", "server", "127.0.0.1.example", "not 127.0.0.1.example", NULL},
		{"expired", "expired", "localhost", "the certificate expired on 2020-02-01 00:00 UTC; check this "
		 "computer's clock", "if it is right and you trust this server, pin it with --no-tls-verify"},
		{"not yet valid", "future", "localhost", "the certificate is not valid until 2090-01-01 00:00 UTC",
		 "clock"},
	};
	size_t i;

	(void)state;
	snprintf(pin_advice, sizeof pin_advice, "or pin it with --no-tls-verify --tls-pin %s", self_fp);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct server_opts so = {cases[i].cert, 0, 0};
		struct tls_options o = verified(cases[i].host);
		expect_handshake(cases[i].what, SERVE_ECHO, &so, &o, OUTBOX_EUNAVAILABLE, cases[i].part1,
				 cases[i].part2);
	}
}

/* The system's store does not know our test CA either. */
static void test_system_store(void **state)
{
	struct tls_options o = verified("localhost");

	(void)state;
	o.ca_file = NULL;
	expect_handshake("system store", SERVE_ECHO, &serve_good, &o, OUTBOX_EUNAVAILABLE,
			 "unknown certificate authority, \"Outbox Test CA\"", NULL);
}

static void test_pins(void **state)
{
	static const struct server_opts self = {"self", 0, 0}, expired = {"expired", 0, 0};
	char upper_colons[100], mismatch[300];
	struct tls_options o;
	size_t i, n = 0;

	(void)state;
	for (i = 0; i < 64; i += 2)
		n += (size_t)snprintf(upper_colons + n, sizeof upper_colons - n, "%s%c%c", i ? ":" : "",
				      self_fp[i] >= 'a' ? self_fp[i] - 32 : self_fp[i],
				      self_fp[i + 1] >= 'a' ? self_fp[i + 1] - 32 : self_fp[i + 1]);

	memset(&o, 0, sizeof o);
	o.host = "localhost";
	expect_handshake("no verification, no pin", SERVE_ECHO, &self, &o, 0, NULL, NULL);
	expect_handshake("no verification, expired", SERVE_ECHO, &expired, &o, 0, NULL, NULL);
	o.pin = self_fp;
	expect_handshake("pin of a self-signed certificate", SERVE_ECHO, &self, &o, 0, NULL, NULL);
	o.pin = upper_colons;
	expect_handshake("pin in capitals with colons", SERVE_ECHO, &self, &o, 0, NULL, NULL);

	o.pin = server_fp;
	snprintf(mismatch, sizeof mismatch, "cannot trust the certificate of localhost: certificate pin "
		 "mismatch: the server's SHA-256 is %s, the pin is %s", self_fp, server_fp);
	expect_handshake("pin mismatch", SERVE_ECHO, &self, &o, OUTBOX_EUNAVAILABLE, mismatch, NULL);

	o = verified("localhost");
	o.pin = server_fp;
	expect_handshake("pin and verification", SERVE_ECHO, &serve_good, &o, 0, NULL, NULL);
	o.pin = self_fp;
	expect_handshake("verified but pinned to another", SERVE_ECHO, &serve_good, &o, OUTBOX_EUNAVAILABLE,
			 "certificate pin mismatch", NULL);
	o.pin = "abcd";
	expect_handshake("malformed pin", SERVE_SILENT, NULL, &o, OUTBOX_ECONFIG,
			 "tls-pin: \"abcd\" is not a SHA-256 fingerprint", NULL);
}

static void test_client_certificate(void **state)
{
	static const struct server_opts strict = {"server", 0, 1};
	struct server s;
	struct client c;
	struct tls_options o = verified("localhost");
	char buf[16];

	(void)state;
	o.cert_file = path("client", "pem");
	o.key_file = path("client", "key");
	server_start(&s, SERVE_ECHO, &strict);
	client_run(&c, &s, &o, 5000);
	if (c.rc != 0)
		fail_msg("with a client certificate: %s", outbox_errmsg(&c.h));
	EXPECT_INT(tls_write(&c.h, c.tls, "hi", 2, net_now_ms() + 5000), 0, "write");
	EXPECT_INT(tls_read(&c.h, c.tls, buf, sizeof buf, net_now_ms() + 5000), 2, "echo");
	client_end(&c);
	server_stop(&s);
	EXPECT_STR(s.client_cn, "outbox client", "the certificate the server saw");

	/* Under TLS 1.3 the client finishes first; the server's refusal arrives with the next read. */
	o.cert_file = o.key_file = NULL;
	server_start(&s, SERVE_ECHO, &strict);
	client_run(&c, &s, &o, 5000);
	EXPECT_INT(c.rc, 0, "handshake without a client certificate");
	EXPECT_INT(tls_read(&c.h, c.tls, buf, sizeof buf, net_now_ms() + 5000), OUTBOX_EUNAVAILABLE,
		   "read after the refusal");
	EXPECT_CONTAINS(outbox_errmsg(&c.h), "localhost requires a client certificate: set one with --tls-cert",
			"refusal");
	client_end(&c);
	server_stop(&s);
}

static void test_bad_files(void **state)
{
	const struct {
		const char *what, *ca, *cert, *key, *field, *part;
	} cases[] = {
		{"missing CA file", "/nonexistent/ca.pem", NULL, NULL, "tls-ca",
		 "tls-ca: cannot load /nonexistent/ca.pem: "},
		{"missing certificate", NULL, "/nonexistent/c.pem", "/nonexistent/c.key", "tls-cert",
		 "tls-cert: cannot use /nonexistent/c.pem: "},
		{"key only", NULL, NULL, "client", "tls-cert", "needs its client certificate"},
		{"missing key", NULL, "client", "/nonexistent/c.key", "tls-key", "tls-key: cannot use /nonexistent"},
		{"key of another certificate", NULL, "client", "server", "tls-key", "is not the key of the certificate"},
		{"a certificate as the key", NULL, "client", "client.pem", "tls-key", "tls-key: cannot use"},
		{"key with a passphrase", NULL, "client", "client-locked.key", "tls-key",
		 "client-locked.key is protected by a passphrase, which outbox cannot ask for"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct server s;
		struct client c;
		struct tls_options o = verified("localhost");
		char cert[128], key[128];
		if (cases[i].ca)
			o.ca_file = cases[i].ca;
		if (cases[i].cert) {
			snprintf(cert, sizeof cert, "%s", cases[i].cert[0] == '/' ? cases[i].cert
										   : path(cases[i].cert, "pem"));
			o.cert_file = cert;
		}
		if (cases[i].key) {
			if (cases[i].key[0] == '/')
				snprintf(key, sizeof key, "%s", cases[i].key);
			else if (strchr(cases[i].key, '.'))
				snprintf(key, sizeof key, "%s/%s", dir, cases[i].key);
			else
				snprintf(key, sizeof key, "%s", path(cases[i].key, "key"));
			o.key_file = key;
		}
		server_start(&s, SERVE_SILENT, NULL);
		client_run(&c, &s, &o, 5000);
		EXPECT_INT(c.rc, OUTBOX_ECONFIG, cases[i].what);
		EXPECT_STR(outbox_errfield(&c.h), cases[i].field, cases[i].what);
		EXPECT_CONTAINS(outbox_errmsg(&c.h), cases[i].part, cases[i].what);
		client_end(&c);
		server_stop(&s);
	}
}

static void test_old_server(void **state)
{
	static const struct server_opts tls11 = {"server", TLS1_1_VERSION, 0};
	struct tls_options o = verified("localhost");

	(void)state;
	expect_handshake("TLS 1.1 server", SERVE_ECHO, &tls11, &o, OUTBOX_EUNAVAILABLE,
			 "localhost does not offer TLS 1.2 or newer", NULL);
}

static void test_not_tls(void **state)
{
	struct tls_options o = verified("localhost");
	struct server s;
	struct client c;
	long long start, took;

	(void)state;
	expect_handshake("plain SMTP greeting", SERVE_BANNER, NULL, &o, OUTBOX_EUNAVAILABLE,
			 "localhost did not answer in TLS: if this port expects STARTTLS, use --security starttls",
			 NULL);
	expect_handshake("closed at once", SERVE_CLOSE, NULL, &o, OUTBOX_ETEMPFAIL,
			 "localhost closed the connection during the TLS handshake", NULL);

	server_start(&s, SERVE_SILENT, NULL);
	start = net_now_ms();
	client_run(&c, &s, &o, 300);
	took = net_now_ms() - start;
	EXPECT_INT(c.rc, OUTBOX_ETEMPFAIL, "silent server");
	EXPECT_CONTAINS(outbox_errmsg(&c.h), "localhost did not finish the TLS handshake within 300 ms",
			"silent server");
	if (took < 290 || took > 2000)
		fail_msg("the handshake gave up after %lld ms, want about 300", took);
	client_end(&c);
	server_stop(&s);
}

static void test_read_write(void **state)
{
	struct tls_options o = verified("localhost");
	struct server s;
	struct client c;
	char big[100000], back[100000], buf[64];
	size_t got = 0, i;
	ssize_t n;

	(void)state;
	for (i = 0; i < sizeof big; i++)
		big[i] = (char)('a' + i % 26);
	server_start(&s, SERVE_ECHO, &serve_good);
	client_run(&c, &s, &o, 5000);
	assert_int_equal(c.rc, 0);
	EXPECT_INT(tls_pending(c.tls), 0, "nothing pending yet");
	EXPECT_INT(tls_write(&c.h, c.tls, "EHLO me\r\n", 9, net_now_ms() + 5000), 0, "write");
	n = tls_read(&c.h, c.tls, buf, sizeof buf, net_now_ms() + 5000);
	EXPECT_INT(n, 9, "read");
	EXPECT_INT(memcmp(buf, "EHLO me\r\n", 9), 0, "echoed bytes");

	/* More than one record and more than the socket buffers hold at once, in both directions. */
	EXPECT_INT(tls_write(&c.h, c.tls, big, sizeof big, net_now_ms() + 5000), 0, "big write");
	while (got < sizeof back) {
		n = tls_read(&c.h, c.tls, back + got, sizeof back - got, net_now_ms() + 5000);
		if (n <= 0)
			fail_msg("read %zu of %zu: %zd %s", got, sizeof back, n, outbox_errmsg(&c.h));
		got += (size_t)n;
	}
	EXPECT_INT(memcmp(big, back, sizeof big), 0, "big echo");

	n = tls_read(&c.h, c.tls, buf, sizeof buf, net_now_ms() + 200);
	EXPECT_INT(n, OUTBOX_ETEMPFAIL, "read with nothing coming");
	EXPECT_CONTAINS(outbox_errmsg(&c.h), "no reply from localhost within 200 ms", "read timeout");
	client_end(&c);
	server_stop(&s);

	server_start(&s, SERVE_BYE, &serve_good);
	client_run(&c, &s, &o, 5000);
	assert_int_equal(c.rc, 0);
	n = tls_read(&c.h, c.tls, buf, sizeof buf, net_now_ms() + 5000);
	EXPECT_INT(n, 3, "bye");
	EXPECT_INT(tls_read(&c.h, c.tls, buf, sizeof buf, net_now_ms() + 5000), 0, "clean close");
	client_end(&c);
	server_stop(&s);
}

/* Writing to a server that reset the connection is an error to report, not a SIGPIPE that ends
 * the program: the default action of SIGPIPE is left in place here on purpose. */
static void test_reset(void **state)
{
	struct tls_options o = verified("localhost");
	struct server s;
	struct client c;
	char buf[4096];
	int i, rc = 0;

	(void)state;
	signal(SIGPIPE, SIG_DFL);
	memset(buf, 'x', sizeof buf);
	server_start(&s, SERVE_RESET, &serve_good);
	client_run(&c, &s, &o, 5000);
	assert_int_equal(c.rc, 0);
	server_stop(&s); /* the reset has been sent */
	for (i = 0; i < 100 && rc == 0; i++)
		rc = tls_write(&c.h, c.tls, buf, sizeof buf, net_now_ms() + 5000);
	EXPECT_INT(rc, OUTBOX_ETEMPFAIL, "write after a reset");
	EXPECT_CONTAINS(outbox_errmsg(&c.h), "localhost", "reset message");
	client_end(&c);
}

static void test_channel_binding(void **state)
{
	static const struct server_opts tls12 = {"server", TLS1_2_VERSION, 0};
	struct tls_options o = verified("localhost");
	struct server s;
	struct client c;
	unsigned char cb[64];
	size_t len = sizeof cb;
	const char *type = NULL;
	char desc[128];

	(void)state;
	server_start(&s, SERVE_ECHO, &serve_good);
	client_run(&c, &s, &o, 5000);
	assert_int_equal(c.rc, 0);
	EXPECT_INT(tls_channel_binding(c.tls, &type, cb, &len), 0, "TLS 1.3 binding");
	EXPECT_STR(type, "tls-exporter", "TLS 1.3 type");
	EXPECT_INT(len, 32, "exporter length");
	len = 16;
	EXPECT_INT(tls_channel_binding(c.tls, &type, cb + 32, &len), -1, "too small a buffer");
	client_end(&c);
	server_stop(&s);
	EXPECT_INT(memcmp(cb, s.exporter, 32), 0, "both ends export the same value");

	server_start(&s, SERVE_ECHO, &tls12);
	client_run(&c, &s, &o, 5000);
	assert_int_equal(c.rc, 0);
	tls_description(c.tls, desc, sizeof desc);
	EXPECT_CONTAINS(desc, "TLSv1.2 ", "TLS 1.2 description");
	len = sizeof cb;
	EXPECT_INT(tls_channel_binding(c.tls, &type, cb, &len), 0, "TLS 1.2 binding");
	EXPECT_STR(type, "tls-unique", "TLS 1.2 type");
	EXPECT_INT(len, 12, "tls-unique length");
	client_end(&c);
	server_stop(&s);
	EXPECT_INT(s.unique_len, 12, "server's tls-unique");
	EXPECT_INT(memcmp(cb, s.unique, 12), 0, "the client's Finished on both ends");
}

static void test_null_safe(void **state)
{
	char desc[32];

	(void)state;
	tls_close(NULL);
	EXPECT_STR(tls_description(NULL, desc, sizeof desc), "no TLS", "description of nothing");
	EXPECT_INT(tls_pending(NULL), 0, "pending of nothing");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verified),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_system_store),
		cmocka_unit_test(test_pins),
		cmocka_unit_test(test_client_certificate),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_old_server),
		cmocka_unit_test(test_not_tls),
		cmocka_unit_test(test_read_write),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_channel_binding),
		cmocka_unit_test(test_null_safe),
	};

	return cmocka_run_group_tests(tests, make_pki, remove_pki);
}
