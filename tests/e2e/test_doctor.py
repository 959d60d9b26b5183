# tests/e2e/test_doctor.py: `outbox server check`, the connection doctor, against the real Postfix
# (TLS, Cyrus SASL) and the test PKI: every step passing, and each way a step fails with the
# server's own words, advice, and the failed step's exit code.
import pytest

from bounded import run_bounded
from sendutil import configure
from servers import netutil
from servers.faultserver import FaultServer

STEPS = ["resolve", "connect", "tls", "ehlo", "auth"]
KEYS = {"name", "status", "title", "detail", "advice", "elapsed_ms", "fix"}
TEMPFAIL, UNAVAILABLE, NOPERM = 75, 69, 77


def check(ob, name="pf", *extra):
    """Run the check as JSON and return (result, steps)."""
    r = ob.run("server", "check", name, "--json", *extra)
    return r, r.json()


def statuses(steps):
    return [(s["name"], s["status"]) for s in steps]


def test_starttls_with_plain_passes_every_step(ob, postfix, pki):
    configure(ob, "pf", postfix.submission_port, "starttls", "--auth", "plain", user=postfix.user,
              password=postfix.password, ca=pki.ca_cert)
    r, steps = check(ob)
    assert r.code == 0, r.describe()
    want = [(n, "ok") for n in STEPS]
    assert statuses(steps) == want, f"got {statuses(steps)}, want {want}"
    by = {s["name"]: s for s in steps}
    assert "127.0.0.1" in by["resolve"]["detail"], by["resolve"]
    assert "TLSv1" in by["tls"]["detail"] and "verified" in by["tls"]["detail"], by["tls"]
    for ext in ("PIPELINING", "AUTH ", "SIZE "):
        assert ext in by["ehlo"]["detail"], f"got {by['ehlo']['detail']!r}, want {ext!r} in it"
    assert "STARTTLS" not in by["ehlo"]["detail"], "the capabilities shown are those after TLS"
    assert by["auth"]["detail"] == "logged in with PLAIN", by["auth"]
    assert postfix.password not in r.out + r.err, "the password leaked"


def test_implicit_tls_passes_every_step(ob, postfix, pki):
    configure(ob, "pf", postfix.smtps_port, "tls", user=postfix.user, password=postfix.password,
              ca=pki.ca_cert)
    r, steps = check(ob)
    assert r.code == 0, r.describe()
    want = [(n, "ok") for n in STEPS]
    assert statuses(steps) == want, f"got {statuses(steps)}, want {want}"
    assert steps[4]["detail"] == "logged in with SCRAM-SHA-256", steps[4]


def test_human_output_and_verbose_transcript(ob, postfix, pki):
    configure(ob, "pf", postfix.submission_port, "starttls", user=postfix.user,
              password=postfix.password, ca=pki.ca_cert)
    r = ob.ok("server", "check", "pf", "--verbose")
    lines = [line for line in r.out.splitlines() if line.startswith("  ")]
    got = [line.split()[:2] for line in lines]
    want = [["ok", n] for n in STEPS]
    assert got == want, f"got {got}, want {want}\n" + r.describe()
    assert "\033[" not in r.out, "no colour when stdout is not a terminal"
    assert "ready to send mail" in r.out, r.describe()
    assert "C: STARTTLS" in r.err and "C: QUIT" in r.err, r.describe()
    assert "MAIL FROM" not in r.err and "RCPT" not in r.err, "the doctor sends no mail"
    assert postfix.password not in r.out + r.err, "the password leaked into the transcript"


def test_wrong_password_fails_at_auth_with_the_servers_words(ob, postfix, pki):
    configure(ob, "pf", postfix.submission_port, "starttls", user=postfix.user,
              password="not-" + postfix.password, ca=pki.ca_cert)
    r, steps = check(ob)
    assert r.code == NOPERM, r.describe()
    want = [(n, "ok") for n in STEPS[:4]] + [("auth", "failed")]
    assert statuses(steps) == want, f"got {statuses(steps)}, want {want}"
    auth = steps[4]
    assert auth["detail"].startswith("535 "), f"got {auth['detail']!r}, want the server's 535 reply"
    assert "--password-prompt" in auth["advice"] and "server edit pf" in auth["advice"], auth
    assert r.err.startswith("outbox: "), r.describe()
    assert postfix.password not in r.out + r.err

    text = ob.run("server", "check", "pf")
    assert text.code == NOPERM, text.describe()
    fail = [line for line in text.out.splitlines() if "FAIL" in line]
    assert len(fail) == 1 and fail[0].split()[:3] == ["FAIL", "auth", "535"], text.describe()
    assert "fix: check the user name" in text.out, text.describe()


def test_password_command_is_used_as_when_sending(ob, postfix, pki, tmp_path):
    secret_file = tmp_path / "pw"
    secret_file.write_text(postfix.password + "\n")
    configure(ob, "pf", postfix.submission_port, "starttls", ca=pki.ca_cert)
    ob.ok("server", "edit", "pf", "--user", postfix.user, "--password-command", f"cat {secret_file}")
    r, steps = check(ob)
    assert r.code == 0, r.describe()
    assert steps[4]["status"] == "ok", steps[4]


def test_unknown_certificate_authority_fails_at_tls(ob, postfix):
    # Without --tls-ca the system store is used, which does not know the test CA.
    configure(ob, "pf", postfix.submission_port, "starttls", user=postfix.user,
              password=postfix.password)
    r, steps = check(ob)
    assert r.code == UNAVAILABLE, r.describe()
    want = [("resolve", "ok"), ("connect", "ok"), ("tls", "failed")]
    assert statuses(steps) == want, f"got {statuses(steps)}, want {want}"
    tls = steps[2]
    # Postfix sends the CA with its certificate, so OpenSSL sees a chain ending in an untrusted root.
    assert "not a trusted authority" in tls["detail"], tls
    assert "--tls-ca FILE" in tls["advice"] and "--tls-pin " in tls["advice"], tls


def test_certificate_for_another_name_fails_at_tls(ob, pki):
    cert, key = pki.pairs()["wrong_name"]
    srv = FaultServer(cert=cert, key=key, tls_mode="implicit", ehlo=["PIPELINING", "AUTH PLAIN"])
    srv.start()
    try:
        configure(ob, "tls", srv.port, "tls", user="someone", password="secret-pw", ca=pki.ca_cert)
        r, steps = check(ob, "tls")
        assert r.code == UNAVAILABLE, r.describe()
        want = [("resolve", "ok"), ("connect", "ok"), ("tls", "failed")]
        assert statuses(steps) == want, f"got {statuses(steps)}, want {want}"
        tls = steps[2]
        assert tls["detail"] == "the certificate is for wrong.example, not 127.0.0.1", tls
        assert "valid for wrong.example" in tls["advice"] and "--tls-pin " in tls["advice"], tls
        assert all(c.auths == [] for c in srv.connections), "no credentials over an untrusted connection"
    finally:
        srv.stop()


def test_starttls_on_an_implicit_tls_port_is_recognised(ob, postfix, pki):
    # The server's own 60 s timeout stays: the check probes the port with a TLS handshake after
    # a short silence instead of waiting it out.
    configure(ob, "pf", postfix.smtps_port, "starttls", ca=pki.ca_cert)
    ob.ok("server", "edit", "pf", "--timeout", "60")
    r, _ = run_bounded(ob, ["server", "check", "pf", "--json"], 40,
                       "the check to see TLS on the port before the 60 s timeout")
    assert r.code == UNAVAILABLE, r.describe()
    steps = r.json()
    want = [("resolve", "ok"), ("connect", "ok"), ("tls", "failed")]
    assert statuses(steps) == want, f"got {statuses(steps)}, want {want}"
    assert "this port expects implicit TLS: --security tls" in steps[2]["detail"], steps[2]
    assert "outbox server edit pf --security tls" in steps[2]["advice"], steps[2]


def test_tls_on_a_starttls_port_is_recognised(ob, postfix, pki):
    configure(ob, "pf", postfix.submission_port, "tls", ca=pki.ca_cert)
    r, steps = check(ob)
    assert r.code == UNAVAILABLE, r.describe()
    want = [("resolve", "ok"), ("connect", "ok"), ("tls", "failed")]
    assert statuses(steps) == want, f"got {statuses(steps)}, want {want}"
    assert "did not answer in TLS" in steps[2]["detail"], steps[2]
    assert "--security starttls" in steps[2]["advice"], steps[2]


def test_refused_connection_fails_at_connect(ob):
    port = netutil.free_port()
    configure(ob, "pf", port, "starttls")
    r, steps = check(ob)
    assert r.code == TEMPFAIL, r.describe()
    want = [("resolve", "ok"), ("connect", "failed")]
    assert statuses(steps) == want, f"got {statuses(steps)}, want {want}"
    assert "refused" in steps[1]["detail"], steps[1]
    assert "587" in steps[1]["advice"] and "465" in steps[1]["advice"], steps[1]


def test_unresolvable_host_fails_at_resolve(ob):
    ob.ok("server", "add", "nx", "--host", "no-such-host.invalid")
    r, steps = check(ob, "nx")
    # A name that does not exist is 69; a resolver that cannot be reached says "later" (75).
    assert r.code in (UNAVAILABLE, TEMPFAIL), r.describe()
    want = [("resolve", "failed")]
    assert statuses(steps) == want, f"got {statuses(steps)}, want {want}"
    assert "no-such-host.invalid" in steps[0]["detail"], steps[0]
    if r.code == UNAVAILABLE:
        assert "check the host name" in steps[0]["advice"], steps[0]


def test_no_security_and_no_auth_skip_tls_and_auth(ob, postfix):
    configure(ob, "pf", postfix.plain_port, "none", "--auth", "none")
    r, steps = check(ob)
    assert r.code == 0, r.describe()
    want = [("resolve", "ok"), ("connect", "ok"), ("tls", "skipped"), ("ehlo", "ok"),
            ("auth", "skipped")]
    assert statuses(steps) == want, f"got {statuses(steps)}, want {want}"
    assert "--security none" in steps[2]["detail"], steps[2]
    assert "--auth none" in steps[4]["detail"], steps[4]


def test_json_shape(ob, postfix):
    configure(ob, "pf", postfix.plain_port, "none")
    r, steps = check(ob)
    assert r.code == 0, r.describe()
    assert isinstance(steps, list) and len(steps) == 5, steps
    for s in steps:
        assert set(s) == KEYS, f"got keys {sorted(s)}, want {sorted(KEYS)}"
        assert isinstance(s["elapsed_ms"], int) and s["elapsed_ms"] >= 0, s
        assert s["advice"] == "", f"got advice {s['advice']!r} for a step that did not fail"
        assert s["fix"] == [], f"got fix {s['fix']!r} for a step that did not fail"
        assert s["title"], s


def test_usage_and_help(ob):
    r = ob.ok("server", "check", "--help")
    assert r.out.startswith("Usage: outbox server check NAME"), r.describe()
    ob.fails(64, "server", "check")
    ob.fails(64, "server", "check", "a", "b")
    ob.fails(65, "server", "check", "nosuch")
    assert "check NAME" in ob.ok("server", "--help").out
