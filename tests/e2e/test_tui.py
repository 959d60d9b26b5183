# tests/e2e/test_tui.py: `outbox ui` driven through tmux like a person would: add, edit, remove
# and undo servers, cancel, refused input, accounts, the outbox, check connection against a real
# Postfix, resizing, changes by another process, and a clean terminal after q and SIGTERM.
import os
import shutil
import signal
import time

import pytest

from conftest import OUTBOX
from tmuxui import TmuxUI

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@pytest.fixture
def ui_factory(ob):
    started = []

    def start(width=80, height=24, env=None, pane_term=None):
        e = dict(ob.env)
        e.update(env or {})
        u = TmuxUI(os.path.abspath(OUTBOX), e, width, height, pane_term=pane_term)
        started.append(u)
        return u
    yield start
    for u in started:
        u.close()


def server_json(ob, name):
    return ob.ok("server", "show", name, "--json").json()


def account_json(ob, address):
    return ob.ok("account", "show", address, "--json").json()


def status_area(screen):
    """The bottom three rows without spaces: a long status message wraps onto them."""
    return "".join("".join(screen.splitlines()[-3:]).split())


def wait_status(ui, text, timeout=15):
    """Wait until the status bar says `text` in full, however it is wrapped."""
    want = "".join(text.split())
    deadline = time.monotonic() + timeout
    while True:
        s = ui.screen()
        if want in status_area(s):
            return s
        if time.monotonic() > deadline:
            raise AssertionError(f"want the status bar to say {text!r}, got:\n{s}")
        time.sleep(0.05)


def quit_clean(ui):
    ui.keys("q")
    code, modes, screen = ui.wait_exit()
    assert code == 0, screen
    return screen


def test_add_server_through_the_dialog(ob, ui_factory, password):
    ui = ui_factory()
    ui.wait_for("No outgoing servers yet")
    ui.keys("+")
    ui.wait_for('New server "server1"')
    ui.type("mail.home.test")  # Server Name: the host comes first, as in Apple Mail
    ui.keys("Tab")
    ui.type("Home mail")
    ui.keys("Tab", "C-u")  # Short Name
    ui.type("home")
    ui.keys("Tab", "Tab", "Right")  # Security: starttls -> none; the port follows it
    ui.wait_for("Port: 25\n")
    ui.keys("Left", "Left")  # back to starttls, then tls
    ui.wait_for("Port: 465\n")
    ui.keys("Tab", "Tab")  # Authentication, User Name
    ui.type("alice@home.test")
    ui.keys("Tab")
    ui.type(password)
    ui.wait_for("Password: " + "*" * len(password))
    assert password not in ui.screen()
    ui.keys("Enter")
    s = ui.wait_for('Saved server "home"')
    assert password not in s
    got = server_json(ob, "home")
    want = {"name": "home", "description": "Home mail", "host": "mail.home.test", "port": 465,
            "security": "tls", "user": "alice@home.test", "password": "file"}
    assert {k: got[k] for k in want} == want
    quit_clean(ui)


def test_edit_server_general_and_advanced(ob, ui_factory, tmp_path):
    ob.ok("server", "add", "work", "--host", "smtp.work.test", "--description", "Work")
    ob.ok("account", "add", "me@work.test", "--server", "work", "--name", "Me")
    ui = ui_factory()
    ui.wait_for("Work", "me@work.test")
    ui.save("server-list")
    ui.keys("Enter", "Tab")  # into the form (Server Name), then Description
    ui.keys("End")
    ui.type(" (office)")
    ui.keys("Tab", "Tab", "C-u")  # Short Name, Port
    ui.type("2587")
    ui.keys("Tab")
    ui.wait_for("(changed)")
    ui.keys("M-a")  # Advanced
    ui.wait_for("[Advanced]", "Verify Certificate", "Timeout", "Client Certificate")
    ui.save("server-advanced")
    # Walk to Timeout by its label rather than counting fields, so new fields do not break this.
    # Each Tab waits for the screen to change (the focus moves): reading the hint before the
    # screen caught up with the last Tab would press one Tab too many and walk past Timeout.
    for _ in range(20):
        before = ui.screen()
        if "seconds to wait" in before.splitlines()[-1]:
            break
        ui.keys("Tab")
        deadline = time.monotonic() + 15
        while ui.screen() == before and time.monotonic() < deadline:
            time.sleep(0.02)
    ui.keys("C-u")
    ui.type("30")
    ui.keys("Enter")
    ui.wait_for('Saved server "work"')
    got = server_json(ob, "work")
    assert (got["description"], got["port"], got["timeout"]) == ("Work (office)", 2587, 30), got
    quit_clean(ui)


def test_remove_in_use_reassign_and_undo(ob, ui_factory):
    ob.ok("server", "add", "alpha", "--host", "a.test", "--description", "Alpha")
    ob.ok("server", "add", "beta", "--host", "b.test", "--description", "Beta")
    ob.ok("account", "add", "me@a.test", "--server", "alpha")
    ui = ui_factory()
    ui.wait_for("Alpha", "Beta")
    ui.keys("-")  # alpha is selected first (ordered by name)
    ui.wait_for("Remove server \"alpha\"?", 'Account me@a.test moves to server "beta".')
    ui.save("remove-confirm")
    ui.keys("r")
    ui.wait_for('Removed server "alpha"; moved me@a.test to "beta"')
    assert ob.run("server", "show", "alpha").code != 0
    assert account_json(ob, "me@a.test")["server"] == "beta"
    ui.keys("u")
    ui.wait_for('Restored server "alpha"')
    assert account_json(ob, "me@a.test")["server"] == "alpha"
    quit_clean(ui)


def test_removal_in_the_ui_is_undone_by_outbox_undo(ob, ui_factory):
    ob.ok("server", "add", "alpha", "--host", "a.test")
    ob.ok("server", "add", "beta", "--host", "b.test")
    ui = ui_factory()
    ui.wait_for("alpha", "beta")
    ui.keys("Down", "-")
    ui.wait_for('Remove server "beta"?')
    ui.keys("r")
    ui.wait_for('Removed server "beta"')
    quit_clean(ui)
    assert ob.run("server", "show", "beta").code != 0
    ob.ok("undo")
    assert server_json(ob, "beta")["host"] == "b.test"


def test_cancel_leaves_the_database_untouched(ob, ui_factory, password):
    ob.ok("server", "add", "work", "--host", "smtp.work.test", "--description", "Work")
    ob.ok("account", "add", "me@work.test", "--server", "work")
    before = ob.fingerprint()
    ui = ui_factory()
    ui.wait_for("Work")
    ui.keys("Enter", "Tab")  # Description
    ui.type("changed ")
    ui.keys("Tab", "Tab", "C-u")  # Port
    ui.type("2525")
    ui.keys("Tab", "Right", "Tab", "Tab", "Tab")
    ui.type(password)
    ui.wait_for("(changed)")
    ui.keys("Escape")
    ui.wait_for("Changes cancelled; nothing was saved.", absent=("(changed)",))
    ui.keys("+")
    ui.wait_for("New server")
    ui.type("x")
    ui.keys("Escape")
    ui.wait_for("Changes cancelled", absent=("New server",))
    ui.keys("1", "Enter")
    ui.type("y")
    ui.keys("Escape")
    ui.wait_for("Changes cancelled")
    quit_clean(ui)
    assert ob.fingerprint() == before


def test_invalid_port_is_shown_and_ok_refused(ob, ui_factory):
    ob.ok("server", "add", "work", "--host", "smtp.work.test")
    ui = ui_factory()
    ui.wait_for("smtp.work.test")
    ui.keys("Enter", "Tab", "Tab", "Tab", "C-u")
    ui.type("99999")
    ui.keys("Tab")
    ui.wait_for('! "99999" is not a number')
    # The one-line message is the CLI's.
    cli = ob.run("server", "edit", "work", "--port", "99999")
    assert cli.code != 0 and '"99999" is not a number from 1 to 65535' in cli.err, cli.describe()
    ui.keys("M-o")  # OK by its mnemonic, from the Security drop-down field
    ui.wait_for('Fix Port first: "99999" is not a number from 1 to 65535')
    assert server_json(ob, "work")["port"] == 587
    ui.keys("C-u")
    ui.type("2525")
    ui.keys("Enter")
    ui.wait_for('Saved server "work"')
    assert server_json(ob, "work")["port"] == 2525
    quit_clean(ui)


def test_assign_a_server_to_an_account(ob, ui_factory):
    ob.ok("server", "add", "alpha", "--host", "a.test")
    ob.ok("server", "add", "beta", "--host", "b.test")
    ob.ok("account", "add", "me@a.test", "--server", "alpha", "--name", "Me")
    ui = ui_factory()
    ui.wait_for("alpha")
    ui.keys("1")
    ui.wait_for("Email Address", "me@a.test", "Outgoing Mail Server")
    ui.keys("Enter")
    ui.wait_for("the sender address of this account")  # the form's first field, not the list
    for _ in range(10):
        hint = ui.screen().splitlines()[-1]
        if "the server this account sends through" in hint:
            break
        ui.keys("Tab")
        # The screen read right after a key can be the one before it: wait for the field's own
        # hint, or a loaded machine reads a stale hint and stops one field too late.
        gone = time.monotonic() + 5
        while ui.screen().splitlines()[-1] == hint and time.monotonic() < gone:
            time.sleep(0.05)
    ui.keys("Enter")  # open the drop-down
    ui.wait_for("Edit Server List...")
    ui.save("accounts-dropdown")
    ui.keys("Down", "Enter")
    ui.wait_for("(changed)")
    ui.save("accounts")
    ui.keys("M-o")  # Enter would open the drop-down again: OK by its mnemonic
    ui.wait_for("Saved account me@a.test")
    assert account_json(ob, "me@a.test")["server"] == "beta"
    quit_clean(ui)


def test_outbox_view_lists_queued_messages_and_retries(ob, ui_factory):
    ob.ok("server", "add", "alpha", "--host", "127.0.0.1", "--port", "9", "--security", "none")
    ob.ok("account", "add", "me@a.test", "--server", "alpha")
    r = ob.run("send", "--queue-only", "you@b.test", input="Subject: hi\n\nhello\n")
    assert r.code == 0, r.describe()
    ui = ui_factory()
    ui.keys("3")
    ui.wait_for("queued", "me@a.test", "you@b.test", "via the account's server")
    ui.save("outbox")
    ui.keys("r")  # sends now: the server refuses connections, so it stays queued
    ui.wait_for("Message 1: Deferred")
    ui.keys("Enter")
    ui.wait_gone("Sending: done")
    ui.keys("-")
    ui.wait_for("Remove message")
    ui.keys("r")
    ui.wait_for("The outbox is empty")
    quit_clean(ui)


def test_check_connection_against_postfix(ob, ui_factory, postfix, pki):
    ob.ok("server", "add", "pf", "--host", "127.0.0.1", "--port", str(postfix.submission_port),
          "--security", "starttls", "--tls-ca", pki.ca_cert, "--user", postfix.user,
          "--password-stdin", "--timeout", "10", input=postfix.password)
    ui = ui_factory()
    ui.wait_for("pf")
    ui.keys("c")
    s = ui.wait_for("Every step passed", timeout=30)
    ui.save("check-connection")
    steps = [l for l in s.splitlines() if "[ OK ]" in l]
    assert len(steps) == 5, s
    for word in ("Resolve", "Connect", "STARTTLS", "EHLO", "Log in"):
        assert any(word.lower() in l.lower() for l in steps), f"no OK step for {word}:\n{s}"
    assert postfix.password not in s
    ui.keys("Escape")
    ui.wait_for("every step passed for \"pf\"")
    quit_clean(ui)


def test_check_connection_shows_the_failure(ob, ui_factory, postfix, pki):
    ob.ok("server", "add", "pf", "--host", "127.0.0.1", "--port", str(postfix.submission_port),
          "--security", "starttls", "--tls-ca", pki.ca_cert, "--user", postfix.user,
          "--password-stdin", "--timeout", "10", input="not-" + postfix.password)
    ui = ui_factory()
    ui.wait_for("pf")
    ui.keys("c")
    s = ui.wait_for("[FAIL]", "Failed:", timeout=30)
    assert "535" in s, s
    ui.keys("Escape")
    ui.wait_for("Check connection failed:", absent=("[ Close ]",))
    quit_clean(ui)


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
def test_resize(ob, ui_factory, size):
    ob.ok("server", "add", "work", "--host", "smtp.work.test", "--description", "Work")
    ui = ui_factory(120, 40)
    ui.wait_for("Work")
    ui.resize(*size)

    def redrawn(lines):
        # Right after a shrink, tmux shows the bottom of the old screen, whose
        # button row can sit on the new second-to-last line: wait for the top
        # bar too, which only the UI's own redraw puts on line 0.
        return (len(lines) == size[1] and "[ OK ]" in lines[size[1] - 2]
                and "?: help" in lines[0] and lines[0].rstrip().endswith("q: quit"))

    lines = None
    for _ in range(200):
        lines = ui.screen().splitlines()
        if redrawn(lines):
            break
        time.sleep(0.05)
    assert redrawn(lines), "want the top bar on line 1 and [ OK ] on the second-to-last, got:\n" + "\n".join(lines)
    assert "Server Name: smtp.work.test" in "\n".join(lines)
    ui.save(f"server-list-{size[0]}x{size[1]}")
    quit_clean(ui)


def test_change_by_another_process_shows_up(ob, ui_factory):
    ob.ok("server", "add", "work", "--host", "smtp.work.test")
    ui = ui_factory()
    ui.wait_for("smtp.work.test")
    ob.ok("server", "add", "other", "--host", "other.test", "--description", "Added elsewhere")
    ui.wait_for("Added elsewhere", timeout=10)
    quit_clean(ui)


def test_conflict_overwrite_keeps_their_other_fields(ob, ui_factory):
    ob.ok("server", "add", "work", "--host", "smtp.work.test", "--description", "Work")
    ui = ui_factory()
    ui.wait_for("Work")
    ui.keys("Enter", "Tab", "End")  # Description
    ui.type(" mine")
    ui.keys("Tab")
    ui.wait_for("(changed)")
    ob.ok("server", "edit", "work", "--timeout", "17")
    ui.keys("Enter")
    ui.wait_for("was changed by another program", "Overwrite with mine", "Reload theirs")
    ui.keys("o")
    ui.wait_for('Saved server "work"')
    got = server_json(ob, "work")
    assert (got["description"], got["timeout"]) == ("Work mine", 17), got
    quit_clean(ui)


def test_help_screen(ob, ui_factory):
    ui = ui_factory()
    ui.wait_for("No outgoing servers yet")
    ui.keys("?")
    # Every line fits 80x24, the last one and the new keys included.
    ui.wait_for("outbox ui: keys", "undo the last removal", "Fallback Servers list: the order",
                "Esc stops", "Passwords are never shown.", "[ Close ]")
    ui.save("help")
    ui.keys("Escape")
    ui.wait_gone("outbox ui: keys")
    quit_clean(ui)


def test_no_color_still_draws(ob, ui_factory):
    ob.ok("server", "add", "work", "--host", "smtp.work.test")
    ui = ui_factory(env={"NO_COLOR": "1"})
    ui.wait_for("smtp.work.test", "[ OK ]")
    quit_clean(ui)


def test_terminal_is_clean_after_q(ob, ui_factory):
    ob.ok("server", "add", "work", "--host", "smtp.work.test")
    ui = ui_factory()
    ui.wait_for("smtp.work.test")
    assert ui.fmt("#{alternate_on}") == "1"
    ui.keys("q")
    code, modes, screen = ui.wait_exit()
    assert code == 0, screen
    assert "echo" in modes and "icanon" in modes, modes
    assert "Server Name" not in screen, "the UI was left on the terminal:\n" + screen
    assert ui.fmt("#{alternate_on}|#{cursor_flag}|#{mouse_any_flag}") == "0|1|0"


@pytest.mark.parametrize("how", ["SIGTERM", "Ctrl-C", "SIGSEGV"])
def test_terminal_is_clean_after_a_signal(ob, ui_factory, how):
    ob.ok("server", "add", "work", "--host", "smtp.work.test")
    ui = ui_factory()
    ui.wait_for("smtp.work.test")
    if how == "Ctrl-C":
        ui.keys("C-c")
    else:
        os.kill(ui.ui_pid(), getattr(signal, how))
    code, modes, screen = ui.wait_exit()
    if how == "SIGTERM":
        assert code == 128 + signal.SIGTERM, screen
    elif how == "Ctrl-C":
        assert code == 128 + signal.SIGINT, screen
    else:
        assert code != 0, screen  # the default action, or the sanitizer's report
    assert "echo" in modes and "icanon" in modes, modes
    assert "Server Name" not in screen, screen
    assert ui.fmt("#{alternate_on}|#{cursor_flag}|#{mouse_any_flag}") == "0|1|0"


def test_help_and_no_terminal(ob):
    r = ob.ok("ui", "--help")
    assert "Usage: outbox ui" in r.out
    r = ob.run("ui")
    assert r.code == 64 and "needs a terminal" in r.err, r.describe()


# --- Accounts: add, remove, undo -------------------------------------------------------------

def test_add_account_in_the_form(ob, ui_factory):
    ob.ok("server", "add", "alpha", "--host", "a.test")
    ob.ok("server", "add", "beta", "--host", "b.test", "--default")
    ui = ui_factory()
    ui.wait_for("alpha", "beta")
    ui.keys("1")
    ui.wait_for("No accounts yet: press a (or +) to add one.")
    ui.keys("+")
    s = ui.wait_for("New account", "(new account)", "Outgoing Mail Server: b.test")
    ui.save("accounts-new")
    assert "Fallback Servers: (none)" in s and "Give Up After: 5d" in s, s
    # A bad address is marked beside the field with the command line's words; OK is refused.
    ui.type("not an address")
    ui.keys("Tab")
    cli = ob.run("account", "add", "not an address", "--server", "beta")
    assert cli.code != 0 and cli.err.startswith("outbox: address: "), cli.describe()
    detail = cli.err.strip()[len("outbox: address: "):]
    ui.wait_for("! " + detail[:20])
    ui.keys("Enter")
    wait_status(ui, "Fix Email Address first: " + detail)
    assert ob.ok("account", "list", "--json").json() == [], "nothing may be saved yet"
    ui.keys("C-u")
    ui.type("new@b.test")
    ui.keys("Tab")
    ui.type("New Person")
    ui.keys("Enter")
    ui.wait_for("Saved account new@b.test", absent=("(new account)",))
    got = account_json(ob, "new@b.test")
    want = {"address": "new@b.test", "name": "New Person", "server": "beta"}
    assert {k: got[k] for k in want} == want, got
    quit_clean(ui)


def test_leaving_a_view_with_unsaved_changes_asks_first(ob, ui_factory):
    """Switching tabs with edits not saved asks Save / Discard / Keep editing, in both views."""
    ob.ok("server", "add", "alpha", "--host", "a.test", "--description", "Alpha")
    ob.ok("account", "add", "me@a.test", "--server", "alpha", "--name", "Me")
    ui = ui_factory()
    ui.wait_for('Server "alpha"')
    ui.keys("Enter", "Tab", "End")  # into the form, then Description
    ui.type(" mail")
    ui.keys("F1")
    ui.wait_for("Unsaved changes", 'Save the changes to server "alpha"?')
    ui.keys("k")  # Keep editing: still on Servers with the edit
    ui.wait_for('Server "alpha" (changed)', absent=("Unsaved changes",))
    ui.keys("F1")
    ui.wait_for('Save the changes to server "alpha"?')
    ui.keys("d")  # Discard
    ui.wait_for("Email Address", "me@a.test")
    wait_status(ui, "Changes cancelled; nothing was saved.")
    assert server_json(ob, "alpha")["description"] == "Alpha"
    ui.keys("Enter", "Tab", "C-u")  # Full Name
    ui.type("Someone Else")
    ui.keys("F2")
    ui.wait_for("Save the changes to account me@a.test?")
    ui.keys("s")  # Save, then on to Servers
    ui.wait_for("In Use By Account", 'Server "alpha"')
    wait_status(ui, "Saved account me@a.test.")
    assert account_json(ob, "me@a.test")["name"] == "Someone Else"
    quit_clean(ui)


def test_new_account_cancelled_leaves_the_store_untouched(ob, ui_factory):
    ob.ok("server", "add", "alpha", "--host", "a.test")
    ob.ok("account", "add", "me@a.test", "--server", "alpha")
    before = ob.fingerprint()
    ui = ui_factory()
    ui.wait_for("alpha")
    ui.keys("1")
    ui.wait_for("me@a.test")
    ui.keys("+")
    ui.wait_for("New account", "Outgoing Mail Server: a.test")
    ui.type("other@a.test")
    ui.keys("Tab")
    ui.type("Someone")
    ui.keys("Escape")
    ui.wait_for("Changes cancelled; nothing was saved.", absent=("(new account)", "New account"))
    quit_clean(ui)
    assert ob.fingerprint() == before


def test_no_account_can_be_added_without_a_server(ob, ui_factory):
    ui = ui_factory()
    ui.wait_for("No outgoing servers yet")
    ui.keys("1", "+")
    ui.wait_for("An account sends through a server: add one first", absent=("New account",))
    quit_clean(ui)


def test_remove_account_confirm_undo_and_outbox_undo(ob, ui_factory):
    ob.ok("server", "add", "alpha", "--host", "a.test")
    ob.ok("account", "add", "a@a.test", "--server", "alpha")
    ob.ok("account", "add", "b@a.test", "--server", "alpha")
    ui = ui_factory()
    ui.wait_for("alpha")
    ui.keys("1")
    ui.wait_for("a@a.test", "b@a.test")
    ui.keys("-")
    ui.wait_for("Remove account a@a.test?", "Press u afterwards to undo")
    ui.save("accounts-remove-confirm")
    ui.keys("Enter")  # the focus is on Cancel: Enter alone removes nothing
    ui.wait_for("Nothing was removed.", absent=("Remove account a@a.test?",))
    assert account_json(ob, "a@a.test")["address"] == "a@a.test"
    ui.keys("-")
    ui.wait_for("Remove account a@a.test?")
    ui.keys("r")
    s = ui.wait_for("Removed account a@a.test. Press u to undo.")
    assert "a@a.test " not in s.split("Account ")[0], s
    assert ob.run("account", "show", "a@a.test").code != 0
    ui.keys("u")
    ui.wait_for("Restored account a@a.test.")
    assert account_json(ob, "a@a.test")["server"] == "alpha"
    # Removed in the UI, restored by `outbox undo` from the command line.
    ui.keys("Down", "-")
    ui.wait_for("Remove account b@a.test?")
    ui.keys("r")
    ui.wait_for("Removed account b@a.test.")
    quit_clean(ui)
    assert ob.run("account", "show", "b@a.test").code != 0
    r = ob.ok("undo")
    assert "b@a.test" in r.out, r.describe()
    assert account_json(ob, "b@a.test")["server"] == "alpha"


# --- Fallback servers are picked from a checklist --------------------------------------------

def status_line(ui):
    return ui.screen().splitlines()[-1]


def after_key(ui, key, before, timeout=5):
    """Press key and wait for the status line to change from `before`: read sooner, the screen
    still shows the field that had the focus, and a test would press Tab once too often."""
    ui.keys(key)
    deadline = time.monotonic() + timeout
    while (now := status_line(ui)) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    return now  # unchanged after the timeout: two fields with the same help, say


def focus_field(ui, help_words, tries=15):
    """Tab through the form until the status bar shows the field's help."""
    now = status_line(ui)
    for _ in range(tries):
        if help_words in now:
            return
        now = after_key(ui, "Tab", now)
    raise AssertionError(f"want a field with help {help_words!r}, got:\n{ui.screen()}")


def test_fallback_servers_are_picked_in_order(ob, ui_factory):
    for name in ("alpha", "beta", "delta", "gamma"):
        ob.ok("server", "add", name, "--host", name + ".test")
    ob.ok("account", "add", "me@a.test", "--server", "alpha")
    ui = ui_factory()
    ui.wait_for("gamma")
    ui.keys("1")
    ui.wait_for("me@a.test")
    ui.keys("Enter")
    s = ui.wait_for("Use Only This Server: [ ]")  # still a checkbox
    focus_field(ui, "servers to try, in order")
    ui.keys("Enter")
    s = ui.wait_for("Fallback Servers for me@a.test", "[ ]    beta", "[ ]    delta", "[ ]    gamma")
    assert "alpha" not in s.split("Fallback Servers for")[1].split("Space: tick")[0], \
        "the account's own server is not a fallback:\n" + s
    ui.keys("Space", "Down", "Down", "Space")  # beta, then gamma
    ui.wait_for("[x] 1  beta", "[ ]    delta", "[x] 2  gamma")
    ui.keys("S-Up")  # gamma above delta: still second
    ui.wait_for("[x] 1  beta", "[x] 2  gamma", "[ ]    delta")
    ui.keys("[")  # gamma above beta: now first
    s = ui.wait_for("[x] 1  gamma", "[x] 2  beta", "[ ]    delta")
    ui.save("fallback-picker")
    lines = s.splitlines()
    order = [i for i, l in enumerate(lines) for n in ("gamma", "beta", "delta") if l.rstrip().endswith(" " + n)]
    assert order == sorted(order), f"want gamma, beta, delta top to bottom, got:\n{s}"
    ui.keys("Enter")
    ui.wait_for("Fallback Servers: gamma,beta", "(changed)", absent=("Space: tick",))
    ui.keys("M-o")
    ui.wait_for("Saved account me@a.test")
    assert account_json(ob, "me@a.test")["fallback"] == ["gamma", "beta"]
    # Esc in the checklist changes nothing; S-Down and ] move the other way.
    ui.keys("Enter")
    focus_field(ui, "servers to try, in order")
    ui.keys("Space")
    ui.wait_for("[x] 1  gamma", "[x] 2  beta")
    ui.keys("S-Down")
    ui.wait_for("[x] 1  beta", "[x] 2  gamma")
    ui.keys("Escape")
    ui.wait_for("Fallback Servers: gamma,beta", absent=("Space: tick", "(changed)"))
    quit_clean(ui)
    assert account_json(ob, "me@a.test")["fallback"] == ["gamma", "beta"]


# --- Conflicts, refusals and long errors -----------------------------------------------------

@pytest.mark.parametrize("choice", ["overwrite", "reload", "keep"])
def test_account_conflict_dialog(ob, ui_factory, choice):
    ob.ok("server", "add", "alpha", "--host", "a.test")
    ob.ok("account", "add", "me@a.test", "--server", "alpha", "--name", "Me")
    ui = ui_factory()
    ui.wait_for("alpha")
    ui.keys("1")
    ui.wait_for("me@a.test")
    ui.keys("Enter", "Tab", "End")  # Full Name
    ui.type(" Mine")
    ui.keys("Tab")
    ui.wait_for("Account me@a.test (changed)")
    # Another process edits the same account meanwhile.
    ob.ok("account", "edit", "me@a.test", "--name", "Theirs", "--retry-first", "2m")
    ui.keys("M-o")
    ui.wait_for("Account me@a.test was changed by another program", "Overwrite with mine",
                "Reload theirs", "Keep editing")
    if choice == "overwrite":
        ui.keys("o")
        ui.wait_for("Saved account me@a.test")
        got = account_json(ob, "me@a.test")
        # My edit wins; their change to a field I did not touch stays.
        assert (got["name"], got["retry_first"]) == ("Me Mine", "2m"), got
    elif choice == "reload":
        ui.keys("r")
        ui.wait_for("Reloaded account me@a.test; your edits were dropped.", "Full Name: Theirs",
                    absent=("(changed)",))
        got = account_json(ob, "me@a.test")
        assert (got["name"], got["retry_first"]) == ("Theirs", "2m"), got
    else:
        ui.keys("k")
        ui.wait_for("Still editing", "Full Name: Me Mine", "(changed)",
                    absent=("Overwrite with mine",))
        assert account_json(ob, "me@a.test")["name"] == "Theirs"
        ui.keys("Escape")
        ui.wait_for("Changes cancelled", "Full Name: Theirs", absent=("(changed)",))
        assert account_json(ob, "me@a.test")["name"] == "Theirs"
    quit_clean(ui)


def test_remove_the_only_server_accounts_use_is_refused(ob, ui_factory):
    ob.ok("server", "add", "solo", "--host", "solo.test", "--description", "Solo")
    ob.ok("account", "add", "me@solo.test", "--server", "solo")
    before = ob.fingerprint()
    ui = ui_factory()
    ui.wait_for("Solo")
    ui.keys("-")
    s = ui.wait_for('Server "solo" cannot be removed.', "It is the outgoing server of: me@solo.test.",
                    "There is no other server to move them to: add one first.")
    dialog = "\n".join(l for l in s.splitlines() if "\u2502" in l or "Cannot remove server" in l)
    assert "[ Remove" not in dialog and "undo" not in dialog and "[ Cancel ]" in dialog, \
        "want only Cancel and no talk of undo, got:\n" + s
    ui.keys("Enter")
    ui.wait_for('Nothing was removed: "solo" is the only server its accounts can use.',
                absent=("cannot be removed",))
    quit_clean(ui)
    assert ob.fingerprint() == before
    assert server_json(ob, "solo")["host"] == "solo.test"


def test_long_error_is_readable_in_full_at_80_columns(ob, ui_factory):
    ob.ok("server", "add", "work", "--host", "smtp.work.test")
    bad_host = "no_underscores_allowed_here.mail.example.test"
    cli = ob.run("server", "edit", "work", "--host", bad_host)
    assert cli.code != 0 and cli.err.startswith("outbox: host: "), cli.describe()
    host_detail = cli.err.strip()[len("outbox: host: "):]
    port_detail = '"99999" is not a number from 1 to 65535'
    ui = ui_factory(80, 24)
    ui.wait_for("smtp.work.test")
    ui.keys("Enter", "C-u")  # Server Name: the host
    ui.type(bad_host)
    ui.keys("Tab", "Tab", "Tab", "C-u")  # Description, Short Name, Port
    ui.type("99999")
    ui.keys("Tab")
    s = ui.wait_for('! "99999" is not')
    beside = next(l for l in s.splitlines() if "Port:" in l)
    assert port_detail not in beside, "want the error cut beside the field at 80 columns, got:\n" + s
    # With the focus back on a marked field the status bar has its whole message, however long.
    ui.keys("BTab")
    wait_status(ui, "Port: " + port_detail)
    ui.keys("BTab", "BTab", "BTab")
    s = wait_status(ui, "Server Name: " + host_detail)
    assert len("Server Name: " + host_detail) > 78, "want a message longer than one line"
    ui.save("long-error-80")
    ui.keys("M-o")
    wait_status(ui, "Fix Server Name first: " + host_detail)
    assert server_json(ob, "work")["host"] == "smtp.work.test"
    ui.keys("Escape")
    ui.wait_for("Changes cancelled")
    quit_clean(ui)


# --- Mouse ------------------------------------------------------------------------------------

def test_terminal_mouse_protocol_is_known(ob, ui_factory):
    ui = ui_factory()
    ui.wait_for("No outgoing servers yet")
    # The pane's TERM is tmux's default-terminal; its kmous decides what ncurses parses, and
    # tmux must have been asked for the matching reports (1006 for SGR, plain 1000 for X10).
    term, proto = ui.pane_term(), ui.mouse_protocol()
    want = "1|1" if proto == "sgr" else "0|1"
    got = ui.fmt("#{mouse_sgr_flag}|#{mouse_standard_flag}")
    assert got == want, f"TERM={term} ({proto}): want sgr|standard flags {want}, got {got}"
    quit_clean(ui)


@pytest.mark.parametrize("term", [None, "xterm-256color"])
def test_mouse_clicks_a_row_a_button_and_a_tab(ob, ui_factory, term):
    """Once with tmux's own TERM (X10 reports under "screen"), once as an xterm (SGR reports)."""
    ob.ok("server", "add", "alpha", "--host", "a.test", "--description", "Alpha mail")
    ob.ok("server", "add", "beta", "--host", "b.test", "--description", "Beta mail")
    ob.ok("account", "add", "me@a.test", "--server", "alpha")
    ui = ui_factory(pane_term=term)
    ui.wait_for('Server "alpha"', "Beta mail")
    if term:
        assert (ui.pane_term(), ui.mouse_protocol()) == (term, "sgr")
    ui.click_text("Beta mail")
    ui.wait_for('Server "beta"', "Server Name: b.test")
    ui.click_text("[ Advanced ]", 2)
    ui.wait_for("[Advanced]", "Verify Certificate")
    ui.click_text("[ General ]", 2)
    ui.wait_for("[General]", "Server Name: b.test")
    ui.click_text("1 Accounts")
    ui.wait_for("Email Address", "me@a.test")
    ui.click_text("[ - Remove ]", 2)
    ui.wait_for("Remove account me@a.test?")
    ui.click_text("[ Cancel ]", 2)
    ui.wait_for("Nothing was removed.", absent=("Remove account me@a.test?",))
    ui.click_text("2 Servers")
    ui.wait_for("In Use By Account", 'Server "beta"')
    quit_clean(ui)


# --- Check connection runs in a thread and can be cancelled ----------------------------------

def test_check_connection_can_be_cancelled(ob, ui_factory):
    """A server that accepts the connection and never greets: the check waits in its own thread,
    Esc closes the dialog at once, and its late result is dropped. The check runs on the unsaved
    port, and the draft is thrown away while the thread still has its copy."""
    import socket
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        ob.ok("server", "add", "hang", "--host", "127.0.0.1", "--port", "9", "--security", "none",
              "--timeout", "60")
        before = ob.fingerprint()
        ui = ui_factory()
        ui.wait_for('Server "hang"')
        ui.keys("Enter", "Tab", "Tab", "Tab", "C-u")  # Port, not saved
        ui.type(str(port))
        ui.keys("M-c")
        ui.wait_for(f"Connect to 127.0.0.1 port {port}", "[ .. ]", "Esc cancels", "[ Cancel ]")
        ui.wait_threads(2)
        ui.keys("Escape")
        s = ui.wait_for('Check connection cancelled for "hang"; nothing was sent.',
                        absent=("Checking...", "Check connection: hang"))
        ui.save("check-connection-cancelled")
        assert f"Port: {port}" in s, "the edit stays after the check is cancelled:\n" + s
        assert ui.threads() == 2, "the check thread is left to finish by itself"
        ui.keys("Escape")  # drop the draft the check was started from
        ui.wait_for("Changes cancelled", "Port: 9\n")
        # Now let the check end: the server hangs up without a greeting.
        conn, _ = listener.accept()
        conn.close()
        ui.wait_threads(1)
        s = ui.screen()
        assert "Check connection failed" not in s and "[FAIL]" not in s, \
            "a cancelled check's result must not show up:\n" + s
        ui.keys("c")  # a new check after the cancelled one works as usual
        ui.wait_for("Check connection: hang", "[FAIL]", "Failed:", timeout=30)
        ui.keys("Escape")
        ui.wait_for("Check connection failed:", absent=("[ Close ]",))
        quit_clean(ui)
        assert ob.fingerprint() == before
    finally:
        listener.close()


def test_ui_says_so_when_outbox_ui_is_missing(tmp_path):
    """outbox ui runs the outbox-ui program beside it; a lone copy of outbox says what is missing."""
    import subprocess
    lone = tmp_path / "outbox"
    shutil.copy(OUTBOX, lone)
    r = subprocess.run([str(lone), "ui"], capture_output=True, text=True,
                       env={**os.environ, "OUTBOX_HOME": str(tmp_path / "home")}, timeout=30)
    assert r.returncode == 69, f"exit: got {r.returncode}, want 69\n{r.stderr}"
    assert "outbox-ui" in r.stderr and "No such file" in r.stderr, r.stderr
