/* test_alias.c: the alias table through the public API (set, replace, list, load, remove, each
 * refusal naming its field) and the expansion delivery uses: own alias, then "default", one level. */
#include <stdlib.h>

#include "alias_internal.h"
#include "record.h"
#include "store.h"
#include "unit.h"

static int setup(void **state)
{
	return unit_store_setup_with_secret_files(state, "alias");
}

static int teardown(void **state)
{
	return unit_store_close(*state);
}

/* The aliases as "name=addresses;" in list order. */
static void list_text(outbox *h, char *out, size_t size)
{
	outbox_alias **v = NULL;
	size_t n = 0, i, len = 0;

	out[0] = '\0';
	assert_int_equal(outbox_alias_list(h, &v, &n), 0);
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, len < size ? size - len : 0, "%s=%s;", outbox_alias_name(v[i]),
					outbox_alias_addresses(v[i]));
	outbox_alias_list_free(v, n);
}

static void test_set_replace_list_remove(void **state)
{
	struct unit_store *f = *state;
	char got[512];
	outbox_alias *a = NULL;

	list_text(f->h, got, sizeof got);
	EXPECT_STR(got, "", "a new store has no aliases");
	EXPECT_INT(outbox_alias_set(f->h, "root", "Admin <admin@example.org>, ops@example.org,admin@EXAMPLE.org"), 0,
		   "set root");
	EXPECT_INT(outbox_alias_set(f->h, "postmaster", "(the boss) pm@example.org"), 0, "set postmaster");
	list_text(f->h, got, sizeof got);
	EXPECT_STR(got, "postmaster=pm@example.org;root=admin@example.org, ops@example.org;",
		   "listed by name, addresses normalized and each once");
	EXPECT_INT(outbox_alias_set(f->h, "ROOT", "new@example.org"), 0, "set ROOT replaces root");
	EXPECT_INT(outbox_alias_load(f->h, "Root", &a), 0, "load in another case");
	EXPECT_STR(outbox_alias_name(a), "root", "the name keeps the case it was first given");
	EXPECT_STR(outbox_alias_addresses(a), "new@example.org", "replaced addresses");
	outbox_alias_free(a);
	EXPECT_INT(outbox_alias_remove(f->h, "root"), 0, "remove root");
	EXPECT_INT(outbox_alias_remove(f->h, "root"), OUTBOX_ENOTFOUND, "remove it again");
	EXPECT_STR(outbox_errmsg(f->h), "name: no alias named \"root\" (see: outbox alias list)", "message");
	EXPECT_INT(outbox_alias_load(f->h, "root", &a), OUTBOX_ENOTFOUND, "load a removed alias");
	list_text(f->h, got, sizeof got);
	EXPECT_STR(got, "postmaster=pm@example.org;", "what is left");
}

static void test_refusals_name_the_field_and_change_nothing(void **state)
{
	static const struct {
		const char *name, *addresses, *want;
	} cases[] = {
		{"", "a@example.org", "name: is required"},
		{"bob smith", "a@example.org", "name: \"bob smith\" is not a local name"},
		{"-root", "a@example.org", "name: \"-root\" is not a local name"},
		{".root", "a@example.org", "is not a local name"},
		{"ro..ot", "a@example.org", "is not a local name"},
		{"me@example.org", "a@example.org", "name: \"me@example.org\" has an \"@\""},
		{"root\n", "a@example.org", "is not a local name"},
		{"root", "", "address: is required"},
		{"root", "admin", "address: \"admin\" has no domain"},
		{"root", "a@example.org, other", "address: \"other\" has no domain"},
		{"root", "a@", "address: \"a@\" has no domain after the \"@\""},
		{"root", "a@example.org\r\nRCPT TO:<x@y>", "address:"},
	};
	struct unit_store *f = *state;
	char got[512];
	size_t i;

	assert_int_equal(outbox_alias_set(f->h, "root", "keep@example.org"), 0);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = outbox_alias_set(f->h, cases[i].name, cases[i].addresses);
		if (rc != OUTBOX_EINVALID)
			fail_msg("case %zu (%s / %s): got %d, want OUTBOX_EINVALID", i, cases[i].name, cases[i].addresses,
				 rc);
		EXPECT_CONTAINS(outbox_errmsg(f->h), cases[i].want, cases[i].addresses);
	}
	list_text(f->h, got, sizeof got);
	EXPECT_STR(got, "root=keep@example.org;", "aliases after the refusals");
}

/* The expansion of each name, joined with spaces, or "ERR <message>". */
static void expand_text(outbox *h, const char *name, char *out, size_t size)
{
	char **v = NULL;
	size_t n = 0, i, len = 0;
	int rc = alias_expand(h, name, &v, &n);

	out[0] = '\0';
	if (rc < 0)
		snprintf(out, size, "ERR %s", outbox_errmsg(h));
	for (i = 0; rc == 0 && i < n; i++)
		len += (size_t)snprintf(out + len, len < size ? size - len : 0, "%s%s", i ? " " : "", v[i]);
	strv_free(v);
}

static void test_expansion_own_alias_then_default(void **state)
{
	static const struct {
		const char *name, *want;
	} before_default[] = {
		{"root", "a@example.org b@example.org"},
		{"ROOT", "a@example.org b@example.org"},
		{"mdadm", "ERR recipient: \"mdadm\" is a local name without an alias: say where its mail goes with "
			  "'outbox alias add mdadm ADDRESS' (or catch every local name with 'outbox alias add default "
			  "ADDRESS')"},
	}, after_default[] = {
		{"root", "a@example.org b@example.org"},
		{"mdadm", "catch@example.org"},
		{"default", "catch@example.org"},
	};
	struct unit_store *f = *state;
	char got[600];
	size_t i;

	assert_int_equal(outbox_alias_set(f->h, "root", "a@example.org, \"Bee, B.\" <b@example.org>"), 0);
	for (i = 0; i < sizeof before_default / sizeof before_default[0]; i++) {
		expand_text(f->h, before_default[i].name, got, sizeof got);
		EXPECT_STR(got, before_default[i].want, before_default[i].name);
	}
	EXPECT_INT(alias_expand(f->h, "mdadm", &(char **){NULL}, &(size_t){0}), OUTBOX_ENOUSER, "code");
	EXPECT_INT(outbox_exit_code(OUTBOX_ENOUSER), 67, "exit status (EX_NOUSER)");
	assert_int_equal(outbox_alias_set(f->h, "default", "catch@example.org"), 0);
	for (i = 0; i < sizeof after_default / sizeof after_default[0]; i++) {
		expand_text(f->h, after_default[i].name, got, sizeof got);
		EXPECT_STR(got, after_default[i].want, after_default[i].name);
	}
}

static void test_local_name_predicate(void **state)
{
	static const struct {
		const char *s;
		int want;
	} cases[] = {
		{"root", 1}, {"mail.admin", 1}, {"a+b", 1}, {"o'brien", 1}, {"", 0}, {"a@b", 0}, {"a b", 0},
		{"-f", 0}, {".a", 0}, {"a.", 0}, {"a..b", 0}, {"\"root\"", 0}, {"<root>", 0}, {"r\xc3\xb6ot", 0},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0}, /* 65 bytes */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (alias_is_local_name(cases[i].s) != cases[i].want)
			fail_msg("alias_is_local_name(\"%s\"): got %d, want %d", cases[i].s, !cases[i].want,
				 cases[i].want);
}

/* A store from before aliases and the EHLO name gains both, its servers keeping every setting. */
static void test_migrates_an_older_store(void **state)
{
	struct unit_store *f = *state;
	outbox_server *s = NULL;
	char got[256];

	unit_add_server(f->h, "main");
	assert_int_equal(sqlite3_exec(f->h->db,
				      "DROP TABLE aliases; ALTER TABLE servers DROP COLUMN helo; DROP TABLE host_names;"
				      "PRAGMA user_version = 8",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	outbox_close(f->h);
	f->h = NULL;
	EXPECT_INT(outbox_open(&f->h, f->home), 0, "open the older store");
	EXPECT_INT(outbox_schema_version(f->h), STORE_SCHEMA_VERSION, "schema version after migration");
	EXPECT_INT(outbox_server_load(f->h, "main", &s), 0, "load the server");
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_HELO), "", "an existing server's EHLO name is automatic");
	EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_HOST), "main.example.org", "its host");
	outbox_server_free(s);
	list_text(f->h, got, sizeof got);
	EXPECT_STR(got, "", "no aliases yet");
	EXPECT_INT(outbox_alias_set(f->h, "root", "a@example.org"), 0, "set an alias after migrating");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_set_replace_list_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals_name_the_field_and_change_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expansion_own_alias_then_default, setup, teardown),
		cmocka_unit_test(test_local_name_predicate),
		cmocka_unit_test_setup_teardown(test_migrates_an_older_store, setup, teardown),
	};
	return cmocka_run_group_tests_name("alias", tests, NULL, NULL);
}
