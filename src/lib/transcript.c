/* transcript.c: renders the protocol transcript at the edge of the library, where it leaves for a
 * front end, so no front end can print a server's bytes as they came. */
#include <string.h>

#include "smtp_reply.h"
#include "transcript.h"
#include "validate.h"

void transcript_show(transcript_fn fn, void *ctx, char direction, const char *text, size_t len)
{
	/* Every byte of a line escaped as \xNN is four, and the parser caps a line. */
	char shown[SMTP_REPLY_MAX_LINE * 4 + 8];

	if (fn == NULL)
		return;
	while (len > 0) {
		const char *nl = memchr(text, '\n', len);
		size_t n = nl ? (size_t)(nl - text) : len, line = n;

		if (line > 0 && text[line - 1] == '\r')
			line--;
		validate_display(shown, sizeof shown, text, line);
		fn(ctx, direction, shown, strlen(shown));
		n += nl ? 1 : 0;
		text += n;
		len -= n;
	}
}

void transcript_forward(void *ctx, char direction, const char *text, size_t len)
{
	const struct transcript *t = ctx;

	transcript_show(t->fn, t->ctx, direction, text, len);
}
