# tests/e2e/test_setup_auto.py: `outbox server edit NAME --auto` end to end: discovery again for a
# saved server, against the same dnsmasq, HTTPS autoconfig server and aiosmtpd as test_setup_cli.
"""A provider "moves" by its autoconfig naming a new host and port while the saved server still
names the old ones; both are real aiosmtpd servers taking the same user and password."""
import json

from test_setup_cli import (AUTOCONFIG_PATH, DATAERR, NOPERM, autoconfig_world, document,  # noqa: F401
                            expect, world)

DOMAIN = "move.test"
USER = f"alice@{DOMAIN}"


def moved_world(world, user=USER):
    """The old server (the saved one) and the new one autoconfig now names, same credentials."""
    w = world(DOMAIN)
    old = w.smtp_server([f"smtp-old.{DOMAIN}"], user=user)
    new = w.smtp_server([f"smtp.{DOMAIN}"], password=old.password, user=user)
    w.https({(f"autoconfig.{DOMAIN}", AUTOCONFIG_PATH): document(DOMAIN, f"smtp.{DOMAIN}", new.port, "Move Mail")})
    return w, old, new


def add_old_server(ob, w, old, password, user=USER):
    ob.ok("server", "add", "move", "--host", f"smtp-old.{DOMAIN}", "--port", str(old.port), "--security", "tls",
          "--auth", "plain", "--user", user, "--tls-ca", w.pki.ca_cert, "--password-stdin", input=password + "\n")


def server(ob, name):
    return ob.ok("server", "show", name, "--json").json()


def test_a_moved_server_is_updated_and_its_account_still_uses_it(ob, world):
    w, old, new = moved_world(world)
    add_old_server(ob, w, old, old.password)
    ob.ok("account", "add", USER, "--server", "move")
    r = ob.run("server", "edit", "move", "--auto", *w.options())
    expect(r.code, 0, "exit status", r)
    assert f"Looking up {USER} (its user name)" in r.out, r.describe()
    for line in (f"Host: smtp-old.{DOMAIN} \u2192 smtp.{DOMAIN}", f"Port: {old.port} \u2192 {new.port}"):
        assert line in r.out.splitlines(), f"want the line {line!r}\n" + r.describe()
    assert "Security:" not in r.out and "Auth:" not in r.out, "unchanged fields are not listed\n" + r.describe()
    assert old.password not in r.out + r.err, "the password is never printed\n" + r.describe()
    s = server(ob, "move")
    got = (s["host"], s["port"], s["security"], s["auth"], s["user"], s["password"])
    expect(got, (f"smtp.{DOMAIN}", new.port, "tls", "plain", USER, "file"), "the saved server", r)
    a = ob.ok("account", "show", USER, "--json").json()
    expect(a["server"], "move", "the account's server", r)

    # Once saved, discovery finds what is stored: nothing more to change.
    before = ob.fingerprint()
    r = ob.run("server", "edit", "move", "--auto", *w.options())
    expect(r.code, 0, "exit status of the second run", r)
    assert "no change: the settings are what discovery finds" in r.out.splitlines(), r.describe()
    expect(ob.fingerprint(), before, "the store after no change", r)


def test_a_server_setup_saved_is_found_unchanged(ob, world):
    w, srv = autoconfig_world(world)
    ob.ok("setup", "alice@login.test", "--password-stdin", *w.options(), input=srv.password + "\n")
    before = ob.fingerprint()
    r = ob.run("server", "edit", "login.test", "--auto", *w.options())
    expect(r.code, 0, "exit status", r)
    assert "no change: the settings are what discovery finds" in r.out.splitlines(), r.describe()
    assert "Login: logged in as alice@login.test" in r.out, "the stored password was checked\n" + r.describe()
    expect(ob.fingerprint(), before, "the store", r)


def test_dry_run_shows_the_difference_and_saves_nothing(ob, world):
    w, old, new = moved_world(world)
    add_old_server(ob, w, old, old.password)
    before = ob.fingerprint()
    r = ob.run("server", "edit", "move", "--auto", "--dry-run", *w.options())
    expect(r.code, 0, "exit status", r)
    assert f"Host: smtp-old.{DOMAIN} \u2192 smtp.{DOMAIN}" in r.out.splitlines(), r.describe()
    assert "Nothing saved (--dry-run)." in r.out.splitlines(), r.describe()
    expect(ob.fingerprint(), before, "the store after --dry-run", r)

    r = ob.run("server", "edit", "move", "--auto", "--dry-run", "--json", *w.options())
    expect(r.code, 0, "exit status with --json", r)
    doc = json.loads(r.out)
    got = [(c["field"], c["before"], c["after"]) for c in doc["changes"]]
    want = [("host", f"smtp-old.{DOMAIN}", f"smtp.{DOMAIN}"), ("port", str(old.port), str(new.port))]
    expect(got, want, "changes", r)
    expect((doc["address"], doc["address_from"], doc["saved"]), (USER, "its user name", False), "address", r)
    c = doc["discovery"]["candidates"][doc["discovery"]["chosen"]]
    expect((c["host"], c["source"]), (f"smtp.{DOMAIN}", "autoconfig"), "the discovery's choice", r)
    expect(ob.fingerprint(), before, "the store after --dry-run --json", r)


def test_a_wrong_stored_password_exits_77_and_saves_nothing(ob, world):
    w, old, new = moved_world(world)
    add_old_server(ob, w, old, "not-the-password")
    before = ob.fingerprint()
    r = ob.run("server", "edit", "move", "--auto", *w.options())
    expect(r.code, NOPERM, "exit status", r)
    assert r.err.startswith("outbox: ") and "nothing saved" in r.err, r.describe()
    assert "\u2192" not in r.out, "no difference is offered after a refused login\n" + r.describe()
    expect(ob.fingerprint(), before, "the store", r)
    expect(server(ob, "move")["host"], f"smtp-old.{DOMAIN}", "the host", r)


def test_the_first_account_is_the_address_when_the_user_name_is_not_one(ob, world):
    w, old, new = moved_world(world)
    add_old_server(ob, w, old, old.password, user="alice")
    ob.ok("account", "add", USER, "--server", "move")
    before = ob.fingerprint()
    r = ob.run("server", "edit", "move", "--auto", "--dry-run", *w.options())
    expect(r.code, 0, "exit status", r)
    assert f"Looking up {USER} (the first account using it in its host's domain)" in r.out, r.describe()
    assert f"Host: smtp-old.{DOMAIN} \u2192 smtp.{DOMAIN}" in r.out.splitlines(), r.describe()
    expect(ob.fingerprint(), before, "the store after --dry-run", r)

    r = ob.run("server", "edit", "move", "--auto", *w.options())
    expect(r.code, 0, "exit status of the save", r)
    saved = server(ob, "move")
    expect((saved["host"], saved["port"], saved["user"], saved["used_by"]),
           (f"smtp.{DOMAIN}", new.port, USER, [USER]),
           "the server saved (host, port, the address that logged in as its user name, its account)", r)


def test_a_relay_used_by_another_domains_account_is_refused_before_its_password_goes_anywhere(ob, world):
    """The relay's user name is no address and its only account is of another domain: looking that
    domain up would find another provider and try the relay's password there."""
    w = world("other.test")
    other = w.smtp_server(["smtp.other.test"])
    w.https({("autoconfig.other.test", AUTOCONFIG_PATH): document("other.test", "smtp.other.test", other.port,
                                                                   "Other Mail")})
    ob.ok("server", "add", "relay", "--host", "relay.company.test", "--user", "jdoe", "--password-stdin",
          input="relay-secret-" + other.password + "\n")
    ob.ok("account", "add", "aaa@other.test", "--server", "relay")
    before = ob.fingerprint()
    for extra in (["--dry-run"], []):
        r = ob.run("server", "edit", "relay", "--auto", *extra, *w.options())
        expect(r.code, DATAERR, f"exit status {extra}", r)
        lines = r.err.strip().splitlines()
        expect(len(lines), 1, "lines on stderr", r)
        for words in ("no account using it is in the domain of relay.company.test",
                      "outbox setup aaa@other.test --dry-run"):
            assert words in lines[0], f"want {words!r}\n" + r.describe()
        expect(r.out, "", "standard output: nothing was looked up", r)
    assert "other.test" not in w.ns.log(), "nothing of other.test was asked of the resolver\n" + w.ns.log()
    expect(ob.fingerprint(), before, "the store", r)


def test_a_server_with_no_address_is_refused_in_one_line_naming_auto(ob):
    ob.ok("server", "add", "bare", "--host", "smtp.bare.test", "--user", "alice", "--password-stdin",
          input="secret\n")
    before = ob.fingerprint()
    r = ob.run("server", "edit", "bare", "--auto", "--resolver", "127.0.0.1:9", "--timeout", "1")
    expect(r.code, DATAERR, "exit status", r)
    lines = r.err.strip().splitlines()
    expect(len(lines), 1, "lines on stderr", r)
    assert lines[0].startswith("outbox: ") and "--auto" in lines[0] and '"bare"' in lines[0], r.describe()
    expect(r.out, "", "standard output", r)
    expect(ob.fingerprint(), before, "the store", r)


def test_auto_takes_no_settings_of_its_own(ob):
    r = ob.run("server", "edit", "bare", "--auto", "--host", "smtp.x.test")
    expect(r.code, 64, "exit status", r)
    assert "--auto takes only" in r.err and "--host" in r.err, r.describe()


def test_a_server_without_login_stays_without_and_dry_run_agrees_with_the_save(ob, world):
    """aiosmtpd offers AUTH, but a server saved with auth none has no credentials to use it."""
    w, old, new = moved_world(world)
    ob.ok("server", "add", "move", "--host", f"smtp-old.{DOMAIN}", "--port", str(old.port), "--security", "tls",
          "--auth", "none", "--tls-ca", w.pki.ca_cert)
    ob.ok("account", "add", USER, "--server", "move")
    dry = ob.run("server", "edit", "move", "--auto", "--dry-run", *w.options())
    expect(dry.code, 0, "exit status of --dry-run", dry)
    assert f"Host: smtp-old.{DOMAIN} \u2192 smtp.{DOMAIN}" in dry.out.splitlines(), dry.describe()
    assert "Auth:" not in dry.out, "a stored auth none is kept\n" + dry.describe()
    r = ob.run("server", "edit", "move", "--auto", *w.options())
    expect(r.code, 0, "exit status of the save", r)
    s = server(ob, "move")
    expect((s["host"], s["port"], s["auth"], s["user"]), (f"smtp.{DOMAIN}", new.port, "none", ""),
           "the saved server", r)


def test_the_stored_user_name_is_tried_first_and_the_explanation_says_it_logged_in(ob, world):
    # The provider knows this account as "jdoe", neither the address nor its local part.
    w, old, new = moved_world(world, user="jdoe")
    add_old_server(ob, w, old, old.password, user="jdoe")
    ob.ok("account", "add", USER, "--server", "move")
    r = ob.run("server", "edit", "move", "--auto", *w.options())
    expect(r.code, 0, "exit status", r)
    assert "Login: logged in as jdoe, the user name given (tried jdoe)." in r.out.splitlines(), r.describe()
    assert f"Host: smtp-old.{DOMAIN} \u2192 smtp.{DOMAIN}" in r.out.splitlines(), r.describe()
    s = server(ob, "move")
    expect((s["host"], s["port"], s["user"]), (f"smtp.{DOMAIN}", new.port, "jdoe"), "the saved server", r)
