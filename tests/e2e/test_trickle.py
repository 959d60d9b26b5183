# tests/e2e/test_trickle.py: a server that sends its replies one byte a second never holds outbox
# past its timeout: the greeting, each reply and the reply to the data are each bounded as a whole.
import pytest

from bounded import run_bounded
from sendutil import configure
from servers.faultserver import FaultServer, Raw, Reply, Trickle

TEMPFAIL = 75
TIMEOUT = 2       # the server's --timeout
BOUND = 20        # generous: the old code was still waiting after 60 s
MESSAGE = "Subject: trickle test\n\nhello\n"
# Long enough that a byte a second outlasts BOUND many times over.
GREETING = Reply(220, "faultserver.test ESMTP a greeting that comes in one byte a second")
EHLO = Reply(250, ["faultserver.test greets you", "PIPELINING", "8BITMIME", "AUTH PLAIN LOGIN"])
DATA_END = Reply(250, "2.0.0 queued as 0123456789ABCDEF, one byte a second")


def run(ob, *args, input=MESSAGE):
    return run_bounded(ob, args, BOUND, f"it to give up after the {TIMEOUT} s timeout", input=input)


def serve(pki, step, action, tls_mode="none"):
    srv = FaultServer(cert=pki.server_cert, key=pki.server_key, tls_mode=tls_mode,
                      ehlo=["PIPELINING", "8BITMIME"], script={step: action})
    return srv.start()


def configure_trickling(ob, pki, srv, security="none"):
    configure(ob, "slow", srv.port, security, ca=pki.ca_cert if security != "none" else None)
    ob.ok("server", "edit", "slow", "--timeout", str(TIMEOUT))


def check_gave_up(r, took, words):
    assert took < BOUND, f"took {took:.1f} s, want under {BOUND} s\n" + r.describe()
    for w in words:
        assert w in r.err, f"want {w!r} in the message, got:\n" + r.describe()


@pytest.mark.parametrize("security,tls_mode", [("none", "none"), ("tls", "implicit")],
                         ids=["plain", "implicit-tls"])
@pytest.mark.parametrize("step,action,words", [
    ("greeting", Trickle(GREETING), ["no complete reply", "to the connection (a greeting)"]),
    ("ehlo", Trickle(EHLO), ["no complete reply", "to EHLO"]),
], ids=["greeting", "ehlo"])
def test_a_trickled_reply_times_out(ob, pki, security, tls_mode, step, action, words):
    srv = serve(pki, step, action, tls_mode)
    try:
        configure_trickling(ob, pki, srv, security)
        r, took = run(ob, "send", "--no-queue", "rcpt@example.test")
        assert r.code == TEMPFAIL, f"want exit {TEMPFAIL}, got:\n" + r.describe()
        check_gave_up(r, took, [*words, f"within {TIMEOUT} s"])
        assert "expects TLS" not in r.err, "a server that sends bytes is not waiting for TLS:\n" + r.describe()
        assert srv.messages == [], f"server got {len(srv.messages)} messages, want none"
    finally:
        srv.stop()


def test_a_trickled_reply_to_the_data_may_have_delivered(ob, pki):
    """The data went out; its reply never completes: the message waits in the outbox, marked
    "may have been delivered", as the delivery policy says of a lost reply after the data."""
    srv = serve(pki, "data_end", Trickle(DATA_END))
    try:
        configure_trickling(ob, pki, srv)
        r, took = run(ob, "send", "rcpt@example.test")
        assert r.code == 0, "want exit 0 (queued), got:\n" + r.describe()
        check_gave_up(r, took, ["no complete reply", "the end of the message data",
                                f"within {TIMEOUT} s", "may have been delivered"])
        items = ob.ok("queue", "list", "--json").json()
        got = [(q["state"], q["may_have_been_delivered"]) for q in items]
        assert got == [("queued", True)], f"queue: got {got}, want [('queued', True)]"
        assert len(srv.messages) == 1, f"server got {len(srv.messages)} messages, want the one sent"
    finally:
        srv.stop()


def test_queue_run_gives_up_on_a_trickled_greeting(ob, pki):
    srv = serve(pki, "greeting", Trickle(GREETING))
    try:
        configure_trickling(ob, pki, srv)
        ob.ok("send", "--queue-only", "rcpt@example.test", input=MESSAGE)
        r, took = run(ob, "queue", "run")
        check_gave_up(r, took, [])
        items = ob.ok("queue", "list", "--json").json()
        got = [(q["state"], q["attempts"]) for q in items]
        assert got == [("queued", 1)], f"queue: got {got}, want [('queued', 1)] (tried once, waits)"
        assert "no complete reply" in items[0]["last_reply"], \
            f"want the reason kept, got last_reply {items[0]['last_reply']!r}\n" + r.describe()
    finally:
        srv.stop()


def test_server_check_names_the_trickled_step(ob, pki):
    srv = serve(pki, "ehlo", Trickle(EHLO))
    try:
        configure_trickling(ob, pki, srv)
        r, took = run(ob, "server", "check", "slow", "--json")
        assert r.code == TEMPFAIL, f"want exit {TEMPFAIL}, got:\n" + r.describe()
        check_gave_up(r, took, [])
        failed = [(s["name"], s["detail"]) for s in r.json() if s["status"] not in ("ok", "skipped")]
        assert failed and failed[0][0] == "ehlo" and "no complete reply" in failed[0][1], \
            f"want the ehlo step failed for the trickled reply, got {failed}\n" + r.describe()
    finally:
        srv.stop()


def test_a_trickled_tls_handshake_times_out(ob, pki):
    """A server on a TLS port that answers the ClientHello with the start of a 16 KiB handshake
    record, then a byte a second: the handshake as a whole is one step."""
    record = b"\x16\x03\x03\x40\x00" + b"\x02" * 64  # handshake record header, then filler
    srv = serve(pki, "greeting", Trickle(Raw(record)))  # a plain server: it "greets" with these
    try:
        configure_trickling(ob, pki, srv, security="tls")
        r, took = run(ob, "send", "--no-queue", "rcpt@example.test")
        assert r.code == TEMPFAIL, f"want exit {TEMPFAIL}, got:\n" + r.describe()
        check_gave_up(r, took, ["did not finish the TLS handshake", f"within {TIMEOUT} s"])
    finally:
        srv.stop()
