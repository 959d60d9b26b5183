# tests/e2e/test_setup_robust.py: discovery's robustness against awkward inputs and answers: an
# international domain, an MX whose domain no lookup accepts, an HTTPS host that speaks no HTTP,
# and a name server that never answers the probes' address lookups.
"""The same small worlds as test_setup_cli.py (dnsmasq, the HTTPS autoconfig/ISPDB server with the
run's CA, aiosmtpd on 127.x addresses), reached only through --resolver, --tls-ca and --ispdb."""
import re

from test_setup_cli import (AUTOCONFIG_PATH, ISPDB, UNAVAILABLE, WELL_KNOWN_PATH, chosen,  # noqa: F401
                            document, expect, setup_json, silent_resolver, world)

IDN, ACE = "bücher.test", "xn--bcher-kva.test"


def sources(doc):
    return {(s["source"], s["what"]): (s["outcome"], s["detail"]) for s in doc["sources"]}


def test_an_international_domain_is_asked_saved_and_named_in_its_ascii_form(ob, world):
    # DNS and the certificates know only the A-label, as in the real DNS; the provider's document
    # names the domain in its Unicode form, which is the same domain.
    w = world(ACE)
    host = f"smtp.{ACE}"
    srv = w.smtp_server([host])
    w.https({(f"autoconfig.{ACE}", AUTOCONFIG_PATH): document(IDN, host, srv.port, "Bücher Mail")})
    r, doc = setup_json(ob, f"jürgen@{IDN}", "--dry-run", *w.options())
    expect(r.code, 0, "exit status", r)
    got = {s["source"]: s["what"] for s in doc["sources"] if s["source"] in ("autoconfig", "ISPDB", "well-known")}
    want = {"autoconfig": f"https://autoconfig.{ACE}/mail/config-v1.1.xml?emailaddress=j%C3%BCrgen%40b%C3%BCcher.test",
            "well-known": f"https://{ACE}/.well-known/autoconfig/mail/config-v1.1.xml",
            "ISPDB": f"https://{ISPDB}/v1.1/{ACE}"}
    expect(got, want, "the URLs asked", r)
    outcome = [s["outcome"] for s in doc["sources"] if s["source"] == "autoconfig"]
    expect(outcome, ["found"], "the autoconfig lookup, through --resolver", r)
    c = chosen(doc)
    expect((c["host"], c["source"]), (host, "autoconfig"), "chosen", r)
    guesses = sorted({x["host"] for x in doc["candidates"] if x["source"] == "guess"})
    expect(guesses, sorted([f"smtp.{ACE}", f"mail.{ACE}", ACE]), "the guesses' hosts", r)
    expect(doc["would_save"]["server"]["name"], ACE, "the server's name", r)
    expect(doc["would_save"]["account"]["address"], f"jürgen@{IDN}", "the account's address, as typed", r)


def test_an_mx_domain_no_lookup_accepts_fails_that_lookup_and_the_run_goes_on(ob, world):
    d = "oddmx.test"
    w = world(d)
    srv = w.smtp_server([f"smtp.{d}"], port=465)
    w.mx.append((d, "mx1.xn--a.test", 10))  # DNS serves it; "xn--a" is no valid A-label
    w.https({})
    r, doc = setup_json(ob, f"alice@{d}", "--dry-run", *w.options())
    expect(r.code, 0, "exit status", r)
    mx = [(s["outcome"], s["what"]) for s in doc["sources"] if s["source"] == "MX"]
    expect([o for o, _ in mx], ["found", "failed"], "the MX record, then its domain's ISPDB lookup", r)
    assert "xn--a.test" in mx[1][1], "want the failed lookup to name the domain\n" + r.describe()
    c = chosen(doc)
    expect((c["host"], c["port"], c["source"]), (f"smtp.{d}", 465, "guess"), "chosen", r)


def test_an_https_host_that_speaks_no_http_fails_that_lookup_only(ob, world):
    # autoconfig.DOMAIN is an SMTP server with implicit TLS on 443: TLS verifies, then it greets
    # in SMTP, which libcurl takes for HTTP/0.9 and refuses.
    d = "nothttp.test"
    w = world(d)
    w.smtp_server([f"autoconfig.{d}"], port=443)
    srv = w.smtp_server([f"smtp.{d}"], port=465)
    w.https({(d, WELL_KNOWN_PATH): document(d, f"smtp.{d}", srv.port, "Well-known Mail")})
    w.hosts = [x for x in w.hosts if x[0] != f"autoconfig.{d}" or x[1] != w.web.address]
    r, doc = setup_json(ob, f"alice@{d}", "--dry-run", *w.options())
    expect(r.code, 0, "exit status", r)
    got = {s["source"]: s["outcome"] for s in doc["sources"] if s["source"] in ("autoconfig", "well-known")}
    expect(got, {"autoconfig": "failed", "well-known": "found"}, "each HTTPS lookup's outcome", r)
    detail = [s["detail"] for s in doc["sources"] if s["source"] == "autoconfig"][0]
    assert "HTTP" in detail, f"want the failure to say the answer was no HTTP, got {detail!r}\n" + r.describe()
    c = chosen(doc)
    expect((c["host"], c["source"]), (f"smtp.{d}", "well-known"), "chosen", r)


def test_a_probe_whose_address_lookup_gets_no_answer_says_no_answer_like_a_silent_connect(ob, pki,
                                                                                            silent_resolver):
    r, doc = setup_json(ob, "bob@silent.test", "--resolver", silent_resolver, "--tls-ca", pki.ca_cert,
                        "--ispdb", f"https://{ISPDB}/v1.1/", "--timeout", "2", "--dry-run")
    expect(r.code, UNAVAILABLE, "exit status", r)
    expect(len(doc["candidates"]), 6, "guesses probed", r)
    for c in doc["candidates"]:
        head = f"no answer from {c['host']} port {c['port']} within "
        got = (c["probe"], c["probe_error"])
        assert c["probe"] == "no answer" and c["probe_error"].startswith(head) and \
            re.fullmatch(r"\d+\.\d s \(connecting\)", c["probe_error"][len(head):]), \
            f"got {got!r}, want ('no answer', '{head}N.N s (connecting)')\n" + r.describe()
