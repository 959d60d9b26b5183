# tests/e2e/test_tui_words.py: `outbox ui` in Apple Mail's words: the host typed first as "Server
# Name" and saved, the short name filled in from it, hosts in the list, the account's drop-down as
# "Description (host)" with None, "Password (automatic)", and errors worded with the form's labels.
import time

import pytest

from test_tui import account_json, quit_clean, server_json, ui_factory, wait_status  # noqa: F401

SIZES = [(120, 35), (80, 24), (50, 12)]


def focus(ui, hint, key="Tab", tries=30):
    """Move the focus with `key` until the status bar shows `hint` (a field's help), waiting for
    each move to reach the screen, so fields are found by what they are, not by counting."""
    for _ in range(tries):
        before = ui.screen()
        if hint in before.splitlines()[-1]:
            return before
        ui.keys(key)
        deadline = time.monotonic() + 15
        while ui.screen() == before and time.monotonic() < deadline:
            time.sleep(0.02)
    raise AssertionError(f"want a field with the hint {hint!r}, got:\n{ui.screen()}")


HOST_HINT = "the server's host name"
SHORT_HINT = "what accounts and `outbox server"
AUTH_HINT = "Password (automatic): the strongest"
SERVER_HINT = "the server this account sends through"


def test_host_typed_first_is_saved_with_a_short_name(ob, ui_factory):
    ui = ui_factory()
    ui.wait_for("No outgoing servers yet")
    ui.keys("+")
    ui.wait_for("New server", "Server Name:", "Short Name:")
    ui.type("mail.example.com")  # the focus starts on the host
    s = ui.wait_for("Server Name: mail.example.com", "Short Name: example.com")
    row = next(l for l in s.splitlines() if "(new server)" in l)
    assert "mail.example.com" in row, "want the host typed so far in the list's new row, got:\n" + s
    ui.save("words-new-server")
    ui.keys("Enter")
    s = ui.wait_for('Saved server "example.com"')
    assert "is required" not in s, s
    got = server_json(ob, "example.com")
    assert (got["name"], got["host"]) == ("example.com", "mail.example.com"), got
    quit_clean(ui)


def test_short_name_follows_the_host_until_typed(ob, ui_factory):
    ui = ui_factory()
    ui.wait_for("No outgoing servers yet")
    ui.keys("+")
    ui.wait_for("New server")
    ui.type("smtp.follow.ex")
    ui.wait_for("Short Name: follow.ex\n")
    ui.type("ample")
    ui.wait_for("Short Name: follow.example\n", 'New server "follow.example"')
    focus(ui, SHORT_HINT)
    ui.keys("C-u")
    ui.type("mine")
    focus(ui, HOST_HINT, key="BTab")
    ui.keys("End")
    ui.type("x")
    s = ui.wait_for("Server Name: smtp.follow.examplex")
    assert "Short Name: mine\n" in s, "want the typed short name kept, got:\n" + s
    ui.keys("Enter")
    ui.wait_for('Saved server "mine"')
    got = server_json(ob, "mine")
    assert got["host"] == "smtp.follow.examplex", got
    quit_clean(ui)


def test_servers_at_one_domain_get_distinct_short_names(ob, ui_factory):
    ob.ok("server", "add", "example.com", "--host", "smtp.example.com")
    ui = ui_factory()
    ui.wait_for("smtp.example.com")
    for host, want in (("mail.example.com", "example.com-2"), ("smtp2.example.com", "example.com-3")):
        ui.keys("+")
        ui.wait_for("New server")
        ui.type(host)
        ui.wait_for(f"Short Name: {want}\n")
        ui.keys("Enter")
        ui.wait_for(f'Saved server "{want}"')
        assert server_json(ob, want)["host"] == host
    assert server_json(ob, "example.com")["host"] == "smtp.example.com"
    quit_clean(ui)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_list_shows_hosts_under_server_name(ob, ui_factory, size):
    ob.ok("server", "add", "home", "--host", "mail.home.example.net")
    ob.ok("server", "add", "work", "--host", "smtp.work.example.com", "--description", "Work mail")
    ui = ui_factory(*size)
    s = ui.wait_for("Server Name")
    ui.save(f"words-server-list-{size[0]}x{size[1]}")
    lines = s.splitlines()
    head = next(l for l in lines if "Description" in l and "Server Name" in l)
    x = head.index("Server Name")
    # The cell, then one blank column before the next; on a narrow screen In Use By may be left
    # out, and the host's cell then runs to the screen's edge.
    last = "In Use By" not in head
    width = (len(ui.screen().splitlines()[0]) if last else head.index("In Use By") - 1) - x
    want = {"home": "mail.home.example.net", "Work mail": "smtp.work.example.com"}
    for desc, host in want.items():
        row = next((l for l in lines if l[2:].startswith(desc)), None)
        assert row is not None, f"want a row whose Description is {desc!r}, got:\n{s}"
        shown = host if len(host) <= width else host[:width - 1] + "\u2026"
        got = row[x:x + width].rstrip()
        assert got == shown, f"want {shown!r} under Server Name at column {x}, got {got!r} in:\n{s}"
        assert row[x - 1] == " " and (last or row[x + width] == " "), \
            f"want blank columns around the host, got:\n{s}"
    quit_clean(ui)


def test_account_drop_down_shows_description_host_and_none(ob, ui_factory):
    ob.ok("server", "add", "work", "--host", "smtp.work.test", "--description", "Work")
    ob.ok("server", "add", "plain", "--host", "smtp.plain.test")
    ob.ok("account", "add", "me@work.test", "--server", "work")
    ui = ui_factory(100, 30)
    ui.wait_for("smtp.work.test")
    ui.keys("1")
    ui.wait_for("me@work.test")
    ui.keys("Enter")
    s = focus(ui, SERVER_HINT)
    assert "Outgoing Mail Server: Work (smtp.work.test)" in s, s
    ui.keys("Enter")
    s = ui.wait_for("None (the default server)", "Edit Server List...")
    ui.save("words-account-server-drop-down")
    assert "smtp.plain.test" in s and "Work (smtp.work.test)" in s, s
    ui.keys("Up", "Enter")  # the list is plain, work (by name): up from work is plain
    ui.wait_for("Outgoing Mail Server: smtp.plain.test")
    ui.keys("M-o")
    ui.wait_for("Saved account me@work.test")
    assert account_json(ob, "me@work.test")["server"] == "plain"
    ui.keys("Enter")
    focus(ui, SERVER_HINT)
    ui.keys("Enter")
    ui.wait_for("None (the default server)")
    ui.keys("Down", "Down", "Enter")  # plain, work, None
    wait_status(ui, 'None: the account sends through the default server, "work".')
    ui.wait_for("Outgoing Mail Server: Work (smtp.work.test)")
    ui.keys("M-o")
    ui.wait_for("Saved account me@work.test")
    assert account_json(ob, "me@work.test")["server"] == "work"
    quit_clean(ui)


def test_servers_alike_in_the_drop_down_show_their_short_names(ob, ui_factory):
    for name, port in (("work", "587"), ("work-b", "2525")):  # alike but for the port
        ob.ok("server", "add", name, "--host", "smtp.work.test", "--port", port, "--description", "Work")
    ob.ok("account", "add", "me@work.test", "--server", "work")
    ui = ui_factory(100, 30)
    ui.wait_for("smtp.work.test")
    ui.keys("1")
    ui.wait_for("me@work.test")
    ui.keys("Enter")
    focus(ui, SERVER_HINT)
    ui.keys("Enter")
    s = ui.wait_for("Work (smtp.work.test) [work]", "Work (smtp.work.test) [work-b]")
    ui.keys("Down", "Enter")
    ui.keys("M-o")
    ui.wait_for("Saved account me@work.test")
    assert account_json(ob, "me@work.test")["server"] == "work-b"
    quit_clean(ui)


def test_auto_is_password_automatic(ob, ui_factory):
    ob.ok("server", "add", "work", "--host", "smtp.work.test")
    ui = ui_factory()
    s = ui.wait_for("Authentication: Password (automatic)")
    assert "Authentication: auto" not in s, s
    ui.keys("Enter")
    focus(ui, AUTH_HINT)
    ui.keys("Enter")
    s = ui.wait_for("MD5 Challenge-Response", "Password (PLAIN)")
    ui.save("words-authentication-drop-down")
    ui.keys("Down", "Enter")  # auto -> none
    ui.wait_for("Authentication: None")
    ui.keys("M-o")
    ui.wait_for('Saved server "work"')
    assert server_json(ob, "work")["auth"] == "none"
    quit_clean(ui)


def test_errors_use_the_form_labels_and_save_nothing(ob, ui_factory):
    ob.ok("server", "add", "work", "--host", "smtp.work.test")
    before = ob.fingerprint()
    ui = ui_factory()
    ui.wait_for("smtp.work.test")
    ui.keys("+")
    ui.wait_for("New server")
    ui.keys("Enter")  # OK with no host
    s = wait_status(ui, "Server Name is required")
    assert "host:" not in s, "want the form's label, not the option's key, got:\n" + s
    ui.save("words-error-host-required")
    ui.type("smtp.other.test")
    focus(ui, SHORT_HINT)
    ui.keys("C-u")
    ui.type("work")
    ui.keys("Enter")  # a short name another server has
    s = wait_status(ui, 'Short Name: a server named "work" already exists')
    assert "name:" not in status_line(s), s
    focus(ui, "465 for tls", key="Tab")  # Port
    ui.keys("C-u")
    ui.type("0")
    ui.keys("Tab")
    s = wait_status(ui, "Port: ")
    assert "port:" not in status_line(s), s
    ui.save("words-error-port")
    ui.keys("Escape")
    ui.wait_for("Changes cancelled")
    quit_clean(ui)
    assert ob.fingerprint() == before, "want the store unchanged byte for byte"


def status_line(screen):
    return "".join(screen.splitlines()[-3:])
