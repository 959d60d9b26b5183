# tests/e2e/test_oauth_settings.py: `outbox server add|edit --oauth` through the real binary: what
# each provider's preset fills in, what the user's own options override, every refusal, and the
# client secret kept out of the database and every output.
import os
import secrets
import sqlite3

import pytest

MS_ID = "0a1b2c3d-0000-4000-8000-123456789abc"   # shaped like an Entra app ID, registered by nobody
GOOGLE_ID = "1234-made-up.apps.googleusercontent.com"


def show(ob, name):
    return ob.ok("server", "show", name, "--json").json()


def expect_fields(got, want, context):
    for key, value in want.items():
        assert got.get(key) == value, f"{context}: {key}: got {got.get(key)!r}, want {value!r}"


@pytest.fixture
def client_secret():
    """A client secret made up for this test run only."""
    return "cs-" + secrets.token_urlsafe(18)


def test_microsoft_preset_fills_the_documented_settings(ob):
    r = ob.ok("server", "add", "m365", "--oauth", "microsoft", "--user", "ann@contoso.example",
              "--oauth-client-id", MS_ID)
    assert "OAuth microsoft" in r.out and MS_ID in r.out, r.describe()
    base = "https://login.microsoftonline.com/common/oauth2/v2.0/"
    expect_fields(show(ob, "m365"), {
        "host": "smtp.office365.com", "port": 587, "security": "starttls", "auth": "xoauth2",
        "oauth": "microsoft", "oauth_client_id": MS_ID, "oauth_tenant": "common",
        "oauth_scope": "https://outlook.office.com/SMTP.Send offline_access",
        "oauth_device_url": base + "devicecode", "oauth_authorize_url": base + "authorize",
        "oauth_token_url": base + "token", "oauth_revoke_url": "", "password": "none",
        "oauth_client_secret": "none"}, "microsoft preset")


def test_microsoft_tenant_goes_into_every_endpoint(ob):
    ob.ok("server", "add", "m365", "--oauth", "microsoft", "--oauth-tenant", "contoso.onmicrosoft.com",
          "--user", "ann@contoso.example", "--oauth-client-id", MS_ID)
    base = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/"
    want = {"oauth_tenant": "contoso.onmicrosoft.com", "oauth_device_url": base + "devicecode",
            "oauth_authorize_url": base + "authorize", "oauth_token_url": base + "token"}
    expect_fields(show(ob, "m365"), want, "tenant given on add")
    ob.ok("server", "edit", "m365", "--oauth-tenant", "9188040d-6c67-4c5b-b112-36a304b66dad")
    base = "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/oauth2/v2.0/"
    expect_fields(show(ob, "m365"), {"oauth_token_url": base + "token",
                                     "oauth_device_url": base + "devicecode"}, "tenant edited")


def test_google_preset_fills_the_documented_settings(ob):
    ob.ok("server", "add", "gmail", "--oauth", "google", "--user", "bob@gmail.example",
          "--oauth-client-id", GOOGLE_ID)
    expect_fields(show(ob, "gmail"), {
        "host": "smtp.gmail.com", "port": 465, "security": "tls", "auth": "xoauth2",
        "oauth": "google", "oauth_tenant": "", "oauth_scope": "https://mail.google.com/",
        "oauth_device_url": "https://oauth2.googleapis.com/device/code",
        "oauth_authorize_url": "https://accounts.google.com/o/oauth2/v2/auth",
        "oauth_token_url": "https://oauth2.googleapis.com/token",
        "oauth_revoke_url": "https://oauth2.googleapis.com/revoke"}, "google preset")


def test_options_given_override_the_preset_in_any_order(ob):
    ob.ok("server", "add", "a", "--host", "smtp-eu.example", "--security", "tls", "--auth", "oauthbearer",
          "--oauth", "microsoft", "--user", "ann@contoso.example", "--oauth-client-id", MS_ID)
    ob.ok("server", "add", "b", "--oauth", "microsoft", "--user", "bob@contoso.example",
          "--oauth-client-id", MS_ID, "--host", "smtp-eu.example", "--port", "2587",
          "--oauth-scope", "https://outlook.office.com/SMTP.Send")
    expect_fields(show(ob, "a"), {"host": "smtp-eu.example", "security": "tls", "port": 465,
                                  "auth": "oauthbearer"}, "given before --oauth")
    expect_fields(show(ob, "b"), {"host": "smtp-eu.example", "security": "starttls", "port": 2587,
                                  "oauth_scope": "https://outlook.office.com/SMTP.Send"},
                  "given after --oauth")


def test_custom_takes_every_endpoint_by_option(ob):
    ob.ok("server", "add", "idp", "--oauth", "custom", "--host", "mail.example.org",
          "--user", "c@example.org", "--oauth-client-id", "outbox-test",
          "--oauth-token-url", "http://127.0.0.1:8080/token",
          "--oauth-authorize-url", "http://[::1]:8080/authorize",
          "--oauth-device-url", "http://localhost:8080/device", "--oauth-scope", "smtp offline")
    expect_fields(show(ob, "idp"), {
        "host": "mail.example.org", "auth": "xoauth2", "oauth": "custom",
        "oauth_token_url": "http://127.0.0.1:8080/token",
        "oauth_authorize_url": "http://[::1]:8080/authorize",
        "oauth_device_url": "http://localhost:8080/device", "oauth_scope": "smtp offline"},
        "custom endpoints")


REFUSALS = [
    ("missing client id", ["--oauth", "microsoft", "--user", "a@contoso.example"],
     "oauth-client-id: is required"),
    ("http to another host", ["--oauth", "custom", "--host", "mail.example.org", "--user", "a@example.org",
                              "--oauth-client-id", "x", "--oauth-scope", "s",
                              "--oauth-device-url", "https://idp.example.org/device",
                              "--oauth-token-url", "http://idp.example.org/token"],
     "oauth-token-url: http://idp.example.org/token is plain http:// to another machine"),
    ("bad tenant", ["--oauth", "microsoft", "--user", "a@contoso.example", "--oauth-client-id", MS_ID,
                    "--oauth-tenant", "contoso/../evil"], "oauth-tenant: contoso/../evil is not a tenant"),
    ("password with oauth", ["--oauth", "microsoft", "--user", "a@contoso.example", "--oauth-client-id", MS_ID,
                             "--password-command", "printf x"], "password: an OAuth server signs in with a token"),
    ("custom without token url", ["--oauth", "custom", "--host", "mail.example.org", "--user", "a@example.org",
                                  "--oauth-client-id", "x", "--oauth-scope", "s",
                                  "--oauth-device-url", "https://idp.example.org/device"],
     "oauth-token-url: is required with --oauth custom"),
    ("plain auth with oauth", ["--oauth", "google", "--user", "b@gmail.example", "--oauth-client-id", GOOGLE_ID,
                               "--auth", "plain"], "auth: plain cannot carry an OAuth token"),
    ("client id without oauth", ["--host", "mail.example.org", "--oauth-client-id", "x"],
     "oauth-client-id: has no effect without --oauth"),
]


@pytest.mark.parametrize("case,args,want", REFUSALS, ids=[c[0] for c in REFUSALS])
def test_refusals_are_one_line_and_change_nothing(ob, password, case, args, want):
    ob.ok("server", "add", "keep", "--host", "smtp.keep.example")
    before = ob.fingerprint()
    r = ob.fails(65, "server", "add", "new", *args)
    assert r.err.rstrip("\n").count("\n") == 0, f"{case}: want one line, got:\n" + r.describe()
    assert r.err.startswith("outbox: " + want), f"{case}: want {want!r}, got:\n" + r.describe()
    assert ob.fingerprint() == before, f"{case}: the store changed"
    assert not os.path.exists(os.path.join(ob.home, "secrets")), f"{case}: a secret was written"


def test_password_stdin_with_oauth_is_refused_and_nothing_stored(ob, password):
    ob.ok("server", "add", "keep", "--host", "smtp.keep.example")
    before = ob.fingerprint()
    r = ob.fails(65, "server", "add", "m", "--oauth", "microsoft", "--user", "a@contoso.example",
                 "--oauth-client-id", MS_ID, "--password-stdin", input=password)
    assert "password: an OAuth server signs in with a token" in r.err, r.describe()
    assert ob.fingerprint() == before, "the store changed"
    assert not os.path.exists(os.path.join(ob.home, "secrets")), "the password was stored"


def test_stored_password_must_be_dropped_to_switch_to_oauth(ob, password):
    ob.ok("server", "add", "work", "--host", "smtp.office365.com", "--user", "a@contoso.example",
          "--password-stdin", input=password)
    before = ob.fingerprint()
    r = ob.fails(65, "server", "edit", "work", "--oauth", "microsoft", "--oauth-client-id", MS_ID)
    assert "password: server \"work\" has a stored password" in r.err and "--no-password" in r.err, r.describe()
    assert ob.fingerprint() == before, "the store changed"
    ob.ok("server", "edit", "work", "--oauth", "microsoft", "--oauth-client-id", MS_ID, "--no-password")
    expect_fields(show(ob, "work"), {"password": "none", "oauth": "microsoft", "auth": "xoauth2"}, "switched")
    assert os.listdir(os.path.join(ob.home, "secrets")) == [], "the old password file is gone"


def every_output(ob, name):
    outs = []
    for args in (["server", "show", name], ["server", "show", name, "--json"], ["server", "list"],
                 ["server", "list", "--json"]):
        r = ob.ok(*args)
        outs.append(r.out + r.err)
    return "\n".join(outs)


def test_client_secret_is_stored_like_a_password_and_shown_nowhere(ob, client_secret):
    r = ob.ok("server", "add", "gmail", "--oauth", "google", "--user", "bob@gmail.example",
              "--oauth-client-id", GOOGLE_ID, "--oauth-client-secret-stdin", input=client_secret)
    assert client_secret not in r.out + r.err, r.describe()
    assert show(ob, "gmail")["oauth_client_secret"] == "file"
    files = os.listdir(os.path.join(ob.home, "secrets"))
    assert len(files) == 1, f"want one secret file, got {files}"
    with open(os.path.join(ob.home, "secrets", files[0])) as f:
        assert f.read().strip() == client_secret, "the secret file holds the client secret"
    for suffix in ("", "-wal"):
        if os.path.exists(ob.db + suffix):
            with open(ob.db + suffix, "rb") as f:
                assert client_secret.encode() not in f.read(), f"outbox.db{suffix} holds the client secret"
    assert client_secret not in every_output(ob, "gmail"), "an output shows the client secret"
    assert "stored in a private file" in ob.ok("server", "show", "gmail").out


def test_no_oauth_clears_the_settings_and_the_secret(ob, client_secret):
    ob.ok("server", "add", "gmail", "--oauth", "google", "--user", "bob@gmail.example",
          "--oauth-client-id", GOOGLE_ID, "--oauth-client-secret-stdin", input=client_secret)
    ob.ok("server", "edit", "gmail", "--no-oauth")
    got = show(ob, "gmail")
    want = {"oauth": "none", "oauth_client_id": "", "oauth_scope": "", "oauth_token_url": "",
            "oauth_authorize_url": "", "oauth_device_url": "", "oauth_revoke_url": "",
            "oauth_client_secret": "none", "auth": "auto", "host": "smtp.gmail.com"}
    expect_fields(got, want, "after --no-oauth")
    assert os.listdir(os.path.join(ob.home, "secrets")) == [], "the client secret file is gone"
    out = ob.ok("server", "show", "gmail").out
    assert "OAuth Client ID" not in out and "OAuth Provider:" in out, out


def test_remove_and_undo_bring_the_oauth_server_back(ob, client_secret):
    ob.ok("server", "add", "gmail", "--oauth", "google", "--user", "bob@gmail.example",
          "--oauth-client-id", GOOGLE_ID, "--oauth-client-secret-stdin", input=client_secret)
    before = show(ob, "gmail")
    ob.ok("server", "remove", "gmail")
    ob.fails(65, "server", "show", "gmail")
    ob.ok("undo")
    assert show(ob, "gmail") == before, "undo restores every OAuth setting"
    ob.ok("server", "remove", "gmail", "--purge")
    assert os.listdir(os.path.join(ob.home, "secrets")) == [], "--purge deletes the client secret"


def test_store_columns_hold_no_secret_only_where_it_is(ob, client_secret):
    ob.ok("server", "add", "gmail", "--oauth", "google", "--user", "bob@gmail.example",
          "--oauth-client-id", GOOGLE_ID, "--oauth-client-secret-stdin", input=client_secret)
    db = sqlite3.connect(f"file:{ob.db}?mode=ro", uri=True)
    row = db.execute("SELECT oauth_provider, oauth_client_id, oauth_secret_source FROM servers").fetchone()
    db.close()
    assert row == ("google", GOOGLE_ID, "file"), f"got {row}"


def test_list_shows_provider_and_client_id(ob):
    ob.ok("server", "add", "plain", "--host", "mail.example.org")
    ob.ok("server", "add", "m365", "--oauth", "microsoft", "--user", "ann@contoso.example",
          "--oauth-client-id", MS_ID)
    lines = ob.ok("server", "list").out.splitlines()
    assert lines[0].split()[-3:] == ["OAUTH", "CLIENT", "ID"], f"got header {lines[0]!r}"
    m365 = next(line for line in lines if " m365 " in line)
    assert "microsoft" in m365 and MS_ID in m365, m365
    plain = next(line for line in lines if " plain " in line)
    assert plain.split()[-2:] == ["-", "-"], plain


def test_sending_before_sign_in_says_to_sign_in_not_to_set_a_password(ob):
    ob.ok("server", "add", "m365", "--oauth", "microsoft", "--user", "ann@contoso.example",
          "--oauth-client-id", MS_ID)
    ob.ok("account", "add", "ann@contoso.example", "--server", "m365")
    r = ob.run("send", "-f", "ann@contoso.example", "bob@example.org", input="Subject: t\n\nbody\n")
    # Not signed in is a refused login for the policy (fallbacks tried, queued mail waits): 77.
    assert r.code == 77, "want exit 77 (login refused), got:\n" + r.describe()
    assert "outbox server login m365" in r.err, "want the sign-in command, got:\n" + r.describe()
    assert "password" not in r.err, "an OAuth server needs no password, got:\n" + r.describe()
