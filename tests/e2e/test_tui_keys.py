# tests/e2e/test_tui_keys.py: every key of `outbox ui` does what it says: text fields measured in
# screen columns (CJK typed, moved in and saved), Ctrl-L repainting, the live refresh after a click,
# the top bar inside a text field, distinct button letters, and keys that cannot act say why.
import os
import shutil
import time
import unicodedata

import pytest

from tmuxui import REPO
from test_tui import quit_clean, server_json, ui_factory, wait_status  # noqa: F401

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

SIZES = [(120, 35), (80, 24), (50, 12)]
WIDE = "日本語テキスト"


def columns(text):
    """Screen columns of text as a terminal shows it: East Asian wide and full-width take two."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in text)


def cursor(ui):
    x, y = ui.fmt("#{cursor_x} #{cursor_y}").split()
    return int(x), int(y)


def cursor_row(ui):
    return ui.screen().splitlines()[cursor(ui)[1]]


def styled(ui):
    """The screen with its attributes: moving the focus may change only those."""
    return ui._tmux("capture-pane", "-p", "-e", "-t", "ui")


def settle(ui, before, timeout=15):
    """Wait until the styled screen is no longer `before` (a key was acted on); return it."""
    deadline = time.monotonic() + timeout
    while True:
        s = styled(ui)
        if s != before:
            return s
        if time.monotonic() > deadline:
            raise AssertionError(f"want the screen to change after a key, got still:\n{s}")
        time.sleep(0.05)


def focus_field(ui, label, limit=30):
    """Tab through the form until the cursor's row is the field `label` (found by its label, not
    by counting, since the order of fields may change)."""
    for _ in range(limit):
        row = cursor_row(ui)
        if row.strip().startswith(label + ":") and ui.fmt("#{cursor_flag}") == "1":
            return row
        before = styled(ui)
        ui.keys("Tab")
        settle(ui, before)
    raise AssertionError(f"want the focus on {label!r} within {limit} Tabs, got:\n{ui.screen()}")


def focus_by_hint(ui, hint, limit=30):
    """Tab until the status bar shows the focused field's help `hint` (a drop-down or a box has
    no cursor to find it by)."""
    for _ in range(limit):
        if hint in ui.screen().splitlines()[-1]:
            return
        before = styled(ui)
        ui.keys("Tab")
        settle(ui, before)
    raise AssertionError(f"want the focus where the hint says {hint!r}, got:\n{ui.screen()}")


def field_x(row, label):
    """The column where a field's value starts: after "Label: " (labels are ASCII)."""
    return row.index(label + ":") + len(label) + 2


def wait_field(ui, label, want_text, want_cursor_cols, timeout=15):
    """Wait until the field's row shows want_text (then only spaces) with the cursor want_cursor_cols
    columns into it; returns the row."""
    deadline = time.monotonic() + timeout
    while True:
        row = cursor_row(ui)
        got = None
        if label + ":" in row:
            x0 = field_x(row, label)
            shown = row[x0:]
            got = (shown.rstrip(), cursor(ui)[0] - x0)
            if got == (want_text, want_cursor_cols):
                return row
        if time.monotonic() > deadline:
            raise AssertionError(f"want {label} to show {want_text!r} with the cursor {want_cursor_cols} "
                                 f"columns in, got {got!r} in row {row!r}\n{ui.screen()}")
        time.sleep(0.05)


def visible_tail(text, width):
    """What a field `width` columns wide shows of text with the cursor at its end: the end's cell
    in view, a wide character cut at the left edge shown as a space."""
    need = columns(text) + 1 - width
    if need <= 0:
        return text
    col, out = 0, ""
    for c in text:
        w = columns(c)
        if col + w <= need:
            pass
        elif col < need:
            out += " " * (col + w - need)
        else:
            out += c
        col += w
    return out


# --- Text fields in columns ---------------------------------------------------------------------

@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_wide_characters_typed_moved_and_saved(ob, ui_factory, size):
    ob.ok("server", "add", "work", "--host", "smtp.work.test")
    ui = ui_factory(*size)
    ui.wait_for("smtp.work.test")
    ui.keys("Enter")
    focus_field(ui, "Description")
    width = field_width(ui, "Description")
    ui.type(WIDE)
    row = cursor_row(ui)
    x0 = field_x(row, "Description")
    ui.keys("Home")
    ui.keys("Right", "Right")
    ui.type("AB")  # inserted at the cursor, between 本 and 語
    value = "日本AB" + "語テキスト"
    ui.keys("End")
    ui.type("xyz")
    value += "xyz"
    wait_field(ui, "Description", visible_tail(value, width).rstrip(), min(columns(value), width - 1))
    # One more column: where the field scrolls, a wide character is now cut at its left edge.
    ui.type("!")
    value += "!"
    wait_field(ui, "Description", visible_tail(value, width).rstrip(), min(columns(value), width - 1))
    ui.save(f"keys-wide-end-{size[0]}x{size[1]}")
    ui.keys("Home")
    head = ""
    for c in value:
        if columns(head + c) > width:
            break
        head += c
    wait_field(ui, "Description", head, 0)
    ui.save(f"keys-wide-home-{size[0]}x{size[1]}")
    assert x0 == field_x(cursor_row(ui), "Description")
    ui.keys("Enter")
    wait_status(ui, 'Saved server "work"')
    got = server_json(ob, "work")["description"]
    assert got == value, f"saved description: got {got!r}, want {value!r}"
    quit_clean(ui)


def field_width(ui, label):
    """How many columns the focused text field has, measured by the UI itself: typed full of
    ASCII ending in "y", it shows width - 1 of them and the cursor's cell; then Ctrl-U clears it."""
    ui.type("x" * 120 + "y")
    deadline = time.monotonic() + 15
    while True:
        row = cursor_row(ui)
        x0 = field_x(row, label)
        shown = row[x0:].split(" ")[0]
        # The "y" typed last is on the screen: everything before it was typed too.
        if shown.endswith("xy") and cursor(ui)[0] == x0 + len(shown):
            break
        assert time.monotonic() < deadline, f"want a field full of x then y, got {row!r}"
        time.sleep(0.05)
    ui.keys("C-u")
    ui.wait_gone("xy")
    return len(shown) + 1


# --- Ctrl-L and the mouse -------------------------------------------------------------------------

def write_to_terminal(ui, data):
    """Write bytes straight to the UI's terminal, as another program sharing it would: tmux keys
    reach the UI's input, not its screen, so this goes through the UI's own standard output."""
    with open(f"/proc/{ui.ui_pid()}/fd/1", "wb", buffering=0) as tty:
        tty.write(data)


@pytest.mark.parametrize("where", ["servers", "dialog"])
def test_ctrl_l_repaints_over_garbage(ob, ui_factory, where):
    ob.ok("server", "add", "work", "--host", "smtp.work.test", "--description", "Work mail")
    ui = ui_factory()
    ui.wait_for("Work mail")
    if where == "dialog":
        ui.keys("?")
        ui.wait_for("outbox ui: keys")
    clean = ui.screen()
    write_to_terminal(ui, b"\x1b[4;10HGARBAGE GARBAGE GARBAGE\x1b[12;3H#####")
    ui.wait_for("GARBAGE GARBAGE", "#####")
    ui.keys("C-l")
    got = ui.wait_gone("GARBAGE")
    assert "#####" not in got, got
    assert got == clean, f"want the screen as before the garbage, got:\n{got}\nwant:\n{clean}"
    ui.save(f"keys-ctrl-l-{where}")
    if where == "dialog":
        ui.keys("Escape")
        ui.wait_gone("outbox ui: keys")
    quit_clean(ui)


def mouse_report(ui, x, y, release):
    """The bytes a terminal sends for a left button press or release at 0-based (x, y)."""
    if ui.mouse_protocol() == "sgr":
        return f"\x1b[<0;{x + 1};{y + 1}{'m' if release else 'M'}".encode()
    return bytes([0x1b, ord("["), ord("M"), 32 + (3 if release else 0), 33 + x, 33 + y])


def click_as_a_person(ui, text, then):
    """Press on `text`, wait until the UI has acted on the press (`then` is on the screen), and
    only then release, as a hand does: the release comes on its own, after the press was read."""
    x, y = ui.find(text)
    for release in (False, True):
        report = mouse_report(ui, x, y, release)
        ui._tmux("send-keys", "-t", "ui", "-H", *(f"{b:02x}" for b in report))
        if not release:
            ui.wait_for(*then)


@pytest.mark.parametrize("term", [None, "xterm-256color"])
def test_click_then_change_elsewhere_shows_without_a_key(ob, ui_factory, term):
    ob.ok("server", "add", "alpha", "--host", "a.test", "--description", "Alpha mail")
    ob.ok("server", "add", "beta", "--host", "b.test", "--description", "Beta mail")
    ui = ui_factory(pane_term=term)
    ui.wait_for('Server "alpha"', "Beta mail")
    click_as_a_person(ui, "Beta mail", then=('Server "beta"', "Server Name: b.test"))
    # No key from here on: the live refresh alone must show another program's change.
    ob.ok("server", "add", "other", "--host", "other.test", "--description", "Added elsewhere")
    ui.wait_for("Added elsewhere", timeout=10)
    ui.save("keys-click-then-refresh")
    # The next key is a key like any other, not swallowed by the click: 3 opens the Outbox.
    ui.keys("3")
    ui.wait_for("The outbox is empty")
    quit_clean(ui)



def test_click_on_check_connection_then_progress_shows_without_a_key(ob, ui_factory):
    """The check's progress and result come in while no key is pressed after the click. The
    server is a socket that accepts and then hangs up without a greeting when the test says so:
    a fault no real server makes on cue."""
    import socket
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        ob.ok("server", "add", "hang", "--host", "127.0.0.1", "--port", str(port), "--security", "none",
              "--timeout", "60")
        ui = ui_factory()
        ui.wait_for('Server "hang"')
        click_as_a_person(ui, "[ Check Connection ]", then=(f"Connect to 127.0.0.1 port {port}", "[ .. ]"))
        conn, _ = listener.accept()
        conn.close()
        s = ui.wait_for("[FAIL]", "Failed:", timeout=30)
        ui.save("keys-click-check-connection")
        assert "[ Close ]" in s, s
        # The key after the click is the user's own: Escape closes the result, as it says.
        ui.keys("Escape")
        ui.wait_for("Check connection failed:", absent=("[ Close ]",))
        quit_clean(ui)
    finally:
        listener.close()


# --- The top bar and the focus say what keys do ---------------------------------------------------

def test_top_bar_in_a_text_field_names_the_keys_that_work(ob, ui_factory):
    ob.ok("server", "add", "work", "--host", "smtp.work.test", "--description", "Work mail")
    ui = ui_factory()
    s = ui.wait_for("Work mail")
    assert s.splitlines()[0].rstrip().endswith("?: help  q: quit"), s.splitlines()[0]
    ui.keys("Enter")
    focus_field(ui, "Description")
    s = ui.wait_for("F4: help  Alt+Q: quit")
    ui.save("keys-top-bar-text-field")
    assert "?: help" not in s.splitlines()[0], s.splitlines()[0]
    # What the bar says works: ? and q are typed, F4 opens the help, Alt+Q quits.
    ui.keys("End")
    ui.type("?q")
    ui.wait_for("Work mail?q")
    ui.keys("F4")
    ui.wait_for("outbox ui: keys", "Alt+Q")
    ui.keys("Escape")
    ui.wait_gone("outbox ui: keys")
    ui.keys("Escape")  # cancel the typing: nothing was saved
    wait_status(ui, "Changes cancelled; nothing was saved.")
    assert server_json(ob, "work")["description"] == "Work mail"
    s = ui.wait_for("?: help  q: quit")
    ui.keys("Enter")
    focus_field(ui, "Description")
    ui.wait_for("F4: help  Alt+Q: quit")
    ui.keys("M-q")
    code, modes, screen = ui.wait_exit()
    assert code == 0, screen


def test_top_bar_in_dialogs_names_their_keys(ob, ui_factory):
    ob.ok("server", "add", "work", "--host", "smtp.work.test", "--description", "Work mail")
    ui = ui_factory()
    ui.wait_for("Work mail")
    ui.keys("1", "a")
    s = ui.wait_for("Add Account", "Email Address:")
    assert s.splitlines()[0].rstrip().endswith("Esc: cancel"), s.splitlines()[0]
    ui.type("?q")  # typed into the address: neither help nor quit
    ui.wait_for("?q")
    ui.save("keys-top-bar-add-account")
    ui.keys("Escape")
    wait_status(ui, "Add Account cancelled; nothing was saved.")
    ui.keys("2", "-")
    s = ui.wait_for("Remove server")
    assert s.splitlines()[0].rstrip().endswith("Esc: close"), s.splitlines()[0]
    ui.keys("Escape")
    s = wait_status(ui, "Nothing was removed.")
    assert s.splitlines()[0].rstrip().endswith("?: help  q: quit"), s.splitlines()[0]
    quit_clean(ui)


@pytest.mark.parametrize("way", ["drop-down", "alt-e-in-full-name", "button-from-full-name"])
def test_back_from_edit_server_list_keys_do_what_the_hint_says(ob, ui_factory, way):
    ob.ok("server", "add", "alpha", "--host", "a.test", "--description", "Alpha mail")
    ob.ok("account", "add", "me@a.test", "--server", "alpha", "--name", "Me")
    before = ob.fingerprint()
    ui = ui_factory()
    ui.wait_for("Alpha mail")
    ui.keys("1")
    ui.wait_for("me@a.test")
    ui.keys("Enter")
    if way == "drop-down":
        focus_by_hint(ui, "the server this account sends through")
        ui.keys("Enter")
        ui.wait_for("Edit Server List...")
        ui.keys("End", "Enter")
    else:
        focus_field(ui, "Full Name")
        if way == "alt-e-in-full-name":
            ui.keys("M-e")
        else:
            ui.click_text("[ Edit Servers... ]", 2)
    ui.wait_for("In Use By Account", 'Server "alpha"')
    ui.keys("1")
    s = ui.wait_for("Email Address", "me@a.test")
    ui.save(f"keys-back-from-edit-server-list-{way}")
    # Back on the account: no text field has the focus, so the letters are keys again.
    assert s.splitlines()[0].rstrip().endswith("?: help  q: quit"), s
    ui.keys("-")
    ui.wait_for("Remove account me@a.test?")
    ui.keys("Escape")
    wait_status(ui, "Nothing was removed.")
    assert "Me-" not in ui.screen()
    assert account_name(ob) == "Me"
    quit_clean(ui)
    assert ob.fingerprint() == before


def account_name(ob):
    return ob.ok("account", "show", "me@a.test", "--json").json()["name"]


# --- Button letters -----------------------------------------------------------------------------

def underlined_letters(ui, row_text):
    """The underlined characters of the screen row holding row_text, read from tmux's capture
    with attributes (SGR 4 turns underline on; 0, 24 or an empty SGR turn it off)."""
    plain = ui.screen().splitlines()
    y = next(i for i, line in enumerate(plain) if row_text in line)
    raw = styled(ui).splitlines()[y]
    out, under, i = [], False, 0
    while i < len(raw):
        if raw[i] == "\x1b" and raw[i + 1:i + 2] == "[":
            j = i + 2
            while not raw[j].isalpha():
                j += 1
            if raw[j] == "m":
                params = raw[i + 2:j].split(";") if raw[i + 2:j] else ["0"]
                for p in params:
                    if p == "4":
                        under = True
                    elif p in ("0", "24", ""):
                        under = False
            i = j + 1
            continue
        if under and raw[i].strip():
            out.append(raw[i])
        i += 1
    return out


def test_remove_server_dialog_buttons_have_distinct_letters(ob, ui_factory):
    ob.ok("server", "add", "alpha", "--host", "a.test", "--description", "Alpha mail")
    ob.ok("server", "add", "beta", "--host", "b.test", "--description", "Beta mail")
    ob.ok("account", "add", "me@a.test", "--server", "alpha")
    before = ob.fingerprint()
    ui = ui_factory()
    ui.wait_for('Server "alpha"')
    ui.keys("-")
    ui.wait_for("Remove and move", "Choose server...", "[ Cancel ]")
    ui.save("keys-remove-server-dialog")
    letters = [c.lower() for c in underlined_letters(ui, "Choose server...")]
    assert len(letters) == 3 and len(set(letters)) == 3, f"want three distinct letters, got {letters}"
    # Each letter reaches its own button: Alt+S chooses the server, Alt+C cancels.
    ui.keys("M-s")
    ui.wait_for("beta", absent=("Remove and move",))
    ui.keys("Escape")
    ui.wait_for("Remove and move")
    ui.keys("M-c")
    wait_status(ui, "Nothing was removed.")
    quit_clean(ui)
    assert ob.fingerprint() == before



def test_no_dialog_in_the_source_has_two_buttons_on_one_letter():
    """Every button list written in src/tui (the strings with '&' before a letter, ending in
    NULL): its letters are distinct. widget_dialog asserts the same when a dialog opens; this
    also covers the dialogs no other test opens."""
    import re
    src = os.path.join(REPO, "src", "tui")
    lists = 0
    for name in sorted(os.listdir(src)):
        if not name.endswith(".c"):
            continue
        with open(os.path.join(src, name), encoding="utf-8") as f:
            code = f.read()
        for m in re.finditer(r'\{((?:\s*"[^"]*",)+)\s*NULL\s*\}', code):
            labels = re.findall(r'"([^"]*)"', m.group(1))
            if not any("&" in label for label in labels):
                continue
            lists += 1
            letters = [label[label.index("&") + 1].lower() for label in labels if "&" in label]
            assert len(letters) == len(set(letters)), f"{name}: buttons {labels} share a letter: {letters}"
    assert lists >= 8, f"want the dialogs' button lists found in {src}, got {lists}"


# --- Keys that cannot act say why ----------------------------------------------------------------

def test_keys_that_cannot_act_say_why(ob, ui_factory):
    ob.ok("server", "list")  # the store exists, empty, so it can be compared afterwards
    before = ob.fingerprint()
    ui = ui_factory()
    ui.wait_for("No outgoing servers yet")
    for key, says in [("c", "No server to check: press + to add one."),
                      ("-", "No server to remove: the list is empty; + adds one."),
                      ("a", "No server to show Advanced settings of: press + to add one."),
                      ("o", "Nothing to save: there is no server yet; + adds one."),
                      ("x", "x does nothing here: press ? for the keys."),
                      ("Escape", "Nothing to cancel here; q quits."),
                      ("1", None),
                      ("-", "No account to remove: the list is empty; a (or +) adds one."),
                      ("Enter", "No account to edit yet: press a (or +) to add one."),
                      ("c", "c does nothing here: press ? for the keys."),
                      ("3", None),
                      ("-", "Nothing to remove: the outbox is empty."),
                      ("r", "Nothing to retry: the outbox is empty."),
                      ("Enter", "Enter acts on a button: Tab to the buttons, or r retries and - removes.")]:
        ui.keys(key)
        if says:
            wait_status(ui, says)
            ui.keys("F5")  # a key that does nothing anywhere, so the next message is new on screen
            wait_status(ui, "That key does nothing here")
    ui.save("keys-cannot-act")
    quit_clean(ui)
    assert ob.fingerprint() == before


def test_ok_on_an_unchanged_box_says_nothing_was_saved(ob, ui_factory):
    ob.ok("server", "add", "alpha", "--host", "a.test")
    ob.ok("account", "add", "me@a.test", "--server", "alpha")
    before = ob.fingerprint()
    ui = ui_factory()
    ui.wait_for("a.test")
    ui.keys("1")
    ui.wait_for("me@a.test")
    ui.keys("Enter")
    focus_by_hint(ui, "the account used when a message names none")
    ui.keys("Enter")
    wait_status(ui, "Nothing to save: account me@a.test is unchanged. Space ticks or clears the box.")
    quit_clean(ui)
    assert ob.fingerprint() == before
