# tests/e2e/test_faultserver_smoke.py: proves each FaultServer behaviour with Python's own
# smtplib/socket/ssl as the client (throwaway CA, verification on), so outbox tests can trust it.
import base64
import os
import smtplib
import socket
import ssl
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from servers.faultserver import (  # noqa: E402
    Disconnect, EndlessMultiline, FaultServer, HugeLine, InjectAfter, Raw, Reply, Silence)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A throwaway CA and a localhost/127.0.0.1 server cert, made with the openssl CLI."""
    d = tmp_path_factory.mktemp("faultpki")

    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=faultserver test CA")
    openssl("req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=localhost")
    (d / "ext.cnf").write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")
    return {"cert": str(d / "server.pem"), "key": str(d / "server.key"), "ca": str(d / "ca.pem")}


@pytest.fixture
def ctx(pki):
    c = ssl.create_default_context(cafile=pki["ca"])
    assert c.verify_mode == ssl.CERT_REQUIRED and c.check_hostname
    return c


@pytest.fixture
def server(pki):
    """server(**options) -> a started FaultServer with the test cert; stopped afterwards."""
    started = []

    def make(**kw):
        srv = FaultServer(cert=pki["cert"], key=pki["key"], **kw).start()
        started.append(srv)
        return srv
    yield make
    for srv in started:
        srv.stop()


class RawClient:
    """A line-level SMTP client on a plain socket, upgradable to TLS in place."""

    def __init__(self, port, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def recv(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("server closed the connection")
        return data

    def readline(self):
        while b"\r\n" not in self.buf:
            self.buf += self.recv()
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def reply(self):
        """(code, [lines]) of one complete, possibly multi-line, reply."""
        lines = []
        while True:
            line = self.readline()
            lines.append(line)
            if line[3:4] != b"-":
                return int(line[:3]), lines

    def cmd(self, line):
        self.sock.sendall(line.encode() + b"\r\n")
        return self.reply()[0]

    def starttls(self, ctx):
        assert self.buf == b"", "plaintext left over before the handshake"
        self.sock = ctx.wrap_socket(self.sock, server_hostname="localhost")

    def closed_by_server(self):
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


def b64(s):
    return base64.b64encode(s.encode()).decode()


# -- happy paths ----------------------------------------------------------------------------

def test_happy_path_starttls_auth_plain_records_message_and_auth_only_after_tls(server, ctx):
    srv = server()
    with smtplib.SMTP("127.0.0.1", srv.port, timeout=5) as c:
        c.ehlo("client.test")
        assert c.has_extn("starttls") and c.has_extn("pipelining")
        assert c.starttls(context=ctx)[0] == 220
        c.ehlo("client.test")
        assert not c.has_extn("starttls")
        c.login("alice", "s3cret")  # smtplib prefers PLAIN here
        refused = c.sendmail("a@example.test", ["b@example.test"],
                             b"Subject: hi\r\n\r\nbody\r\n.dotted\r\n")
        assert refused == {}
    assert srv.wait_done(1)

    conn = srv.connections[0]
    assert conn.ended == "QUIT"
    assert conn.auths == [("PLAIN", "alice", "s3cret", True)]
    assert [c.upper() for c in srv.received_commands(tls=False)] == ["EHLO CLIENT.TEST", "STARTTLS"]
    auth_events = [e for e in conn if e.direction == "in" and e.data.upper().startswith(b"AUTH")]
    assert auth_events and all(e.tls for e in auth_events)
    assert not any(b"AUTH" in e.data.upper() for e in conn if e.direction == "in" and not e.tls)
    [msg] = srv.messages
    assert (msg.mail_from, msg.rcpt_to, msg.tls, msg.reply) == (
        "a@example.test", ["b@example.test"], True, 250)
    assert msg.data == b"Subject: hi\r\n\r\nbody\r\n.dotted\r\n"  # dot-unstuffed


def test_auth_login_challenges_without_tls():
    with FaultServer(tls_mode="none") as srv:
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=5) as c:
            c.ehlo()
            assert not c.has_extn("starttls")
            c.user, c.password = "bob", "pw"
            assert c.auth("LOGIN", c.auth_login, initial_response_ok=False)[0] == 235
            assert c.docmd("STARTTLS")[0] == 502
    assert srv.connections[0].auths == [("LOGIN", "bob", "pw", False)]
    assert srv.received_commands()[1:4] == ["AUTH LOGIN", b64("bob"), b64("pw")]


def test_implicit_tls(server, ctx):
    srv = server(tls_mode="implicit")
    with smtplib.SMTP_SSL("127.0.0.1", srv.port, context=ctx, timeout=5) as c:
        c.ehlo()
        assert not c.has_extn("starttls")
        c.login("u", "p")
        c.sendmail("a@x.test", ["b@x.test"], b"hi\r\n")
    assert srv.wait_done(1)
    assert all(e.tls for e in srv.connections[0])
    assert srv.received_commands(tls=False) == []
    assert srv.messages[0].tls


def test_bdat_chunks_pipelined(server, ctx):
    srv = server(tls_mode="none", ehlo=["CHUNKING", "PIPELINING"])
    c = RawClient(srv.port)
    assert c.reply()[0] == 220
    c.sock.sendall(b"EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@x.test>\r\n"
                   b"BDAT 6\r\nhello\nBDAT 7 LAST\r\nworld\r\n")
    assert [c.reply()[0] for _ in range(5)] == [250, 250, 250, 250, 250]
    assert srv.messages[0].data == b"hello\nworld\r\n"
    assert c.cmd("QUIT") == 221


def test_sequential_connections_each_get_their_script(server):
    srv = server(script=[{"greeting": Reply(421, "4.3.2 busy")}, {}])
    with pytest.raises(smtplib.SMTPConnectError) as e:
        smtplib.SMTP("127.0.0.1", srv.port, timeout=5)
    assert e.value.smtp_code == 421
    with smtplib.SMTP("127.0.0.1", srv.port, timeout=5) as c:
        assert c.noop()[0] == 250
    assert srv.wait_done(2)
    assert [conn.ended for conn in srv.connections] == ["421 sent", "QUIT"]


# -- STARTTLS faults --------------------------------------------------------------------------

def test_starttls_response_injection_arrives_before_handshake(server, ctx):
    srv = server(script={"starttls": InjectAfter(Reply(220, "Ready"), "250 fake\r\n")})
    c = RawClient(srv.port)
    c.reply()
    assert c.cmd("EHLO c") == 250
    c.sock.sendall(b"STARTTLS\r\n")
    got = b""
    while b"250 fake\r\n" not in got:
        got += c.recv()
    assert got == b"220 Ready\r\n250 fake\r\n"  # both lines, in clear, before any TLS byte
    c.starttls(ctx)  # the handshake still works after the injected line
    assert c.cmd("EHLO c") == 250
    out = [e for e in srv.connections[0] if e.direction == "out" and b"250 fake" in e.data]
    assert out == [(("out", b"220 Ready\r\n250 fake\r\n", False))]


def test_plaintext_pipelined_after_starttls_is_discarded_and_visible(server, ctx):
    srv = server()
    c = RawClient(srv.port)
    c.reply()
    c.cmd("EHLO c")
    c.sock.sendall(b"STARTTLS\r\nAUTH PLAIN " + b64("\0u\0p").encode() + b"\r\n")
    assert c.reply()[0] == 220
    c.starttls(ctx)
    assert c.cmd("NOOP") == 250
    conn = srv.connections[0]
    assert conn.discarded.startswith(b"AUTH PLAIN")
    assert conn.auths == []
    assert ("in", conn.discarded, False) in conn


def test_starttls_not_offered(server):
    srv = server(ehlo=["PIPELINING", "AUTH PLAIN"])
    with smtplib.SMTP("127.0.0.1", srv.port, timeout=5) as c:
        c.ehlo()
        with pytest.raises(smtplib.SMTPNotSupportedError):
            c.starttls()
        assert c.docmd("STARTTLS")[0] == 502


@pytest.mark.parametrize("code", [502, 454])
def test_starttls_refused(server, ctx, code):
    srv = server(script={"starttls": Reply(code, "no TLS today")})
    with smtplib.SMTP("127.0.0.1", srv.port, timeout=5) as c:
        c.ehlo()
        with pytest.raises(smtplib.SMTPResponseException) as e:
            c.starttls(context=ctx)
        assert e.value.smtp_code == code
        assert c.noop()[0] == 250  # still talking, in clear


def test_tls_handshake_failure_is_recorded_and_server_keeps_serving(server, ctx):
    srv = server(tls_mode="implicit")
    with pytest.raises(ssl.SSLCertVerificationError):
        smtplib.SMTP_SSL("127.0.0.1", srv.port, context=ssl.create_default_context(), timeout=5)
    with smtplib.SMTP_SSL("127.0.0.1", srv.port, context=ctx, timeout=5) as c:
        assert c.noop()[0] == 250
    assert srv.connections[0].ended.startswith("TLS handshake failed")


# -- EHLO / HELO ------------------------------------------------------------------------------

@pytest.mark.parametrize("code", [502, 550])
def test_ehlo_refused_helo_works(server, code):
    srv = server(script={"ehlo": Reply(code)})
    with smtplib.SMTP("127.0.0.1", srv.port, timeout=5) as c:
        assert c.ehlo()[0] == code
        assert c.helo()[0] == 250


def test_ehlo_and_helo_refused(server):
    srv = server(script={"ehlo": Reply(550), "helo": Reply(550)})
    with smtplib.SMTP("127.0.0.1", srv.port, timeout=5) as c:
        with pytest.raises(smtplib.SMTPHeloError):
            c.ehlo_or_helo_if_needed()


# -- per-recipient replies, pipelining ------------------------------------------------------

def test_pipelined_transaction_with_per_recipient_replies(server):
    srv = server(tls_mode="none",
                 script={"rcpt": [250, Reply(550, "5.1.1 no such user"), Reply(450)]})
    c = RawClient(srv.port)
    c.reply()
    c.cmd("EHLO c")
    c.sock.sendall(b"MAIL FROM:<a@x.test>\r\nRCPT TO:<r1@x.test>\r\nRCPT TO:<r2@x.test>\r\n"
                   b"RCPT TO:<r3@x.test>\r\nDATA\r\n")
    replies = [c.reply() for _ in range(5)]
    assert [code for code, _ in replies] == [250, 250, 550, 450, 354]
    assert replies[2][1] == [b"550 5.1.1 no such user"]
    c.sock.sendall(b"Subject: x\r\n\r\nhi\r\n.\r\n")
    assert c.reply()[0] == 250
    assert srv.messages[0].rcpt_to == ["r1@x.test"]


def test_batch_replies_come_in_one_piece(server):
    """batch_replies: the replies to pipelined commands wait until the input is used up, then go
    out together (so the client reads them in one recv); an injected line and the 221 to a QUIT
    pipelined behind the data come with the data's reply."""
    srv = server(tls_mode="none", batch_replies=True,
                 script={"data_end": InjectAfter(Reply(250, "queued"), "250 extra\r\n")})
    c = RawClient(srv.port)
    c.reply()
    c.cmd("EHLO c")
    c.sock.sendall(b"MAIL FROM:<a@x.test>\r\nRCPT TO:<r1@x.test>\r\nDATA\r\n")
    time.sleep(0.3)
    got = c.recv()
    codes = [line[:3] for line in got.split(b"\r\n")[:-1]]
    assert codes == [b"250", b"250", b"354"], f"got {got!r}, want the replies to MAIL, RCPT and DATA in one piece"
    c.sock.sendall(b"hi\r\n.\r\nQUIT\r\n")
    time.sleep(0.3)
    got = c.recv()
    assert got == b"250 queued\r\n250 extra\r\n221 2.0.0 bye\r\n", \
        f"got {got!r}, want 250, 250 extra and 221 at once"
    assert c.closed_by_server()


def test_smtplib_sees_refused_recipients(server):
    srv = server(tls_mode="none", script={"rcpt": [250, 550, 450]})
    with smtplib.SMTP("127.0.0.1", srv.port, timeout=5) as c:
        refused = c.sendmail("a@x.test", ["r1@x.test", "r2@x.test", "r3@x.test"], b"hi\r\n")
    assert {k: v[0] for k, v in refused.items()} == {"r2@x.test": 550, "r3@x.test": 450}


# -- a fault at every step ------------------------------------------------------------------

# (step, bytes the client sends to reach it, the default reply code); STARTTLS upgrades.
WALK = [
    ("greeting", b"", 220),
    ("ehlo", b"EHLO client.test\r\n", 250),
    ("starttls", b"STARTTLS\r\n", 220),
    ("auth", b"AUTH PLAIN " + b64("\0user\0pass").encode() + b"\r\n", 235),
    ("mail", b"MAIL FROM:<a@x.test>\r\n", 250),
    ("rcpt", b"RCPT TO:<b@x.test>\r\n", 250),
    ("data", b"DATA\r\n", 354),
    ("data_end", b"Subject: x\r\n\r\nhi\r\n.\r\n", 250),
    ("mail", b"MAIL FROM:<a@x.test>\r\n", 250),
    ("rcpt", b"RCPT TO:<b@x.test>\r\n", 250),
    ("bdat", b"BDAT 4 LAST\r\nhi\r\n", 250),
    ("rset", b"RSET\r\n", 250),
    ("quit", b"QUIT\r\n", 221),
]
STEPS = list(dict.fromkeys(step for step, _, _ in WALK))


def walk_to(srv, step, ctx):
    """Connect and play the WALK up to step, whose command is sent but not answered."""
    c = RawClient(srv.port)
    for name, data, code in WALK:
        c.sock.sendall(data)
        if name == step:
            return c
        assert c.reply()[0] == code, f"at {name}"
        if name == "starttls":
            c.starttls(ctx)
    raise AssertionError(step)


@pytest.mark.parametrize("code", [451, 554, 421])
@pytest.mark.parametrize("step", STEPS)
def test_reply_code_at_each_step(server, ctx, step, code):
    srv = server(ehlo=["AUTH PLAIN", "CHUNKING", "STARTTLS"],
                 script={step: Reply(code, "scripted fault")})
    c = walk_to(srv, step, ctx)
    assert c.reply() == (code, [f"{code} scripted fault".encode()])
    if code == 421 or step == "quit":
        assert c.closed_by_server()
    else:
        assert c.cmd("NOOP") == 250
    c.close()


@pytest.mark.parametrize("step", STEPS)
def test_disconnect_at_each_step(server, ctx, step):
    srv = server(ehlo=["CHUNKING", "STARTTLS"], script={step: Disconnect()})
    c = walk_to(srv, step, ctx)
    with pytest.raises((ConnectionError, ssl.SSLError)):
        c.reply()
    assert srv.wait_done(1)
    assert srv.connections[0].ended == "scripted disconnect"


@pytest.mark.parametrize("step", STEPS)
def test_silence_at_each_step_until_stop(server, ctx, step):
    srv = server(ehlo=["CHUNKING", "STARTTLS"], script={step: Silence()})
    c = walk_to(srv, step, ctx)
    c.sock.settimeout(0.3)
    with pytest.raises(socket.timeout):
        c.reply()
    t0 = time.monotonic()
    srv.stop()
    assert time.monotonic() - t0 < 1.0
    assert srv.connections[0].ended == "server stopped"
    c.sock.settimeout(2)
    assert c.closed_by_server()


@pytest.mark.parametrize("step", STEPS)
def test_huge_line_at_each_step(server, ctx, step):
    srv = server(ehlo=["CHUNKING", "STARTTLS"], script={step: HugeLine(100_000)})
    c = walk_to(srv, step, ctx)
    code, lines = c.reply()
    assert code == 250 and len(lines) == 1 and len(lines[0]) + 2 == 100_000
    if step != "quit":
        assert c.cmd("NOOP") == 250


@pytest.mark.parametrize("step", STEPS)
def test_endless_multiline_at_each_step(server, ctx, step):
    srv = server(ehlo=["CHUNKING", "STARTTLS"], script={step: EndlessMultiline()})
    c = walk_to(srv, step, ctx)
    got = c.buf
    while len(got) < 1_100_000:
        got += c.recv()
    assert got.startswith(b"250-x\r\n250-x\r\n")
    c.close()
    t0 = time.monotonic()
    assert srv.wait_done(1, timeout=2)
    assert time.monotonic() - t0 < 1.0
    assert srv.connections[0].ended.startswith("send failed")


def test_endless_multiline_then_next_connection_served(server):
    srv = server(script=[{"ehlo": EndlessMultiline(text="more")}, {}])
    c = RawClient(srv.port)
    c.reply()
    c.sock.sendall(b"EHLO c\r\n")
    n = 0
    while n < 1_100_000:
        n += len(c.recv())
    c.close()
    assert srv.wait_done(1, timeout=2)
    with smtplib.SMTP("127.0.0.1", srv.port, timeout=5) as s:
        assert s.ehlo()[0] == 250
    t0 = time.monotonic()
    srv.stop()
    assert time.monotonic() - t0 < 1.0 and not srv._thread.is_alive()


# -- odds and ends ----------------------------------------------------------------------------

def test_client_disconnect_mid_data_is_clean(server):
    srv = server(tls_mode="none")
    c = RawClient(srv.port)
    c.reply()
    c.sock.sendall(b"HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\nhalf a mess")
    assert [c.reply()[0] for _ in range(4)] == [250, 250, 250, 354]
    c.close()
    assert srv.wait_done(1)
    assert srv.connections[0].ended == "client closed" and srv.messages == []
    with smtplib.SMTP("127.0.0.1", srv.port, timeout=5) as s:
        assert s.noop()[0] == 250


def test_raw_and_multiline_replies(server):
    srv = server(tls_mode="none", script={"greeting": Raw(b"220 bare lf\n", code=220),
                                          "noop": Reply(250, ["one", "two"])})
    c = RawClient(srv.port)
    c.sock.settimeout(5)
    while b"\n" not in c.buf:
        c.buf += c.recv()
    assert c.buf == b"220 bare lf\n"
    c.buf = b""
    c.sock.sendall(b"NOOP\r\n")
    assert c.reply() == (250, [b"250-one", b"250 two"])


def test_unknown_step_is_rejected():
    with pytest.raises(ValueError, match="rcpt_to"):
        FaultServer(tls_mode="none", script={"rcpt_to": Reply(550)})
