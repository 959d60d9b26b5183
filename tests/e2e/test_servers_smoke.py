# tests/e2e/test_servers_smoke.py: proves the real loopback servers of tests/servers work, using
# Python's smtplib and ssl (test CA, verification on) as the client, before outbox relies on them.
import base64
import hashlib
import hmac
import os
import secrets
import smtplib
import socket
import ssl
import subprocess

import pytest

from servers_fixtures import *  # noqa: F401,F403
from servers import netutil

FORBIDDEN_ON_AIOSMTPD = {"pipelining", "chunking", "dsn", "enhancedstatuscodes"}


def tls_context(pki):
    ctx = ssl.create_default_context(cafile=pki.ca_cert)
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    return ctx


def unique():
    return "smoke-" + secrets.token_hex(8)


def crlf_message(mid, subject, body_lines):
    head = (f"From: Smoke <smoke@example.test>\r\nTo: rcpt@example.test\r\n"
            f"Subject: {subject}\r\nMessage-ID: <{mid}@example.test>\r\n"
            f"Date: Sun, 01 Jan 2023 00:00:00 +0000\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n"
            f"Content-Transfer-Encoding: 8bit\r\n\r\n")
    return (head + "".join(line + "\r\n" for line in body_lines)).encode()


POSTFIX_TRACE = (b"return-path:", b"x-original-to:", b"delivered-to:", b"received:")


def strip_postfix_trace(raw):
    """Drop the trace headers Postfix puts on top (with their continuation lines)."""
    lines = raw.split(b"\n")
    i = 0
    while i < len(lines) and (lines[i].lower().startswith(POSTFIX_TRACE)
                              or lines[i][:1] in (b" ", b"\t")):
        i += 1
    return b"\n".join(lines[i:])


def ehlo_keywords(smtp):
    code, _ = smtp.ehlo()
    assert code == 250
    return smtp.esmtp_features


def scram_auth(smtp, mech, user, password):
    """Client side of RFC 5802 SCRAM over SMTP AUTH; returns (code, text) of the
    final reply and checks the server's signature when it sends one."""
    h = {"SCRAM-SHA-1": "sha1", "SCRAM-SHA-256": "sha256"}[mech]
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    cnonce = b64(os.urandom(18))
    first_bare = f"n={user},r={cnonce}"
    code, resp = smtp.docmd("AUTH", f"{mech} {b64(('n,,' + first_bare).encode())}")
    if code != 334:
        return code, resp
    server_first = base64.b64decode(resp).decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    assert attrs["r"].startswith(cnonce)
    salted = hashlib.pbkdf2_hmac(h, password.encode(), base64.b64decode(attrs["s"]),
                                 int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", h).digest()
    stored_key = hashlib.new(h, client_key).digest()
    without_proof = f"c=biws,r={attrs['r']}"
    auth_message = f"{first_bare},{server_first},{without_proof}".encode()
    signature = hmac.new(stored_key, auth_message, h).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, signature))
    code, resp = smtp.docmd(b64(f"{without_proof},p={b64(proof)}".encode()))
    if code == 334:  # server-final as a challenge, then an empty response
        server_final = base64.b64decode(resp).decode()
        server_key = hmac.new(salted, b"Server Key", h).digest()
        want = b64(hmac.new(server_key, auth_message, h).digest())
        assert server_final == f"v={want}", "server signature does not verify"
        code, resp = smtp.docmd("")
    return code, resp


# --- PKI ------------------------------------------------------------------------------

def test_pki(pki):
    out = subprocess.run(["openssl", "x509", "-in", pki.server_cert, "-noout",
                          "-fingerprint", "-sha256"], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().split("=", 1)[1].replace(":", "").lower() == pki.server_sha256

    def verify(cert):
        return subprocess.run(["openssl", "verify", "-CAfile", pki.ca_cert, cert],
                              capture_output=True, text=True)
    assert verify(pki.server_cert).returncode == 0
    assert verify(pki.client_cert).returncode == 0
    assert verify(pki.wrong_name_cert).returncode == 0  # trusted, but for wrong.example
    for bad, why in ((pki.selfsigned_cert, "self-signed"),
                     (pki.unknown_ca_server_cert, "unable to get local issuer"),
                     (pki.expired_cert, "expired")):
        r = verify(bad)
        assert r.returncode != 0 and why in r.stdout + r.stderr, (bad, r.stdout, r.stderr)
    # Every file the PKI names exists. The pins are not files (a base64 pin may well start
    # with "/", so the test must go by the name, not the value).
    for name, value in pki.as_dict().items():
        if name == "dir" or name.endswith(("_cert", "_key")):
            assert os.path.exists(value), f"{name}: {value} is missing"


# --- Postfix --------------------------------------------------------------------------

def test_postfix_started_fast(postfix):
    assert postfix.startup_seconds < 5, postfix.startup_seconds


def test_postfix_plain_delivers_byte_for_byte(postfix):
    mid = unique()
    body = ["caf\u00e9 \u2603 8-bit body", ".leading dot", "..two dots", ".", "x" * 998,
            "", "last"]
    data = crlf_message(mid, "plain " + mid, body)
    with smtplib.SMTP(netutil.LOOPBACK4, postfix.plain_port) as s:
        feats = ehlo_keywords(s)
        assert "starttls" not in feats and "auth" not in feats
        refused = s.sendmail("sender@example.test", ["rcpt@example.test"], data,
                             mail_options=["BODY=8BITMIME"])
        assert refused == {}
    raw = postfix.wait_message(mid)
    assert raw.startswith(b"Return-Path: <sender@example.test>\n")
    assert b"\nDelivered-To: rcpt@example.test\n" in raw
    # Postfix stores LF line ends; apart from its trace headers the bytes are ours.
    assert strip_postfix_trace(raw) == data.replace(b"\r\n", b"\n")


def test_postfix_accepts_any_domain_from_loopback(postfix):
    mid = unique()
    with smtplib.SMTP(netutil.LOOPBACK4, postfix.plain_port) as s:
        s.sendmail("a@example.test", ["someone@elsewhere.invalid", "b@example.test"],
                   crlf_message(mid, "any domain", ["x"]))
    msgs = [raw for _, raw in postfix.wait_messages(2) if mid.encode() in raw]
    assert len(msgs) == 2, "one Maildir file per recipient"
    assert any(b"Delivered-To: someone@elsewhere.invalid" in m for m in msgs)


@pytest.mark.skipif(not netutil.have_ipv6_loopback(), reason="no ::1")
def test_postfix_listens_on_ipv6_loopback(postfix):
    assert netutil.smtp_greeting(postfix.plain_port, "::1").startswith("220")


def test_postfix_submission_ehlo(postfix, pki):
    with smtplib.SMTP("localhost", postfix.submission_port) as s:
        feats = ehlo_keywords(s)
        for kw in ("starttls", "pipelining", "chunking", "8bitmime", "smtputf8", "dsn",
                   "enhancedstatuscodes", "auth"):
            assert kw in feats, (kw, feats)
        # AUTH offered in clear so tests can check the client refuses to use it.
        assert set(feats["auth"].split()) == {"PLAIN", "LOGIN", "CRAM-MD5",
                                              "SCRAM-SHA-1", "SCRAM-SHA-256"}
        s.starttls(context=tls_context(pki))
        feats = ehlo_keywords(s)
        assert "starttls" not in feats
        for mech in ("SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN", "LOGIN", "CRAM-MD5"):
            assert mech in feats["auth"].split()
        assert "pipelining" in feats and "chunking" in feats


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_postfix_starttls_auth(postfix, pki, mech):
    mid = unique()
    with smtplib.SMTP("localhost", postfix.submission_port) as s:
        s.starttls(context=tls_context(pki))
        s.ehlo()
        s.user, s.password = postfix.user, postfix.password
        code, _ = s.auth(mech, getattr(s, "auth_" + mech.lower().replace("-", "_")),
                         initial_response_ok=mech != "LOGIN")
        assert code == 235
        s.sendmail("sender@example.test", ["rcpt@example.test"],
                   crlf_message(mid, mech, ["auth " + mech]))
    raw = postfix.wait_message(mid)
    assert f"(Authenticated sender: {postfix.sasl_username})".encode() in raw
    assert b"(using TLSv1.3" in raw or b"(using TLSv1.2" in raw


@pytest.mark.parametrize("mech", ["SCRAM-SHA-1", "SCRAM-SHA-256"])
def test_postfix_scram(postfix, pki, mech):
    with smtplib.SMTP("localhost", postfix.submission_port) as s:
        s.starttls(context=tls_context(pki))
        s.ehlo()
        code, resp = scram_auth(s, mech, postfix.user, postfix.password)
        assert code == 235, resp
    with smtplib.SMTP("localhost", postfix.submission_port) as s:
        s.starttls(context=tls_context(pki))
        s.ehlo()
        code, resp = scram_auth(s, mech, postfix.user, "wrong-" + postfix.password)
        assert code == 535, resp


@pytest.mark.parametrize("port_attr", ["submission_port", "smtps_port"])
def test_postfix_wrong_password_is_535(postfix, pki, port_attr):
    port = getattr(postfix, port_attr)
    if port_attr == "smtps_port":
        s = smtplib.SMTP_SSL("localhost", port, context=tls_context(pki))
    else:
        s = smtplib.SMTP("localhost", port)
        s.starttls(context=tls_context(pki))
    with s:
        s.ehlo()
        with pytest.raises(smtplib.SMTPAuthenticationError) as e:
            s.login(postfix.user, "not-" + postfix.password)
        assert e.value.smtp_code == 535


def test_postfix_sees_client_certificate(postfix, pki):
    mid = unique()
    ctx = tls_context(pki)
    ctx.load_cert_chain(pki.client_cert, pki.client_key)
    with smtplib.SMTP_SSL("localhost", postfix.smtps_port, context=ctx) as s:
        s.login(postfix.user, postfix.password)
        s.sendmail("sender@example.test", ["rcpt@example.test"],
                   crlf_message(mid, "client cert", ["x"]))
    raw = postfix.wait_message(mid)
    assert b'(Client CN "outbox test client", Issuer "outbox test CA" (verified OK))' in raw


def test_postfix_submission_requires_auth(postfix, pki):
    with smtplib.SMTP("localhost", postfix.submission_port) as s:
        s.starttls(context=tls_context(pki))
        s.ehlo()
        s.mail("sender@example.test")
        code, _ = s.rcpt("rcpt@example.test")
        assert code >= 500


def test_postfix_implicit_tls_auth(postfix, pki):
    mid = unique()
    with smtplib.SMTP_SSL("localhost", postfix.smtps_port, context=tls_context(pki)) as s:
        feats = ehlo_keywords(s)
        assert "starttls" not in feats and "SCRAM-SHA-256" in feats["auth"].split()
        s.login(postfix.user, postfix.password)
        s.sendmail("sender@example.test", ["rcpt@example.test"],
                   crlf_message(mid, "implicit", ["implicit TLS"]))
    raw = postfix.wait_message(mid)
    assert f"(Authenticated sender: {postfix.sasl_username})".encode() in raw


def test_postfix_refuses_chosen_recipients(postfix):
    mid = unique()
    with smtplib.SMTP(netutil.LOOPBACK4, postfix.plain_port) as s:
        s.ehlo()
        assert s.mail("sender@example.test")[0] == 250
        code, text = s.rcpt("reject@example.test")
        assert (code, text[:5]) == (550, b"5.1.1"), text
        code, text = s.rcpt("later@example.test")
        assert (code, text[:5]) == (450, b"4.2.1"), text
        assert s.rcpt("reject+tag@example.test")[0] == 550
        assert s.rcpt("ok@example.test")[0] == 250
        assert s.data(crlf_message(mid, "partial", ["partial"]))[0] == 250
    raw = postfix.wait_message(mid)
    assert b"Delivered-To: ok@example.test" in raw
    assert postfix.wait_idle()
    assert len([m for _, m in postfix.messages() if mid.encode() in m]) == 1


def test_postfix_refuses_after_data_on_header(postfix):
    from servers.postfix import REJECT_DATA_HEADER
    with smtplib.SMTP(netutil.LOOPBACK4, postfix.plain_port) as s:
        s.ehlo()
        s.mail("sender@example.test")
        s.rcpt("rcpt@example.test")
        code, _ = s.data(f"{REJECT_DATA_HEADER}: yes\r\nSubject: x\r\n\r\nx\r\n".encode())
        assert code == 550


def test_postfix_log_is_readable(postfix):
    assert "daemon started" in postfix.log()


# --- aiosmtpd -------------------------------------------------------------------------

def test_aiosmtpd_capabilities(aiosmtpd_srv, pki):
    with smtplib.SMTP("localhost", aiosmtpd_srv.port) as s:
        feats = ehlo_keywords(s)
        assert "starttls" in feats and "auth" not in feats, feats
        assert not FORBIDDEN_ON_AIOSMTPD & set(feats), feats
        s.starttls(context=tls_context(pki))
        feats = ehlo_keywords(s)
        assert set(feats["auth"].split()) == {"PLAIN", "LOGIN"}
        assert not FORBIDDEN_ON_AIOSMTPD & set(feats), feats


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_aiosmtpd_starttls_auth_delivery(aiosmtpd_srv, pki, mech):
    mid = unique()
    data = crlf_message(mid, "aiosmtpd", [".dot", "caf\u00e9", "end"])
    with smtplib.SMTP("localhost", aiosmtpd_srv.port) as s:
        s.starttls(context=tls_context(pki))
        s.ehlo()
        s.user, s.password = aiosmtpd_srv.user, aiosmtpd_srv.password
        code, _ = s.auth(mech, getattr(s, "auth_" + mech.lower()),
                         initial_response_ok=mech != "LOGIN")
        assert code == 235
        s.sendmail("sender@example.test", ["a@example.test", "b@example.test"], data)
    name, raw = aiosmtpd_srv.wait_message(mid)
    assert raw == data, "stored exactly as sent (CRLF, dots unstuffed)"
    env = aiosmtpd_srv.envelope(name)
    assert env["mail_from"] == "sender@example.test"
    assert env["rcpt_tos"] == ["a@example.test", "b@example.test"]
    assert env["auth_login"] == aiosmtpd_srv.user and env["tls_version"]


def test_aiosmtpd_wrong_password_is_535(aiosmtpd_srv, pki):
    with smtplib.SMTP("localhost", aiosmtpd_srv.port) as s:
        s.starttls(context=tls_context(pki))
        s.ehlo()
        with pytest.raises(smtplib.SMTPAuthenticationError) as e:
            s.login(aiosmtpd_srv.user, "not-" + aiosmtpd_srv.password)
        assert e.value.smtp_code == 535


def test_aiosmtpd_refuses_auth_before_tls(aiosmtpd_srv):
    with smtplib.SMTP("localhost", aiosmtpd_srv.port) as s:
        s.ehlo()
        code, _ = s.docmd("AUTH", "PLAIN " + base64.b64encode(b"\0u\0p").decode())
        assert code == 538


def test_aiosmtpd_implicit_tls(aiosmtpd_factory, pki):
    srv = aiosmtpd_factory(implicit_tls=True)
    mid = unique()
    with smtplib.SMTP_SSL("localhost", srv.port, context=tls_context(pki)) as s:
        feats = ehlo_keywords(s)
        assert "starttls" not in feats and "PLAIN" in feats["auth"].split()
        assert not FORBIDDEN_ON_AIOSMTPD & set(feats)
        s.login(srv.user, srv.password)
        s.sendmail("s@example.test", ["r@example.test"], crlf_message(mid, "i", ["i"]))
    srv.wait_message(mid)


def test_aiosmtpd_with_bad_cert_fails_verification(aiosmtpd_factory, pki):
    srv = aiosmtpd_factory(cert=pki.expired_cert, key=pki.expired_key)
    with smtplib.SMTP("localhost", srv.port) as s:
        with pytest.raises(ssl.SSLCertVerificationError, match="expired"):
            s.starttls(context=tls_context(pki))


# --- smtp-sink ------------------------------------------------------------------------

def test_smtp_sink_answers(smtp_sink):
    sink = smtp_sink()
    with smtplib.SMTP(netutil.LOOPBACK4, sink.port) as s:
        feats = ehlo_keywords(s)
        assert "pipelining" in feats
        assert s.sendmail("a@example.test", ["b@example.test"], b"Subject: x\r\n\r\nx\r\n") == {}


def test_smtp_sink_options_pass_through(smtp_sink):
    sink = smtp_sink(["-r", "RCPT"])
    with smtplib.SMTP(netutil.LOOPBACK4, sink.port) as s:
        s.ehlo()
        s.mail("a@example.test")
        assert s.rcpt("b@example.test")[0] == 450


def test_smtp_sink_refusing_connect_uses_listen_probe(smtp_sink):
    sink = smtp_sink(["-Q", "CONNECT"])
    assert sink.probe == "listen"
    with socket.create_connection((netutil.LOOPBACK4, sink.port), timeout=5) as c:
        assert c.recv(100).startswith(b"421")
