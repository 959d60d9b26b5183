# tests/e2e/test_setup_autoconfig.py: the HTTPS sources of `outbox setup` (autoconfig host,
# .well-known, ISPDB, ISPDB by MX) against a real HTTPS server with this run's test CA.
"""Each test runs build/.../tests/tools/autoconfig_lookup, one lookup through liboutbox's
autoconfig_fetch, and reads its report and candidates (JSON lines). Host names are pinned to the server's
loopback address (as --resolver's answers will be), so the certificate is checked by name."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from servers.autoconfig_server import AutoconfigServer  # noqa: E402
from servers.pki import make_named_cert  # noqa: E402
from conftest import expect  # noqa: E402
from toolrun import JsonLines, run_tool  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "autoconfig")
NAMES = ["autoconfig.example.test", "example.test", "ispdb.test", "autoconfig.broken.test",
         "provider.test"]
AUTOCONFIG_PATH = "/mail/config-v1.1.xml"
WELL_KNOWN_PATH = "/.well-known/autoconfig/mail/config-v1.1.xml"

WELL_KNOWN_DOC = """<?xml version="1.0"?>
<clientConfig version="1.1"><emailProvider id="example.test">
  <domain>example.test</domain><displayName>Example (well-known)</displayName>
  <outgoingServer type="smtp"><hostname>wk.example.test</hostname><port>587</port>
    <socketType>STARTTLS</socketType><authentication>password-encrypted</authentication>
    <username>%EMAILLOCALPART%</username></outgoingServer>
</emailProvider></clientConfig>
"""


def sample(name):
    with open(os.path.join(DATA, name), "rb") as f:
        return f.read()


@pytest.fixture(scope="module")
def ac_server(pki, tmp_path_factory):
    """The provider's autoconfig host, its .well-known file and an ISPDB, on one HTTPS server
    whose certificate the test CA signed for all their names."""
    cert = make_named_cert(pki, "autoconfig-hosts", NAMES)
    srv = AutoconfigServer(str(tmp_path_factory.mktemp("autoconfig")), tls=cert)
    srv.put("autoconfig.example.test", AUTOCONFIG_PATH, sample("several.xml"))
    srv.put("example.test", WELL_KNOWN_PATH, WELL_KNOWN_DOC)
    srv.put("ispdb.test", "/v1.1/example.test", sample("several.xml"))
    srv.put("ispdb.test", "/v1.1/mail.test", sample("ispdb-google.xml"))
    srv.put("autoconfig.broken.test", AUTOCONFIG_PATH, "<html><body>Welcome!</body></html>")
    with srv:
        yield srv


@pytest.fixture
def server(ac_server):
    ac_server.reset()
    yield ac_server
    ac_server.reset()


class Lookup(JsonLines):
    """One lookup: its single report, and the candidates it found."""

    def __init__(self, argv, proc):
        super().__init__(argv, proc)
        self.report = self.one("report")
        self.candidates = self.of("candidate")


def lookup(source, address, *options, server=None, pki=None, pin=True, deadline_ms=10000):
    args = ["--deadline-ms", str(deadline_ms)]
    if pki is not None:
        args += ["--ca", pki.ca_cert]
    if pin and server is not None:
        for name in NAMES:
            args += ["--pin", f"{name}={server.address}"]
    args += [*options, source, address]
    return run_tool("autoconfig_lookup", *args, lines=Lookup)


def hosts(r):
    return [(c["host"], c["port"], c["security"], c["auth"], c["username"]) for c in r.candidates]


def test_no_request_once_the_deadline_passed(server, pki):
    r = lookup("autoconfig", "jane@example.test", server=server, pki=pki, deadline_ms=0)
    assert r.code == 0, r.describe()
    expect((r.report["outcome"], r.report["detail"], r.candidates),
           ("no_answer", "not asked: the deadline had passed", []),
           "report", r)
    expect(server.requests, [], "requests answered", r)


def test_autoconfig_host_offers_every_smtp_server(server, pki):
    r = lookup("autoconfig", "jane.doe@example.test", server=server, pki=pki)
    assert r.code == 0, r.describe()
    want_url = ("https://autoconfig.example.test/mail/config-v1.1.xml"
                "?emailaddress=jane.doe%40example.test")
    expect((r.report["outcome"], r.report["what"], r.report["detail"]),
           ("found", want_url, "3 SMTP servers (Example Mail & Co)"),
           "report", r)
    expect(hosts(r), [("smtp.example.test", 465, "tls", "auto", "jane.doe@example.test"),
                      ("submit.example.test", 587, "starttls", "auto", "jane.doe"),
                      ("relay.example.test", 25, "none", "none", "")],
           "candidates", r)
    expect({(c["source"], c["origin"]) for c in r.candidates}, {("autoconfig", want_url)},
           "origin and source of each", r)
    expect(server.requests,
           [("autoconfig.example.test", "/mail/config-v1.1.xml?emailaddress=jane.doe%40example.test",
             "application/xml, text/xml;q=0.9, */*;q=0.1")],
           "requests the server saw (Host, path, Accept)", r)


def test_well_known_file(server, pki):
    r = lookup("well-known", "jane@example.test", server=server, pki=pki)
    assert r.code == 0, r.describe()
    expect(r.report["outcome"], "found", "outcome", r)
    expect(r.report["what"], "https://example.test/.well-known/autoconfig/mail/config-v1.1.xml", "what", r)
    expect(hosts(r), [("wk.example.test", 587, "starttls", "auto", "jane")], "candidates", r)
    expect(r.candidates[0]["display_name"], "Example (well-known)", "display name", r)


def test_ispdb_entry_by_domain(server, pki):
    r = lookup("ispdb", "Jane@EXAMPLE.test", "--ispdb", "https://ispdb.test/v1.1", server=server,
               pki=pki)
    assert r.code == 0, r.describe()
    expect(r.report["outcome"], "found", "outcome", r)
    expect(r.report["what"], "https://ispdb.test/v1.1/example.test",
           "what (the domain in lower case, a slash added to the base)", r)
    expect(hosts(r)[0], ("smtp.example.test", 465, "tls", "auto", "Jane@EXAMPLE.test"), "first candidate", r)
    expect(r.candidates[0]["source"], "ispdb", "source", r)


def test_ispdb_entry_by_mx_domain_maps_oauth2(server, pki):
    # A custom domain whose MX is at mail.test: the ISPDB's mail.test entry, the user's address.
    r = lookup("mx", "ceo@custom.test", "--ispdb", "https://ispdb.test/v1.1/", "--domain",
               "mail.test", "--oauth", server=server, pki=pki)
    assert r.code == 0, r.describe()
    expect(r.report["outcome"], "found", "outcome", r)
    expect(r.report["what"], "https://ispdb.test/v1.1/mail.test", "what", r)
    expect(hosts(r), [("smtp.mail.test", 465, "tls", "xoauth2", "ceo@custom.test")], "candidates", r)
    expect(r.candidates[0]["oauth"], "google", "OAuth preset", r)
    expect(r.candidates[0]["source"], "mx", "source", r)


def test_missing_entries_are_not_offered(server, pki):
    r = lookup("ispdb", "joe@unknown.test", "--ispdb", "https://ispdb.test/v1.1/", server=server,
               pki=pki)
    assert r.code == 0, r.describe()
    expect((r.report["outcome"], r.report["detail"], r.candidates),
           ("not_offered", "HTTP 404: none here", []),
           "404", r)
    server.answer_status("/v1.1/example.test", 410)
    r = lookup("ispdb", "joe@example.test", "--ispdb", "https://ispdb.test/v1.1/", server=server,
               pki=pki)
    expect((r.report["outcome"], r.report["detail"], r.candidates),
           ("not_offered", "HTTP 410: none here", []),
           "410", r)


def test_document_for_other_domains_is_not_offered(server, pki):
    # An entry that lists example.test, example.net and other.test, asked about nomatch.test.
    server.put("ispdb.test", "/v1.1/nomatch.test", sample("several.xml"))
    r = lookup("ispdb", "joe@nomatch.test", "--ispdb", "https://ispdb.test/v1.1/", server=server,
               pki=pki)
    assert r.code == 0, r.describe()
    expect((r.report["outcome"], r.report["detail"], r.candidates),
           ("not_offered", "no SMTP server for nomatch.test in it", []),
           "report", r)


def test_pin_to_an_ipv6_address_on_the_urls_port(pki, tmp_path):
    cert = make_named_cert(pki, "ispdb-v6", ["ispdb.test"])
    with AutoconfigServer(str(tmp_path), tls=cert, address="::1", port=0) as v6:
        v6.put("ispdb.test", "/v1.1/example.test", sample("several.xml"))
        r = lookup("ispdb", "jane@example.test", "--ispdb", f"https://ispdb.test:{v6.port}/v1.1/",
                   "--pin", "ispdb.test=::1", "--ca", pki.ca_cert)
        assert r.code == 0, r.describe()
        expect((r.report["outcome"], len(r.candidates)), ("found", 3), "outcome", r)
        expect([(h, p) for h, p, _ in v6.requests], [("ispdb.test", "/v1.1/example.test")],
               "requests (Host, path)", r)


def test_slow_server_is_no_answer_after_the_deadline(server, pki):
    server.delay(AUTOCONFIG_PATH, 30)
    r = lookup("autoconfig", "jane@example.test", server=server, pki=pki, deadline_ms=1000)
    assert r.code == 0, r.describe()
    expect(r.report["outcome"], "no_answer", "outcome", r)
    assert r.report["detail"].startswith("no answer in "), r.describe()
    assert r.report["detail"].endswith(" s"), r.describe()
    expect(r.candidates, [], "candidates", r)


def test_broken_answers_fail_with_the_reason(server, pki):
    r = lookup("autoconfig", "jane@broken.test", server=server, pki=pki)
    expect((r.code, r.report["outcome"]), (0, "failed"), "an HTML page", r)
    expect(r.report["detail"], "not an autoconfig document: the root element is <html>, want <clientConfig>",
           "why", r)
    server.answer_status(AUTOCONFIG_PATH, 500)
    r = lookup("autoconfig", "jane@example.test", server=server, pki=pki)
    expect((r.report["outcome"], r.report["detail"]), ("failed", "HTTP 500: not an autoconfig document"),
           "HTTP 500", r)
    server.answer_status(AUTOCONFIG_PATH, 300)
    r = lookup("autoconfig", "jane@example.test", server=server, pki=pki)
    expect((r.report["outcome"], r.report["detail"]),
           ("failed", "HTTP 300: not a redirect to one document, not followed"),
           "a choice of documents", r)
    server.reset()
    server.truncate(AUTOCONFIG_PATH)
    r = lookup("autoconfig", "jane@example.test", server=server, pki=pki)
    expect((r.report["outcome"], r.candidates), ("no_answer", []), "an answer cut short: nothing taken", r)


def test_certificate_is_verified(server, pki):
    # The system's authorities do not know the test CA.
    r = lookup("autoconfig", "jane@example.test", server=server)
    expect((r.code, r.report["outcome"], r.candidates), (0, "failed", []), "untrusted CA", r)
    assert "the certificate of https://autoconfig.example.test/" in r.report["detail"], r.describe()
    assert "could not be verified" in r.report["detail"], r.describe()
    expect(server.requests, [], "requests answered", r)


def test_certificate_for_another_name_is_refused(pki, tmp_path):
    with AutoconfigServer(str(tmp_path), tls=(pki.wrong_name_cert, pki.wrong_name_key)) as other:
        other.put("autoconfig.example.test", AUTOCONFIG_PATH, sample("several.xml"))
        r = lookup("autoconfig", "jane@example.test", server=other, pki=pki)
        expect((r.code, r.report["outcome"], r.candidates), (0, "failed", []), "wrong name", r)
        assert "could not be verified" in r.report["detail"], r.describe()
        expect(other.requests, [], "requests answered", r)


def test_unresolved_host_is_no_answer(server, pki):
    # Not pinned, and the system resolver has no .test names.
    r = lookup("autoconfig", "jane@example.test", server=server, pki=pki, pin=False)
    expect((r.code, r.report["outcome"]), (0, "no_answer"), "outcome", r)
    assert "cannot reach https://autoconfig.example.test/" in r.report["detail"], r.describe()


def test_plain_http_ispdb_only_on_loopback(pki, tmp_path):
    with AutoconfigServer(str(tmp_path), address="127.0.0.1") as plain:
        plain.put("127.0.0.1", "/v1.1/example.test", sample("several.xml"))
        r = lookup("ispdb", "jane@example.test", "--ispdb", f"http://127.0.0.1:{plain.port}/v1.1/")
        assert r.code == 0, r.describe()
        expect(r.report["outcome"], "found", "outcome", r)
        expect([p for _, p, _ in plain.requests], ["/v1.1/example.test"], "requests", r)
    r = lookup("ispdb", "jane@example.test", "--ispdb", "http://ispdb.test/v1.1/")
    expect(r.code, 65, "plain http elsewhere: exit status (EX_DATAERR)", r)
    assert "ispdb: http://ispdb.test/v1.1/ is refused" in r.err, r.describe()
    expect(r.report["outcome"], "failed", "outcome", r)
    r = lookup("ispdb", "jane@example.test", "--ispdb", "https://ispdb.test/v1.1/?x=1")
    expect(r.code, 65, "a base with a query: exit status", r)
    assert "ispdb: https://ispdb.test/v1.1/?x=1 has a query" in r.err, r.describe()


def test_unusable_addresses_are_refused_before_asking(server, pki):
    for address, words in [("no-at-sign", "address: "), ("jane@[127.0.0.1]", "address: "),
                           ("jane@bad domain.test", "address: ")]:
        r = lookup("autoconfig", address, server=server, pki=pki)
        expect(r.code, 65, f"{address}: exit status", r)
        assert words in r.err, r.describe()
    expect(server.requests, [], "requests answered", r)


def test_unreadable_ca_file_stops_every_lookup(server, tmp_path):
    r = lookup("autoconfig", "jane@example.test", "--ca", str(tmp_path / "missing.pem"),
               server=server)
    expect(r.code, 78, "exit status (EX_CONFIG)", r)
    assert "cannot load the CA file" in r.err, r.describe()


# --- redirects (autoconfig_redirect.c) ---------------------------------------------------------

FIRST = "https://autoconfig.example.test/mail/config-v1.1.xml?emailaddress=jane%40example.test"


def asked(server):
    return [f"https://{host}{path}" for host, path, _ in server.requests]


@pytest.mark.parametrize("status, location, final", [
    (301, "https://provider.test/mail/jane.xml", "https://provider.test/mail/jane.xml"),
    (302, "/moved/config.xml", "https://autoconfig.example.test/moved/config.xml"),
    (303, "moved.xml?x=1", "https://autoconfig.example.test/mail/moved.xml?x=1"),
    (307, "../moved/./config.xml", "https://autoconfig.example.test/moved/config.xml"),
    (308, "//provider.test/mail/jane.xml", "https://provider.test/mail/jane.xml"),
])
def test_a_redirect_is_followed_and_named_in_the_report(server, pki, status, location, final):
    server.put("provider.test", "/mail/jane.xml", WELL_KNOWN_DOC)
    server.put("autoconfig.example.test", "/moved/config.xml", WELL_KNOWN_DOC)
    server.put("autoconfig.example.test", "/mail/moved.xml", WELL_KNOWN_DOC)
    server.redirect(AUTOCONFIG_PATH, location, status)
    r = lookup("autoconfig", "jane@example.test", server=server, pki=pki)
    assert r.code == 0, r.describe()
    expect((r.report["outcome"], r.report["what"], r.report["redirected_to"]), ("found", FIRST, final),
           "report", r)
    expect(hosts(r), [("wk.example.test", 587, "starttls", "auto", "jane")], "candidates", r)
    expect(r.candidates[0]["origin"], final, "the candidate's origin is where the document came from", r)
    expect(asked(server), [FIRST, final], "URLs asked", r)


def test_five_redirects_are_followed_and_a_sixth_is_refused(server, pki):
    server.put("provider.test", "/hop5", WELL_KNOWN_DOC)
    server.redirect(AUTOCONFIG_PATH, "https://provider.test/hop1")
    for i in range(1, 5):
        server.redirect(f"/hop{i}", f"/hop{i + 1}")
    r = lookup("autoconfig", "jane@example.test", server=server, pki=pki)
    expect((r.code, r.report["outcome"], r.report["redirected_to"]),
           (0, "found", "https://provider.test/hop5"),
           "five hops", r)

    server.reset()
    server.redirect(AUTOCONFIG_PATH, "https://provider.test/hop1")
    for i in range(1, 6):
        server.redirect(f"/hop{i}", f"/hop{i + 1}")
    r = lookup("autoconfig", "jane@example.test", server=server, pki=pki)
    expect((r.code, r.report["outcome"], r.candidates), (0, "failed", []), "six hops", r)
    expect(r.report["detail"], "HTTP 302 to https://provider.test/hop6: refused, more than 5 redirects",
           "why", r)
    expect(len(asked(server)), 6, "URLs asked: the sixth redirect's is not", r)


def test_a_redirect_loop_is_refused(server, pki):
    server.redirect(AUTOCONFIG_PATH, "/a", 301)
    server.redirect("/a", "https://provider.test/b", 307)
    server.redirect("/b", "https://autoconfig.example.test/a", 308)
    r = lookup("autoconfig", "jane@example.test", server=server, pki=pki)
    expect((r.code, r.report["outcome"], r.candidates), (0, "failed", []), "outcome", r)
    expect(r.report["detail"],
           "HTTP 308 to https://autoconfig.example.test/a, asked before: a redirect loop, refused",
           "why", r)
    expect(asked(server), [FIRST, "https://autoconfig.example.test/a", "https://provider.test/b"],
           "URLs asked", r)


@pytest.mark.parametrize("location", ["http://provider.test/mail/jane.xml", "http://127.0.0.1/config.xml"])
def test_a_redirect_from_https_to_plain_http_is_refused(server, pki, location):
    server.redirect(AUTOCONFIG_PATH, location)
    r = lookup("autoconfig", "jane@example.test", server=server, pki=pki)
    expect((r.code, r.report["outcome"], r.candidates), (0, "failed", []), "outcome", r)
    expect(r.report["detail"],
           f"HTTP 302 to {location}: refused, a redirect from https:// must stay on https://",
           "why", r)
    expect(asked(server), [FIRST], "URLs asked", r)


@pytest.mark.parametrize("location, words", [
    (None, "HTTP 302: a redirect without a Location"),
    (b"", "HTTP 302 with a Location that is no URL"),
    (b"/with space.xml", "HTTP 302 with a Location that is no URL"),
    (b"/ctl\x01.xml", "HTTP 302 with a Location that is no URL"),
    (b"/caf\xc3\xa9.xml", "HTTP 302 with a Location that is no URL"),
    (b"https://[bad/x", "HTTP 302 with a Location that is no URL"),
    (b"ftp://provider.test/x", "HTTP 302 to ftp://provider.test/x: refused, a redirect from https:// must"),
    (b"https://user@provider.test/x", "HTTP 302: https://user@provider.test/x carries a user name"),
    (b"https://provider.test/" + b"x" * 2100, "HTTP 302 with a Location that is no URL"),
])
def test_an_unusable_location_is_refused(server, pki, location, words):
    server.redirect(AUTOCONFIG_PATH, location)
    r = lookup("autoconfig", "jane@example.test", server=server, pki=pki)
    expect((r.code, r.report["outcome"], r.candidates), (0, "failed", []), "outcome", r)
    assert r.report["detail"].startswith(words), f"want {words!r}...\n" + r.describe()
    expect(asked(server), [FIRST], "URLs asked", r)


def test_a_redirect_is_asked_within_the_same_deadline(server, pki):
    server.redirect(AUTOCONFIG_PATH, "/slow.xml")
    server.put("autoconfig.example.test", "/slow.xml", WELL_KNOWN_DOC)
    server.delay("/slow.xml", 30)
    r = lookup("autoconfig", "jane@example.test", server=server, pki=pki, deadline_ms=1500)
    expect((r.code, r.report["outcome"], r.candidates), (0, "no_answer", []), "outcome", r)
    assert r.report["detail"].startswith("no answer in"), r.describe()
    expect(r.report["redirected_to"], "https://autoconfig.example.test/slow.xml", "redirected to", r)


def test_a_plain_loopback_ispdb_may_redirect_on_loopback_only(pki, tmp_path):
    with AutoconfigServer(str(tmp_path), address="127.0.0.1") as plain:
        base = f"http://127.0.0.1:{plain.port}"
        plain.put("127.0.0.1", "/v2/example.test", sample("several.xml"))
        plain.redirect("/v1.1/example.test", "/v2/example.test", 301)
        r = lookup("ispdb", "jane@example.test", "--ispdb", f"{base}/v1.1/")
        expect((r.code, r.report["outcome"], r.report["redirected_to"]),
               (0, "found", f"{base}/v2/example.test"),
               "outcome", r)
        plain.redirect("/v1.1/example.test", "http://ispdb.test/v1.1/example.test", 301)
        r = lookup("ispdb", "jane@example.test", "--ispdb", f"{base}/v1.1/")
        expect((r.code, r.report["outcome"]), (0, "failed"), "outcome", r)
        assert r.report["detail"].startswith("HTTP 301: http://ispdb.test/v1.1/example.test is refused: "
                                             "endpoints must be https://"), r.describe()
