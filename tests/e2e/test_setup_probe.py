# tests/e2e/test_setup_probe.py: setup's probing, choosing and login check (setup_probe.c,
# setup_choose.c, setup_verify.c) against real servers on loopback (Postfix with Cyrus SASL,
# aiosmtpd, a socket that never greets), driven through tests/tools/setupprobe.
import socket
import subprocess

import pytest

from servers.faultserver import FaultServer, Silence
from conftest import expect
from toolrun import JsonLines, run_tool

UNAVAILABLE, NOPERM, USAGE, DATAERR = 69, 77, 64, 65


class Run(JsonLines):
    def probe(self, port):
        got = [p for p in self.of("probe") if p["port"] == port]
        assert len(got) == 1, f"want one probe of port {port}, got:\n" + self.describe()
        return got[0]

    def verdict(self, index):
        got = [v for v in self.of("verdict") if v["candidate"] == index]
        assert len(got) == 1, f"want one verdict for candidate {index}, got:\n" + self.describe()
        return got[0]

    def chosen(self):
        c = self.one("chosen")
        return None if c["candidate"] is None else (c["host"], c["port"], c["security"], c["auth"])


def setupprobe(*args, password=None, timeout=60):
    if password is None:
        return run_tool("setupprobe", *args, timeout=timeout, lines=Run)
    return run_tool("setupprobe", "--password-stdin", *args, input=password + "\n", timeout=timeout, lines=Run)


def test_implicit_tls_is_chosen_over_starttls_on_the_same_host(postfix, pki):
    r = setupprobe("--tls-ca", pki.ca_cert, "someone@localhost",
                   f"autoconfig:localhost:{postfix.submission_port}:starttls:0",
                   f"guess:localhost:{postfix.smtps_port}:tls:3")
    expect(r.code, 0, "exit status", r)
    expect(r.chosen(), ("localhost", postfix.smtps_port, "tls", "scram-sha-256"), "chosen", r)
    loser = r.verdict(0)
    expect(loser["usable"], True, "the STARTTLS candidate probed fine", r)
    assert "TLS from the first byte is preferred to STARTTLS" in loser["why"], r.describe()
    assert "chosen" in r.verdict(1)["why"], r.describe()
    for port in (postfix.submission_port, postfix.smtps_port):
        p = r.probe(port)
        expect(p["state"], "ok", f"probe of {port}", r)
        assert p["tls"].startswith("TLSv1"), r.describe()
        assert "PIPELINING" in p["extensions"] and "SIZE" in p["extensions"], r.describe()
        assert "STARTTLS" not in p["extensions"], "the capabilities are those after TLS\n" + r.describe()
        assert "SCRAM-SHA-256" in p["auth"].split(), r.describe()
        assert p["connect_ms"] >= 0 and p["tls_ms"] >= 0 and p["ehlo_ms"] >= 0, r.describe()


def test_source_order_decides_between_hosts_and_a_server_named_twice_is_probed_once(postfix, pki):
    # 127.0.0.1 is outside the address's domain: the ISPDB names it, so the password may go there.
    r = setupprobe("--tls-ca", pki.ca_cert, "someone@localhost",
                   f"guess:localhost:{postfix.smtps_port}:tls:0",
                   f"ispdb:127.0.0.1:{postfix.smtps_port}:tls:0",
                   f"guess:127.0.0.1:{postfix.smtps_port}:tls:1")
    expect(r.code, 0, "exit status", r)
    expect(r.chosen(), ("127.0.0.1", postfix.smtps_port, "tls", "scram-sha-256"), "ISPDB before guess", r)
    assert "ISPDB comes before guess" in r.verdict(0)["why"], r.describe()
    assert "the same server" in r.verdict(2)["why"], r.describe()
    expect(len(r.of("probe")), 2, "probes of two distinct servers", r)


def test_plain_text_is_never_chosen_nor_probed(postfix, pki):
    r = setupprobe("--tls-ca", pki.ca_cert, "someone@localhost",
                   f"autoconfig:localhost:{postfix.plain_port}:none:0")
    expect(r.code, UNAVAILABLE, "exit status", r)
    expect(r.chosen(), None, "chosen", r)
    expect(r.probe(postfix.plain_port)["state"], "skipped", "probe", r)
    assert "plain text: never chosen" in r.verdict(0)["why"], r.describe()

    r = setupprobe("--tls-ca", pki.ca_cert, "someone@localhost",
                   f"autoconfig:localhost:{postfix.plain_port}:none:0",
                   f"guess:localhost:{postfix.submission_port}:starttls:0")
    expect(r.chosen(), ("localhost", postfix.submission_port, "starttls", "scram-sha-256"), "chosen", r)


def test_starttls_candidate_whose_server_offers_no_starttls_fails(postfix, pki):
    r = setupprobe("--tls-ca", pki.ca_cert, "someone@localhost",
                   f"autoconfig:localhost:{postfix.plain_port}:starttls:0")
    expect(r.code, UNAVAILABLE, "exit status", r)
    p = r.probe(postfix.plain_port)
    expect((p["state"], p["step"]), ("failed", "tls"), "probe", r)
    assert "STARTTLS" in p["error"], r.describe()
    expect(r.chosen(), None, "chosen", r)


@pytest.mark.parametrize("pair, words", [
    ("wrong_name", "the certificate is for wrong.example"),
    ("selfsigned", "cannot trust the certificate of localhost"),
    ("expired", "cannot trust the certificate of localhost"),
])
def test_a_certificate_that_does_not_verify_is_refused_with_its_words(aiosmtpd_factory, pki, pair, words):
    cert, key = pki.pairs()[pair]
    srv = aiosmtpd_factory(cert=cert, key=key, implicit_tls=True)
    r = setupprobe("--tls-ca", pki.ca_cert, "someone@localhost", f"autoconfig:localhost:{srv.port}:tls:0",
                   password=srv.password)
    expect(r.code, UNAVAILABLE, "exit status", r)
    p = r.probe(srv.port)
    expect((p["state"], p["step"]), ("failed", "tls"), "probe", r)
    assert words in p["error"], f"got {p['error']!r}, want {words!r} in it\n" + r.describe()
    assert words in r.verdict(0)["why"], r.describe()
    expect(r.chosen(), None, "chosen", r)
    expect(r.of("login"), [], "no login was tried", r)


def test_a_port_that_never_greets_is_given_up_at_the_deadline(postfix, pki):
    # Connecting succeeds (the kernel's backlog), then nothing ever comes.
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port = silent.getsockname()[1]
    try:
        # Each wait of a probe is cut to the time left (2 s, rounded up); a probe ending on its own
        # would be "failed: no reply within 2 s". The caller stops waiting at 1.5 s: no answer.
        r = setupprobe("--deadline-ms", "1500", "--tls-ca", pki.ca_cert, "someone@localhost",
                       f"autoconfig:localhost:{port}:tls:0",
                       f"guess:localhost:{postfix.smtps_port}:tls:0")
    finally:
        silent.close()
    expect(r.code, 0, "exit status", r)
    p = r.probe(port)
    expect((p["state"], p["step"]), ("no_answer", "tls"), "the silent port's probe", r)
    assert p["error"].startswith(f"no answer from localhost port {port} within 1."), r.describe()
    expect(p["peer"], "127.0.0.1", "what it learnt before the deadline: the connection", r)
    assert p["connect_ms"] >= 0 and p["tls_ms"] == -1, r.describe()
    expect(r.chosen(), ("localhost", postfix.smtps_port, "tls", "scram-sha-256"), "chosen", r)


def test_a_server_that_never_answers_quit_has_still_answered_the_probe(pki):
    srv = FaultServer(cert=pki.server_cert, key=pki.server_key, tls_mode="implicit", script={"quit": Silence()})
    with srv:
        r = setupprobe("--deadline-ms", "1500", "--tls-ca", pki.ca_cert, "someone@localhost",
                       f"autoconfig:localhost:{srv.port}:tls:0")
    expect(r.code, 0, "exit status", r)
    expect(r.probe(srv.port)["state"], "ok", "probe", r)
    expect(r.chosen(), ("localhost", srv.port, "tls", "plain"), "chosen", r)


def test_the_auth_method_comes_from_what_the_server_offers(postfix, aiosmtpd_factory, pki):
    aio = aiosmtpd_factory(implicit_tls=True)
    r = setupprobe("--tls-ca", pki.ca_cert, "someone@localhost", f"autoconfig:localhost:{aio.port}:tls:0",
                   f"guess:localhost:{postfix.smtps_port}:tls:0")
    expect((r.verdict(0)["auth"], r.verdict(0)["mech"]), ("plain", "PLAIN"), "aiosmtpd (PLAIN LOGIN)", r)
    expect(r.verdict(1)["auth"], "scram-sha-256", "Postfix (SCRAM offered)", r)
    expect(r.chosen()[3], "plain", "the winner's method", r)

    # OAuth: only a server offering XOAUTH2 or OAUTHBEARER can be used.
    r = setupprobe("--oauth", "--tls-ca", pki.ca_cert, "someone@localhost",
                   f"autoconfig:localhost:{aio.port}:tls:0:auto::google")
    expect(r.chosen(), None, "an OAuth login on a server without XOAUTH2", r)
    assert "offers no OAuth login" in r.verdict(0)["why"], r.describe()
    oauth = FaultServer(cert=pki.server_cert, key=pki.server_key, tls_mode="implicit",
                        ehlo=["AUTH PLAIN XOAUTH2 OAUTHBEARER"])
    with oauth:
        r = setupprobe("--oauth", "--tls-ca", pki.ca_cert, "someone@localhost",
                       f"autoconfig:localhost:{oauth.port}:tls:0:xoauth2::google")
        expect(r.chosen(), ("localhost", oauth.port, "tls", "xoauth2"), "chosen", r)
        # Offering XOAUTH2 is not enough: the sign-in is saved as the provider's preset.
        r = setupprobe("--oauth", "--tls-ca", pki.ca_cert, "someone@localhost",
                       f"autoconfig:localhost:{oauth.port}:tls:0:xoauth2")
        expect(r.chosen(), None, "an OAuth login on a server no preset names", r)
        assert "names no OAuth provider outbox knows" in r.verdict(0)["why"], r.describe()
    assert all(c.auths == [] for c in oauth.connections), "an OAuth probe never logs in"


def test_a_right_password_is_verified_and_the_user_name_form_that_won_is_said(postfix, aiosmtpd_factory, pki):
    # aiosmtpd knows the local part only: the full address is refused first.
    aio = aiosmtpd_factory(implicit_tls=True, user="outbox-user")
    r = setupprobe("--tls-ca", pki.ca_cert, "outbox-user@localhost", f"guess:localhost:{aio.port}:tls:0",
                   password=aio.password)
    expect(r.code, 0, "exit status", r)
    login = r.one("login")
    expect((login["user"], login["form"], login["tried"]),
           ("outbox-user", "the local part", ["outbox-user@localhost", "outbox-user"]), "login", r)
    expect(login["mech"], "PLAIN", "mechanism", r)
    assert aio.password not in r.out + r.err, "the password leaked"

    # The full address, when the server knows it that way: one try.
    aio2 = aiosmtpd_factory(implicit_tls=True, user="me@localhost")
    r = setupprobe("--tls-ca", pki.ca_cert, "me@localhost", f"guess:localhost:{aio2.port}:tls:0",
                   password=aio2.password)
    login = r.one("login")
    expect((login["user"], login["form"], login["tried"]), ("me@localhost", "the full address", ["me@localhost"]),
           "login", r)

    # The source's own user name comes first; Postfix logs in with SCRAM.
    r = setupprobe("--tls-ca", pki.ca_cert, "someone@localhost",
                   f"autoconfig:localhost:{postfix.smtps_port}:tls:0:auto:{postfix.user}",
                   password=postfix.password)
    expect(r.code, 0, "exit status", r)
    login = r.one("login")
    expect((login["user"], login["form"], login["mech"]), (postfix.user, "the source's user name", "SCRAM-SHA-256"),
           "login", r)


def test_a_wrong_password_is_refused_with_the_servers_words_and_nothing_chosen(aiosmtpd_factory, pki):
    first = aiosmtpd_factory(implicit_tls=True, user="outbox-user")
    # The second takes this very password: had it been tried there, the login would have passed.
    second = aiosmtpd_factory(implicit_tls=True, user="outbox-user", password="wrong-but-right-elsewhere")
    r = setupprobe("--tls-ca", pki.ca_cert, "outbox-user@localhost", f"autoconfig:localhost:{first.port}:tls:0",
                   f"guess:localhost:{second.port}:tls:0", password="wrong-but-right-elsewhere")
    expect(r.code, NOPERM, "exit status", r)
    err = r.one("error")
    expect(err["field"], "password", "error field", r)
    assert "535" in err["message"], f"want the server's words, got {err['message']!r}"
    assert "(outbox-user@localhost, outbox-user)" in err["message"], err["message"]
    expect(r.chosen(), None, "chosen", r)
    login = r.one("login")
    expect((login["candidate"], login["tried"]), (-1, ["outbox-user@localhost", "outbox-user"]), "login", r)
    assert "the login failed" in r.verdict(0)["why"], r.describe()


def test_the_password_never_goes_to_a_host_outside_the_rule(pki):
    srv = FaultServer(cert=pki.server_cert, key=pki.server_key, tls_mode="implicit")
    with srv:
        # An SRV target outside example.test: plain DNS named it, so it gets no password.
        r = setupprobe("--tls-ca", pki.ca_cert, "alice@example.test", f"srv:localhost:{srv.port}:tls:0",
                       password="secret-pw")
        expect(r.code, UNAVAILABLE, "exit status", r)
        assert "the password may not go to localhost: it is not in example.test" in r.verdict(0)["why"], \
            r.describe()
        expect(r.of("login"), [], "no login was tried", r)
        expect([c.auths for c in srv.connections], [[]], "AUTH the server saw", r)

        # The provider's own autoconfig names the same host: then it may.
        r = setupprobe("--tls-ca", pki.ca_cert, "alice@example.test", f"autoconfig:localhost:{srv.port}:tls:0",
                       password="secret-pw")
        expect(r.code, 0, "exit status", r)
        expect(r.one("login")["user"], "alice@example.test", "login", r)
        seen = [a[:3] for c in srv.connections for a in c.auths]
        expect(seen, [("PLAIN", "alice@example.test", "secret-pw")], "AUTH the server saw", r)


def test_options_that_cannot_be_used_are_one_line_naming_the_field(tmp_path):
    r = setupprobe("--tls-ca", str(tmp_path / "missing.pem"), "a@localhost", "guess:localhost:465:tls:0")
    err = r.one("error")
    expect(err["field"], "tls-ca", "error field", r)
    assert "\n" not in err["message"] and err["message"].startswith("tls-ca: "), r.describe()
    expect(r.code, DATAERR, "exit status", r)


def named_cert(pki, tmp_path, name):
    """A server certificate for `name`, signed by the test CA during this run."""
    key, csr, crt, ext = (str(tmp_path / f"{name}.{x}") for x in ("key", "csr", "crt", "ext"))
    with open(ext, "w") as f:
        f.write(f"basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:{name}\n")
    for argv in (["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key],
                 ["req", "-new", "-key", key, "-subj", f"/CN={name}", "-out", csr],
                 ["x509", "-req", "-in", csr, "-CA", pki.ca_cert, "-CAkey", pki.ca_key, "-set_serial",
                  "0x5e7a9", "-days", "2", "-sha256", "-extfile", ext, "-out", crt]):
        subprocess.run(["openssl", *argv], check=True, capture_output=True, timeout=30)
    return crt, key


def test_with_a_resolver_the_host_is_looked_up_there_and_tls_checks_its_name(dnsmasq, aiosmtpd_factory, pki,
                                                                          tmp_path):
    cert, key = named_cert(pki, tmp_path, "smtp.example.test")
    srv = aiosmtpd_factory(cert=cert, key=key, implicit_tls=True, user="alice@example.test")
    ns = dnsmasq(hosts=[("smtp.example.test", "127.0.0.1", None)])
    candidate = f"guess:smtp.example.test:{srv.port}:tls:0"

    r = setupprobe("--resolver", ns.address, "--tls-ca", pki.ca_cert, "alice@example.test", candidate,
                   password=srv.password)
    expect(r.code, 0, "exit status", r)
    p = r.probe(srv.port)
    expect((p["state"], p["peer"]), ("ok", "127.0.0.1"), "probe through the resolver", r)
    expect(r.chosen(), ("smtp.example.test", srv.port, "tls", "plain"), "chosen", r)
    login = r.one("login")
    expect((login["user"], login["form"]), ("alice@example.test", "the full address"), "login", r)

    # Without it, the system's resolver knows no example.test: the probe fails at connecting.
    r = setupprobe("--tls-ca", pki.ca_cert, "alice@example.test", candidate)
    p = r.probe(srv.port)
    expect((p["state"], p["step"]), ("failed", "connect"), "probe without the resolver", r)
    assert "smtp.example.test" in p["error"], r.describe()
