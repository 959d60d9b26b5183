/* tls_verify.h: the words for a server certificate that cannot be trusted, and the SHA-256 pin:
 * turning OpenSSL's verification codes into what is wrong and what the user can do about it. */
#ifndef OUTBOX_TLS_VERIFY_H
#define OUTBOX_TLS_VERIFY_H

#include <openssl/x509.h>
#include "outbox/error.h"

/* SHA-256 over the certificate's DER form as 64 lowercase hex digits, or "" when it cannot be
 * computed. This is the value --tls-pin takes. */
void tls_verify_fingerprint(X509 *cert, char hex[65]);

/* Read `pin` (64 hex digits, either case, colons between pairs allowed) into 32 bytes, before
 * anything is sent. Returns 0, or OUTBOX_ECONFIG (field "tls-pin") when it is not a SHA-256 value. */
int tls_verify_parse_pin(outbox *h, const char *pin, unsigned char out[32]);

/* Compare `cert` with the pin in constant time. Returns 0 on a match, OUTBOX_EUNAVAILABLE with
 * both values in the message on a mismatch. */
int tls_verify_pin(outbox *h, const char *host, X509 *cert, const unsigned char pin[32]);

/* Report a failed chain or name check: `err` is the X509_V_ERR_* code, `depth` where in the chain
 * it was found, `failed` the certificate it is about and `leaf` the server's own (either may be
 * NULL). Returns OUTBOX_EUNAVAILABLE. */
int tls_verify_fail(outbox *h, const char *host, long err, int depth, X509 *failed, X509 *leaf);

#endif
