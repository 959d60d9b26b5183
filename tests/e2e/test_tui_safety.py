# tests/e2e/test_tui_safety.py: `outbox ui` never loses what the user did not mean to lose: it asks
# before removing a stored password, names every change a server's removal makes, says what "Use
# Only This Server" does to fallbacks, and offers Save as New for a record removed elsewhere.
import shutil
import time

import pytest

from sendutil import configure
from test_tui import account_json, quit_clean, server_json, status_area, ui_factory, wait_status  # noqa: F401

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

STORED_HINT = "Ctrl-U: remove the stored password (OK asks first); typing replaces it"


def focus_by_hint(ui, hint, tries=30):
    """Tab through the form until the status line shows `hint` (the focused field's help), each
    Tab waiting for the screen to change, so the field is found by its words, not its place."""
    for _ in range(tries):
        before = ui.screen()
        if "".join(hint.split()) in status_area(before):  # the hint may wrap at 50 columns
            return before
        ui.keys("Tab")
        deadline = time.monotonic() + 15
        while ui.screen() == before and time.monotonic() < deadline:
            time.sleep(0.02)
    raise AssertionError(f"want a field with the hint {hint!r}, got:\n{ui.screen()}")


def send_one(ob, srv, subject):
    """Send through the account's server: only the stored password lets aiosmtpd take it."""
    before = len(srv.messages())
    r = ob.run("send", "-i", "rcpt@example.test", input=f"Subject: {subject}\n\nbody\n")
    assert r.code == 0, "want the message sent with the stored password, got:\n" + r.describe()
    got = len(srv.messages()) - before
    assert got == 1, f"aiosmtpd took {got} message(s), want 1"


@pytest.fixture
def auth_server(ob, aiosmtpd_factory, pki, password):
    """Server "aio" on a private aiosmtpd that knows only this test's made-up password, stored
    in the private file (given on stdin, never argv)."""
    srv = aiosmtpd_factory(password=password)
    configure(ob, "aio", srv.port, "starttls", user=srv.user, password=password, ca=pki.ca_cert)
    return srv


def open_password(ui):
    ui.keys("2")
    ui.wait_for('Server "aio"')
    ui.keys("Enter")
    return focus_by_hint(ui, STORED_HINT)


def test_emptied_password_asks_and_keep_it_keeps(ob, ui_factory, auth_server):
    before = ob.fingerprint()
    ui = ui_factory()
    open_password(ui)
    ui.type("abc")
    ui.keys("C-u")
    ui.wait_for("(stored password: removed on OK)")
    ui.keys("Enter")
    s = ui.wait_for('Remove the stored password for server "aio"?', "[ Remove Password ]", "[ Keep It ]")
    ui.save("safety-password-ask-80x24")
    # Esc on the question saves nothing and leaves the edit as it was.
    ui.keys("Escape")
    wait_status(ui, 'Nothing was saved; still editing "aio".')
    assert ob.fingerprint() == before, "Esc on the question changed the store"
    ui.keys("Enter")
    ui.wait_for('Remove the stored password for server "aio"?')
    ui.keys("k")
    wait_status(ui, 'Kept the stored password for "aio"; nothing else had changed, so nothing was saved.')
    quit_clean(ui)
    assert ob.fingerprint() == before, "Keep It with no other edit changed the store"
    got = server_json(ob, "aio")["password"]
    assert got == "file", f"password after Keep It: got {got!r}, want 'file'"
    send_one(ob, auth_server, "after keep it")


def test_keep_it_saves_the_other_edits(ob, ui_factory, auth_server):
    ui = ui_factory()
    ui.keys("2")
    ui.wait_for('Server "aio"')
    ui.keys("Enter", "Tab", "End")  # Server Name (the host), then Description
    ui.type(" (kept)")
    focus_by_hint(ui, STORED_HINT)
    ui.keys("C-u")
    ui.wait_for("(stored password: removed on OK)")
    ui.keys("Enter")
    ui.wait_for('Remove the stored password for server "aio"?')
    ui.keys("k")
    ui.wait_for('Saved server "aio"')
    quit_clean(ui)
    got = server_json(ob, "aio")
    assert (got["description"].endswith(" (kept)"), got["password"]) == (True, "file"), got
    send_one(ob, auth_server, "other edits saved")


@pytest.mark.parametrize("size", [(80, 24), (120, 35), (50, 12)])
def test_ctrl_u_on_untouched_field_then_remove_password(ob, ui_factory, auth_server, size):
    ui = ui_factory(*size)
    s = open_password(ui)
    assert "(stored in a private file)" not in s.splitlines()[-2], "the focused field shows no placeholder"
    ui.keys("C-u")
    wait_status(ui, "Password emptied: OK asks before removing the stored password; Esc keeps it.")
    ui.wait_for("(changed)" if size[0] >= 80 else "(chang")
    ui.keys("Enter")
    ui.wait_for("Remove Password", "Keep It")
    ui.save(f"safety-password-remove-{size[0]}x{size[1]}")
    ui.keys("r")
    ui.wait_for('Saved server "aio"' if size[0] >= 80 else "Saved server")
    quit_clean(ui)
    got = server_json(ob, "aio")["password"]
    assert got == "none", f"password after Remove Password: got {got!r}, want 'none'"


def three_servers(ob):
    """alpha (the default) used by me@a.test with fallbacks beta, gamma; you@b.test on gamma
    falling back to alpha, beta."""
    for name, host in (("alpha", "a.test"), ("beta", "b.test"), ("gamma", "c.test")):
        ob.ok("server", "add", name, "--host", host)
    ob.ok("account", "add", "me@a.test", "--server", "alpha", "--fallback", "beta,gamma")
    ob.ok("account", "add", "you@b.test", "--server", "gamma", "--fallback", "alpha,beta")


REMOVE_WORDS = ('Remove server "alpha"?', 'Account me@a.test moves to server "beta".',
                'The default server becomes "beta".', "Fallbacks of me@a.test: beta, gamma -> gamma",
                "Fallbacks of you@b.test: alpha, beta -> beta")


@pytest.mark.parametrize("size", [(80, 24), (120, 35)])
def test_removal_names_every_change(ob, ui_factory, size):
    three_servers(ob)
    before = ob.fingerprint()
    ui = ui_factory(*size)
    ui.keys("2")
    ui.wait_for("alpha", "beta", "gamma")
    ui.keys("-")  # alpha, first by name, is selected
    ui.wait_for(*REMOVE_WORDS)
    ui.save(f"safety-remove-{size[0]}x{size[1]}")
    ui.keys("Escape")
    wait_status(ui, "Nothing was removed.")
    assert ob.fingerprint() == before, "Esc on the removal dialog changed the store"
    ui.keys("-")
    ui.wait_for(*REMOVE_WORDS)
    ui.keys("Enter")  # Remove and move
    wait_status(ui, 'Removed server "alpha"; moved me@a.test to "beta"; "beta" is the default now; '
                "2 fallback lists shortened. Press u to undo.")
    quit_clean(ui)
    assert ob.run("server", "show", "alpha").code != 0, "alpha is still there"
    me, you = account_json(ob, "me@a.test"), account_json(ob, "you@b.test")
    got = (me["server"], me["fallback"], you["server"], you["fallback"], server_json(ob, "beta")["default"])
    want = ("beta", ["gamma"], "gamma", ["beta"], True)
    assert got == want, f"after removal: got {got}, want {want}"


def test_removal_dialog_at_50x12_changes_nothing_on_esc(ob, ui_factory):
    three_servers(ob)
    before = ob.fingerprint()
    ui = ui_factory(50, 12)
    ui.keys("2")
    ui.wait_for("alpha")
    ui.keys("-")
    ui.wait_for('Remove server "alpha"?')
    ui.save("safety-remove-50x12")
    ui.keys("Escape")
    wait_status(ui, "Nothing was removed.")
    quit_clean(ui)
    assert ob.fingerprint() == before, "Esc on the removal dialog changed the store"


def test_server_remove_command_says_the_same_changes(ob):
    three_servers(ob)
    before = ob.fingerprint()
    refused = ob.run("server", "remove", "alpha")
    assert refused.code != 0 and "--reassign" in refused.err, refused.describe()
    assert ob.fingerprint() == before, "a refused removal changed the store"
    r = ob.ok("server", "remove", "alpha", "--reassign", "beta")
    want = ['Removed server "alpha".', 'Moved me@a.test to "beta".', '"beta" is now the default server.',
            "Fallbacks of me@a.test: beta, gamma -> gamma.", "Fallbacks of you@b.test: alpha, beta -> beta.",
            "Undo with: outbox undo"]
    assert r.out.splitlines() == want, r.describe()


def test_removing_the_last_default_server_says_there_is_none(ob, ui_factory):
    ob.ok("server", "add", "solo", "--host", "s.test")
    ui = ui_factory()
    ui.keys("2")
    ui.wait_for("s.test")
    ui.keys("-")
    ui.wait_for('Remove server "solo"?', "There will be no default server.")
    ui.keys("Enter")
    wait_status(ui, 'Removed server "solo"; there is no default server now. Press u to undo.')
    quit_clean(ui)


def test_use_only_this_server_says_what_happens_to_fallbacks(ob, ui_factory):
    three_servers(ob)
    before = ob.fingerprint()
    ui = ui_factory()
    ui.keys("1")
    ui.wait_for("me@a.test")
    ui.keys("Enter")
    focus_by_hint(ui, "never send through another server")
    ui.keys(" ")
    s = ui.wait_for("[x] fallbacks kept but not used while ticked")
    wait_status(ui, 'Use Only This Server: sends only through "alpha"; the fallback servers (beta, gamma) '
                "stay listed but are not tried while it is ticked.")
    ui.save("safety-only-this-server-80x24")
    ui.keys("Escape")
    ui.wait_for("Changes cancelled")
    quit_clean(ui)
    assert ob.fingerprint() == before, "Esc after ticking the box changed the store"


def edit_then_remove_elsewhere(ob, ui, remove_args, title, typed):
    """Add to the selected server's Description, then remove it with another outbox."""
    ui.keys("Enter")
    focus_by_hint(ui, "what lists show")
    ui.keys("End")
    ui.type(typed)
    ui.wait_for(title + " (changed)")
    ob.ok(*remove_args)


def test_server_removed_elsewhere_save_as_new(ob, ui_factory):
    ob.ok("server", "add", "alpha", "--host", "a.test", "--description", "Alpha")
    ob.ok("server", "add", "beta", "--host", "b.test")
    ui = ui_factory()
    ui.keys("2")
    ui.wait_for('Server "alpha"')
    edit_then_remove_elsewhere(ob, ui, ("server", "remove", "alpha", "--reassign", "beta"), 'Server "alpha"',
                               " mine")
    ui.keys("Enter")
    ui.wait_for('Server "alpha" was removed by another program.', "[ Save as New ]", "[ Discard ]")
    ui.save("safety-removed-elsewhere-80x24")
    ui.keys("s")
    ui.wait_for('Saved server "alpha"')
    quit_clean(ui)
    got = server_json(ob, "alpha")
    assert (got["description"], got["host"]) == ("Alpha mine", "a.test"), got


def test_server_removed_elsewhere_discard(ob, ui_factory):
    ob.ok("server", "add", "alpha", "--host", "a.test", "--description", "Alpha")
    ob.ok("server", "add", "beta", "--host", "b.test")
    ui = ui_factory()
    ui.keys("2")
    ui.wait_for('Server "alpha"')
    edit_then_remove_elsewhere(ob, ui, ("server", "remove", "alpha", "--reassign", "beta"), 'Server "alpha"',
                               " mine")
    ui.keys("Enter")
    ui.wait_for('Server "alpha" was removed by another program.')
    ui.keys("d")
    wait_status(ui, 'Server "alpha" was removed by another program. Your edits were discarded.')
    # Only the content is compared: the UI, the last to close, checkpoints the other's writes.
    after = ob.fingerprint()[1]
    quit_clean(ui)
    assert ob.run("server", "show", "alpha").code != 0, "Discard brought alpha back"
    assert ob.fingerprint()[1] == after, "quitting after Discard changed the store's content"


def test_account_removed_elsewhere_save_as_new(ob, ui_factory):
    ob.ok("server", "add", "alpha", "--host", "a.test")
    ob.ok("account", "add", "me@a.test", "--server", "alpha", "--name", "Me")
    ui = ui_factory()
    ui.keys("1")
    ui.wait_for("me@a.test")
    ui.keys("Enter")
    focus_by_hint(ui, "the name shown in From")
    ui.keys("End")
    ui.type(" Too")
    ui.wait_for("Account me@a.test (changed)")
    ob.ok("account", "remove", "me@a.test")
    ui.keys("Enter")
    ui.wait_for("Account me@a.test was removed by another program.", "[ Save as New ]")
    ui.keys("s")
    ui.wait_for("Saved account me@a.test")
    quit_clean(ui)
    got = account_json(ob, "me@a.test")
    assert (got["name"], got["server"]) == ("Me Too", "alpha"), got


def test_leaving_with_save_asks_too(ob, ui_factory, auth_server):
    before = ob.fingerprint()
    ui = ui_factory()
    open_password(ui)
    ui.keys("C-u")
    ui.wait_for("(stored password: removed on OK)")
    ui.keys("F1")  # to Accounts: the unsaved edit is offered for saving first
    ui.wait_for('Save the changes to server "aio"?')
    ui.keys("s")
    ui.wait_for('Remove the stored password for server "aio"?')
    ui.keys("Escape")
    wait_status(ui, 'Nothing was saved; still editing "aio".')
    ui.keys("Escape")
    ui.wait_for("Changes cancelled")
    quit_clean(ui)
    assert ob.fingerprint() == before, "declining the question on leaving changed the store"
    send_one(ob, auth_server, "after leaving")
