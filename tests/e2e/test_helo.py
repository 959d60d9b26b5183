# tests/e2e/test_helo.py: the name outbox gives in EHLO, as a real server (aiosmtpd) records it:
# a server's --helo, else this host's fully qualified name, else the connection's own address as
# a literal ("[127.0.0.1]"), the looked-up name remembered in the store for a day; `server check`
# gives the same; bad --helo values are refused.
import os
import socket
import sqlite3
import time

import pytest

import servers
from conftest import expect
from sendutil import configure, marker


def automatic_helo():
    """What outbox should give without --helo, decided here on its own: the host name when it has
    a dot, else its canonical name when that has one (localhost names aside), else the address
    of our end of a loopback connection."""
    host = socket.gethostname()

    def fqdn(name):
        return bool(name) and "." in name and not name.lower().startswith(("localhost.", "localhost6."))

    if fqdn(host):
        return host
    try:
        canonical = socket.getaddrinfo(host, None, flags=socket.AI_CANONNAME)[0][3]
    except OSError:
        canonical = ""
    if fqdn(canonical):
        return canonical
    return "[127.0.0.1]"


def helo_seen(srv, ob, m):
    r = ob.run("send", "-i", "to@example.test", input=f"Subject: {m}\n\nx\n")
    expect(r.code, 0, "exit status of the send", r)
    name, _ = srv.wait_message(m)
    return srv.envelope(name)["helo"], r


def test_helo_setting_is_what_the_server_sees(ob, aiosmtpd_srv, pki):
    srv = aiosmtpd_srv
    configure(ob, "aio", srv.port, "starttls", "--helo", "client.example.test", user=srv.user,
              password=srv.password, ca=pki.ca_cert)
    got, r = helo_seen(srv, ob, marker())
    expect(got, "client.example.test", "EHLO name at the server", r)
    show = ob.ok("server", "show", "aio", "--json").json()
    expect(show["helo"], "client.example.test", "helo in server show --json", r)


def test_without_a_setting_the_host_name_or_the_local_address(ob, aiosmtpd_srv, pki):
    srv = aiosmtpd_srv
    configure(ob, "aio", srv.port, "starttls", user=srv.user, password=srv.password, ca=pki.ca_cert)
    got, r = helo_seen(srv, ob, marker())
    want = automatic_helo()
    expect(got, want, "automatic EHLO name at the server", r)
    text = ob.ok("server", "show", "aio").out
    line = next(x for x in text.splitlines() if x.startswith("EHLO Name:"))
    assert "automatic" in line and (want in line or want.startswith("[")), \
        f"want server show to say the name is automatic, got: {line!r}"


def test_the_host_name_is_looked_up_once_a_day_and_remembered_in_the_store(ob, aiosmtpd_srv, pki):
    """A short host name needs its canonical name from the resolver (a thread, its files, perhaps
    a name server): the store remembers the answer for a day, so later sends ask nothing."""
    srv = aiosmtpd_srv
    configure(ob, "aio", srv.port, "starttls", user=srv.user, password=srv.password, ca=pki.ca_cert)
    host = socket.gethostname()
    db = os.path.join(ob.home, "outbox.db")

    def rows():
        with sqlite3.connect(db) as c:
            return c.execute("SELECT host, canonical, looked_up_at FROM host_names").fetchall()

    # A check looks the name up too, but changes nothing in the store.
    r = ob.run("server", "check", "aio")
    expect(r.code, 0, "exit status of server check", r)
    expect(rows(), [], "names remembered by a check", r)
    got, r = helo_seen(srv, ob, marker())
    expect(got, automatic_helo(), "automatic EHLO name at the server", r)

    if "." in host:
        expect(rows(), [], f"rows remembered for a host name with a dot ({host}), which needs no lookup", r)
        return
    [(name, canonical, at)] = rows()
    expect(name, host, "the host name remembered", r)
    assert abs(at - time.time()) < 120, f"want it looked up now, got looked_up_at {at}"
    # What the store remembers is what the next send gives, unasked.
    with sqlite3.connect(db) as c:
        c.execute("UPDATE host_names SET canonical = 'remembered.example.test'")
    got, r = helo_seen(srv, ob, marker())
    expect(got, "remembered.example.test", "EHLO name from the store's memory", r)
    # A day later it is looked up again, and remembered afresh.
    with sqlite3.connect(db) as c:
        c.execute("UPDATE host_names SET looked_up_at = looked_up_at - 2 * 86400")
    got, r = helo_seen(srv, ob, marker())
    expect(got, automatic_helo(), "EHLO name after the memory is a day old", r)
    [(name, canonical, at)] = rows()
    assert canonical != "remembered.example.test" and abs(at - time.time()) < 120, \
        f"want the lookup remembered afresh, got {(name, canonical, at)}"


def test_edit_sets_and_clears_the_helo(ob, aiosmtpd_srv, pki):
    srv = aiosmtpd_srv
    configure(ob, "aio", srv.port, "starttls", user=srv.user, password=srv.password, ca=pki.ca_cert)
    ob.ok("server", "edit", "aio", "--helo", "[192.0.2.1]")
    got, r = helo_seen(srv, ob, marker())
    expect(got, "[192.0.2.1]", "EHLO name after server edit --helo", r)
    ob.ok("server", "edit", "aio", "--helo", "")
    got, r = helo_seen(srv, ob, marker())
    expect(got, automatic_helo(), "EHLO name after --helo ''", r)


def test_server_check_gives_the_same_name(ob, aiosmtpd_srv, pki):
    srv = aiosmtpd_srv
    configure(ob, "aio", srv.port, "starttls", "--helo", "check.example.test", user=srv.user,
              password=srv.password, ca=pki.ca_cert)
    r = ob.run("server", "check", "aio", "--verbose")
    expect(r.code, 0, "exit status of server check", r)
    ehlos = [x for x in (r.out + r.err).splitlines() if "C: EHLO" in x]
    assert ehlos and all(x.rstrip().endswith("EHLO check.example.test") for x in ehlos), \
        "want every EHLO of the check to give check.example.test, got:\n" + r.describe()
    steps = {x["name"]: x for x in ob.run("server", "check", "aio", "--json").json()}
    assert steps["ehlo"]["detail"].endswith("; EHLO as check.example.test"), \
        f"want the ehlo step to name the EHLO name, got {steps['ehlo']['detail']!r}"


def test_bad_helo_is_refused_naming_the_field(ob):
    ob.ok("server", "add", "s", "--host", "smtp.example.test")
    before = ob.fingerprint()
    cases = [
        ("10.0.0.1", "helo: \"10.0.0.1\" is an IP address; write it as [10.0.0.1]"),
        ("::1", "write it as [IPv6:::1]"),
        ("bad_name.example", "helo: \"bad_name.example\" is not a valid domain"),
        ("[1.2.3]", "helo: \"[1.2.3]\" has an address literal that is neither IPv4 nor [IPv6:...]"),
        ("h\u00f6st.example", "give the name's A-label (xn--) form"),
    ]
    for value, words in cases:
        r = ob.fails(65, "server", "edit", "s", "--helo", value)
        assert words in r.err, f"want {words!r}, got:\n" + r.describe()
        expect(len(r.err.strip().splitlines()), 1, "lines of error", r)
    r = ob.fails(65, "server", "add", "t", "--host", "smtp2.example.test", "--helo", "10.0.0.1")
    expect(ob.fingerprint(), before, "the store after refused values", r)


@pytest.fixture(scope="module")
def strict_postfix(pki):
    """A Postfix that refuses, at EHLO itself, a name that is not a fully qualified domain."""
    pf = servers.Postfix(pki, main_cf={
        "smtpd_helo_required": "yes",
        "smtpd_delay_reject": "no",
        "smtpd_helo_restrictions": "reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname",
    })
    pf.start()
    try:
        yield pf
    finally:
        pf.stop()


def test_a_strict_server_takes_the_automatic_name_and_refuses_a_bare_one(ob, strict_postfix):
    pf = strict_postfix
    configure(ob, "pf", pf.plain_port, "none", "--helo", "vm")
    r = ob.run("send", "-i", "to@example.test", input="Subject: bare\n\nx\n")
    expect(r.code, 69, "exit status with EHLO vm at a strict server", r)
    assert "refused HELO" in r.err and "vm" in r.err, "want the server's refusal, got:\n" + r.describe()
    r = ob.run("server", "check", "pf")
    # The address this side connected from is a name the server cannot call unqualified.
    assert r.code != 0 and "outbox server edit pf --helo [127.0.0.1]" in r.out + r.err, \
        "want server check to advise --helo with this side's address, got:\n" + r.describe()
    failed = [s for s in ob.run("server", "check", "pf", "--json").json() if s["status"] == "failed"]
    assert [s["fix"] for s in failed] == [[{"field": "helo", "value": "[127.0.0.1]"}]], \
        f"server check --json fix: got {[s['fix'] for s in failed]}"
    ob.ok("server", "edit", "pf", "--helo", "")
    m = marker()
    r = ob.run("send", "-i", "to@example.test", input=f"Subject: {m}\n\nx\n")
    expect(r.code, 0, f"exit status with the automatic name ({automatic_helo()})", r)
    pf.wait_message(m)
