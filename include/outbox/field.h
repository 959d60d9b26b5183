/* outbox/field.h: self-describing fields, so the command line, JSON output and the terminal UI
 * are all driven by one table per record instead of each front end knowing every column. */
#ifndef OUTBOX_FIELD_H
#define OUTBOX_FIELD_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
	OUTBOX_FIELD_TEXT,   /* free text on one line */
	OUTBOX_FIELD_NUMBER, /* a decimal integer */
	OUTBOX_FIELD_BOOL,   /* "true" or "false"; yes/no, on/off and 1/0 are accepted on input */
	OUTBOX_FIELD_CHOICE, /* one of `choices` */
	OUTBOX_FIELD_LIST,   /* comma-separated names */
	OUTBOX_FIELD_PATH,   /* a file that must be readable */
	OUTBOX_FIELD_DURATION /* a time span as text: "90s", "15m", "2h", "5d" */
} outbox_field_kind;

typedef struct {
	const char *key;   /* "tls-ca": the command-line option and the JSON member */
	const char *label; /* "CA File": what a form shows */
	outbox_field_kind kind;
	const char *const *choices; /* NULL-terminated; OUTBOX_FIELD_CHOICE only */
	const char *help;           /* one line for --help and the UI's status bar */
} outbox_field;

#ifdef __cplusplus
}
#endif
#endif
