# tests/e2e/test_delivery_policy.py: one delivery policy for `send` and `queue run`, end to end: a
# recipient deferred beside an accepted one is queued, never lost; a message too big for the server
# is refused, never queued; a failure of the server moves on to the fallback, a refusal of the
# message never does; what is not queued says "not delivered"; the hints name true commands.

import pytest

from sendutil import configure, marker
from servers.faultserver import FaultServer, Reply

DATAERR, UNAVAILABLE, TEMPFAIL, NOPERM = 65, 69, 75, 77
ACCOUNT = "sender@example.test"


def start(pki, **kw):
    srv = FaultServer(cert=pki.server_cert, key=pki.server_key, **kw)
    srv.start()
    return srv


def queue_list(ob, now=None):
    env = {"OUTBOX_NOW": str(now)} if now else None
    return ob.ok("queue", "list", "--json", env=env).json()


def history(ob):
    return ob.ok("log", "--json").json()


def due_after(items):
    return max(int(q["next_attempt"]) for q in items) + 1


def add_fallback(ob, name, port, security="none"):
    ob.ok("server", "add", name, "--host", "127.0.0.1", "--port", str(port), "--security", security,
          "--timeout", "10")
    ob.ok("account", "edit", ACCOUNT, "--fallback", name)


def not_delivered_to(postfix, needle, wait=1.0):
    """True when Postfix holds no message containing needle after a short wait."""
    try:
        postfix.wait_message(needle, timeout=wait)
    except TimeoutError:
        return True
    return False


# -- item 1: a recipient deferred with 4xx is queued, never lost --------------------------------

@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "lockstep"])
@pytest.mark.parametrize("rcpt_replies,deferred", [
    ([250, 250, Reply(452, "4.5.3 Too many recipients")], ["a3@example.test"]),
    ([Reply(451, "4.7.1 try again later"), 250, 250], ["a1@example.test"]),
], ids=["452-after-two", "451-for-one"])
def test_a_deferred_recipient_beside_accepted_ones_is_queued(ob, pki, pipelining, rcpt_replies, deferred):
    rcpts = ["a1@example.test", "a2@example.test", "a3@example.test"]
    ehlo = ["PIPELINING", "8BITMIME"] if pipelining else ["8BITMIME"]
    # The first connection defers; the one of the later queue run accepts everything.
    srv = start(pki, tls_mode="none", ehlo=ehlo, script=[{"rcpt": rcpt_replies}, {}])
    try:
        configure(ob, "fault", srv.port, "none")
        m = marker()
        r = ob.run("send", *rcpts, input=f"Subject: {m}\n\nbody\n")
        accepted = [a for a in rcpts if a not in deferred]
        assert r.code == 0, "want exit 0 (queued), got:\n" + r.describe()
        assert "queued as" in r.err and "Sent" not in r.out, \
            "want the deferred recipient reported queued, not 'Sent ... to 3 recipients':\n" + r.describe()
        for a in deferred:
            assert f"outbox: {a}: queued" in r.err, r.describe()
        for a in accepted:
            assert f"outbox: {a}: delivered" in r.err, r.describe()
        got = [sorted(msg.rcpt_to) for msg in srv.messages]
        assert got == [sorted(accepted)], f"server got: {got}, want one message to {sorted(accepted)}"
        [q] = queue_list(ob)
        pending = [x["address"] for x in q["recipients"] if x["state"] == "pending"]
        assert pending == deferred, f"queued recipients: got {pending}, want {deferred}"
        assert history(ob)[0]["outcome"] == "partial", history(ob)[0]

        # The queue delivers the deferred one, once.
        ob.ok("queue", "run", env={"OUTBOX_NOW": str(due_after([q]))})
        got = [sorted(msg.rcpt_to) for msg in srv.messages]
        assert got == [sorted(accepted), deferred], f"server got: {got}, want the second to {deferred}"
        assert queue_list(ob, due_after([q]) + 1) == []
    finally:
        srv.stop()


def test_a_real_servers_4xx_for_one_of_two_is_queued(ob, postfix):
    """Postfix answers later@ with 450 and takes ok@: ok@ has it, later@ waits in the outbox."""
    configure(ob, "pf", postfix.plain_port, "none")
    m = marker()
    r = ob.run("send", "ok@example.test", "later@example.test", input=f"Subject: {m}\n\nbody\n")
    assert r.code == 0 and "queued as" in r.err, r.describe()
    assert "outbox: later@example.test: queued" in r.err, r.describe()
    postfix.wait_message(m)
    [q] = queue_list(ob)
    states = {x["address"]: x["state"] for x in q["recipients"]}
    assert states == {"later@example.test": "pending"}, f"queued: got {states}, want later@ pending"
    assert "450 4.2.1" in q["last_reply"], q


# -- item 2: a message over the server's SIZE is refused before the transfer ------------------

@pytest.mark.parametrize("extra", [[], ["--no-queue"]], ids=["send", "no-queue"])
def test_a_message_over_the_size_limit_is_refused_not_queued(ob, pki, aiosmtpd_factory, postfix, extra):
    srv = aiosmtpd_factory(extra_args=["--size", "2000"])
    configure(ob, "small", srv.port, "starttls", ca=pki.ca_cert)
    # A fallback must not get it either: another server would refuse it as well, or take it
    # from a user who was told it is too big.
    add_fallback(ob, "backup", postfix.plain_port)
    m = marker()
    r = ob.run("send", *extra, "rcpt@example.test", input=f"Subject: {m}\n\n" + "x" * 70 + ("\n" + "y" * 70) * 60)
    assert r.code == DATAERR, "want 65 (refused before the transfer), got:\n" + r.describe()
    assert "accepts at most 2000" in r.err, r.describe()
    assert "queued" not in r.err, r.describe()
    assert queue_list(ob) == [], "nothing may be queued"
    assert srv.messages() == []
    assert not_delivered_to(postfix, m), "the fallback server must not get a message refused as too big"
    assert history(ob)[0]["outcome"] == "refused", history(ob)[0]


def test_queue_run_refuses_a_message_too_big_and_sends_the_others(ob, pki, aiosmtpd_factory):
    """The server cannot take one message as it is: that message is refused, the session goes on
    for the others, in the same run."""
    srv = aiosmtpd_factory(extra_args=["--size", "2000"])
    configure(ob, "small", srv.port, "starttls", ca=pki.ca_cert)
    big, small = marker(), marker()
    ob.ok("send", "--queue-only", "rcpt@example.test", input=f"Subject: {big}\n\n" + ("z" * 70 + "\n") * 60)
    ob.ok("send", "--queue-only", "rcpt@example.test", input=f"Subject: {small}\n\nsmall\n")
    r = ob.ok("queue", "run")
    assert "Sent 1" in r.out and "1 recipient refused" in r.out, r.describe()
    got = [data for _, data in srv.messages()]
    assert len(got) == 1 and small.encode() in got[0], f"server got {len(got)} messages, want only the small one"
    assert queue_list(ob) == [], "the big one is refused, not left queued"


# -- item 3: what is not queued says "not delivered", not "(temporary)" ------------------------

@pytest.mark.parametrize("tls_mode,ehlo,script,code,words", [
    ("implicit", ["PIPELINING", "AUTH PLAIN LOGIN"], {"auth": Reply(535, "5.7.8 bad credentials")}, NOPERM,
     "535 5.7.8"),
    ("starttls", ["PIPELINING", "AUTH PLAIN"], {}, UNAVAILABLE, "does not offer STARTTLS"),
], ids=["login-refused-77", "no-starttls-69"])
def test_failures_that_are_not_queued_say_not_delivered(ob, pki, tls_mode, ehlo, script, code, words):
    srv = start(pki, tls_mode=tls_mode, ehlo=ehlo, script=script)
    try:
        configure(ob, "fault", srv.port, "tls" if tls_mode == "implicit" else "starttls", user="someone",
                  password="made-up-" + "p" * 8, ca=pki.ca_cert)
        r = ob.run("send", "a@example.test", "b@example.test", input="Subject: x\n\nx\n")
        assert r.code == code, r.describe()
        assert words in r.err, r.describe()
        for a in ("a@example.test", "b@example.test"):
            assert f"outbox: {a}: not delivered: " in r.err, r.describe()
        assert "(temporary)" not in r.err, "a login refused is not temporary:\n" + r.describe()
        assert queue_list(ob) == []
        assert history(ob)[0]["outcome"] == "failed", history(ob)[0]
    finally:
        srv.stop()


def test_no_queue_says_temporary_where_it_is(ob, pki):
    srv = start(pki, tls_mode="none", ehlo=["PIPELINING", "8BITMIME"],
                script={"rcpt": [Reply(250), Reply(450, "4.2.1 busy")]})
    try:
        configure(ob, "fault", srv.port, "none")
        r = ob.run("send", "--no-queue", "a@example.test", "b@example.test", input="Subject: x\n\nx\n")
        assert r.code == TEMPFAIL, r.describe()
        assert "outbox: b@example.test: not delivered (temporary): 450 4.2.1 busy" in r.err, r.describe()
        assert history(ob)[0]["outcome"] == "partial", history(ob)[0]
    finally:
        srv.stop()


# -- item 4: a failure of the server moves on, in send and queue run alike ---------------------

LOGIN_REFUSED = {"auth": Reply(535, "5.7.8 bad credentials")}


def primary_refusing_login(ob, pki):
    srv = start(pki, tls_mode="implicit", ehlo=["PIPELINING", "AUTH PLAIN LOGIN"], script=LOGIN_REFUSED)
    configure(ob, "primary", srv.port, "tls", user="someone", password="made-up-" + "q" * 8, ca=pki.ca_cert)
    return srv


def test_send_moves_on_to_the_fallback_when_the_login_is_refused(ob, pki, postfix):
    srv = primary_refusing_login(ob, pki)
    try:
        add_fallback(ob, "backup", postfix.plain_port)
        m = marker()
        r = ob.run("send", "rcpt@example.test", input=f"Subject: {m}\n\nbody\n")
        assert r.code == 0, r.describe()
        assert 'through "backup"' in r.out, r.describe()
        assert 'warning: server "primary" failed' in r.err and "535 5.7.8" in r.err, \
            "want a warning naming the primary and its 535:\n" + r.describe()
        postfix.wait_message(m)
        assert srv.messages == []
        log = history(ob)
        assert [(e["server"], e["outcome"]) for e in log[:2]] == [("backup", "delivered"), ("primary", "deferred")], log[:2]
    finally:
        srv.stop()


def test_queue_run_moves_on_to_the_fallback_when_the_login_is_refused(ob, pki, postfix):
    srv = primary_refusing_login(ob, pki)
    try:
        add_fallback(ob, "backup", postfix.plain_port)
        m = marker()
        ob.ok("send", "--queue-only", "rcpt@example.test", input=f"Subject: {m}\n\nbody\n")
        r = ob.ok("queue", "run")
        assert "Sent 1" in r.out, r.describe()
        assert 'warning: server "primary" failed' in r.err and "535 5.7.8" in r.err, r.describe()
        postfix.wait_message(m)
        assert queue_list(ob) == []
    finally:
        srv.stop()


@pytest.mark.parametrize("script,code", [
    ({"rcpt": Reply(550, "5.1.1 no such user")}, DATAERR),
    ({"data_end": Reply(554, "5.7.1 content refused")}, DATAERR),
], ids=["rcpt-550", "data-554"])
def test_a_refused_message_never_goes_through_the_fallback(ob, pki, postfix, script, code):
    srv = start(pki, tls_mode="none", ehlo=["PIPELINING", "8BITMIME"], script=script)
    try:
        configure(ob, "primary", srv.port, "none")
        add_fallback(ob, "backup", postfix.plain_port)
        m = marker()
        r = ob.run("send", "rcpt@example.test", input=f"Subject: {m}\n\nbody\n")
        assert r.code == code, r.describe()
        assert "warning" not in r.err, r.describe()
        assert not_delivered_to(postfix, m), "a refusal of the message must not move on"
        assert queue_list(ob) == []
    finally:
        srv.stop()


# -- item 6: the hint names a command that sends the message now -------------------------------

def test_the_queued_hint_names_a_command_that_sends_it_now(ob, postfix):
    configure(ob, "pf", 9, "none")  # nothing listens on port 9 (discard): the connection fails
    m = marker()
    r = ob.run("send", "rcpt@example.test", input=f"Subject: {m}\n\nbody\n")
    assert r.code == 0 and "queued as" in r.err, r.describe()
    assert "next try at" in r.err, "want when it is tried next:\n" + r.describe()
    assert "or now with 'outbox queue run --all'" in r.err, r.describe()
    ob.ok("server", "edit", "pf", "--port", str(postfix.plain_port))
    # The schedule says a minute from now: a plain run leaves it; the hinted command sends it.
    plain = ob.ok("queue", "run")
    assert "Sent 1" not in plain.out and len(queue_list(ob)) == 1, plain.describe()
    ob.ok("queue", "run", "--all")
    postfix.wait_message(m)
    assert queue_list(ob) == []


# -- item 8: outbox send reads to the end of its input -----------------------------------------

def test_outbox_send_reads_past_a_line_holding_only_a_dot(ob, postfix):
    configure(ob, "pf", postfix.plain_port, "none")
    m = marker()
    r = ob.run("send", "rcpt@example.test", input=f"Subject: {m}\n\nfirst\n.\nafter the dot\n")
    assert r.code == 0, r.describe()
    raw = postfix.wait_message(m)
    assert b"after the dot" in raw, f"the text after the '.' line was lost: {raw!r}"
