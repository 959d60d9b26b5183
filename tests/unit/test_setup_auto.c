/* test_setup_auto.c: the library layer of `outbox server edit NAME --auto`: which address is looked
 * up, the difference between a saved server and discovery's choice, and saving only that. */
#include "outbox/outbox.h"
#include "unit.h"

static int setup(void **state)
{
	return unit_store_setup_with_secret_files(state, "setup-auto");
}

static int teardown(void **state)
{
	return unit_store_close(*state);
}

/* Save server `name` at smtp-old.example.org:465 tls, auth `auth`, user `user` (or none). */
static void add_server(outbox *h, const char *name, const char *user, const char *auth)
{
	outbox_server *s = outbox_server_new();

	assert_int_equal(outbox_server_set(h, s, OUTBOX_SERVER_NAME, name), 0);
	assert_int_equal(outbox_server_set(h, s, OUTBOX_SERVER_HOST, "smtp-old.example.org"), 0);
	assert_int_equal(outbox_server_set(h, s, OUTBOX_SERVER_SECURITY, "tls"), 0);
	assert_int_equal(outbox_server_set(h, s, OUTBOX_SERVER_AUTH, auth), 0);
	if (user)
		assert_int_equal(outbox_server_set(h, s, OUTBOX_SERVER_USER, user), 0);
	assert_int_equal(outbox_server_save(h, s), 0);
	outbox_server_free(s);
}

static void test_the_address_is_the_user_name_else_the_first_account(void **state)
{
	struct unit_store *f = *state;
	outbox_server *s = NULL;
	const char *address, *from;

	add_server(f->h, "by-user", "alice@example.org", "plain");
	add_server(f->h, "by-account", "alice", "plain");
	unit_add_account(f->h, "zoe@example.org", "by-account");
	unit_add_account(f->h, "bob@example.org", "by-account");
	unit_add_account(f->h, "amy@other.example", "by-account"); /* first by address, another provider */
	add_server(f->h, "neither", "carol", "plain");
	add_server(f->h, "relay", "dave", "plain");
	unit_add_account(f->h, "ann@other.example", "relay");

	assert_int_equal(outbox_server_load(f->h, "by-user", &s), 0);
	EXPECT_INT(outbox_setup_auto_address(f->h, s, &address, &from), 0, "by-user");
	EXPECT_STR(address, "alice@example.org", "the user name");
	EXPECT_STR(from, "its user name", "where it came from");
	outbox_server_free(s);

	assert_int_equal(outbox_server_load(f->h, "by-account", &s), 0);
	EXPECT_INT(outbox_setup_auto_address(f->h, s, &address, &from), 0, "by-account");
	EXPECT_STR(address, "bob@example.org", "the first account by address in the host's domain");
	EXPECT_STR(from, "the first account using it in its host's domain", "where it came from");
	outbox_server_free(s);

	/* smtp-old.example.org's password is not tried at other.example's provider. */
	assert_int_equal(outbox_server_load(f->h, "relay", &s), 0);
	EXPECT_INT(outbox_setup_auto_address(f->h, s, &address, &from), OUTBOX_EINVALID, "relay");
	EXPECT_CONTAINS(outbox_errmsg(f->h), "no account using it is in the domain of smtp-old.example.org",
			"the reason");
	EXPECT_CONTAINS(outbox_errmsg(f->h), "outbox setup ann@other.example --dry-run", "the way on");
	outbox_server_free(s);

	assert_int_equal(outbox_server_load(f->h, "neither", &s), 0);
	EXPECT_INT(outbox_setup_auto_address(f->h, s, &address, &from), OUTBOX_EINVALID, "neither");
	EXPECT_STR(outbox_errfield(f->h), "auto", "the field named");
	EXPECT_CONTAINS(outbox_errmsg(f->h), "--auto", "the message names the option");
	EXPECT_CONTAINS(outbox_errmsg(f->h), "\"neither\"", "the message names the server");
	outbox_server_free(s);
}

static void test_an_international_domain_matches_its_hosts_ascii_name(void **state)
{
	struct unit_store *f = *state;
	outbox_server *s = outbox_server_new();
	const char *address, *from;

	assert_int_equal(outbox_server_set(f->h, s, OUTBOX_SERVER_NAME, "buecher"), 0);
	assert_int_equal(outbox_server_set(f->h, s, OUTBOX_SERVER_HOST, "smtp.xn--bcher-kva.test"), 0);
	assert_int_equal(outbox_server_set(f->h, s, OUTBOX_SERVER_SECURITY, "tls"), 0);
	assert_int_equal(outbox_server_set(f->h, s, OUTBOX_SERVER_AUTH, "plain"), 0);
	assert_int_equal(outbox_server_set(f->h, s, OUTBOX_SERVER_USER, "j\xc3\xbcrgen"), 0);
	assert_int_equal(outbox_server_save(f->h, s), 0);
	outbox_server_free(s);
	unit_add_account(f->h, "j\xc3\xbcrgen@B\xc3\xbc" "cher.test", "buecher");

	assert_int_equal(outbox_server_load(f->h, "buecher", &s), 0);
	EXPECT_INT(outbox_setup_auto_address(f->h, s, &address, &from), 0, outbox_errmsg(f->h));
	EXPECT_STR(address, "j\xc3\xbcrgen@B\xc3\xbc" "cher.test", "the account's address, as typed");
	outbox_server_free(s);
}

/* A result whose chosen candidate is host:port security auth. */
static void chosen_result(outbox_setup_result *r, outbox_setup_candidate *c, const char *host, int port,
			  const char *security, const char *auth)
{
	memset(r, 0, sizeof *r);
	memset(c, 0, sizeof *c);
	c->host = host;
	c->port = port;
	c->security = security;
	c->auth = auth;
	c->chosen = c->usable = 1;
	r->ncandidates = 1;
	r->candidates = c;
	r->chosen = 0;
}

static void test_the_difference_lists_only_changed_fields_in_setting_order(void **state)
{
	struct unit_store *f = *state;
	outbox_setup_change ch[OUTBOX_SETUP_AUTO_FIELDS];
	outbox_setup_result r;
	outbox_setup_candidate c;
	outbox_server *plain = NULL, *autoauth = NULL, *noauth = NULL;
	size_t n;

	add_server(f->h, "plain", "alice@example.org", "plain");
	add_server(f->h, "autoauth", "bob@example.org", "auto");
	add_server(f->h, "noauth", NULL, "none");
	assert_int_equal(outbox_server_load(f->h, "plain", &plain), 0);
	assert_int_equal(outbox_server_load(f->h, "autoauth", &autoauth), 0);
	assert_int_equal(outbox_server_load(f->h, "noauth", &noauth), 0);

	chosen_result(&r, &c, "smtp-old.example.org", 465, "tls", "plain");
	EXPECT_INT(outbox_setup_auto_changes(plain, &r, ch), 0, "changes when discovery finds what is stored");

	chosen_result(&r, &c, "smtp.example.org", 587, "starttls", "login");
	n = outbox_setup_auto_changes(plain, &r, ch);
	EXPECT_INT(n, 4, "changes when everything moved");
	EXPECT_INT(ch[0].field, OUTBOX_SERVER_HOST, "first: host");
	EXPECT_STR(ch[0].before, "smtp-old.example.org", "host before");
	EXPECT_STR(ch[0].after, "smtp.example.org", "host after");
	EXPECT_INT(ch[1].field, OUTBOX_SERVER_SECURITY, "second: security, before the port it moves");
	EXPECT_INT(ch[2].field, OUTBOX_SERVER_PORT, "third: port");
	EXPECT_STR(ch[2].before, "465", "port before");
	EXPECT_STR(ch[2].after, "587", "port after");
	EXPECT_INT(ch[3].field, OUTBOX_SERVER_AUTH, "fourth: auth");
	EXPECT_STR(ch[3].after, "login", "auth after");

	n = outbox_setup_auto_changes(autoauth, &r, ch);
	EXPECT_INT(n, 3, "a stored auth \"auto\" is kept");
	EXPECT_INT(ch[2].field, OUTBOX_SERVER_PORT, "last change with auth auto");

	/* No user name or password to log in with: the offer's method could not be saved. */
	n = outbox_setup_auto_changes(noauth, &r, ch);
	EXPECT_INT(n, 3, "a stored auth \"none\" is kept");
	EXPECT_INT(ch[2].field, OUTBOX_SERVER_PORT, "last change with auth none");

	r.chosen = -1;
	EXPECT_INT(outbox_setup_auto_changes(plain, &r, ch), 0, "changes when nothing was chosen");
	outbox_server_free(plain);
	outbox_server_free(autoauth);
	outbox_server_free(noauth);
}

static void test_saving_sets_the_changes_and_refuses_a_server_changed_meanwhile(void **state)
{
	struct unit_store *f = *state;
	outbox_setup_change ch[OUTBOX_SETUP_AUTO_FIELDS];
	outbox_setup_result r;
	outbox_setup_candidate c;
	outbox_server *s = NULL, *saved = NULL, *other = NULL;
	size_t n;

	add_server(f->h, "moving", "alice@example.org", "plain");
	unit_add_account(f->h, "alice@example.org", "moving");
	assert_int_equal(outbox_server_load(f->h, "moving", &s), 0);
	chosen_result(&r, &c, "smtp.example.org", 587, "starttls", "plain");
	n = outbox_setup_auto_changes(s, &r, ch);
	EXPECT_INT(n, 3, "host, security and port changed");

	/* Another process edits the host after the difference was made: nothing is saved. */
	assert_int_equal(outbox_server_load(f->h, "moving", &other), 0);
	assert_int_equal(outbox_server_set(f->h, other, OUTBOX_SERVER_HOST, "smtp-elsewhere.example.org"), 0);
	assert_int_equal(outbox_server_save(f->h, other), 0);
	outbox_server_free(other);
	EXPECT_INT(outbox_setup_auto_save(f->h, "moving", ch, n, &saved), OUTBOX_ECONFLICT, "save after a change");
	EXPECT_STR(outbox_errfield(f->h), "host", "the field that changed");
	assert_null(saved);
	assert_int_equal(outbox_server_load(f->h, "moving", &other), 0);
	EXPECT_STR(outbox_server_get(other, OUTBOX_SERVER_HOST), "smtp-elsewhere.example.org", "host kept");
	EXPECT_STR(outbox_server_get(other, OUTBOX_SERVER_PORT), "465", "port kept");
	outbox_server_free(other);
	outbox_server_free(s);

	/* Made again from the server as it is now, the changes are saved, only they. */
	assert_int_equal(outbox_server_load(f->h, "moving", &s), 0);
	n = outbox_setup_auto_changes(s, &r, ch);
	EXPECT_INT(outbox_setup_auto_save(f->h, "moving", ch, n, &saved), 0, "save");
	EXPECT_STR(outbox_server_get(saved, OUTBOX_SERVER_HOST), "smtp.example.org", "saved host");
	EXPECT_STR(outbox_server_get(saved, OUTBOX_SERVER_SECURITY), "starttls", "saved security");
	EXPECT_STR(outbox_server_get(saved, OUTBOX_SERVER_PORT), "587", "saved port");
	EXPECT_STR(outbox_server_get(saved, OUTBOX_SERVER_AUTH), "plain", "auth untouched");
	EXPECT_STR(outbox_server_get(saved, OUTBOX_SERVER_USER), "alice@example.org", "user untouched");
	EXPECT_STR(outbox_server_used_by(saved)[0] ? outbox_server_used_by(saved)[0] : "(none)", "alice@example.org",
		   "the account still uses it");
	outbox_server_free(saved);
	outbox_server_free(s);
}

/* The login found another user name: it is saved. Only the security changed (a tls server on the
 * stored 587): setting it must not move the port to tls's 465 with it. */
static void test_the_user_that_logged_in_is_saved_and_an_unchanged_port_stays(void **state)
{
	struct unit_store *f = *state;
	outbox_setup_change ch[OUTBOX_SETUP_AUTO_FIELDS];
	outbox_setup_result r;
	outbox_setup_candidate c;
	outbox_server *s = NULL, *saved = NULL;
	size_t n;

	add_server(f->h, "local", "alice@example.org", "plain");
	assert_int_equal(outbox_server_load(f->h, "local", &s), 0);
	chosen_result(&r, &c, "smtp-old.example.org", 465, "tls", "plain");
	r.login_checked = 1;
	r.login_user = "alice";
	n = outbox_setup_auto_changes(s, &r, ch);
	EXPECT_INT(n, 1, "changes when only the user name that logged in differs");
	EXPECT_INT(ch[0].field, OUTBOX_SERVER_USER, "the change");
	EXPECT_STR(ch[0].before, "alice@example.org", "user before");
	EXPECT_STR(ch[0].after, "alice", "user after");
	r.login_checked = 0;
	EXPECT_INT(outbox_setup_auto_changes(s, &r, ch), 0, "no login checked: the stored user name stays");
	outbox_server_free(s);

	add_server(f->h, "submission", "bob@example.org", "plain");
	assert_int_equal(outbox_server_load(f->h, "submission", &s), 0);
	assert_int_equal(outbox_server_set(f->h, s, OUTBOX_SERVER_SECURITY, "starttls"), 0);
	assert_int_equal(outbox_server_save(f->h, s), 0);
	outbox_server_free(s);
	assert_int_equal(outbox_server_load(f->h, "submission", &s), 0);
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_PORT), "587", "stored port");
	chosen_result(&r, &c, "smtp-old.example.org", 587, "tls", "plain");
	n = outbox_setup_auto_changes(s, &r, ch);
	EXPECT_INT(n, 1, "only the security changed");
	EXPECT_INT(outbox_setup_auto_save(f->h, "submission", ch, n, &saved), 0, "save");
	EXPECT_STR(outbox_server_get(saved, OUTBOX_SERVER_SECURITY), "tls", "saved security");
	EXPECT_STR(outbox_server_get(saved, OUTBOX_SERVER_PORT), "587", "the port discovery found, not tls's 465");
	outbox_server_free(saved);
	outbox_server_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_the_address_is_the_user_name_else_the_first_account, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_an_international_domain_matches_its_hosts_ascii_name, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_the_difference_lists_only_changed_fields_in_setting_order,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_saving_sets_the_changes_and_refuses_a_server_changed_meanwhile,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_user_that_logged_in_is_saved_and_an_unchanged_port_stays,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
