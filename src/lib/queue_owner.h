/* queue_owner.h: who holds a claim: a runner's name and the lock it keeps on a file of its own
 * for its whole life, so that anyone can tell a live runner's claims from a dead one's. */
#ifndef OUTBOX_QUEUE_OWNER_H
#define OUTBOX_QUEUE_OWNER_H

#include "outbox/error.h"

/* Where runners keep their lock files, under $OUTBOX_HOME. */
#define QUEUE_OWNER_DIR "runners"

/* A runner's identity: name is "host:pid:id", what the queue's lease_owner column holds; the
 * runner holds flock(LOCK_EX) on $OUTBOX_HOME/runners/<id> until queue_owner_drop, and the kernel
 * drops that lock when the process dies however it dies. */
struct queue_owner {
	char name[128];
	int dir; /* $OUTBOX_HOME/runners; -1 when nothing is held */
	int fd;  /* the locked file, opened close-on-exec so that no child keeps the lock */
};

enum queue_owner_state {
	QUEUE_OWNER_ALIVE,   /* its lock is held */
	QUEUE_OWNER_DEAD,    /* this kernel released its lock, or its file is gone */
	QUEUE_OWNER_UNKNOWN, /* cannot be told from here (another host or boot, a name without a
			      * lock from an older version, an unusable file): its lease decides */
};

/* Take a new name and its lock. Files of dead runners that no claim names are removed on the
 * way. The lock is in place before the file has its name, so no one ever sees it unlocked. */
int queue_owner_hold(outbox *h, struct queue_owner *o);
/* Remove the file, then let the lock go. Safe on an owner never held or dropped already. */
void queue_owner_drop(struct queue_owner *o);
/* Whether the runner `name` is alive. With `reap`, the file of a dead one is removed. */
enum queue_owner_state queue_owner_check(outbox *h, const char *name, int reap);

#endif
