/* transcript.h: the protocol transcript as a front end gets it: one line per call, each rendered
 * by validate_display, so a server cannot send a terminal anything but visible text. */
#ifndef OUTBOX_TRANSCRIPT_H
#define OUTBOX_TRANSCRIPT_H

#include <stddef.h>

typedef void (*transcript_fn)(void *ctx, char direction, const char *line, size_t len);

/* A front end's transcript callback and its context, as one installs it on a session. */
struct transcript {
	transcript_fn fn;
	void *ctx;
};

/* Pass `text` (a command, or a whole reply of one or more CRLF lines) to fn, line by line, each
 * rendered safe. */
void transcript_show(transcript_fn fn, void *ctx, char direction, const char *text, size_t len);
/* The same as a session's transcript callback: ctx is a struct transcript. */
void transcript_forward(void *ctx, char direction, const char *text, size_t len);

#endif
