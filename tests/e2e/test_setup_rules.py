# tests/e2e/test_setup_rules.py: which server `outbox setup` may choose: the password rule with and
# without a password, per host across sources, and an OAuth sign-in only where a preset is named.
"""The same world as test_setup_cli.py (dnsmasq, the HTTPS autoconfig/ISPDB server, aiosmtpd on
127.x addresses), with a provider's host outside the address's domain that a source names."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from servers.pki import make_named_cert  # noqa: E402
from test_setup_cli import (AUTOCONFIG_PATH, ISPDB, UNAVAILABLE, chosen, document,  # noqa: E402,F401
                            expect, oauth_document, setup_json, world)


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


def test_an_oauth_sign_in_chooses_a_server_whose_provider_outbox_knows(ob, world, oauth_provider, pki):
    # autoconfig wants OAuth2 but names no provider (no oAuth2 element); the ISPDB's entry for the
    # MX's domain names Google's. Both hosts reach one XOAUTH2 server.
    from servers.oauth_smtp import OAuthSmtp
    d = "custom.test"
    w = world(d)
    names = [f"smtp.{d}", "smtp.bigmail.test"]
    cert, key = make_named_cert(pki, "smtp-oauth-two", names)
    with OAuthSmtp(oauth_provider, cert, key, implicit_tls=True) as srv:
        w.hosts += [(n, srv.host, None) for n in names]
        w.mx.append((d, "mx1.bigmail.test", 10))
        w.https({(f"autoconfig.{d}", AUTOCONFIG_PATH): oauth_document(d, f"smtp.{d}", srv.port, issuer=False),
                 (ISPDB, "/v1.1/bigmail.test"): oauth_document("bigmail.test", "smtp.bigmail.test", srv.port)})
        r, doc = setup_json(ob, f"alice@{d}", "--oauth-client-id", "my-client-id", *w.options())
        expect(r.code, 0, "exit status", r)
        c = chosen(doc)
        expect((c["host"], c["source"], c["auth"]), ("smtp.bigmail.test", "MX", "xoauth2"), "chosen", r)
        a = candidate(doc, f"smtp.{d}", srv.port)
        expect(a["usable"], False, "autoconfig's server", r)
        assert f"smtp.{d}, from autoconfig, names no OAuth provider outbox knows" in a["why"], r.describe()
        s = ob.ok("server", "show", d, "--json").json()
        got = (s["host"], s["auth"], s["oauth"], s["oauth_client_id"])
        expect(got, ("smtp.bigmail.test", "xoauth2", "google", "my-client-id"), "server show", r)
