/* oauth_pkce.c: Proof Key for Code Exchange (RFC 7636, S256) and the redirect's state: random
 * values from OpenSSL's generator, base64url without padding. */
#include <string.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "handle_internal.h"
#include "oauth.h"

/* base64url without padding (RFC 4648 section 5): the verifier's and the challenge's alphabet are
 * both within RFC 7636's unreserved set. `out` holds 4 * ceil(len / 3) + 1 bytes. */
static void pkce_base64url(const unsigned char *raw, size_t len, char *out)
{
	int n = EVP_EncodeBlock((unsigned char *)out, raw, (int)len), i;

	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (i = 0; i < n; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
}

int oauth_pkce_challenge(const char *verifier, char out[44])
{
	unsigned char digest[SHA256_DIGEST_LENGTH];
	char enc[48];

	if (SHA256((const unsigned char *)verifier, strlen(verifier), digest) == NULL)
		return -1;
	pkce_base64url(digest, sizeof digest, enc);
	memcpy(out, enc, 44);
	return 0;
}

int oauth_pkce_new(outbox *h, struct oauth_pkce *p)
{
	/* 48 bytes are 64 characters of verifier (RFC 7636 asks 43 to 128); 16 bytes of state. */
	unsigned char raw[48], st[16];
	char enc[68];

	memset(p, 0, sizeof *p);
	if (RAND_bytes(raw, sizeof raw) != 1 || RAND_bytes(st, sizeof st) != 1)
		return outbox_fail(h, OUTBOX_EIO, NULL, "no random bytes for the sign-in");
	pkce_base64url(raw, sizeof raw, enc);
	memcpy(p->verifier, enc, sizeof p->verifier);
	pkce_base64url(st, sizeof st, enc);
	memcpy(p->state, enc, sizeof p->state);
	explicit_bzero(raw, sizeof raw);
	explicit_bzero(enc, sizeof enc);
	if (oauth_pkce_challenge(p->verifier, p->challenge) < 0) {
		oauth_pkce_clear(p);
		return outbox_fail(h, OUTBOX_ENOMEM, NULL, "cannot compute the PKCE challenge");
	}
	return 0;
}

void oauth_pkce_clear(struct oauth_pkce *p)
{
	explicit_bzero(p, sizeof *p);
}
