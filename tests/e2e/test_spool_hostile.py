# tests/e2e/test_spool_hostile.py: files planted in the outbox's spool (a FIFO, a hard link to a
# file outside the store, a symlink, another size, a device node, someone else's file) are never sent.
# `queue run` ends, the server gets nothing of that message and the others as usual, `queue show`
# says why, and the sweep removes what was planted.
import os
import pwd
import stat
import subprocess
import time

import pytest

from conftest import OUTBOX, Result
from sendutil import configure, marker

# Generous: the bound only turns a run that waits for ever (on a FIFO) into a failure.
RUN_TIMEOUT = 60
ROOT = os.geteuid() == 0


def run_bounded(ob, *args):
    """ob.run, with a run that never ends reported as such instead of as a crash of the test."""
    try:
        proc = subprocess.run([OUTBOX, *args], capture_output=True, text=True, env=ob.env,
                              timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"outbox {' '.join(args)}: still running after {RUN_TIMEOUT} s (want it to end); "
                    f"stderr so far: {e.stderr!r}")
    return Result(list(args), proc)


def spool_dir(ob):
    return os.path.join(ob.home, "spool")


def spool_names(ob):
    d = spool_dir(ob)
    return {f for f in os.listdir(d) if len(f) == 32} if os.path.isdir(d) else set()


def queue_messages(ob, count):
    """Queue `count` messages without an attempt: [(id, marker, spool file path)], oldest first."""
    out = []
    for _ in range(count):
        m = marker()
        before = spool_names(ob)
        ob.ok("send", "--queue-only", "rcpt@example.test", input=f"Subject: {m}\n\nbody of {m}\n")
        [name] = spool_names(ob) - before
        out.append([None, m, os.path.join(spool_dir(ob), name)])
    listed = ob.ok("queue", "list", "--json").json()
    assert len(listed) == count, listed
    for entry, q in zip(out, listed):
        entry[0] = q["id"]
    return [tuple(e) for e in out]


def outside_copy(tmp_path, path, m):
    """A file outside the store with the message's size and another marker in it: what the server
    would get if the planted name were followed."""
    with open(path, "rb") as f:
        data = f.read()
    other = marker()
    assert len(other) == len(m)
    outside = tmp_path / "outside-the-store"
    outside.write_bytes(data.replace(m.encode(), other.encode()))
    return str(outside), other


# Each kind: what to plant at the message's spool path, and the words `queue show` must give.
def plant_fifo(path, m, tmp_path):
    os.unlink(path)
    os.mkfifo(path, 0o600)


def plant_hard_link(path, m, tmp_path):
    outside, other = outside_copy(tmp_path, path, m)
    os.unlink(path)
    os.link(outside, path)
    return outside, other


def plant_symlink(path, m, tmp_path):
    outside, other = outside_copy(tmp_path, path, m)
    os.unlink(path)
    os.symlink(outside, path)
    return outside, other


def plant_other_size(path, m, tmp_path):
    with open(path, "ab") as f:
        f.write(b"appended after it was queued\r\n")


def plant_device(path, m, tmp_path):
    os.unlink(path)
    os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # what /dev/null is


def plant_other_owner(path, m, tmp_path):
    nobody = pwd.getpwnam("nobody")
    os.chown(path, nobody.pw_uid, nobody.pw_gid)


root_only = pytest.mark.skipif(not ROOT, reason="mknod and chown need root (CI runs as root)")

KINDS = [
    pytest.param(plant_fifo, "the spool file is a FIFO, not a regular file", id="fifo"),
    pytest.param(plant_hard_link, "the spool file has 2 names (hard links), not one", id="hard-link"),
    pytest.param(plant_symlink, "the spool file is a symbolic link, not a regular file", id="symlink"),
    pytest.param(plant_other_size, "bytes, not the", id="other-size"),
    pytest.param(plant_device, "the spool file is a device node, not a regular file", id="device",
                 marks=root_only),
    pytest.param(plant_other_owner, "the spool file belongs to uid", id="other-owner", marks=root_only),
]


def delivered(postfix, markers):
    """Wait for the messages with these markers, let Postfix finish, and return every message."""
    for m in markers:
        postfix.wait_message(m)
    assert postfix.wait_idle(), "Postfix still has mail in its queues"
    return [data for _, data in postfix.messages()]


@pytest.mark.parametrize("plant,words", KINDS)
def test_planted_file_is_quarantined_and_the_rest_goes(ob, postfix, tmp_path, plant, words):
    configure(ob, "pf", postfix.plain_port, "none")
    # The planted one in the middle: over a pipelining server it would be begun behind the first.
    first, bad, last = queue_messages(ob, 3)
    planted = plant(bad[2], bad[1], tmp_path)

    r = run_bounded(ob, "queue", "run")
    assert r.code == 0, "want exit 0:\n" + r.describe()
    got = delivered(postfix, [first[1], last[1]])
    forbidden = [bad[1]] + ([planted[1]] if planted else [])
    leaked = [m for m in forbidden for data in got if m.encode() in data]
    assert leaked == [], f"want nothing of the planted file on the server, got {leaked!r} in {got!r}"
    assert len(got) == 2, f"want only the 2 good messages delivered, got {len(got)}: {got!r}"
    assert "Sent 2, queued again 0, failed 1" in r.out, "want 2 sent and 1 failed:\n" + r.describe()
    assert f"message {bad[0]}: the spool file" in r.err and words in r.err, \
        f"want a warning with {words!r}:\n" + r.describe()

    shown = ob.ok("queue", "show", str(bad[0]), "--json").json()
    assert (shown["state"], words in shown["quarantine"], shown["log"][-1]["outcome"]) == \
        ("failed", True, "quarantined"), f"want failed, quarantined with {words!r}, got {shown!r}"
    assert f"outbox queue remove {bad[0]}" in shown["quarantine"], shown
    text = ob.ok("queue", "show", str(bad[0])).out
    assert "Quarantined:  the spool file" in text and words in text, \
        f"want the reason in plain words, got:\n{text}"
    [row] = ob.ok("queue", "list", "--json").json()
    assert (row["id"], row["state"], words in row["last_reply"]) == (bad[0], "failed", True), row
    listing = ob.ok("queue", "list").out
    assert words in listing, f"want the reason in the listing, got:\n{listing}"
    if planted:
        with open(planted[0], "rb") as f:
            assert planted[1].encode() in f.read(), "the file outside the store is untouched"

    # Never retried on its own: a later run does not touch it.
    r = run_bounded(ob, "queue", "run", "--all")
    assert r.code == 0 and "failed 1" not in r.out, "want nothing to do:\n" + r.describe()
    assert ob.ok("queue", "show", str(bad[0]), "--json").json()["attempts"] == 1


def test_sweep_removes_planted_entries_and_the_reason_stays(ob, postfix, tmp_path):
    configure(ob, "pf", postfix.plain_port, "none")
    fifo, linked, good = queue_messages(ob, 3)
    plant_fifo(fifo[2], fifo[1], tmp_path)
    outside, other = plant_hard_link(linked[2], linked[1], tmp_path)
    orphan_fifo = os.path.join(spool_dir(ob), "0" * 31 + "1")  # a message name no row has
    os.mkfifo(orphan_fifo, 0o600)

    r = run_bounded(ob, "queue", "run")
    assert r.code == 0 and "Sent 1, queued again 0, failed 2" in r.out, r.describe()
    assert not os.path.lexists(orphan_fifo), "want an orphan FIFO removed by the run's sweep"

    # The next run's sweep: what is not a regular file goes at once; a regular file (the link)
    # when it is as old as any orphan (an hour), and only its name.
    r = run_bounded(ob, "queue", "run")
    assert r.code == 0, r.describe()
    assert (os.path.lexists(fifo[2]), os.path.lexists(linked[2])) == (False, True), \
        "want the FIFO gone and the young link kept"
    old = time.time() - 2 * 3600
    os.utime(linked[2], (old, old))
    r = run_bounded(ob, "queue", "run")
    assert r.code == 0, r.describe()
    assert not os.path.lexists(linked[2]), "want the old link removed"
    with open(outside, "rb") as f:
        assert other.encode() in f.read(), "the file it linked to is untouched"
    for q, words in ((fifo, "FIFO"), (linked, "hard links")):
        shown = ob.ok("queue", "show", str(q[0]), "--json").json()
        assert shown["state"] == "failed" and words in shown["quarantine"], \
            f"want the reason kept after the sweep, got {shown!r}"

    # Retried by the user: no longer quarantined, and looked at again. Its file is gone now,
    # which this machine cannot mend: the message waits, as any whose file cannot be read.
    ob.ok("queue", "retry", str(fifo[0]))
    r = run_bounded(ob, "queue", "run")
    assert r.code == 0 and "queued again 1" in r.out, r.describe()
    shown = ob.ok("queue", "show", str(fifo[0]), "--json").json()
    assert (shown["state"], shown["quarantine"]) == ("queued", ""), shown
    assert "No such file" in shown["last_reply"], shown


def test_fifos_in_the_directories_a_run_scans_do_not_hold_it(ob, postfix):
    configure(ob, "pf", postfix.plain_port, "none")
    [(qid, m, _)] = queue_messages(ob, 1)
    runners = os.path.join(ob.home, "runners")
    os.makedirs(runners, mode=0o700, exist_ok=True)
    tmp = os.path.join(spool_dir(ob), "tmp")
    os.makedirs(tmp, mode=0o700, exist_ok=True)
    planted = [os.path.join(runners, "0123456789abcdef"),  # a runner's lock file name
               os.path.join(runners, ".new-0123456789abcdef"),
               os.path.join(tmp, "0123456789abcdef0123456789abcdef"),
               os.path.join(spool_dir(ob), "notes")]
    for p in planted:
        os.mkfifo(p, 0o600)

    r = run_bounded(ob, "queue", "run")
    assert r.code == 0 and "Sent 1" in r.out, "want the message sent:\n" + r.describe()
    delivered(postfix, [m])
