/* cli.h: what the command groups of the outbox command share: opening the store, reporting a
 * library error or a usage error with the right sysexits code, and the per-group entry points. */
#ifndef OUTBOX_CLI_H
#define OUTBOX_CLI_H

#include <getopt.h>
#include <stdio.h>
#include "outbox/outbox.h"

/* Open the store named by the environment; on failure print why and return the exit code. */
int cli_open(outbox **h);
/* The same for a command that only reads the store: it works on a read-only store too. */
int cli_open_to_read(outbox **h);
/* Print "outbox: <message>" for the handle's last error and return the sysexits code for rc. */
int cli_fail(outbox *h, int rc);
/* Print "outbox: <what>" and a hint to --help; return EX_USAGE. */
int cli_usage(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True for "-h" and "--help" anywhere before a "--". */
int cli_wants_help(int argc, char **argv);

/* Long options for every field of a record: "--key VALUE" for text, "--key[=BOOL]" and
 * "--no-key" for flags. Option values are the field index, or index + CLI_NEGATE for --no-key.
 * `extra` options are appended; the result ends with a zero entry. */
#define CLI_NEGATE 1000
struct option *cli_field_options(const outbox_field *(*info)(int), int first, int count,
				  const struct option *extra);
/* Print "  --key VALUE   help" lines for fields first..count-1 to `out`. */
void cli_print_field_help(FILE *out, const outbox_field *(*info)(int), int first, int count);

/* Options collected before the store is opened, so usage errors never touch it. */
struct cli_field_arg {
	int field;
	const char *value;
};

/* A table printed with columns padded to their widest cell (display width, not bytes). */
struct cli_table {
	int columns;
	size_t rows;
	char **cells; /* rows * columns copies */
};
void cli_table_init(struct cli_table *t, int columns);
int cli_table_add(struct cli_table *t, const char *const *row);
void cli_table_print(const struct cli_table *t, FILE *out);
void cli_table_free(struct cli_table *t);
/* Join a NULL-terminated list with ", ", into a new string ("" for an empty list). */
char *cli_join(const char *const *items);

/* Read a password: all of stdin without its final line break, or from the terminal without echo. */
int cli_read_password_stdin(char **out);
int cli_read_password_prompt(const char *prompt, char **out);
/* The password --password-stdin (from_stdin) or --password-prompt asks for, *out NULL when neither:
 * 0, or an exit status with the reason printed. */
int cli_read_password(int from_stdin, int from_prompt, const char *prompt, char **out);
void cli_wipe(char *secret);
/* Print a piece of an SMTP conversation on stderr as `send -v` shows it: each line of a reply on
 * its own, marked "C:" (sent) or "S:" (received). */
void cli_print_transcript(char direction, const char *line, size_t len);

struct json;
/* An OAuth sign-in as the JSON object `server show` and `server check` both print (signin_json.c). */
void cli_signin_json(struct json *j, const outbox_signin *in);

int cmd_server(int argc, char **argv);
int cmd_server_check(int argc, char **argv); /* doctor_cmd.c */
int cmd_server_login(int argc, char **argv);  /* login_cmd.c */
int cmd_server_logout(int argc, char **argv); /* login_cmd.c */
int cmd_account(int argc, char **argv);
int cmd_undo(int argc, char **argv);
int cmd_import(int argc, char **argv); /* import_cmd.c: import msmtprc */
int cmd_export(int argc, char **argv); /* export_cmd.c: export msmtprc */
int cmd_alias(int argc, char **argv); /* alias_cmd.c: local names as recipients */
int cmd_setup(int argc, char **argv); /* setup_cmd.c: a server and account from an address */
/* setup_cmd.c: a discovery's progress, text and JSON, shown the same by server edit --auto. */
struct json;
int setup_progress(void *ctx, const char *what);
/* The discovery options both take (--ispdb, --resolver, --tls-ca, --timeout): their getopt_long
 * entries, and the one place that reads them. setup_discovery_option returns 0 when `c` was one
 * of them and was taken into `o`, -1 when it is not one of them, or an exit status. */
enum { SETUP_OPT_ISPDB = 5000, SETUP_OPT_RESOLVER, SETUP_OPT_TLS_CA, SETUP_OPT_TIMEOUT };
#define SETUP_DISCOVERY_LONG_OPTIONS                                                               \
	{"ispdb", required_argument, NULL, SETUP_OPT_ISPDB},                                       \
	{"resolver", required_argument, NULL, SETUP_OPT_RESOLVER},                                 \
	{"tls-ca", required_argument, NULL, SETUP_OPT_TLS_CA},                                     \
	{"timeout", required_argument, NULL, SETUP_OPT_TIMEOUT}
int setup_discovery_option(const char *command, int c, const char *value, outbox_setup_options *o);
void setup_print_text(const outbox_setup_result *r);
void setup_json_result(struct json *j, const outbox_setup_result *r);
int cmd_server_edit_auto(int argc, char **argv); /* server_auto_cmd.c: server edit NAME --auto */
int cmd_send(int argc, char **argv, int as_sendmail);
int cmd_log(int argc, char **argv);
int cmd_queue(int argc, char **argv);
int cmd_mailq(int argc, char **argv); /* mailq_cmd.c: sendmail -bp, or run as mailq */
/* `outbox ui`: runs the outbox-ui program that sits beside this one. */
int cmd_ui(int argc, char **argv);

#endif
