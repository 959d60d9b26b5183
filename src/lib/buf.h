/* buf.h: the one growable string type, with a size cap, used instead of fixed arrays and strcat.
 * A failed append leaves the buffer as it was and returns -1; the contents stay NUL-terminated. */
#ifndef OUTBOX_BUF_H
#define OUTBOX_BUF_H

#include <stddef.h>

struct buf {
	char *data; /* NUL-terminated once anything was appended; NULL before */
	size_t len;
	size_t cap;
	size_t max; /* largest len allowed; 0 means no cap */
};

#define BUF_INIT {NULL, 0, 0, 0}

void buf_init(struct buf *b, size_t max);
int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b);
/* Zero the bytes before freeing: buffers that held a secret go through here too. */
void buf_free(struct buf *b);
/* Hand the contents to the caller (never NULL: "" when empty) and leave the buffer empty. */
char *buf_detach(struct buf *b);

#endif
