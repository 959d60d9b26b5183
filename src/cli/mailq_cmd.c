/* mailq_cmd.c: the outbox listed in the layout of Postfix's mailq, for `sendmail -bp` and for the
 * program run as mailq: scripts and monitoring checks that read a mail queue read this one too. */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "cli.h"

/* The columns of the listing's heading; the rows below keep to them. */
#define MAILQ_HEADING "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------"
/* Recipients stand under the sender column. */
#define MAILQ_RCPT_INDENT 41

static const char mailq_help[] =
	"Usage: mailq [-v]   (or: sendmail -bp)\n"
	"\n"
	"List the outbox in the layout of Postfix's mailq: for each message its ID (followed by !\n"
	"when it was given up on and waits for 'outbox queue retry'), size, arrival time and sender,\n"
	"then the recipients still to be sent to, each reason in parentheses above those it holds\n"
	"back. The last line counts the messages, or says \"Mail queue is empty\". 'outbox queue\n"
	"list' and 'outbox queue show ID' tell more. -v is accepted, as Postfix's mailq takes it,\n"
	"and changes nothing.\n";

static void mailq_print(const outbox_queue_message *m)
{
	char idtext[32], arrival[32];
	const char *shown = NULL;
	time_t t = (time_t)m->created_at;
	struct tm tm;
	size_t i;

	/* "!" as Postfix marks a message on hold: it is not retried until someone acts. */
	snprintf(idtext, sizeof idtext, "%lld%s", m->id, strcmp(m->state, "failed") == 0 ? "!" : "");
	localtime_r(&t, &tm);
	strftime(arrival, sizeof arrival, "%a %b %e %H:%M:%S", &tm);
	printf("%-11s %8lld %-20s %s\n", idtext, m->size, arrival, *m->sender ? m->sender : "MAILER-DAEMON");
	/* Each reason once, above the recipients it holds back (one server reply may differ from
	 * another's); the message's last reply for recipients that have none of their own. */
	for (i = 0; i < m->nrecipients; i++) {
		const char *why = *m->recipients[i].reply ? m->recipients[i].reply : m->last_reply;
		if (strcmp(m->recipients[i].state, "pending") != 0)
			continue;
		if (*why && (shown == NULL || strcmp(why, shown) != 0))
			printf("(%s)\n", why);
		shown = why;
		printf("%*s%s\n", MAILQ_RCPT_INDENT, "", m->recipients[i].address);
	}
	putchar('\n');
}

int cmd_mailq(int argc, char **argv)
{
	outbox *h = NULL;
	outbox_queue_view *v = NULL;
	long long bytes = 0;
	size_t k, n;
	int rc;

	if (cli_wants_help(argc, argv)) {
		fputs(mailq_help, stdout);
		return 0;
	}
	/* -v asks Postfix's mailq for more detail; this listing already gives every reason. */
	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		argc--;
		argv++;
	}
	if (argc > 1)
		return cli_usage("mailq", "unexpected argument \"%s\"", argv[1]);
	if ((rc = cli_open_to_read(&h)) != 0)
		return rc;
	if ((rc = outbox_queue_list(h, 0, &v)) < 0) {
		rc = cli_fail(h, rc);
		outbox_close(h);
		return rc;
	}
	n = outbox_queue_view_count(v);
	if (n == 0) {
		puts("Mail queue is empty");
	} else {
		puts(MAILQ_HEADING);
		for (k = 0; k < n; k++) {
			const outbox_queue_message *m = outbox_queue_view_at(v, k);
			mailq_print(m);
			bytes += m->size;
		}
		printf("-- %lld Kbytes in %zu Request%s.\n", (bytes + 1023) / 1024, n, n == 1 ? "" : "s");
	}
	outbox_queue_view_free(v);
	outbox_close(h);
	return fflush(stdout) == 0 ? 0 : EX_IOERR;
}
