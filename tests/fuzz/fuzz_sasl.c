/* fuzz_sasl.c: libFuzzer target for AUTH's challenge handling (sasl.c over GNU SASL): SCRAM's
 * server-first and server-final messages, the XOAUTH2/OAUTHBEARER error dance, and the rest.
 *
 * Input: byte 0 picks the mechanism and the mode, the rest is the server's challenges, one a line.
 * In raw mode each line goes to sasl_step as the text after "334 " (so bad base64 is tried too);
 * otherwise the target base64-encodes it after filling in "%n" (the client's nonce, which GNU SASL
 * draws at random) and "%v" (the server signature a real server would compute), so the fuzzer can
 * reach past the nonce and signature checks. Credentials are made up here. */
#include <gsasl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "handle_internal.h"
#include "sasl.h"
#include "fuzz.h"

#define FUZZ_USER "fuzz-user"
#define FUZZ_PASSWORD "Fuzz-made-up-pw-7q2"
/* The target computes a signature only up to this many iterations, to stay fast itself. */
#define FUZZ_MAX_ITER 8192
#define FUZZ_MAX_STEPS 8

static const char *const mechs[] = {"SCRAM-SHA-256", "SCRAM-SHA-1", "SCRAM-SHA-256-PLUS",
				    "SCRAM-SHA-1-PLUS", "XOAUTH2", "OAUTHBEARER",
				    "PLAIN",         "LOGIN",       "CRAM-MD5"};
#define MECH_COUNT (sizeof mechs / sizeof mechs[0])

/* What a SCRAM server needs to sign the exchange (RFC 5802 section 3). */
struct scram_view {
	struct buf client_first_bare, server_first, client_final_bare;
	int sha256;
};

static char *b64(const char *raw, size_t len)
{
	char *out = NULL;
	size_t out_len;

	CHECK(gsasl_base64_to(raw, len, &out, &out_len) == GSASL_OK);
	return out;
}

/* A response is base64 text: the caller sends it as a line. */
static void check_base64(const char *s)
{
	size_t n = strlen(s);

	CHECK(strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") == n);
	CHECK(n % 4 == 0 || strcmp(s, "=") == 0);
}

/* The failure on the handle is one line a terminal shows as it is. */
static void check_error(const outbox *h, int rc)
{
	const unsigned char *p = (const unsigned char *)h->err_message;

	CHECK(rc < 0 && *p != '\0');
	for (; *p; p++)
		CHECK(*p >= 0x20 && *p != 0x7f);
}

/* The value of attribute `key` ("r", "s", "i") in a SCRAM message, or NULL. */
static const char *scram_attr(const struct buf *m, char key, size_t *len)
{
	const char *p = m->data, *end;

	if (p == NULL)
		return NULL; /* nothing kept yet */
	end = p + m->len;
	while (p != NULL && p + 1 < end) {
		if (p[0] == key && p[1] == '=') {
			const char *comma = memchr(p, ',', (size_t)(end - p));

			*len = (size_t)((comma ? comma : end) - p - 2);
			return p + 2;
		}
		p = memchr(p, ',', (size_t)(end - p));
		if (p != NULL)
			p++;
	}
	return NULL;
}

/* The signature a server knowing FUZZ_PASSWORD would send, base64, or NULL when the messages so
 * far give no salt or a count past FUZZ_MAX_ITER. */
static char *scram_server_signature(const struct scram_view *v)
{
	char salted[GSASL_HASH_MAX_SIZE], ck[GSASL_HASH_MAX_SIZE], sk[GSASL_HASH_MAX_SIZE],
		stk[GSASL_HASH_MAX_SIZE], *salt = NULL, digits[16];
	unsigned char sig[EVP_MAX_MD_SIZE];
	unsigned sig_len = 0;
	const char *s, *i;
	size_t s_len, i_len, salt_len;
	unsigned long iter;
	struct buf auth = BUF_INIT;
	char *out = NULL;

	s = scram_attr(&v->server_first, 's', &s_len);
	i = scram_attr(&v->server_first, 'i', &i_len);
	if (s == NULL || i == NULL || i_len == 0 || i_len >= sizeof digits ||
	    strspn(i, "0123456789") < i_len)
		return NULL;
	memcpy(digits, i, i_len);
	digits[i_len] = '\0';
	iter = strtoul(digits, NULL, 10);
	if (iter == 0 || iter > FUZZ_MAX_ITER || gsasl_base64_from(s, s_len, &salt, &salt_len) != GSASL_OK)
		return NULL;
	if (gsasl_scram_secrets_from_password(v->sha256 ? GSASL_HASH_SHA256 : GSASL_HASH_SHA1,
					      FUZZ_PASSWORD, (unsigned)iter, salt, salt_len, salted,
					      ck, sk, stk) == GSASL_OK &&
	    buf_append(&auth, v->client_first_bare.data, v->client_first_bare.len) == 0 &&
	    buf_puts(&auth, ",") == 0 &&
	    buf_append(&auth, v->server_first.data, v->server_first.len) == 0 &&
	    buf_puts(&auth, ",") == 0 &&
	    buf_append(&auth, v->client_final_bare.data, v->client_final_bare.len) == 0 &&
	    HMAC(v->sha256 ? EVP_sha256() : EVP_sha1(), sk, v->sha256 ? 32 : 20,
		 (const unsigned char *)auth.data, auth.len, sig, &sig_len) != NULL)
		out = b64((const char *)sig, sig_len);
	gsasl_free(salt);
	buf_free(&auth);
	return out;
}

/* The challenge the server sends for `line`: "%n" and "%v" filled in, then base64. */
static char *make_challenge(const struct scram_view *v, const char *line, size_t len,
			    struct buf *raw)
{
	size_t i, nonce_len = 0;
	const char *nonce = scram_attr(&v->client_first_bare, 'r', &nonce_len);
	char *sig, *out;

	buf_reset(raw);
	for (i = 0; i < len; i++) {
		if (line[i] == '%' && i + 1 < len && line[i + 1] == 'n' && nonce != NULL) {
			CHECK(buf_append(raw, nonce, nonce_len) == 0);
			i++;
		} else if (line[i] == '%' && i + 1 < len && line[i + 1] == 'v') {
			sig = scram_server_signature(v);
			CHECK(buf_puts(raw, sig ? sig : "") == 0);
			free(sig);
			i++;
		} else {
			CHECK(buf_append(raw, line + i, 1) == 0);
		}
	}
	out = b64(raw->data ? raw->data : "", raw->len);
	return out;
}

/* SCRAM never sends the password. The nonce a client-final message echoes is the server's
 * text (the fuzzer may put anything there), so only the rest of the message is looked at. */
static void check_no_password(const char *raw, size_t len)
{
	const char *r = memmem(raw, len, ",r=", 3), *after;
	size_t n = strlen(FUZZ_PASSWORD);

	if (r == NULL) {
		CHECK(memmem(raw, len, FUZZ_PASSWORD, n) == NULL);
		return;
	}
	after = memchr(r + 3, ',', len - (size_t)(r + 3 - raw));
	CHECK(memmem(raw, (size_t)(r - raw), FUZZ_PASSWORD, n) == NULL);
	CHECK(after == NULL || memmem(after, len - (size_t)(after - raw), FUZZ_PASSWORD, n) == NULL);
}

/* Keep in `to` the decoded response from its "n=" on (client-first) or up to ",p=" (final). */
static void remember(struct buf *to, const char *response, int first)
{
	char *raw = NULL;
	size_t len = 0;
	const char *from, *proof;

	buf_reset(to);
	if (*response == '\0' || strcmp(response, "=") == 0 ||
	    gsasl_base64_from(response, strlen(response), &raw, &len) != GSASL_OK)
		return;
	check_no_password(raw, len);
	if (first) {
		from = memmem(raw, len, ",n=", 3);
		if (from != NULL)
			CHECK(buf_append(to, from + 1, len - (size_t)(from + 1 - raw)) == 0);
	} else {
		proof = memmem(raw, len, ",p=", 3);
		if (proof != NULL)
			CHECK(buf_append(to, raw, (size_t)(proof - raw)) == 0);
	}
	gsasl_free(raw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char cb[32] = {0xc0, 0xff, 0xee, 1, 2, 3, 4, 5, 6, 7, 8, 9};
	struct sasl_params p = {.user = FUZZ_USER, .password = FUZZ_PASSWORD,
				.host = "mail.example.org", .port = 587};
	struct scram_view v = {BUF_INIT, BUF_INIT, BUF_INIT, 0};
	struct buf raw = BUF_INIT, line = BUF_INIT;
	struct sasl_session *s;
	const char *mech, *in, *end;
	char *response = NULL;
	int raw_mode, skip_ir, done = 0, was_done = 0, rc, steps = 0, scram;
	outbox h;

	if (size < 1)
		return 0;
	mech = mechs[(data[0] & 0x0f) % MECH_COUNT];
	raw_mode = (data[0] & 0x10) != 0;
	skip_ir = (data[0] & 0x20) != 0;
	scram = strncmp(mech, "SCRAM-", 6) == 0;
	v.sha256 = strstr(mech, "256") != NULL;
	if (strstr(mech, "-PLUS")) {
		p.cb_type = (data[0] & 0x40) ? "tls-unique" : "tls-exporter";
		p.cb_data = cb;
		p.cb_len = sizeof cb;
	}
	memset(&h, 0, sizeof h);
	CHECK(sasl_start(&h, mech, &p, &s) == 0);
	if (sasl_has_initial_response(mech) && !skip_ir) {
		CHECK(sasl_step(&h, s, NULL, &response, &done) == 0);
		CHECK(*response != '\0');
		check_base64(response);
		if (scram)
			remember(&v.client_first_bare, response, 1);
		free(response);
		steps++;
	}
	in = (const char *)data + 1;
	end = (const char *)data + size;
	while (in <= end && steps < FUZZ_MAX_STEPS) {
		const char *nl = memchr(in, '\n', (size_t)(end - in));
		size_t len = (size_t)((nl ? nl : end) - in);
		char *challenge;

		if (raw_mode) {
			buf_reset(&line);
			CHECK(buf_append(&line, in, len) == 0);
			challenge = strdup(line.data ? line.data : "");
		} else {
			challenge = make_challenge(&v, in, len, &raw);
		}
		CHECK(challenge != NULL);
		was_done = done;
		rc = sasl_step(&h, s, challenge, &response, &done);
		if (rc < 0) {
			check_error(&h, rc);
			CHECK(response == NULL);
			free(challenge);
			break;
		}
		check_base64(response);
		CHECK(!was_done || done); /* finished stays finished */
		if (scram && steps == 0)
			remember(&v.client_first_bare, response, 1);
		if (scram && steps <= 1 && v.server_first.len == 0 && !raw_mode) {
			CHECK(buf_append(&v.server_first, raw.data ? raw.data : "", raw.len) == 0);
			remember(&v.client_final_bare, response, 0);
		}
		free(response);
		free(challenge);
		steps++;
		if (nl == NULL)
			break;
		in = nl + 1;
	}
	sasl_end(s);
	buf_free(&v.client_first_bare);
	buf_free(&v.server_first);
	buf_free(&v.client_final_bare);
	buf_free(&raw);
	buf_free(&line);
	return 0;
}
