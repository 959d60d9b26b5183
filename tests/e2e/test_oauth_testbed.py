# tests/e2e/test_oauth_testbed.py: proves the OAuth test bed (provider + SMTP server of
# tests/servers/oauth_*.py) follows the RFCs, with urllib and smtplib as clients, before outbox.
import base64
import hashlib
import http.server
import json
import os
import secrets
import smtplib
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from servers_fixtures import *  # noqa: F401,F403
from servers.oauth_provider import OAuthProvider

BROWSER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "servers",
                       "oauth_browser.py")
DEVICE = "urn:ietf:params:oauth:grant-type:device_code"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kw):
        return None                         # the test reads the 302 itself


def post(url, fields, headers=None, context=None):
    """(HTTP status, JSON body or text) of a form POST."""
    req = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode(),
                                 headers={"Content-Type": "application/x-www-form-urlencoded",
                                          **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10, context=context) as resp:
            status, body = resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read().decode()
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


def authorize(p, **params):
    """(status, Location query as a dict or None) of GET /authorize, redirect not followed."""
    url = p.authorize_url + "?" + urllib.parse.urlencode(params)
    try:
        with urllib.request.build_opener(_NoRedirect).open(url, timeout=10) as resp:
            return resp.status, None
    except urllib.error.HTTPError as e:
        location = e.headers.get("Location")
        if location is None:
            return e.code, None
        return e.code, dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))


def pkce_pair():
    verifier = secrets.token_urlsafe(48)    # 64 characters, within RFC 7636's 43..128
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def expect(what, got, want):
    assert got == want, f"{what}: got {got!r}, want {want!r}"


def code_grant(p, redirect="http://127.0.0.1:45123/callback"):
    """Sign in through the code grant; returns the token response."""
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(12)
    status, q = authorize(p, response_type="code", client_id=p.client_id, redirect_uri=redirect,
                          code_challenge=challenge, code_challenge_method="S256", state=state,
                          scope=p.scope + " offline_access")
    expect("authorize status", status, 302)
    status, body = post(p.token_url, {"grant_type": "authorization_code", "code": q["code"],
                                      "redirect_uri": redirect, "code_verifier": verifier,
                                      "client_id": p.client_id})
    expect("token status (body %r)" % (body,), status, 200)
    return body


def refresh(p, refresh_token):
    return post(p.token_url, {"grant_type": "refresh_token", "refresh_token": refresh_token,
                              "client_id": p.client_id})


def error_of(resp):
    status, body = resp
    return status, body.get("error") if isinstance(body, dict) else body


# --- the device grant (RFC 8628) ---------------------------------------------------------
def test_device_grant_pending_slow_down_approve_token(oauth_provider):
    # Sleeps are the protocol's waits, with wide margins either side of each interval.
    p = oauth_provider.configure(interval=0.5, slow_down_step=1)
    status, dev = post(p.device_url, {"client_id": p.client_id, "scope": p.scope})
    expect("device status", status, 200)
    expect("device fields", sorted(dev), sorted(["device_code", "user_code", "verification_uri",
                                                 "verification_uri_complete", "expires_in",
                                                 "interval"]))
    expect("interval", dev["interval"], 0.5)
    poll = {"grant_type": DEVICE, "device_code": dev["device_code"], "client_id": p.client_id}

    expect("a poll before the interval", error_of(post(p.token_url, poll)), (400, "slow_down"))
    time.sleep(1.5)                         # the interval is now 1.5 s
    expect("a poll after the interval", error_of(post(p.token_url, poll)),
           (400, "authorization_pending"))
    time.sleep(0.6)                         # past the first interval, not the grown one
    expect("a poll at the old interval", error_of(post(p.token_url, poll)),
           (400, "slow_down"))

    p.approve(dev["user_code"])
    time.sleep(2.5)                         # 2.5 s now
    status, tok = post(p.token_url, poll)
    expect("token status after approval (body %r)" % (tok,), status, 200)
    expect("token type", tok["token_type"], "Bearer")
    expect("access token check", p.access_token_check(tok["access_token"]),
           ((p.user, p.scope), None))
    expect("the device code a second time", error_of(post(p.token_url, poll)),
           (400, "invalid_grant"))
    expect("counters", {k: p.counters[k] for k in ("device", "token:device_code", "pending",
                                                     "slow_down", "issued:device_code")},
           {"device": 1, "token:device_code": 5, "pending": 1, "slow_down": 2,
            "issued:device_code": 1})


def test_device_grant_browser_endpoint_approves_as_the_user(oauth_provider):
    p = oauth_provider.configure(interval=0.2)
    _, dev = post(p.device_url, {"client_id": p.client_id})
    with urllib.request.urlopen(dev["verification_uri_complete"] + "&user=other@example.test",
                                timeout=10) as resp:
        expect("activate page status", resp.status, 200)
    time.sleep(0.2)
    status, tok = post(p.token_url, {"grant_type": DEVICE, "device_code": dev["device_code"],
                                     "client_id": p.client_id})
    expect("token status", status, 200)
    expect("token user", p.access_token_check(tok["access_token"])[0][0], "other@example.test")


@pytest.mark.parametrize("ending,want", [("deny", "access_denied"),
                                         ("expire", "expired_token")])
def test_device_grant_denied_or_expired(oauth_provider, ending, want):
    p = oauth_provider.configure(interval=0)
    _, dev = post(p.device_url, {"client_id": p.client_id})
    (p.deny if ending == "deny" else p.expire_device)(dev["user_code"])
    got = error_of(post(p.token_url, {"grant_type": DEVICE, "device_code": dev["device_code"],
                                      "client_id": p.client_id}))
    expect(f"poll after {ending}", got, (400, want))


def test_device_grant_expires_after_expires_in(oauth_provider):
    p = oauth_provider.configure(interval=0, device_lifetime=1)
    _, dev = post(p.device_url, {"client_id": p.client_id})
    poll = {"grant_type": DEVICE, "device_code": dev["device_code"], "client_id": p.client_id}
    expect("poll within expires_in", error_of(post(p.token_url, poll)),
           (400, "authorization_pending"))
    time.sleep(1.1)
    expect("poll after expires_in", error_of(post(p.token_url, poll)), (400, "expired_token"))


# --- the code grant with PKCE (RFC 7636, RFC 8252) ----------------------------------------
def test_code_grant_checks_the_verifier_and_echoes_state(oauth_provider):
    p = oauth_provider
    redirect = "http://127.0.0.1:45123/callback"
    for verifier_is_right in (False, True):
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(12)
        status, q = authorize(p, response_type="code", client_id=p.client_id,
                              redirect_uri=redirect, code_challenge=challenge,
                              code_challenge_method="S256", state=state)
        expect("authorize status", status, 302)
        expect("state echoed", q.get("state"), state)
        form = {"grant_type": "authorization_code", "code": q["code"], "redirect_uri": redirect,
                "client_id": p.client_id,
                "code_verifier": verifier if verifier_is_right else pkce_pair()[0]}
        status, body = post(p.token_url, form)
        if verifier_is_right:
            expect("token status with the right verifier (body %r)" % (body,), status, 200)
            expect("code used twice", error_of(post(p.token_url, form)), (400, "invalid_grant"))
        else:
            expect("wrong verifier", (status, body.get("error")), (400, "invalid_grant"))
    expect("counters", (p.counters["token:authorization_code"],
                        p.counters["issued:authorization_code"]), (3, 1))


@pytest.mark.parametrize("change,want_status,want_error", [
    ({"redirect_uri": "http://localhost:45123/cb"}, 400, None),
    ({"redirect_uri": "https://127.0.0.1:45123/cb"}, 400, None),
    ({"redirect_uri": "http://127.0.0.1/cb"}, 400, None),
    ({"client_id": "someone-else"}, 400, None),
    ({"code_challenge_method": "plain"}, 302, "invalid_request"),
    ({"state": ""}, 302, "invalid_request"),
])
def test_authorize_refuses_bad_requests(oauth_provider, change, want_status, want_error):
    p = oauth_provider
    params = {"response_type": "code", "client_id": p.client_id,
              "redirect_uri": "http://127.0.0.1:45123/cb", "code_challenge": pkce_pair()[1],
              "code_challenge_method": "S256", "state": "s1", **change}
    status, q = authorize(p, **params)
    expect(f"status for {change}", status, want_status)
    expect(f"redirect error for {change}", (q or {}).get("error"), want_error)
    expect("codes issued", p.counters["authorize"], 0)


def test_code_grant_denied_by_the_user_redirects_access_denied(oauth_provider):
    p = oauth_provider
    p.consent = False
    status, q = authorize(p, response_type="code", client_id=p.client_id,
                          redirect_uri="http://[::1]:45123/cb", code_challenge=pkce_pair()[1],
                          code_challenge_method="S256", state="s2")
    expect("redirect", (status, q), (302, {"error": "access_denied", "state": "s2"}))


class _Callback(http.server.BaseHTTPRequestHandler):
    """The client's loopback redirect listener, as outbox will run it."""
    def do_GET(self):
        self.server.queries.append(dict(urllib.parse.parse_qsl(
            urllib.parse.urlsplit(self.path).query)))
        body = b"Signed in to outbox; you may close this tab."
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_scripted_browser_follows_the_redirect_to_the_listener(oauth_provider, tmp_path):
    p = oauth_provider
    listener = http.server.HTTPServer(("127.0.0.1", 0), _Callback)
    listener.queries = []
    thread = threading.Thread(target=listener.serve_forever, daemon=True)
    thread.start()
    try:
        redirect = f"http://127.0.0.1:{listener.server_address[1]}/callback"
        url = p.authorize_url + "?" + urllib.parse.urlencode({
            "response_type": "code", "client_id": p.client_id, "redirect_uri": redirect,
            "code_challenge": pkce_pair()[1], "code_challenge_method": "S256", "state": "s3"})
        log = tmp_path / "browser.jsonl"
        run = subprocess.run([BROWSER, url], env={**os.environ, "OAUTH_BROWSER_LOG": str(log)},
                             capture_output=True, text=True, timeout=60)
    finally:
        listener.shutdown()
        listener.server_close()
    expect(f"browser exit (stderr {run.stderr!r})", run.returncode, 0)
    expect("what the listener got", [(q.get("state"), q.get("code", "")[:3])
                                     for q in listener.queries], [("s3", "ac-")])
    seen = json.loads(log.read_text())
    expect("the page the browser showed", (seen["status"], seen["body"]),
           (200, "Signed in to outbox; you may close this tab."))


def test_browser_reports_a_page_that_is_not_there(oauth_provider, tmp_path):
    log = tmp_path / "browser.jsonl"
    run = subprocess.run([BROWSER, oauth_provider.base_url + "/nowhere"],
                         env={**os.environ, "OAUTH_BROWSER_LOG": str(log)},
                         capture_output=True, text=True, timeout=60)
    expect("browser exit", run.returncode, 1)
    expect("status logged", json.loads(log.read_text())["status"], 404)


# --- the providers' own ways ----------------------------------------------------------------
def test_google_style_omits_what_google_omits(oauth_provider):
    p = oauth_provider.configure(style="google")
    _, dev = post(p.device_url, {"client_id": p.client_id})
    expect("device fields", sorted(dev), sorted(["device_code", "user_code", "verification_url",
                                                 "expires_in", "interval"]))
    first = code_grant(p)
    status, again = refresh(p, first["refresh_token"])
    expect("refresh status", status, 200)
    expect("refresh_token in a refresh answer", "refresh_token" in again, False)
    expect("the old refresh token still works", refresh(p, first["refresh_token"])[0], 200)


def test_microsoft_style_sends_a_message(oauth_provider):
    p = oauth_provider.configure(style="microsoft")
    _, dev = post(p.device_url, {"client_id": p.client_id})
    expect("device fields", sorted(dev), sorted(["device_code", "user_code", "verification_uri",
                                                 "expires_in", "interval", "message"]))
    assert dev["user_code"] in dev["message"], f"want the code in the message, got {dev!r}"


# --- refresh, rotation, revocation, clients ------------------------------------------------
def test_refresh_with_rotation_refuses_the_old_token(oauth_provider):
    p = oauth_provider.configure(rotate=True)
    first = code_grant(p)
    status, second = refresh(p, first["refresh_token"])
    expect("refresh status", status, 200)
    assert second["refresh_token"] != first["refresh_token"], \
        f"want a new refresh token, got the same one {second!r}"
    expect("new access token", p.access_token_check(second["access_token"])[1], None)
    expect("old refresh token after use", error_of(refresh(p, first["refresh_token"])),
           (400, "invalid_grant"))
    expect("new refresh token", refresh(p, second["refresh_token"])[0], 200)
    expect("refresh counters", (p.counters["token:refresh_token"],
                                p.counters["issued:refresh_token"],
                                p.counters["refused:refresh_token"]), (3, 2, 1))


def test_refresh_without_rotation_keeps_the_token(oauth_provider):
    p = oauth_provider
    first = code_grant(p)
    for _ in range(2):
        status, again = refresh(p, first["refresh_token"])
        expect("refresh status", status, 200)
        expect("refresh token", again["refresh_token"], first["refresh_token"])


def test_short_lived_access_token_expires_and_refresh_renews(oauth_provider):
    p = oauth_provider.configure(access_lifetime=1)
    tok = code_grant(p)
    expect("expires_in", tok["expires_in"], 1)
    expect("fresh token", p.access_token_check(tok["access_token"])[1], None)
    time.sleep(1.1)
    expect("token after expires_in", p.access_token_check(tok["access_token"]),
           (None, "expired"))
    _, renewed = refresh(p, tok["refresh_token"])
    expect("renewed token", p.access_token_check(renewed["access_token"])[1], None)
    p.expire_access_tokens()
    expect("token expired by the test", p.access_token_check(renewed["access_token"]),
           (None, "expired"))


def test_counters_are_exact_under_concurrent_refreshes(oauth_provider):
    p = oauth_provider
    tok = code_grant(p)
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(refresh(p, tok["refresh_token"])[0]))
               for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    expect("answers", sorted(answers), [200] * 5)
    expect("refreshes counted", (p.counters["token:refresh_token"],
                                 p.counters["issued:refresh_token"]), (5, 5))


def test_revocation_ends_the_grant(oauth_provider):
    p = oauth_provider
    tok = code_grant(p)
    status, _ = post(p.revoke_url, {"token": tok["refresh_token"],
                                    "token_type_hint": "refresh_token",
                                    "client_id": p.client_id})
    expect("revoke status", status, 200)
    expect("refresh after revocation", error_of(refresh(p, tok["refresh_token"])),
           (400, "invalid_grant"))
    expect("access token after revocation", p.access_token_check(tok["access_token"]),
           (None, "revoked"))
    expect("revoking an unknown token (RFC 7009 2.2)",
           post(p.revoke_url, {"token": "nonsense", "client_id": p.client_id})[0], 200)
    again = code_grant(p)
    p.revoke_user(p.user)
    expect("refresh after the user revoked", error_of(refresh(p, again["refresh_token"])),
           (400, "invalid_grant"))


def test_client_authentication(oauth_provider):
    p = oauth_provider
    expect("unknown client", error_of(post(p.device_url, {"client_id": "nobody"})),
           (401, "invalid_client"))
    expect("public client sending a secret",
           error_of(post(p.device_url, {"client_id": p.client_id, "client_secret": "x"})),
           (401, "invalid_client"))
    secret = "cs-" + secrets.token_urlsafe(12)
    p.configure(client_secret=secret)
    expect("confidential client without its secret",
           error_of(post(p.device_url, {"client_id": p.client_id})), (401, "invalid_client"))
    expect("wrong secret", error_of(post(p.device_url, {"client_id": p.client_id,
                                                        "client_secret": secret + "x"})),
           (401, "invalid_client"))
    expect("secret in the form", post(p.device_url, {"client_id": p.client_id,
                                                     "client_secret": secret})[0], 200)
    basic = base64.b64encode(f"{p.client_id}:{secret}".encode()).decode()
    expect("secret as HTTP Basic", post(p.device_url, {}, {"Authorization": "Basic " + basic})[0],
           200)


def test_fail_next_answers_once(oauth_provider):
    p = oauth_provider
    tok = code_grant(p)
    p.fail_next("/token", 503)
    expect("injected fault", error_of(refresh(p, tok["refresh_token"])),
           (503, "temporarily_unavailable"))
    expect("after the fault", refresh(p, tok["refresh_token"])[0], 200)


def test_https_provider_is_verified_against_the_test_ca(pki):
    with OAuthProvider(tls=(pki.server_cert, pki.server_key)) as p:
        expect("scheme", p.base_url.split(":")[0], "https")
        trusting = ssl.create_default_context(cafile=pki.ca_cert)
        expect("with the test CA", post(p.device_url, {"client_id": p.client_id},
                                        context=trusting)[0], 200)
        with pytest.raises(urllib.error.URLError) as refused:
            post(p.device_url, {"client_id": p.client_id},
                 context=ssl.create_default_context())
        assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value), \
            f"want a verification failure, got {refused.value!r}"
        expect("requests that reached the provider", len(p.requests), 1)


# --- SMTP with XOAUTH2 and OAUTHBEARER (RFC 7628) ------------------------------------------
def xoauth2(user, token):
    return base64.b64encode(f"user={user}\x01auth=Bearer {token}\x01\x01".encode()).decode()


def oauthbearer(user, token, port):
    raw = f"n,a={user},\x01host=127.0.0.1\x01port={port}\x01auth=Bearer {token}\x01\x01"
    return base64.b64encode(raw.encode()).decode()


def smtp_session(srv, pki):
    ctx = ssl.create_default_context(cafile=pki.ca_cert)
    if srv.implicit_tls:
        s = smtplib.SMTP_SSL(srv.host, srv.port, context=ctx, timeout=10)
    else:
        s = smtplib.SMTP(srv.host, srv.port, timeout=10)
        s.ehlo()
        expect("AUTH before STARTTLS", s.has_extn("auth"), False)
        s.starttls(context=ctx)
    s.ehlo()
    return s


def initial(mech, user, token, srv):
    return xoauth2(user, token) if mech == "XOAUTH2" else oauthbearer(user, token, srv.port)


@pytest.mark.parametrize("mech", ["XOAUTH2", "OAUTHBEARER"])
def test_smtp_accepts_a_live_token_and_sends(oauth_provider, oauth_smtp, pki, mech):
    p, srv = oauth_provider, oauth_smtp
    tok = code_grant(p)
    with smtp_session(srv, pki) as s:
        expect("AUTH mechanisms", s.esmtp_features.get("auth", "").split(),
               ["OAUTHBEARER", "XOAUTH2"])
        expect("MAIL before AUTH", s.docmd("MAIL", "FROM:<a@example.test>")[0], 530)
        code, text = s.docmd("AUTH", f"{mech} {initial(mech, p.user, tok['access_token'], srv)}")
        expect(f"AUTH {mech} reply ({text!r})", code, 235)
        s.sendmail(p.user, ["rcpt@example.test"], b"Subject: oauth smoke\r\n\r\nhello\r\n")
    expect("message", [(m["user"], m["mechanism"], m["rcpt_tos"]) for m in srv.messages],
           [(p.user, mech, ["rcpt@example.test"])])
    expect("attempts", [(a.mechanism, a.user, a.ok) for a in srv.attempts], [(mech, p.user, True)])


@pytest.mark.parametrize("mech", ["XOAUTH2", "OAUTHBEARER"])
@pytest.mark.parametrize("spoil", ["expired", "revoked", "unknown", "another user's token"])
def test_smtp_refuses_with_the_error_dance(oauth_provider, oauth_smtp, pki, mech, spoil):
    p, srv = oauth_provider, oauth_smtp
    tok = code_grant(p)
    user, token = p.user, tok["access_token"]
    if spoil == "expired":
        p.expire_access_tokens()
    elif spoil == "revoked":
        p.revoke_user(p.user)
    elif spoil == "unknown":
        token = "at-" + secrets.token_urlsafe(24)
    else:
        user = "someone-else@example.test"
    with smtp_session(srv, pki) as s:
        code, challenge = s.docmd("AUTH", f"{mech} {initial(mech, user, token, srv)}")
        expect("reply to AUTH", code, 334)
        error = json.loads(base64.b64decode(challenge))
        expect("error challenge", error, {"status": {"XOAUTH2": "401",
                                                     "OAUTHBEARER": "invalid_token"}[mech],
                                          "schemes": "bearer", "scope": p.scope})
        code, text = s.docmd("" if mech == "XOAUTH2" else "AQ==")
        expect(f"reply to the dummy response ({text!r})", (code, text[:5]), (535, b"5.7.8"))
    expect("attempt", [(a.ok, a.reason, a.dummy_reply) for a in srv.attempts],
           [(False, spoil, b"" if mech == "XOAUTH2" else b"\x01")])


def test_smtp_answers_a_wrong_dummy_response_with_501(oauth_provider, oauth_smtp, pki):
    p, srv = oauth_provider, oauth_smtp
    with smtp_session(srv, pki) as s:
        code, _ = s.docmd("AUTH", "OAUTHBEARER " + oauthbearer(p.user, "at-nothing", srv.port))
        expect("reply to AUTH", code, 334)
        expect("reply to an empty line instead of \\x01", s.docmd("")[0], 501)


def test_smtp_malformed_response_and_no_initial_response(oauth_provider, oauth_smtp, pki):
    p, srv = oauth_provider, oauth_smtp
    tok = code_grant(p)
    with smtp_session(srv, pki) as s:
        bad = base64.b64encode(b"user=x\x01auth=Basic abc\x01\x01").decode()
        expect("malformed XOAUTH2", s.docmd("AUTH", "XOAUTH2 " + bad)[0], 501)
        expect("AUTH without an initial response", s.docmd("AUTH", "XOAUTH2"), (334, b""))
        expect("the response after 334", s.docmd(xoauth2(p.user, tok["access_token"]))[0], 235)


def test_smtp_implicit_tls(oauth_provider, oauth_smtp_tls, pki):
    p, srv = oauth_provider, oauth_smtp_tls
    tok = code_grant(p)
    with smtp_session(srv, pki) as s:
        code, text = s.docmd("AUTH", "XOAUTH2 " + xoauth2(p.user, tok["access_token"]))
        expect(f"AUTH over implicit TLS ({text!r})", code, 235)
