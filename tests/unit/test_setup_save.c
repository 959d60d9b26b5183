/* tests/unit/test_setup_save.c: what `outbox setup` keeps of a discovery (setup_save.c): the drafts
 * --dry-run prints and the save, on a real store, from discovery results written by hand. */
#include <dirent.h>
#include <sqlite3.h>

#include "unit.h"

#include "handle_internal.h"
#include "setup_result.h"

#define ADDRESS "alice@example.org"

static int setup(void **state)
{
	return unit_store_setup_with_secret_files(state, "setup-save");
}

static int teardown(void **state)
{
	return unit_store_close(*state);
}

/* A discovery that chose one candidate, as setup_discover_run leaves it: host on 465 tls with the
 * chooser's `auth`, no login checked. Tests change the fields they are about. */
struct hand_result {
	struct setup_result r;
	struct setup_candidate c;
	struct setup_verdict v;
	size_t order; /* the choice's order: the one candidate */
};

static struct hand_result *hand_result(const char *host, const char *auth)
{
	struct hand_result *x = calloc(1, sizeof *x);

	assert_non_null(x);
	snprintf(x->r.address, sizeof x->r.address, "%s", ADDRESS);
	x->r.pub.address = x->r.address;
	x->r.pub.domain = "example.org";
	x->r.pub.chosen = 0;
	x->r.pub.ncandidates = 1;
	snprintf(x->c.host, sizeof x->c.host, "%s", host);
	x->c.port = 465;
	x->c.security = SETUP_SECURITY_TLS;
	x->r.run.candidates.v = &x->c;
	x->r.run.candidates.n = 1;
	snprintf(x->v.auth, sizeof x->v.auth, "%s", auth);
	x->v.usable = 1;
	x->r.run.choice.v = &x->v;
	x->r.run.choice.n = 1;
	x->r.run.choice.winner = 0;
	x->r.run.choice.order = &x->order;
	x->r.run.login.candidate = -1;
	return x;
}

/* The drafts for `x` with options `o`; the test stops if they are refused. */
static void drafts(outbox *h, struct hand_result *x, const outbox_setup_save_options *o, outbox_server **s,
		   outbox_account **a)
{
	int rc = outbox_setup_drafts(h, &x->r.pub, o, s, a);

	if (rc != 0)
		fail_msg("outbox_setup_drafts: got %d (%s), want 0", rc, outbox_errmsg(h));
}

/* Files under the store's secrets directory: where a password goes without a keyring. */
static int secret_files(const struct unit_store *f)
{
	char dir[128];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(dir, sizeof dir, "%s/secrets", f->home);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void test_the_server_is_named_after_the_domain_then_domain_2_3(void **state)
{
	struct unit_store *f = *state;
	static const char *const want[] = {"example.org", "example.org-2", "example.org-3"};
	struct hand_result *x = hand_result("smtp.example.org", "plain");
	outbox_server *s;
	outbox_account *a;
	size_t i;

	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		drafts(f->h, x, NULL, &s, &a);
		EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_NAME), want[i], "the server's name");
		EXPECT_STR(outbox_account_get(a, OUTBOX_ACCOUNT_SERVER), want[i], "the account's server");
		outbox_server_free(s);
		outbox_account_free(a);
		unit_add_server(f->h, want[i]); /* takes the name (on a host of its own) */
	}
	free(x);
}

/* DNS allows 253 characters, a server name 64: the name is the domain's start, and "-2" fits. */
static void test_a_domain_too_long_for_a_name_is_cut_and_still_numbered(void **state)
{
	struct unit_store *f = *state;
	static const char *const want[] = {"mail-for-the-regional-office-of-the-department.of-long-names",
					   "mail-for-the-regional-office-of-the-department.of-long-names-2"};
	struct hand_result *x = hand_result("smtp.example.org", "plain");
	outbox_server *s;
	outbox_account *a;
	size_t i;

	x->r.pub.domain = "mail-for-the-regional-office-of-the-department.of-long-names.example.org";
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		drafts(f->h, x, NULL, &s, &a);
		EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_NAME), want[i], "the server's name");
		outbox_server_free(s);
		outbox_account_free(a);
		unit_add_server(f->h, want[i]);
	}
	free(x);
}

static void test_the_user_name_is_the_one_that_logged_in_else_the_sources_else_the_address(void **state)
{
	struct unit_store *f = *state;
	static const struct {
		const char *what;
		int login_checked;
		long login_candidate;
		const char *login_user, *source_user, *auth, *want;
	} cases[] = {
		{"logged in", 1, 0, "alice", "source-user", "plain", "alice"},
		{"the login refused", 1, -1, "", "source-user", "plain", "source-user"},
		{"no login, the source's", 0, -1, "", "source-user", "plain", "source-user"},
		{"no login, no source's", 0, -1, "", "", "plain", ADDRESS},
		{"auth none", 1, 0, "alice", "source-user", "none", ""},
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct hand_result *x = hand_result("smtp.example.org", cases[i].auth);
		outbox_server *s;
		outbox_account *a;

		x->r.run.login_checked = cases[i].login_checked;
		x->r.run.login.candidate = cases[i].login_candidate;
		snprintf(x->r.run.login.user, sizeof x->r.run.login.user, "%s", cases[i].login_user);
		snprintf(x->c.username, sizeof x->c.username, "%s", cases[i].source_user);
		drafts(f->h, x, NULL, &s, &a);
		EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_USER), cases[i].want, cases[i].what);
		outbox_server_free(s);
		outbox_account_free(a);
		free(x);
	}
}

static void test_the_description_the_ca_the_name_and_the_password_are_stored(void **state)
{
	struct unit_store *f = *state;
	struct hand_result *x = hand_result("smtp.example.org", "plain");
	outbox_setup_save_options o = {.full_name = "Alice Example", .password = "hunter2hunter2"};
	outbox_server *s = NULL;
	outbox_account *a = NULL;
	char ca[128], name[300];
	FILE *fp;

	/* Without the provider's name, the domain. */
	drafts(f->h, x, NULL, &s, &a);
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_DESCRIPTION), "example.org", "description without a name");
	outbox_server_free(s);
	outbox_account_free(a);

	snprintf(ca, sizeof ca, "%s/ca.pem", f->home);
	assert_non_null(fp = fopen(ca, "w"));
	fclose(fp);
	o.tls_ca = ca;
	snprintf(x->c.display_name, sizeof x->c.display_name, "Example Mail");
	EXPECT_INT(outbox_setup_save(f->h, &x->r.pub, &o, name, sizeof name), 0, "save");
	EXPECT_STR(name, "example.org", "the saved server's name");
	assert_int_equal(outbox_server_load(f->h, "example.org", &s), 0);
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_DESCRIPTION), "Example Mail", "description");
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_TLS_CA), ca, "tls-ca");
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_AUTH), "plain", "auth");
	EXPECT_INT(outbox_server_password_source(s), OUTBOX_PASSWORD_FILE, "where the password is");
	EXPECT_INT(secret_files(f), 1, "password files");
	assert_int_equal(outbox_account_load(f->h, ADDRESS, &a), 0);
	EXPECT_STR(outbox_account_get(a, OUTBOX_ACCOUNT_NAME), "Alice Example", "the account's name");
	EXPECT_STR(outbox_account_get(a, OUTBOX_ACCOUNT_SERVER), "example.org", "the account's server");
	outbox_server_free(s);
	outbox_account_free(a);
	free(x);
}

static void test_an_oauth_sign_in_stores_the_preset_and_is_refused_without_one(void **state)
{
	struct unit_store *f = *state;
	struct hand_result *x = hand_result("smtp.office365.com", "xoauth2");
	outbox_setup_save_options o = {.oauth_client_id = "client-1"};
	outbox_server *s = NULL;
	outbox_account *a = NULL;

	snprintf(x->c.oauth, sizeof x->c.oauth, "microsoft");
	drafts(f->h, x, &o, &s, &a);
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_OAUTH), "microsoft", "the OAuth preset");
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_OAUTH_CLIENT_ID), "client-1", "the client ID");
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_HOST), "smtp.office365.com", "the host, not the preset's");
	outbox_server_free(s);
	outbox_account_free(a);

	x->c.oauth[0] = '\0';
	EXPECT_INT(outbox_setup_drafts(f->h, &x->r.pub, &o, &s, &a), OUTBOX_EUNAVAILABLE, "no preset");
	EXPECT_STR(outbox_errfield(f->h), "oauth-client-id", "the field named");
	EXPECT_CONTAINS(outbox_errmsg(f->h), "--oauth custom", "the way on");
	assert_null(s);
	assert_null(a);
	free(x);
}

/* "Edit manually" takes the drafts of a candidate that was not chosen: what could be filled in
 * comes back with the refusal, for the form to finish; outbox_setup_drafts gives nothing. */
static void test_the_drafts_of_an_unusable_candidate_are_filled_in_and_refused(void **state)
{
	struct unit_store *f = *state;
	struct hand_result *x = hand_result("smtp.example.org", "plain");
	outbox_setup_save_options o = {0};
	outbox_server *s = NULL;
	outbox_account *a = NULL;
	char ca[128];
	FILE *fp;

	snprintf(ca, sizeof ca, "%s/ca.pem", f->home);
	assert_non_null(fp = fopen(ca, "w"));
	fclose(fp);
	o.tls_ca = ca;
	x->v.usable = 0;
	snprintf(x->v.why, sizeof x->v.why, "its probe failed: connection refused");
	x->r.pub.chosen = -1;
	x->r.run.choice.winner = -1;
	EXPECT_INT(outbox_setup_drafts_for(f->h, &x->r.pub, 0, &o, &s, &a), OUTBOX_EUNAVAILABLE, "an unusable one");
	EXPECT_CONTAINS(outbox_errmsg(f->h), "smtp.example.org port 465 cannot be used: its probe failed", "why");
	assert_non_null(s);
	assert_non_null(a);
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_NAME), "example.org", "the name");
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_HOST), "smtp.example.org", "the host");
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_TLS_CA), ca, "the CA");
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_USER), ADDRESS, "the user");
	EXPECT_STR(outbox_account_get(a, OUTBOX_ACCOUNT_ADDRESS), ADDRESS, "the account's address");
	outbox_server_free(s);
	outbox_account_free(a);

	EXPECT_INT(outbox_setup_drafts(f->h, &x->r.pub, &o, &s, &a), OUTBOX_EUNAVAILABLE, "nothing chosen");
	assert_null(s);
	assert_null(a);
	EXPECT_INT(outbox_setup_drafts_for(f->h, &x->r.pub, 1, &o, &s, &a), OUTBOX_EUNAVAILABLE, "no such one");
	assert_null(s);
	assert_null(a);
	free(x);
}

/* What the save refuses, the drafts (--dry-run) refuse too, with the same words, before
 * anything is written. */
static void test_the_drafts_refuse_what_the_save_refuses(void **state)
{
	struct unit_store *f = *state;
	struct hand_result *x = hand_result("smtp.example.org", "plain");
	outbox_setup_save_options o = {.password = "hunter2hunter2"};
	outbox_server *s = NULL;
	outbox_account *a = NULL;
	char name[300], refused[600];

	/* A server sending through the same host, port and user name. */
	EXPECT_INT(outbox_setup_save(f->h, &x->r.pub, &o, name, sizeof name), 0, "the first save");
	assert_int_equal(outbox_account_remove(f->h, ADDRESS, 0), 0);
	EXPECT_INT(outbox_setup_drafts(f->h, &x->r.pub, &o, &s, &a), OUTBOX_EEXISTS, "drafts of a duplicate");
	EXPECT_CONTAINS(outbox_errmsg(f->h), "\"example.org\" already sends through smtp.example.org", "why");
	snprintf(refused, sizeof refused, "%s", outbox_errmsg(f->h));
	assert_null(s);
	EXPECT_INT(outbox_setup_save(f->h, &x->r.pub, &o, name, sizeof name), OUTBOX_EEXISTS, "save of a duplicate");
	EXPECT_STR(outbox_errmsg(f->h), refused, "the save's refusal");
	EXPECT_INT(secret_files(f), 1, "password files: the first save's only");

	/* An account for the address: named before any lookup, and again by the drafts. */
	unit_add_account(f->h, "Alice@Example.org", "example.org");
	EXPECT_INT(outbox_setup_check_input(f->h, ADDRESS, NULL), OUTBOX_EEXISTS, "the address alone");
	EXPECT_STR(outbox_errfield(f->h), "address", "the field named");
	EXPECT_CONTAINS(outbox_errmsg(f->h), "outbox account remove Alice@Example.org", "one way on");
	EXPECT_CONTAINS(outbox_errmsg(f->h), "outbox server edit example.org --auto", "the other");
	snprintf(refused, sizeof refused, "%s", outbox_errmsg(f->h));
	snprintf(x->c.host, sizeof x->c.host, "smtp2.example.org");
	EXPECT_INT(outbox_setup_drafts(f->h, &x->r.pub, &o, &s, &a), OUTBOX_EEXISTS, "drafts for the address");
	EXPECT_STR(outbox_errmsg(f->h), refused, "the drafts' refusal");
	EXPECT_INT(outbox_setup_check_input(f->h, "bob@example.org", NULL), 0, "another address");
	free(x);
}

/* An account made after the drafts were checked (another process: a trigger stands in for it,
 * firing on the server's row) fails the save's transaction: the server's row and its password
 * file go with it. */
static void test_an_account_made_meanwhile_rolls_back_the_server_and_its_password_file(void **state)
{
	struct unit_store *f = *state;
	struct hand_result *x = hand_result("smtp.example.org", "plain");
	outbox_setup_save_options o = {.password = "hunter2hunter2"};
	outbox_server **list = NULL;
	size_t n = 99;
	char name[300] = "unchanged";

	unit_add_server(f->h, "other");
	assert_int_equal(sqlite3_exec(f->h->db,
				      "CREATE TEMP TRIGGER meanwhile AFTER INSERT ON servers BEGIN"
				      " INSERT INTO accounts (address, server_id, created_at, updated_at)"
				      " VALUES ('" ADDRESS "', (SELECT id FROM servers WHERE name = 'other'), 0, 0);"
				      " END",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	EXPECT_INT(outbox_setup_save(f->h, &x->r.pub, &o, name, sizeof name), OUTBOX_EEXISTS, "save");
	EXPECT_CONTAINS(outbox_errmsg(f->h), "an account for " ADDRESS " already exists", "why");
	EXPECT_STR(name, "", "no server name");
	assert_int_equal(sqlite3_exec(f->h->db, "DROP TRIGGER meanwhile", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(outbox_server_list(f->h, &list, &n), 0);
	EXPECT_INT(n, 1, "servers after the refused save");
	EXPECT_STR(outbox_server_get(list[0], OUTBOX_SERVER_NAME), "other", "the one left");
	outbox_server_list_free(list, n);
	EXPECT_INT(outbox_setup_check_input(f->h, ADDRESS, NULL), 0, "no account for the address (rolled back)");
	EXPECT_INT(secret_files(f), 0, "password files after the refused save");
	free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_the_server_is_named_after_the_domain_then_domain_2_3, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_domain_too_long_for_a_name_is_cut_and_still_numbered, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_the_user_name_is_the_one_that_logged_in_else_the_sources_else_the_address, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_the_description_the_ca_the_name_and_the_password_are_stored,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_an_oauth_sign_in_stores_the_preset_and_is_refused_without_one,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_drafts_of_an_unusable_candidate_are_filled_in_and_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_the_drafts_refuse_what_the_save_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_an_account_made_meanwhile_rolls_back_the_server_and_its_password_file,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
