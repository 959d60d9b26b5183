/* smtp_reply.h: a pure, bounded parser of SMTP server replies (RFC 5321 section 4.2) and of the
 * EHLO capability list. No I/O, no allocation: bytes in, a parsed reply or a precise error out. */
#ifndef OUTBOX_SMTP_REPLY_H
#define OUTBOX_SMTP_REPLY_H

#include <stddef.h>
#include <sys/types.h>

#define SMTP_REPLY_MAX_LINE 1000  /* bytes in one reply line, CRLF included; RFC 5321 asks 512 */
#define SMTP_REPLY_MAX_TOTAL 16384 /* bytes in one whole (multi-line) reply */
#define SMTP_REPLY_MAX_TEXT 4096  /* bytes of text kept from a reply; the rest is cut, not refused */

struct smtp_reply {
	int code;                /* 200..599 */
	int enhanced[3];         /* RFC 3463 class.subject.detail, or {0,0,0} when absent; only
				    recognised when its class is the code's first digit (2, 4, 5) */
	size_t lines;            /* number of lines */
	size_t text_len;
	char text[SMTP_REPLY_MAX_TEXT]; /* each line's text after the code (and enhanced code),
					   joined with '\n', NUL-terminated; no control bytes but
					   tab; bytes >= 0x80 kept as sent (SMTPUTF8 servers) */
};

enum smtp_reply_error {
	SMTP_REPLY_INCOMPLETE = 0,  /* not an error: more bytes are needed */
	SMTP_REPLY_EBADCODE = -1,   /* a line does not start with three digits 2xx..5xx */
	SMTP_REPLY_EBADSEP = -2,    /* the fourth byte is neither ' ' nor '-' (nor end of line) */
	SMTP_REPLY_EMIXED = -3,     /* the lines of one reply carry different codes */
	SMTP_REPLY_ELINE = -4,      /* a line is longer than SMTP_REPLY_MAX_LINE */
	SMTP_REPLY_ETOTAL = -5,     /* the reply is longer than SMTP_REPLY_MAX_TOTAL */
	SMTP_REPLY_ECONTROL = -6    /* NUL, a bare CR, or another control byte in a line */
};

/* Parse the reply at the start of buf[0..len). Returns the number of bytes it used (> 0) with *r
 * filled in; SMTP_REPLY_INCOMPLETE when the reply is not complete yet and nothing seen breaks a
 * limit; or a negative smtp_reply_error. Lines end in CRLF; a bare LF is accepted as an end too.
 * Bytes past the reply are not looked at, so pipelined replies parse one call each. Limits fail
 * as soon as they are certain: 1000 bytes of a line without its LF is ELINE, without waiting.
 * Errors are stable: a prefix of a stream reports either INCOMPLETE or the same error as the
 * whole. Reads nothing past buf[len], allocates nothing; *r is meaningful only after a return > 0. */
ssize_t smtp_reply_parse(const char *buf, size_t len, struct smtp_reply *r);
/* Words for an error code, for messages: "a reply line is longer than 1000 bytes". */
const char *smtp_reply_strerror(int err);
/* 2, 3, 4 or 5: the first digit of the code. */
int smtp_reply_class(const struct smtp_reply *r);
/* The reply on one line as people read it, "550 5.1.1 text of every line", into out (cut to fit
 * size), with anything a terminal would obey shown as an escape (validate_display); "" for a
 * reply that never came (code 0). The one way server words reach messages. */
const char *smtp_reply_line(const struct smtp_reply *r, char *out, size_t size);

/* What a server offers in its EHLO reply (RFC 5321, 1869 family). */
enum smtp_ext {
	SMTP_EXT_STARTTLS = 1 << 0,
	SMTP_EXT_AUTH = 1 << 1,
	SMTP_EXT_PIPELINING = 1 << 2,
	SMTP_EXT_CHUNKING = 1 << 3,
	SMTP_EXT_8BITMIME = 1 << 4,
	SMTP_EXT_SMTPUTF8 = 1 << 5,
	SMTP_EXT_DSN = 1 << 6,
	SMTP_EXT_ENHANCEDSTATUSCODES = 1 << 7,
	SMTP_EXT_SIZE = 1 << 8,
	SMTP_EXT_BINARYMIME = 1 << 9,
	SMTP_EXT_REQUIRETLS = 1 << 10
};

struct smtp_caps {
	unsigned ext;             /* enum smtp_ext bits */
	unsigned long long size;  /* SIZE limit; 0 when absent or unlimited */
	char auth[512];           /* AUTH mechanisms, upper case, single spaces; "" when none */
};

/* Read the capabilities from a parsed 250 EHLO reply (its first line is the greeting, the rest
 * keywords, in any case). Unknown keywords are ignored; "AUTH=LOGIN PLAIN" (old form) counts as
 * AUTH. Any code but 250 gives no capabilities. A repeated SIZE keeps the strictest limit. */
void smtp_caps_parse(const struct smtp_reply *ehlo, struct smtp_caps *caps);
/* Whether `mech` (any case) is in caps->auth as a whole word: "PLAIN" is not in "PLAINX". */
int smtp_caps_has_auth(const struct smtp_caps *caps, const char *mech);

#endif
