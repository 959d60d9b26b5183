# tests/e2e/test_protocol_faults.py: the real binary against the scripted server for faults in the
# dialogue itself: QUIT when a session is given up in step, a stray line after an accepted message,
# and replies that cannot answer the command they were matched with.
import time

import pytest

from sendutil import configure
from servers.faultserver import FaultServer, InjectAfter, Reply

TEMPFAIL, DATAERR, UNAVAILABLE, NOPERM = 75, 65, 69, 77
MESSAGE = "Subject: protocol fault\n\nhello\n"
SENDER = "sender@example.test"


def commands(srv, n=1):
    """The command verbs the server received on connection n (1-based), once it has ended."""
    assert srv.wait_done(n), f"connection {n} did not end"
    return [text.split(" ")[0].upper() for text, _ in srv.connections[n - 1].commands]


# (id, FaultServer options, outbox --security, user, message, exit code, words in the error)
GIVEN_UP_IN_STEP = [
    ("535-to-AUTH", dict(tls_mode="implicit", ehlo=["PIPELINING", "AUTH PLAIN LOGIN"],
                         script={"auth": Reply(535, "5.7.8 bad credentials")}),
     "tls", "someone", MESSAGE, NOPERM, "535 5.7.8 bad credentials"),
    ("AUTH-not-offered", dict(tls_mode="implicit", ehlo=["PIPELINING", "8BITMIME"]),
     "tls", "someone", MESSAGE, UNAVAILABLE, "does not offer authentication"),
    ("STARTTLS-not-offered", dict(tls_mode="starttls", ehlo=["PIPELINING", "AUTH PLAIN"]),
     "starttls", "someone", MESSAGE, UNAVAILABLE, "does not offer STARTTLS"),
    ("STARTTLS-502", dict(tls_mode="starttls", script={"starttls": Reply(502, "5.5.1 not here")}),
     "starttls", "someone", MESSAGE, UNAVAILABLE, "502 5.5.1 not here"),
    ("EHLO-502", dict(tls_mode="starttls", script={"ehlo": Reply(502, "5.5.2 what")}),
     "starttls", "someone", MESSAGE, UNAVAILABLE, "502 5.5.2 what"),
    ("greeting-554", dict(tls_mode="none", script={"greeting": Reply(554, "5.3.2 no service")}),
     "none", None, MESSAGE, UNAVAILABLE, "554 5.3.2 no service"),
    ("8bit-without-8BITMIME", dict(tls_mode="none", ehlo=["PIPELINING"]),
     "none", None, "To: caf\u00e9@example.test\n\ncaf\u00e9\n", UNAVAILABLE, "8BITMIME"),  # no ASCII form
]


@pytest.mark.parametrize("options,security,user,message,code,words",
                         [case[1:] for case in GIVEN_UP_IN_STEP], ids=[case[0] for case in GIVEN_UP_IN_STEP])
def test_session_given_up_before_mail_ends_with_quit(ob, pki, options, security, user, message, code, words):
    """RFC 5321 4.1.1.10: a refusal leaves the server waiting for a command, so outbox says QUIT
    instead of dropping the connection (which servers log as a lost connection)."""
    srv = FaultServer(cert=pki.server_cert, key=pki.server_key, **options).start()
    try:
        configure(ob, "fault", srv.port, security, user=user, password="made-up-password" if user else None,
                  ca=pki.ca_cert if security != "none" else None)
        r = ob.run("send", "--no-queue", "rcpt@example.test", input=message)
        assert r.code == code, f"want exit {code}, got:\n" + r.describe()
        assert words in r.err, f"want the error to contain {words!r}, got:\n" + r.describe()
        got = commands(srv)
        assert got[-1:] == ["QUIT"], f"commands the server received: got {got}, want them to end with QUIT"
        assert "MAIL" not in got, f"commands: got {got}, want no MAIL"
    finally:
        srv.stop()


def stray_after_data():
    """Accepts the message with "250 2.0.0 queued", then sends one more line nobody asked for. With
    batch_replies, a pipelined QUIT's 221 comes in the same piece: 250, 250 extra, 221."""
    return FaultServer(tls_mode="none", batch_replies=True,
                       script={"data_end": InjectAfter(Reply(250, "2.0.0 queued"), "250 2.0.0 extra\r\n")})


def two_servers(ob, a, b):
    """Account SENDER on server a, with b as its fallback."""
    for name, srv in (("a", a), ("b", b)):
        ob.ok("server", "add", name, "--host", "127.0.0.1", "--port", str(srv.port), "--security", "none",
              "--timeout", "10")
    ob.ok("account", "add", SENDER, "--server", "a", "--fallback", "b")


def history(ob):
    return [(e["server"], e["outcome"]) for e in ob.ok("log", "--json").json()]


def test_stray_line_after_an_accepted_message_send_delivers_once(ob):
    """A line after the 250 to the data must not turn a delivered message into a failed one: it
    would then go out again through the fallback server, and both servers would have it."""
    a, b = stray_after_data().start(), FaultServer(tls_mode="none").start()
    try:
        two_servers(ob, a, b)
        r = ob.run("send", "rcpt@example.test", input=MESSAGE)
        assert r.code == 0, "want exit 0, got:\n" + r.describe()
        assert [m.rcpt_to for m in a.messages] == [["rcpt@example.test"]], \
            f"server a got {len(a.messages)} messages, want 1"
        assert b.connections == [], f"fallback b got {len(b.connections)} connections, want none:\n" + r.describe()
        assert history(ob) == [("a", "delivered")], f"history: got {history(ob)}, want [('a', 'delivered')]"
        assert ob.ok("queue", "list", "--json").json() == [], "want nothing queued"
    finally:
        a.stop()
        b.stop()


def test_stray_line_after_an_accepted_message_queue_run_delivers_once(ob):
    """The same through the queue: the message is marked done at the first run, and a later run
    (when it would be due again, had it stayed queued) sends nothing."""
    a, b = stray_after_data().start(), FaultServer(tls_mode="none").start()
    try:
        two_servers(ob, a, b)
        r = ob.run("send", "--queue-only", "rcpt@example.test", input=MESSAGE)
        assert r.code == 0 and "queued as" in r.err, r.describe()
        r = ob.ok("queue", "run")
        assert "Sent 1" in r.out, "want 'Sent 1', got:\n" + r.describe()
        assert len(a.messages) == 1, f"server a got {len(a.messages)} messages, want 1"
        assert b.connections == [], f"fallback b got {len(b.connections)} connections, want none"
        left = ob.ok("queue", "list", "--json").json()
        assert left == [], f"queue: got {left}, want empty"
        later = str(int(time.time()) + 3600)
        ob.ok("queue", "run", env={"OUTBOX_NOW": later})
        assert len(a.messages) == 1 and b.messages == [], \
            f"after a second run: a got {len(a.messages)}, b {len(b.messages)} messages, want 1 and 0"
        assert history(ob) == [("a", "delivered")], f"history: got {history(ob)}, want [('a', 'delivered')]"
    finally:
        a.stop()
        b.stop()


def test_pipelined_replies_out_of_order_are_a_protocol_error(ob):
    """354, 250, 250, 550 to MAIL, RCPT, RCPT, DATA: the 354 cannot answer MAIL, so the replies are
    out of step. Taking them in order would report both recipients refused (exit 65) on the
    strength of a 550 that answered something else."""
    srv = FaultServer(tls_mode="none", ehlo=["PIPELINING", "8BITMIME"], batch_replies=True,
                      script={"mail": Reply(354, "go ahead"), "rcpt": [250, 250],
                              "data": Reply(550, "5.1.1 no such user")})
    try:
        srv.start()
        configure(ob, "fault", srv.port, "none")
        r = ob.run("send", "--no-queue", "a@example.test", "b@example.test", input=MESSAGE)
        assert r.code == TEMPFAIL, f"want exit {TEMPFAIL}, got:\n" + r.describe()
        for words in ("protocol error", "354 go ahead", "MAIL FROM:<sender@example.test>"):
            assert words in r.err, f"want the error to contain {words!r}, got:\n" + r.describe()
        assert "refused" not in r.err, "no recipient was refused, got:\n" + r.describe()
        assert srv.messages == [], f"server got {len(srv.messages)} messages, want none"
    finally:
        srv.stop()


def test_reply_out_of_step_after_the_data_may_have_been_delivered(ob):
    """With BDAT the data goes out before the replies to MAIL and RCPT come: once it is out, a
    reply out of step means the server may have the message, never that it was not delivered."""
    srv = FaultServer(tls_mode="none", ehlo=["PIPELINING", "CHUNKING"], batch_replies=True,
                      script={"mail": Reply(354, "go ahead"), "rcpt": [250]})
    try:
        srv.start()
        configure(ob, "fault", srv.port, "none")
        r = ob.run("send", "--no-queue", "rcpt@example.test", input=MESSAGE)
        assert r.code == TEMPFAIL, f"want exit {TEMPFAIL}, got:\n" + r.describe()
        for words in ("protocol error", "354 go ahead", "may have been delivered"):
            assert words in r.err, f"want the error to contain {words!r}, got:\n" + r.describe()
    finally:
        srv.stop()


def test_tls_bytes_instead_of_a_greeting_are_a_setting_error(ob):
    # A real server never speaks TLS first; a TLS alert record where the greeting should be is
    # scripted here: it says at once what a silent implicit-TLS port says after the wait.
    from servers.faultserver import Raw
    srv = FaultServer(tls_mode="none", script={"greeting": Raw(b"\x15\x03\x03\x00\x02\x02\x46")})
    srv.start()
    try:
        configure(ob, "fault", srv.port, "starttls")
        r = ob.run("send", "rcpt@example.test", input=MESSAGE)
        assert r.code == UNAVAILABLE, f"got exit {r.code}, want {UNAVAILABLE}\n" + r.describe()
        assert "sent TLS bytes" in r.err and "this port expects implicit TLS: --security tls" in r.err, \
            r.describe()
        queued = ob.ok("queue", "list", "--json").json()
        assert queued == [], f"got {queued} in the outbox, want nothing queued"
    finally:
        srv.stop()


def test_starttls_on_an_implicit_tls_port_served_one_connection_at_a_time(ob, pki):
    # This server takes one connection at a time, so a second connection cannot ask it anything
    # while the first waits: the port is asked on the session's own connection once the greeting
    # wait is over.
    srv = FaultServer(cert=pki.server_cert, key=pki.server_key, tls_mode="implicit")
    srv.start()
    try:
        configure(ob, "fault", srv.port, "starttls", ca=pki.ca_cert)
        ob.ok("server", "edit", "fault", "--timeout", "2")
        r = ob.run("send", "rcpt@example.test", input=MESSAGE)
        assert r.code == UNAVAILABLE, f"got exit {r.code}, want {UNAVAILABLE}\n" + r.describe()
        assert "this port expects implicit TLS: --security tls" in r.err, r.describe()
        queued = ob.ok("queue", "list", "--json").json()
        assert queued == [], f"got {queued} in the outbox, want nothing queued"
    finally:
        srv.stop()
