# tests/servers/aiosmtpd_server.py: a minimal second SMTP server (aiosmtpd) without PIPELINING,
# CHUNKING, DSN (unless --dsn) or ENHANCEDSTATUSCODES; runnable as a script, plus the Aiosmtpd wrapper.
"""Script usage (password on stdin, first line):

  /usr/bin/python3 tests/servers/aiosmtpd_server.py --port P --cert C --key K \
      --user U --password-stdin --maildir DIR [--implicit-tls] [--smtputf8] \
      [--no-8bitmime] [--auth-required] [--dsn] [--host 127.0.0.1]

Prints "ready" on stdout once listening. Exits on SIGTERM/SIGINT or when its stdin
reaches EOF (so it dies with the test run that started it). Each message is stored
as DIR/new/<name> (the raw DATA bytes, CRLF line ends, dot-unstuffed) and its
envelope as DIR/env/<name>.json, written before the message appears in new/; it holds
the MAIL and RCPT arguments as the client sent them ("mail_arg", "rcpt_args"), so the
parameters (DSN's with --dsn, which announces DSN and takes RET, ENVID, NOTIFY, ORCPT)
can be checked exactly.
"""
import argparse
import asyncio
import atexit
import hmac
import itertools
import json
import os
import secrets
import select
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time

if __package__:
    from . import netutil
else:  # run as a script: tests/servers is sys.path[0]
    import netutil

PYTHON = "/usr/bin/python3"  # the python3 first on PATH may lack python3-aiosmtpd

# Extensions this server must never announce (aiosmtpd 1.4 announces none of them
# anyway: SIZE, 8BITMIME, [SMTPUTF8], [STARTTLS], [AUTH], HELP); filtered defensively.
SUPPRESSED = ("PIPELINING", "CHUNKING", "DSN", "ENHANCEDSTATUSCODES", "BINARYMIME")


# --- the server (runs in the child process) ------------------------------------------
class _Store:
    """Writes each accepted message into a Maildir-like directory."""

    def __init__(self, maildir, suppress, dsn=False):
        self.maildir = maildir
        self.suppress = suppress
        self.dsn = dsn
        self.counter = itertools.count(1)
        for sub in ("tmp", "new", "env"):
            os.makedirs(os.path.join(maildir, sub), exist_ok=True)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        kept = []
        for r in responses:
            keyword = r[4:].split(" ", 1)[0].upper()
            if keyword not in self.suppress:
                kept.append(r)
        if self.dsn:
            kept.insert(len(kept) - 1, "250-DSN")
        # Re-terminate: the last line must be "250 " not "250-".
        kept = [("250-" + r[4:]) for r in kept[:-1]] + ["250 " + kept[-1][4:]]
        return kept

    async def handle_DATA(self, server, session, envelope):
        name = f"{time.time_ns()}.{next(self.counter)}.{os.getpid()}"
        ssl_obj = server.transport.get_extra_info("ssl_object") if server.transport else None
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "mail_options": list(envelope.mail_options),
            "rcpt_options": list(envelope.rcpt_options),
            "smtp_utf8": bool(envelope.smtp_utf8),
            "mail_arg": getattr(envelope, "raw_mail", None),
            "rcpt_args": list(getattr(envelope, "raw_rcpts", [])),
            "helo": session.host_name,
            "peer": list(session.peer) if session.peer else None,
            "authenticated": bool(session.authenticated),
            "auth_login": session.auth_data if isinstance(session.auth_data, str) else None,
            "tls_version": ssl_obj.version() if ssl_obj else None,
            "tls_cipher": ssl_obj.cipher()[0] if ssl_obj else None,
        }
        with open(os.path.join(self.maildir, "env", name + ".json"), "w") as f:
            json.dump(meta, f)
        tmp = os.path.join(self.maildir, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(envelope.original_content)
        os.rename(tmp, os.path.join(self.maildir, "new", name))
        # No enhanced status code: ENHANCEDSTATUSCODES is not announced.
        return "250 OK stored as " + name


def _authenticator(user, password):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    want_user = user.encode()
    want_pass = password.encode()

    def check(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = (hmac.compare_digest(auth_data.login, want_user)
              & hmac.compare_digest(auth_data.password, want_pass))
        return AuthResult(success=bool(ok), handled=False,
                          auth_data=user if ok else None)
    return check


def _read_password_line():
    """Read one line from fd 0 unbuffered (fd 0 is watched for EOF afterwards)."""
    buf = b""
    while not buf.endswith(b"\n"):
        c = os.read(0, 1)
        if not c:
            break
        buf += c
    return buf.rstrip(b"\r\n").decode()


def serve(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password-stdin", action="store_true", required=True)
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--implicit-tls", action="store_true")
    ap.add_argument("--smtputf8", action="store_true", help="announce SMTPUTF8")
    ap.add_argument("--no-8bitmime", action="store_true", help="do not announce 8BITMIME")
    ap.add_argument("--auth-required", action="store_true",
                    help="refuse MAIL until AUTH succeeded (530)")
    ap.add_argument("--dsn", action="store_true",
                    help="announce DSN and accept RET, ENVID, NOTIFY and ORCPT")
    ap.add_argument("--size", type=int, default=33554432)
    args = ap.parse_args(argv)

    import logging
    from aiosmtpd.smtp import SMTP

    # stderr goes to the wrapper's server.log
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")

    password = _read_password_line()
    if not password:
        ap.error("empty password on stdin")

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(args.cert, args.key)
    suppress = set(SUPPRESSED)
    if args.no_8bitmime:
        suppress.add("8BITMIME")
    if args.dsn:
        suppress.discard("DSN")
    handler = _Store(args.maildir, suppress, args.dsn)
    auth = _authenticator(args.user, password)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    class Server(SMTP):
        """aiosmtpd with the raw MAIL and RCPT arguments kept, and DSN's parameters taken
        (and only recorded) when --dsn announces DSN."""

        def _getparams(self, params):
            result = super()._getparams(params)
            if result is not None and args.dsn:
                for key in ("RET", "ENVID", "NOTIFY", "ORCPT"):
                    result.pop(key, None)
            return result

        async def smtp_MAIL(self, arg):
            await super().smtp_MAIL(arg)
            self.envelope.raw_mail = arg
            self.envelope.raw_rcpts = []

        async def smtp_RCPT(self, arg):
            await super().smtp_RCPT(arg)
            if hasattr(self.envelope, "raw_rcpts"):
                self.envelope.raw_rcpts.append(arg)

    def factory():
        return Server(
            handler,
            hostname="localhost",
            ident="outbox-test aiosmtpd",
            data_size_limit=args.size,
            enable_SMTPUTF8=args.smtputf8,
            decode_data=False,
            # STARTTLS offered but not required; with implicit TLS the whole
            # connection is encrypted, which aiosmtpd's auth_require_tls can't see.
            tls_context=None if args.implicit_tls else ctx,
            require_starttls=False,
            auth_require_tls=not args.implicit_tls,
            auth_required=args.auth_required,
            authenticator=auth,
            loop=loop,
        )

    server = loop.run_until_complete(loop.create_server(
        factory, host=args.host, port=args.port,
        ssl=ctx if args.implicit_tls else None))
    stop = loop.stop
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)

    def on_stdin():
        try:
            data = os.read(0, 4096)
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(0)
            stop()
    loop.add_reader(0, on_stdin)

    print("ready", flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()


# --- the wrapper (runs in the test process) ------------------------------------------
class Aiosmtpd:
    """Runs aiosmtpd_server.py as a subprocess on a free loopback port.

    STARTTLS (or implicit TLS) with the given cert, AUTH PLAIN/LOGIN as .user /
    .password (only after TLS). messages() returns [(name, raw bytes with CRLF)];
    envelope(name) the recorded envelope.
    """

    def __init__(self, cert, key, user="outbox-user", password=None,
                 implicit_tls=False, smtputf8=False, no_8bitmime=False,
                 auth_required=False, dsn=False, extra_args=(), start_timeout=15.0, host=None, port=None):
        # host/port: where to listen (a 127.x.y.z address of its own, a port a client
        # guesses such as 465); by default 127.0.0.1 and a free port.
        self.cert, self.key = cert, key
        self.user = user
        self.password = password or secrets.token_urlsafe(18)
        self.implicit_tls = implicit_tls
        self.args = []
        if implicit_tls:
            self.args.append("--implicit-tls")
        if smtputf8:
            self.args.append("--smtputf8")
        if no_8bitmime:
            self.args.append("--no-8bitmime")
        if auth_required:
            self.args.append("--auth-required")
        if dsn:
            self.args.append("--dsn")
        self.args += list(extra_args)
        self.start_timeout = start_timeout
        self.host = host or netutil.LOOPBACK4
        self.fixed_port = port
        self.port = None
        self.dir = None
        self.proc = None
        self.startup_seconds = None

    @property
    def maildir(self):
        return os.path.join(self.dir, "mail")

    def start(self):
        t0 = time.monotonic()
        self.dir = tempfile.mkdtemp(prefix="outbox-aiosmtpd-")
        os.makedirs(self.maildir)
        self.port = self.fixed_port or netutil.free_port()
        self._stderr = open(os.path.join(self.dir, "server.log"), "wb")
        atexit.register(self.stop)
        try:
            self.proc = subprocess.Popen(
                [PYTHON, os.path.abspath(__file__), "--host", self.host,
                 "--port", str(self.port), "--cert", self.cert, "--key", self.key,
                 "--user", self.user, "--password-stdin", "--maildir", self.maildir,
                 *self.args],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr)
            # stdin stays open: the server exits when it sees EOF (test run gone).
            self.proc.stdin.write(self.password.encode() + b"\n")
            self.proc.stdin.flush()
            line = _readline_timeout(self.proc.stdout, self.start_timeout)
            if line.strip() != b"ready":
                raise RuntimeError(f"aiosmtpd said {line!r}, not 'ready'")
            netutil.wait_for_220(self.port, self.host, implicit_tls=self.implicit_tls,
                                 timeout=self.start_timeout,
                                 alive=lambda: self.proc.poll() is None)
        except BaseException as e:
            log = self.log()
            self.stop()
            if isinstance(e, Exception):
                raise RuntimeError(f"aiosmtpd failed to start: {e}\n{log}") from e
            raise
        self.startup_seconds = time.monotonic() - t0
        return self

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
            for f in (self.proc.stdin, self.proc.stdout):
                try:
                    f.close()
                except OSError:
                    pass
            self.proc = None
        if self.dir is not None:
            self._stderr.close()
            if not netutil.keep_dirs():
                shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        atexit.unregister(self.stop)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def messages(self):
        """[(name, raw bytes)] from new/, oldest first."""
        new = os.path.join(self.maildir, "new")
        names = sorted(os.listdir(new), key=lambda n: (int(n.split(".")[0]),
                                                         int(n.split(".")[1])))
        out = []
        for name in names:
            with open(os.path.join(new, name), "rb") as f:
                out.append((name, f.read()))
        return out

    def envelope(self, name):
        with open(os.path.join(self.maildir, "env", name + ".json")) as f:
            return json.load(f)

    def wait_messages(self, n, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            msgs = self.messages()
            if len(msgs) >= n:
                return msgs
            if time.monotonic() >= deadline:
                raise TimeoutError(f"want {n} messages, got {len(msgs)} after "
                                   f"{timeout}s\n{self.log()[-3000:]}")
            time.sleep(0.02)

    def wait_message(self, needle, timeout=5.0):
        """(name, bytes) of the first stored message containing needle."""
        if isinstance(needle, str):
            needle = needle.encode()
        deadline = time.monotonic() + timeout
        while True:
            for name, data in self.messages():
                if needle in data:
                    return name, data
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no message contains {needle!r}\n{self.log()[-3000:]}")
            time.sleep(0.02)

    def clear_messages(self):
        for sub in ("new", "env", "tmp"):
            d = os.path.join(self.maildir, sub)
            for name in os.listdir(d):
                try:
                    os.unlink(os.path.join(d, name))
                except FileNotFoundError:
                    pass

    def log(self):
        if self.dir is None:
            return ""
        try:
            with open(os.path.join(self.dir, "server.log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


def _readline_timeout(pipe, timeout):
    buf = b""
    deadline = time.monotonic() + timeout
    fd = pipe.fileno()
    while not buf.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no line from server within {timeout}s (got {buf!r})")
        r, _, _ = select.select([fd], [], [], remaining)
        if r:
            c = os.read(fd, 1)
            if not c:
                raise RuntimeError(f"server exited before ready (got {buf!r})")
            buf += c
    return buf


if __name__ == "__main__":
    serve()
