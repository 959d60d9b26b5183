# tests/e2e/test_oauth_login.py: `outbox server login/logout` and sending with the tokens, against
# the local OAuth provider and the XOAUTH2/OAUTHBEARER SMTP server of tests/servers/oauth_*.py.
import os
import statistics
import subprocess
import sys
import threading
import time

import pytest

from conftest import OUTBOX, Result
from sendutil import marker, message

BROWSER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "servers",
                       "oauth_browser.py")
SENDER = "sender@example.test"


def expect(what, got, want):
    assert got == want, f"{what}: got {got!r}, want {want!r}"


def add_server(ob, provider, smtp, pki, name="corp", auth="xoauth2"):
    """A custom OAuth server on the test bed, with an account that sends through it."""
    ob.ok("server", "add", name, "--oauth", "custom", "--host", "127.0.0.1",
          "--port", str(smtp.port), "--security", "tls" if smtp.implicit_tls else "starttls",
          "--tls-ca", pki.ca_cert, "--auth", auth, "--user", provider.user, "--timeout", "10",
          "--oauth-client-id", provider.client_id, "--oauth-device-url", provider.device_url,
          "--oauth-authorize-url", provider.authorize_url, "--oauth-token-url", provider.token_url,
          "--oauth-revoke-url", provider.revoke_url, "--oauth-scope", provider.scope)
    if ob.run("account", "show", SENDER).code != 0:
        ob.ok("account", "add", SENDER, "--server", name, "--name", "Test Sender")


def device_login(ob, provider, name="corp", *extra):
    """Run `server login --device`, approve the code it prints at the provider, return Result."""
    args = ["server", "login", name, "--device", *extra]
    proc = subprocess.Popen([OUTBOX, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=ob.env)
    shown = []
    for line in proc.stdout:
        shown.append(line)
        if "enter the code " in line:
            provider.approve(line.rsplit("enter the code ", 1)[1].strip())
            break
    out, err = proc.communicate(timeout=60)
    proc.stdout = "".join(shown) + out
    proc.stderr = err
    return Result(args, proc)


def send(ob, *extra, subject=None):
    return ob.run("send", *extra, "-i", "rcpt@example.test",
                  input=message(subject or marker()))


def signed_in(ob, provider, smtp, pki, **kw):
    add_server(ob, provider, smtp, pki, **kw)
    r = device_login(ob, provider)
    assert r.code == 0, "device sign-in: want exit 0, got:\n" + r.describe()
    return r


def all_tokens(provider):
    with provider.state.lock:
        return list(provider.state.refresh_tokens) + list(provider.state.access_tokens)


def test_device_sign_in_then_send_with_xoauth2(ob, oauth_provider, oauth_smtp, pki):
    r = signed_in(ob, oauth_provider, oauth_smtp, pki)
    assert "To sign in, open " + oauth_provider.base_url in r.out, r.describe()
    assert f"Signed in to corp as {oauth_provider.user}; access valid until " in r.out, r.describe()
    expect("device grants issued", oauth_provider.counters["issued:device_code"], 1)

    show = ob.ok("server", "show", "corp", "--json").json()
    expect("show: signed in", show["signed_in"], True)
    assert show["access_valid_until"] > time.time() + 3000, show

    subject = marker()
    r = send(ob, subject=subject)
    assert r.code == 0, r.describe()
    got = [(m["user"], m["mechanism"]) for m in oauth_smtp.messages]
    expect("messages the server took (user, mechanism)", got, [(oauth_provider.user, "XOAUTH2")])
    expect("refreshes for a send with a valid token", oauth_provider.counters["token:refresh_token"], 0)


def test_oauthbearer_send(ob, oauth_provider, oauth_smtp_tls, pki):
    signed_in(ob, oauth_provider, oauth_smtp_tls, pki, auth="oauthbearer")
    r = send(ob)
    assert r.code == 0, r.describe()
    got = [(m["user"], m["mechanism"]) for m in oauth_smtp_tls.messages]
    expect("messages the server took (user, mechanism)", got,
           [(oauth_provider.user, "OAUTHBEARER")])
