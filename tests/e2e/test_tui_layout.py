# tests/e2e/test_tui_layout.py: `outbox ui` fits any terminal: lists grow with the screen and
# scroll with marks, the status line keeps off the buttons, titles keep off the page tabs, cells
# and headings keep their gaps. Checked on the structure (rows, columns, marks), at three sizes.
import re
import time

import pytest

from test_tui import quit_clean, ui_factory  # noqa: F401 (ui_factory is a fixture)

SIZES = [(120, 35), (80, 24), (50, 12)]
TOKEN = re.compile(r"\bs(\d\d)\b")
ELLIPSIS = "\u2026"


def add_servers(ob, count):
    for i in range(1, count + 1):
        ob.ok("server", "add", f"s{i:02d}", "--host", f"s{i:02d}.mail.test", "--description", f"Box s{i:02d}")


def page_tabs_row(lines):
    """The form's title row: the one with the page tabs."""
    for y, line in enumerate(lines):
        if "[General]" in line or "[Advanced]" in line:
            return y
    raise AssertionError("want the page tabs on screen, got:\n" + "\n".join(lines))


def list_rows(screen):
    """The server list: the rows between the headings (row 1) and the form's title."""
    lines = screen.splitlines()
    return lines[2:page_tabs_row(lines)]


def shown_servers(rows):
    return [int(m.group(1)) for row in rows for m in [TOKEN.search(row)] if m]


def mark(rows, sign):
    """How many rows a scroll mark says are hidden above ("^") or below ("v"), 0 without one."""
    for row in rows:
        m = re.search(re.escape(sign) + r" ?(\d+)(?: more)?", row)
        if m:
            return int(m.group(1))
    return 0


def redrawn_at(ui, width, height, *texts, timeout=15):
    """Wait for the UI's own redraw at a new size: the right number of rows, the top bar on row 0
    (tmux alone keeps the old screen's bottom), and `texts`."""
    deadline = time.monotonic() + timeout
    while True:
        s = ui.screen()
        lines = s.splitlines()
        if len(lines) == height and "1 Accounts" in lines[0] and all(t in s for t in texts) \
                and all(len(l) <= width for l in lines):
            return s
        if time.monotonic() > deadline:
            raise AssertionError(f"want a {width}x{height} screen with {texts!r}, got:\n{s}")
        time.sleep(0.05)


def wait_bottom(ui, text, rows, timeout=15):
    """Wait until the bottom `rows` rows say `text` in full, however it is wrapped."""
    want = "".join(text.split())
    deadline = time.monotonic() + timeout
    while True:
        s = ui.screen()
        if want in "".join("".join(s.splitlines()[-rows:]).split()):
            return s
        assert time.monotonic() < deadline, f"want the status line to say {text!r}, got:\n{s}"
        time.sleep(0.05)


def selected_title(ui, name):
    return ui.wait_for(f'Server "{name}"')


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_list_grows_and_scrolls_with_marks(ob, ui_factory, size):
    add_servers(ob, 9)
    ui = ui_factory(*size)
    s = ui.wait_for("s01", 'Server "s01"')
    ui.save(f"layout-list-{size[0]}x{size[1]}")
    rows = list_rows(s)
    shown = shown_servers(rows)
    assert shown == list(range(1, len(shown) + 1)), f"want the first servers in order, got {shown}:\n{s}"
    assert len(rows) == len(shown), "want no blank rows in the list, got:\n" + s
    hidden = 9 - len(shown)
    if size == (120, 35):
        assert hidden == 0, "want all 9 servers at 120x35, got:\n" + s
    assert mark(rows, "v") == hidden, f"want a mark saying {hidden} more below, got:\n{s}"
    assert mark(rows, "^") == 0, "want no mark above the first server, got:\n" + s
    # Down walks through every server; the list scrolls to show each, and marks what is above.
    seen = set(shown)
    for i in range(2, 10):
        ui.keys("Down")
        s = selected_title(ui, f"s{i:02d}")
        rows = list_rows(s)
        now = shown_servers(rows)
        assert i in now, f"want s{i:02d} in view once selected, got:\n{s}"
        assert len(rows) == len(now), "want no blank rows in the list, got:\n" + s
        assert mark(rows, "^") == now[0] - 1 and mark(rows, "v") == 9 - now[-1], \
            f"want marks for {now[0] - 1} above and {9 - now[-1]} below, got:\n{s}"
        seen.update(now)
    assert seen == set(range(1, 10)), f"want every server shown at some point, got {sorted(seen)}"
    ui.save(f"layout-list-end-{size[0]}x{size[1]}")
    quit_clean(ui)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_removal_by_another_process_leaves_no_blank_rows(ob, ui_factory, size):
    add_servers(ob, 14)
    ui = ui_factory(*size)
    ui.wait_for('Server "s01"')
    ui.keys("End")
    s = selected_title(ui, "s14")
    assert 14 in shown_servers(list_rows(s)), s
    ob.ok("server", "remove", "s14")
    ob.ok("server", "remove", "s13")
    s = ui.wait_for('Server "s12"', absent=("s14", "s13"), timeout=10)
    ui.save(f"layout-removed-{size[0]}x{size[1]}")
    rows = list_rows(s)
    shown = shown_servers(rows)
    assert len(rows) == len(shown), "want no blank rows after the removal, got:\n" + s
    assert shown[-1] == 12 and mark(rows, "v") == 0, "want the list to end at the last server, got:\n" + s
    assert mark(rows, "^") == 12 - len(shown), "want the mark to count the rows above, got:\n" + s
    ui.keys("Up")
    selected_title(ui, "s11")
    quit_clean(ui)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_long_status_keeps_off_the_buttons(ob, ui_factory, size):
    name = "a-really-long-server-name-so-the-status-line-has-to-wrap-round"
    ob.ok("server", "add", name, "--host", "solo.test")
    ob.ok("account", "add", "me@solo.test", "--server", name)
    before = ob.fingerprint()
    ui = ui_factory(*size)
    ui.wait_for("solo.test")
    ui.keys("-")
    ui.wait_for("Cannot remove server")
    ui.keys("Enter")
    message = f'Nothing was removed: "{name}" is the only server its accounts can use.'
    s = wait_bottom(ui, message, 6)
    ui.save(f"layout-long-status-{size[0]}x{size[1]}")
    lines = s.splitlines()
    status_top = next(y for y, l in enumerate(lines) if "Nothing was removed" in l)
    assert status_top < len(lines) - 1, "want a status that wraps, got:\n" + s
    buttons = [y for y, l in enumerate(lines) if "[ " in l and " ]" in l and y > 1]
    assert buttons and max(buttons) < status_top, f"want the buttons above the status rows, got:\n{s}"
    for label in ("[ + Add ]", "[ - Remove ]", "[ Check Connection ]", "[ Advanced ]", "[ OK ]", "[ Cancel ]"):
        assert label in s, f"want the button {label} whole on screen, got:\n{s}"
    # The button is clickable while the message is up.
    ui.click_text("[ Advanced ]", 2)
    ui.wait_for("[Advanced]", "[ General ]")
    quit_clean(ui)
    assert ob.fingerprint() == before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_title_keeps_off_the_page_tabs(ob, ui_factory, size):
    name = "a-rather-long-server-name-for-the-title"
    ob.ok("server", "add", name, "--host", "title.test")
    ui = ui_factory(*size)
    ui.wait_for("title.test", "[General]")
    ui.keys("Enter")
    ui.type("x")  # an edit, so the title says "(changed)" too
    full = f'Server "{name}" (changed)'
    deadline = time.monotonic() + 15
    while True:
        s = ui.screen()
        line = s.splitlines()[page_tabs_row(s.splitlines())]
        title = line[:line.index("[General]")] if "[General]" in line else ""
        if full in title or title.rstrip().endswith(ELLIPSIS):
            break
        assert time.monotonic() < deadline, f"want the edited server's title, got:\n{s}"
        time.sleep(0.05)
    ui.save(f"layout-title-{size[0]}x{size[1]}")
    x = line.index("[General]")
    assert line[x:].startswith("[General]  Advanced"), "want both page tabs whole, got:\n" + line
    title = line[:x]
    assert title.endswith(" ") and title.strip().startswith("Server"), \
        f"want the title, then a space, then [General], got {line!r}"
    assert full in title or title.rstrip().endswith(ELLIPSIS), \
        f"want the title whole or cut with {ELLIPSIS!r}, got {line!r}"
    ui.keys("Escape")
    ui.wait_for("Changes cancelled")
    quit_clean(ui)


def cut_columns(row):
    """Where a row's cells were cut: the columns of its ellipses."""
    return [x for x, ch in enumerate(row) if ch == ELLIPSIS]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_cells_and_headings_keep_their_gaps(ob, ui_factory, size):
    long_name = "s01-" + "n" * 40
    ob.ok("server", "add", long_name, "--host", "long-" + "h" * 50 + ".mail.test", "--description", "D" * 90)
    ob.ok("account", "add", "someone-with-a-long-address-" + "a" * 20 + "@long-" + "d" * 30 + ".test", "--server", long_name)
    ui = ui_factory(*size)
    s = ui.wait_for("DDDD")
    ui.save(f"layout-cells-{size[0]}x{size[1]}")
    lines = s.splitlines()
    row = next(l for l in lines[2:] if "DDDD" in l)
    heads = lines[1]
    cuts = cut_columns(row)
    assert cuts, f"want the long cells cut with {ELLIPSIS!r}, got:\n{s}"
    for x in cuts:
        if x < len(row.rstrip()) - 1:
            # A cut cell ends one column before the next; that column is the gap, and both the
            # next cell and its heading start right after it.
            assert row[x + 1] == " " and row[x + 2] != " ", f"want a gap after the cut at {x}, got {row!r}"
            assert heads[x + 1] == " " and heads[x + 2] != " ", \
                f"want the heading of the next column after a gap at {x + 2}, got {heads!r}"
    assert len(row) <= size[0], row
    # Every heading is separated from the next by at least a space, at every width.
    columns = [0] + [x + 2 for x in cuts if x < len(row.rstrip()) - 1]
    for a, b in zip(columns, columns[1:]):
        assert heads[b - 1] == " ", f"want a space before the heading at {b}, got {heads!r}"
    ui.keys("1")
    s = ui.wait_for("someone-with")
    ui.save(f"layout-accounts-{size[0]}x{size[1]}")
    lines = s.splitlines()
    row = next(l for l in lines[2:] if "someone-with" in l)
    for x in cut_columns(row):
        if x < len(row.rstrip()) - 1:
            assert row[x + 1] == " " and lines[1][x + 1] == " ", \
                f"want a gap after each cut cell and its heading, got:\n{lines[1]}\n{row}"
    quit_clean(ui)


def test_resize_keeps_the_selection(ob, ui_factory):
    add_servers(ob, 9)
    ui = ui_factory(120, 35)
    ui.wait_for('Server "s01"')
    for _ in range(6):
        ui.keys("Down")
    selected_title(ui, "s07")
    for width, height in [(50, 12), (80, 24), (120, 35)]:
        ui.resize(width, height)
        s = redrawn_at(ui, width, height, 'Server "s07"')
        rows = list_rows(s)
        shown = shown_servers(rows)
        assert 7 in shown and len(rows) == len(shown), f"want s07 in view and no blank rows, got:\n{s}"
        ui.save(f"layout-resized-{width}x{height}")
    quit_clean(ui)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_outbox_list_grows_and_scrolls_with_marks(ob, ui_factory, size):
    ob.ok("server", "add", "alpha", "--host", "127.0.0.1", "--port", "9", "--security", "none")
    ob.ok("account", "add", "me@a.test", "--server", "alpha")
    for i in range(1, 10):
        r = ob.run("send", "--queue-only", f"to{i}@b.test", input=f"Subject: m{i}\n\nhello\n")
        assert r.code == 0, r.describe()
    ui = ui_factory(*size)
    ui.keys("3")
    s = ui.wait_for("queued", "Details")
    ui.save(f"layout-outbox-{size[0]}x{size[1]}")
    lines = s.splitlines()
    details = next(y for y, l in enumerate(lines) if l.strip() == "Details")
    rows = lines[2:details]
    shown = [int(r.split()[0]) for r in rows if r.split() and r.split()[0].isdigit()]
    assert len(rows) == len(shown) and shown == list(range(1, len(shown) + 1)), \
        "want the first messages in order and no blank rows, got:\n" + s
    if size == (120, 35):
        assert len(shown) == 9, "want all 9 messages at 120x35, got:\n" + s
    assert mark(rows, "v") == 9 - len(shown), f"want a mark for {9 - len(shown)} more below, got:\n{s}"
    ui.keys("End")
    s = ui.wait_for("Message 9 from")
    lines = s.splitlines()
    details = next(y for y, l in enumerate(lines) if l.strip() == "Details")
    rows = lines[2:details]
    assert any(r.split() and r.split()[0] == "9" for r in rows), "want message 9 in view, got:\n" + s
    assert mark(rows, "^") == 9 - len(rows), f"want a mark for the rows above, got:\n{s}"
    assert "[ Retry ]" in s and "[ Retry All ]" in s and "[ - Remove ]" in s, s
    quit_clean(ui)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_dialog_buttons_wrap_rather_than_hide(ob, ui_factory, size):
    ob.ok("server", "add", "alpha", "--host", "a.test", "--description", "Alpha mail")
    ob.ok("server", "add", "beta", "--host", "b.test", "--description", "Beta mail")
    ob.ok("account", "add", "me@a.test", "--server", "alpha")
    before = ob.fingerprint()
    ui = ui_factory(*size)
    ui.wait_for('Server "alpha"')
    ui.keys("-")
    s = ui.wait_for('Remove server "alpha"?')
    ui.save(f"layout-dialog-{size[0]}x{size[1]}")
    for label in ("[ Remove and move ]", "[ Choose server... ]", "[ Cancel ]"):
        assert label in s, f"want the dialog's button {label} whole, got:\n{s}"
    box = [l for l in s.splitlines() if "\u2502" in l]
    assert any("[ Cancel ]" in l for l in box), "want the buttons inside the dialog's box, got:\n" + s
    ui.click_text("[ Cancel ]", 2)
    ui.wait_for("Nothing was removed.", absent=('Remove server "alpha"?',))
    quit_clean(ui)
    assert ob.fingerprint() == before
