/* queue_cmd.c: `outbox queue list|show|run|retry|remove`: the outbox of messages waiting to be
 * sent, with each recipient's state and every attempt's reply. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"

static const char queue_help[] =
	"Usage: outbox queue COMMAND [ARGS]\n"
	"\n"
	"The outbox: messages that could not be sent yet, tried again on a schedule (1 minute,\n"
	"doubling to 1 hour, given up after 5 days and kept as failed).\n"
	"\n"
	"Commands:\n"
	"  list [--failed] [--json]     queued (or only failed) messages\n"
	"  show ID [--json]             one message: recipients and every attempt's reply\n"
	"  run [--all] [--id ID] [--server NAME] [--connections N] [-v] [--watch]\n"
	"                               send what is due now, one connection per server and up\n"
	"                               to N (4) servers at once; with --all send every queued\n"
	"                               message now, whatever its next attempt (failed ones stay\n"
	"                               failed: see retry); with --id only message ID, now; with\n"
	"                               --watch stay up and send each message as it falls due\n"
	"  retry ID|--all               make a message (or all) due now; failed ones are queued again\n"
	"  remove ID [--purge]          remove a message ('outbox undo' brings it back; with\n"
	"                               --purge it goes for good, its file too)\n";

static const char *queue_when(long long t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0)
		return "-";
	localtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

static void queue_json(struct json *j, const outbox_queue_message *m)
{
	size_t i;

	json_begin_object(j);
	json_member_int(j, "id", m->id);
	json_member_string(j, "state", m->state);
	json_key(j, "may_have_been_delivered");
	json_raw(j, m->uncertain ? "true" : "false");
	json_member_string(j, "account", m->account);
	json_member_string(j, "server", m->server);
	json_member_string(j, "sender", m->sender);
	json_member_string(j, "message_id", m->message_id);
	json_member_int(j, "size", m->size);
	json_member_int(j, "attempts", m->attempts);
	json_member_int(j, "next_attempt", m->next_attempt_at);
	json_member_string(j, "last_reply", m->last_reply);
	json_member_string(j, "quarantine", m->quarantine);
	json_key(j, "recipients");
	json_begin_array(j);
	for (i = 0; i < m->nrecipients; i++) {
		json_begin_object(j);
		json_member_string(j, "address", m->recipients[i].address);
		json_member_string(j, "state", m->recipients[i].state);
		json_member_string(j, "reply", m->recipients[i].reply);
		json_end_object(j);
	}
	json_end_array(j);
	if (m->log) {
		json_key(j, "log");
		json_begin_array(j);
		for (i = 0; i < m->nlog; i++) {
			json_begin_object(j);
			json_member_int(j, "time", m->log[i].at);
			json_member_string(j, "server", m->log[i].server);
			json_member_string(j, "outcome", m->log[i].outcome);
			json_member_string(j, "reply", m->log[i].reply);
			json_end_object(j);
		}
		json_end_array(j);
	}
	json_end_object(j);
}

/* The reply a list row shows: the row lists the recipients still pending, so the server's last
 * answer about the first of them with one (its 451, say) explains why the message waits; the
 * message's last reply could be the 250 another recipient got. A failed message shows the answer
 * about the first recipient it did not reach. Without one, the attempt's own words. */
static const char *queue_row_reply(const outbox_queue_message *m)
{
	/* A queued message waits for its pending recipients only: one refused for good beside them
	 * does not say why it waits. */
	const char *wanted = strcmp(m->state, "queued") == 0 ? "pending" : NULL;
	size_t i;

	for (i = 0; i < m->nrecipients; i++)
		if (strcmp(m->recipients[i].state, "delivered") != 0 &&
		    (wanted == NULL || strcmp(m->recipients[i].state, wanted) == 0) && *m->recipients[i].reply &&
		    strncmp(m->recipients[i].reply, "2", 1) != 0)
			return m->recipients[i].reply;
	return m->last_reply;
}

static int queue_parse_id(const char *command, const char *arg, long long *id)
{
	char *end;

	*id = arg ? strtoll(arg, &end, 10) : 0;
	if (!arg || *end || *id <= 0)
		return cli_usage(command, "give a message ID (see: outbox queue list)");
	return 0;
}

static int queue_list_or_show(int argc, char **argv, int showing)
{
	outbox *h = NULL;
	outbox_queue_view *v = NULL;
	int json = 0, failed = 0, i, rc;
	long long id = 0;
	const char *idarg = NULL;
	size_t k, n;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (!showing && strcmp(argv[i], "--failed") == 0)
			failed = 1;
		else if (showing && !idarg && argv[i][0] != '-')
			idarg = argv[i];
		else
			return cli_usage(showing ? "queue show" : "queue list", "unexpected argument \"%s\"", argv[i]);
	}
	if (showing && (rc = queue_parse_id("queue show", idarg, &id)) != 0)
		return rc;
	if ((rc = cli_open_to_read(&h)) != 0)
		return rc;
	rc = showing ? outbox_queue_show(h, id, &v) : outbox_queue_list(h, failed, &v);
	if (rc < 0) {
		rc = cli_fail(h, rc);
		outbox_close(h);
		return rc;
	}
	n = outbox_queue_view_count(v);
	if (json) {
		struct json j;
		json_init(&j, stdout);
		if (!showing)
			json_begin_array(&j);
		for (k = 0; k < n; k++)
			queue_json(&j, outbox_queue_view_at(v, k));
		if (!showing)
			json_end_array(&j);
		json_end(&j);
	} else if (showing) {
		const outbox_queue_message *m = outbox_queue_view_at(v, 0);
		char when[32];
		printf("Message %lld: %s%s\n", m->id, m->state,
		       m->uncertain ? " (may have been delivered already: a reply was lost after the data)" : "");
		if (*m->quarantine)
			printf("  Quarantined:  %s\n", m->quarantine);
		printf("  From:         %s (account %s)\n", m->sender, m->account);
		printf("  Message-ID:   <%s>, %lld bytes\n", m->message_id, m->size);
		printf("  Next attempt: %s (%d made)\n", queue_when(m->next_attempt_at, when, sizeof when), m->attempts);
		for (k = 0; k < m->nrecipients; k++)
			printf("  %-9s %s%s%s\n", m->recipients[k].state, m->recipients[k].address,
			       *m->recipients[k].reply ? ": " : "", m->recipients[k].reply);
		for (k = 0; k < m->nlog; k++)
			printf("  attempt %zu at %s via %s: %s: %s\n", k + 1, queue_when(m->log[k].at, when, sizeof when),
			       *m->log[k].server ? m->log[k].server : "-", m->log[k].outcome, m->log[k].reply);
	} else if (n == 0) {
		printf("%s\n", failed ? "No failed messages." : "The outbox is empty.");
	} else {
		struct cli_table t;
		static const char *const head[] = {"ID", "STATE", "NEXT ATTEMPT", "FROM", "TO", "LAST REPLY"};
		cli_table_init(&t, 6);
		cli_table_add(&t, head);
		for (k = 0; k < n; k++) {
			const outbox_queue_message *m = outbox_queue_view_at(v, k);
			char idtext[32], when[32], *to;
			const char **pending = calloc(m->nrecipients + 1, sizeof *pending);
			size_t p = 0, r;
			for (r = 0; pending && r < m->nrecipients; r++)
				if (strcmp(m->recipients[r].state, "pending") == 0)
					pending[p++] = m->recipients[r].address;
			to = cli_join(pending);
			snprintf(idtext, sizeof idtext, "%lld%s", m->id, m->uncertain ? "?" : "");
			const char *row[6] = {idtext, m->state, queue_when(m->next_attempt_at, when, sizeof when), m->sender,
					      to ? to : "", queue_row_reply(m)};
			cli_table_add(&t, row);
			free(to);
			free(pending);
		}
		cli_table_print(&t, stdout);
		cli_table_free(&t);
	}
	outbox_queue_view_free(v);
	outbox_close(h);
	return 0;
}

static struct timespec queue_started;

static void queue_progress(void *ctx, const outbox_queue_stats *s)
{
	struct timespec now;
	double seconds;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &now);
	seconds = (double)(now.tv_sec - queue_started.tv_sec) + (double)(now.tv_nsec - queue_started.tv_nsec) / 1e9;
	fprintf(stderr, "\r  sent %zu, queued again %zu, failed %zu, %.1f messages/s ", s->delivered, s->deferred,
		s->failed, seconds > 0 ? (double)(s->delivered + s->deferred + s->failed) / seconds : 0.0);
}

/* Installed with -v only. */
static void queue_transcript(void *ctx, char direction, const char *line, size_t len)
{
	(void)ctx;
	cli_print_transcript(direction, line, len);
}

/* A server that failed in the run: said loudly, as its messages now take another way or wait. */
static void queue_notice(void *ctx, const char *text)
{
	(void)ctx;
	fprintf(stderr, "%soutbox: warning: %s\n", isatty(STDERR_FILENO) ? "\r" : "", text);
}

static volatile sig_atomic_t queue_stopping;

static void queue_stop(int sig)
{
	(void)sig;
	queue_stopping = 1;
}

static int queue_run_cmd(int argc, char **argv)
{
	outbox_queue_run_options o;
	outbox_queue_stats st;
	outbox *h = NULL;
	int i, rc, verbose = 0, watch = 0;

	memset(&o, 0, sizeof o);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--server") == 0 && i + 1 < argc)
			o.server = argv[++i];
		else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0)
			verbose = 1;
		else if (strcmp(argv[i], "--watch") == 0)
			watch = 1;
		else if (strcmp(argv[i], "--all") == 0)
			o.all = 1;
		else if (strcmp(argv[i], "--id") == 0 && i + 1 < argc) {
			if ((rc = queue_parse_id("queue run", argv[++i], &o.id)) != 0)
				return rc;
		} else if (strcmp(argv[i], "--connections") == 0 && i + 1 < argc) {
			char *end;
			long n = strtol(argv[++i], &end, 10);
			if (*argv[i] == '\0' || *end != '\0' || n < 1 || n > 16)
				return cli_usage("queue run", "connections: \"%s\" is not a number from 1 to 16",
						 argv[i]);
			o.connections = (int)n;
		} else
			return cli_usage("queue run", "unexpected argument \"%s\"", argv[i]);
	}
	/* One message is sent once: a watcher waits for every message, not for that one. */
	if (o.id && watch)
		return cli_usage("queue run", "id: sends one message once, so it does not go with --watch");
	/* Only when it is shown: the library renders every line it hands out, for every message. */
	if (verbose)
		o.transcript = queue_transcript;
	o.notice = queue_notice;
	o.ctx = NULL;
	/* Live progress on a terminal only; quiet for cron and pipes. */
	if (isatty(STDERR_FILENO) && !verbose)
		o.progress = queue_progress;
	if ((rc = cli_open(&h)) != 0)
		return rc;
	if (watch) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = queue_stop; /* no SA_RESTART: the wait must end on a signal */
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
	}
	do {
		clock_gettime(CLOCK_MONOTONIC, &queue_started);
		rc = outbox_queue_run(h, &o, &st);
		if (o.progress)
			fputc('\n', stderr);
		/* What was done is said even when the run then failed. */
		if (isatty(STDOUT_FILENO) || st.delivered + st.deferred + st.failed + st.refused) {
			printf("Sent %zu, queued again %zu, failed %zu; %zu recipient%s refused.\n", st.delivered,
			       st.deferred, st.failed, st.refused, st.refused == 1 ? "" : "s");
			fflush(stdout);
		}
		if (rc < 0) {
			rc = cli_fail(h, rc);
			break;
		}
		/* --all is for the first pass: after it, a watcher keeps to the schedule, or every
		 * wake-up would try again at once the messages that have just failed. */
		o.all = 0;
		/* Wake at the next due time or when send queues something; an hour at most. */
		if (watch && !queue_stopping && (rc = outbox_queue_wait_for(h, o.server, 3600)) < 0) {
			rc = cli_fail(h, rc);
			break;
		}
	} while (watch && !queue_stopping);
	outbox_close(h);
	return rc;
}

static int queue_retry_or_remove(int argc, char **argv, int removing)
{
	const char *command = removing ? "queue remove" : "queue retry";
	outbox *h = NULL;
	long long id = 0;
	int i, rc, all = 0, purge = 0;
	const char *idarg = NULL;

	for (i = 1; i < argc; i++) {
		if (!removing && strcmp(argv[i], "--all") == 0)
			all = 1;
		else if (removing && strcmp(argv[i], "--purge") == 0)
			purge = 1;
		else if (!idarg && argv[i][0] != '-')
			idarg = argv[i];
		else
			return cli_usage(command, "unexpected argument \"%s\"", argv[i]);
	}
	if (!all && (rc = queue_parse_id(command, idarg, &id)) != 0)
		return rc;
	if (all && idarg)
		return cli_usage(command, "give an ID or --all, not both");
	if ((rc = cli_open(&h)) != 0)
		return rc;
	rc = removing ? outbox_queue_remove(h, id, purge) : outbox_queue_retry(h, id);
	if (rc < 0)
		rc = cli_fail(h, rc);
	else if (removing)
		printf("Removed message %lld%s.\n", id, purge ? " for good" : "; 'outbox undo' brings it back");
	else
		printf("%s due now; run 'outbox queue run' to send.\n", all ? "Every message is" : "The message is");
	outbox_close(h);
	return rc;
}

int cmd_queue(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : NULL;

	if (verb == NULL || strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0 || strcmp(verb, "help") == 0) {
		fputs(queue_help, verb ? stdout : stderr);
		return verb ? 0 : EX_USAGE;
	}
	if (cli_wants_help(argc - 1, argv + 1)) {
		fputs(queue_help, stdout);
		return 0;
	}
	if (strcmp(verb, "list") == 0 || strcmp(verb, "ls") == 0)
		return queue_list_or_show(argc - 1, argv + 1, 0);
	if (strcmp(verb, "show") == 0)
		return queue_list_or_show(argc - 1, argv + 1, 1);
	if (strcmp(verb, "run") == 0)
		return queue_run_cmd(argc - 1, argv + 1);
	if (strcmp(verb, "retry") == 0)
		return queue_retry_or_remove(argc - 1, argv + 1, 0);
	if (strcmp(verb, "remove") == 0 || strcmp(verb, "rm") == 0)
		return queue_retry_or_remove(argc - 1, argv + 1, 1);
	return cli_usage("queue", "unknown command \"%s\"", verb);
}
