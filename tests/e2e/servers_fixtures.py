# tests/e2e/servers_fixtures.py: pytest fixtures for the real loopback SMTP servers of
# tests/servers (test PKI, Postfix, aiosmtpd, smtp-sink, dnsmasq, a name server that never
# answers); conftest imports them with *.
import os
import shutil
import socket
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import servers  # noqa: E402
from servers import netutil  # noqa: E402
from servers.oauth_provider import OAuthProvider  # noqa: E402
from servers.oauth_smtp import OAuthSmtp  # noqa: E402
from servers.dnsmasq import Dnsmasq  # noqa: E402

__all__ = ["pki", "postfix_session", "postfix", "aiosmtpd_session", "aiosmtpd_srv",
           "aiosmtpd_factory", "smtp_sink", "oauth_provider", "oauth_smtp", "oauth_smtp_tls", "dnsmasq",
           "silent_resolver"]


@pytest.fixture(scope="session")
def pki():
    """servers.Pki: test CA, good server/client certs and the bad server certs."""
    d = tempfile.mkdtemp(prefix="outbox-pki-")
    try:
        yield servers.make_pki(d)
    finally:
        if not netutil.keep_dirs():
            shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def postfix_session(pki):
    """One real Postfix for the whole run (starts in about half a second)."""
    pf = servers.Postfix(pki)
    pf.start()
    try:
        yield pf
    finally:
        pf.stop()


@pytest.fixture
def postfix(postfix_session):
    """The session's Postfix with an empty Maildir; still, prefer finding your
    message by a unique marker (wait_message) over counting."""
    postfix_session.clear_messages()
    yield postfix_session


@pytest.fixture(scope="session")
def aiosmtpd_session(pki):
    """aiosmtpd with STARTTLS + AUTH PLAIN/LOGIN (after TLS only), no PIPELINING,
    CHUNKING, DSN or ENHANCEDSTATUSCODES."""
    srv = servers.Aiosmtpd(pki.server_cert, pki.server_key)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def aiosmtpd_srv(aiosmtpd_session):
    aiosmtpd_session.clear_messages()
    yield aiosmtpd_session


@pytest.fixture
def aiosmtpd_factory(pki):
    """aiosmtpd_factory(implicit_tls=True, smtputf8=True, cert=..., key=..., ...)
    starts a private aiosmtpd for one test; stopped at teardown."""
    started = []

    def make(cert=None, key=None, **kw):
        srv = servers.Aiosmtpd(cert or pki.server_cert, key or pki.server_key, **kw)
        started.append(srv)
        return srv.start()
    try:
        yield make
    finally:
        for srv in started:
            srv.stop()


@pytest.fixture
def smtp_sink():
    """smtp_sink(["-r", "RCPT"], ...) starts Postfix's smtp-sink with those options
    on a free loopback port; every sink is stopped at teardown."""
    started = []

    def make(options=(), **kw):
        sink = servers.SmtpSink(options, **kw)
        started.append(sink)
        return sink.start()
    try:
        yield make
    finally:
        for sink in started:
            sink.stop()


@pytest.fixture
def oauth_provider():
    """A fresh OAuth provider (tests/servers/oauth_provider.py) on http://127.0.0.1, public
    client "outbox-test-client", device interval 1 s; change it with .configure(...)."""
    with OAuthProvider(interval=1) as provider:
        yield provider


@pytest.fixture
def oauth_smtp(oauth_provider, pki):
    """STARTTLS SMTP offering only XOAUTH2/OAUTHBEARER, for oauth_provider's live tokens."""
    with OAuthSmtp(oauth_provider, pki.server_cert, pki.server_key) as srv:
        yield srv


@pytest.fixture
def oauth_smtp_tls(oauth_provider, pki):
    """oauth_smtp with implicit TLS (port 465 style)."""
    with OAuthSmtp(oauth_provider, pki.server_cert, pki.server_key, implicit_tls=True) as srv:
        yield srv


@pytest.fixture
def dnsmasq():
    """dnsmasq(srv=[...], mx=[...], hosts=[...], txt=[...], local=["test"]) starts a real name
    server (tests/servers/dnsmasq.py) on 127.0.0.1 with only those records; .address is the
    --resolver value. Every one started is stopped at teardown."""
    started = []

    def make(**kw):
        server = Dnsmasq(**kw)
        started.append(server)
        return server.start()
    try:
        yield make
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def silent_resolver():
    """A real UDP socket that takes DNS queries and never answers (a name server behind a network
    that drops its packets); the value is its --resolver address, 127.0.0.1:PORT."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        yield "127.0.0.1:%d" % s.getsockname()[1]
