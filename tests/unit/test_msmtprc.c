/* test_msmtprc.c: msmtp's configuration read as msmtp reads it (quoting, defaults, inheritance,
 * refusals by line), its aliases file, and the import's all-or-nothing write into a real store. */
#include "unit.h"
#include "handle_internal.h"
#include "msmtprc.h"

static const char *value_of(const struct msmtprc *rc, const char *account, enum msmtprc_key key)
{
	const struct msmtprc_account *a = msmtprc_find(rc, account);

	return a && a->set[key].value ? a->set[key].value : "(unset)";
}

static void parse_ok(const char *text, struct msmtprc *rc)
{
	char err[300];
	int got = msmtprc_parse(text, strlen(text), rc, err, sizeof err);

	if (got != 0)
		fail_msg("parse: got %d (%s), want 0, for:\n%s", got, err, text);
}

/* msmtp trims the argument and takes off one pair of quotes around all of it, nothing else;
 * `msmtp --pretend` shows these same values. */
static void test_arguments_as_msmtp_reads_them(void **state)
{
	static const struct {
		const char *line, *want;
	} cases[] = {
		{"host smtp.example.org", "smtp.example.org"},
		{"host   spaced.example.org   \t", "spaced.example.org"},
		{"user \"two words\"", "two words"},
		{"user \"a \\\"b\\\" \\\\c\"", "a \\\"b\\\" \\\\c"},
		{"user h\"a b\"c", "h\"a b\"c"},
		{"user \"quoted\" tail", "\"quoted\" tail"},
		{"user \"", "\""},
		{"user", ""},
		{"user \"\"", ""},
		{"user crlf\r", "crlf"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[200];
		struct msmtprc rc;

		snprintf(text, sizeof text, "# comment\n  # indented comment\n\naccount a\n%s\n", cases[i].line);
		parse_ok(text, &rc);
		if (strcmp(cases[i].line, "user") == 0 || strncmp(cases[i].line, "host", 4) != 0)
			EXPECT_STR(value_of(&rc, "a", MSMTPRC_USER), cases[i].want, cases[i].line);
		else
			EXPECT_STR(value_of(&rc, "a", MSMTPRC_HOST), cases[i].want, cases[i].line);
		msmtprc_free(&rc);
	}
}

static void test_defaults_and_inheritance(void **state)
{
	struct msmtprc rc;
	const struct msmtprc_account *d;

	(void)state;
	parse_ok("defaults\n"
		 "auth on\n"
		 "tls on\n"
		 "account work\n"
		 "host smtp.work.example\n"
		 "user me\n"
		 "defaults\n"
		 "port 2525\n"
		 "account home : work\n"
		 "host mail.home.example\n"
		 "account plain\n"
		 "host plain.example\n"
		 "account default : home\n",
		 &rc);
	EXPECT_INT(rc.naccounts, 4, "accounts");
	EXPECT_STR(value_of(&rc, "work", MSMTPRC_AUTH), "on", "work's auth, from the defaults");
	EXPECT_STR(value_of(&rc, "work", MSMTPRC_PORT), "(unset)", "work's port: a later defaults line is not its");
	EXPECT_STR(value_of(&rc, "home", MSMTPRC_USER), "me", "home's user, inherited from work");
	EXPECT_STR(value_of(&rc, "home", MSMTPRC_HOST), "mail.home.example", "home's own host over work's");
	EXPECT_STR(value_of(&rc, "home", MSMTPRC_PORT), "2525", "home's port, from the later defaults");
	EXPECT_STR(value_of(&rc, "plain", MSMTPRC_USER), "(unset)", "plain's user: nothing inherited");
	EXPECT_INT(msmtprc_find(&rc, "home")->set[MSMTPRC_USER].line, 6, "the line home's user comes from");
	d = msmtprc_find(&rc, "default");
	EXPECT_STR(d->parent, "home", "default's parent");
	EXPECT_INT(d->own_lines, 0, "default's own settings");
	EXPECT_STR(value_of(&rc, "default", MSMTPRC_HOST), "mail.home.example", "default's host");
	msmtprc_free(&rc);
}

/* What msmtp itself refuses is refused by line; nothing is kept. */
static void test_refusals_name_the_line(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"host x\n", "line 1: host comes before any account or defaults line"},
		{"account a\nhost x\naccount b : c\n", "line 3: account b inherits from \"c\", which is not defined above it"},
		{"account a\naccount a\n", "line 2: account a is defined twice"},
		{"account\n", "line 1: account needs a name"},
		{"account a\nhost x\x01y\n", "line 2: control byte 0x01 in the line"},
		{"account a\nhost x\0y\n", "line 2: control byte 0x00 in the line"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct msmtprc rc;
		char err[300];
		size_t len = strlen(cases[i].text);

		if (strstr(cases[i].want, "0x00"))
			len = sizeof "account a\nhost x\0y\n" - 1;
		EXPECT_INT(msmtprc_parse(cases[i].text, len, &rc, err, sizeof err), -1, cases[i].want);
		EXPECT_STR(err, cases[i].want, "the refusal");
		EXPECT_INT(rc.naccounts, 0, "accounts kept after a refusal");
	}
}

static void test_long_line_refused(void **state)
{
	size_t len = MSMTPRC_MAX_LINE + 20;
	char *text = malloc(len + 1);
	struct msmtprc rc;
	char err[300];

	(void)state;
	assert_non_null(text);
	memcpy(text, "account a\nhost ", 15);
	memset(text + 15, 'x', len - 15);
	text[len] = '\0';
	EXPECT_INT(msmtprc_parse(text, len, &rc, err, sizeof err), -1, "an overlong line");
	EXPECT_CONTAINS(err, "line 2: the line is over", "the refusal");
	free(text);
}

/* Commands outbox has no place for are noted once, by line; "off" or empty asks for nothing. */
static void test_notes_for_other_commands(void **state)
{
	struct msmtprc rc;

	(void)state;
	parse_ok("defaults\nlogfile ~/.msmtp.log\nsyslog off\nlogfile\naccount a\nhost h\nprotocol smtp\n"
		 "proxy_host 127.0.0.1\nsomething_new yes\neval echo host x\n",
		 &rc);
	EXPECT_INT(rc.nnotes, 4, "notes");
	EXPECT_INT(rc.notes[0].line, 2, "first note's line");
	EXPECT_STR(rc.notes[0].key, "logfile", "first note's key");
	EXPECT_STR(rc.notes[1].key, "proxy_host", "second note's key");
	EXPECT_STR(rc.notes[2].why, "not an msmtp command outbox knows", "an unknown command");
	EXPECT_STR(rc.notes[3].key, "eval", "eval is never run");
	msmtprc_free(&rc);
}

struct seen {
	char text[512];
};

static int collect(void *ctx, int line, const char *name, const char *addresses)
{
	struct seen *s = ctx;
	size_t n = strlen(s->text);

	snprintf(s->text + n, sizeof s->text - n, "%d %s=%s|", line, name, addresses);
	return 0;
}

static void test_aliases_file(void **state)
{
	static const char text[] = "# aliases\nroot: admin@example.org\n\n"
				   "team:a@example.org,b@example.org  , c@example.org # the team\n"
				   "default: catchall@example.org\n";
	struct seen s = {""};
	char err[300];

	(void)state;
	EXPECT_INT(msmtprc_aliases_parse(text, strlen(text), collect, &s, err, sizeof err), 0, "aliases parse");
	EXPECT_STR(s.text,
		   "2 root=admin@example.org|4 team=a@example.org, b@example.org, c@example.org|"
		   "5 default=catchall@example.org|",
		   "aliases read");
	EXPECT_INT(msmtprc_aliases_parse("root admin@x\n", 13, collect, &s, err, sizeof err), -1, "no colon");
	EXPECT_STR(err, "line 1: no colon after the local name", "the refusal");
	EXPECT_INT(msmtprc_aliases_parse("root:\n", 6, collect, &s, err, sizeof err), -1, "no address");
	EXPECT_STR(err, "line 1: alias root has no address", "the refusal");
}

static int setup(void **state)
{
	return unit_store_setup_with_secret_files(state, "msmtprc");
}

static int teardown(void **state)
{
	return unit_store_close(*state);
}

static void write_file(const char *dir, const char *name, const char *text, char *path, size_t size)
{
	FILE *f;

	snprintf(path, size, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static size_t count_servers(outbox *h)
{
	outbox_server **list = NULL;
	size_t n = 0;

	assert_int_equal(outbox_server_list(h, &list, &n), 0);
	outbox_server_list_free(list, n);
	return n;
}

static size_t count_aliases(outbox *h)
{
	outbox_alias **list = NULL;
	size_t n = 0;

	assert_int_equal(outbox_alias_list(h, &list, &n), 0);
	outbox_alias_list_free(list, n);
	return n;
}

/* A failure when the aliases are written, after the servers and their password (here the store
 * refusing the alias row, as a full disk would): the whole import is rolled back, and the password
 * stored for it deleted again. */
static void test_import_is_all_or_nothing(void **state)
{
	struct unit_store *f = *state;
	outbox_msmtp_report *r = NULL;
	char rc_path[256], alias_path[256], config[1024], cmd[300];
	int rc;

	write_file(f->home, "aliases", "root: admin@a.example.org\n", alias_path, sizeof alias_path);
	snprintf(config, sizeof config,
		 "defaults\nauth on\ntls on\naliases %s\n"
		 "account a\nhost a.example.org\nfrom me@a.example.org\nuser me\npassword made-up-%d\n"
		 "account b\nhost b.example.org\nfrom me@b.example.org\n",
		 alias_path, (int)getpid());
	write_file(f->home, "msmtprc", config, rc_path, sizeof rc_path);

	rc = outbox_msmtp_import(f->h, rc_path, OUTBOX_IMPORT_DRY_RUN, &r);
	EXPECT_INT(rc, 0, "the dry run");
	EXPECT_INT(r->naccounts, 2, "accounts reported");
	EXPECT_INT(r->accounts[0].server_outcome, OUTBOX_IMPORT_ADDED, "a's server in the dry run");
	outbox_msmtp_report_free(r);
	EXPECT_INT(count_servers(f->h), 0, "servers after the dry run");

	assert_int_equal(sqlite3_exec(f->h->db,
				      "CREATE TEMP TRIGGER refuse_alias BEFORE INSERT ON aliases"
				      " BEGIN SELECT RAISE(ABORT, 'the disk is full'); END;",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	rc = outbox_msmtp_import(f->h, rc_path, 0, &r);
	EXPECT_INT(rc, OUTBOX_ESTORE, "the import");
	assert_null(r);
	assert_int_equal(sqlite3_exec(f->h->db, "DROP TRIGGER temp.refuse_alias", NULL, NULL, NULL), SQLITE_OK);
	EXPECT_INT(count_servers(f->h), 0, "servers after the failed import");
	EXPECT_INT(count_aliases(f->h), 0, "aliases after the failed import");
	/* The password's file went with the rollback: no secret file is left in the store. */
	snprintf(cmd, sizeof cmd, "test -z \"$(find '%s/secrets' -type f 2>/dev/null)\"", f->home);
	EXPECT_INT(system(cmd), 0, "secret files left after the failed import");
}

/* Importing the same file again changes nothing and says so. */
static void test_import_twice_is_unchanged(void **state)
{
	struct unit_store *f = *state;
	outbox_msmtp_report *r = NULL;
	char rc_path[256];

	write_file(f->home, "msmtprc",
		   "account a\nhost a.example.org\nport 587\ntls on\nauth on\nuser me\nfrom me@a.example.org\n"
		   "account default : a\n",
		   rc_path, sizeof rc_path);
	assert_int_equal(outbox_msmtp_import(f->h, rc_path, 0, &r), 0);
	EXPECT_INT(r->accounts[0].server_outcome, OUTBOX_IMPORT_ADDED, "first import: server");
	EXPECT_INT(r->accounts[0].account_outcome, OUTBOX_IMPORT_ADDED, "first import: account");
	EXPECT_INT(r->accounts[1].server_outcome, OUTBOX_IMPORT_SKIPPED, "`account default : a` is no server");
	outbox_msmtp_report_free(r);
	assert_int_equal(outbox_msmtp_import(f->h, rc_path, 0, &r), 0);
	EXPECT_INT(r->accounts[0].server_outcome, OUTBOX_IMPORT_UNCHANGED, "second import: server");
	EXPECT_INT(r->accounts[0].account_outcome, OUTBOX_IMPORT_UNCHANGED, "second import: account");
	outbox_msmtp_report_free(r);
	EXPECT_INT(count_servers(f->h), 1, "servers");
}

/* Two msmtp accounts sending through the same host, port and user share one server, each with
 * its own account; msmtp's port default (25 without TLS) is written out, not outbox's 587. */
static void test_same_login_shares_a_server(void **state)
{
	struct unit_store *f = *state;
	outbox_msmtp_report *r = NULL;
	outbox_server *s = NULL;
	char rc_path[256];

	write_file(f->home, "msmtprc",
		   "defaults\nhost relay.example.org\n"
		   "account one\nfrom one@example.org\n"
		   "account two\nfrom two@example.org\n",
		   rc_path, sizeof rc_path);
	assert_int_equal(outbox_msmtp_import(f->h, rc_path, 0, &r), 0);
	EXPECT_STR(r->accounts[1].server, "one", "two's server");
	EXPECT_INT(r->accounts[1].server_outcome, OUTBOX_IMPORT_UNCHANGED, "two's server outcome");
	EXPECT_STR(r->accounts[1].detail, "the same host, port and user as msmtp account one: its server",
		   "two's detail");
	EXPECT_INT(r->accounts[1].account_outcome, OUTBOX_IMPORT_ADDED, "two's account");
	outbox_msmtp_report_free(r);
	EXPECT_INT(count_servers(f->h), 1, "servers");
	assert_int_equal(outbox_server_load(f->h, "one", &s), 0);
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_PORT), "25", "the port msmtp would use");
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_SECURITY), "none", "tls off, msmtp's default");
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_AUTH), "none", "auth off, msmtp's default");
	outbox_server_free(s);
}

/* Each msmtp setting as the server it becomes: one table, one import per row. `note` is the key
 * of the one line reported as not imported, or "". */
static void test_settings_become_server_fields(void **state)
{
	static const struct {
		const char *lines;
		outbox_server_field_id field;
		const char *want, *note;
	} cases[] = {
		{"tls on\n", OUTBOX_SERVER_SECURITY, "starttls", ""},
		{"tls on\n", OUTBOX_SERVER_PORT, "25", ""},
		{"tls on\ntls_starttls off\n", OUTBOX_SERVER_SECURITY, "tls", ""},
		{"tls on\ntls_starttls off\n", OUTBOX_SERVER_PORT, "465", ""},
		{"tls\nport 587\n", OUTBOX_SERVER_PORT, "587", ""},
		{"auth\n", OUTBOX_SERVER_AUTH, "auto", ""},
		{"tls on\nauth LOGIN\nuser u\n", OUTBOX_SERVER_AUTH, "login", ""},
		{"auth gssapi\n", OUTBOX_SERVER_AUTH, "auto", "auth"},
		{"auth on\nuser someone\n", OUTBOX_SERVER_USER, "someone", ""},
		{"auth off\nuser someone\n", OUTBOX_SERVER_USER, "", ""},
		{"auth on\npasswordeval \"pass show mail\"\n", OUTBOX_SERVER_PASSWORD_COMMAND, "pass show mail", ""},
		{"tls on\ntls_certcheck off\n", OUTBOX_SERVER_TLS_VERIFY, "false", ""},
		{"tls on\ntls_trust_file system\n", OUTBOX_SERVER_TLS_CA, "", ""},
		{"tls on\ntls_fingerprint 01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:"
		 "1C:1D:1E:1F:20\n",
		 OUTBOX_SERVER_TLS_PIN, "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20", ""},
		{"tls on\ntls_fingerprint 01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10\n", OUTBOX_SERVER_TLS_PIN, "",
		 "tls_fingerprint"},
		{"tls_fingerprint 01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14:15:16:17:18:19:1A:1B:1C:"
		 "1D:1E:1F:20\n",
		 OUTBOX_SERVER_TLS_PIN, "", "tls_fingerprint"},
		{"timeout off\n", OUTBOX_SERVER_TIMEOUT, "60", ""},
		{"timeout 15\n", OUTBOX_SERVER_TIMEOUT, "15", ""},
		{"domain mail.example.org\n", OUTBOX_SERVER_HELO, "mail.example.org", ""},
		{"domain %H\n", OUTBOX_SERVER_HELO, "", "domain"},
	};
	struct unit_store *f = *state;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		outbox_msmtp_report *r = NULL;
		outbox_server *s = NULL;
		char text[512], path[256], what[600];
		int rc;

		snprintf(text, sizeof text, "account a\nhost a.example.org\n%s", cases[i].lines);
		write_file(f->home, "msmtprc", text, path, sizeof path);
		snprintf(what, sizeof what, "%s-> %s", cases[i].lines, outbox_server_field_info(cases[i].field)->key);
		for (char *nl = strchr(what, '\n'); nl; nl = strchr(nl, '\n'))
			*nl = ' ';
		rc = outbox_msmtp_import(f->h, path, 0, &r);
		if (rc != 0)
			fail_msg("%s: import got %d (%s), want 0", what, rc, outbox_errmsg(f->h));
		EXPECT_STR(r->nnotes ? r->notes[0].key : "", cases[i].note, what);
		outbox_msmtp_report_free(r);
		assert_int_equal(outbox_server_load(f->h, "a", &s), 0);
		EXPECT_STR(outbox_server_get(s, cases[i].field), cases[i].want, what);
		outbox_server_free(s);
		assert_int_equal(outbox_server_remove(f->h, "a", NULL, OUTBOX_REMOVE_PURGE), 0);
	}
}

/* What no single value shows is refused naming the account, in a dry run too. */
static void test_whole_server_refusal_names_the_account(void **state)
{
	struct unit_store *f = *state;
	outbox_msmtp_report *r = NULL;
	char path[256];

	write_file(f->home, "msmtprc", "# plain\naccount lan\nhost relay.lan\nauth plain\nuser u\n", path, sizeof path);
	EXPECT_INT(outbox_msmtp_import(f->h, path, OUTBOX_IMPORT_DRY_RUN, &r), OUTBOX_EINVALID, "the dry run");
	assert_null(r);
	EXPECT_CONTAINS(outbox_errmsg(f->h), "auth: ", "the field");
	EXPECT_CONTAINS(outbox_errmsg(f->h), "msmtprc line 2 (account lan): plain would send the password in clear",
			"the refusal");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arguments_as_msmtp_reads_them),
		cmocka_unit_test(test_defaults_and_inheritance),
		cmocka_unit_test(test_refusals_name_the_line),
		cmocka_unit_test(test_long_line_refused),
		cmocka_unit_test(test_notes_for_other_commands),
		cmocka_unit_test(test_aliases_file),
		cmocka_unit_test_setup_teardown(test_import_is_all_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_import_twice_is_unchanged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_login_shares_a_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settings_become_server_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_whole_server_refusal_names_the_account, setup, teardown),
	};
	return cmocka_run_group_tests_name("msmtprc", tests, NULL, NULL);
}
