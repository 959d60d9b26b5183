/* outbox/process.h: what a program that holds passwords does to its own process, once, first
 * thing in main(); the outbox command and its terminal UI both do it. */
#ifndef OUTBOX_PROCESS_H
#define OUTBOX_PROCESS_H

#ifdef __cplusplus
extern "C" {
#endif

/* Keep this process's memory, where passwords pass, to itself for the rest of its life: no core
 * file (RLIMIT_CORE 0, and not dumpable, which covers crash handlers that ignore the limit), and
 * no reading of its memory, environment or descriptors through ptrace or /proc by other
 * processes of the same user; root still can. Not done by the library on its own, since it
 * changes the whole process: a program linking liboutbox decides. Returns 0, or -errno when the
 * system refused, and the caller should say so. */
int outbox_process_protect(void);

#ifdef __cplusplus
}
#endif
#endif
