# tests/e2e/test_queue_full_disk.py: `queue run` on a full disk says so, exits non-zero, stops
# sending while it cannot record, and loses nothing: once there is room again, every message is
# delivered, any one sent twice only because its outcome could not be recorded, and marked so.
import os
import re
import signal
import subprocess

import pytest

from conftest import OUTBOX, Outbox, Result, base_env
from mounts import tmpfs
from sendutil import configure, marker
from test_queue_crash import Capture, rows

MESSAGES = 120


@pytest.fixture
def small_disk(tmp_path):
    """A real 4 MB file system, mounted for this test only: the store lives on it."""
    with tmpfs(tmp_path, "disk", "4m") as mnt:
        yield mnt


def on_disk(tmp_path, mnt):
    env = base_env(str(tmp_path), {"OUTBOX_SECRET_BACKEND": "file", "OUTBOX_HOME": os.path.join(mnt, "store")})
    return Outbox(env["OUTBOX_HOME"], env)


def fill(mnt, leave):
    """Fill the file system but for about `leave` bytes; returns the filler's path."""
    path = os.path.join(mnt, "filler")
    st = os.statvfs(mnt)
    size = max(st.f_bavail * st.f_frsize - leave, 0)
    with open(path, "wb") as f:
        f.write(b"\0" * size)
    return path


def enqueue(ob, n, tag):
    ids = {}
    for i in range(n):
        m = f"{tag}-{i:04d}"
        r = ob.run("send", "--queue-only", f"r{i}@example.test", input=f"Subject: {m}\n\n" + "body line\n" * 40)
        assert r.code == 0, r.describe()
        ids[m] = int(re.search(r"queued as (\d+)", r.err).group(1))
    return ids


def check_recovery(ob, srv, ids, first):
    """After the full-disk run `first`, room is made and a second run must finish the job."""
    table = rows(ob)
    left = [i for i, r in table.items() if r["state"] == "queued"]
    if first.code == 0:
        # Exit 0 means the run did its work: nothing it claimed may be left behind silently.
        assert left == [], (f"exit 0 but {len(left)} of {len(ids)} messages left queued, and the run "
                            f"said nothing:\n" + first.describe())
    else:
        assert first.err.startswith("outbox: ") or "\noutbox: " in first.err, first.describe()
        assert "full" in first.err, "want the reason (the disk is full) in plain words:\n" + first.describe()
    delivered_before = srv.by_marker()
    twice_before = {m: len(v) for m, v in delivered_before.items() if len(v) > 1}
    assert twice_before == {}, f"the full-disk run sent messages twice: {twice_before}"

    second = ob.run("queue", "run", "--all")
    assert second.code == 0, "with room again the run must succeed:\n" + second.describe()
    delivered = srv.by_marker()
    table = rows(ob)
    lost = sorted(set(ids) - set(delivered))
    assert lost == [], f"lost {len(lost)}: {lost[:5]}\nfirst run:\n{first.describe()}"
    assert [r for r in table.values() if r["state"] != "done"] == [], "the queue ends empty"
    for m, copies in delivered.items():
        assert len(copies) <= 2, f"{m} was sent {len(copies)} times"
        if len(copies) > 1:
            assert table[ids[m]]["uncertain"], f"{m} was sent twice but not marked may-have-been-delivered"
    return sum(len(v) - 1 for v in delivered.values())


@pytest.mark.parametrize("leave_kb", [8, 44, 160])
def test_a_full_disk_during_queue_run_is_reported_and_loses_nothing(tmp_path, small_disk, leave_kb):
    ob = on_disk(tmp_path, small_disk)
    with Capture() as srv:
        configure(ob, "cap", srv.port, "none")
        ids = enqueue(ob, MESSAGES, "full-" + marker())
        filler = fill(small_disk, leave_kb * 1024)
        first = ob.run("queue", "run", "-v")
        os.unlink(filler)
        dups = check_recovery(ob, srv, ids, first)
        print(f"\n{leave_kb} KB free: first run exit {first.code}, delivered {len(srv.by_marker())} of "
              f"{len(ids)} after both, duplicates {dups}; said: {first.err.strip().splitlines()[-1:]}")


# Where the disk fills up matters: before the first mark, between a group's mark and its record,
# while the recorder commits. strace makes every write of the store fail from the Nth on, the way
# a disk that fills up at that moment does; leak checking cannot run under ptrace.
@pytest.mark.parametrize("after", [5, 30, 90])
def test_the_disk_filling_up_mid_run_is_reported_and_loses_nothing(ob, after):
    with Capture(reply_delay=0.001) as srv:
        configure(ob, "cap", srv.port, "none")
        ids = enqueue(ob, MESSAGES, "fills-" + marker())
        env = dict(ob.env)
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS", ""), "detect_leaks=0"]))
        p = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=pwrite64",
                            "-e", f"inject=pwrite64:error=ENOSPC:when={after}+", OUTBOX, "queue", "run"],
                           capture_output=True, text=True, env=env, timeout=120)
        assert p.returncode not in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT), p.stderr
        dups = check_recovery(ob, srv, ids, Result(["queue", "run", f"(writes fail from the {after}th)"], p))
        print(f"\nwrites fail from the {after}th: first run exit {p.returncode}, duplicates {dups}")
