# tests/e2e/test_queue_crash.py: the outbox survives crashes. Runners SIGKILLed at random lose
# nothing, leave nothing waiting behind their claims (the next run takes them over at once), and
# duplicate only messages whose outcome a kill kept from being recorded, each marked "may have
# been delivered"; a send killed (or failing) while it writes its spool file leaves neither a row
# nor a file; two runners at once send each message once.
import os
import random
import re
import signal
import socket
import socketserver
import sqlite3
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import OUTBOX
from sendutil import configure, marker

MESSAGES = 500          # queued for the crash test, one recipient each
MIN_KILLS = 100         # runners SIGKILLed while still running: at least
KILLS = 150             # ... and the kill loop stops here (fsync-bound: ~40 ms a message)
MAX_ROUNDS = 400        # hard bound on the kill loop
MAX_DELAY = 0.200       # a runner is killed 0-200 ms after it starts: across several commits
SUBJECT = re.compile(rb"^Subject: (\S+)\r?$", re.M)
MSGID = re.compile(rb"^Message-ID: (\S+)\r?$", re.M | re.I)


# -- a capturing SMTP server that takes concurrent connections ---------------------------------

class Capture:
    """Threaded SMTP sink on 127.0.0.1: records each message when its final "." arrives, BEFORE
    it replies 250 (as a real server commits, then answers), and how each connection ended."""

    def __init__(self, reply_delay=0.0):
        self.lock = threading.Lock()
        self.messages = []      # dicts: conn, seq (within conn), marker, msgid, rcpt, data
        self.conns = {}         # conn id -> {"quit": bool, "messages": [index into messages]}
        self.errors = []
        self.reply_delay = reply_delay
        cap = self

        class Handler(socketserver.StreamRequestHandler):
            timeout = 30  # bounded: a silent client cannot hold a thread for ever

            def handle(self):
                cap.serve(self)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True
            request_queue_size = 64

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self._next = 0

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def serve(self, h):
        with self.lock:
            cid = self._next
            self._next += 1
            conn = self.conns[cid] = {"quit": False, "messages": []}
        w = h.wfile
        try:
            w.write(b"220 capture.test ESMTP\r\n")
            w.flush()
            rcpt = []
            while True:
                line = h.rfile.readline(4096)
                if not line:
                    return  # the client went away without QUIT
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    w.write(b"250-capture.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
                elif verb == b"MAIL":
                    rcpt = []
                    w.write(b"250 ok\r\n")
                elif verb == b"RCPT":
                    rcpt.append(line[8:].strip().decode(errors="replace"))
                    w.write(b"250 ok\r\n")
                elif verb == b"DATA":
                    w.write(b"354 go\r\n")
                    w.flush()
                    data = bytearray()
                    while True:
                        l = h.rfile.readline(1 << 20)
                        if not l:
                            return  # killed mid-data: nothing delivered
                        if l == b".\r\n":
                            break
                        data += l[1:] if l.startswith(b".") else l
                    data = bytes(data)
                    m = SUBJECT.search(data)
                    i = MSGID.search(data)
                    with self.lock:
                        conn["messages"].append(len(self.messages))
                        self.messages.append({"conn": cid, "seq": len(conn["messages"]) - 1,
                                              "marker": m.group(1).decode() if m else None,
                                              "msgid": i.group(1).decode().strip("<>") if i else None,
                                              "rcpt": rcpt, "data": data})
                    if self.reply_delay:
                        time.sleep(self.reply_delay)
                    w.write(b"250 2.0.0 queued\r\n")
                elif verb in (b"RSET", b"NOOP"):
                    w.write(b"250 ok\r\n")
                elif verb == b"QUIT":
                    w.write(b"221 bye\r\n")
                    w.flush()
                    conn["quit"] = True
                    return
                else:
                    w.write(b"502 not here\r\n")
                w.flush()
        except (OSError, socket.timeout):
            return
        except Exception as e:  # a bug in this sink, not a client fault
            self.errors.append(repr(e))

    def by_marker(self):
        with self.lock:
            out = {}
            for idx, m in enumerate(self.messages):
                out.setdefault(m["marker"], []).append(idx)
            return out


# -- helpers ---------------------------------------------------------------------------------

def spool_files(ob):
    d = os.path.join(ob.home, "spool")
    return sorted(f for f in os.listdir(d) if len(f) == 32) if os.path.isdir(d) else []


def rows(ob):
    c = sqlite3.connect("file:" + ob.db + "?mode=ro", uri=True)
    try:
        return {r[0]: {"state": r[1], "uncertain": bool(r[2]), "spool": r[3], "msgid": r[4]}
                for r in c.execute("SELECT id, state, uncertain, spool_name, message_id FROM queue")}
    finally:
        c.close()


def enqueue(ob, n, tag, workers=4):
    """Queue n messages with --queue-only, one recipient each; returns {marker: queue id}."""
    def one(i):
        m = f"{tag}-{i:04d}"
        r = ob.run("send", "--queue-only", f"r{i}@example.test", input=f"Subject: {m}\n\nbody {i}\n")
        assert r.code == 0, r.describe()
        q = re.search(r"queued as (\d+)", r.err)
        assert q, r.describe()
        return m, int(q.group(1))
    with ThreadPoolExecutor(workers) as pool:
        got = dict(pool.map(one, range(n)))
    assert len(set(got.values())) == n, "each send has its own queue row"
    return got


def runner(ob, now=None):
    env = dict(ob.env)
    if now is not None:
        env["OUTBOX_NOW"] = str(now)
    return subprocess.Popen([OUTBOX, "queue", "run"], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def queue_list(ob, now=None):
    return ob.ok("queue", "list", "--json", env={"OUTBOX_NOW": str(now)} if now else None).json()


def waiting_behind_claims(ob):
    """Queued rows still under a claim whose lease has not run out: {id: (owner, lease_until)}."""
    c = sqlite3.connect("file:" + ob.db + "?mode=ro", uri=True)
    try:
        return {r[0]: (r[1], r[2]) for r in c.execute(
            "SELECT id, lease_owner, lease_until FROM queue WHERE state = 'queued' AND lease_until >= ?",
            (int(time.time()),))}
    finally:
        c.close()


# -- 1. runners SIGKILLed at random ----------------------------------------------------------

def test_runners_killed_at_random_lose_nothing(ob):
    seed = int(os.environ.get("OUTBOX_CRASH_SEED") or random.randrange(1 << 30))
    rng = random.Random(seed)
    t0 = time.monotonic()
    # A short pause before each 250 widens the window between "the server has it" and "the
    # runner recorded it", where a kill leads to a (permitted) duplicate.
    with Capture(reply_delay=0.002) as srv:
        configure(ob, "cap", srv.port, "none")
        ids = enqueue(ob, MESSAGES, "crash-" + marker())
        t_queued = time.monotonic() - t0
        assert len(queue_list(ob)) == MESSAGES

        # The real clock throughout: no lease runs out during the test, so each runner gets the
        # messages a killed one claimed (64 at first, up to 512) only because it sees that
        # runner is dead.
        kills = busy_kills = rounds = finished = 0
        while rounds < MAX_ROUNDS and kills < KILLS and len(srv.by_marker()) < MESSAGES:
            rounds += 1
            conns = len(srv.conns)
            p = runner(ob)
            if rounds % 2 == 0:
                # Every other runner is killed 0-200 ms after it connected, so that many kills
                # land while messages are on the wire, not while the process starts up.
                deadline = time.monotonic() + 5
                while p.poll() is None and len(srv.conns) == conns and time.monotonic() < deadline:
                    time.sleep(0.001)
            time.sleep(rng.uniform(0, MAX_DELAY))
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
            out, err = p.communicate(timeout=30)
            if p.returncode == -signal.SIGKILL:
                kills += 1
                busy_kills += len(srv.conns) > conns
            else:
                finished += 1
                assert p.returncode == 0, f"round {rounds} (seed {seed}): exit {p.returncode}\n{out}\n{err}"
        t_killing = time.monotonic() - t0 - t_queued

        # One run right after the kills carries whatever is left, and a second finds nothing.
        final = ob.ok("queue", "run")
        again = ob.ok("queue", "run")
        assert "Sent" not in again.out, "the first complete run left nothing due:\n" + again.describe()
        left = queue_list(ob)
        behind = waiting_behind_claims(ob)

        delivered = srv.by_marker()
        table = rows(ob)
        undelivered = sorted(set(ids) - set(delivered))
        # Not delivered but still queued: waiting, not lost. Only the rest would be lost.
        waiting = [m for m in undelivered if table[ids[m]]["state"] == "queued"]
        lost = [m for m in undelivered if m not in waiting]
        dup_markers = {m: v for m, v in delivered.items() if len(v) > 1}
        duplicates = sum(len(v) - 1 for v in dup_markers.values())
        aborted = sum(1 for c in srv.conns.values() if not c["quit"])
        figures = (f"seed {seed}: {MESSAGES} messages, rounds {rounds}, kills {kills}, runs that finished "
                   f"{finished}, kills with a connection open {busy_kills}, connections {len(srv.conns)} ({aborted} cut), deliveries "
                   f"{len(srv.messages)}: lost {len(lost)}, left waiting {len(waiting)} "
                   f"({len(behind)} behind an unexpired claim), duplicated {duplicates} "
                   f"(queued {t_queued:.1f}s, kill loop {t_killing:.1f}s)")
        print("\n" + figures + "; final run: " + final.out.strip())

        assert srv.errors == [], srv.errors
        assert set(delivered) - set(ids) == set(), "only what was queued is delivered: " + figures
        owners = sorted({o for o, _ in behind.values()})
        assert waiting == [], (f"got {len(waiting)} messages left waiting after the final run, want 0; "
                               f"{len(behind)} are behind the claims of dead runners {owners[:3]}, "
                               f"e.g. {waiting[:3]}: " + figures)
        assert lost == [], f"got {len(lost)} lost, want 0, e.g. {lost[:5]}: " + figures
        assert kills >= MIN_KILLS, "the runners finished too fast to be killed often enough: " + figures
        # A runner records outcomes a group (at most 64 messages) at a time, in a thread that
        # works behind the sending: a kill can cost the group on the wire and those sent but not
        # yet recorded (at most 4 waiting), so up to 5 x 64 copies; far fewer in practice.
        assert duplicates <= 5 * 64 * kills, figures
        for m, copies in delivered.items():
            row = table[ids[m]]
            assert all(srv.messages[i]["msgid"] == row["msgid"] for i in copies), \
                f"{m}: every copy carries the queued Message-ID {row['msgid']}"
            assert all(srv.messages[i]["rcpt"] == [f"<r{int(m[-4:])}@example.test>"] for i in copies), m
            # Each copy but the last must have gone over a connection cut by a kill: delivered
            # server-side, then the runner died before it recorded the fact. The next runner
            # must have known: the message is marked "may have been delivered".
            for i in copies[:-1]:
                c = srv.conns[srv.messages[i]["conn"]]
                assert not c["quit"], \
                    f"{m} was sent twice outside the kill window (copy {i} on connection " \
                    f"{srv.messages[i]['conn']}, which ended with QUIT): " + figures
            if len(copies) > 1:
                assert row["uncertain"], \
                    f"{m} was sent {len(copies)} times but not marked may-have-been-delivered: " + figures
        assert left == [], f"the queue ends empty: {left[:3]}"
        assert {r["state"] for r in table.values()} == {"done"}, figures

        # A runner removes the files of delivered messages once their group's record is on disk;
        # a runner killed before that leaves those files. They belong to
        # no live row, and the orphan sweep takes them once they are an hour old.
        leftovers = spool_files(ob)
        live = {r["spool"] for r in table.values() if r["state"] != "done"}
        assert not set(leftovers) & live
        assert len(leftovers) <= 5 * 64 * kills, f"{len(leftovers)} files left: " + figures
        print(f"spool files of done rows left by kills: {len(leftovers)}")
        for f in leftovers:
            os.utime(os.path.join(ob.home, "spool", f), (time.time() - 7200,) * 2)
        ob.ok("queue", "run")
        assert spool_files(ob) == [], "the spool ends empty"
        # Each killed runner's lock file went with its claims, or at the next runner's start.
        # (A runner killed between creating its file and naming it leaves a ".new-" file, which
        # the next runners remove once it is an hour old.)
        runners = os.path.join(ob.home, "runners")
        named = [f for f in os.listdir(runners) if not f.startswith(".new-")]
        assert named == [], f"got lock files {named[:3]} left, want none"


def test_one_run_after_six_kills_sends_everything(ob):
    """The measurement behind the lock: 300 queued, a runner SIGKILLed 6 times while it sends,
    then one `queue run` right away. Before, the dead runners' claims held their messages for the
    15-minute lease and the run sent almost nothing; now it sends every message left."""
    with Capture(reply_delay=0.005) as srv:
        configure(ob, "cap", srv.port, "none")
        ids = enqueue(ob, 300, "six-" + marker())
        kills = 0
        for _ in range(6):
            seen = len(srv.messages)
            p = runner(ob)
            # Killed once it has sent a few: it holds a batch of claims, some of them on the wire.
            deadline = time.monotonic() + 10
            while p.poll() is None and len(srv.messages) < seen + 5 and time.monotonic() < deadline:
                time.sleep(0.001)
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
            p.communicate(timeout=30)
            kills += p.returncode == -signal.SIGKILL
        before = set(srv.by_marker())
        final = ob.ok("queue", "run")
        delivered = srv.by_marker()
        missing = sorted(set(ids) - set(delivered))
        figures = (f"{kills} kills; delivered before the run {len(before)}, after {len(delivered)} of 300; "
                   f"the run said: {final.out.strip()!r}")
        print("\n" + figures)
        assert missing == [], f"got {len(missing)} not delivered after one run, want 0 (e.g. {missing[:3]}): " + figures
        assert kills == 6, "each runner was killed while it sent: " + figures
        assert queue_list(ob) == [], "the outbox is empty: " + figures
        assert srv.errors == [], srv.errors


def test_watcher_takes_over_when_the_runner_dies(ob):
    """A watcher that found every message claimed by a live runner sleeps until that runner's
    lease ends. The runner dies without a commit to wake it; the kernel closing the runner's lock
    file does, and the watcher sends the messages at once, not 15 minutes later."""
    with Capture(reply_delay=0.2) as srv:
        configure(ob, "cap", srv.port, "none")
        ids = enqueue(ob, 20, "watch-" + marker())
        busy = runner(ob)
        deadline = time.monotonic() + 10
        while not srv.messages and time.monotonic() < deadline:
            time.sleep(0.01)
        assert srv.messages, "the runner began sending"
        watcher = subprocess.Popen([OUTBOX, "queue", "run", "--watch"], env=ob.env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(1.0)  # its first pass found nothing to claim; it waits
            assert busy.poll() is None, "the runner is still sending when it is killed"
            busy.send_signal(signal.SIGKILL)
            busy.communicate(timeout=10)
            t_killed = time.monotonic()
            deadline = t_killed + 20
            while set(ids) - set(srv.by_marker()) and time.monotonic() < deadline:
                time.sleep(0.05)
            took = time.monotonic() - t_killed
            missing = sorted(set(ids) - set(srv.by_marker()))
            assert missing == [], f"got {len(missing)} not sent {took:.1f} s after the kill, want 0"
        finally:
            watcher.send_signal(signal.SIGTERM)
            out, err = watcher.communicate(timeout=10)
        assert watcher.returncode == 0, (watcher.returncode, out, err)
        assert queue_list(ob) == []


# -- 2. a send killed or failing while it makes the message durable -----------------------------

def strace_send(ob, inject):
    """outbox send --queue-only under strace with one fault injected. strace 6.1 injects into
    the syscall itself (signal=KILL: the tracee is killed on entry, before the call runs;
    error=EIO: the call is skipped and fails). LeakSanitizer cannot run under ptrace, so leak
    checking is off for these runs."""
    env = dict(ob.env)
    env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS", ""), "detect_leaks=0"]))
    return subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=" + inject.split(":")[0],
                           "-e", "inject=" + inject, OUTBOX, "send", "--queue-only", "r@example.test"],
                          input=f"Subject: {marker()}\n\nbody\n", capture_output=True, text=True,
                          env=env, timeout=60)


@pytest.mark.parametrize("inject, what", [
    ("linkat:signal=KILL", "killed as it names the file"),
    ("fsync:error=EIO:when=1", "the file's fsync fails"),
    ("fsync:error=EIO:when=2", "the spool directory's fsync fails after the link"),
    # SQLite (WAL) syncs with fdatasync; the first one is the sync of the log after the queue
    # row's commit: the row is taken back out and send removes the file it had named.
    ("fdatasync:error=EIO:when=1", "the queue row's commit fails"),
])
def test_send_dies_or_fails_while_spooling(ob, inject, what):
    configure(ob, "down", 9, "none")  # --queue-only never connects
    # A clean send first: the spool directory and the database exist, and strace works here.
    ob.ok("send", "--queue-only", "r@example.test", input="Subject: first\n\nx\n")
    [first] = queue_list(ob, int(time.time()))
    before = spool_files(ob)
    assert len(before) == 1

    p = strace_send(ob, inject)
    desc = f"{what}: strace exit {p.returncode}\nstdout {p.stdout!r}\nstderr {p.stderr!r}"
    assert p.returncode != 0, desc
    if "KILL" in inject:
        assert p.returncode in (-signal.SIGKILL, 128 + signal.SIGKILL), desc
    else:
        assert "outbox: " in p.stderr and "queued as" not in p.stderr, desc
    assert [q["id"] for q in queue_list(ob, int(time.time()))] == [first["id"]], what + ": no new row"
    assert spool_files(ob) == before, what + ": no new file (the O_TMPFILE vanished)"
    d = os.path.join(ob.home, "spool")
    assert sorted(os.listdir(d)) == before, what + ": nothing else in the spool either"
    # And the outbox still works.
    ob.ok("send", "--queue-only", "r@example.test", input="Subject: after\n\nx\n")
    assert len(queue_list(ob, int(time.time()))) == 2


def test_send_killed_between_link_and_row_leaves_an_orphan_the_sweep_removes(ob):
    """Killed at the directory fsync, after linkat: the file has a name but no row points at it.
    Nothing is queued (send never said "queued"); the runner's orphan sweep spares the file while
    it is young (a send may be about to record it) and removes it once it is an hour old."""
    configure(ob, "down", 9, "none")
    ob.ok("send", "--queue-only", "r@example.test", input="Subject: first\n\nx\n")
    before = spool_files(ob)
    p = strace_send(ob, "fsync:signal=KILL:when=2")
    assert p.returncode in (-signal.SIGKILL, 128 + signal.SIGKILL), (p.returncode, p.stderr)
    assert len(queue_list(ob, int(time.time()))) == 1, "no row for the killed send"
    [orphan] = sorted(set(spool_files(ob)) - set(before))
    ob.ok("queue", "run")
    assert orphan in spool_files(ob), "a young orphan is kept"
    os.utime(os.path.join(ob.home, "spool", orphan), (time.time() - 7200,) * 2)
    ob.ok("queue", "run")
    assert spool_files(ob) == before, "an hour-old orphan is removed; the queued file stays"


# -- 3. two runners at once ------------------------------------------------------------------

def test_two_concurrent_runners_send_each_message_once(ob):
    with Capture(reply_delay=0.003) as srv:
        configure(ob, "cap", srv.port, "none")
        ids = enqueue(ob, 200, "pair-" + marker())
        now = int(time.time()) + 5
        a, b = runner(ob, now), runner(ob, now)
        outs = [p.communicate(timeout=60) for p in (a, b)]
        for p, (out, err) in zip((a, b), outs):
            assert p.returncode == 0, f"runner exit {p.returncode}\n{out}\n{err}"
        sent = [int(m.group(1)) if (m := re.search(r"Sent (\d+)", out)) else 0 for out, _ in outs]
        delivered = srv.by_marker()
        twice = {m: len(v) for m, v in delivered.items() if len(v) != 1}
        per_conn = [len(c["messages"]) for c in srv.conns.values()]
        print(f"\ntwo runners: Sent {sent[0]} + {sent[1]}; per connection {per_conn}; "
              f"delivered {len(srv.messages)} distinct {len(delivered)}")
        assert srv.errors == [], srv.errors
        assert set(delivered) == set(ids), f"lost {sorted(set(ids) - set(delivered))[:5]}"
        assert twice == {}, f"sent more than once: {twice}"
        assert sum(sent) == 200, sent
        assert min(sent) > 0, f"both runners took part (first batches of 64): {sent}"
        assert queue_list(ob, now + 1) == []
        # A runner that was handed more than one group's files ends at its last sync and leaves
        # the deletions not yet done; a run with nothing to send clears them.
        r = ob.ok("queue", "run")
        assert "Sent" not in r.out, r.describe()
        assert spool_files(ob) == [], "the spool ends empty after a run that sends nothing"
