# tests/e2e/test_mailq.py: `sendmail -bp` and the program run as mailq list the outbox in the layout
# of Postfix's mailq, which scripts and monitoring checks read: heading, rows, reasons, the total.
import os
import re
import subprocess

from conftest import OUTBOX
from sendutil import configure
from servers import netutil
from servers.faultserver import FaultServer, Reply

HEADING = "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------"
ROW = re.compile(r"^(\d+)(!?) +(\d+) (\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d)  (\S+)$")
INDENT = " " * 41
NOW = 1800000000


def as_name(ob, tmp_path, name, *args, env=None):
    """outbox run through a link called `name`, as an installed sendmail or mailq would be."""
    link = tmp_path / name
    if not link.exists():
        os.symlink(os.path.abspath(OUTBOX), link)
    p = subprocess.run([str(link), *args], capture_output=True, text=True, env={**ob.env, **(env or {})},
                       timeout=60)
    assert p.returncode == 0, f"{name} {' '.join(args)}: exit {p.returncode}: {p.stderr}"
    return p.stdout


def test_empty_outbox(ob, tmp_path):
    configure(ob, "down", netutil.free_port(), "none")
    assert as_name(ob, tmp_path, "mailq") == "Mail queue is empty\n"
    assert as_name(ob, tmp_path, "sendmail", "-bp") == "Mail queue is empty\n"


def test_layout_of_queued_and_failed_messages(ob, tmp_path):
    configure(ob, "down", netutil.free_port(), "none")
    ob.ok("account", "edit", "sender@example.test", "--retry-first", "1m", "--give-up", "1m")
    # The first message is tried again after its give-up time and given up on: it shows with "!".
    r = ob.run("send", "c@example.test", input="Subject: one\n\none\n", env={"OUTBOX_NOW": str(NOW)})
    assert r.code == 0, r.describe()
    later = {"OUTBOX_NOW": str(NOW + 120)}
    ob.run("queue", "run", env=later)
    # The second is queued after its first try.
    r = ob.run("send", "a@example.test", "b@example.test", input="Subject: two\n\ntwo\n", env=later)
    assert r.code == 0, r.describe()
    listed = ob.ok("queue", "list", "--json", env=later).json()
    assert [m["state"] for m in listed] == ["failed", "queued"], f"the test's setting: {listed}"

    out = as_name(ob, tmp_path, "mailq", env=later)
    assert out == as_name(ob, tmp_path, "sendmail", "-bp", env=later), "sendmail -bp prints the same"
    lines = out.split("\n")
    assert lines[0] == HEADING, f"heading: got {lines[0]!r}"
    total = sum(m["size"] for m in listed)
    assert lines[-2] == f"-- {(total + 1023) // 1024} Kbytes in 2 Requests.", f"total: got {lines[-2]!r}"
    assert lines[-1] == ""

    rows = [i for i, line in enumerate(lines) if ROW.match(line)]
    assert len(rows) == 2, f"one row per message:\n{out}"
    for i, m in zip(rows, listed):
        qid, mark, size, _, sender = ROW.match(lines[i]).groups()
        assert int(qid) == m["id"] and int(size) == m["size"] and sender == "sender@example.test", lines[i]
        assert mark == ("!" if m["state"] == "failed" else ""), f"{lines[i]!r} is {m['state']}"
        reason = lines[i + 1]
        assert reason.startswith("(") and reason.endswith(")") and "connect" in reason, \
            f"the reason in parentheses under the row: got {reason!r}"
        rcpts = []
        for line in lines[i + 2:]:
            if not line.startswith(INDENT):
                break
            rcpts.append(line[len(INDENT):])
        assert rcpts == [r["address"] for r in m["recipients"]], f"recipients under the sender column:\n{out}"


def test_each_reason_stands_above_the_recipients_it_holds_back(ob, tmp_path):
    """Two recipients deferred with different replies get a reason each; a third that shares the
    second's reply stands under it without repeating it."""
    script = [{"rcpt": [Reply(450, "4.2.1 mailbox busy"), Reply(451, "4.3.0 try later"),
                        Reply(451, "4.3.0 try later")]}]
    srv = FaultServer(tls_mode="none", ehlo=["PIPELINING", "8BITMIME"], script=script)
    srv.start()
    try:
        configure(ob, "fs", srv.port, "none")
        r = ob.run("send", "--queue-only", "x@example.test", "y@example.test", "z@example.test",
                   input="Subject: r\n\nr\n")
        assert r.code == 0, r.describe()
        ob.ok("queue", "run")
        out = as_name(ob, tmp_path, "mailq")
    finally:
        srv.stop()
    body = out.split("\n")[2:-3]  # after the heading and the row; before the blank line and total
    assert body == ["(450 4.2.1 mailbox busy)", INDENT + "x@example.test",
                    "(451 4.3.0 try later)", INDENT + "y@example.test", INDENT + "z@example.test"], out
