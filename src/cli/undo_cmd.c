/* undo_cmd.c: `outbox undo`: restore the last removed server, account or queued message; a server
 * comes back with the accounts that were moved away from it. */
#include <string.h>
#include <sysexits.h>

#include "cli.h"

int cmd_undo(int argc, char **argv)
{
	outbox *h = NULL;
	char what[512];
	int rc;

	if (cli_wants_help(argc, argv)) {
		printf("Usage: outbox undo\n\nRestore the last server, account or queued message removed without\n"
		       "--purge; a server comes back with the accounts that were moved off it, a message\n"
		       "in the state it had. Run it again to restore the removal before that.\n");
		return 0;
	}
	if (argc > 1)
		return cli_usage("undo", "undo takes no arguments");
	if ((rc = cli_open(&h)) != 0)
		return rc;
	rc = outbox_undo(h, what, sizeof what);
	if (rc == OUTBOX_ENOTHING)
		fprintf(stderr, "outbox: nothing to undo: no server, account or queued message was removed "
				"(or all removals were undone already)\n"), rc = EX_DATAERR;
	else if (rc < 0)
		rc = cli_fail(h, rc);
	else
		printf("Restored %s.\n", what);
	outbox_close(h);
	return rc;
}
