# tests/e2e/test_queue.py: the outbox: a temporary failure queues the message durably and send
# exits 0; `queue run` delivers it later, each recipient once, through fallbacks when needed.
import os

from sendutil import configure, marker
from servers import netutil
from servers.faultserver import Disconnect, FaultServer, Reply

MESSAGE = "Subject: {m}\n\nqueued body\n"


def down_port():
    """A loopback port nothing listens on: connections are refused at once."""
    return netutil.free_port()


def queue(ob, *args):
    return ob.ok("queue", *args, "--json").json()


def spool_files(ob):
    d = os.path.join(ob.home, "spool")
    return sorted(f for f in os.listdir(d) if len(f) == 32) if os.path.isdir(d) else []


def test_refused_connection_queues_and_run_delivers(ob, postfix):
    configure(ob, "pf", down_port(), "none")
    m = marker()
    r = ob.run("send", "rcpt@example.test", input=MESSAGE.format(m=m))
    assert r.code == 0, r.describe()
    assert "queued as" in r.err and "refused" in r.err, r.describe()
    [q] = queue(ob, "list")
    assert (q["state"], [x["state"] for x in q["recipients"]]) == ("queued", ["pending"]), q
    assert "refused" in q["last_reply"], q
    assert len(spool_files(ob)) == 1, "the message is on disk"

    ob.ok("server", "edit", "pf", "--port", str(postfix.plain_port))
    ob.ok("queue", "retry", "--all")
    r = ob.ok("queue", "run")
    assert "Sent 1" in r.out, r.describe()
    postfix.wait_message(m)
    assert queue(ob, "list") == []
    shown = queue(ob, "show", str(q["id"]))
    assert shown["state"] == "done" and [a["outcome"] for a in shown["log"]][-1] == "attempted", shown
    assert spool_files(ob) == [], "a delivered message's file is removed"


def test_no_queue_and_queue_only(ob):
    srv = FaultServer(tls_mode="none")
    srv.start()
    try:
        configure(ob, "down", down_port(), "none")
        r = ob.run("send", "--no-queue", "rcpt@example.test", input="Subject: x\n\nx\n")
        assert r.code == 75, r.describe()
        assert queue(ob, "list") == []
        configure(ob, "up", srv.port, "none")
        r = ob.run("send", "--queue-only", "rcpt@example.test", input="Subject: x\n\nx\n")
        assert r.code == 0 and "queued as" in r.err, r.describe()
        assert srv.connections == [], "--queue-only makes no attempt"
        [q] = queue(ob, "list")
        assert q["attempts"] == 0
    finally:
        srv.stop()


def test_partial_recipients_then_retry(ob, pki):
    script = [{"rcpt": [Reply(250), Reply(550, "5.1.1 no such user"), Reply(450, "4.2.1 busy")]}, {}]
    srv = FaultServer(tls_mode="none", ehlo=["PIPELINING", "8BITMIME"], script=script)
    srv.start()
    try:
        configure(ob, "fs", srv.port, "none")
        r = ob.run("send", "a@example.test", "b@example.test", "c@example.test", input="Subject: p\n\np\n")
        assert r.code == 65, "a permanent refusal is still reported: " + r.describe()
        assert "b@example.test: refused: 550 5.1.1 no such user" in r.err, r.describe()
        assert "c@example.test: queued" in r.err, r.describe()
        [q] = queue(ob, "list")
        assert [(x["address"], x["state"]) for x in q["recipients"]] == [("c@example.test", "pending")], q
        # Not due yet; a minute later it is.
        assert "Sent 0" in ob.ok("queue", "run").out or srv.connections[1:] == []
        later = str(int(q["next_attempt"]) + 1)
        r = ob.run("queue", "run", env={"OUTBOX_NOW": later})
        assert r.code == 0 and "Sent 1" in r.out, r.describe()
        assert [msg.rcpt_to for msg in srv.messages] == [["a@example.test"], ["c@example.test"]], srv.messages
    finally:
        srv.stop()


def test_fallback_server_carries_it(ob, postfix):
    configure(ob, "primary", down_port(), "none")
    ob.ok("server", "add", "secondary", "--host", "127.0.0.1", "--port", str(postfix.plain_port),
          "--security", "none")
    ob.ok("account", "edit", "sender@example.test", "--fallback", "secondary")
    m = marker()
    r = ob.run("send", "rcpt@example.test", input=MESSAGE.format(m=m))
    assert r.code == 0 and "queued" not in r.err, r.describe()
    assert "sending through \"secondary\" instead" in r.err, r.describe()
    postfix.wait_message(m)
    assert ob.ok("log", "--json").json()[0]["server"] == "secondary"

    ob.ok("account", "edit", "sender@example.test", "--only-this-server")
    r = ob.run("send", "rcpt@example.test", input=MESSAGE.format(m=marker()))
    assert r.code == 0 and "queued as" in r.err, "only-this-server: queued, not sent elsewhere: " + r.describe()


def test_lost_reply_after_data_is_marked_and_resent_with_same_id(ob):
    srv = FaultServer(tls_mode="none", ehlo=["8BITMIME"], script=[{"data_end": Disconnect()}, {}])
    srv.start()
    try:
        configure(ob, "fs", srv.port, "none")
        r = ob.run("send", "a@example.test", input="Subject: u\n\nu\n")
        assert r.code == 0 and "queued" in r.err, r.describe()
        [q] = queue(ob, "list")
        assert q["may_have_been_delivered"] is True, q
        ob.ok("queue", "retry", str(q["id"]))
        ob.ok("queue", "run")
        ids = [m.data.split(b"Message-ID: ")[1].split(b"\r\n")[0] for m in srv.messages]
        assert len(ids) == 2 and ids[0] == ids[1], "a duplicate beats a loss, with the same Message-ID"
    finally:
        srv.stop()


def test_sendmail_bp_and_q(ob, tmp_path, postfix):
    from conftest import OUTBOX
    import subprocess
    link = tmp_path / "sendmail"
    os.symlink(os.path.abspath(OUTBOX), link)
    configure(ob, "pf", down_port(), "none")
    ob.run("send", "rcpt@example.test", input="Subject: q\n\nq\n")
    r = subprocess.run([str(link), "-bp"], capture_output=True, text=True, env=ob.env)
    assert r.returncode == 0 and "rcpt@example.test" in r.stdout, r
    ob.ok("server", "edit", "pf", "--port", str(postfix.plain_port))
    ob.ok("queue", "retry", "--all")
    r = subprocess.run([str(link), "-q"], capture_output=True, text=True, env=ob.env)
    assert r.returncode == 0, r
    assert queue(ob, "list") == []


def test_remove_purge_deletes_the_file(ob):
    configure(ob, "pf", down_port(), "none")
    ob.run("send", "rcpt@example.test", input="Subject: q\n\nq\n")
    [q] = queue(ob, "list")
    ob.ok("queue", "remove", str(q["id"]), "--purge")
    assert queue(ob, "list") == [] and spool_files(ob) == []
    r = ob.fails(65, "queue", "show", str(q["id"]))
    assert "queue" in r.err or str(q["id"]) in r.err, r.describe()


def test_an_id_is_never_used_again_after_a_purge(ob):
    # An id a user saw (in a log, a bounce, a script) must never name another message later.
    configure(ob, "pf", down_port(), "none")
    for n in range(2):
        ob.ok("send", "--queue-only", "rcpt@example.test", input=f"Subject: q{n}\n\nq\n")
    ids = sorted(q["id"] for q in queue(ob, "list"))
    ob.ok("queue", "remove", str(ids[-1]), "--purge")
    ob.ok("send", "--queue-only", "rcpt@example.test", input="Subject: after\n\nq\n")
    got = sorted(q["id"] for q in queue(ob, "list"))
    assert got[-1] > ids[-1], f"got ids {got} after purging {ids[-1]}, want a new id above {ids[-1]}"


def test_watch_wakes_when_send_queues_and_stops_on_sigterm(ob):
    import signal
    import subprocess
    import time
    from conftest import OUTBOX
    srv = FaultServer(tls_mode="none", ehlo=["PIPELINING", "8BITMIME"])
    srv.start()
    try:
        configure(ob, "fs", srv.port, "none")
        watcher = subprocess.Popen([OUTBOX, "queue", "run", "--watch"], env=ob.env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(0.3)
            ob.ok("send", "--queue-only", "a@example.test", input="Subject: w\n\nw\n")
            deadline = time.monotonic() + 10
            while not srv.messages and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(srv.messages) == 1, "the watcher sent the message it was woken for"
            watcher.send_signal(signal.SIGTERM)
            out, err = watcher.communicate(timeout=10)
            assert watcher.returncode == 0, (watcher.returncode, out, err)
        finally:
            if watcher.poll() is None:
                watcher.kill()
                watcher.wait()
        assert queue(ob, "list") == []
    finally:
        srv.stop()


def test_orphan_files_are_removed_but_young_ones_kept(ob):
    configure(ob, "down", down_port(), "none")
    ob.run("send", "a@example.test", input="Subject: o\n\no\n")  # queued: creates the spool
    spool = os.path.join(ob.home, "spool")
    old, young = "a" * 32, "b" * 32
    for name in (old, young):
        with open(os.path.join(spool, name), "w") as f:
            f.write("orphan\n")
    os.utime(os.path.join(spool, old), (1, 1))
    kept = spool_files(ob)
    ob.ok("queue", "run")
    after = spool_files(ob)
    assert old not in after, "an old file no queue row names is removed"
    assert young in after, "a young one may belong to a send about to record it"
    assert len(after) == len(kept) - 1, (kept, after)


def test_remove_then_undo_brings_the_message_back(ob):
    configure(ob, "pf", down_port(), "none")
    ob.run("send", "rcpt@example.test", input="Subject: u\n\nu\n")
    [q] = queue(ob, "list")
    r = ob.ok("queue", "remove", str(q["id"]))
    assert "outbox undo" in r.out, r.describe()
    assert queue(ob, "list") == [], "a removed message is not listed"
    assert len(spool_files(ob)) == 1, "a soft removal keeps the file for undo"
    r = ob.ok("undo")
    assert f"queued message {q['id']}" in r.out, r.describe()
    [back] = queue(ob, "list")
    assert (back["id"], back["state"]) == (q["id"], "queued"), f"got {back}, want message {q['id']} queued"
    r = ob.fails(65, "undo")
    assert "nothing to undo" in r.err, r.describe()


NOW = 1800000000


def test_account_retry_schedule_is_used(ob):
    """An account's own schedule: the first retry after its retry-first, the wait doubling up to
    retry-max, and the message given up after give-up, all on a controlled clock."""
    configure(ob, "pf", down_port(), "none")
    ob.ok("account", "edit", "sender@example.test", "--retry-first", "5m", "--retry-max", "10m",
          "--give-up", "30m")
    clock = {"OUTBOX_NOW": str(NOW)}
    r = ob.run("send", "rcpt@example.test", input="Subject: s\n\ns\n", env=clock)
    assert r.code == 0, r.describe()
    [q] = ob.ok("queue", "list", "--json", env=clock).json()
    assert q["next_attempt"] == NOW + 300, f"first retry: got {q['next_attempt'] - NOW} s, want 300 s"

    waits = []
    now = NOW
    for _ in range(8):
        now = q["next_attempt"]
        clock = {"OUTBOX_NOW": str(now)}
        ob.ok("queue", "run", env=clock)
        q = ob.ok("queue", "show", str(q["id"]), "--json", env=clock).json()
        if q["state"] != "queued":
            break
        waits.append(q["next_attempt"] - now)
    # Jitter is 10 %; the doubled wait of 10 min is capped at retry-max, and the last try lands on
    # the give-up time.
    assert 540 <= waits[0] <= 660, f"second wait: got {waits[0]} s, want 10 min ± 10 %"
    assert all(w <= 660 for w in waits), f"waits {waits}: none may exceed retry-max + 10 %"
    assert q["state"] == "failed", f"after the give-up time: got {q['state']}, want failed"
    assert now - NOW <= 1800 + 660, f"given up at +{now - NOW} s, want about 30 min after the first try"


def test_bad_retry_settings_are_refused_and_change_nothing(ob):
    configure(ob, "pf", down_port(), "none")
    before = ob.ok("account", "show", "sender@example.test", "--json").json()
    for args, words in [(["--retry-first", "5x"], "retry-first: \"5x\" is not a duration"),
                        (["--retry-first", "2h", "--retry-max", "1h"], "retry-max: 1h is shorter than retry-first"),
                        (["--give-up", "61d"], "give-up: \"61d\" is out of range")]:
        r = ob.fails(65, "account", "edit", "sender@example.test", *args)
        assert words in r.err, f"{args}: want {words!r}\n" + r.describe()
    after = ob.ok("account", "show", "sender@example.test", "--json").json()
    assert after == before, f"got {after}, want unchanged {before}"


def test_queue_run_falls_back_and_records_the_carrier(ob, postfix):
    """A queued message whose account's server is still down goes out through the account's
    fallback server when the queue runs, and the history names the server that carried it."""
    configure(ob, "primary", down_port(), "none")
    ob.ok("account", "edit", "sender@example.test", "--only-this-server")
    m = marker()
    r = ob.run("send", "rcpt@example.test", input=MESSAGE.format(m=m))
    assert r.code == 0 and "queued as" in r.err, r.describe()
    ob.ok("server", "add", "secondary", "--host", "127.0.0.1", "--port", str(postfix.plain_port),
          "--security", "none")
    ob.ok("account", "edit", "sender@example.test", "--fallback", "secondary", "--no-only-this-server")
    ob.ok("queue", "retry", "--all")
    r = ob.ok("queue", "run")
    assert "Sent 1" in r.out, r.describe()
    postfix.wait_message(m)
    latest = ob.ok("log", "--json").json()[0]
    assert (latest["server"], latest["outcome"]) == ("secondary", "delivered"), \
        f"history: got {latest['server']}/{latest['outcome']}, want secondary/delivered"


def test_run_all_sends_now_what_waits_for_its_retry(ob, aiosmtpd_srv, pki):
    """After a failed connection a message waits for its retry (a minute at first): a plain
    `queue run` as soon as the server is back leaves it, `queue run --all` sends it at once, as
    Postfix's `sendmail -q` would. A given-up message stays failed: `queue retry` is for those."""
    srv = aiosmtpd_srv
    configure(ob, "aio", down_port(), "starttls", user=srv.user, password=srv.password, ca=pki.ca_cert)
    ob.ok("account", "edit", "sender@example.test", "--retry-first", "1m", "--give-up", "1m")

    def at(t):
        return {"OUTBOX_NOW": str(NOW + t)}

    given_up, waiting = marker(), marker()
    r = ob.run("send", "a@example.test", input=MESSAGE.format(m=given_up), env=at(0))
    assert r.code == 0 and "queued as" in r.err, r.describe()
    ob.ok("queue", "run", env=at(61))  # its retry fails too, at the give-up time
    [failed] = ob.ok("queue", "list", "--failed", "--json", env=at(61)).json()
    r = ob.run("send", "b@example.test", input=MESSAGE.format(m=waiting), env=at(61))
    assert r.code == 0 and "queued as" in r.err, r.describe()

    ob.ok("server", "edit", "aio", "--port", str(srv.port))  # the server is back
    r = ob.ok("queue", "run", env=at(62))
    assert "Sent" not in r.out and srv.messages() == [], "plain run: got a send, want none before the retry time:\n" + r.describe()
    [q] = [m for m in ob.ok("queue", "list", "--json", env=at(62)).json() if m["state"] == "queued"]
    assert q["next_attempt"] > NOW + 62, f"next attempt at +{q['next_attempt'] - NOW} s, want after +62 s"

    r = ob.ok("queue", "run", "--all", env=at(62))
    assert "Sent 1," in r.out, "--all: got " + r.describe()
    srv.wait_message(waiting)
    got = [data for _, data in srv.messages()]
    assert len(got) == 1 and given_up.encode() not in got[0], f"want only the queued message sent, got {len(got)}"
    left = ob.ok("queue", "list", "--json", env=at(62)).json()
    assert [(m["id"], m["state"]) for m in left] == [(failed["id"], "failed")], \
        f"got {[(m['id'], m['state']) for m in left]}, want only message {failed['id']}, still failed"


def test_watch_for_one_server_waits_while_another_servers_message_is_due(ob):
    """`queue run --watch --server mine` with a message due for another server must wait, not
    wake at once for work it will never claim: each wait is one inotify_init1, so count them."""
    import signal
    import subprocess
    import time
    from conftest import OUTBOX
    configure(ob, "other", down_port(), "none")
    ob.ok("send", "--queue-only", "a@example.test", input="Subject: o\n\no\n")  # due now, for "other"
    configure(ob, "mine", down_port(), "none", address="mine@example.test")
    trace = os.path.join(ob.home, "..", "watch.strace")
    tracer = subprocess.Popen(["strace", "-f", "-qq", "-o", trace, "-e", "trace=inotify_init1",
                               OUTBOX, "queue", "run", "--watch", "--server", "mine"],
                              env={**ob.env, "ASAN_OPTIONS": "detect_leaks=0"},  # LeakSanitizer cannot run under ptrace
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(2)  # long enough for a spinning watcher to wake thousands of times
        with open(f"/proc/{tracer.pid}/task/{tracer.pid}/children") as f:
            children = [int(p) for p in f.read().split()]
        assert children, "the watcher runs under strace"
        os.kill(children[0], signal.SIGTERM)
        out, err = tracer.communicate(timeout=20)
    finally:
        if tracer.poll() is None:
            tracer.kill()
            tracer.wait()
    with open(trace) as f:
        waits = sum("inotify_init1(" in line for line in f)
    assert tracer.returncode == 0, (tracer.returncode, out, err)
    assert 1 <= waits <= 2, f"want the watcher to wait once (maybe twice), got {waits} waits in 2 s"
    [q] = queue(ob, "list")
    assert q["state"] == "queued", f"want the other server's message left queued, got {q}"
