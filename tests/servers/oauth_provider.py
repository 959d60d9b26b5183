# tests/servers/oauth_provider.py: a real OAuth 2.0 authorization server on loopback for the
# OAuth tests (device grant, code + PKCE, refresh, revocation), run in a thread of the test.
"""The OAuth test bed: OAuthProvider (this file, HTTP) keeps its grants and tokens in
oauth_state.OAuthState, and OAuthSmtp (oauth_smtp.py, aiosmtpd) accepts AUTH XOAUTH2 and
OAUTHBEARER only with access tokens this provider issued and that are still valid, for the
user they were issued to. Both run in threads of the test process and share that state, so a
test can approve a sign-in, expire or revoke tokens and count requests directly.

    with OAuthProvider(client_id="outbox-test", interval=1, access_lifetime=2) as p:
        p.base_url                     # http://127.0.0.1:PORT (https:// with tls=(cert, key))
        p.device_url, p.authorize_url, p.token_url, p.revoke_url

Endpoints (form-encoded POSTs answer JSON, errors as RFC 6749 5.2 {"error": ...}):
  POST /device     RFC 8628 3.1: device_code, user_code, verification_uri(_complete),
                   expires_in, interval. Polling POST /token (grant_type device_code) answers
                   authorization_pending until approved, slow_down when polled sooner than the
                   interval after the last poll (or after /device: a client waits before its
                   first poll too) and then slow_down_step (5 s, RFC 8628 3.5) more for every
                   later poll, access_denied, expired_token after expires_in; the code is good
                   for one token response.
  GET /activate?user_code=C[&action=deny]   the "browser" a device-grant user opens:
                   signs in as p.user (or &user=) and approves; p.approve(C) does the same.
  GET /authorize   RFC 6749 4.1 + RFC 7636 + RFC 8252: response_type=code, the client_id,
                   redirect_uri http://127.0.0.1:PORT/... or http://[::1]:PORT/... (loopback
                   IP, explicit port; anything else is answered 400 here, never redirected),
                   code_challenge_method=S256, code_challenge and state required; signs in as
                   p.browser_user (default p.user) and 302s to redirect_uri?code=..&state=..,
                   or ?error=access_denied&state=.. when p.consent is False.
  POST /token      authorization_code (code once, same redirect_uri, code_verifier checked
                   against the S256 challenge), refresh_token (rotate=True: a new refresh
                   token each time and the old one refused after use), device_code.
  POST /revoke     RFC 7009: 200 for any token; a refresh token takes its grant with it.
Client authentication on /device, /token and /revoke: client_id in the form, and the secret
(only when client_secret= was given; a public client sending one is refused) in the form or
as HTTP Basic; anything else is invalid_client (401). Unknown, used or revoked codes and
refresh tokens are invalid_grant.

style="google" or "microsoft" (configure or constructor) answers as those providers do where
a client must cope: Google names verification_url, sends no verification_uri_complete and
no refresh_token in a refresh answer; Microsoft sends a message instead of
verification_uri_complete.

Test levers: configure(rotate=True, access_lifetime=2, interval=1, ...) between requests;
approve/deny/expire_device(user_code); expire_access_tokens(user=None: everyone's);
revoke_user(user); fail_next(path, status, body) for the next request to path;
access_token_check(token); counters (see OAuthState); requests [(method, path, fields)].
expires_in and interval are sent as given: give outbox whole seconds (the smoke test uses
fractions to stay fast). oauth_browser.py is the scripted browser ($BROWSER) for the code grant.
"""
import base64
import json
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

if __package__:
    from .oauth_state import OAuthError, OAuthState
else:
    from oauth_state import OAuthError, OAuthState

LOOPBACK_HOSTS = ("127.0.0.1", "::1")


class OAuthProvider:
    def __init__(self, client_id="outbox-test-client", client_secret=None, tls=None,
                 **state_options):
        self.state = OAuthState(client_id, client_secret, **state_options)
        self.tls = tls                      # (cert, key) for https, else plain http
        self.browser_user = None
        self.consent = True
        self.requests = []
        self.errors = []                    # handler failures (e.g. a refused TLS handshake)
        self._faults = {}
        self._httpd = None
        self._thread = None

    # --- delegation to the shared state -----------------------------------------------
    def __getattr__(self, name):
        # approve, deny, expire_device, expire_access_tokens, revoke_user,
        # access_token_check, live_refresh_tokens, counters, user, client_id, ...
        if name.startswith("_") or "state" not in self.__dict__:
            raise AttributeError(name)
        return getattr(self.state, name)

    @property
    def base_url(self):
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self._httpd.server_address[1]}"

    device_url = property(lambda self: self.base_url + "/device")
    authorize_url = property(lambda self: self.base_url + "/authorize")
    token_url = property(lambda self: self.base_url + "/token")
    revoke_url = property(lambda self: self.base_url + "/revoke")

    def configure(self, **options):
        """Change the provider's settings between requests: rotate, access_lifetime,
        interval, slow_down_step, device_lifetime, client_secret, scope, user, style, latency."""
        with self.state.lock:
            for name, value in options.items():
                if not hasattr(self.state, name) or name.startswith("_") or \
                        callable(getattr(self.state, name)):
                    raise AttributeError(f"the provider has no setting {name!r}")
                setattr(self.state, name, value)
        return self

    def fail_next(self, path, status=503, body=None):
        """The next request to path gets this status and JSON body instead of its answer."""
        with self.state.lock:
            self._faults[path] = (status, body or {"error": "temporarily_unavailable"})

    def _take_fault(self, path):
        with self.state.lock:
            return self._faults.pop(path, None)

    # --- life cycle --------------------------------------------------------------------
    def start(self):
        provider = self

        class Handler(_Handler):
            pass
        Handler.provider = provider
        self._httpd = _Server(("127.0.0.1", 0), Handler)
        self._httpd.provider = provider
        # serve_forever selects, then accepts on a blocking socket: a connection the client gave
        # up between the two leaves accept() waiting for ever, and stop() with it. A timeout makes
        # that accept fail (ignored by socketserver) and the loop go on.
        self._httpd.socket.settimeout(1.0)
        if self.tls:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(*self.tls)
            # The handshake happens in the request's thread, so a client that refuses the
            # certificate cannot stall the accept loop.
            self._httpd.socket = ctx.wrap_socket(self._httpd.socket, server_side=True,
                                                 do_handshake_on_connect=False)
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        name="oauth-provider", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(10)
            self._httpd = None
        if self.errors:
            # A test that failed because the provider did shows why in its captured output.
            print("oauth_provider: handler errors:", *self.errors, sep="\n  ", file=sys.stderr)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        import sys
        self.provider.errors.append(repr(sys.exc_info()[1]))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    provider = None
    timeout = 30                            # an idle kept-alive connection ends its thread

    def log_message(self, fmt, *args):
        pass                                # the test asserts on .requests instead

    # --- answers ---------------------------------------------------------------------
    def _send(self, status, body, ctype, extra=()):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")   # RFC 6749 5.1
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status, obj):
        self._send(status, json.dumps(obj), "application/json")

    def _error(self, e):
        body = {"error": e.error}
        if e.description:
            body["error_description"] = e.description
        extra = [("WWW-Authenticate", 'Basic realm="oauth-test"')] if e.status == 401 else []
        self._send(e.status, json.dumps(body), "application/json", extra)

    def _page(self, status, text):
        self._send(status, f"<!doctype html><title>test provider</title><p>{text}</p>\n",
                   "text/html; charset=utf-8")

    def _redirect(self, uri, params):
        sep = "&" if "?" in uri else "?"
        self._send(302, "", "text/plain", [("Location", uri + sep +
                                            urllib.parse.urlencode(params))])

    # --- input -----------------------------------------------------------------------
    def _form(self):
        """The form fields of a POST; RFC 6749 3.2: each at most once."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            raise OAuthError("invalid_request", description="want a form-encoded body")
        pairs = urllib.parse.parse_qsl(body, keep_blank_values=True)
        form = dict(pairs)
        if len(form) != len(pairs):
            raise OAuthError("invalid_request", description="a parameter repeated")
        return form

    def _client(self, form):
        """(client_id, secret) from HTTP Basic (RFC 6749 2.3.1) or the form."""
        auth = self.headers.get("Authorization")
        if auth and auth.lower().startswith("basic "):
            try:
                raw = base64.b64decode(auth[6:].strip(), validate=True).decode()
                cid, secret = raw.split(":", 1)
            except Exception:
                raise OAuthError("invalid_client", 401, "bad Basic credentials")
            return urllib.parse.unquote_plus(cid), urllib.parse.unquote_plus(secret)
        return form.get("client_id"), form.get("client_secret")

    # --- routing -----------------------------------------------------------------------
    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")

    def _route(self, method):
        p = self.provider
        url = urllib.parse.urlsplit(self.path)
        routes = {("POST", "/device"): self._device, ("POST", "/token"): self._token,
                  ("POST", "/revoke"): self._revoke, ("GET", "/authorize"): self._authorize,
                  ("GET", "/activate"): self._activate}
        try:
            if method == "GET":
                fields = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            else:
                fields = self._form()
            p.requests.append((method, url.path, fields))
            if p.state.latency:
                time.sleep(p.state.latency)
            fault = p._take_fault(url.path)
            if fault:
                return self._json(*fault)
            handler = routes.get((method, url.path))
            if handler is None:
                return self._page(404, "no such endpoint")
            handler(fields)
        except OAuthError as e:
            self._error(e)

    # --- endpoints ---------------------------------------------------------------------
    def _device(self, form):
        st = self.provider.state
        st.check_client(*self._client(form))
        device_code, req = st.device_start(form.get("scope"))
        verify = self.provider.base_url + "/activate"
        body = {"device_code": device_code, "user_code": req.user_code,
                "verification_uri": verify,
                "verification_uri_complete": verify + "?" + urllib.parse.urlencode(
                    {"user_code": req.user_code}),
                "expires_in": st.device_lifetime, "interval": st.interval}
        if st.style == "google":
            body["verification_url"] = body.pop("verification_uri")
            del body["verification_uri_complete"]
        elif st.style == "microsoft":
            del body["verification_uri_complete"]
            body["message"] = (f"To sign in, use a web browser to open the page {verify} "
                               f"and enter the code {req.user_code} to authenticate.")
        self._json(200, body)

    def _token(self, form):
        st = self.provider.state
        st.check_client(*self._client(form))
        self._json(200, st.token(form))

    def _revoke(self, form):
        st = self.provider.state
        st.check_client(*self._client(form))
        st.revoke(form.get("token", ""))
        self._send(200, "", "text/plain")

    def _activate(self, query):
        code = query.get("user_code")
        if not code:
            return self._page(200, "Enter the code shown on your device.")
        try:
            if query.get("action") == "deny":
                self.provider.state.deny(code)
                return self._page(200, "Access denied.")
            self.provider.state.approve(code, query.get("user"))
        except KeyError:
            return self._page(404, "That code is not known.")
        self._page(200, "Signed in. You may close this window.")

    def _authorize(self, q):
        p = self.provider
        redirect = q.get("redirect_uri", "")
        # RFC 6749 4.1.2.1: a bad client or redirect URI is told to the user, never redirected.
        if q.get("client_id") != p.state.client_id:
            return self._page(400, "invalid_client: unknown client_id")
        if not _loopback_redirect(redirect):
            return self._page(400, "invalid_request: redirect_uri must be "
                                   "http://127.0.0.1:PORT/... or http://[::1]:PORT/...")
        state = q.get("state")
        problem = None
        if not state:
            problem = "state missing"
        elif q.get("response_type") != "code":
            problem = "response_type must be code"
        elif q.get("code_challenge_method") != "S256":
            problem = "code_challenge_method must be S256"
        elif len(q.get("code_challenge", "")) != 43:
            problem = "code_challenge must be 43 base64url characters"
        if problem:
            params = {"error": "invalid_request", "error_description": problem}
            if state:
                params["state"] = state
            return self._redirect(redirect, params)
        if not p.consent:
            return self._redirect(redirect, {"error": "access_denied", "state": state})
        code = p.state.code_issue(redirect, q["code_challenge"], q.get("scope"),
                                  p.browser_user)
        self._redirect(redirect, {"code": code, "state": state})


def _loopback_redirect(uri):
    """RFC 8252 7.3: http, a loopback IP literal and the client's own port."""
    try:
        u = urllib.parse.urlsplit(uri)
        port = u.port
    except ValueError:
        return False
    return (u.scheme == "http" and u.hostname in LOOPBACK_HOSTS and port is not None
            and not u.username and not u.fragment)
