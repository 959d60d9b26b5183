# tests/servers/oauth_smtp.py: aiosmtpd in a thread of the test that offers only AUTH XOAUTH2
# and OAUTHBEARER and accepts only live access tokens of the test OAuth provider (same process).
"""OAuthSmtp(provider, cert, key, implicit_tls=False, required_scope=None).start()

STARTTLS (AUTH offered only after it) or implicit TLS with the test PKI; MAIL needs a login.
A good token, for the user it was issued to (and carrying required_scope, if given), gets
235. Any other (unknown, expired, revoked, another user's, scope missing) gets the error
exchange of RFC 7628 3.2.2 as Google does it: 334 with base64 JSON
{"status": ..., "schemes": "bearer", "scope": ...} ("401" for XOAUTH2, as Google sends,
"invalid_token" for OAUTHBEARER, as the RFC lists), then the client must answer with the
dummy response (an empty line for XOAUTH2, base64 of "\\x01" for OAUTHBEARER) and gets
Google's 535 5.7.8; any other answer gets 501 (and "*" 501 as RFC 4954 says).

.attempts holds one AuthAttempt per AUTH (mechanism, user, token size, ok, reason, dummy
reply);
.messages one dict per accepted message (mail_from, rcpt_tos, data, user, mechanism).
"""
import asyncio
import base64
import binascii
import collections
import dataclasses
import json
import ssl
import threading
import warnings

from aiosmtpd.smtp import MISSING, SMTP, AuthResult

if __package__:
    from . import netutil
else:
    import netutil

REFUSED = ("535-5.7.8 Username and Password not accepted. For more information, go to\r\n"
           "535 5.7.8  https://support.google.com/mail/?p=BadCredentials oauth-test")
DUMMY = {"XOAUTH2": b"", "OAUTHBEARER": b"\x01"}
ERROR_STATUS = {"XOAUTH2": "401", "OAUTHBEARER": "invalid_token"}


# A long access token makes a long AUTH line (base64 of 10 KiB is 14 KiB); aiosmtpd's own cap
# of 1001 bytes per line and 512 per command would turn it away before the token is looked at.
AUTH_LINE_LIMIT = 64 * 1024


class _LongAuthSMTP(SMTP):
    line_length_limit = AUTH_LINE_LIMIT

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        # An instance's own table: aiosmtpd's is shared by every server in the process.
        self.command_size_limits = collections.defaultdict(lambda: self.command_size_limit)
        self.command_size_limits["AUTH"] = AUTH_LINE_LIMIT


@dataclasses.dataclass
class AuthAttempt:
    mechanism: str
    user: str = None          # as the client named it
    token_size: int = None    # characters of the token the client sent
    ok: bool = False
    reason: str = None        # why it was refused: malformed, unknown, expired, revoked, ...
    dummy_reply: bytes = None  # what the client answered the error challenge with


def parse_xoauth2(raw):
    """(user, token) from "user=U\\x01auth=Bearer T\\x01\\x01", else None."""
    if not raw.endswith(b"\x01\x01"):
        return None
    fields = raw[:-2].split(b"\x01")
    if len(fields) != 2 or not fields[0].startswith(b"user=") \
            or not fields[1].startswith(b"auth=Bearer "):
        return None
    return fields[0][5:].decode("utf-8", "replace"), fields[1][12:].decode("ascii", "replace")


def parse_oauthbearer(raw):
    """(authzid or None, token) from RFC 7628 3.1 "n,a=U,\\x01k=v\\x01...\\x01\\x01"."""
    if not raw.endswith(b"\x01\x01") or b"\x01" not in raw:
        return None
    gs2, _, rest = raw.partition(b"\x01")
    parts = gs2.split(b",")
    if len(parts) != 3 or parts[0] != b"n" or parts[2] != b"":
        return None
    user = None
    if parts[1]:
        if not parts[1].startswith(b"a="):
            return None
        user = parts[1][2:].replace(b"=2C", b",").replace(b"=3D", b"=").decode("utf-8",
                                                                               "replace")
    kv = {}
    for field in rest[:-2].split(b"\x01"):
        key, eq, value = field.partition(b"=")
        if not eq:
            return None
        kv[key] = value
    auth = kv.get(b"auth", b"")
    if not auth.lower().startswith(b"bearer "):
        return None
    return user, auth[7:].decode("ascii", "replace")


class _Handler:
    def __init__(self, bed):
        self.bed = bed

    async def auth_XOAUTH2(self, server, args):
        return await self._login(server, args, "XOAUTH2", parse_xoauth2)

    async def auth_OAUTHBEARER(self, server, args):
        return await self._login(server, args, "OAUTHBEARER", parse_oauthbearer)

    async def _login(self, server, args, mechanism, parse):
        attempt = AuthAttempt(mechanism)
        self.bed.attempts.append(attempt)
        if len(args) == 2:
            try:
                raw = base64.b64decode(args[1], validate=True)
            except binascii.Error:
                raw = None
        else:
            raw = await server.challenge_auth("")
            if raw is MISSING:
                attempt.reason = "aborted"
                return AuthResult(success=False, handled=True)
        parsed = parse(raw) if raw is not None else None
        if parsed is None:
            attempt.reason = "malformed"
            await server.push("501 5.5.2 Syntax error in " + mechanism + " response")
            return AuthResult(success=False, handled=True)
        named, token = parsed
        attempt.user = named
        attempt.token_size = len(token)
        reason = self._refusal(named, token)
        if reason is None:
            attempt.ok = True
            return AuthResult(success=True, auth_data=(mechanism, attempt.user))
        attempt.reason = reason
        challenge = json.dumps({"status": ERROR_STATUS[mechanism], "schemes": "bearer",
                                "scope": self.bed.required_scope or self.bed.provider.scope})
        reply = await server.challenge_auth(challenge)
        if reply is MISSING:                # "*" or not base64: already answered 501
            return AuthResult(success=False, handled=True)
        attempt.dummy_reply = reply
        if reply != DUMMY[mechanism]:
            await server.push("501 5.5.2 Want the dummy response after the error challenge")
            return AuthResult(success=False, handled=True)
        await server.push(REFUSED)
        return AuthResult(success=False, handled=True)

    def _refusal(self, named, token):
        good, reason = self.bed.provider.access_token_check(token)
        if good is None:
            return reason
        user, scope = good
        if named is None:
            return None if self._scoped(scope) else "scope"
        if named != user:
            return "another user's token"
        return None if self._scoped(scope) else "scope"

    def _scoped(self, scope):
        want = self.bed.required_scope
        return want is None or want in scope.split()

    async def handle_DATA(self, server, session, envelope):
        mechanism, user = session.auth_data
        self.bed.messages.append({"mail_from": envelope.mail_from,
                                  "rcpt_tos": list(envelope.rcpt_tos),
                                  "data": envelope.original_content,
                                  "user": user, "mechanism": mechanism})
        return "250 2.0.0 OK queued as oauth-test"


class OAuthSmtp:
    def __init__(self, provider, cert, key, implicit_tls=False, required_scope=None):
        self.provider = provider
        self.cert, self.key = cert, key
        self.implicit_tls = implicit_tls
        self.required_scope = required_scope
        self.host = netutil.LOOPBACK4
        self.port = None
        self.attempts = []
        self.messages = []
        self._loop = None
        self._thread = None

    def _smtp(self, handler, ctx, loop):
        return _LongAuthSMTP(handler, hostname="localhost", ident="outbox-test oauth",
                             decode_data=False,
                             tls_context=None if self.implicit_tls else ctx,
                             require_starttls=not self.implicit_tls,
                             auth_require_tls=not self.implicit_tls, auth_required=True,
                             auth_exclude_mechanism=["PLAIN", "LOGIN"],
                             authenticator=lambda *a: AuthResult(success=False), loop=loop)

    def start(self):
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert, self.key)
        handler = _Handler(self)
        loop = asyncio.new_event_loop()

        def factory():
            with warnings.catch_warnings():
                # aiosmtpd cannot see implicit TLS and warns that AUTH is required without it.
                warnings.simplefilter("ignore", UserWarning)
                return self._smtp(handler, ctx, loop)
        server = loop.run_until_complete(loop.create_server(
            factory, host=self.host, port=0, ssl=ctx if self.implicit_tls else None))
        self.port = server.sockets[0].getsockname()[1]
        self._loop, self._server = loop, server
        self._thread = threading.Thread(target=loop.run_forever, name="oauth-smtp",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._loop is None:
            return
        loop = self._loop

        async def close():
            self._server.close()
            await self._server.wait_closed()
        asyncio.run_coroutine_threadsafe(close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)
        loop.close()
        self._loop = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
