/* log_cmd.c: `outbox log`: the history of delivery attempts, newest first, as a table or JSON. */
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "cli.h"
#include "json.h"

/* A row names this many recipients and counts the rest ("+497 more"): a message to hundreds
 * would otherwise make one row, and so the whole table, thousands of characters wide. */
#define LOG_ROW_RECIPIENTS 3

/* The first LOG_ROW_RECIPIENTS of the comma-separated list, then "+N more"; --json keeps all. */
static void log_recipients_short(const char *list, char *out, size_t size)
{
	const char *p = list;
	size_t shown = 0, rest = 0, len = 0;

	while (*p) {
		size_t one = strcspn(p, ",");
		if (shown < LOG_ROW_RECIPIENTS) {
			shown++;
			len = (size_t)(p - list) + one;
		} else {
			rest++;
		}
		p += one + (p[one] == ',');
	}
	if (rest)
		snprintf(out, size, "%.*s +%zu more", (int)len, list, rest);
	else
		snprintf(out, size, "%s", list);
}

static int log_usage(void)
{
	printf("Usage: outbox log [--json] [-n COUNT]\n\nShow delivery attempts, newest first: time, account, "
	       "server, recipients\n(the first 3, then \"+N more\"; --json lists them all), outcome and the "
	       "server's reply.\n-n limits the count (default 20; 0 for all).\n");
	return 0;
}

int cmd_log(int argc, char **argv)
{
	outbox *h = NULL;
	outbox_history *l = NULL;
	long limit = 20;
	int json = 0, i, rc;
	size_t k, n;

	if (cli_wants_help(argc, argv))
		return log_usage();
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
			char *end;
			limit = strtol(argv[++i], &end, 10);
			if (*end || limit < 0)
				return cli_usage("log", "-n needs a count, got \"%s\"", argv[i]);
		} else {
			return cli_usage("log", "unexpected argument \"%s\"", argv[i]);
		}
	}
	if ((rc = cli_open_to_read(&h)) != 0)
		return rc;
	if ((rc = outbox_history_list(h, (size_t)limit, &l)) < 0) {
		rc = cli_fail(h, rc);
		outbox_close(h);
		return rc;
	}
	n = outbox_history_count(l);
	if (json) {
		struct json j;
		json_init(&j, stdout);
		json_begin_array(&j);
		for (k = 0; k < n; k++) {
			const outbox_history_entry *e = outbox_history_at(l, k);
			json_begin_object(&j);
			json_member_int(&j, "time", e->time);
			json_member_string(&j, "account", e->account);
			json_member_string(&j, "server", e->server);
			json_member_string(&j, "sender", e->sender);
			json_key(&j, "recipients");
			json_begin_array(&j);
			for (const char *p = e->recipients; *p;) {
				size_t len = strcspn(p, ",");
				char one[400];
				snprintf(one, sizeof one, "%.*s", (int)len, p);
				json_string(&j, one);
				p += len + (p[len] == ',');
			}
			json_end_array(&j);
			json_member_string(&j, "outcome", e->outcome);
			json_member_string(&j, "reply", e->reply);
			json_member_int(&j, "size", e->size);
			json_member_string(&j, "message_id", e->message_id);
			json_end_object(&j);
		}
		json_end_array(&j);
		json_end(&j);
	} else if (n == 0) {
		printf("Nothing sent yet.\n");
	} else {
		struct cli_table t;
		static const char *const head[] = {"TIME", "OUTCOME", "ACCOUNT", "SERVER", "RECIPIENTS", "REPLY"};
		cli_table_init(&t, 6);
		cli_table_add(&t, head);
		for (k = 0; k < n; k++) {
			const outbox_history_entry *e = outbox_history_at(l, k);
			char when[32], to[1200];
			time_t tt = (time_t)e->time;
			struct tm tm;
			localtime_r(&tt, &tm);
			strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
			log_recipients_short(e->recipients, to, sizeof to);
			const char *row[6] = {when, e->outcome, e->account, e->server, to, e->reply};
			cli_table_add(&t, row);
		}
		cli_table_print(&t, stdout);
		cli_table_free(&t);
	}
	outbox_history_free(l);
	outbox_close(h);
	return 0;
}
