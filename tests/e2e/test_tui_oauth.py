# tests/e2e/test_tui_oauth.py: the Sign In... button of a server that signs in with OAuth 2.0 in
# `outbox ui`, driven through tmux against the local OAuth provider and its scripted browser.
import json
import os
import re
import shutil

import pytest

from test_tui import (after_key, focus_field, quit_clean, server_json, status_line,  # noqa: F401
                      ui_factory, wait_status)

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

BROWSER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "servers", "oauth_browser.py")
USER_CODE = re.compile(r"\b[B-Z]{4}-[B-Z]{4}\b")  # the provider's codes: no vowels (RFC 8628 6.1)
SIGN_IN_HELP = "sign in at the provider"


def expect(what, got, want):
    assert got == want, f"{what}: got {got!r}, want {want!r}"


def add_oauth_server(ob, provider, name="corp", device=True, browser=True):
    """A custom OAuth server of the test provider, with only the grants asked for."""
    args = ["server", "add", name, "--oauth", "custom", "--host", "127.0.0.1", "--port", "587",
            "--user", provider.user, "--oauth-client-id", provider.client_id,
            "--oauth-token-url", provider.token_url, "--oauth-revoke-url", provider.revoke_url,
            "--oauth-scope", provider.scope]
    if device:
        args += ["--oauth-device-url", provider.device_url]
    if browser:
        args += ["--oauth-authorize-url", provider.authorize_url]
    ob.ok(*args)


def dialog_text(screen):
    """The dialog's rows joined without the frame and indentation: an address wrapped over several
    rows reads as one string again."""
    return "".join(line.strip().strip("│").strip() for line in screen.splitlines())


def enter_form(ui):
    after_key(ui, "Enter", status_line(ui))


def press_sign_in(ui):
    enter_form(ui)
    focus_field(ui, SIGN_IN_HELP)
    ui.keys("Enter")


def start_device_sign_in(ob, ui_factory, oauth_provider, *waits):
    """A device-only OAuth server, the UI on it, Sign In pressed: (ui, the user code shown).
    `waits` are more texts to wait for with the code."""
    add_oauth_server(ob, oauth_provider, browser=False)
    ui = ui_factory()
    ui.wait_for("Not signed in")
    press_sign_in(ui)
    s = ui.wait_for("and enter the code", *waits, timeout=30)
    code = USER_CODE.search(s)
    assert code, "want the user code in the dialog, got:\n" + s
    return ui, code.group(0)


def sign_in_from_the_ui(ob, ui_factory, oauth_provider):
    """The device sign-in done through the dialog, closed again: the UI back on the form."""
    ui, code = start_device_sign_in(ob, ui_factory, oauth_provider)
    oauth_provider.approve(code)
    ui.wait_for("Signed in to corp as", timeout=30)
    ui.keys("Enter")
    return ui


def tokens_of(provider):
    with provider.state.lock:
        return list(provider.state.refresh_tokens) + list(provider.state.access_tokens)


def test_device_sign_in_shows_the_code_and_then_signed_in(ob, ui_factory, oauth_provider):
    add_oauth_server(ob, oauth_provider, browser=False)
    ui = ui_factory()
    s = ui.wait_for("Sign-In:", "[ Sign In... ]  Not signed in")
    assert "Password:" not in s, "an OAuth server has no password to type:\n" + s
    ui.save("oauth-form-not-signed-in")
    press_sign_in(ui)
    s = ui.wait_for("Go to", "and enter the code", "left. Esc cancels.", timeout=30)
    ui.save("oauth-device-dialog")
    code = USER_CODE.search(s)
    assert code, "want the user code in the dialog, got:\n" + s
    assert oauth_provider.base_url + "/activate" in dialog_text(s), \
        "want the verification address in the dialog, got:\n" + s
    oauth_provider.approve(code.group(0))
    s = ui.wait_for(f"Signed in to corp as {oauth_provider.user}; the token is valid until", timeout=30)
    screens = [s, ui.save("oauth-device-signed-in")]
    ui.keys("Enter")  # Close
    s = ui.wait_for("[ Sign In... ]  Signed in (token valid until ", absent=("[ Close ]",))
    screens.append(ui.save("oauth-form-signed-in"))
    expect("server show: signed in", server_json(ob, "corp")["signed_in"], True)
    expect("device grants issued", oauth_provider.counters["issued:device_code"], 1)
    for token in tokens_of(oauth_provider):
        assert not any(token in x for x in screens), "a token was shown on the screen"
    quit_clean(ui)


def test_browser_sign_in_opens_the_scripted_browser(ob, ui_factory, oauth_provider, tmp_path):
    add_oauth_server(ob, oauth_provider, device=False)
    log = tmp_path / "browser.log"
    ui = ui_factory(env={"BROWSER": BROWSER, "OAUTH_BROWSER_LOG": str(log)})
    ui.wait_for("Not signed in")
    press_sign_in(ui)
    s = ui.wait_for(f"Signed in to corp as {oauth_provider.user}", timeout=30)
    ui.save("oauth-browser-signed-in")
    assert "Your browser was opened at this address" in s, s
    assert oauth_provider.authorize_url + "?response_type=code" in dialog_text(s), \
        "want the whole address shown, got:\n" + s
    visits = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    expect("the browser's visits (status)", [v["status"] for v in visits], [200])
    ui.keys("Enter")
    ui.wait_for("Signed in (token valid until ", absent=("[ Close ]",))
    expect("code grants issued", oauth_provider.counters["issued:authorization_code"], 1)
    expect("server show: signed in", server_json(ob, "corp")["signed_in"], True)
    quit_clean(ui)


def test_esc_cancels_a_device_sign_in_and_stores_nothing(ob, ui_factory, oauth_provider):
    oauth_provider.configure(interval=30)  # a provider asking for long waits between polls
    # The time left shows once the wait between polls has begun.
    ui, code = start_device_sign_in(ob, ui_factory, oauth_provider, "left. Esc cancels.")
    ui.keys("Escape")
    wait_status(ui, 'Sign-in to "corp" cancelled; nothing was stored.')
    # The person approves at the provider after all: the cancelled sign-in must not take it.
    oauth_provider.approve(code)
    # The sign-in's worker ends by itself within a second or so, not at the 30 s poll.
    ui.wait_threads(1, timeout=15)
    s = ui.wait_for("[ Sign In... ]  Not signed in")
    ui.save("oauth-device-cancelled")
    expect("polls after the cancel", oauth_provider.counters["token:device_code"], 0)
    expect("server show: signed in", server_json(ob, "corp")["signed_in"], False)
    quit_clean(ui)


def test_an_expired_token_reads_as_renewed_on_next_send(ob, ui_factory, oauth_provider):
    oauth_provider.configure(access_lifetime=1)  # the access token ends a second after sign-in
    ui = sign_in_from_the_ui(ob, ui_factory, oauth_provider)
    ui.wait_for("[ Sign In... ]  Signed in (token expired; renews on next send)", absent=("[ Close ]",))
    ui.save("oauth-form-expired")
    quit_clean(ui)


def test_esc_cancels_a_browser_sign_in_at_once(ob, ui_factory, oauth_provider):
    add_oauth_server(ob, oauth_provider, device=False)
    ui = ui_factory(env={"BROWSER": "true"})  # a browser that never comes back to the listener
    ui.wait_for("Not signed in")
    press_sign_in(ui)
    ui.wait_for("Your browser was opened at this address", "Esc cancels.", timeout=30)
    ui.keys("Escape")
    wait_status(ui, 'Sign-in to "corp" cancelled; nothing was stored.')
    # The worker hears the cancel within a second, not at the browser wait's 5-minute timeout.
    ui.wait_threads(1, timeout=20)
    ui.wait_for("[ Sign In... ]  Not signed in")
    expect("code exchanges", oauth_provider.counters["token:authorization_code"], 0)
    expect("server show: signed in", server_json(ob, "corp")["signed_in"], False)
    quit_clean(ui)


def test_sign_out_from_the_button_revokes_and_forgets(ob, ui_factory, oauth_provider):
    ui = sign_in_from_the_ui(ob, ui_factory, oauth_provider)
    ui.wait_for("[ Sign In... ]  Signed in (token valid until ", absent=("[ Close ]",))
    ui.keys("Enter")  # the button again, signed in: sign in again or sign out
    ui.wait_for('Server "corp": Signed in (token valid until ', "Sign out")
    ui.save("oauth-signed-in-choice")
    ui.keys("o")
    ui.wait_for("Signed out of corp; its tokens are deleted.", timeout=30)
    ui.keys("Enter")
    ui.wait_for("[ Sign In... ]  Not signed in", absent=("[ Close ]",))
    expect("revocations", oauth_provider.counters["revoke"], 1)
    expect("live refresh tokens at the provider", oauth_provider.live_refresh_tokens(), [])
    expect("server show: signed in", server_json(ob, "corp")["signed_in"], False)
    quit_clean(ui)


def test_a_refused_sign_in_stays_in_the_dialog_until_close(ob, ui_factory, oauth_provider):
    ui, code = start_device_sign_in(ob, ui_factory, oauth_provider)
    oauth_provider.deny(code)
    s = ui.wait_for("Sign-in failed: the sign-in was refused", "[ Close ]", timeout=30)
    ui.save("oauth-device-refused")
    ui.keys("x")  # a stray key does not close it
    ui.wait_for("Sign-in failed:", "[ Close ]")
    ui.keys("Enter")
    ui.wait_for("[ Sign In... ]  Not signed in", absent=("[ Close ]",))
    expect("server show: signed in", server_json(ob, "corp")["signed_in"], False)
    quit_clean(ui)


def test_a_server_without_oauth_has_no_sign_in_button(ob, ui_factory):
    ob.ok("server", "add", "plain", "--host", "smtp.plain.test")
    ui = ui_factory()
    s = ui.wait_for("Password:", "OAuth Provider: none")
    assert "Sign In" not in s, "want no Sign In button without OAuth, got:\n" + s
    ui.keys("a")
    s = ui.wait_for("[Advanced]")
    assert "Sign In" not in s, "want no Sign In button on Advanced either, got:\n" + s
    quit_clean(ui)


def test_unsaved_oauth_settings_say_to_save_first(ob, ui_factory):
    ob.ok("server", "add", "plain", "--host", "smtp.plain.test")
    ui = ui_factory()
    ui.wait_for("OAuth Provider: none")
    enter_form(ui)
    focus_field(ui, "sign in with OAuth 2.0")
    ui.keys("Right")  # none -> the first provider
    s = ui.wait_for("[ Sign In... ]  Unsaved changes: save the server (OK) first", "(changed)")
    ui.save("oauth-unsaved")
    focus_field(ui, SIGN_IN_HELP)
    ui.keys("Enter")
    wait_status(ui, "Save the server first (OK), then Sign In: the sign-in uses the saved settings.")
    ui.keys("Escape")
    ui.wait_for("Changes cancelled; nothing was saved.", "OAuth Provider: none")
    expect("provider saved", server_json(ob, "plain")["oauth"], "none")
    quit_clean(ui)


def test_the_account_drop_down_lists_the_oauth_server(ob, ui_factory, oauth_provider):
    add_oauth_server(ob, oauth_provider)
    ob.ok("server", "add", "plain", "--host", "smtp.plain.test")
    ob.ok("account", "add", "me@a.test", "--server", "plain")
    ui = ui_factory()
    ui.wait_for("corp")
    ui.keys("1")
    ui.wait_for("me@a.test", "Outgoing Mail Server")
    enter_form(ui)
    focus_field(ui, "the server this account sends through")
    ui.keys("Enter")  # open the drop-down
    s = ui.wait_for("Edit Server List...")
    ui.save("oauth-accounts-dropdown")
    items = re.findall(r"│ ([^│]*?) *│", s)
    # Each server as its host (neither has a description), then None and the way to the list.
    expect("the drop-down's items", items,
           ["127.0.0.1", "smtp.plain.test", "None (the default server)", "Edit Server List..."])
    ui.keys("Up", "Enter")  # from plain up to corp
    ui.wait_for("(changed)")
    ui.keys("M-o")
    ui.wait_for("Saved account me@a.test")
    expect("the account's server", ob.ok("account", "show", "me@a.test", "--json").json()["server"], "corp")
    quit_clean(ui)
