# tests/e2e/test_queue_sink_faults.py: a fault matrix against Postfix's own smtp-sink. Each fault
# smtp-sink can inject (-f 5xx, -r 4xx, -Q 421 and disconnect, -q disconnect without a reply, -w/-W
# slow replies, -A abort after DATA) at each step of the conversation ends with the right exit
# code, queue state and history, and every message is either delivered exactly once or queued;
# a later `queue run` against a healthy sink delivers each queued one exactly once.
#
# What smtp-sink can and cannot do (man 1 smtp-sink, Postfix 3.7):
#  - -f/-r/-q/-Q take command names: CONNECT (the greeting), HELO, EHLO, MAIL, RCPT, DATA, "."
#    (the end of the data), RSET, NOOP, QUIT, ... -f and -r also turn PIPELINING off; -q/-Q don't.
#  - With -d TEMPLATE the sink writes each transaction to its own file as soon as it has read the
#    final ".", *before* it decides the reply. So a dump file proves the data reached the server,
#    not that it was accepted: a dump counts as a delivery only when the sink answered the "."
#    with 250, which in this matrix is every dump except those of a sink faulting ".".
#  - It has no per-address rules (a fault hits every RCPT alike), so a batch in which one address
#    alone is soft-rejected cannot be produced with it; that case is left to the scripted
#    FaultServer tests (test_queue.py), not faked here.
#  - outbox sends RSET only before a transaction that follows a failed one in the same session,
#    so the RSET faults are in the batch tests, not in the one-message matrix.
#  - -A 0 races the 550 against the 354 (outbox may read both before it sends the data), so only
#    -A 1 is used.
import os
import re
import time

import pytest

from sendutil import configure, marker

OK, DATAERR, UNAVAILABLE, TEMPFAIL = 0, 65, 69, 75
RCPTS = ["a@example.test", "b@example.test"]

# How one `outbox send` must end.
DELIVERED = "delivered"      # exit 0, nothing queued, history "delivered"
QUEUED = "queued"            # exit 0, queued, every recipient pending, not "may have been delivered"
UNCERTAIN = "uncertain"      # as QUEUED, but flagged "may have been delivered"
REFUSED = "refused"          # exit 65, nothing queued, history "refused"
UNUSABLE = "unusable"        # exit 69 (the server will not talk to us), nothing queued, "failed"

SEND_EXIT = {DELIVERED: OK, QUEUED: OK, UNCERTAIN: OK, REFUSED: DATAERR, UNUSABLE: UNAVAILABLE}
NO_QUEUE_EXIT = {DELIVERED: OK, QUEUED: TEMPFAIL, UNCERTAIN: TEMPFAIL, REFUSED: DATAERR,
                 UNUSABLE: UNAVAILABLE}
HISTORY = {DELIVERED: "delivered", QUEUED: "deferred", UNCERTAIN: "deferred", REFUSED: "refused",
           UNUSABLE: "failed"}

FAULTS = {"5xx": "-f", "4xx": "-r", "421": "-Q", "drop": "-q"}
# The sink's command names for each step. EHLO faults HELO too: a 5xx to EHLO alone makes outbox
# fall back to HELO on a plain connection without AUTH (its own row below).
STEPS = {"CONNECT": "CONNECT", "EHLO": "EHLO,HELO", "MAIL": "MAIL", "RCPT": "RCPT", "DATA": "DATA",
         "dot": ".", "QUIT": "QUIT"}


def expected(step, fault):
    """(outcome, words the send's message must contain) for a fault at a step."""
    if step == "QUIT":
        return DELIVERED, None          # the 250 after the data came first; QUIT is a courtesy
    if fault == "5xx":
        return (UNUSABLE if step in ("CONNECT", "EHLO") else REFUSED), "500 5.3.0"
    if fault == "4xx":
        return QUEUED, "450 4.3.0"
    if fault == "421":
        # A 421 after the "." is a reply: the server refused the message, nothing was lost.
        return QUEUED, "421"
    if step == "dot":
        return UNCERTAIN, "may have been delivered"
    return QUEUED, "closed the connection"


MATRIX = [(step, fault, *expected(step, fault)) for step in STEPS for fault in FAULTS]


# ---------------------------------------------------------------------------------------------
# helpers

def dumps(sink):
    """The transactions smtp-sink captured with -d {dir}/m.: a list of texts."""
    out = []
    for name in sorted(os.listdir(sink.scratch_dir)):
        with open(os.path.join(sink.scratch_dir, name), errors="replace") as f:
            out.append(f.read())
    return out


def dumped(sink, m):
    """The captured transactions carrying marker m in their Subject."""
    return [d for d in dumps(sink) if f"\nSubject: {m}\n" in d]


def wait_dumped(sink, m, n, timeout=5.0):
    """Poll until the sink holds at least n transactions for m (or the deadline passes)."""
    deadline = time.monotonic() + timeout
    got = dumped(sink, m)
    while len(got) < n and time.monotonic() < deadline:
        time.sleep(0.02)
        got = dumped(sink, m)
    return got


def message_ids(texts):
    return [re.search(r"^Message-ID: (.*)$", t, re.M | re.I).group(1).strip() for t in texts]


def sessions(sink):
    """Connections the sink saw (needs -v, and probe="listen" so the probe adds none)."""
    return sink.log().count("connect (AF_INET")


def queue_list(ob, *extra):
    return ob.ok("queue", "list", *extra, "--json").json()


def history(ob):
    return ob.ok("log", "--json").json()


def due_after(items):
    """OUTBOX_NOW at which every listed message is due."""
    return str(max(int(q["next_attempt"]) for q in items) + 1)


def send(ob, m, *extra):
    return ob.run("send", *extra, *RCPTS, input=f"Subject: {m}\n\nfault matrix body\n")


def start_sink(smtp_sink, options, **kw):
    return smtp_sink([*options, "-d", "{dir}/m."], **kw)


def start_faulty(ob, smtp_sink, options, timeout=None, **kw):
    sink = start_sink(smtp_sink, options, **kw)
    configure(ob, "sink", sink.port, "none")
    if timeout is not None:
        ob.ok("server", "edit", "sink", "--timeout", str(timeout))
    return sink


def check_send(ob, sink, r, m, outcome, words, dot_faulted):
    """Asserts how one send ended; returns its queue entry (or None)."""
    assert r.code == SEND_EXIT[outcome], \
        f"exit: got {r.code}, want {SEND_EXIT[outcome]} ({outcome})\n" + r.describe()
    if words:
        assert words in r.err, f"message: got {r.err!r}, want it to contain {words!r}\n" + r.describe()
    items = queue_list(ob)
    [latest] = history(ob)[:1] or [None]
    assert latest is not None, "history: got no entry, want one for the attempt"
    assert latest["outcome"] == HISTORY[outcome], \
        f"history outcome: got {latest['outcome']!r}, want {HISTORY[outcome]!r}: {latest}"
    assert latest["recipients"] == RCPTS, f"history recipients: got {latest['recipients']}, want {RCPTS}"
    got = dumped(sink, m)
    confirmed = [] if dot_faulted else got
    if outcome in (QUEUED, UNCERTAIN):
        assert len(items) == 1 and items[0]["state"] == "queued", \
            f"queue: got {items}, want exactly one queued message"
        q = items[0]
        want_rcpts = [(a, "pending") for a in RCPTS]
        got_rcpts = [(x["address"], x["state"]) for x in q["recipients"]]
        assert got_rcpts == want_rcpts, f"recipients: got {got_rcpts}, want {want_rcpts}: {q}"
        lost = outcome == UNCERTAIN  # exactly when the reply after the final "." was lost
        assert q["may_have_been_delivered"] is lost, \
            (f"may_have_been_delivered: got {q['may_have_been_delivered']}, want {lost} (the reply "
             f"after the final '.' was {'lost' if lost else 'received, or the data never went'}): {q}")
        shown = ob.ok("queue", "show", str(q["id"]), "--json").json()
        assert (shown["id"], shown["state"]) == (q["id"], "queued"), f"queue show: got {shown}, want it queued"
        assert shown["message_id"] == latest["message_id"], \
            f"message id: got {shown['message_id']!r} in the queue, want {latest['message_id']!r} as logged"
        assert confirmed == [], f"sink accepted: got {len(confirmed)}, want 0 for a queued message"
        if outcome == UNCERTAIN:
            # The data did reach the server: that is why it "may have been delivered".
            got = wait_dumped(sink, m, 1)
            assert len(got) == 1, f"sink captured: got {len(got)}, want 1 (the data went out)"
        return q
    assert items == [], f"queue: got {items}, want nothing queued ({outcome})"
    if outcome == DELIVERED:
        got = wait_dumped(sink, m, 1)
        assert len(got) == 1, f"sink accepted: got {len(got)}, want exactly 1"
    else:
        assert confirmed == [], f"sink accepted: got {len(confirmed)}, want 0 after a refusal"
    return None


def flush_to_healthy(ob, smtp_sink, items, n):
    """Re-points "sink" at a healthy smtp-sink, shows the queued messages wait for their time,
    then runs the queue with the clock moved past it; returns the healthy sink."""
    good = start_sink(smtp_sink, ["-v"], probe="listen")
    ob.ok("server", "edit", "sink", "--port", str(good.port))
    r = ob.ok("queue", "run")
    assert "Sent 0" in r.out or r.out == "", f"queue run before due: got {r.out!r}, want nothing sent"
    assert dumps(good) == [], f"healthy sink before due: got {len(dumps(good))} messages, want 0"
    r = ob.ok("queue", "run", env={"OUTBOX_NOW": due_after(items)})
    assert f"Sent {n}," in r.out, f"queue run: got {r.out!r}, want 'Sent {n},'\n" + r.describe()
    left = queue_list(ob)
    assert left == [], f"queue after run: got {left}, want empty"
    assert sessions(good) == 1, f"sessions: got {sessions(good)}, want 1 for the whole run\n{good.log()}"
    return good


# ---------------------------------------------------------------------------------------------
# the matrix: one message, one fault

@pytest.mark.parametrize("step,fault,outcome,words", MATRIX,
                         ids=[f"{s}-{f}-{o}" for s, f, o, _ in MATRIX])
def test_fault_matrix(ob, smtp_sink, step, fault, outcome, words):
    sink = start_faulty(ob, smtp_sink, [FAULTS[fault], STEPS[step]])
    dot_faulted = step == "dot"

    # --no-queue: the same fault ends with 75 where it would have queued, and nothing is kept.
    m0 = marker()
    r = send(ob, m0, "--no-queue")
    assert r.code == NO_QUEUE_EXIT[outcome], \
        f"--no-queue exit: got {r.code}, want {NO_QUEUE_EXIT[outcome]}\n" + r.describe()
    assert queue_list(ob) == [], f"--no-queue: got {queue_list(ob)}, want nothing queued"
    latest = history(ob)[0]["outcome"]
    assert latest == HISTORY[outcome], f"--no-queue history: got {latest!r}, want {HISTORY[outcome]!r}"

    m = marker()
    r = send(ob, m)
    q = check_send(ob, sink, r, m, outcome, words, dot_faulted)
    first_try = dumped(sink, m)

    if q is None:
        # Delivered once or refused for good: a later run has nothing to send.
        r = ob.ok("queue", "run", env={"OUTBOX_NOW": str(int(time.time()) + 7200)})
        assert "Sent 0" in r.out or r.out == "", f"queue run: got {r.out!r}, want nothing sent"
        want = 1 if outcome == DELIVERED else 0
        accepted = 0 if dot_faulted else len(dumped(sink, m))
        assert accepted == want, f"deliveries: got {accepted}, want {want}"
        return

    good = flush_to_healthy(ob, smtp_sink, [q], 1)
    delivered = dumped(good, m)
    assert len(delivered) == 1, f"healthy sink: got {len(delivered)} copies, want exactly 1"
    accepted = len(delivered) + (0 if dot_faulted else len(first_try))
    assert accepted == 1, f"deliveries in all: got {accepted}, want exactly 1"
    if outcome == UNCERTAIN:
        ids = message_ids(first_try + delivered)
        assert ids[0] == ids[1], f"resent Message-ID: got {ids[1]}, want {ids[0]} (a duplicate beats a loss)"
    shown = ob.ok("queue", "show", str(q["id"]), "--json").json()
    assert shown["state"] == "done", f"queue show state: got {shown['state']!r}, want 'done': {shown}"
    got_rcpts = [(x["address"], x["state"]) for x in shown["recipients"]]
    assert got_rcpts == [(a, "delivered") for a in RCPTS], f"recipients: got {got_rcpts}, want all delivered"
    assert shown["log"][-1]["outcome"] == "attempted", f"last attempt: got {shown['log'][-1]}, want 'attempted'"
    latest = history(ob)[0]
    assert (latest["outcome"], latest["message_id"]) == ("delivered", q["message_id"]), \
        f"history after run: got {latest}, want 'delivered' for {q['message_id']}"


def test_ehlo_refused_falls_back_to_helo(ob, smtp_sink):
    # A 5xx to EHLO alone: on a plain connection without AUTH, HELO is enough and the mail goes.
    sink = start_faulty(ob, smtp_sink, ["-f", "EHLO"])
    m = marker()
    r = send(ob, m, "-v")
    check_send(ob, sink, r, m, DELIVERED, "C: HELO", dot_faulted=False)


# ---------------------------------------------------------------------------------------------
# slow replies and the premature abort

SLOW = [
    # (id, sink options, server timeout, outcome, words, the sink's "." reply is faulted)
    ("data-slow-within-timeout", ["-w", "1"], 5, DELIVERED, None, False),
    ("data-slow-past-timeout", ["-w", "2"], 1, QUEUED, "no reply", False),
    ("dot-slow-within-timeout", ["-p", "-W", ".:1"], 5, DELIVERED, None, False),
    # The reply to "." comes after outbox gave up: the sink has the message, outbox cannot know.
    ("dot-slow-past-timeout", ["-p", "-W", ".:2"], 1, UNCERTAIN, "may have been delivered", True),
    # With PIPELINING outbox sends QUIT right after the "."; smtp-sink, holding the "." reply
    # back, answers only the QUIT ("221 Bye") and closes. No reply to "." ever arrives, so the
    # message may have been delivered and must stay queued: a 221 is not a 250 for the data.
    ("dot-slow-quit-pipelined", ["-W", ".:2"], 5, UNCERTAIN, None, True),
    # -A: 550 after DATA, before the data is read, then the connection closes: a refusal.
    ("abort-after-data", ["-A", "1"], 5, REFUSED, "550", False),
]


@pytest.mark.parametrize("options,timeout,outcome,words,dot_faulted",
                         [s[1:] for s in SLOW], ids=[s[0] for s in SLOW])
def test_slow_replies(ob, smtp_sink, options, timeout, outcome, words, dot_faulted):
    sink = start_faulty(ob, smtp_sink, options, timeout=timeout)
    m = marker()
    r = send(ob, m, "-v")
    q = check_send(ob, sink, r, m, outcome, words, dot_faulted)
    if q is None:
        return
    first_try = wait_dumped(sink, m, 1) if dot_faulted else dumped(sink, m)
    good = flush_to_healthy(ob, smtp_sink, [q], 1)
    delivered = dumped(good, m)
    assert len(delivered) == 1, f"healthy sink: got {len(delivered)} copies, want exactly 1"
    if outcome == UNCERTAIN:
        ids = message_ids(first_try + delivered)
        assert len(set(ids)) == 1, f"Message-IDs: got {ids}, want one (the resend keeps it)"


# ---------------------------------------------------------------------------------------------
# batches: several queued messages in one session

def queue_batch(ob, n):
    ms = [marker() for _ in range(n)]
    for m in ms:
        r = send(ob, m, "--queue-only")
        assert r.code == 0 and "queued as" in r.err, f"--queue-only: got exit {r.code}, want 0\n" + r.describe()
    items = queue_list(ob)
    assert len(items) == n, f"queued: got {len(items)}, want {n}"
    return ms


BATCH = [
    # (id, faulty sink options, uncertain messages, messages the faulty sink captured)
    # The first message's "." goes unanswered: it alone may have been delivered; the session is
    # gone, so the other four were never sent and stay plainly queued.
    ("dot-drop", ["-q", "."], 1, 1),
    # A 421 after the first "." ends the session: nothing may have been delivered.
    ("dot-421", ["-Q", "."], 0, 1),
    # Every "." gets 450: RSET between transactions keeps the one session going for all five.
    ("dot-4xx", ["-r", "."], 0, 5),
    # 421 at the first MAIL: nothing captured, all five stay queued.
    ("mail-421", ["-Q", "MAIL"], 0, 0),
]


@pytest.mark.parametrize("options,uncertain,captured", [b[1:] for b in BATCH], ids=[b[0] for b in BATCH])
def test_batch_of_five(ob, smtp_sink, options, uncertain, captured):
    bad = start_faulty(ob, smtp_sink, [*options, "-v"], probe="listen")
    ms = queue_batch(ob, 5)
    r = ob.ok("queue", "run")
    assert "Sent 0, queued again 5," in r.out, f"faulty run: got {r.out!r}, want 'Sent 0, queued again 5,'"
    assert sessions(bad) == 1, f"faulty sink sessions: got {sessions(bad)}, want 1\n{bad.log()}"
    items = queue_list(ob)
    states = sorted((q["state"], [x["state"] for x in q["recipients"]]) for q in items)
    assert states == [("queued", ["pending", "pending"])] * 5, f"states: got {states}, want 5 queued"
    flagged = [q for q in items if q["may_have_been_delivered"]]
    assert len(flagged) == uncertain, \
        f"may have been delivered: got {len(flagged)} ({flagged}), want {uncertain}"
    got = sum(len(dumped(bad, m)) for m in ms)
    assert got == captured, f"faulty sink captured: got {got}, want {captured} (none of them answered 250)"

    good = flush_to_healthy(ob, smtp_sink, items, 5)
    copies = {m: len(dumped(good, m)) for m in ms}
    assert copies == {m: 1 for m in ms}, f"healthy sink copies: got {copies}, want each exactly once"
    for q in flagged:
        [first] = [m for m in ms if any(q["message_id"] in d for d in dumped(bad, m))]
        ids = message_ids(dumped(bad, first) + dumped(good, first))
        assert len(set(ids)) == 1, f"Message-IDs: got {ids}, want the same on the resend"


@pytest.mark.parametrize("fault", list(FAULTS))
def test_rset_fault_keeps_the_rest_queued(ob, smtp_sink, fault):
    # Every RCPT gets 450, so the first transaction ends before its data and may still be open on
    # the server: outbox sends RSET before the second message. The RSET fault (5xx, 4xx, 421 or a
    # drop) ends the session, and nothing after it is lost or flagged.
    bad = start_faulty(ob, smtp_sink, ["-r", "RCPT", FAULTS[fault], "RSET", "-v"], probe="listen")
    ms = queue_batch(ob, 3)
    r = ob.ok("queue", "run")
    assert "Sent 0, queued again 3," in r.out, f"faulty run: got {r.out!r}, want 'Sent 0, queued again 3,'"
    assert "RSET" in bad.log(), f"sink log: got no RSET, want one\n{bad.log()}"
    items = queue_list(ob)
    got = sorted((q["state"], q["may_have_been_delivered"], [x["state"] for x in q["recipients"]])
                 for q in items)
    assert got == [("queued", False, ["pending", "pending"])] * 3, f"states: got {got}, want 3 queued, none flagged"
    captured = sum(len(dumped(bad, m)) for m in ms)
    assert captured == 0, f"faulty sink captured: got {captured}, want none (no recipient was accepted)"
    good = flush_to_healthy(ob, smtp_sink, items, 3)
    copies = {m: len(dumped(good, m)) for m in ms}
    assert copies == {m: 1 for m in ms}, f"healthy sink copies: got {copies}, want each exactly once"


def test_answered_end_of_data_needs_no_rset(ob, smtp_sink):
    # A reply to the final "." ends the transaction on the server whatever it says (RFC 5321
    # 4.1.1.4), so after a 450 there the next message follows without RSET, in the same session:
    # all three are tried, none is flagged, and a faulty RSET is never reached.
    bad = start_faulty(ob, smtp_sink, ["-r", ".", "-f", "RSET", "-v"], probe="listen")
    ms = queue_batch(ob, 3)
    r = ob.ok("queue", "run")
    assert "Sent 0, queued again 3," in r.out, f"faulty run: got {r.out!r}, want 'Sent 0, queued again 3,'"
    assert "RSET" not in bad.log(), f"sink log: got an RSET, want none\n{bad.log()}"
    assert bad.log().count("connect (") == 1, f"sessions: want one\n{bad.log()}"
    got = sorted((q["state"], q["may_have_been_delivered"]) for q in queue_list(ob))
    assert got == [("queued", False)] * 3, f"states: got {got}, want 3 queued, none flagged"
    captured = sum(len(dumped(bad, m)) for m in ms)
    assert captured == 3, f"faulty sink captured: got {captured}, want 3 (each answered 450)"


def test_batch_refused_for_good(ob, smtp_sink):
    # A 5xx to every RCPT in a queue run: each recipient is refused for good, so each message is
    # done (no recipient pending, per THE OUTBOX in outbox(1)) but none was sent; a later run
    # sends none of them, and the sink accepted none.
    bad = start_faulty(ob, smtp_sink, ["-f", "RCPT"])
    ms = queue_batch(ob, 5)
    ids = [q["id"] for q in queue_list(ob)]
    r = ob.ok("queue", "run")
    want = "Sent 0, queued again 0, failed 0; 10 recipients refused."
    assert want in r.out, f"run summary: got {r.out!r}, want {want!r} (no message was sent)"
    assert queue_list(ob) == [], f"queued: got {queue_list(ob)}, want none"
    for i in ids:
        shown = ob.ok("queue", "show", str(i), "--json").json()
        got = (shown["state"], [x["state"] for x in shown["recipients"]])
        assert got == ("done", ["refused", "refused"]), f"message {i}: got {got}, want done, both refused"
    outcomes = [e["outcome"] for e in history(ob)[:5]]
    assert all(o in ("refused", "failed") for o in outcomes), \
        f"history: got {outcomes}, want 5 'refused' (or 'failed'): nobody got these messages"
    r = ob.ok("queue", "run", env={"OUTBOX_NOW": str(int(time.time()) + 7200)})
    assert "Sent 0" in r.out or r.out == "", f"later run: got {r.out!r}, want nothing sent"
    got = sum(len(dumped(bad, m)) for m in ms)
    assert got == 0, f"sink captured: got {got}, want 0"


def test_missing_file_in_a_pipelined_batch(ob, smtp_sink):
    # The second of three messages lost its spool file (removed by hand). Its commands may already
    # be on the wire behind the first message's data; the runner must give up that session
    # rather than leave it waiting for a body, so the third still goes out, once.
    sink = start_faulty(ob, smtp_sink, ["-d", "{dir}/m."])
    ms = queue_batch(ob, 3)
    items = sorted(queue_list(ob), key=lambda q: q["id"])
    spool = os.path.join(ob.home, "spool")
    [missing] = [f for f in os.listdir(spool) if len(f) == 32 and
                 f"Subject: {ms[1]}" in open(os.path.join(spool, f), errors="replace").read()]
    os.unlink(os.path.join(spool, missing))
    r = ob.ok("queue", "run")
    assert "Sent 2, queued again 1," in r.out, f"run: got {r.out!r}, want 2 sent and 1 queued again"
    copies = [len(wait_dumped(sink, m, 1)) for m in (ms[0], ms[2])]
    assert copies == [1, 1], f"first and third delivered: got {copies} copies, want [1, 1]"
    [left] = queue_list(ob)
    assert left["id"] == items[1]["id"] and not left["may_have_been_delivered"], \
        f"left: got {left}, want message {items[1]['id']} queued, not flagged"
    assert "cannot" in left["last_reply"] or "missing" in left["last_reply"], left["last_reply"]
