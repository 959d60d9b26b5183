# tests/e2e/test_send_tls.py: certificates outbox must refuse, each with words that say which
# check failed, and the pin: matched it is enough, mismatched it is refused.
import pytest

from sendutil import configure
from servers.faultserver import FaultServer

UNAVAILABLE = 69
MESSAGE = "Subject: tls test\n\nhello\n"


def serve(pki, which):
    cert, key = pki.pairs()[which]
    srv = FaultServer(cert=cert, key=key, tls_mode="implicit", ehlo=["PIPELINING", "8BITMIME"])
    srv.start()
    return srv


@pytest.mark.parametrize("which,words", [
    ("selfsigned", "self-signed"),
    ("unknown_ca", "unknown certificate authority"),
    ("wrong_name", "wrong.example"),
    ("expired", "expired"),
])
def test_bad_certificates_are_refused(ob, pki, which, words):
    srv = serve(pki, which)
    try:
        configure(ob, "tls", srv.port, "tls", ca=pki.ca_cert)
        r = ob.run("send", "rcpt@example.test", input=MESSAGE)
        assert r.code == UNAVAILABLE, r.describe()
        assert words in r.err, r.describe()
        assert srv.messages == [], "nothing may be sent over an untrusted connection"
    finally:
        srv.stop()


def test_good_certificate_with_ca_file(ob, pki):
    srv = serve(pki, "good")
    try:
        configure(ob, "tls", srv.port, "tls", ca=pki.ca_cert)
        ob.ok("send", "rcpt@example.test", input=MESSAGE)
        assert len(srv.messages) == 1 and srv.messages[0].tls
    finally:
        srv.stop()


def test_pin_match_and_mismatch(ob, pki):
    srv = serve(pki, "selfsigned")
    try:
        from servers.pki import cert_sha256
        pin = cert_sha256(pki.selfsigned_cert)
        configure(ob, "tls", srv.port, "tls", "--no-tls-verify", "--tls-pin", pin)
        r = ob.ok("send", "rcpt@example.test", input=MESSAGE)
        assert "verification is off" in r.err, "the user is told on every send: " + r.describe()
        ob.ok("server", "edit", "tls", "--tls-pin", pki.server_sha256)
        r = ob.run("send", "rcpt@example.test", input=MESSAGE)
        assert r.code == UNAVAILABLE, r.describe()
        assert "pin mismatch" in r.err and pin in r.err, r.describe()
        assert len(srv.messages) == 1
    finally:
        srv.stop()


def test_plain_greeting_on_tls_port_is_explained(ob, pki):
    srv = FaultServer(tls_mode="none")
    srv.start()
    try:
        configure(ob, "tls", srv.port, "tls", ca=pki.ca_cert)
        r = ob.run("send", "rcpt@example.test", input=MESSAGE)
        assert r.code != 0, r.describe()
        assert "starttls" in r.err.lower(), r.describe()
    finally:
        srv.stop()
