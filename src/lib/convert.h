/* convert.h: re-encoding a spooled message for what a server can take, with GMime: a part with a
 * line over 998 octets, or 8-bit data for a server without 8BITMIME, becomes quoted-printable or
 * base64; UTF-8 headers for a server without SMTPUTF8 get A-labels and encoded words. */
#ifndef OUTBOX_CONVERT_H
#define OUTBOX_CONVERT_H

#include <sys/types.h>
#include "outbox/error.h"

enum convert_what {
	CONVERT_LONG_LINES = 1 << 0, /* parts with a line over MESSAGE_MAX_LINE octets */
	CONVERT_8BIT = 1 << 1,       /* parts with an octet >= 0x80 (for a server without 8BITMIME) */
	CONVERT_HEADERS = 1 << 2     /* the message's UTF-8 headers that have an ASCII form (no SMTPUTF8) */
};

struct convert_result {
	off_t size;       /* bytes written to out_fd */
	int has_8bit;     /* an octet >= 0x80 remains (a header's, which only SMTPUTF8 carries) */
	int parts;        /* parts re-encoded */
	int headers;      /* headers rewritten (CONVERT_HEADERS) */
	int header_8bit;  /* a header of the message itself still has an octet >= 0x80 */
};

/* Read the message in wire form from in_fd (from its start; it must be seekable) and write it to
 * out_fd with every leaf part that has what `what` names re-encoded: text as quoted-printable
 * (base64 when it was quoted-printable already), anything else as base64, so that its decoded
 * content is what it was. A message without MIME headers becomes a one-part MIME message; its
 * 8-bit text is labelled charset utf-8 when it is UTF-8, else unknown-8bit (RFC 1428). Part
 * contents stay on disk: memory does not grow with the message. With CONVERT_HEADERS, the
 * message's own UTF-8 address fields (From, To, Cc, Bcc, Reply-To, Sender, Resent-*) get their
 * domains as A-labels and their names as RFC 2047 encoded words, and Subject and Comments become
 * encoded words; a UTF-8 local part or any other UTF-8 header stays (res->header_8bit). Fails
 * (OUTBOX_EINVALID, field "message") when a line over 998 octets remains, as in a part's header. */
int convert_message(outbox *h, int in_fd, int out_fd, unsigned what, struct convert_result *res);

#endif
