/* undo_cmd.c: `outbox undo`: take back the latest change in the journal: restore the last removed
 * server, account or queued message (a server comes back with the accounts that were moved away
 * from it), or take back the last `outbox setup`. */
#include <string.h>
#include <sysexits.h>

#include "cli.h"

int cmd_undo(int argc, char **argv)
{
	outbox *h = NULL;
	char what[512];
	int rc;

	if (cli_wants_help(argc, argv)) {
		printf("Usage: outbox undo\n\nTake back the latest change: restore the last server, account or queued\n"
		       "message removed without --purge (a server comes back with the accounts that were\n"
		       "moved off it, a message in the state it had), or take back the last\n"
		       "`outbox setup` (its account and server are removed for good, with the stored\n"
		       "password). Run it again to take back the change before that.\n");
		return 0;
	}
	if (argc > 1)
		return cli_usage("undo", "undo takes no arguments");
	if ((rc = cli_open(&h)) != 0)
		return rc;
	rc = outbox_undo(h, what, sizeof what);
	if (rc == OUTBOX_ENOTHING)
		fprintf(stderr, "outbox: nothing to undo: no server, account or queued message was removed "
				"and no setup saved (or all were undone already)\n"), rc = EX_DATAERR;
	else if (rc < 0)
		rc = cli_fail(h, rc);
	else
		printf("%s.\n", what);
	outbox_close(h);
	return rc;
}
