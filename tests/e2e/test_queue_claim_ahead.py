# tests/e2e/test_queue_claim_ahead.py: a run claims its next batch while it sends the one before
# (in the recorder's thread); every message still goes once, over one connection, and one queued
# while the run sends goes with that run.
import time

from sendutil import configure, marker
from test_queue_crash import Capture, enqueue, queue_list, runner, spool_files

COUNT = 300  # claimed as 64, 128, then 108 of 256: two claims made ahead, one that comes back short


def test_batches_claimed_ahead_send_each_once_and_take_what_comes_meanwhile(ob):
    with Capture(reply_delay=0.002) as srv:
        configure(ob, "cap", srv.port, "none")
        ids = enqueue(ob, COUNT, "ahead-" + marker())
        p = runner(ob)
        deadline = time.monotonic() + 60
        while len(srv.messages) < 20 and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert p.poll() is None, "the run ended before a message could be queued while it sent"
        late = "late-" + marker()
        r = ob.run("send", "--queue-only", "late@example.test", input=f"Subject: {late}\n\nlate\n")
        assert r.code == 0, r.describe()
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, f"runner exit {p.returncode}\n{out}\n{err}"
        delivered = srv.by_marker()
        twice = {m: len(v) for m, v in delivered.items() if len(v) != 1}
        assert srv.errors == [], srv.errors
        assert set(delivered) == set(ids) | {late}, \
            f"lost {sorted(set(ids) - set(delivered))[:5]}, late one delivered: {late in delivered}"
        assert twice == {}, f"sent more than once: {twice}"
        assert f"Sent {COUNT + 1}," in out, f"got {out!r}, want Sent {COUNT + 1}"
        assert len(srv.conns) == 1, f"connections: got {len(srv.conns)}, want 1 for the whole run"
        assert queue_list(ob) == []
    # The files the run left to delete go with the next run, which has nothing to send.
    r = ob.ok("queue", "run")
    assert "Sent" not in r.out, r.describe()
    assert spool_files(ob) == [], "the spool ends empty"
