# tests/e2e/test_setup_cli.py: `outbox setup ADDRESS` end to end: a real name server (dnsmasq) for
# made-up .test domains, a real HTTPS server for autoconfig and the ISPDB, real SMTP servers.
"""Each test builds a small world: dnsmasq answers for DOMAIN (and the ISPDB's host), one HTTPS
server on a 127.x address of its own serves the autoconfig files and the ISPDB for every name,
and aiosmtpd servers listen where the sources say. The command reaches all of it only through
--resolver, --tls-ca and --ispdb, as a site with its own infrastructure would."""
import os
import sys
import time

import pytest

from bounded import run_bounded
# silent_resolver is every test's fixture (servers_fixtures.py); named here for the tests that
# import it from this module.
from conftest import expect, silent_resolver  # noqa: F401

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from servers.aiosmtpd_server import Aiosmtpd  # noqa: E402
from servers.autoconfig_server import AutoconfigServer, random_loopback  # noqa: E402
from servers.pki import make_named_cert  # noqa: E402

UNAVAILABLE, NOPERM, USAGE, DATAERR = 69, 77, 64, 65
AUTOCONFIG_PATH = "/mail/config-v1.1.xml"
WELL_KNOWN_PATH = "/.well-known/autoconfig/mail/config-v1.1.xml"
ISPDB = "ispdb.test"
SOURCES = ["autoconfig", "well-known", "ISPDB", "SRV", "MX", "guess"]


def document(domain, host, port, name, socket_type="SSL"):
    """A clientConfig 1.1 file written for these tests: one SMTP server for `domain`."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="{domain}">
    <domain>{domain}</domain>
    <displayName>{name}</displayName>
    <outgoingServer type="smtp">
      <hostname>{host}</hostname>
      <port>{port}</port>
      <socketType>{socket_type}</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </outgoingServer>
  </emailProvider>
</clientConfig>
"""


class World:
    """dnsmasq, the HTTPS server and the SMTP servers of one test, on addresses of their own."""

    def __init__(self, pki, tmp_path, dnsmasq, domain):
        self.pki, self.tmp, self.dnsmasq_factory, self.domain = pki, tmp_path, dnsmasq, domain
        self.hosts, self.srv, self.mx, self.smtp = [], [], [], []
        self.web = None
        self.ns = None

    def https(self, files):
        """The autoconfig/ISPDB server, serving {(host, path): document}."""
        names = sorted({h for h, _ in files} | {f"autoconfig.{self.domain}", self.domain, ISPDB})
        cert = make_named_cert(self.pki, f"web-{self.domain}", names)
        self.web = AutoconfigServer(str(self.tmp / "web"), tls=cert)
        for (host, path), doc in files.items():
            self.web.put(host, path, doc)
        self.web.start()
        for n in names:
            self.hosts.append((n, self.web.address, None))

    def smtp_server(self, names, port=None, address=None, implicit_tls=True, **kw):
        """aiosmtpd with implicit TLS (or STARTTLS) for these names, on a 127.x address they resolve
        to; given `address`, beside a server already there (one host, two ports)."""
        shared = address is not None
        address = address or random_loopback(port or 0)
        cert, key = make_named_cert(self.pki, f"smtp-{names[0]}", names)
        srv = Aiosmtpd(cert, key, implicit_tls=implicit_tls, host=address, port=port,
                       user=kw.pop("user", f"alice@{self.domain}"), **kw)
        self.smtp.append(srv)
        srv.start()
        if not shared:
            for n in names:
                self.hosts.append((n, address, None))
        return srv

    def resolver(self):
        self.ns = self.dnsmasq_factory(srv=self.srv, mx=self.mx, hosts=self.hosts)
        return self.ns.address

    def options(self):
        return ["--resolver", self.resolver(), "--tls-ca", self.pki.ca_cert,
                "--ispdb", f"https://{ISPDB}/v1.1/", "--timeout", "5"]

    def stop(self):
        for s in self.smtp:
            s.stop()
        if self.web:
            self.web.stop()


@pytest.fixture
def world(pki, tmp_path, dnsmasq):
    made = []

    def make(domain):
        w = World(pki, tmp_path, dnsmasq, domain)
        made.append(w)
        return w
    yield make
    for w in made:
        w.stop()


def json_of(r):
    """What `outbox setup --json` printed, or the test fails saying what it printed instead."""
    try:
        return r.json()
    except ValueError:
        pytest.fail("--json printed no valid JSON:\n" + r.describe())


def setup_json(ob, *args, **kw):
    r = ob.run("setup", "--json", *args, **kw)
    return r, json_of(r)


def chosen(doc):
    return None if doc["chosen"] is None else doc["candidates"][doc["chosen"]]


def source_world(world, source):
    """A domain where only `source` names a server (the guess: smtp.DOMAIN on 465)."""
    d = f"{source.lower().replace('-', '')}.test"
    w = world(d)
    host = {"guess": f"smtp.{d}", "MX": "smtp.mailhost.test"}.get(source, f"{source.lower()}-smtp.{d}")
    srv = w.smtp_server([host], port=465 if source == "guess" else None)
    files = {}
    if source == "autoconfig":
        files[(f"autoconfig.{d}", AUTOCONFIG_PATH)] = document(d, host, srv.port, "Autoconfig Mail")
    elif source == "well-known":
        files[(d, WELL_KNOWN_PATH)] = document(d, host, srv.port, "Well-known Mail")
    elif source == "ISPDB":
        files[(ISPDB, f"/v1.1/{d}")] = document(d, host, srv.port, "ISPDB Mail")
    elif source == "SRV":
        w.srv.append((f"_submissions._tcp.{d}", host, srv.port, 0, 0))
    elif source == "MX":
        w.mx.append((d, "mx1.mailhost.test", 10))
        files[(ISPDB, "/v1.1/mailhost.test")] = document("mailhost.test", host, srv.port, "Mailhost")
    w.https(files)
    return w, host, srv


@pytest.mark.parametrize("source", SOURCES)
def test_each_source_is_found_and_chosen_when_it_is_the_only_one(ob, world, source):
    w, host, srv = source_world(world, source)
    ob.ok("server", "list")
    before = ob.fingerprint()
    r, doc = setup_json(ob, f"alice@{w.domain}", "--dry-run", *w.options())
    expect(r.code, 0, "exit status", r)
    got = {x["source"]: x["outcome"] for x in doc["sources"] if x["source"] != "SRV"}
    want = {s: ("found" if s in (source, "guess") else "not offered") for s in SOURCES if s != "SRV"}
    if source == "MX":
        want["MX"] = "found"  # the MX record, and the ISPDB's entry for its domain
    expect(got, want, "each source's outcome", r)
    c = chosen(doc)
    expect((c["host"], c["port"], c["security"], c["source"]), (host, srv.port, "tls", source), "chosen", r)
    assert "chosen" in c["why"], r.describe()
    expect(doc["would_save"]["server"]["host"], host, "the server that would be saved", r)
    expect(ob.fingerprint(), before, "--dry-run saves nothing", r)


def every_source_world(world):
    """Every source answers, each naming a host of its own (all on one server)."""
    d = "every.test"
    w = world(d)
    names = {s: f"{s.lower()}-smtp.{d}" for s in SOURCES if s not in ("MX", "guess")}
    names["MX"] = "smtp.mailhost.test"
    names["guess"] = f"smtp.{d}"
    srv = w.smtp_server(list(names.values()), port=465)
    w.srv.append((f"_submissions._tcp.{d}", names["SRV"], 465, 0, 0))
    w.mx.append((d, "mx1.mailhost.test", 10))
    w.https({(f"autoconfig.{d}", AUTOCONFIG_PATH): document(d, names["autoconfig"], 465, "Every Mail"),
             (d, WELL_KNOWN_PATH): document(d, names["well-known"], 465, "Every (well-known)"),
             (ISPDB, f"/v1.1/{d}"): document(d, names["ISPDB"], 465, "Every (ISPDB)"),
             (ISPDB, "/v1.1/mailhost.test"): document("mailhost.test", names["MX"], 465, "Mailhost")})
    return w, names, srv


def test_when_every_source_answers_they_are_preferred_in_the_issues_order(ob, world):
    w, names, srv = every_source_world(world)
    t0 = time.monotonic()
    r, doc = setup_json(ob, "alice@every.test", "--dry-run", *w.options())
    wall = time.monotonic() - t0
    print(f"\nsetup wall time, every source answering: {wall:.2f} s "
          f"(lookups {doc['lookups_ms']} ms, probes {doc['probes_ms']} ms)")
    expect(r.code, 0, "exit status", r)
    usable = [(c["source"], c["host"]) for c in doc["candidates"] if c["usable"]]
    expect(usable[:6], [(s, names[s]) for s in SOURCES], "usable candidates by preference", r)
    expect(chosen(doc)["host"], names["autoconfig"], "the provider's own autoconfig wins", r)
    for c in doc["candidates"][1:]:
        if c["usable"]:
            assert "chosen" not in c["why"] and c["why"], r.describe()

    # The text output names each source with its result and marks the winner.
    r = ob.run("setup", "alice@every.test", "--dry-run", *w.options())
    print("\n$ outbox setup alice@every.test --dry-run ...\n" + r.out)
    expect(r.code, 0, "exit status", r)
    for s in SOURCES:
        assert f"  {s}" in r.out, f"want source {s} listed\n" + r.describe()
    assert f"* {names['autoconfig']} port 465 tls, from autoconfig" in r.out, r.describe()
    assert "Nothing saved (--dry-run)." in r.out, r.describe()


def autoconfig_world(world):
    d = "login.test"
    w = world(d)
    srv = w.smtp_server([f"smtp.{d}"])
    w.https({(f"autoconfig.{d}", AUTOCONFIG_PATH): document(d, f"smtp.{d}", srv.port, "Login Mail")})
    return w, srv


def lists(ob):
    """What `server list` and `account list` print: what a user sees of the store."""
    return ob.ok("server", "list").out, ob.ok("account", "list").out


def store_files(ob):
    """Every file in the store's directory but the database's own (the passwords' files)."""
    return sorted(os.path.relpath(os.path.join(d, f), ob.home) for d, _, fs in os.walk(ob.home) for f in fs
                  if not f.startswith("outbox.db"))


def test_a_right_password_saves_the_server_and_account_which_can_be_removed_and_undone(ob, world):
    w, srv = autoconfig_world(world)
    r, doc = setup_json(ob, "alice@login.test", "--name", "Alice Example", "--password-stdin", *w.options(),
                        input=srv.password + "\n")
    expect(r.code, 0, "exit status", r)
    expect((doc["login"]["checked"], doc["login"]["user"]), (True, "alice@login.test"), "login", r)
    expect(doc["saved"]["server"]["name"], "login.test", "server name", r)
    assert srv.password not in r.out + r.err, "the password is never printed\n" + r.describe()

    s = ob.ok("server", "show", "login.test", "--json").json()
    got = (s["host"], s["port"], s["security"], s["auth"], s["user"], s["description"], s["password"], s["tls_ca"])
    want = ("smtp.login.test", srv.port, "tls", "plain", "alice@login.test", "Login Mail", "file", w.pki.ca_cert)
    assert got == want, f"server show: got {got!r}, want {want!r}"
    a = ob.ok("account", "show", "alice@login.test", "--json").json()
    expect((a["server"], a["name"]), ("login.test", "Alice Example"), "account show", r)

    # A second run is refused, the account existing: nothing saved, not even a password file.
    before, files = ob.fingerprint(), store_files(ob)
    assert files, "the first run's password is kept in a file of the store"
    r = ob.run("setup", "alice@login.test", "--password-stdin", *w.options(), input=srv.password + "\n")
    expect(r.code, DATAERR, "exit status of a second run", r)
    assert "an account for alice@login.test already exists" in r.err, r.describe()
    expect(ob.fingerprint(), before, "store after a refused save", r)
    expect(store_files(ob), files, "files in the store after a refused save", r)

    # Taken back like any addition, and the removals undone.
    ob.ok("account", "remove", "alice@login.test")
    ob.ok("server", "remove", "login.test")
    ob.ok("undo")
    ob.ok("server", "show", "login.test")
    ob.ok("undo")
    a = ob.ok("account", "show", "alice@login.test", "--json").json()
    expect(a["server"], "login.test", "the account restored with its server", r)


def test_a_wrong_password_exits_77_and_saves_nothing(ob, world):
    w, srv = autoconfig_world(world)
    before_lists = lists(ob)
    before = ob.fingerprint()
    r, doc = setup_json(ob, "alice@login.test", "--password-stdin", *w.options(), input="not-the-password\n")
    expect(r.code, NOPERM, "exit status", r)
    expect(doc["chosen"], None, "nothing chosen after the refusal", r)
    assert doc["login"]["checked"] and doc["login"]["user"] == "", r.describe()
    assert "saved" not in doc and "would_save" not in doc, r.describe()
    assert r.err.startswith("outbox: ") and "nothing saved" in r.err, r.describe()
    expect(ob.fingerprint(), before, "store", r)
    expect(lists(ob), before_lists, "server list and account list", r)


def test_a_domain_where_nothing_answers_fails_at_the_deadline_saying_what_was_tried(ob, pki, silent_resolver):
    ob.ok("server", "list")
    before = ob.fingerprint()
    timeout = 2
    # Lookups and probes share the one deadline, so the run ends about `timeout` s after it
    # starts; 2.5 times that leaves room for a loaded machine but not for a second wait.
    bound = 2.5 * timeout
    r, wall = run_bounded(ob, ["setup", "--json", "bob@silent.test", "--resolver", silent_resolver,
                               "--tls-ca", pki.ca_cert, "--ispdb", f"https://{ISPDB}/v1.1/",
                               "--timeout", str(timeout)], 60, f"a failure within --timeout {timeout}")
    doc = json_of(r)
    print(f"\nsetup wall time, nothing answering (--timeout {timeout}): {wall:.2f} s "
          f"(lookups {doc['lookups_ms']} ms, probes {doc['probes_ms']} ms)")
    assert wall < bound, (f"wall time with --timeout {timeout}: got {wall:.2f} s, want under {bound} s "
                          "(it fails within the deadline)\n" + r.describe())
    expect(r.code, UNAVAILABLE, "exit status", r)
    got = [(x["source"], x["outcome"]) for x in doc["sources"]]
    want = [("autoconfig", "no answer"), ("well-known", "no answer"), ("ISPDB", "no answer"),
            ("SRV", "no answer"), ("SRV", "no answer"), ("MX", "no answer"), ("guess", "found")]
    expect(got, want, "what each source did", r)
    # The probe layer's deadline or the DNS wait inside it, whichever ends first, says so.
    for c in doc["candidates"]:
        assert c["probe"] in ("no answer", "failed") and "no answer from" in c["probe_error"], r.describe()
    expect(len(doc["candidates"]), 6, "guesses probed", r)
    assert "no usable server found for silent.test" in r.err, r.describe()
    expect(ob.fingerprint(), before, "nothing saved", r)

    r = ob.run("setup", "bob@silent.test", "--resolver", silent_resolver, "--timeout", "1")
    expect(r.code, UNAVAILABLE, "exit status", r)
    assert "no answer" in r.out and "smtp.silent.test port 465 tls, from guess" in r.out, r.describe()


@pytest.mark.parametrize("args, code, words", [
    (["bob"], DATAERR, "address: \"bob\" has no \"@domain\""),
    (["bob@x.test", "--resolver", "nowhere"], DATAERR, "resolver:"),
    (["bob@x.test", "--ispdb", "http://ispdb.example/"], DATAERR, "ispdb"),
    (["bob@x.test", "--tls-ca", "/nonexistent/ca.pem"], DATAERR, "tls-ca:"),
    (["bob@x.test", "--timeout", "0"], USAGE, "timeout:"),
    (["bob@x.test", "--resolver"], USAGE, "--resolver needs a value"),
    (["bob@x.test", "--oauth-client-id", ""], USAGE, "oauth-client-id: is empty"),
    (["bob@x.test", "--name", "A\x01B", "--password-stdin"], DATAERR, "name:"),
    (["bob", "--password-prompt"], DATAERR, "address:"),
    (["bob@x.test", "--password-stdin", "--oauth-client-id", "x"], USAGE, "choose one of"),
    ([], USAGE, "setup needs an address"),
])
def test_bad_input_is_one_line_naming_the_field_and_nothing_is_asked(ob, args, code, words):
    ob.ok("server", "list")
    before = ob.fingerprint()
    r = ob.run("setup", *args)
    expect(r.code, code, "exit status", r)
    assert r.err.startswith("outbox: ") and words in r.err.splitlines()[0], r.describe()
    expect(r.out, "", "nothing printed on stdout", r)
    expect(ob.fingerprint(), before, "store", r)


def oauth_document(domain, host, port, issuer=True):
    """An autoconfig file whose SMTP server wants OAuth2, its oAuth2 element Google's (none without
    `issuer`: then no OAuth provider outbox knows is named)."""
    element = """
  <oAuth2>
    <issuer>accounts.google.com</issuer>
    <scope>https://mail.google.com/</scope>
    <authURL>https://accounts.google.com/o/oauth2/auth</authURL>
    <tokenURL>https://www.googleapis.com/oauth2/v3/token</tokenURL>
  </oAuth2>""" if issuer else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="{domain}">
    <domain>{domain}</domain>
    <displayName>OAuth Mail</displayName>
    <outgoingServer type="smtp">
      <hostname>{host}</hostname>
      <port>{port}</port>
      <socketType>SSL</socketType>
      <authentication>OAuth2</authentication>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </outgoingServer>
  </emailProvider>{element}
</clientConfig>
"""


def test_an_oauth_client_id_saves_the_providers_preset_and_no_password(ob, world, oauth_provider, pki):
    from servers.oauth_smtp import OAuthSmtp
    d = "oauth.test"
    w = world(d)
    cert, key = make_named_cert(pki, "smtp-oauth", [f"smtp.{d}"])
    with OAuthSmtp(oauth_provider, cert, key, implicit_tls=True) as srv:
        w.hosts.append((f"smtp.{d}", srv.host, None))
        w.https({(f"autoconfig.{d}", AUTOCONFIG_PATH): oauth_document(d, f"smtp.{d}", srv.port)})
        r, doc = setup_json(ob, f"alice@{d}", "--oauth-client-id", "my-client-id", *w.options())
        expect(r.code, 0, "exit status", r)
        c = chosen(doc)
        expect((c["host"], c["auth"]), (f"smtp.{d}", "xoauth2"), "chosen", r)
        expect(doc["login"]["checked"], False, "no login checked before the sign-in", r)
        s = ob.ok("server", "show", d, "--json").json()
        got = (s["host"], s["port"], s["auth"], s["oauth"], s["oauth_client_id"], s["user"], s["password"])
        want = (f"smtp.{d}", srv.port, "xoauth2", "google", "my-client-id", f"alice@{d}", "none")
        assert got == want, f"server show: got {got!r}, want {want!r}\n" + r.describe()


def test_setup_is_in_the_help_and_has_its_own(ob):
    r = ob.ok("help")
    assert "  setup " in r.out, r.describe()
    r = ob.ok("setup", "--help")
    for option in ("--name", "--password-stdin", "--password-command", "--oauth-client-id", "--dry-run",
                   "--json", "--ispdb", "--resolver", "--tls-ca", "--timeout"):
        assert option in r.out, f"want {option} in the help\n" + r.describe()


def test_a_password_command_is_run_for_the_check_and_only_the_command_is_stored(ob, world, tmp_path):
    w, srv = autoconfig_world(world)
    secret = tmp_path / "secret"
    secret.write_text(srv.password + "\n")
    command = f"cat {secret}"
    r, doc = setup_json(ob, "alice@login.test", "--password-command", command, *w.options())
    expect(r.code, 0, "exit status", r)
    expect((doc["login"]["checked"], doc["login"]["user"]), (True, "alice@login.test"), "login", r)
    s = ob.ok("server", "show", "login.test", "--json").json()
    expect((s["password_command"], s["password"]), (command, "command"), "what is stored", r)
    expect(store_files(ob), [], "no password file", r)

    secret.write_text("not-the-password\n")
    ob.ok("account", "remove", "alice@login.test")  # else the address is refused before the login
    r = ob.run("setup", "alice@login.test", "--password-command", command, *w.options())
    expect(r.code, NOPERM, "exit status with a command giving a wrong password", r)


def test_an_address_with_an_account_is_refused_before_any_lookup_naming_the_ways_on(ob, world):
    w, srv = autoconfig_world(world)
    ob.ok("setup", "alice@login.test", "--password-stdin", *w.options(), input=srv.password + "\n")
    before = ob.fingerprint()
    for address, extra in (("alice@login.test", ["--dry-run"]), ("alice@login.test", []),
                           ("Alice@login.test", ["--dry-run"])):
        r = ob.run("setup", address, "--password-stdin", *extra, *w.options(), input=srv.password + "\n")
        expect(r.code, DATAERR, f"exit status for {address} {extra}", r)
        expect(r.out, "", "standard output: no source was asked, no server probed", r)
        lines = r.err.strip().splitlines()
        expect(len(lines), 1, "lines on stderr", r)
        for words in ("alice@login.test", "outbox account remove", "outbox server edit login.test --auto"):
            assert words in lines[0], f"want {words!r} in the refusal\n" + r.describe()
    expect(ob.fingerprint(), before, "the store", r)


def test_dry_run_refuses_what_the_save_would_refuse_a_server_that_exists_already(ob, world):
    """The account is gone but its server stays: a new login.test-2 would duplicate it."""
    w, srv = autoconfig_world(world)
    ob.ok("setup", "alice@login.test", "--password-stdin", *w.options(), input=srv.password + "\n")
    ob.ok("account", "remove", "alice@login.test")
    before = ob.fingerprint()
    dry = ob.run("setup", "alice@login.test", "--dry-run", "--password-stdin", *w.options(),
                 input=srv.password + "\n")
    real = ob.run("setup", "alice@login.test", "--password-stdin", *w.options(), input=srv.password + "\n")
    expect((dry.code, real.code), (DATAERR, DATAERR), "exit status of --dry-run and of the save", dry)
    assert 'server "login.test" already sends through smtp.login.test' in dry.err, dry.describe()
    expect(dry.err, real.err, "the refusal of --dry-run and of the save", real)
    assert "Would save" not in dry.out, dry.describe()
    expect(ob.fingerprint(), before, "the store", real)


def redirect_world(world, location):
    """moved.test's autoconfig host redirects to `location`; provider.test serves the document,
    naming smtp.provider.test: a host outside the address's domain, known only to the resolver."""
    d = "moved.test"
    w = world(d)
    srv = w.smtp_server(["smtp.provider.test"])
    w.https({("provider.test", "/mail/moved.test.xml"): document(d, "smtp.provider.test", srv.port,
                                                                  "Provider Mail")})
    w.web.redirect(AUTOCONFIG_PATH, location, 301)
    return w, srv


def test_a_redirected_autoconfig_is_followed_through_the_resolver_and_trusted_with_the_password(ob, world):
    final = "https://provider.test/mail/moved.test.xml"
    w, srv = redirect_world(world, final)
    r, doc = setup_json(ob, "alice@moved.test", "--dry-run", "--password-stdin", *w.options(),
                        input=srv.password + "\n")
    expect(r.code, 0, "exit status", r)
    ac = doc["sources"][0]
    expect((ac["source"], ac["outcome"], ac["redirected_to"]), ("autoconfig", "found", final),
           "the autoconfig lookup", r)
    expect([x["redirected_to"] for x in doc["sources"][1:]], [None] * (len(doc["sources"]) - 1),
           "the other lookups were not redirected", r)
    c = chosen(doc)
    expect((c["host"], c["source"], c["origin"]), ("smtp.provider.test", "autoconfig", final), "chosen", r)
    # The domain's own HTTPS server sent us to the provider: its server may check the password.
    expect((doc["login"]["checked"], doc["login"]["user"]), (True, "alice@moved.test"), "login", r)
    assert "query[A] provider.test" in w.ns.log(), "provider.test asked of --resolver\n" + w.ns.log()

    r = ob.run("setup", "alice@moved.test", "--dry-run", *w.options())
    print("\n$ outbox setup alice@moved.test --dry-run ...\n" + r.out)
    expect(r.code, 0, "exit status", r)
    assert f"redirected to {final}\n" in r.out, r.describe()


@pytest.mark.parametrize("location, outcome, words", [
    ("https://nowhere.test/config.xml", "failed", "cannot resolve nowhere.test: no such host"),
    ("http://provider.test/mail/moved.test.xml", "failed", "a redirect from https:// must stay on https://"),
])
def test_a_redirect_that_cannot_be_followed_fails_that_lookup_only(ob, world, location, outcome, words):
    w, srv = redirect_world(world, location)
    r, doc = setup_json(ob, "alice@moved.test", "--dry-run", *w.options())
    ac = doc["sources"][0]
    expect((ac["source"], ac["outcome"]), ("autoconfig", outcome), "the autoconfig lookup", r)
    assert words in ac["detail"], r.describe()
    expect([x["outcome"] for x in doc["sources"][1:3]], ["not offered", "not offered"],
           "well-known and the ISPDB are asked as always", r)
    assert "smtp.provider.test" not in [x["host"] for x in doc["candidates"]], r.describe()
