# tests/e2e/test_setup_rules.py: which server `outbox setup` may choose: the password rule with and
# without a password, and per host across the sources that name it.
"""The same world as test_setup_cli.py (dnsmasq, the HTTPS autoconfig/ISPDB server, aiosmtpd on
127.x addresses), with a provider's host outside the address's domain that a source names."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from test_setup_cli import (AUTOCONFIG_PATH, UNAVAILABLE, chosen, document,  # noqa: E402,F401
                            expect, setup_json, world)


def candidate(doc, host, port):
    """The candidate for host:port in a --json document (the first, when sources repeat it)."""
    found = [c for c in doc["candidates"] if (c["host"], c["port"]) == (host, port)]
    assert found, f"want a candidate {host}:{port} in {[(c['host'], c['port']) for c in doc['candidates']]}"
    return found[0]


def test_without_a_password_a_host_only_dns_names_outside_the_domain_is_not_saved(ob, world):
    # The only SRV target is outside rev.test: saved with a password login, the first password
    # given later (server edit, a send's prompt) would go to a host only DNS named.
    w = world("rev.test")
    srv = w.smtp_server(["mail.provider.test"])
    w.srv.append(("_submissions._tcp.rev.test", "mail.provider.test", srv.port, 0, 0))
    w.https({})
    ob.ok("server", "list")
    before = ob.fingerprint()
    r, doc = setup_json(ob, "alice@rev.test", "--dry-run", *w.options())
    expect(r.code, UNAVAILABLE, "exit status", r)
    expect(doc["chosen"], None, "chosen", r)
    c = candidate(doc, "mail.provider.test", srv.port)
    expect((c["source"], c["probe"], c["usable"]), ("SRV", "ok", False), "the SRV target", r)
    assert "the password may not go to mail.provider.test: it is not in rev.test" in c["why"], r.describe()
    assert "would_save" not in doc, r.describe()

    r = ob.run("setup", "alice@rev.test", *w.options())
    expect(r.code, UNAVAILABLE, "exit status without --dry-run", r)
    assert "logging in takes a password (PLAIN), and the password may not go to mail.provider.test" in r.out, \
        "the explanation says why\n" + r.describe()
    assert "no usable server found for rev.test" in r.err, r.describe()
    expect(ob.fingerprint(), before, "nothing saved", r)


def test_a_host_autoconfig_names_is_trusted_on_the_port_srv_names_with_or_without_a_password(ob, world):
    # autoconfig: mail.provider.test 587 STARTTLS; SRV: the same host on 465, TLS from the first byte.
    w = world("ports.test")
    tls = w.smtp_server(["mail.provider.test"])
    starttls = w.smtp_server(["mail.provider.test"], address=tls.host, implicit_tls=False,
                             password=tls.password)
    w.srv.append(("_submissions._tcp.ports.test", "mail.provider.test", tls.port, 0, 0))
    w.https({("autoconfig.ports.test", AUTOCONFIG_PATH):
             document("ports.test", "mail.provider.test", starttls.port, "Ports Mail", socket_type="STARTTLS")})
    want = ("mail.provider.test", tls.port, "tls", "SRV")
    for how, extra in (("without a password", {}), ("with one", {"input": tls.password + "\n"})):
        args = ["--password-stdin"] if extra else []
        r, doc = setup_json(ob, "alice@ports.test", "--dry-run", *args, *w.options(), **extra)
        expect(r.code, 0, f"exit status {how}", r)
        c = chosen(doc)
        expect((c["host"], c["port"], c["security"], c["source"]), want, f"chosen {how}", r)
        loser = candidate(doc, "mail.provider.test", starttls.port)
        assert "on the same host, TLS from the first byte is preferred to STARTTLS" in loser["why"], r.describe()
        for x in doc["candidates"]:
            assert "no provider's autoconfig" not in x["why"], f"{how}: {x['host']}:{x['port']}\n" + r.describe()
    expect((doc["login"]["checked"], doc["login"]["user"]), (True, "alice@ports.test"), "the login on 465", r)

