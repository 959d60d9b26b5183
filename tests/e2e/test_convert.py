# tests/e2e/test_convert.py: content conversion for strict servers, against aiosmtpd: a line over 998
# octets (for any server) and 8-bit data (for a server without 8BITMIME) arrive re-encoded, and what
# the server received, decoded with Python's email package, is what was given.
import email
import email.policy
import os
import subprocess

import pytest

from conftest import OUTBOX
from sendutil import configure, marker

HTML = b"<html><body><p>" + b"long paragraph " * 333 + b"</p></body></html>"  # 5,034 octets, one line
LATIN1 = "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e\r\n".encode("latin-1")
UTF8 = "caf\u00e9 \u2603 \u65e5\u672c\r\n".encode()
BINARY = bytes(range(0x80, 0x100)) + b" 8-bit data\r\n" + bytes(range(0xff, 0x7f, -1))


def send_bytes(ob, data, *args):
    """`outbox send -i` with the message given as bytes (Latin-1 is not text to the test harness)."""
    return subprocess.run([OUTBOX, "send", "-i", *args, "rcpt@example.test"], input=data, capture_output=True,
                          env=ob.env, timeout=60)


def describe(p):
    return f"exit {p.returncode}\nstdout: {p.stdout.decode(errors='replace')}\nstderr: " + \
        p.stderr.decode(errors="replace")


def leaves(raw):
    """[(content type, transfer encoding, decoded bytes)] of each leaf part, in order."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    return [(p.get_content_type(), (p.get("Content-Transfer-Encoding") or "7bit").lower(), p.get_payload(decode=True))
            for p in msg.walk() if not p.is_multipart()]


def text(b):
    """A text's line breaks are CRLF in canonical form; decoders give them as LF or CRLF alike."""
    return b.replace(b"\r\n", b"\n")


def assert_legal(raw, seven_bit):
    for i, line in enumerate(raw.split(b"\r\n")):
        assert len(line) <= 998, f"line {i + 1} of the received message: got {len(line)} octets, want at most 998"
    if seven_bit:
        high = [i for i, c in enumerate(raw) if c >= 0x80]
        assert not high, f"received octets >= 0x80 at {high[:5]}..., want a 7-bit message"


def multipart(m):
    return (f"From: sender@example.test\r\nSubject: {m}\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n"
            "--b0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nplain ascii, left alone\r\n"
            "--b0\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            ).encode() + LATIN1 + \
        b"--b0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + HTML + b"\r\n" + \
        b"--b0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + BINARY + \
        b"\r\n--b0--\r\n"


def test_long_line_converted_for_any_server(ob, aiosmtpd_factory, pki):
    """A 5,000-octet HTML line (PHP's habit) goes, as quoted-printable, even to a server with 8BITMIME."""
    srv = aiosmtpd_factory()
    configure(ob, "aio", srv.port, "starttls", ca=pki.ca_cert)
    m = marker()
    given = UTF8 + HTML + b"\r\nlast line\r\n"
    p = send_bytes(ob, f"Subject: {m}\r\n\r\n".encode() + given)
    assert p.returncode == 0, describe(p)
    _, raw = srv.wait_message(m)
    assert_legal(raw, seven_bit=True)
    [(ctype, cte, body)] = leaves(raw)
    assert (ctype, cte) == ("text/plain", "quoted-printable"), f"got {ctype} {cte}, want text/plain quoted-printable"
    assert text(body) == text(given), f"decoded body: got {body[:80]!r}..., want {given[:80]!r}..."
    assert b"charset=utf-8" in raw, "the UTF-8 text is labelled"


def test_long_line_through_postfix(ob, postfix):
    """The same through a real Postfix: its Maildir copy decodes to the given text."""
    configure(ob, "pf", postfix.plain_port, "none")
    m = marker()
    given = b"x" * 999 + b"\r\n" + HTML + b"\r\n"
    p = send_bytes(ob, f"Subject: {m}\r\n\r\n".encode() + given)
    assert p.returncode == 0, describe(p)
    raw = postfix.wait_message(m).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert_legal(raw, seven_bit=True)
    [(ctype, cte, body)] = leaves(raw)
    assert cte == "quoted-printable" and text(body) == text(given), f"got {cte} {body[:60]!r}..."


def test_multipart_to_server_without_8bitmime(ob, aiosmtpd_factory, pki):
    """Each part that needs it is re-encoded (text: quoted-printable, binary: base64); the 7-bit part
    goes as it was; every part decodes to what was given."""
    srv = aiosmtpd_factory(no_8bitmime=True)
    configure(ob, "aio", srv.port, "starttls", ca=pki.ca_cert)
    m = marker()
    p = send_bytes(ob, multipart(m))
    assert p.returncode == 0, describe(p)
    name, raw = srv.wait_message(m)
    assert_legal(raw, seven_bit=True)
    assert not any("BODY" in o.upper() for o in srv.envelope(name)["mail_options"]), srv.envelope(name)
    assert b"Content-Type: text/plain; charset=us-ascii\r\n\r\nplain ascii, left alone\r\n--b0" in raw, \
        "the 7-bit part is untouched"
    got = leaves(raw)
    want = [("text/plain", "7bit", b"plain ascii, left alone"), ("text/plain", "quoted-printable", LATIN1),
            ("text/html", "quoted-printable", HTML), ("application/octet-stream", "base64", BINARY)]
    assert [(t, e) for t, e, _ in got] == [(t, e) for t, e, _ in want], f"parts: got {got}"
    for (t, _, g), (_, _, w) in zip(got, want):
        if t.startswith("text/"):
            assert text(g).rstrip(b"\n") == text(w).rstrip(b"\n"), f"{t}: got {g[:60]!r}, want {w[:60]!r}"
        else:
            assert g == w, f"{t}: got {len(g)} octets {g[:16]!r}..., want {len(w)} {w[:16]!r}..."


def test_8bit_text_to_server_without_8bitmime(ob, aiosmtpd_factory, pki):
    """A plain (non-MIME) message with UTF-8 text becomes a MIME message in quoted-printable."""
    srv = aiosmtpd_factory(no_8bitmime=True)
    configure(ob, "aio", srv.port, "starttls", ca=pki.ca_cert)
    m = marker()
    p = send_bytes(ob, f"Subject: {m}\r\n\r\n".encode() + UTF8)
    assert p.returncode == 0, describe(p)
    _, raw = srv.wait_message(m)
    assert_legal(raw, seven_bit=True)
    [(ctype, cte, body)] = leaves(raw)
    assert cte == "quoted-printable" and text(body) == text(UTF8), f"got {cte} {body!r}, want {UTF8!r}"


def test_8bit_unchanged_for_server_with_8bitmime(ob, aiosmtpd_factory, pki):
    """A server that offers 8BITMIME gets the message exactly as it was (BODY=8BITMIME)."""
    srv = aiosmtpd_factory()
    configure(ob, "aio", srv.port, "starttls", ca=pki.ca_cert)
    m = marker()
    given = f"Subject: {m}\r\n\r\n".encode() + UTF8
    p = send_bytes(ob, given)
    assert p.returncode == 0, describe(p)
    name, raw = srv.wait_message(m)
    assert raw.endswith(b"\r\n\r\n" + UTF8), f"got {raw[-60:]!r}, want the body as sent"
    assert b"quoted-printable" not in raw, "nothing converted"
    assert "BODY=8BITMIME" in [o.upper() for o in srv.envelope(name)["mail_options"]], srv.envelope(name)


def test_queue_run_converts_for_server_without_8bitmime(ob, aiosmtpd_factory, pki):
    """The queue runner sends the same 7-bit copy; the queued file itself stays as it was."""
    srv = aiosmtpd_factory(no_8bitmime=True)
    configure(ob, "aio", srv.port, "starttls", ca=pki.ca_cert)
    m = marker()
    p = send_bytes(ob, multipart(m), "--queue-only")
    assert p.returncode == 0, describe(p)
    spool = os.path.join(ob.home, "spool")
    [queued] = [f for f in os.listdir(spool) if len(f) == 32]
    with open(os.path.join(spool, queued), "rb") as f:
        held = f.read()
    assert BINARY in held and LATIN1 in held, "the queued file keeps its 8-bit parts as they were"
    assert max(len(line) for line in held.split(b"\r\n")) <= 998, "the queued file has no long line"
    r = ob.ok("queue", "run")
    assert "Sent 1" in r.out, r.describe()
    _, raw = srv.wait_message(m)
    assert_legal(raw, seven_bit=True)
    assert leaves(raw)[3] == ("application/octet-stream", "base64", BINARY), leaves(raw)[3]


def test_utf8_domain_goes_as_a_labels_without_smtputf8(ob, aiosmtpd_factory, pki):
    """A recipient at a UTF-8 domain reaches a server without SMTPUTF8 in its A-label form."""
    srv = aiosmtpd_factory()
    configure(ob, "aio", srv.port, "starttls", ca=pki.ca_cert)
    m = marker()
    r = ob.run("send", "-i", "rcpt@b\u00fccher.test", input=f"Subject: {m}\n\nhello\n")
    assert r.code == 0, r.describe()
    name, _ = srv.wait_message(m)
    env = srv.envelope(name)
    assert env["rcpt_tos"] == ["rcpt@xn--bcher-kva.test"], f"RCPT TO: got {env['rcpt_tos']}, want the A-label form"
    assert not env["smtp_utf8"], env


def test_utf8_domain_kept_with_smtputf8(ob, aiosmtpd_factory, pki):
    srv = aiosmtpd_factory(smtputf8=True)
    configure(ob, "aio", srv.port, "starttls", ca=pki.ca_cert)
    m = marker()
    r = ob.run("send", "-i", "rcpt@b\u00fccher.test", input=f"Subject: {m}\n\nhello\n")
    assert r.code == 0, r.describe()
    name, _ = srv.wait_message(m)
    env = srv.envelope(name)
    assert env["rcpt_tos"] == ["rcpt@b\u00fccher.test"] and env["smtp_utf8"], env


def test_utf8_local_part_without_smtputf8_refused(ob, aiosmtpd_factory, pki):
    srv = aiosmtpd_factory()
    configure(ob, "aio", srv.port, "starttls", ca=pki.ca_cert)
    r = ob.run("send", "-i", "--no-queue", "j\u00f6rg@example.test", input="Subject: x\n\nhello\n")
    assert r.code == 69, "want exit 69 (EX_UNAVAILABLE), got:\n" + r.describe()
    assert "local part is UTF-8" in r.err and "SMTPUTF8" in r.err, r.describe()
    assert srv.messages() == [], "nothing delivered"


UTF8_NAME = "J\u00f6rg"
UTF8_SUBJECT = "Gr\u00fc\u00dfe aus M\u00fcnchen \u2603"


def utf8_headers(m, to=f"{UTF8_NAME} <jorg@b\u00fccher.example>", body="hello, ascii body\r\n"):
    return (f"From: sender@example.test\r\nTo: {to}\r\nSubject: {UTF8_SUBJECT}\r\n"
            f"X-Marker: {m}\r\n\r\n{body}").encode()


@pytest.mark.parametrize("no_8bitmime", [False, True], ids=["8bitmime", "no-8bitmime"])
def test_utf8_headers_encoded_without_smtputf8(ob, aiosmtpd_factory, pki, no_8bitmime):
    """To a server without SMTPUTF8, a UTF-8 To domain goes as A-labels (in To and RCPT) and the
    display name and Subject as encoded words, which a mail reader decodes to what was written."""
    srv = aiosmtpd_factory(no_8bitmime=no_8bitmime)
    configure(ob, "aio", srv.port, "starttls", ca=pki.ca_cert)
    m = marker()
    p = subprocess.run([OUTBOX, "send", "-i", "-t"], input=utf8_headers(m, body=UTF8.decode()),
                       capture_output=True, env=ob.env, timeout=60)
    assert p.returncode == 0, describe(p)
    name, raw = srv.wait_message(m)
    env = srv.envelope(name)
    assert env["rcpt_tos"] == ["jorg@xn--bcher-kva.example"], f"RCPT TO: got {env['rcpt_tos']}, want A-labels"
    assert not env["smtp_utf8"], env
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert_legal(head, seven_bit=True)
    assert_legal(raw, seven_bit=no_8bitmime)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    [to] = msg["To"].addresses
    assert (to.display_name, to.addr_spec) == (UTF8_NAME, "jorg@xn--bcher-kva.example"), \
        f"To decoded: got {to.display_name!r} <{to.addr_spec}>, want {UTF8_NAME!r} <jorg@xn--bcher-kva.example>"
    assert msg["Subject"] == UTF8_SUBJECT, f"Subject decoded: got {msg['Subject']!r}, want {UTF8_SUBJECT!r}"
    assert text(msg.get_payload(decode=True)) == text(UTF8), "the body as it was written"
    assert f"\r\nX-Marker: {m}\r\n".encode() in raw, "an ASCII header byte for byte"


def test_utf8_local_part_in_header_without_smtputf8_refused(ob, aiosmtpd_factory, pki):
    """A UTF-8 local part in To: has no ASCII form: refused (69), nothing delivered or queued."""
    srv = aiosmtpd_factory()
    configure(ob, "aio", srv.port, "starttls", ca=pki.ca_cert)
    m = marker()
    p = subprocess.run([OUTBOX, "send", "-i", "rcpt@example.test"],
                       input=utf8_headers(m, to=f"{UTF8_NAME} <j\u00f6rg@b\u00fccher.example>"),
                       capture_output=True, env=ob.env, timeout=60)
    err = p.stderr.decode(errors="replace")
    assert p.returncode == 69, "want exit 69 (EX_UNAVAILABLE), got:\n" + describe(p)
    assert "local part" in err and "SMTPUTF8" in err, describe(p)
    assert srv.messages() == [], "nothing delivered"
    assert ob.ok("queue", "list", "--json").json() == [], "want nothing queued"


def test_utf8_headers_kept_with_smtputf8(ob, aiosmtpd_factory, pki):
    """A server with SMTPUTF8 gets the UTF-8 headers exactly as they were written."""
    srv = aiosmtpd_factory(smtputf8=True)
    configure(ob, "aio", srv.port, "starttls", ca=pki.ca_cert)
    m = marker()
    given = utf8_headers(m)
    p = subprocess.run([OUTBOX, "send", "-i", "-t"], input=given, capture_output=True, env=ob.env, timeout=60)
    assert p.returncode == 0, describe(p)
    name, raw = srv.wait_message(m)
    env = srv.envelope(name)
    assert env["rcpt_tos"] == ["jorg@b\u00fccher.example"] and env["smtp_utf8"], env
    head = given.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n")[1:3]:
        assert b"\r\n" + line + b"\r\n" in raw, f"got {raw[:300]!r}, want the header {line!r} as written"


def test_queue_run_encodes_utf8_headers_without_smtputf8(ob, aiosmtpd_factory, pki):
    """The queue runner makes the same copy; the queued file keeps its UTF-8 headers as written."""
    srv = aiosmtpd_factory()
    configure(ob, "aio", srv.port, "starttls", ca=pki.ca_cert)
    m = marker()
    given = utf8_headers(m)
    p = subprocess.run([OUTBOX, "send", "-i", "-t", "--queue-only"], input=given, capture_output=True,
                       env=ob.env, timeout=60)
    assert p.returncode == 0, describe(p)
    spool = os.path.join(ob.home, "spool")
    [queued] = [f for f in os.listdir(spool) if len(f) == 32]
    with open(os.path.join(spool, queued), "rb") as f:
        held = f.read()
    assert UTF8_SUBJECT.encode() in held, "the queued file keeps its Subject as written"
    r = ob.ok("queue", "run")
    assert "Sent 1" in r.out, r.describe()
    name, raw = srv.wait_message(m)
    assert srv.envelope(name)["rcpt_tos"] == ["jorg@xn--bcher-kva.example"], srv.envelope(name)
    assert_legal(raw, seven_bit=True)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"] == UTF8_SUBJECT, f"Subject decoded: got {msg['Subject']!r}, want {UTF8_SUBJECT!r}"
