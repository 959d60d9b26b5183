/* tls_verify.c: why a server certificate is not trusted, in plain words with the next step, and
 * the SHA-256 pin. Certificate text is the server's to choose, so it is cleaned before it is shown. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "handle_internal.h"
#include "tls_verify.h"
#include "validate.h"

/* More names than this in a mismatch message would push the advice off the end of the message. */
#define MAX_NAMES 4
#define MAX_NAME_LEN 64

void tls_verify_fingerprint(X509 *cert, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;

	hex[0] = '\0';
	/* X509_digest hashes the DER encoding, the same bytes i2d_X509 gives. */
	if (cert == NULL || X509_digest(cert, EVP_sha256(), md, &len) != 1 || len != 32)
		return;
	for (i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* Append text taken from a certificate, rendered as all server text is (validate_display), so a
 * hostile name cannot put control characters or a second line into our message, and cut at a
 * readable length. */
static void append_clean(struct buf *b, const unsigned char *p, size_t len)
{
	char shown[MAX_NAME_LEN * 6 + 4];

	validate_display(shown, sizeof shown, (const char *)p, len < MAX_NAME_LEN ? len : MAX_NAME_LEN);
	buf_puts(b, shown);
	if (len > MAX_NAME_LEN)
		buf_puts(b, "...");
}

/* The common name in `name`, cleaned, or "" when there is none. */
static void name_cn(const X509_NAME *name, char *out, size_t size)
{
	struct buf b = BUF_INIT;
	int i = name ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
	const ASN1_STRING *s;

	out[0] = '\0';
	if (i < 0)
		return;
	s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	if (s == NULL)
		return;
	append_clean(&b, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
	snprintf(out, size, "%s", b.data ? b.data : "");
	buf_free(&b);
}

/* The names a certificate is for: its DNS and IP subject alternative names, or its common name
 * when it has none (as older certificates do), as "a, b, c and 2 more". */
static void cert_names(X509 *cert, char *out, size_t size)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	struct buf b = BUF_INIT;
	int i, count = names ? sk_GENERAL_NAME_num(names) : 0, shown = 0, more = 0;

	for (i = 0; i < count; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		char ip[INET6_ADDRSTRLEN];
		const unsigned char *p;
		int len;

		if (g->type != GEN_DNS && g->type != GEN_IPADD)
			continue;
		if (shown == MAX_NAMES) {
			more++;
			continue;
		}
		if (shown++)
			buf_puts(&b, ", ");
		p = ASN1_STRING_get0_data(g->type == GEN_DNS ? g->d.dNSName : g->d.iPAddress);
		len = ASN1_STRING_length(g->type == GEN_DNS ? g->d.dNSName : g->d.iPAddress);
		if (g->type == GEN_DNS)
			append_clean(&b, p, (size_t)len);
		else if ((len == 4 && inet_ntop(AF_INET, p, ip, sizeof ip)) ||
			 (len == 16 && inet_ntop(AF_INET6, p, ip, sizeof ip)))
			buf_puts(&b, ip);
		else
			buf_puts(&b, "?");
	}
	GENERAL_NAMES_free(names);
	if (more)
		buf_printf(&b, " and %d more", more);
	if (shown == 0) {
		name_cn(X509_get_subject_name(cert), out, size);
		if (out[0] == '\0')
			snprintf(out, size, "no name at all");
	} else {
		snprintf(out, size, "%s", b.data);
	}
	buf_free(&b);
}

/* "2020-02-01 00:00 UTC": the same in every locale, and unambiguous. */
static void format_time(const ASN1_TIME *t, char *out, size_t size)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 || strftime(out, size, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(out, size, "an unreadable date");
}

int tls_verify_fail(outbox *h, const char *host, long err, int depth, X509 *failed, X509 *leaf)
{
	X509 *about = failed ? failed : leaf;
	char fp[65], what[512], names[320], when[40], cn[MAX_NAME_LEN + 8], advice[240];
	/* Trusting a CA file helps when the chain is the problem; a pin (without verification, which
	 * would still fail) is the way out when the name or the dates are. */
	enum { TRUST, NAME, CLOCK } kind = TRUST;

	fp[0] = cn[0] = '\0';
	if (leaf)
		tls_verify_fingerprint(leaf, fp);
	if (about)
		name_cn(X509_get_issuer_name(about), cn, sizeof cn);

	switch (err) {
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		snprintf(what, sizeof what, "the server's certificate is self-signed");
		break;
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		snprintf(what, sizeof what, "the server's certificate is self-signed: its chain ends in \"%s\", "
			 "which is not a trusted authority", cn);
		break;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		if (cn[0])
			snprintf(what, sizeof what, "the server's certificate is signed by an unknown certificate "
				 "authority, \"%s\"", cn);
		else
			snprintf(what, sizeof what, "the server's certificate is signed by an unknown certificate "
				 "authority");
		break;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		cert_names(leaf ? leaf : about, names, sizeof names);
		snprintf(what, sizeof what, "the certificate is for %s, not %s", names, host);
		kind = NAME;
		break;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		format_time(about ? X509_get0_notAfter(about) : NULL, when, sizeof when);
		if (depth > 0)
			snprintf(what, sizeof what, "the certificate of the authority that signed it expired on %s",
				 when);
		else
			snprintf(what, sizeof what, "the certificate expired on %s", when);
		kind = CLOCK;
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		format_time(about ? X509_get0_notBefore(about) : NULL, when, sizeof when);
		snprintf(what, sizeof what, "the certificate is not valid until %s", when);
		kind = CLOCK;
		break;
	default:
		snprintf(what, sizeof what, "%s", X509_verify_cert_error_string(err));
		break;
	}

	switch (kind) {
	case NAME:
		snprintf(advice, sizeof advice, "connect to one of those names, or if you trust this server, pin "
			 "it with --no-tls-verify --tls-pin %s", fp[0] ? fp : "SHA256");
		break;
	case CLOCK:
		snprintf(advice, sizeof advice, "check this computer's clock; if it is right and you trust this "
			 "server, pin it with --no-tls-verify --tls-pin %s", fp[0] ? fp : "SHA256");
		break;
	default:
		snprintf(advice, sizeof advice, "if you trust this server, set its certificate with --tls-ca FILE "
			 "or pin it with --no-tls-verify --tls-pin %s", fp[0] ? fp : "SHA256");
		break;
	}
	return outbox_fail(h, OUTBOX_EUNAVAILABLE, NULL, "cannot trust the certificate of %s: %s; %s", host, what,
			   advice);
}

/* One check of the pin's form for the whole library (validate.c), then its bytes. */
int tls_verify_parse_pin(outbox *h, const char *pin, unsigned char out[32])
{
	char hex[65];
	size_t i;
	int rc;

	if ((rc = validate_sha256_pin(h, "tls-pin", pin, hex)) < 0)
		return OUTBOX_ECONFIG;
	for (i = 0; i < 32; i++) {
		unsigned int byte;
		sscanf(hex + 2 * i, "%2x", &byte);
		out[i] = (unsigned char)byte;
	}
	return 0;
}

int tls_verify_pin(outbox *h, const char *host, X509 *cert, const unsigned char pin[32])
{
	unsigned char got[EVP_MAX_MD_SIZE];
	unsigned int got_len = 0;
	char got_hex[65], pin_hex[65];
	size_t i;

	if (cert == NULL || X509_digest(cert, EVP_sha256(), got, &got_len) != 1 || got_len != 32)
		return outbox_fail(h, OUTBOX_EUNAVAILABLE, NULL,
				   "cannot trust the certificate of %s: its SHA-256 cannot be computed", host);
	/* Constant time, so that how long the comparison took says nothing about the pin. */
	if (CRYPTO_memcmp(got, pin, 32) == 0)
		return 0;
	for (i = 0; i < 32; i++) {
		snprintf(got_hex + 2 * i, 3, "%02x", got[i]);
		snprintf(pin_hex + 2 * i, 3, "%02x", pin[i]);
	}
	return outbox_fail(h, OUTBOX_EUNAVAILABLE, NULL,
			   "cannot trust the certificate of %s: certificate pin mismatch: the server's SHA-256 is "
			   "%s, the pin is %s; if the server has a new certificate you trust, set that as the pin",
			   host, got_hex, pin_hex);
}
