# tests/e2e/test_oauth_https.py: a provider over HTTPS, as every real one is: its certificate checked
# against the system's CAs or the server's --oauth-tls-ca, a failure named with its fix, and `-v`.
import os

import pytest

from servers.oauth_provider import OAuthProvider
from servers.oauth_smtp import OAuthSmtp
from test_oauth_login import SENDER, device_login, expect, send


@pytest.fixture
def https_bed(pki):
    """A provider on https://127.0.0.1 with a certificate of the run's test CA, and its SMTP server."""
    with OAuthProvider(interval=1, tls=(pki.server_cert, pki.server_key)) as provider:
        with OAuthSmtp(provider, pki.server_cert, pki.server_key) as smtp:
            yield provider, smtp


def add_server(ob, provider, smtp, pki, *extra):
    return ob.run("server", "add", "corp", "--oauth", "custom", "--host", "127.0.0.1",
                  "--port", str(smtp.port), "--security", "starttls", "--tls-ca", pki.ca_cert,
                  "--auth", "xoauth2", "--user", provider.user, "--timeout", "10",
                  "--oauth-client-id", provider.client_id, "--oauth-device-url", provider.device_url,
                  "--oauth-token-url", provider.token_url, "--oauth-scope", provider.scope, *extra)


def signed_in(ob):
    return ob.ok("server", "show", "corp", "--json").json()["signed_in"]


def test_https_provider_trusted_through_oauth_tls_ca(ob, https_bed, pki):
    provider, smtp = https_bed
    assert provider.base_url.startswith("https://"), provider.base_url
    r = add_server(ob, provider, smtp, pki, "--oauth-tls-ca", pki.ca_cert)
    assert r.code == 0, r.describe()
    expect("stored CA file", ob.ok("server", "show", "corp", "--json").json()["oauth_tls_ca"],
           os.path.realpath(pki.ca_cert))
    ob.ok("account", "add", SENDER, "--server", "corp")
    # A token this short-lived is refreshed before the send, over the same verified HTTPS.
    provider.configure(access_lifetime=30)
    r = device_login(ob, provider)
    assert r.code == 0, "sign-in over verified HTTPS:\n" + r.describe()
    expect("signed in", signed_in(ob), True)
    r = send(ob)
    assert r.code == 0, r.describe()
    expect("refreshes", provider.counters["token:refresh_token"], 1)
    expect("messages the server took", len(smtp.messages), 1)


def test_unknown_ca_is_refused_with_the_fix(ob, https_bed, pki):
    provider, smtp = https_bed
    assert add_server(ob, provider, smtp, pki).code == 0
    r = ob.run("server", "login", "corp", "--device")
    expect("exit status of a sign-in to an unverifiable provider", r.code, 69)
    assert "could not be verified" in r.err and "--oauth-tls-ca FILE" in r.err, \
        "the error names the certificate and the option that fixes it:\n" + r.describe()
    expect("device codes the provider issued", provider.counters["issued:device_code"], 0)
    expect("signed in", signed_in(ob), False)


def test_certificate_for_another_name_is_refused_even_with_the_ca(ob, pki):
    # Signed by the trusted CA, but for wrong.example: trusting the CA must not trust every name.
    with OAuthProvider(interval=1, tls=(pki.wrong_name_cert, pki.wrong_name_key)) as provider:
        with OAuthSmtp(provider, pki.server_cert, pki.server_key) as smtp:
            assert add_server(ob, provider, smtp, pki, "--oauth-tls-ca", pki.ca_cert).code == 0
            r = ob.run("server", "login", "corp", "--device")
            expect("exit status", r.code, 69)
            assert "could not be verified" in r.err, r.describe()
            expect("device codes the provider issued", provider.counters["issued:device_code"], 0)


def test_bad_oauth_tls_ca_is_refused_and_changes_nothing(ob, https_bed, pki, tmp_path):
    provider, smtp = https_bed
    assert add_server(ob, provider, smtp, pki, "--oauth-tls-ca", pki.ca_cert).code == 0
    before = ob.ok("server", "show", "corp", "--json").json()
    r = ob.run("server", "edit", "corp", "--oauth-tls-ca", str(tmp_path / "missing.pem"))
    assert r.code in (64, 65), r.describe()
    lines = r.err.strip().splitlines()
    assert len(lines) == 1 and "oauth-tls-ca" in lines[0], "one line naming the field:\n" + r.describe()
    expect("server after the refused edit", ob.ok("server", "show", "corp", "--json").json(), before)


def test_oauth_tls_ca_needs_oauth(ob, pki):
    r = ob.run("server", "add", "plain", "--host", "smtp.example.test", "--oauth-tls-ca", pki.ca_cert)
    expect("exit status", r.code, 65)
    assert "oauth-tls-ca" in r.err and "without --oauth" in r.err, r.describe()
    expect("servers after the refused add", ob.ok("server", "list", "--json").json(), [])


def test_login_verbose_shows_the_exchange_and_no_secret(ob, https_bed, pki):
    provider, smtp = https_bed
    assert add_server(ob, provider, smtp, pki, "--oauth-tls-ca", pki.ca_cert).code == 0
    r = device_login(ob, provider, "corp", "-v")
    assert r.code == 0, r.describe()
    device_path = provider.device_url.split("/", 3)[3]
    token_path = provider.token_url.split("/", 3)[3]
    for want in (f"C: POST /{device_path} HTTP", f"C: POST /{token_path} HTTP", "S: HTTP/1.1 200",
                 "client_id=" + provider.client_id, "device_code=(hidden)", "not shown: it may hold tokens"):
        assert want in r.err, f"want {want!r} in the transcript:\n" + r.describe()
    with provider.state.lock:
        secrets = list(provider.state.refresh_tokens) + list(provider.state.access_tokens) + \
            list(provider.state.devices)
    assert secrets, "the provider issued tokens"
    leaked = [s for s in secrets if s in r.out or s in r.err]
    expect("tokens or device codes in the output", leaked, [])


@pytest.mark.parametrize("command", ["send", "queue run", "server check"])
def test_verbose_shows_the_refresh_beside_the_conversation(ob, https_bed, pki, command):
    provider, smtp = https_bed
    assert add_server(ob, provider, smtp, pki, "--oauth-tls-ca", pki.ca_cert).code == 0
    ob.ok("account", "add", SENDER, "--server", "corp")
    provider.configure(access_lifetime=30)   # under the margin: every use refreshes first
    assert device_login(ob, provider).code == 0
    token_path = provider.token_url.split("/", 3)[3]
    if command == "send":
        r = ob.run("send", "-v", "-i", "rcpt@example.test", input="Subject: verbose\n\nbody\n")
    elif command == "queue run":
        ob.ok("send", "--queue-only", "-i", "rcpt@example.test", input="Subject: verbose\n\nbody\n")
        r = ob.run("queue", "run", "--all", "-v")
    else:
        r = ob.run("server", "check", "corp", "-v")
    assert r.code == 0, r.describe()
    expect("refreshes", provider.counters["token:refresh_token"], 1)
    for want in (f"C: POST /{token_path} HTTP", "grant_type=refresh_token", "refresh_token=(hidden)",
                 "S: HTTP/1.1 200", "C: AUTH XOAUTH2"):
        assert want in r.err, f"want {want!r} in the -v output:\n" + r.describe()
    with provider.state.lock:
        secrets = list(provider.state.refresh_tokens) + list(provider.state.access_tokens)
    expect("tokens in the output", [s for s in secrets if s in r.out or s in r.err], [])
