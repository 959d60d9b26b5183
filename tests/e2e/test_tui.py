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

    def start(width=80, height=24, env=None):
        e = dict(ob.env)
        e.update(env or {})
        u = TmuxUI(os.path.abspath(OUTBOX), e, width, height)
        started.append(u)
        return u
    yield start
    for u in started:
        u.close()


def server_json(ob, name):
    return ob.ok("server", "show", name, "--json").json()


def account_json(ob, address):
    return ob.ok("account", "show", address, "--json").json()


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
    ui.type("Home mail")
    ui.keys("Tab", "C-u")
    ui.type("home")
    ui.keys("Tab")
    ui.type("mail.home.test")
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
    ui.keys("Enter")  # into the form: Description
    ui.keys("End")
    ui.type(" (office)")
    ui.keys("Tab", "Tab", "Tab", "C-u")  # Port
    ui.type("2587")
    ui.keys("Tab")
    ui.wait_for("(changed)")
    ui.keys("M-a")  # Advanced
    ui.wait_for("[Advanced]", "Verify Certificate", "Timeout", "Client Certificate")
    ui.save("server-advanced")
    # Walk to Timeout by its label rather than counting fields, so new fields do not break this.
    for _ in range(20):
        if "seconds to wait" in ui.screen().splitlines()[-1]:
            break
        ui.keys("Tab")
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
    ui.wait_for("Remove server \"alpha\"?", "It is the outgoing server of: me@a.test.",
                'They will move to "beta".')
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
    ui.keys("Enter")
    ui.type("changed ")
    ui.keys("Tab", "Tab", "Tab", "C-u")
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
    for _ in range(10):
        if "Outgoing Mail Server" not in ui.screen().splitlines()[-1] and \
                "server" in ui.screen().splitlines()[-1]:
            break
        ui.keys("Tab")
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
    ui.wait_for("queued", "me@a.test", "you@b.test")
    ui.save("outbox")
    ui.keys("r")
    ui.wait_for("is due now")
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
    lines = None
    for _ in range(200):
        lines = ui.screen().splitlines()
        if len(lines) == size[1] and "[ OK ]" in lines[size[1] - 2]:
            break
        time.sleep(0.05)
    assert len(lines) == size[1] and "[ OK ]" in lines[size[1] - 2], "\n".join(lines)
    assert "?: help" in lines[0] and lines[0].rstrip().endswith("q: quit")
    assert "Host Name: smtp.work.test" in "\n".join(lines)
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
    ui.keys("Enter", "End")
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
    ui.wait_for("outbox ui: keys", "undo the last removal")
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
