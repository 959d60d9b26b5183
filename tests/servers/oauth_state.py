# tests/servers/oauth_state.py: the test OAuth provider's memory: clients, grants, codes and
# tokens, and every rule about them, apart from HTTP so the SMTP server can check tokens too.
"""One lock guards everything: the HTTP threads and the SMTP server's event loop all come
here, and "five concurrent sends cause one refresh" is only measurable if the counters are
exact. Times are time.monotonic() seconds. Errors are raised as OAuthError(code, status)
carrying the RFC 6749 / RFC 8628 error code the HTTP layer sends as JSON."""
import base64
import collections
import dataclasses
import hashlib
import hmac
import secrets
import threading
import time

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

# RFC 8628 3.5: each slow_down adds 5 seconds to the interval for all later polls. Tests of
# the test bed itself may take a smaller step to stay fast.
SLOW_DOWN_STEP = 5


class OAuthError(Exception):
    def __init__(self, error, status=400, description=None):
        super().__init__(error)
        self.error = error
        self.status = status
        self.description = description


@dataclasses.dataclass
class Grant:
    """One user's consent to one client: what refresh tokens and access tokens hang off."""
    user: str
    scope: str
    revoked: bool = False


@dataclasses.dataclass
class AccessToken:
    grant: Grant
    expires_at: float
    revoked: bool = False


@dataclasses.dataclass
class DeviceRequest:
    scope: str
    user_code: str
    expires_at: float
    interval: float
    last_poll: float          # issue time until the first poll: a client waits before it too
    user: str = None          # set by approve()
    denied: bool = False
    used: bool = False


@dataclasses.dataclass
class AuthCode:
    grant: Grant
    redirect_uri: str
    challenge: str
    expires_at: float
    used: bool = False


def s256(verifier):
    """RFC 7636 4.2: BASE64URL(SHA256(ASCII(verifier))) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OAuthState:
    """Everything the provider knows. Counters (collections.Counter, read with .counters):

    token:<grant> token requests by grant_type (authorization_code, refresh_token, device_code)
    issued:<grant> successful ones; refused:<grant> refused ones (any error)
    device, authorize, revoke           requests to those endpoints
    pending, slow_down, access_denied, expired_token   device-poll answers
    """

    def __init__(self, client_id, client_secret=None, scope="https://mail.example.test/smtp",
                 user="oauth-user@example.test", access_lifetime=3600, device_lifetime=600,
                 interval=1, slow_down_step=SLOW_DOWN_STEP, rotate=False, slack=0.05,
                 style="rfc", access_token_size=None, latency=0.0):
        self.client_id = client_id
        self.client_secret = client_secret
        self.scope = scope
        self.user = user                    # who signs in when a test does not say
        self.access_lifetime = access_lifetime
        self.device_lifetime = device_lifetime
        self.interval = interval
        self.slow_down_step = slow_down_step
        self.rotate = rotate
        # Microsoft's access tokens are JWTs that pass 4 KiB with many group claims: a size
        # in characters makes every access token that long (None: short ones).
        self.access_token_size = access_token_size
        # Where the big providers differ from the RFCs in what a client must cope with:
        # "google" omits refresh_token from a refresh answer and names the device grant's
        # verification_url; "microsoft" sends no verification_uri_complete but a message.
        self.style = style
        # Seconds every answer waits, as a distant provider's does (a benchmark's burst of
        # refreshes overlaps only when a refresh takes as long as a real one).
        self.latency = latency
        # Both clocks are this machine's CLOCK_MONOTONIC, but the time stamps are taken when
        # the request is handled, not sent: a client that waited exactly `interval` may look
        # a few milliseconds early.
        self.slack = slack
        self.lock = threading.Lock()
        self.counters = collections.Counter()
        self.refresh_tokens = {}            # token -> Grant
        self.access_tokens = {}             # token -> AccessToken
        self.devices = {}                   # device_code -> DeviceRequest
        self.codes = {}                     # code -> AuthCode

    # --- client authentication (RFC 6749 2.3) -----------------------------------------
    def check_client(self, client_id, client_secret):
        """A confidential client must send its secret; a public one must send none."""
        if client_id is None or not hmac.compare_digest(client_id, self.client_id):
            raise OAuthError("invalid_client", 401, "unknown client_id")
        if self.client_secret is None:
            if client_secret is not None:
                raise OAuthError("invalid_client", 401, "public client sent a client_secret")
        elif client_secret is None or not hmac.compare_digest(client_secret,
                                                              self.client_secret):
            raise OAuthError("invalid_client", 401, "wrong or missing client_secret")

    # --- issuing ---------------------------------------------------------------------
    def _issue(self, grant, refresh_token=None):
        """A token response; a new refresh token unless one is kept (no rotation)."""
        access = "at-" + secrets.token_urlsafe(24)
        if self.access_token_size:
            pad = self.access_token_size - len(access)
            access += secrets.token_urlsafe(pad)[:pad]
        self.access_tokens[access] = AccessToken(
            grant, time.monotonic() + self.access_lifetime)
        if refresh_token is None:
            refresh_token = "rt-" + secrets.token_urlsafe(24)
            self.refresh_tokens[refresh_token] = grant
        return {"access_token": access, "token_type": "Bearer",
                "expires_in": self.access_lifetime, "refresh_token": refresh_token,
                "scope": grant.scope}

    def _count(self, grant_type, fn):
        key = "device_code" if grant_type == DEVICE_GRANT else grant_type
        self.counters["token:" + key] += 1
        try:
            out = fn()
        except OAuthError:
            self.counters["refused:" + key] += 1
            raise
        self.counters["issued:" + key] += 1
        return out

    def token(self, form):
        """POST /token with the form's fields (client already checked)."""
        grant_type = form.get("grant_type")
        handlers = {"authorization_code": self._token_code,
                    "refresh_token": self._token_refresh,
                    DEVICE_GRANT: self._token_device}
        if grant_type not in handlers:
            raise OAuthError("unsupported_grant_type")
        with self.lock:
            return self._count(grant_type, lambda: handlers[grant_type](form))

    # --- device authorization grant (RFC 8628) ---------------------------------------
    def device_start(self, scope):
        with self.lock:
            self.counters["device"] += 1
            device_code = "dc-" + secrets.token_urlsafe(24)
            letters = "BCDFGHJKLMNPQRSTVWXZ"     # RFC 8628 6.1: no vowels, no look-alikes
            raw = "".join(secrets.choice(letters) for _ in range(8))
            user_code = raw[:4] + "-" + raw[4:]
            now = time.monotonic()
            self.devices[device_code] = DeviceRequest(
                scope or self.scope, user_code, now + self.device_lifetime,
                self.interval, now)
            return device_code, self.devices[device_code]

    def _device_by_user_code(self, user_code):
        for req in self.devices.values():
            if req.user_code == user_code:
                return req
        raise KeyError(f"no device request with user code {user_code!r}")

    def approve(self, user_code, user=None):
        with self.lock:
            self._device_by_user_code(user_code).user = user or self.user

    def deny(self, user_code):
        with self.lock:
            self._device_by_user_code(user_code).denied = True

    def expire_device(self, user_code):
        with self.lock:
            self._device_by_user_code(user_code).expires_at = time.monotonic()

    def _token_device(self, form):
        req = self.devices.get(form.get("device_code", ""))
        if req is None or req.used:
            raise OAuthError("invalid_grant", description="unknown or used device_code")
        now = time.monotonic()
        if now >= req.expires_at:
            self.counters["expired_token"] += 1
            raise OAuthError("expired_token")
        if req.denied:
            self.counters["access_denied"] += 1
            raise OAuthError("access_denied")
        early = now - req.last_poll < req.interval - self.slack
        req.last_poll = now
        if early:
            req.interval += self.slow_down_step
            self.counters["slow_down"] += 1
            raise OAuthError("slow_down")
        if req.user is None:
            self.counters["pending"] += 1
            raise OAuthError("authorization_pending")
        req.used = True
        return self._issue(Grant(req.user, req.scope))

    # --- authorization code grant with PKCE (RFC 7636) -------------------------------
    def code_issue(self, redirect_uri, challenge, scope, user=None):
        with self.lock:
            self.counters["authorize"] += 1
            code = "ac-" + secrets.token_urlsafe(24)
            self.codes[code] = AuthCode(Grant(user or self.user, scope or self.scope),
                                        redirect_uri, challenge, time.monotonic() + 60)
            return code

    def _token_code(self, form):
        code = self.codes.get(form.get("code", ""))
        if code is None or code.used or time.monotonic() >= code.expires_at:
            raise OAuthError("invalid_grant", description="unknown, used or expired code")
        code.used = True     # RFC 6749 4.1.2: a code is good once, even if this fails
        if form.get("redirect_uri") != code.redirect_uri:
            raise OAuthError("invalid_grant", description="redirect_uri differs")
        verifier = form.get("code_verifier", "")
        if not 43 <= len(verifier) <= 128:
            raise OAuthError("invalid_request", description="code_verifier length")
        if not hmac.compare_digest(s256(verifier), code.challenge):
            raise OAuthError("invalid_grant", description="code_verifier does not match")
        return self._issue(code.grant)

    # --- refresh (RFC 6749 6) ---------------------------------------------------------
    def _token_refresh(self, form):
        token = form.get("refresh_token", "")
        grant = self.refresh_tokens.get(token)
        if grant is None or grant.revoked:
            raise OAuthError("invalid_grant", description="unknown, used or revoked "
                                                          "refresh_token")
        if self.rotate:
            del self.refresh_tokens[token]
            return self._issue(grant)
        out = self._issue(grant, refresh_token=token)
        if self.style == "google":
            del out["refresh_token"]        # Google answers a refresh without one
        return out

    # --- revocation (RFC 7009) and the test's own levers ------------------------------
    def revoke(self, token):
        """RFC 7009 2.2: unknown tokens are not an error. A refresh token takes its whole
        grant with it (as Google does); an access token only itself."""
        with self.lock:
            self.counters["revoke"] += 1
            if token in self.refresh_tokens:
                self.refresh_tokens[token].revoked = True
            elif token in self.access_tokens:
                self.access_tokens[token].revoked = True

    def revoke_user(self, user=None):
        """The user (the default one if None) removes the app's access at the provider:
        every grant of theirs ends, with its refresh and access tokens."""
        with self.lock:
            for grant in self._grants(user):
                grant.revoked = True

    def expire_access_tokens(self, user=None):
        """Every access token of the user (all users if None) expires now."""
        with self.lock:
            now = time.monotonic()
            for tok in self.access_tokens.values():
                if user is None or tok.grant.user == user:
                    tok.expires_at = min(tok.expires_at, now)

    def _grants(self, user):
        want = user or self.user
        grants = list(self.refresh_tokens.values())
        grants += [t.grant for t in self.access_tokens.values()]
        return [g for g in grants if g.user == want]

    def access_token_check(self, token):
        """(user, scope) the access token is good for now, or the reason it is not."""
        with self.lock:
            tok = self.access_tokens.get(token)
            if tok is None:
                return None, "unknown"
            if tok.revoked or tok.grant.revoked:
                return None, "revoked"
            if time.monotonic() >= tok.expires_at:
                return None, "expired"
            return (tok.grant.user, tok.grant.scope), None

    def live_refresh_tokens(self, user=None):
        with self.lock:
            return [t for t, g in self.refresh_tokens.items()
                    if not g.revoked and (user is None or g.user == user)]
