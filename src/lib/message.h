/* message.h: reading a message to send: from any input, with bounded memory, into a spool file in
 * wire form (CRLF line ends, not yet dot-stuffed), learning on the way what the envelope needs. */
#ifndef OUTBOX_MESSAGE_H
#define OUTBOX_MESSAGE_H

#include <stddef.h>
#include <sys/types.h>
#include "buf.h"
#include "outbox/error.h"

#define MESSAGE_MAX_LINE 998              /* octets per line before CRLF, RFC 5322 2.1.1 */
#define MESSAGE_MAX_HEADER (1024 * 1024)  /* bytes of header section kept in memory */

struct message_options {
	int extract_recipients;  /* -t: recipients from To/Cc/Bcc (Resent-* when present) */
	int dot_ends_input;      /* sendmail without -i/-oi: a line of one "." ends the input */
	const char *from_address; /* the account's address, for a From: header when missing */
	const char *from_name;    /* its display name (-F or the account's), may be NULL */
	const char *domain;       /* right side of a generated Message-ID */
	long long now;            /* seconds since the epoch, for a generated Date: */
};

struct message_info {
	off_t size;             /* bytes written to the spool file */
	int has_8bit;           /* any byte >= 0x80 anywhere */
	int needs_smtputf8;     /* non-ASCII in a header (RFC 6532), so SMTPUTF8 is required */
	int long_lines;         /* a body line is over MESSAGE_MAX_LINE: the spool file must be
				   converted (convert.c) before it can be sent */
	int added_date, added_message_id, added_from;
	char **recipients;      /* -t: addresses found, NULL-terminated, duplicates removed */
	char *message_id;       /* the Message-ID (found or generated), without <> */
	char *from;             /* the address in the From: header, or NULL */
};

/* Read the whole message from in_fd and write it to out_fd in wire form: every line end CRLF (a
 * bare CR or LF becomes CRLF), a final CRLF added when missing, Bcc: and Resent-Bcc: removed
 * (always, as Postfix does), a first line "From " (an mbox separator) dropped, Date/Message-ID/
 * From added when missing. A line that is not a header field ends the header section (a blank
 * line is put before it). A header line over 998 octets is folded at a space; a body line over
 * 998 octets is written as it is and noted in info->long_lines. Refuses (OUTBOX_EINVALID, field
 * "message") a NUL byte, or a header line that cannot be folded. Memory stays bounded by
 * MESSAGE_MAX_HEADER whatever the body's size. */
int message_prepare(outbox *h, int in_fd, int out_fd, const struct message_options *opt,
		    struct message_info *info);
void message_info_free(struct message_info *info);

/* Dot-stuffing for DATA (RFC 5321 4.5.2), in chunks: a '.' at the start of a line is doubled.
 * `at_line_start` carries across calls; start it at 1. */
int message_dot_stuff(const char *in, size_t len, int *at_line_start, struct buf *out);

#endif
