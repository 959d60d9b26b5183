/* main.c: the outbox command's entry point: global options, help, and dispatch to the command
 * groups. Only main() decides the process's exit status. */
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"

static const char main_help[] =
	"Usage: outbox COMMAND [ARGS]\n"
	"\n"
	"Send mail through your own outgoing (SMTP) servers.\n"
	"\n"
	"Commands:\n"
	"  setup     find, check and save the outgoing server of an address\n"
	"  server    add, edit, remove, list and show outgoing servers\n"
	"  account   add, edit, remove, list and show accounts; choose each one's server\n"
	"  alias     local names as recipients: where mail to root goes\n"
	"  undo      take back the last removal (server, account, message) or setup\n"
	"  import    import msmtp's configuration (outbox import msmtprc)\n"
	"  export    write the servers and accounts for msmtp (outbox export msmtprc)\n"
	"  send      send a message read from standard input (also: invoked as sendmail)\n"
	"  log       show the history of delivery attempts\n"
	"  queue     the outbox: list, show, run, retry and remove waiting messages\n"
	"  ui        a terminal dialog for servers, accounts and the outbox\n"
	"\n"
	"Options:\n"
	"  -h, --help     show help (also after any command: outbox server add --help)\n"
	"  --version      show the version\n"
	"\n"
	"The store lives in $OUTBOX_HOME, else $XDG_DATA_HOME/outbox (~/.local/share/outbox).\n"
	"See outbox(1) for more.\n";

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;
	int rc;

	/* The character set only: what the terminal and the arguments are written in. Dates, numbers
	 * and messages stay in the C locale's forms (mailq's "%a %b %e" is sendmail's English, and a
	 * decimal comma would break a figure a script reads), and the other twelve categories were
	 * a dozen files opened by every command. */
	setlocale(LC_CTYPE, "");
	/* Before any password is read, from a prompt, a pipe or the store. */
	if ((rc = outbox_process_protect()) < 0)
		fprintf(stderr, "outbox: warning: cannot keep passwords out of core dumps: %s\n", strerror(-rc));
	{
		const char *base = strrchr(argv[0], '/');
		base = base ? base + 1 : argv[0];
		if (strcmp(base, "sendmail") == 0)
			return cmd_send(argc, argv, 1);
		if (strcmp(base, "mailq") == 0)
			return cmd_mailq(argc, argv);
	}
	if (cmd == NULL) {
		fputs(main_help, stderr);
		return EX_USAGE;
	}
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
		fputs(main_help, stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("outbox %s\n", OUTBOX_VERSION);
		return 0;
	}
	if (strcmp(cmd, "setup") == 0)
		return cmd_setup(argc - 1, argv + 1);
	if (strcmp(cmd, "server") == 0 || strcmp(cmd, "servers") == 0)
		return cmd_server(argc - 1, argv + 1);
	if (strcmp(cmd, "account") == 0 || strcmp(cmd, "accounts") == 0)
		return cmd_account(argc - 1, argv + 1);
	if (strcmp(cmd, "alias") == 0 || strcmp(cmd, "aliases") == 0)
		return cmd_alias(argc - 1, argv + 1);
	if (strcmp(cmd, "undo") == 0)
		return cmd_undo(argc - 1, argv + 1);
	if (strcmp(cmd, "import") == 0)
		return cmd_import(argc - 1, argv + 1);
	if (strcmp(cmd, "export") == 0)
		return cmd_export(argc - 1, argv + 1);
	if (strcmp(cmd, "send") == 0)
		return cmd_send(argc - 1, argv + 1, 0);
	if (strcmp(cmd, "log") == 0)
		return cmd_log(argc - 1, argv + 1);
	if (strcmp(cmd, "queue") == 0 || strcmp(cmd, "outbox") == 0)
		return cmd_queue(argc - 1, argv + 1);
	if (strcmp(cmd, "ui") == 0)
		return cmd_ui(argc - 1, argv + 1);
	fprintf(stderr, "outbox: unknown command \"%s\"\nTry: outbox --help\n", cmd);
	return EX_USAGE;
}
