/* test_oauth_settings.c: the OAuth configuration of a server: the presets as data, the checks of
 * endpoints, tenants, scopes and client IDs, and a draft's preset filling what was not typed. */
#include <sys/stat.h>

#include "handle_internal.h"
#include "oauth_preset.h"
#include "validate.h"
#include "unit.h"

static void test_presets_are_the_documented_values(void **state)
{
	const struct oauth_preset *m = oauth_preset_find("microsoft"), *g = oauth_preset_find("google");
	char url[300];

	(void)state;
	assert_non_null(m);
	assert_non_null(g);
	EXPECT_INT(oauth_preset_find("none") == NULL, 1, "none is no preset");
	EXPECT_INT(oauth_preset_find("yahoo") == NULL, 1, "an unknown name is no preset");
	EXPECT_STR(m->host, "smtp.office365.com", "microsoft host");
	EXPECT_STR(m->port, "587", "microsoft port");
	EXPECT_STR(m->security, "starttls", "microsoft security");
	EXPECT_STR(m->auth, "xoauth2", "microsoft auth");
	EXPECT_STR(m->scope, "https://outlook.office.com/SMTP.Send offline_access", "microsoft scope");
	EXPECT_STR(m->tenant, "common", "microsoft default tenant");
	EXPECT_INT(m->revoke_url == NULL, 1, "microsoft has no revocation endpoint");
	EXPECT_INT(m->grants, OAUTH_GRANT_DEVICE | OAUTH_GRANT_BROWSER, "microsoft allows both grants");
	EXPECT_INT(m->preferred, OAUTH_GRANT_DEVICE, "microsoft prefers the device grant");
	EXPECT_INT(oauth_preset_url(m->token_url, "contoso.onmicrosoft.com", url, sizeof url), 0, "url fits");
	EXPECT_STR(url, "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
		   "the tenant goes into the token URL");
	EXPECT_INT(oauth_preset_url(m->device_url, "common", url, sizeof url), 0, "url fits");
	EXPECT_STR(url, "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode", "device URL");
	EXPECT_INT(oauth_preset_url(m->authorize_url, "organizations", url, sizeof url), 0, "url fits");
	EXPECT_STR(url, "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize", "authorize URL");

	EXPECT_STR(g->host, "smtp.gmail.com", "google host");
	EXPECT_STR(g->port, "465", "google port");
	EXPECT_STR(g->security, "tls", "google security");
	EXPECT_STR(g->scope, "https://mail.google.com/", "google scope");
	EXPECT_INT(g->tenant == NULL, 1, "google has no tenant");
	EXPECT_STR(g->device_url, "https://oauth2.googleapis.com/device/code", "google device URL");
	EXPECT_STR(g->authorize_url, "https://accounts.google.com/o/oauth2/v2/auth", "google authorize URL");
	EXPECT_STR(g->token_url, "https://oauth2.googleapis.com/token", "google token URL");
	EXPECT_STR(g->revoke_url, "https://oauth2.googleapis.com/revoke", "google revoke URL");
	EXPECT_INT(g->grants, OAUTH_GRANT_BROWSER, "google refuses the device grant for mail");
	EXPECT_INT(g->preferred, OAUTH_GRANT_BROWSER, "google signs in in a browser");
	EXPECT_INT(oauth_preset_url(g->token_url, NULL, url, sizeof url), 0, "no tenant needed");
	EXPECT_STR(url, g->token_url, "a URL without {tenant} stays as it is");
	EXPECT_INT(oauth_preset_url(m->token_url, "common", url, 20), -1, "a URL that does not fit");
}

struct vcase {
	const char *in;
	int ok;
	const char *part; /* what a refusal's message says */
};

/* Each case through `check`: the code, and for a refusal one line that starts with the field. */
static void run_cases(int (*check)(outbox *, const char *, const char *), const char *field,
		      const struct vcase *cases, size_t n)
{
	outbox h;
	char prefix[64];
	size_t i;

	for (i = 0; i < n; i++) {
		const char *msg;
		int rc;
		memset(&h, 0, sizeof h);
		rc = check(&h, field, cases[i].in);
		if ((rc == 0) != cases[i].ok)
			fail_msg("%s \"%s\": got %s (%s), want %s", field, cases[i].in, rc == 0 ? "accepted" : "refused",
				 rc == 0 ? "" : outbox_errmsg(&h), cases[i].ok ? "accepted" : "refused");
		if (cases[i].ok)
			continue;
		msg = outbox_errmsg(&h);
		snprintf(prefix, sizeof prefix, "%s: ", field);
		if (strncmp(msg, prefix, strlen(prefix)) != 0 || strchr(msg, '\n'))
			fail_msg("%s \"%s\": got message \"%s\", want one line starting \"%s\"", field,
				 cases[i].in, msg, prefix);
		EXPECT_CONTAINS(msg, cases[i].part, cases[i].in);
	}
}

static void test_endpoint_urls(void **state)
{
	static const struct vcase cases[] = {
		{"", 1, NULL},
		{"https://login.microsoftonline.com/common/oauth2/v2.0/token", 1, NULL},
		{"HTTPS://idp.example:8443/oauth/token?tenant=a", 1, NULL},
		{"https://[2001:db8::1]/token", 1, NULL},
		{"http://127.0.0.1:8080/token", 1, NULL},
		{"http://127.3.4.5/token", 1, NULL},
		{"http://[::1]:9000/device", 1, NULL},
		{"http://localhost:9000/device", 1, NULL},
		{"http://login.example.com/token", 0, "plain http:// to another machine"},
		{"http://128.0.0.1/token", 0, "plain http://"},
		{"http://[::2]/token", 0, "plain http://"},
		{"http://localhost.example.com/token", 0, "plain http://"},
		{"ftp://idp.example/token", 0, "not an https:// URL"},
		{"idp.example/token", 0, "not an https:// URL"},
		{"https://user:pw@idp.example/token", 0, "user name or password"},
		{"https://idp.example/token#x", 0, "fragment"},
		{"https:///token", 0, "no host"},
		{"https://idp.example:0/token", 0, "port"},
		{"https://idp.example:99999/token", 0, "port"},
		{"https://idp.example:80a/token", 0, "port"},
		{"https://[::1/token", 0, "unclosed"},
		{"https://[idp.example]/token", 0, "not an IPv6"},
		{"https://idp.example/to ken", 0, "space"},
		{"https://idp\xc3\xa9.example/token", 0, "outside ASCII"},
		{"https://bad_host!.example/token", 0, "not a valid host name"},
	};

	(void)state;
	run_cases(validate_oauth_url, "oauth-token-url", cases, sizeof cases / sizeof cases[0]);
}

static void test_tenants(void **state)
{
	static const struct vcase cases[] = {
		{"", 1, NULL},
		{"common", 1, NULL},
		{"organizations", 1, NULL},
		{"consumers", 1, NULL},
		{"9188040d-6c67-4c5b-b112-36a304b66dad", 1, NULL},
		{"contoso.onmicrosoft.com", 1, NULL},
		{"mail.example-corp.co.uk", 1, NULL},
		{"contoso", 0, "is not a tenant"},
		{"a/../b", 0, "is not a tenant"},
		{"contoso.com/oauth2", 0, "is not a tenant"},
		{"contoso.com?x=1", 0, "is not a tenant"},
		{"-contoso.com", 0, "is not a tenant"},
		{"contoso..com", 0, "is not a tenant"},
		{"9188040d-6c67-4c5b-b112-36a304b66dazz", 0, "is not a tenant"},
		{"Common Tenant", 0, "is not a tenant"},
	};

	(void)state;
	run_cases(validate_oauth_tenant, "oauth-tenant", cases, sizeof cases / sizeof cases[0]);
}

static void test_scopes_and_client_ids(void **state)
{
	static const struct vcase scopes[] = {
		{"https://mail.google.com/", 1, NULL},
		{"https://outlook.office.com/SMTP.Send offline_access", 1, NULL},
		{" mail", 0, "space"},
		{"mail  send", 0, "double space"},
		{"mail ", 0, "trailing"},
		{"mail\tsend", 0, "cannot have"},
		{"say\"hi\"", 0, "cannot have"},
	};
	static const struct vcase ids[] = {
		{"0a1b2c3d-0000-4000-8000-123456789abc", 1, NULL},
		{"1234-abc.apps.googleusercontent.com", 1, NULL},
		{"two words", 0, "space"},
		{"caf\xc3\xa9", 0, "printable ASCII"},
	};
	static const struct vcase secrets[] = {
		{"GOCSPX-made up here", 1, NULL},
		{"", 0, "is empty"},
		{"line\nbreak", 0, "line break"},
	};

	(void)state;
	run_cases(validate_oauth_scope, "oauth-scope", scopes, sizeof scopes / sizeof scopes[0]);
	run_cases(validate_oauth_client_id, "oauth-client-id", ids, sizeof ids / sizeof ids[0]);
	run_cases(validate_oauth_client_secret, "oauth-client-secret", secrets, sizeof secrets / sizeof secrets[0]);
}

/* -- the draft ---------------------------------------------------------------------------- */

static int setup(void **state)
{
	return unit_store_setup_with_secret_files(state, "oauth");
}

static int teardown(void **state)
{
	return unit_store_close(*state);
}

static void set_ok(outbox *h, outbox_server *s, outbox_server_field_id id, const char *value)
{
	int rc = outbox_server_set(h, s, id, value);

	if (rc != 0)
		fail_msg("set %s to \"%s\": got %d (%s), want 0", outbox_server_field_info(id)->key, value, rc,
			 outbox_errmsg(h));
}

static void test_preset_fills_what_was_not_typed(void **state)
{
	struct unit_store *f = *state;
	outbox_server *before = outbox_server_new(), *after = outbox_server_new();

	/* The same options in both orders: what was typed wins either way. */
	set_ok(f->h, before, OUTBOX_SERVER_HOST, "smtp-eu.office365.example");
	set_ok(f->h, before, OUTBOX_SERVER_SECURITY, "tls");
	set_ok(f->h, before, OUTBOX_SERVER_OAUTH, "microsoft");
	set_ok(f->h, after, OUTBOX_SERVER_OAUTH, "microsoft");
	set_ok(f->h, after, OUTBOX_SERVER_HOST, "smtp-eu.office365.example");
	set_ok(f->h, after, OUTBOX_SERVER_SECURITY, "tls");
	for (outbox_server *s = before; s; s = s == before ? after : NULL) {
		const char *which = s == before ? "typed before --oauth" : "typed after --oauth";
		EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_HOST), "smtp-eu.office365.example", which);
		EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_SECURITY), "tls", which);
		EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_PORT), "465", which);
		EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_AUTH), "xoauth2", which);
		EXPECT_STR(outbox_server_get(s, OUTBOX_SERVER_OAUTH_TENANT), "common", which);
	}
	/* A new tenant moves the endpoints that were the preset's, not an override. */
	set_ok(f->h, after, OUTBOX_SERVER_OAUTH_DEVICE_URL, "http://127.0.0.1:9/device");
	set_ok(f->h, after, OUTBOX_SERVER_OAUTH_TENANT, "contoso.onmicrosoft.com");
	EXPECT_STR(outbox_server_get(after, OUTBOX_SERVER_OAUTH_TOKEN_URL),
		   "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token", "token URL follows");
	EXPECT_STR(outbox_server_get(after, OUTBOX_SERVER_OAUTH_DEVICE_URL), "http://127.0.0.1:9/device",
		   "an overridden endpoint stays");
	/* Back to no OAuth: what the preset filled goes, auth goes back to auto. */
	set_ok(f->h, before, OUTBOX_SERVER_OAUTH, "none");
	EXPECT_STR(outbox_server_get(before, OUTBOX_SERVER_OAUTH_TOKEN_URL), "", "token URL cleared");
	EXPECT_STR(outbox_server_get(before, OUTBOX_SERVER_OAUTH_SCOPE), "", "scope cleared");
	EXPECT_STR(outbox_server_get(before, OUTBOX_SERVER_AUTH), "auto", "auth back to auto");
	outbox_server_free(before);
	outbox_server_free(after);
}

static void test_whole_record_checks(void **state)
{
	struct unit_store *f = *state;
	static const struct {
		const char *provider, *client_id, *password;
		outbox_server_field_id extra;
		const char *extra_value, *field, *part;
	} cases[] = {
		{"microsoft", "", NULL, OUTBOX_SERVER_NAME, "x", "oauth-client-id", "is required"},
		{"microsoft", "id", "made-up", OUTBOX_SERVER_NAME, "x", "password", "not a password"},
		{"microsoft", "id", NULL, OUTBOX_SERVER_AUTH, "plain", "auth", "cannot carry an OAuth token"},
		{"google", "id", NULL, OUTBOX_SERVER_OAUTH_TENANT, "contoso.com", "oauth-tenant", "only microsoft"},
		{"custom", "id", NULL, OUTBOX_SERVER_OAUTH_SCOPE, "mail", "oauth-token-url", "is required"},
		{"custom", "id", NULL, OUTBOX_SERVER_OAUTH_TOKEN_URL, "https://idp.example/t", "oauth-authorize-url",
		 "--oauth-device-url"},
		{"none", "id", NULL, OUTBOX_SERVER_NAME, "x", "oauth-client-id", "no effect without --oauth"},
	};
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		outbox_server *s = outbox_server_new();
		char what[200];
		int rc;
		snprintf(what, sizeof what, "--oauth %s with %s", cases[i].provider,
			 outbox_server_field_info(cases[i].extra)->key);
		set_ok(f->h, s, OUTBOX_SERVER_NAME, "x");
		set_ok(f->h, s, OUTBOX_SERVER_HOST, "smtp.example.org");
		set_ok(f->h, s, OUTBOX_SERVER_USER, "ann@example.org");
		set_ok(f->h, s, OUTBOX_SERVER_OAUTH, cases[i].provider);
		set_ok(f->h, s, OUTBOX_SERVER_OAUTH_CLIENT_ID, cases[i].client_id);
		set_ok(f->h, s, cases[i].extra, cases[i].extra_value);
		if (cases[i].password)
			EXPECT_INT(outbox_server_set_password(f->h, s, cases[i].password), 0, what);
		rc = outbox_server_save(f->h, s);
		EXPECT_INT(rc, OUTBOX_EINVALID, what);
		EXPECT_STR(outbox_errfield(f->h), cases[i].field, what);
		EXPECT_CONTAINS(outbox_errmsg(f->h), cases[i].part, what);
		outbox_server_free(s);
	}
}

/* The client secret goes to the secret store, the database holds only where it is. */
static void test_client_secret_kept_outside_the_database(void **state)
{
	struct unit_store *f = *state;
	outbox_server *s = outbox_server_new(), *loaded = NULL;
	char secret[64], path[340], dbpath[300], buf[8192];
	FILE *db;
	size_t n;

	snprintf(secret, sizeof secret, "cs-%ld-%d", (long)getpid(), rand());
	set_ok(f->h, s, OUTBOX_SERVER_NAME, "g");
	set_ok(f->h, s, OUTBOX_SERVER_USER, "ann@example.org");
	set_ok(f->h, s, OUTBOX_SERVER_OAUTH, "google");
	set_ok(f->h, s, OUTBOX_SERVER_OAUTH_CLIENT_ID, "1234-abc.apps.googleusercontent.com");
	EXPECT_INT(outbox_server_set_oauth_client_secret(f->h, s, secret), 0, "set the client secret");
	EXPECT_INT(outbox_server_save(f->h, s), 0, "save");
	EXPECT_INT(outbox_server_load(f->h, "g", &loaded), 0, "load");
	EXPECT_INT(outbox_server_oauth_client_secret_source(loaded), OUTBOX_PASSWORD_FILE, "kept in a file");
	EXPECT_STR(outbox_server_get(loaded, OUTBOX_SERVER_HOST), "smtp.gmail.com", "the preset's host saved");
	snprintf(dbpath, sizeof dbpath, "%s/outbox.db", f->home);
	for (const char *suffix = ""; suffix; suffix = *suffix ? NULL : "-wal") {
		snprintf(path, sizeof path, "%s%s", dbpath, suffix);
		if ((db = fopen(path, "rb")) == NULL)
			continue;
		while ((n = fread(buf, 1, sizeof buf, db)) > 0)
			if (memmem(buf, n, secret, strlen(secret)))
				fail_msg("%s holds the client secret", path);
		fclose(db);
	}
	/* Switching provider forgets it: another provider's secret is no use. */
	EXPECT_INT(outbox_server_set(f->h, loaded, OUTBOX_SERVER_OAUTH, "custom"), 0, "switch to custom");
	EXPECT_INT(outbox_server_oauth_client_secret_source(loaded), OUTBOX_PASSWORD_NONE, "secret forgotten");
	outbox_server_free(s);
	outbox_server_free(loaded);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_presets_are_the_documented_values),
		cmocka_unit_test(test_endpoint_urls),
		cmocka_unit_test(test_tenants),
		cmocka_unit_test(test_scopes_and_client_ids),
		cmocka_unit_test_setup_teardown(test_preset_fills_what_was_not_typed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_whole_record_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_secret_kept_outside_the_database, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
