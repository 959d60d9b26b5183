/* spool.h: message files on disk, written durably for the outbox: a file is either absent or
 * complete, whatever moment a crash comes at. */
#ifndef OUTBOX_SPOOL_H
#define OUTBOX_SPOOL_H

#include "outbox/error.h"

struct spool {
	int dir_fd; /* $OUTBOX_HOME/spool */
};

struct spool_writer {
	int fd;        /* write the message here, then spool_commit; reading works after either */
	int committed;
};

/* Open (creating it 0700) the spool directory. */
int spool_open_dir(outbox *h, struct spool *sp);
void spool_close_dir(struct spool *sp);
/* An unnamed file in the spool directory (O_TMPFILE): if the process dies before
 * spool_commit, nothing is left behind. */
int spool_begin(outbox *h, struct spool *sp, struct spool_writer *w);
/* Make the file durable under a new name (32 hex digits in name): fsync it, link it into the
 * directory, fsync the directory. Only then may a queue row point at it. */
int spool_commit(outbox *h, struct spool *sp, struct spool_writer *w, char name[33]);
/* Close the writer's file (an uncommitted one simply vanishes). */
void spool_writer_close(struct spool_writer *w);
/* Open a committed file for reading; names other than 32 lowercase hex digits are refused. */
int spool_open_message(outbox *h, struct spool *sp, const char *name, int *fd);
/* Remove files older than `min_age` seconds that `keep` (NULL-terminated) does not name: messages
 * whose queue row never got committed because the process died between the two steps. */
int spool_remove_orphans(outbox *h, struct spool *sp, char *const *keep, long long min_age);
/* Remove a committed file and fsync the directory; an absent file is not an error. */
int spool_remove(outbox *h, struct spool *sp, const char *name);

#endif
