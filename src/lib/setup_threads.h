/* setup_threads.h: the threads of discovery runs that may outlive the run (a cancelled run leaves
 * its lookups and probes to end by their deadline), counted so a program can let them end first. */
#ifndef OUTBOX_SETUP_THREADS_H
#define OUTBOX_SETUP_THREADS_H

/* Before starting such a thread (its creator calls it); as the thread's last act (which frees
 * the thread's OpenSSL state); and by the creator instead when the thread could not be started. */
void setup_threads_enter(void);
void setup_threads_leave(void);
void setup_threads_not_started(void);

#endif
