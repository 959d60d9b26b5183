# tests/e2e/test_syncs.py: how many times each command waits for the disk, counted with strace
# (every fsync, fdatasync, sync_file_range and syncfs that returns), and what a run leaves behind.
import os
import re
import subprocess
from collections import Counter

from conftest import OUTBOX
from sendutil import configure, marker

SYNC_CALLS = ("fsync", "fdatasync", "sync_file_range", "syncfs")
SYNC_LINE = re.compile(r"^\d+\s+(?:<\.\.\. )?(" + "|".join(SYNC_CALLS) + r")\b")


def syncs(ob, tmp_path, *args, input=None):
    """Run outbox under strace -f; return (exit code, stderr, the sync calls made, one per line).
    A call split by another thread's (<unfinished ...> then <... resumed>) counts once, when it
    returns. LeakSanitizer cannot run under ptrace, so leak checking is off for these runs."""
    log = tmp_path / f"strace-{len(list(tmp_path.glob('strace-*')))}.log"
    env = dict(ob.env)
    env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS", ""), "detect_leaks=0"]))
    p = subprocess.run(["strace", "-f", "-qq", "-y", "-o", str(log), "-e", "trace=" + ",".join(SYNC_CALLS),
                        OUTBOX, *args], input=input, capture_output=True, text=True, env=env, timeout=120)
    calls = [line.strip() for line in log.read_text().splitlines()
             if SYNC_LINE.match(line) and "<unfinished" not in line]
    return p.returncode, p.stderr, calls


def describe(calls):
    return f"{len(calls)} sync(s):\n  " + "\n  ".join(calls)


def spool_files(ob):
    d = os.path.join(ob.home, "spool")
    return sorted(f for f in os.listdir(d) if len(f) == 32) if os.path.isdir(d) else []


def queue_list(ob):
    return ob.ok("queue", "list", "--json").json()


def test_a_delivered_send_waits_on_at_most_one_sync(ob, tmp_path, aiosmtpd_srv, pki):
    srv = aiosmtpd_srv
    configure(ob, "aio", srv.port, "starttls", user=srv.user, password=srv.password, ca=pki.ca_cert)
    ob.ok("send", "a@example.test", input="Subject: warm-up\n\nx\n")  # the store exists
    m = marker()
    code, err, calls = syncs(ob, tmp_path, "send", "a@example.test", input=f"Subject: {m}\n\nbody\n")
    assert code == 0, err
    assert len(calls) <= 1, "a delivered send: want at most 1 sync, got " + describe(calls)
    assert any(m.encode() in (x[1] if isinstance(x, tuple) else x) for x in srv.messages()), \
        "the server has the message"
    # The history line is written (not yet synced: the server already has the message).
    log = ob.ok("log", "--json").json()
    assert log and log[0]["outcome"] == "delivered", log[:1]


def test_a_queue_only_send_waits_on_the_file_the_directory_and_the_commit(ob, tmp_path):
    configure(ob, "down", 9, "none")  # --queue-only never connects
    ob.ok("send", "--queue-only", "r@example.test", input="Subject: first\n\nx\n")
    code, err, calls = syncs(ob, tmp_path, "send", "--queue-only", "r@example.test",
                             input=f"Subject: {marker()}\n\nbody\n")
    assert code == 0 and "queued as" in err, err
    assert len(calls) <= 3, "send --queue-only: want at most 3 syncs, got " + describe(calls)
    # Which three: the message's file, the spool directory, then the database's log.
    want = ["spool/", "spool>", "outbox.db-wal>"]
    got = [next((w for w in want if w in c), c) for c in calls]
    assert got == want, f"want the file, the directory, the log in that order; got {got}\n" + describe(calls)
    assert len(queue_list(ob)) == 2 and len(spool_files(ob)) == 2


def test_a_queue_run_syncs_per_run_not_per_message(ob, tmp_path, smtp_sink):
    sink = smtp_sink()
    configure(ob, "sink", sink.port, "none")
    ob.ok("server", "edit", "sink", "--port", "9")  # queued, not sent, until the run
    n = 20
    for i in range(n):
        ob.ok("send", "--queue-only", "r@example.test", input=f"Subject: m{i}\n\nbody {i}\n")
    ob.ok("server", "edit", "sink", "--port", str(sink.port))
    code, err, calls = syncs(ob, tmp_path, "queue", "run")
    assert code == 0, err
    # Marks and records commit unsynced; the janitor syncs the log once per group recorded, and
    # 20 messages make one group (up to 64), or a few when a group ends early.
    assert len(calls) <= 4, f"queue run of {n} messages: want at most 4 syncs, got " + describe(calls)
    assert queue_list(ob) == []
    assert spool_files(ob) == [], "a run of one group waits for its deletions"



def test_a_run_checkpoints_in_the_janitor_never_while_sending(ob, tmp_path, smtp_sink):
    """SQLite checkpoints within a commit once the log passes 4 MB: a few syncs in the committing
    thread's time, retried at every commit while a reader holds the log. In a run, the thread that
    records outcomes takes no checkpoint; the janitor does, after its syncs, once the log has
    grown, so the run never waits for one while it sends, and the log stays within 1 MB."""
    sink = smtp_sink()
    configure(ob, "sink", sink.port, "none")
    ob.ok("server", "edit", "sink", "--port", "9")
    n = 300  # five recipients each: about 1 MB of records, past the janitor's mark
    rcpts = [f"r{k}@example.test" for k in range(5)]
    for i in range(n):
        ob.ok("send", "--queue-only", *rcpts, input=f"Subject: m{i}\n\n" + "line\n" * 30)
    ob.ok("server", "edit", "sink", "--port", str(sink.port))
    log = tmp_path / "strace-run.log"
    env = dict(ob.env)
    env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS", ""), "detect_leaks=0"]))
    p = subprocess.run(["strace", "-f", "-qq", "-y", "-o", str(log), "-e",
                        "trace=execve,fdatasync,fsync", OUTBOX, "queue", "run"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0 and f"Sent {n}," in p.stdout, p.stdout + p.stderr
    lines = log.read_text().splitlines()
    main = lines[0].split()[0]  # the execve of outbox itself
    synced = [line for line in lines if SYNC_LINE.match(line) and "<unfinished" not in line]
    log_syncs = Counter(line.split()[0] for line in synced if re.search(r"/outbox\.db-wal>", line))
    assert log_syncs, "no sync of the log at all:\n" + "\n".join(lines[:20])
    janitor = log_syncs.most_common(1)[0][0]  # it syncs the log after every group
    db_syncs = [line for line in synced if re.search(r"/outbox\.db>", line)]
    shown = "\n  ".join(db_syncs)
    assert any(line.split()[0] == janitor for line in db_syncs), \
        f"want the janitor ({janitor}) to checkpoint the log during the run; outbox.db synced by:\n  {shown}"
    # The recorder never waits for a checkpoint, and the main thread at most once: when the store
    # it closes has a log left past 1 MB, it trims it.
    others = [line for line in db_syncs if line.split()[0] not in (janitor, main)]
    assert not others, "a thread that records or sends waited for a checkpoint:\n  " + "\n  ".join(others)
    by_main = [line for line in db_syncs if line.split()[0] == main]
    assert len(by_main) <= 1, "the run's own thread checkpointed more than a close's trim:\n  " + \
        "\n  ".join(by_main)
    wal = os.path.getsize(os.path.join(ob.home, "outbox.db-wal"))
    assert wal <= 1_048_576, f"the log holds {wal} bytes after the run: want at most 1 MB"
    assert queue_list(ob) == []


def test_files_a_large_run_leaves_are_done_and_the_next_run_removes_them(ob, smtp_sink):
    sink = smtp_sink()
    configure(ob, "sink", sink.port, "none")
    ob.ok("server", "edit", "sink", "--port", "9")
    n = 200
    for i in range(n):
        ob.ok("send", "--queue-only", "r@example.test", input=f"Subject: m{i}\n\nbody {i}\n")
    ob.ok("server", "edit", "sink", "--port", str(sink.port))
    r = ob.ok("queue", "run")
    assert f"Sent {n}," in r.out, r.describe()
    assert queue_list(ob) == [], "the run's result does not depend on the deletions"
    left = spool_files(ob)
    print(f"files left by a run of {n}: {len(left)}")
    # Whatever is left belongs to a done row: nothing queued lost its file.
    ob.ok("send", "--queue-only", "r@example.test", input="Subject: later\n\nx\n")
    [later] = queue_list(ob)
    assert set(spool_files(ob)) - set(left) and len(spool_files(ob)) == len(left) + 1
    # The next run sends the new message and deletes the leftovers while it sends (or before it
    # ends), young as they are: their rows say done.
    r = ob.ok("queue", "run")
    assert "Sent 1," in r.out, r.describe()
    r = ob.ok("queue", "run")  # sends nothing, so it waits for every deletion
    assert spool_files(ob) == [], f"the spool ends empty; {len(left)} were left by the first run"
    shown = ob.ok("queue", "show", str(later["id"]), "--json").json()
    assert shown["state"] == "done", shown


def test_a_failed_log_sync_queues_nothing(ob, tmp_path):
    """The row commits unsynced and the log's sync makes it durable: when that sync fails, the row
    is taken back out and the file removed, so nothing half-written is left."""
    configure(ob, "down", 9, "none")
    ob.ok("send", "--queue-only", "r@example.test", input="Subject: first\n\nx\n")
    before = spool_files(ob)
    env = dict(ob.env)
    env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS", ""), "detect_leaks=0"]))
    p = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=fdatasync",
                        "-e", "inject=fdatasync:error=EIO:when=1", OUTBOX, "send", "--queue-only",
                        "r@example.test"], input="Subject: second\n\nx\n", capture_output=True,
                       text=True, env=env, timeout=60)
    assert p.returncode == 74 and "queued as" not in p.stderr, (p.returncode, p.stderr)
    assert "sync" in p.stderr, p.stderr
    assert len(queue_list(ob)) == 1, "no row for the message whose sync failed"
    assert spool_files(ob) == before, "and no file"


def test_a_send_killed_at_the_log_sync_leaves_the_message_whole_or_not_at_all(ob):
    """Killed after the row's unsynced commit, at the sync that would make it durable: the kill
    loses nothing the kernel holds, so the message stays queued (send never said so: a duplicate
    at worst, never a loss), with its file; never a row without its file."""
    configure(ob, "down", 9, "none")
    ob.ok("send", "--queue-only", "r@example.test", input="Subject: first\n\nx\n")
    env = dict(ob.env)
    env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS", ""), "detect_leaks=0"]))
    p = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=fdatasync",
                        "-e", "inject=fdatasync:signal=KILL:when=1", OUTBOX, "send", "--queue-only",
                        "r@example.test"], input="Subject: second\n\nx\n", capture_output=True,
                       text=True, env=env, timeout=60)
    assert p.returncode in (-9, 128 + 9) and "queued as" not in p.stderr, (p.returncode, p.stderr)
    rows = queue_list(ob)
    assert len(rows) == 2, f"the killed send's row was committed before the sync: got {len(rows)} rows"
    assert len(spool_files(ob)) == 2, "each row has its file"


def test_the_log_kept_between_commands_stays_small_and_is_rarely_checkpointed(ob, tmp_path):
    """The log is not checkpointed on close, so each command opens it afresh and appends; the
    command that ends with it past 1 MB empties it. Without that it grows for ever, and once past
    SQLite's own threshold every later commit would checkpoint the whole of it again."""
    configure(ob, "down", 9, "none")
    n = 80
    counts = []
    for i in range(n):
        code, err, calls = syncs(ob, tmp_path, "send", "--queue-only", "r@example.test",
                                 input=f"Subject: m{i}\n\n" + "body line\n" * 20)
        assert code == 0, err
        counts.append(len(calls))
    wal = os.path.getsize(os.path.join(ob.home, "outbox.db-wal"))
    assert wal <= 1_300_000, f"the log holds {wal} bytes after {n} sends; want at most about 1 MB"
    extra = [c for c in counts if c > 3]
    assert len(extra) <= 5, (f"{len(extra)} of {n} queued sends checkpointed (syncs per send: {counts}); "
                             "want a few, one per MB of log")
