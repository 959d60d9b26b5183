# tests/e2e/test_send_postfix.py: `outbox send` through a real Postfix with TLS and Cyrus SASL:
# every security mode, every mechanism, partial recipients, and the delivered bytes compared to
# what was sent.
import pytest

from sendutil import body_of, configure, headers_of, marker

MECHANISMS = ["plain", "login", "cram-md5", "scram-sha-1", "scram-sha-256", "auto"]


def send(ob, *args, input):
    return ob.run("send", *args, input=input)


def test_plain_port_without_tls(ob, postfix):
    configure(ob, "pf", postfix.plain_port, "none")
    m = marker()
    ob.ok("send", "rcpt@example.test", input=f"Subject: {m}\n\nplain body\n")
    raw = postfix.wait_message(m)
    assert body_of(raw) == b"plain body\n"


@pytest.mark.parametrize("mech", MECHANISMS)
def test_starttls_with_each_mechanism(ob, postfix, pki, mech):
    configure(ob, "pf", postfix.submission_port, "starttls", "--auth", mech, user=postfix.user,
              password=postfix.password, ca=pki.ca_cert)
    m = marker()
    r = ob.run("send", "-v", "rcpt@example.test", input=f"Subject: {m}\n\nvia {mech}\n")
    assert r.code == 0, r.describe()
    assert postfix.password not in r.out + r.err, "the password leaked into the transcript"
    want_mech = {"auto": "SCRAM-SHA-256"}.get(mech, mech.upper())
    assert f"C: AUTH {want_mech}" in r.err, r.describe()
    assert "C: STARTTLS" in r.err
    raw = postfix.wait_message(m)
    assert body_of(raw) == f"via {mech}\n".encode()


@pytest.mark.parametrize("mech", ["plain", "scram-sha-256", "auto"])
def test_implicit_tls(ob, postfix, pki, mech):
    configure(ob, "pf", postfix.smtps_port, "tls", "--auth", mech, user=postfix.user,
              password=postfix.password, ca=pki.ca_cert)
    m = marker()
    ob.ok("send", "rcpt@example.test", input=f"Subject: {m}\n\nimplicit\n")
    postfix.wait_message(m)


def test_wrong_password_is_77(ob, postfix, pki):
    configure(ob, "pf", postfix.submission_port, "starttls", user=postfix.user,
              password="not-" + postfix.password, ca=pki.ca_cert)
    r = send(ob, "rcpt@example.test", input="Subject: x\n\nx\n")
    assert r.code == 77, r.describe()
    assert "refused the login" in r.err and "535" in r.err, r.describe()


def test_password_command(ob, postfix, pki, tmp_path):
    secret_file = tmp_path / "pw"
    secret_file.write_text(postfix.password + "\n")
    configure(ob, "pf", postfix.submission_port, "starttls", ca=pki.ca_cert)
    ob.ok("server", "edit", "pf", "--user", postfix.user, "--password-command", f"cat {secret_file}")
    m = marker()
    ob.ok("send", "rcpt@example.test", input=f"Subject: {m}\n\nx\n")
    postfix.wait_message(m)


def test_partial_recipients_report_each(ob, postfix):
    configure(ob, "pf", postfix.plain_port, "none")
    m = marker()
    r = send(ob, "--no-queue", "ok@example.test", "reject@example.test", "later@example.test",
             input=f"Subject: {m}\n\npartial\n")
    assert r.code == 75, r.describe()
    assert "ok@example.test: delivered" in r.err, r.describe()
    assert "reject@example.test: refused: 550 5.1.1" in r.err, r.describe()
    assert "later@example.test: not delivered (temporary): 450 4.2.1" in r.err, r.describe()
    raw = postfix.wait_message(m)
    assert b"ok@example.test" in raw
    log = ob.ok("log", "--json").json()[0]
    assert log["outcome"] == "partial" and log["server"] == "pf", log


def test_refused_recipient_only_is_65(ob, postfix):
    configure(ob, "pf", postfix.plain_port, "none")
    r = send(ob, "reject@example.test", input="Subject: r\n\nr\n")
    assert r.code == 65, r.describe()
    assert "550 5.1.1" in r.err


# Bodies whose bytes on the wire must come out as written, line ends made CRLF on the wire
# (and LF in the Maildir), dots intact, nothing lost.
BODIES = [
    ("bare-lf", b"one\ntwo\n", b"one\ntwo\n"),
    ("bare-cr", b"one\rtwo\r", b"one\ntwo\n"),
    ("crlf", b"one\r\ntwo\r\n", b"one\ntwo\n"),
    ("dot-line", b"before\n.\nafter\n", b"before\n.\nafter\n"),
    ("leading-dots", b".one\n..two\n...\n", b".one\n..two\n...\n"),
    ("no-final-newline", b"last line", b"last line\n"),
    ("8bit", "caf\u00e9 \u2603\n".encode(), "caf\u00e9 \u2603\n".encode()),
    ("998-octets", b"x" * 998 + b"\n", b"x" * 998 + b"\n"),
]


@pytest.mark.parametrize("name,body,want", BODIES, ids=[b[0] for b in BODIES])
def test_body_bytes(ob, postfix, name, body, want):
    configure(ob, "pf", postfix.plain_port, "none")
    m = marker()
    data = f"Subject: {m}\n\n".encode() + body
    r = ob.run("send", "-i", "rcpt@example.test", input=data.decode("utf-8"))
    assert r.code == 0, r.describe()
    raw = postfix.wait_message(m)
    assert body_of(raw) == want, f"got {body_of(raw)!r}, want {want!r}"


@pytest.mark.parametrize("body,words", [
    ("a\0b\n", "NUL"),
])
def test_bodies_refused_before_connecting(ob, postfix, body, words):
    configure(ob, "pf", postfix.plain_port, "none")
    r = send(ob, "rcpt@example.test", input="Subject: bad\n\n" + body)
    assert r.code == 65, r.describe()
    assert words in r.err, r.describe()


def test_headers_added_and_bcc_removed(ob, postfix):
    configure(ob, "pf", postfix.plain_port, "none")
    m = marker()
    r = ob.run("send", "-t", input=f"To: to@example.test\nBcc: hidden@example.test\nSubject: {m}\n\nx\n")
    assert r.code == 0, r.describe()
    msgs = postfix.wait_messages(2)
    mine = [raw for _, raw in msgs if m.encode() in raw]
    assert len(mine) == 2, "one copy per recipient"
    assert all(headers_of(raw)["Bcc"] is None for raw in mine), "Bcc is removed"
    h = headers_of(mine[0])
    assert h["From"] == "Test Sender <sender@example.test>", h["From"]
    assert h["Date"] and h["Message-ID"], "Date and Message-ID are added"


def test_starttls_against_implicit_tls_port_is_a_setting_error(ob, postfix, pki):
    # Postfix's smtps port waits for a ClientHello and never greets: after the greeting wait
    # outbox must recognise TLS there and stop on the setting, not queue and retry for ever.
    configure(ob, "pf", postfix.smtps_port, "starttls", ca=pki.ca_cert)
    ob.ok("server", "edit", "pf", "--timeout", "2")
    r = send(ob, "rcpt@example.test", input="Subject: x\n\nx\n")
    assert r.code == 69, f"got exit {r.code}, want 69 (a setting error, not queued)\n" + r.describe()
    assert "this port expects implicit TLS: --security tls" in r.err, r.describe()
    queued = ob.ok("queue", "list", "--json").json()
    assert queued == [], f"got {queued} in the outbox, want nothing queued"


def test_tls_against_starttls_port_gives_advice(ob, postfix, pki):
    configure(ob, "pf", postfix.submission_port, "tls", ca=pki.ca_cert)
    r = send(ob, "rcpt@example.test", input="Subject: x\n\nx\n")
    assert r.code != 0, r.describe()
    assert "--security starttls" in r.err, r.describe()


def test_log_records_each_attempt(ob, postfix):
    configure(ob, "pf", postfix.plain_port, "none")
    assert ob.ok("log").out.strip() == "Nothing sent yet."
    m = marker()
    ob.ok("send", "ok@example.test", input=f"Subject: {m}\n\nfirst\n")
    ob.run("send", "reject@example.test", input="Subject: second\n\nsecond\n")
    got = ob.ok("log", "--json").json()
    assert [e["outcome"] for e in got] == ["refused", "delivered"], got
    first = got[1]
    assert (first["account"], first["server"], first["recipients"]) == \
        ("sender@example.test", "pf", ["ok@example.test"]), first
    assert first["reply"].startswith("250") and first["size"] > 0 and m not in first["message_id"]
    assert "550 5.1.1" in got[0]["reply"], got[0]
    text = ob.ok("log", "-n", "1").out.splitlines()
    assert len(text) == 2 and "refused" in text[1], text
