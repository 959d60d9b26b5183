/* validate.h: checks of single values typed by a user, shared by every record type.
 * Each returns 0, or OUTBOX_EINVALID with a one-line message on the handle that names `field`. */
#ifndef OUTBOX_VALIDATE_H
#define OUTBOX_VALIDATE_H

#include <stddef.h>
#include "outbox/error.h"

/* Valid UTF-8 of at most `max` bytes without CR, LF, NUL or other control characters. */
int validate_text(outbox *h, const char *field, const char *value, size_t max);
/* Text from outside (a server's reply, a certificate's name) made safe to show on one line of a
 * terminal, a log or JSON: control characters (C0, DEL, C1 such as U+009B) and invisible or
 * direction-changing characters (U+202E, U+2066, U+200F, U+061C) become visible escapes (\x1B,
 * \u009B, \u202E), line breaks and tabs \r \n \t, and bytes that are not UTF-8 \xNN. A
 * backslash stays as it is, so rendering twice changes nothing. Reads len bytes (NULs too); cut
 * to fit `size` with "...", never inside an escape or a character. Returns out. */
const char *validate_display(char *out, size_t size, const char *text, size_t len);
/* A handle for the command line: 1-64 of [A-Za-z0-9._-], not starting with '-' or '.'. */
int validate_name(outbox *h, const char *field, const char *value);
/* A host name (international names checked through IDNA2008 with libidn2) or an IPv4/IPv6
 * literal, without brackets or port. */
int validate_host(outbox *h, const char *field, const char *value);
/* A decimal integer in [min, max] with nothing around it, stored in *out. */
int validate_int(outbox *h, const char *field, const char *value, long min, long max, long *out);
/* A duration ("90s", "15m", "2h", "5d", "1w" or bare seconds) from min to max seconds; *out gets
 * the seconds. */
int validate_duration(outbox *h, const char *field, const char *value, long long min, long long max,
		      long long *out);
/* true/false, yes/no, on/off, 1/0 in any case; *out is 1 or 0. */
int validate_bool(outbox *h, const char *field, const char *value, int *out);
/* One of the NULL-terminated `choices`, compared exactly; the message lists them. */
int validate_choice(outbox *h, const char *field, const char *value, const char *const *choices);
/* An RFC 5321 mailbox (local-part@domain or @[address literal]); UTF-8 local parts and
 * international domains are allowed (RFC 6531). */
int validate_address(outbox *h, const char *field, const char *value);
/* A name for EHLO (RFC 5321 4.1.1.1): an ASCII domain ("mail.example.org", A-labels for an
 * international one) or an address literal ("[192.0.2.1]", "[IPv6:2001:db8::1]"). */
int validate_ehlo_name(outbox *h, const char *field, const char *value);
/* A SHA-256 fingerprint: 64 hex digits, colons between pairs allowed. `out` gets the 64 lowercase
 * digits and a NUL. */
int validate_sha256_pin(outbox *h, const char *field, const char *value, char out[65]);
/* An absolute or relative path to a regular file this process can read. */
int validate_readable_file(outbox *h, const char *field, const char *path);

/* validate_oauth.c: the OAuth settings of a server. Each accepts "" (the whole-record check says
 * which are required). */
/* An endpoint: an https:// URL with a host, an optional port and path, no user name or password
 * and no fragment; http:// only to a loopback host (127.0.0.0/8, [::1], localhost), for tests. */
int validate_oauth_url(outbox *h, const char *field, const char *value);
/* The one answer to "may plain http:// go to this host": 127.0.0.0/8, ::1 (bracketed or not) and
 * the name localhost, which only this machine can answer. */
int validate_loopback_host(const char *host);
/* A Microsoft tenant: common, organizations, consumers, a directory GUID or a domain name. */
int validate_oauth_tenant(outbox *h, const char *field, const char *value);
/* Scope tokens (RFC 6749 3.3: printable ASCII but '"' and '\\') separated by single spaces. */
int validate_oauth_scope(outbox *h, const char *field, const char *value);
/* A client ID: printable ASCII without spaces, at most 255 bytes. */
int validate_oauth_client_id(outbox *h, const char *field, const char *value);
/* A client secret: 1 to 4096 printable ASCII characters (spaces allowed); "" is refused. */
int validate_oauth_client_secret(outbox *h, const char *field, const char *value);

#endif
