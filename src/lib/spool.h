/* spool.h: message files on disk, written durably for the outbox: a file is either absent or
 * complete, whatever moment a crash comes at; a crashed writer's partial file is removed later. */
#ifndef OUTBOX_SPOOL_H
#define OUTBOX_SPOOL_H

#include <sys/stat.h>
#include <sys/types.h>
#include "outbox/error.h"

struct spool {
	int dir_fd;      /* $OUTBOX_HOME/spool: committed files, named by 32 lowercase hex digits */
	int tmp_fd;      /* $OUTBOX_HOME/spool/tmp, or -1 until a named temporary file needs it */
	int force_named; /* set by tests to take the fallback without O_TMPFILE */
	uid_t owner;     /* who owns the spool directory: every message file must be theirs */
};

/* What a spool entry is, judged before it is read as a message: only SPOOL_OK may be read. */
enum spool_verdict {
	SPOOL_OK,
	SPOOL_SYMLINK,
	SPOOL_FIFO,
	SPOOL_DEVICE,
	SPOOL_SOCKET,
	SPOOL_DIRECTORY,
	SPOOL_LINKED,     /* another name leads to the same file: it may be any file on the disk */
	SPOOL_NOT_OWNED,  /* someone else's file */
	SPOOL_WRONG_SIZE, /* not the size the queue recorded: changed since it was queued */
};

struct spool_writer {
	int fd;            /* write the message here; after spool_commit it reads from byte 0 */
	int named;         /* 1: a locked file tmp_name in spool/tmp; 0: unnamed (O_TMPFILE) */
	int committed;
	int tmp_dir_fd;    /* borrowed from the spool: close the writer before the spool */
	char tmp_name[64];
};

/* Open (creating them 0700) the spool directory, and remove what crashed writers left in
 * spool/tmp; files a live writer holds locked are left alone. */
int spool_open_dir(outbox *h, struct spool *sp);
void spool_close_dir(struct spool *sp);
/* A file to write a message to: unnamed (O_TMPFILE), so a crash before spool_commit leaves
 * nothing; where the file system lacks O_TMPFILE, a file in spool/tmp locked with flock. */
int spool_begin(outbox *h, struct spool *sp, struct spool_writer *w);
/* Make the file durable under a new name (32 hex digits into name): fsync it, name it in the
 * spool, fsync the directory. Only after this returns 0 may a queue row point at it. */
int spool_commit(outbox *h, struct spool *sp, struct spool_writer *w, char name[33]);
/* Close the writer; a file not committed is removed (an unnamed one simply vanishes). */
void spool_writer_close(struct spool_writer *w);
/* The same, said where the caller gives up on a message it did not commit. */
void spool_abort(struct spool_writer *w);
/* The one rule for what may be read as a queued message: a regular file with one link, owned by
 * the spool's owner, of the size the queue recorded. Pure, so every reader and the tests share
 * it; anything else is quarantined by the caller, never read and never waited on. */
enum spool_verdict spool_judge(const struct stat *st, uid_t owner, long long size);
/* Look at a committed file without opening it (lstat): *verdict, with the handle saying in plain
 * words what is wrong when it is not SPOOL_OK (then OUTBOX_EINVALID). An error of the system,
 * a missing file included (OUTBOX_EIO), leaves *verdict SPOOL_OK: nothing was judged. */
int spool_check_message(outbox *h, struct spool *sp, const char *name, long long size, enum spool_verdict *verdict);
/* Open a committed file for reading, judged first by its name (so a device is never opened) and
 * then by what was opened (O_NONBLOCK: a FIFO put there meanwhile cannot make this wait). On
 * OUTBOX_EINVALID *verdict says why it must not be read, as spool_check_message does; names
 * other than 32 lowercase hex digits are refused as well, with *verdict SPOOL_OK. */
int spool_open_message(outbox *h, struct spool *sp, const char *name, long long size, int *fd,
		       enum spool_verdict *verdict);
/* Remove a committed file and fsync the directory; an absent file is not an error. */
int spool_remove(outbox *h, struct spool *sp, const char *name);
/* The names of the committed files, sorted, as a NULL-terminated strv (free with strv_free). */
int spool_list(outbox *h, struct spool *sp, char ***names);
/* Remove entries with message names that `keep` (NULL-terminated) does not name: files older
 * than `min_age` seconds (messages whose queue row never got committed because the process died
 * between the two steps, or quarantined ones), and at once anything that is not a regular file
 * (no writer makes one). Only names are removed: nothing is opened or followed. `spared`, when
 * not NULL, gets the regular files spared for their youth (a strv, NULL when none). */
int spool_remove_orphans(outbox *h, struct spool *sp, char *const *keep, long long min_age, char ***spared);

#endif
