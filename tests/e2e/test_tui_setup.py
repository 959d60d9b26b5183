# tests/e2e/test_tui_setup.py: "Add Account..." in `outbox ui`, driven through tmux, against the same
# small world as test_setup_cli.py: dnsmasq, an HTTPS autoconfig server with the run's CA, aiosmtpd.
"""The UI reaches the world through OUTBOX_SETUP_RESOLVER, OUTBOX_SETUP_ISPDB and
OUTBOX_SETUP_TLS_CA, as a site with its own infrastructure would."""
import shutil
import time

import pytest

from test_setup_cli import (AUTOCONFIG_PATH, ISPDB, autoconfig_world, document, oauth_document,  # noqa: F401
                            silent_resolver, store_files, world)
from servers.pki import make_named_cert
from test_setup_pipeline import slow_lookups_world
from test_tui import quit_clean, ui_factory, wait_status  # noqa: F401

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

ADDRESS = "alice@login.test"


def expect(what, got, want):
    assert got == want, f"{what}: got {got!r}, want {want!r}"


def setup_env(w):
    return {"OUTBOX_SETUP_RESOLVER": w.resolver(), "OUTBOX_SETUP_TLS_CA": w.pki.ca_cert,
            "OUTBOX_SETUP_ISPDB": f"https://{ISPDB}/v1.1/"}


def fill_in(ui, password, name="Alice Example", address=ADDRESS, client_id=""):
    """Accounts page, Add Account..., the three fields, Continue."""
    ui.wait_for("1 Accounts")
    ui.keys("1")
    ui.wait_for("[ Add Account... ]")
    ui.keys("a")
    ui.wait_for("Email Address:", "Full Name:", "Password:")
    ui.type(address)
    ui.keys("Tab")
    ui.type(name)
    ui.keys("Tab")
    ui.type(password)
    if client_id:
        ui.keys("Tab")
        ui.type(client_id)
    if password:
        s = ui.wait_for("*" * len(password))
        assert password not in s, f"the password is hidden as typed, got:\n{s}"
    ui.keys("Enter")


def stored(ob):
    return ob.ok("server", "list", "--json").json(), ob.ok("account", "list", "--json").json()


def test_a_found_server_is_shown_first_and_saved_on_save(ob, ui_factory, world):
    w, srv = autoconfig_world(world)
    ui = ui_factory(env=setup_env(w))
    fill_in(ui, srv.password)
    # With the dialog's last line: a screen read as "Found:" appears may be caught mid-drawing.
    s = ui.wait_for(f"Found: smtp.login.test port {srv.port} tls, login plain", f"Logged in as {ADDRESS}",
                    timeout=30)
    ui.save("setup-found")
    # Long lines wrap inside the dialog: read them joined again, without the frame.
    joined = "".join(line.strip().strip("│").strip() for line in s.splitlines())
    url = "https://autoconfig.login.test/mail/config-v1.1.xml?emailaddress=alice%40login.test"
    assert f"From: autoconfig (Login Mail),{url}" in joined, s
    assert f"Logged in as {ADDRESS}" in s, s
    assert "looking up the settings of login.test" in s, f"want the stages kept above, got:\n{s}"
    expect("the store before Save", stored(ob), ([], []))
    ui.keys("Enter")  # Save has the focus
    s = wait_status(ui, f"Added account {ADDRESS}, sending through the new server \"login.test\". Press u to undo.")
    ui.save("setup-saved")
    assert ADDRESS in s, f"want the new account in the list, got:\n{s}"
    got = ob.ok("server", "show", "login.test", "--json").json()
    expect("server", (got["host"], got["port"], got["security"], got["auth"], got["user"], got["password"],
                      got["tls_ca"]),
           ("smtp.login.test", srv.port, "tls", "plain", ADDRESS, "file", w.pki.ca_cert))
    a = ob.ok("account", "show", ADDRESS, "--json").json()
    expect("account", (a["server"], a["name"]), ("login.test", "Alice Example"))
    quit_clean(ui)


def test_u_after_add_account_takes_the_setup_back(ob, ui_factory, world):
    w, srv = autoconfig_world(world)
    ui = ui_factory(env=setup_env(w))
    fill_in(ui, srv.password)
    ui.wait_for("Found: smtp.login.test", timeout=30)
    ui.keys("Enter")  # Save
    wait_status(ui, "Press u to undo.")
    assert store_files(ob), "the setup keeps its password in a file of the store"
    ui.keys("u")
    s = wait_status(ui, f'Took back the setup of {ADDRESS}: removed account {ADDRESS} and server "login.test".')
    ui.save("setup-undone")
    listed = "\n".join(s.splitlines()[:-3])  # all but the status area, which names it
    assert ADDRESS not in listed, f"want the account gone from the list, got:\n{s}"
    expect("the store after u", stored(ob), ([], []))
    expect("files in the store after u", store_files(ob), [])
    quit_clean(ui)


def test_cancel_after_the_result_saves_nothing(ob, ui_factory, world):
    w, srv = autoconfig_world(world)
    ob.ok("server", "list")
    before = ob.fingerprint()
    ui = ui_factory(env=setup_env(w))
    fill_in(ui, srv.password)
    ui.wait_for("Found: smtp.login.test", timeout=30)
    ui.keys("M-n")
    wait_status(ui, "Add Account cancelled; nothing was saved.")
    expect("the store after Cancel", ob.fingerprint(), before)
    quit_clean(ui)


def silent_env(pki, resolver):
    return {"OUTBOX_SETUP_RESOLVER": resolver, "OUTBOX_SETUP_TLS_CA": pki.ca_cert,
            "OUTBOX_SETUP_ISPDB": f"https://{ISPDB}/v1.1/"}


def test_esc_while_it_runs_closes_the_dialog_and_saves_nothing(ob, ui_factory, pki, silent_resolver):
    ob.ok("server", "list")
    before = ob.fingerprint()
    ui = ui_factory(env=silent_env(pki, silent_resolver))
    fill_in(ui, "secret", address="bob@silent.test")
    # Nothing answers: the run is still waiting when Esc comes.
    ui.wait_for("looking up the settings of silent.test", "Looking for your server... no mail is sent.")
    ui.save("setup-running")
    ui.keys("Escape")
    wait_status(ui, "Add Account cancelled; nothing was saved.")
    expect("the store after Esc", ob.fingerprint(), before)
    quit_clean(ui)  # exits 0 with the worker still waiting, or after it ended


def auth_sent(srv, within):
    """Whether the SMTP server was sent an AUTH command in the next `within` seconds."""
    until = time.monotonic() + within
    while time.monotonic() < until:
        if ">> b'AUTH" in srv.log():
            return True
        time.sleep(0.1)
    return ">> b'AUTH" in srv.log()


def test_esc_while_it_runs_keeps_the_password_from_the_server_it_found(ob, ui_factory, world):
    # The lookups are held past the run's 5 s; smtp.slow.test answers at once, with this password.
    w, srv = slow_lookups_world(world)
    ob.ok("server", "list")
    before = ob.fingerprint()
    ui = ui_factory(env=setup_env(w))
    fill_in(ui, srv.password, address="alice@slow.test")
    ui.wait_for("Looking for your server... no mail is sent.")
    ui.keys("Escape")
    wait_status(ui, "Add Account cancelled; nothing was saved.")
    # A run left going would check the login once its lookups gave up (5 s): watch past that.
    assert not auth_sent(srv, within=12), "want no AUTH after Esc, got one; the server's log:\n" + srv.log()
    expect("the store after Esc", ob.fingerprint(), before)
    quit_clean(ui)


def test_when_nothing_answers_what_was_tried_is_shown_and_nothing_saved(ob, ui_factory, pki, silent_resolver):
    ob.ok("server", "list")
    before = ob.fingerprint()
    ui = ui_factory(120, 40, env=silent_env(pki, silent_resolver))
    fill_in(ui, "secret", address="bob@silent.test")
    s = ui.wait_for("Failed: no usable server found for silent.test", timeout=60)
    ui.save("setup-nothing-answers")
    for source in ("autoconfig", "well-known", "ISPDB", "SRV", "MX"):
        assert f"  {source} " in s and "no answer" in s, f"want {source} listed as tried, got:\n{s}"
    assert "probed smtp.silent.test port 465 tls:" in s, s
    assert "[ Save ]" not in s and "Nothing was saved." in s, s
    ui.keys("Escape")
    wait_status(ui, "Add Account cancelled; nothing was saved.")
    expect("the store", ob.fingerprint(), before)
    quit_clean(ui)


def test_a_wrong_password_is_shown_and_nothing_is_saved(ob, ui_factory, world):
    w, srv = autoconfig_world(world)
    ob.ok("server", "list")
    before = ob.fingerprint()
    ui = ui_factory(env=setup_env(w))
    fill_in(ui, "not-the-password")
    s = ui.wait_for("Failed:", "Login refused for", timeout=30)
    ui.save("setup-wrong-password")
    assert "[ Save ]" not in s, f"want no Save after a refused login, got:\n{s}"
    assert "Nothing was saved." in s, s
    ui.keys("Enter")  # Cancel has the focus
    wait_status(ui, "Add Account cancelled; nothing was saved.")
    expect("the store after a refused login", ob.fingerprint(), before)
    quit_clean(ui)


def test_edit_manually_opens_the_server_form_prefilled(ob, ui_factory, world):
    w, srv = autoconfig_world(world)
    ui = ui_factory(env=setup_env(w))
    fill_in(ui, srv.password)
    ui.wait_for("Found: smtp.login.test", timeout=30)
    ui.keys("M-e")
    s = ui.wait_for('New server "login.test"', "smtp.login.test", f"Port: {srv.port}")
    ui.save("setup-edit-manually")
    assert "Login Mail" in s, f"want the provider's name as the description, got:\n{s}"
    expect("the store before the form's OK", stored(ob), ([], []))
    ui.keys("M-o")  # the form's own OK saves it, with the password typed in the dialog
    s = wait_status(ui, f'Saved server "login.test". New account {ADDRESS} on it: OK (Enter) adds it')
    ui.save("setup-edit-manually-account")
    assert "Outgoing Mail Server: Login Mail (smtp.lo" in s and "Full Name: Alice Example" in s, s
    got = ob.ok("server", "show", "login.test", "--json").json()
    expect("server", (got["host"], got["port"], got["security"], got["user"], got["description"],
                      got["password"]),
           ("smtp.login.test", srv.port, "tls", ADDRESS, "Login Mail", "file"))
    expect("accounts before the account form's OK", ob.ok("account", "list", "--json").json(), [])
    ui.keys("Enter")  # OK in the account form
    wait_status(ui, f"Saved account {ADDRESS}")
    a = ob.ok("account", "show", ADDRESS, "--json").json()
    expect("account", (a["server"], a["name"]), ("login.test", "Alice Example"))
    quit_clean(ui)


def test_edit_manually_then_cancel_saves_nothing(ob, ui_factory, world):
    w, srv = autoconfig_world(world)
    ui = ui_factory(env=setup_env(w))
    fill_in(ui, srv.password)
    ui.wait_for("Found: smtp.login.test", timeout=30)
    ui.keys("M-e")
    ui.wait_for('New server "login.test"')
    ui.keys("M-n")  # the form's Cancel
    ui.wait_gone("(new server)")
    expect("the store after the form's Cancel", stored(ob), ([], []))
    quit_clean(ui)


def test_an_address_without_a_domain_is_refused_in_the_dialog(ob, ui_factory):
    ob.ok("server", "list")
    before = ob.fingerprint()
    ui = ui_factory()
    fill_in(ui, "", address="bob")
    s = ui.wait_for("Email Address: type the whole address, name@domain")
    assert "Looking for your server" not in s, s
    ui.keys("Escape")
    wait_status(ui, "Add Account cancelled; nothing was saved.")
    expect("the store", ob.fingerprint(), before)
    quit_clean(ui)


def test_an_address_with_an_account_is_refused_beside_the_field_before_any_lookup(ob, ui_factory):
    ob.ok("server", "add", "mine", "--host", "smtp.mine.test")
    ob.ok("account", "add", ADDRESS, "--server", "mine")
    before = ob.fingerprint()
    ui = ui_factory()
    fill_in(ui, "")
    s = ui.wait_for(f"Email Address: an account for {ADDRESS} already exists:")
    assert "Looking for your server" not in s, s
    joined = " ".join(line.strip().strip("\u2502").strip() for line in s.splitlines())
    for words in (f"outbox account remove {ADDRESS}", "outbox server edit mine --auto"):
        assert words in joined, f"want {words!r} in the dialog, got:\n{s}"
    ui.keys("Escape")
    wait_status(ui, "Add Account cancelled; nothing was saved.")
    expect("the store", ob.fingerprint(), before)
    quit_clean(ui)


def test_an_oauth_provider_is_saved_with_the_client_id_and_offers_the_sign_in(ob, ui_factory, world, oauth_provider,
                                                                              pki):
    from servers.oauth_smtp import OAuthSmtp
    d = "oauth.test"
    w = world(d)
    cert, key = make_named_cert(pki, "smtp-oauth", [f"smtp.{d}"])
    with OAuthSmtp(oauth_provider, cert, key, implicit_tls=True) as srv:
        w.hosts.append((f"smtp.{d}", srv.host, None))
        w.https({(f"autoconfig.{d}", AUTOCONFIG_PATH): oauth_document(d, f"smtp.{d}", srv.port)})
        ui = ui_factory(env=setup_env(w))
        fill_in(ui, "", address=f"alice@{d}", client_id="my-client-id")
        s = ui.wait_for(f"Found: smtp.{d} port {srv.port} tls, login xoauth2", timeout=30)
        assert "An OAuth 2.0 sign-in: you sign in after Save." in s, s
        expect("the store before Save", stored(ob), ([], []))
        ui.keys("M-s")
        s = ui.wait_for(f"Sign in with OAuth Mail as alice@{d} now?")
        ui.save("setup-oauth-sign-in")
        ui.keys("M-l")  # Later: the sign-in itself is the Sign In dialog's, tested in test_tui_oauth.py
        ui.wait_gone("Sign in with OAuth Mail")
        s = ob.ok("server", "show", d, "--json").json()
        got = (s["host"], s["auth"], s["oauth"], s["oauth_client_id"], s["user"], s["password"])
        expect("server", got, (f"smtp.{d}", "xoauth2", "google", "my-client-id", f"alice@{d}", "none"))
        expect("account's server", ob.ok("account", "show", f"alice@{d}", "--json").json()["server"], d)
        quit_clean(ui)


def test_edit_manually_fills_in_what_save_would_save(ob, ui_factory, world):
    # The provider knows alice by her local part, and a server is named login.test already: the
    # form gets the user name that logged in, a free name and the site's CA, as Save would.
    d = "login.test"
    w = world(d)
    srv = w.smtp_server([f"smtp.{d}"], user="alice")
    w.https({(f"autoconfig.{d}", AUTOCONFIG_PATH): document(d, f"smtp.{d}", srv.port, "Login Mail")})
    ob.ok("server", "add", d, "--host", "old.example.net")
    ui = ui_factory(env=setup_env(w))
    fill_in(ui, srv.password)
    ui.wait_for(f"Found: smtp.{d}", "Logged in as alice (the local part)", timeout=30)
    ui.keys("M-e")
    s = ui.wait_for(f'New server "{d}-2"', f"smtp.{d}")
    ui.save("setup-edit-manually-local-part")
    ui.keys("M-o")  # the form's OK: refused before, the name being taken
    wait_status(ui, f'Saved server "{d}-2". New account {ADDRESS} on it: OK (Enter) adds it')
    got = ob.ok("server", "show", f"{d}-2", "--json").json()
    expect("server", (got["host"], got["port"], got["user"], got["password"], got["tls_ca"]),
           (f"smtp.{d}", srv.port, "alice", "file", w.pki.ca_cert))
    ui.keys("Enter")  # OK in the account form
    wait_status(ui, f"Saved account {ADDRESS}")
    expect("account's server", ob.ok("account", "show", ADDRESS, "--json").json()["server"], f"{d}-2")
    quit_clean(ui)


def test_edit_manually_keeps_an_oauth_sign_in_and_its_client_id(ob, ui_factory, world, oauth_provider, pki):
    from servers.oauth_smtp import OAuthSmtp
    d = "oauth.test"
    w = world(d)
    cert, key = make_named_cert(pki, "smtp-oauth", [f"smtp.{d}"])
    with OAuthSmtp(oauth_provider, cert, key, implicit_tls=True) as srv:
        w.hosts.append((f"smtp.{d}", srv.host, None))
        w.https({(f"autoconfig.{d}", AUTOCONFIG_PATH): oauth_document(d, f"smtp.{d}", srv.port)})
        ui = ui_factory(env=setup_env(w))
        fill_in(ui, "", address=f"alice@{d}", client_id="my-client-id")
        ui.wait_for(f"Found: smtp.{d} port {srv.port} tls, login xoauth2", timeout=30)
        ui.keys("M-e")
        ui.wait_for(f'New server "{d}"')
        ui.keys("M-o")
        wait_status(ui, f'Saved server "{d}". New account alice@{d} on it: OK (Enter) adds it')
        s = ob.ok("server", "show", d, "--json").json()
        got = (s["host"], s["auth"], s["oauth"], s["oauth_client_id"], s["tls_ca"])
        expect("server", got, (f"smtp.{d}", "xoauth2", "google", "my-client-id", w.pki.ca_cert))
        ui.keys("Enter")  # OK in the account form
        wait_status(ui, f"Saved account alice@{d}")
        quit_clean(ui)


def test_back_after_a_refused_login_keeps_what_was_typed_and_runs_again(ob, ui_factory, world):
    w, srv = autoconfig_world(world)
    ui = ui_factory(env=setup_env(w))
    typo = "not-the-password"
    fill_in(ui, typo)
    s = ui.wait_for("Login refused for", "[ Back ]", timeout=30)
    ui.save("setup-back-offered")
    ui.keys("M-b")
    s = ui.wait_for("Email Address:", ADDRESS, "Alice Example", "*" * len(typo))
    ui.save("setup-back")
    assert typo not in s, f"the password stays hidden, got:\n{s}"
    expect("the store after Back", stored(ob), ([], []))
    # The password field has the focus: clear it, type the right one, run again.
    ui.keys("C-u")
    ui.type(srv.password)
    ui.keys("Enter")
    ui.wait_for(f"Found: smtp.login.test port {srv.port} tls", f"Logged in as {ADDRESS}", timeout=30)
    ui.keys("Enter")  # Save
    wait_status(ui, f"Added account {ADDRESS}, sending through the new server \"login.test\". Press u to undo.")
    got = ob.ok("server", "show", "login.test", "--json").json()
    expect("server", (got["host"], got["user"], got["password"]), ("smtp.login.test", ADDRESS, "file"))
    a = ob.ok("account", "show", ADDRESS, "--json").json()
    expect("account", (a["server"], a["name"]), ("login.test", "Alice Example"))
    quit_clean(ui)


def test_back_is_clickable_after_nothing_was_found(ob, ui_factory, pki, silent_resolver):
    ui = ui_factory(120, 40, env=silent_env(pki, silent_resolver))
    fill_in(ui, "secret", address="bob@silent.test")
    ui.wait_for("Failed: no usable server found for silent.test", "[ Back ]", timeout=60)
    ui.click_text("[ Back ]", 2)
    s = ui.wait_for("Email Address:", "bob@silent.test", "Alice Example", "******")
    assert "Continue to look again" in s, s
    ui.keys("Escape")
    wait_status(ui, "Add Account cancelled; nothing was saved.")
    quit_clean(ui)


@pytest.mark.parametrize("password", ["", "typed-by-habit"])
def test_an_oauth_provider_offers_its_sign_in_and_asks_for_the_client_id(ob, ui_factory, world, oauth_provider,
                                                                        pki, password):
    from servers.oauth_smtp import OAuthSmtp
    d = "oauth.test"
    w = world(d)
    cert, key = make_named_cert(pki, "smtp-oauth", [f"smtp.{d}"])
    with OAuthSmtp(oauth_provider, cert, key, implicit_tls=True) as srv:
        w.hosts.append((f"smtp.{d}", srv.host, None))
        w.https({(f"autoconfig.{d}", AUTOCONFIG_PATH): oauth_document(d, f"smtp.{d}", srv.port)})
        ui = ui_factory(120, 40, env=setup_env(w))
        fill_in(ui, password, address=f"alice@{d}")
        s = ui.wait_for(f"{d} signs in with Google (OAuth 2.0)", "[ Sign in with Google... ]", timeout=30)
        ui.save(f"setup-oauth-offer{'-password' if password else ''}")
        assert "[ Save ]" not in s, f"want no Save without a Client ID, got:\n{s}"
        expect("the store before the Client ID", stored(ob), ([], []))
        ui.keys("Enter")  # Sign in with Google... has the focus
        s = ui.wait_for("OAuth Client ID:", "Google signs in with OAuth 2.0: type your app's Client ID")
        ui.save("setup-oauth-client-id")
        if password:
            assert "*" * len(password) not in s, f"want the password dropped for the sign-in, got:\n{s}"
        ui.type("my-client-id")
        ui.keys("Enter")
        ui.wait_for(f"Found: smtp.{d} port {srv.port} tls, login xoauth2", "you sign in after Save", timeout=30)
        ui.keys("M-s")
        ui.wait_for(f"Sign in with OAuth Mail as alice@{d} now?")
        ui.keys("M-l")
        ui.wait_gone("Sign in with OAuth Mail")
        s = ob.ok("server", "show", d, "--json").json()
        got = (s["host"], s["auth"], s["oauth"], s["oauth_client_id"], s["password"])
        expect("server", got, (f"smtp.{d}", "xoauth2", "google", "my-client-id", "none"))
        quit_clean(ui)


def test_edit_manually_after_nothing_was_usable_opens_the_form_and_says_why(ob, ui_factory, pki, silent_resolver):
    ui = ui_factory(120, 40, env=silent_env(pki, silent_resolver))
    fill_in(ui, "secret", address="bob@silent.test")
    ui.wait_for("Failed: no usable server found for silent.test", "[ Edit manually ]", timeout=60)
    ui.keys("M-e")
    s = ui.wait_for('New server "silent.test"', "Edit manually: smtp.silent.test port 465 cannot be used")
    ui.save("setup-edit-manually-unusable")
    expect("the store while the form is open", stored(ob), ([], []))
    ui.keys("M-n")  # the form's Cancel
    ui.wait_gone("(new server)")
    expect("the store after the form's Cancel", stored(ob), ([], []))
    quit_clean(ui)
