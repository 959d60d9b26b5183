# tests/e2e/test_tui_outbox.py: the Outbox view of `outbox ui` against real servers: u brings a
# removed message back, Retry and Retry All send at once with their progress and outcomes, the
# empty outbox's words, and each server's own reply when a fallback was tried too.
import os
import shutil
import time

import pytest

from sendutil import configure, marker
from servers import netutil
from test_tui import quit_clean, ui_factory, wait_status  # noqa: F401 (ui_factory is a fixture)

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

SIZES = [(120, 35), (80, 24), (50, 12)]
SENDER = "sender@example.test"


def queue_list(ob):
    return ob.ok("queue", "list", "--json").json()


def queue_to_a_down_server(ob, rcpts, n=1):
    """n messages queued by a real failure: the account's server refuses connections."""
    configure(ob, "main", netutil.free_port(), "none")
    marks = []
    for _ in range(n):
        m = marker()
        r = ob.run("send", *rcpts, input=f"Subject: {m}\n\noutbox view body\n")
        assert r.code == 0 and "queued as" in r.err, "want the message queued:\n" + r.describe()
        marks.append(m)
    return marks


def open_outbox(ui_factory, size):
    ui = ui_factory(*size)
    ui.keys("3")
    return ui


def wait_until(what, check, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"want {what}, still not so after {timeout} s")
        time.sleep(0.05)


def sink_dumps(sink):
    """The transactions smtp-sink captured with -d {dir}/m.: a list of texts."""
    out = []
    for name in sorted(os.listdir(sink.scratch_dir)):
        with open(os.path.join(sink.scratch_dir, name), errors="replace") as f:
            out.append(f.read())
    return out


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_remove_asks_names_the_message_and_u_brings_it_back(ob, ui_factory, size):
    queue_to_a_down_server(ob, ["bob@example.test"])
    before = queue_list(ob)
    [q] = before
    ui = open_outbox(ui_factory, size)
    ui.wait_for("queued", f"Message {q['id']} from")
    wait_status(ui, "u: undo")
    ui.keys("-")
    s = ui.wait_for("Remove message", f"Remove message {q['id']} from the outbox?", "To: bob@example.test")
    ui.save(f"outbox_remove_ask_{size[0]}x{size[1]}")
    assert queue_list(ob) == before, "the question alone must change nothing"
    ui.keys("r")  # the dialog's Remove, by its mnemonic
    wait_status(ui, f"Removed message {q['id']} to bob@example.test; u brings it back.")
    ui.wait_for("The outbox is empty.")
    assert queue_list(ob) == [], f"after Remove: got {queue_list(ob)}, want an empty outbox"
    ui.keys("u")
    wait_status(ui, f"Restored queued message {q['id']}")
    ui.wait_for("queued", f"Message {q['id']} from", absent=("The outbox is empty",))
    ui.save(f"outbox_undo_{size[0]}x{size[1]}")
    after = queue_list(ob)
    assert after == before, f"after u: got {after}, want the outbox as before {before}"
    quit_clean(ui)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_empty_outbox_after_removal_does_not_claim_it_was_sent(ob, ui_factory, size):
    queue_to_a_down_server(ob, ["bob@example.test"])
    ui = open_outbox(ui_factory, size)
    ui.wait_for("queued", "Message 1 from")
    ui.keys("-")
    ui.wait_for("Remove message")
    ui.keys("r")
    s = ui.wait_for("The outbox is empty.", "outbox log")
    ui.save(f"outbox_empty_{size[0]}x{size[1]}")
    assert "every message was sent" not in s, "a removed message was not sent:\n" + s
    quit_clean(ui)


@pytest.mark.parametrize("size", [(120, 35), (80, 24)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_retry_sends_the_message_now(ob, ui_factory, aiosmtpd_srv, pki, size):
    srv = aiosmtpd_srv
    configure(ob, "aio", netutil.free_port(), "starttls", user=srv.user, password=srv.password, ca=pki.ca_cert,
              address=SENDER)
    m = marker()
    r = ob.run("send", "bob@example.test", input=f"Subject: {m}\n\nretry body\n")
    assert r.code == 0 and "queued as" in r.err, "want the message queued:\n" + r.describe()
    [q] = queue_list(ob)
    ob.ok("server", "edit", "aio", "--port", str(srv.port))  # the server is back
    ui = open_outbox(ui_factory, size)
    ui.wait_for("bob@example.test")
    ui.keys("r")
    ui.wait_for(f"{q['id']}: Sent to bob@example.test")
    ui.save(f"outbox_retry_sent_{size[0]}x{size[1]}")
    srv.wait_message(m)  # it arrived, with no other command run
    ui.keys("Enter")  # Close
    wait_status(ui, f"Message {q['id']}: Sent to bob@example.test")
    ui.wait_for("The outbox is empty.")
    assert queue_list(ob) == [], f"after Retry: got {queue_list(ob)}, want an empty outbox"
    quit_clean(ui)


def test_retry_all_sends_three_with_progress_and_esc_leaves_it_running(ob, ui_factory, smtp_sink):
    # The sink waits 2 s before answering each DATA, so the progress stays up to be seen.
    sink = smtp_sink(["-w", "2", "-d", "{dir}/m."])
    marks = queue_to_a_down_server(ob, ["bob@example.test"], n=3)
    assert len(queue_list(ob)) == 3
    ob.ok("server", "edit", "main", "--port", str(sink.port))
    ui = open_outbox(ui_factory, (80, 24))
    ui.wait_for("bob@example.test")
    ui.keys("R")
    ui.wait_for("Sending 1 of 3...", "Esc: keep sending in the background")
    ui.save("outbox_retry_all_progress_80x24")
    ui.keys("Escape")
    wait_status(ui, "Sent 3, deferred 0, given up 0.", timeout=30)
    ui.wait_for("The outbox is empty.")
    ui.save("outbox_retry_all_done_80x24")
    got = sink_dumps(sink)
    for m in marks:
        assert sum(f"Subject: {m}" in d for d in got) == 1, f"want message {m} at the server once, got {len(got)} transactions"
    assert queue_list(ob) == [], f"after Retry All: got {queue_list(ob)}, want an empty outbox"
    quit_clean(ui)


def test_retry_all_shows_each_outcome(ob, ui_factory, aiosmtpd_srv, pki):
    srv = aiosmtpd_srv
    configure(ob, "aio", netutil.free_port(), "starttls", user=srv.user, password=srv.password, ca=pki.ca_cert,
              address=SENDER)
    for rcpt in ("a@example.test", "b@example.test", "c@example.test"):
        r = ob.run("send", rcpt, input=f"Subject: {marker()}\n\nretry all body\n")
        assert r.code == 0 and "queued as" in r.err, r.describe()
    ids = [q["id"] for q in queue_list(ob)]
    ob.ok("server", "edit", "aio", "--port", str(srv.port))
    ui = open_outbox(ui_factory, (120, 35))
    ui.wait_for(f"Message {ids[0]} from")
    ui.keys("R")
    ui.wait_for(*(f"{i}: Sent to {r}" for i, r in zip(ids, ("a@example.test", "b@example.test", "c@example.test"))),
                "Sent 3, deferred 0, given up 0.")
    ui.save("outbox_retry_all_outcomes_120x35")
    srv.wait_messages(3)
    ui.keys("Enter")
    ui.wait_for("The outbox is empty.")
    quit_clean(ui)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_last_reply_shows_each_server_tried(ob, ui_factory, smtp_sink, size):
    # The main server is up but says 421 to every connection; the fallback refuses connections.
    sink = smtp_sink(["-Q", "CONNECT"])
    configure(ob, "main", sink.port, "none")
    configure(ob, "backup", netutil.free_port(), "none")
    ob.ok("account", "set-server", SENDER, "main")
    ob.ok("account", "edit", SENDER, "--fallback", "backup", "--no-only-this-server")
    r = ob.run("send", "bob@example.test", input=f"Subject: {marker()}\n\nfallback body\n")
    assert r.code == 0 and "queued as" in r.err, "want the message queued:\n" + r.describe()
    # Then a queue run tries both again: its reply must keep the main server's words too.
    ob.ok("queue", "run", "--all")
    [q] = queue_list(ob)
    assert q["last_reply"].startswith("main: ") and "; backup: " in q["last_reply"], \
        f"last_reply: got {q['last_reply']!r}, want main's words, then backup's"
    ui = open_outbox(ui_factory, size)
    s = ui.wait_for("Last reply: main: the server is", "backup: cannot connect")
    ui.save(f"outbox_replies_{size[0]}x{size[1]}")
    lines = s.splitlines()
    main_row = next(i for i, l in enumerate(lines) if "Last reply: main: the server is" in l)
    backup_row = next(i for i, l in enumerate(lines) if l.strip().startswith("backup: cannot connect"))
    assert backup_row > main_row, f"want main's reply first, then backup's, got:\n{s}"
    if size[1] >= 24:  # room for every word: main's 421 and backup's refusal in full
        main_words = " ".join(l.strip() for l in lines[main_row:backup_row])
        assert "421 4.0.0" in main_words, f"want main's 421 reply, got:\n{s}"
        assert "refused" in " ".join(lines[backup_row:backup_row + 2]), f"want backup's refusal, got:\n{s}"
    quit_clean(ui)
