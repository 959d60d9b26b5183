# tests/e2e/test_protocol_faults.py: the real binary against the scripted server for faults in the
# dialogue itself: replies that cannot answer the command they were matched with.
from sendutil import configure
from servers.faultserver import FaultServer, Reply

TEMPFAIL, DATAERR, UNAVAILABLE, NOPERM = 75, 65, 69, 77
MESSAGE = "Subject: protocol fault\n\nhello\n"


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
