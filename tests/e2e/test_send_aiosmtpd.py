# tests/e2e/test_send_aiosmtpd.py: `outbox send` through aiosmtpd, a real server without
# PIPELINING, CHUNKING, DSN or ENHANCEDSTATUSCODES, so the lockstep DATA path is the one used.
from sendutil import configure, marker


def test_starttls_auth_and_lockstep_data(ob, aiosmtpd_srv, pki):
    srv = aiosmtpd_srv
    configure(ob, "aio", srv.port, "starttls", user=srv.user, password=srv.password, ca=pki.ca_cert)
    m = marker()
    body = "line one\n.starts with a dot\n\nlast\n"
    r = ob.run("send", "-v", "-i", "a@example.test", "b@example.test", input=f"Subject: {m}\n\n{body}")
    assert r.code == 0, r.describe()
    transcript = r.err
    for absent in ("BDAT", "RET=HDRS", "NOTIFY="):
        assert absent not in transcript, f"{absent} sent to a server that did not offer it"
    # Without PIPELINING each command waits for its reply: MAIL, RCPT, RCPT, DATA in turn.
    lines = [line for line in transcript.splitlines() if line.startswith(("C:", "S:"))]
    mail = next(i for i, line in enumerate(lines) if line.startswith("C: MAIL FROM"))
    assert lines[mail + 1].startswith("S: 250"), lines[mail:mail + 4]
    assert lines[mail + 2].startswith("C: RCPT TO:<a@"), lines[mail:mail + 4]
    assert "C: DATA" in lines
    assert srv.password not in transcript
    msgs = srv.messages()
    assert len(msgs) == 1, msgs
    data = msgs[0][1] if isinstance(msgs[0], tuple) else msgs[0]
    assert m.encode() in data
    assert b"\r\n.starts with a dot\r\n" in data, "the dot-stuffing was undone by the server"


def test_plain_auth_refused_without_tls(ob, aiosmtpd_srv):
    # aiosmtpd offers AUTH only after TLS; with --security none outbox must not try.
    srv = aiosmtpd_srv
    configure(ob, "aio", srv.port, "none", "--auth", "plain", "--allow-insecure-auth", user=srv.user,
              password=srv.password)
    r = ob.run("send", "a@example.test", input="Subject: x\n\nx\n")
    assert r.code == 69, r.describe()
    assert "does not offer authentication (AUTH) on a connection without TLS" in r.err, r.describe()
