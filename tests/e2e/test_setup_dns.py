# tests/e2e/test_setup_dns.py: setup's DNS lookups (setup_dns.c) against a real dnsmasq, through
# tests/tools/dnsq: SRV order and ".", MX hosts and their registered domains, addresses, NXDOMAIN
# against no record, a server that fails, and a name server that never answers.
import os
import socket
import subprocess

import pytest

from toolrun import JsonLines, run_tool, tool_path


class Lines(JsonLines):
    def report(self, what):
        got = [x for x in self.of("report") if x["what"] == what]
        assert len(got) == 1, f"want one report for {what!r}, got:\n" + self.describe()
        return got[0]


def dnsq(*args, timeout=30):
    return run_tool("dnsq", *args, timeout=timeout, lines=Lines)


def ok(*args):
    r = dnsq(*args)
    assert r.code == 0, "want exit 0, got:\n" + r.describe()
    return r


def candidates(r):
    return [(c["host"], c["port"], c["security"], c["rank"], c["origin"]) for c in r.of("candidate")]


def test_srv_targets_in_rfc2782_order_and_dot_means_not_offered(dnsmasq):
    ns = dnsmasq(srv=[
        ("_submissions._tcp.example.test", "backup.example.test", 465, 20, 0),
        ("_submissions._tcp.example.test", "light.example.test", 465, 10, 1),
        ("_submissions._tcp.example.test", "heavy.example.test", 4650, 10, 60),
        ("_submission._tcp.example.test", None, 0, 0, 0),
    ])
    r = ok("--resolver", ns.address, "srv", "example.test")
    origin = "_submissions._tcp.example.test"
    want = [("heavy.example.test", 4650, "tls", 0, origin),
            ("light.example.test", 465, "tls", 1, origin),
            ("backup.example.test", 465, "tls", 2, origin)]
    assert candidates(r) == want, f"got {candidates(r)}, want {want}\n" + r.describe()
    found = r.report("_submissions._tcp.example.test SRV")
    assert found["outcome"] == "found", r.describe()
    assert "heavy.example.test:4650 (priority 10, weight 60)" in found["detail"], r.describe()
    dot = r.report("_submission._tcp.example.test SRV")
    assert (dot["outcome"], dot["detail"]) == \
        ("not_offered", 'the target is ".": the service is not offered'), r.describe()


def test_srv_submission_is_starttls_and_ranks_after_submissions(dnsmasq):
    ns = dnsmasq(srv=[
        ("_submissions._tcp.both.test", "smtp.both.test", 465, 0, 0),
        ("_submission._tcp.both.test", "smtp.both.test", 587, 0, 0),
    ])
    r = ok("--resolver", ns.address, "srv", "both.test")
    want = [("smtp.both.test", 465, "tls", 0, "_submissions._tcp.both.test"),
            ("smtp.both.test", 587, "starttls", 1, "_submission._tcp.both.test")]
    assert candidates(r) == want, f"got {candidates(r)}, want {want}\n" + r.describe()
    assert all(c["source"] == "srv" for c in r.of("candidate")), r.describe()


def test_srv_nxdomain_and_no_record_are_both_not_offered_with_their_own_words(dnsmasq):
    # _submissions._tcp.nodata.test exists (it has a TXT record) but has no SRV record;
    # _submission._tcp.nodata.test does not exist at all.
    ns = dnsmasq(txt=[("_submissions._tcp.nodata.test", "not-srv")])
    r = ok("--resolver", ns.address, "srv", "nodata.test")
    nodata = r.report("_submissions._tcp.nodata.test SRV")
    nx = r.report("_submission._tcp.nodata.test SRV")
    assert (nodata["outcome"], nodata["detail"]) == ("not_offered", "no SRV record"), r.describe()
    assert (nx["outcome"], nx["detail"]) == ("not_offered", "no such name (NXDOMAIN)"), r.describe()
    assert r.of("candidate") == [], r.describe()


def test_srv_answer_too_long_for_udp_comes_over_tcp_and_is_capped(dnsmasq):
    # 40 records with long names do not fit 512 bytes: glibc asks again over TCP. outbox keeps 32.
    srv = [("_submissions._tcp.many.test", f"server-with-a-rather-long-name-{i:02d}.many.test",
            465, i, 0) for i in range(40)]
    ns = dnsmasq(srv=srv)
    r = ok("--resolver", ns.address, "srv", "many.test")
    hosts = [c["host"] for c in r.of("candidate")]
    want = [f"server-with-a-rather-long-name-{i:02d}.many.test" for i in range(32)]
    assert hosts == want, f"got {hosts}, want {want}\n" + r.describe()
    assert r.report("_submissions._tcp.many.test SRV")["detail"].startswith("the first 32 of 40: "), \
        r.describe()


def test_srv_international_domain_is_asked_in_ascii(dnsmasq):
    ns = dnsmasq(srv=[("_submissions._tcp.xn--bcher-kva.test", "mail.xn--bcher-kva.test", 465, 0, 0)])
    r = ok("--resolver", ns.address, "srv", "bücher.test")
    want = [("mail.xn--bcher-kva.test", 465, "tls", 0, "_submissions._tcp.xn--bcher-kva.test")]
    assert candidates(r) == want, f"got {candidates(r)}, want {want}\n" + r.describe()


def test_mx_hosts_by_preference_with_their_registered_domains(dnsmasq):
    ns = dnsmasq(mx=[
        ("custom.test", "mx1.mail.provider.co.uk", 20),
        ("custom.test", "aspmx.l.bigmail.test", 5),
        ("custom.test", "alt1.aspmx.l.bigmail.test", 10),
    ])
    r = ok("--resolver", ns.address, "mx", "custom.test")
    got = [(m["host"], m["preference"], m["registered"]) for m in r.of("mx")]
    want = [("aspmx.l.bigmail.test", 5, "bigmail.test"),
            ("alt1.aspmx.l.bigmail.test", 10, "bigmail.test"),
            ("mx1.mail.provider.co.uk", 20, "provider.co.uk")]
    assert got == want, f"got {got}, want {want}\n" + r.describe()
    domains = r.of("mx_domains")[0]["domains"]
    assert domains == ["bigmail.test", "provider.co.uk"], f"got {domains}\n" + r.describe()
    assert r.report("custom.test MX")["outcome"] == "found", r.describe()


def test_mx_of_a_name_without_mx_is_not_offered(dnsmasq):
    ns = dnsmasq(hosts=[("nomx.test", "127.0.0.1", None)])
    r = ok("--resolver", ns.address, "mx", "nomx.test")
    rep = r.report("nomx.test MX")
    assert (rep["outcome"], rep["detail"]) == ("not_offered", "no MX record"), r.describe()
    assert r.of("mx") == [], r.describe()


def test_addresses_of_a_host_both_families(dnsmasq):
    ns = dnsmasq(hosts=[("smtp.example.test", "127.0.0.1", "::1")])
    r = ok("--resolver", ns.address, "addr", "smtp.example.test")
    got = [(a["family"], a["address"]) for a in r.of("address")]
    assert got == [(6, "::1"), (4, "127.0.0.1")], f"got {got}\n" + r.describe()


def test_addresses_of_an_ip_literal_need_no_server():
    # Port 9 on loopback: no name server there, and none is asked.
    r = ok("--resolver", "127.0.0.1:9", "addr", "192.0.2.7")
    got = [(a["family"], a["address"]) for a in r.of("address")]
    assert got == [(4, "192.0.2.7")], f"got {got}\n" + r.describe()


def test_addresses_without_a_resolver_are_the_systems_own():
    # No --resolver: the host is looked up as for any connection, /etc/hosts included.
    r = ok("addr", "localhost")
    got = [a["address"] for a in r.of("address")]
    assert "127.0.0.1" in got, f"got {got}\n" + r.describe()


def test_a_bad_host_is_refused_naming_the_field():
    r = dnsq("addr", "bad host.test")
    assert r.code == 65, "want exit 65 (bad data), got:\n" + r.describe()
    assert r.err.startswith("dnsq: host: "), r.describe()


def test_addresses_nxdomain_and_no_address_fail_with_their_own_words(dnsmasq):
    ns = dnsmasq(txt=[("noaddr.example.test", "no-address-here")])
    nx = dnsq("--resolver", ns.address, "addr", "missing.example.test")
    assert nx.code == 69, "want exit 69 (unavailable), got:\n" + nx.describe()
    assert nx.err == (f"dnsq: cannot resolve missing.example.test: no such host (NXDOMAIN from "
                      f"{ns.address})\n"), nx.describe()
    none = dnsq("--resolver", ns.address, "addr", "noaddr.example.test")
    assert none.code == 69, "want exit 69 (unavailable), got:\n" + none.describe()
    assert none.err == (f"dnsq: cannot resolve noaddr.example.test: {ns.address} has no address "
                        f"for it\n"), none.describe()


def test_a_server_that_refuses_is_a_failure_not_a_missing_record(dnsmasq):
    # dnsmasq answers only for .test here; outside it, with no upstream, it says REFUSED.
    ns = dnsmasq(local=("test",))
    r = ok("--resolver", ns.address, "srv", "elsewhere.example")
    rep = r.report("_submissions._tcp.elsewhere.example SRV")
    assert rep["outcome"] == "failed", r.describe()
    assert rep["detail"] == f"{ns.address} could not answer (SERVFAIL or REFUSED)", r.describe()


def test_a_name_server_that_never_answers_is_given_up_at_the_deadline(silent_resolver):
    # glibc alone would wait 5 s per try, twice (10 s); the 8 s bound only catches that hang.
    r = dnsq("--resolver", silent_resolver, "--deadline-ms", "1000", "srv", "example.test", timeout=8)
    assert r.code == 0, r.describe()
    for what in ("_submissions._tcp.example.test SRV", "_submission._tcp.example.test SRV"):
        rep = r.report(what)
        assert (rep["outcome"], rep["detail"]) == \
            ("no_answer", f"no answer from {silent_resolver} in 1.0 s"), r.describe()


def test_addresses_from_a_silent_server_are_a_temporary_failure(silent_resolver):
    r = dnsq("--resolver", silent_resolver, "--deadline-ms", "1000", "addr", "smtp.example.test",
             timeout=8)
    assert r.code == 75, "want exit 75 (try again later), got:\n" + r.describe()
    assert r.err == (f"dnsq: cannot resolve smtp.example.test: no answer from {silent_resolver} "
                     f"in 1.0 s\n"), r.describe()


def test_nothing_listening_is_no_answer():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = ok("--resolver", f"127.0.0.1:{port}", "srv", "example.test")
    rep = r.report("_submissions._tcp.example.test SRV")
    assert (rep["outcome"], rep["detail"]) == \
        ("no_answer", f"nothing answers DNS at 127.0.0.1:{port} (connection refused)"), r.describe()


@pytest.mark.parametrize("spec, words", [
    ("localhost:53", "does not start with an IPv4 address"),
    ("[::1]:53", "does not start with an IPv4 address"),
    ("127.0.0.1", "is not an IPv4 address and a port"),
    ("127.0.0.1:0", "does not end with a port from 1 to 65535"),
    ("127.0.0.1:53x", "does not end with a port from 1 to 65535"),
])
def test_a_bad_resolver_is_refused_naming_the_field(spec, words):
    r = dnsq("--resolver", spec, "srv", "example.test")
    assert r.code == 65, "want exit 65 (bad data), got:\n" + r.describe()
    assert r.err.startswith("dnsq: resolver: ") and words in r.err, r.describe()
    assert r.out == "", r.describe()


def loaded_libraries(stderr):
    """The libraries the dynamic loader initialised, from LD_DEBUG=libs output."""
    return [line.split("calling init:", 1)[1].strip() for line in stderr.splitlines()
            if "calling init:" in line]


def test_setups_lookups_load_libresolv_and_libpsl(dnsmasq):
    # The check below can fail: the lookups do load both libraries, and LD_DEBUG shows it.
    ns = dnsmasq(mx=[("custom.test", "mx.provider.test", 10)])
    argv = [tool_path("dnsq"), "--resolver", ns.address, "mx", "custom.test"]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                       env={**os.environ, "LD_DEBUG": "libs"})
    libs = loaded_libraries(p.stderr)
    assert p.returncode == 0, p.stderr[-2000:]
    assert any("libresolv.so" in x for x in libs) and any("libpsl.so" in x for x in libs), libs


def test_a_plain_send_loads_neither_libresolv_nor_libpsl(ob, aiosmtpd_srv, pki):
    # Through "localhost", so the send resolves a name too: with getaddrinfo, which needs neither.
    srv = aiosmtpd_srv
    ob.ok("server", "add", "aio", "--host", "localhost", "--port", str(srv.port), "--security",
          "starttls", "--timeout", "10", "--tls-ca", pki.ca_cert, "--user", srv.user,
          "--password-stdin", input=srv.password)
    ob.ok("account", "add", "sender@example.test", "--server", "aio", "--name", "Test Sender")
    r = ob.run("send", "a@example.test", input="Subject: libraries\n\nx\n", env={"LD_DEBUG": "libs"})
    assert r.code == 0, r.describe()[-2000:]
    libs = loaded_libraries(r.err)
    assert libs, "want LD_DEBUG's list of libraries, got:\n" + r.err[-2000:]
    unwanted = [x for x in libs if "libresolv.so" in x or "libpsl.so" in x]
    assert unwanted == [], f"a plain send loaded {unwanted}"
