# tests/servers/faultserver.py: a scripted, deliberately misbehaving SMTP server, only for the
# faults real servers (Postfix, aiosmtpd) cannot be made to produce; runs as a thread of pytest.
"""Scripted fault-injection SMTP server on 127.0.0.1.

One connection at a time (several sequential ones), served by a background thread;
real TLS through the ssl module, commands read by lines from a buffer so pipelined
input is answered in order.

    with FaultServer(cert=pem, key=key, tls_mode="starttls",
                     ehlo=["PIPELINING", "8BITMIME", "AUTH PLAIN LOGIN", "STARTTLS"],
                     script={"greeting": Reply(220, "hi"),
                             "rcpt": [250, Reply(550, "5.1.1 no such user"), 450],
                             "data_end": Disconnect(),
                             "starttls": InjectAfter(Reply(220, "go"), "250 fake\\r\\n")}) as srv:
        ...connect to 127.0.0.1:srv.port...

Options
    tls_mode        "starttls" (plain first, STARTTLS works if advertised), "implicit" (TLS from
                    the first byte) or "none"; cert/key (PEM paths) are needed unless "none".
    ehlo            capability lines after the EHLO greeting line; default PIPELINING, 8BITMIME,
                    AUTH PLAIN LOGIN, plus STARTTLS in starttls mode.
    ehlo_after_tls  the list once TLS is up; default: ehlo without STARTTLS.
    script          {step: action}; applies to every connection. A list of such dicts gives one
                    per sequential connection (the last one repeats).
    batch_replies   False (default): each reply is sent as soon as it is decided. True: as Postfix
                    does, replies wait while the client's next command is already received, and
                    go out in ONE send once its input is used up (before the server waits for
                    more, starts TLS or closes); so a pipelining client reads them in one piece,
                    e.g. the reply to the data, an injected line and the 221 to a pipelined QUIT.

Steps and their defaults (used when a step is not scripted)
    greeting  220                   ehlo      250 + capabilities (resets the transaction)
    helo      250                   starttls  220 + handshake if STARTTLS is advertised and TLS
    auth      235, after the SASL             is not up yet; 503 if TLS is up; else 502
              exchange (PLAIN and LOGIN accept anything; XOAUTH2, OAUTHBEARER and EXTERNAL
              accept their initial response, recorded whole; other mechanisms get 504)
    mail      250                   rcpt      250 (503 without MAIL)
    data      354 (503 without MAIL, 554 without an accepted RCPT)
    data_end  250, after the final "."         bdat  250 per chunk, once the chunk is read
    rset 250   noop 250   quit 221 (then close)   unknown (any other verb) 500

Actions (a value may also be a list: the n-th occurrence of the step in a connection gets
the n-th item; past its end, or None, means the default)
    Reply(code, text=None)      text: str, or list of str for a multi-line reply; a bare int
                                is short for Reply(int)
    InjectAfter(reply, extra)   reply and extra bytes in ONE send (then behave as reply's code,
                                so at STARTTLS a 220 still starts the handshake)
    Raw(data, code=None)        exact bytes; code (if any) drives the state as below
    Disconnect()                close without replying
    Silence()                   never reply; ends when the client leaves or stop() is called
    Late(reply, seconds)        the reply, after a pause (to outlast the client's timeout)
    Trickle(reply, interval=1.0)   the reply (a Reply or Raw) one byte at a time, `interval`
                                seconds apart (under TLS one record per byte): never silent for
                                long, never complete in time; ends early when the client leaves
                                or stop() is called
    HugeLine(size=100_000, code=250)   one reply line of size bytes including CRLF
    EndlessMultiline(code=250, text="x")   "250-x" lines until the client leaves or stop()

The code actually sent drives the state: MAIL and RCPT are accepted on 2xx, DATA reads the
message on 354, STARTTLS does the handshake on 220, QUIT closes after any reply, and any 421
closes the connection after it is sent. Plaintext pipelined after STARTTLS is discarded.

Recording
    srv.connections[i]   Connection: a list of Event(direction "in"/"out", data bytes, tls bool),
                         one "in" event per received line (per chunk for BDAT), one "out" per send
                         (an endless reply: its first chunk only); attributes
                         .commands [(text, tls)], .auths [(mech, user, password, tls)],
                         .discarded (plaintext pipelined after STARTTLS), .ended (why it
                         ended), .done (threading.Event)
    srv.messages         Message(mail_from, rcpt_to accepted, data, tls, connection, reply)
    srv.received_commands(tls=None)    command lines (auth responses included) of all
                         connections; tls=False gives only those received in clear
    srv.wait_done(n=1, timeout=5)      wait until connection n has ended
    start() / stop() / context manager; stop() unblocks silent or streaming handlers within
    `poll` seconds and raises RuntimeError if a handler crashed (a bug here, not a client fault).
"""
import base64
import re
import socket
import ssl
import threading
import time
import traceback
from collections import namedtuple
from dataclasses import dataclass

LOOPBACK = "127.0.0.1"
STEPS = {"greeting", "ehlo", "helo", "starttls", "auth", "mail", "rcpt", "data", "data_end",
         "bdat", "rset", "noop", "quit", "unknown"}
VERBS = {"EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "QUIT"}


# -- actions ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reply:
    code: int
    text: object = None

    def encode(self):
        if isinstance(self.text, (list, tuple)):
            lines = list(self.text) or [""]
        else:
            lines = ["scripted reply" if self.text is None else self.text]
        out = [f"{self.code}-{line}\r\n" for line in lines[:-1]]
        out.append(f"{self.code} {lines[-1]}\r\n")
        return "".join(out).encode()


@dataclass(frozen=True)
class InjectAfter:
    reply: Reply
    extra: object  # str or bytes


@dataclass(frozen=True)
class Raw:
    data: object  # str or bytes
    code: int = None


@dataclass(frozen=True)
class Disconnect:
    pass


@dataclass(frozen=True)
class Silence:
    pass


@dataclass(frozen=True)
class Late:
    """The reply, sent only after `seconds`: a server slower than the client's timeout."""
    reply: Reply
    seconds: float


@dataclass(frozen=True)
class Trickle:
    """The reply a byte at a time: a server that keeps sending but never finishes in time."""
    reply: object  # Reply or Raw
    interval: float = 1.0


@dataclass(frozen=True)
class HugeLine:
    size: int = 100_000
    code: int = 250


@dataclass(frozen=True)
class EndlessMultiline:
    code: int = 250
    text: str = "x"


# -- records ------------------------------------------------------------------------------

Event = namedtuple("Event", "direction data tls")


class Connection(list):
    """The transcript of one connection: a list of Events, plus what it amounted to."""

    def __init__(self, index):
        super().__init__()
        self.index = index
        self.commands = []   # (text, tls)
        self.auths = []      # (mechanism, user, password, tls)
        self.discarded = b""
        self.ended = None
        self.done = threading.Event()


@dataclass
class Message:
    mail_from: str
    rcpt_to: list
    data: bytes
    tls: bool
    connection: int
    reply: int = None  # the code sent after the data; None if none was sent


class _Closed(Exception):
    """The connection is over: the client left, the script closed it, or stop() was called."""


def _bytes(value):
    return value.encode() if isinstance(value, str) else bytes(value)


def _ok(code):
    return code is not None and 200 <= code < 300


def _path(arg):
    m = re.search(r"<([^>]*)>", arg)
    return m.group(1) if m else arg.partition(":")[2].strip()


# -- the server ---------------------------------------------------------------------------

class FaultServer:
    def __init__(self, cert=None, key=None, tls_mode="starttls", ehlo=None, ehlo_after_tls=None,
                 script=None, hostname="faultserver.test", poll=0.05, batch_replies=False):
        if tls_mode not in ("starttls", "implicit", "none"):
            raise ValueError(f"tls_mode must be starttls, implicit or none, not {tls_mode!r}")
        if tls_mode != "none" and not (cert and key):
            raise ValueError(f"tls_mode={tls_mode!r} needs cert and key")
        self.ctx = None
        if cert:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(cert, key)
        if ehlo is None:
            ehlo = ["PIPELINING", "8BITMIME", "AUTH PLAIN LOGIN"]
            ehlo += ["STARTTLS"] if tls_mode == "starttls" else []
        self.ehlo = list(ehlo)
        self.ehlo_after_tls = list(ehlo_after_tls if ehlo_after_tls is not None
                                   else [c for c in self.ehlo if c.upper() != "STARTTLS"])
        self.scripts = list(script) if isinstance(script, (list, tuple)) else [script or {}]
        for s in self.scripts:
            unknown = set(s) - STEPS
            if unknown:
                raise ValueError(f"unknown script steps {sorted(unknown)}; known: {sorted(STEPS)}")
        self.tls_mode, self.hostname, self.poll = tls_mode, hostname, poll
        self.batch_replies = batch_replies
        self.host, self.port = LOOPBACK, None
        self.connections, self.messages, self.errors = [], [], []
        self._stop = threading.Event()
        self._listener = self._thread = None

    def start(self):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind((LOOPBACK, 0))
        listener.listen(8)
        listener.settimeout(self.poll)
        self._listener, self.port = listener, listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name=f"faultserver:{self.port}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout=5.0, check=True):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise RuntimeError(f"faultserver on port {self.port} did not stop in {timeout}s")
        if self._listener is not None:
            self._listener.close()
        if check and self.errors:
            raise RuntimeError("faultserver handler crashed:\n" + "\n".join(self.errors))

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        self.stop(check=exc_type is None)  # don't mask the test's own failure

    def received_commands(self, tls=None):
        return [text for conn in list(self.connections) for text, on in conn.commands
                if tls is None or on == tls]

    def wait_done(self, n=1, timeout=5.0):
        """True once the n-th connection (1-based) has ended, False on timeout."""
        deadline = time.monotonic() + timeout
        while len(self.connections) < n:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return self.connections[n - 1].done.wait(max(0.0, deadline - time.monotonic()))

    def _serve(self):
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            conn = Connection(len(self.connections))
            self.connections.append(conn)
            script = self.scripts[min(conn.index, len(self.scripts) - 1)]
            _Session(self, sock, conn, script).run()


class _Session:
    """One connection: reads lines, picks scripted or default actions, keeps the state."""

    def __init__(self, server, sock, conn, script):
        self.srv, self.sock, self.conn, self.script = server, sock, conn, script
        self.sock.settimeout(server.poll)
        self.tls = False
        self.buf = bytearray()
        self.held = bytearray()  # batch_replies: replies not sent yet
        self.counts = {}
        self.reset()

    def reset(self):
        self.mail_from, self.rcpts, self.chunks = None, [], []

    def run(self):
        try:
            if self.srv.tls_mode == "implicit":
                self.start_tls()
            self.act("greeting", Reply(220, f"{self.srv.hostname} ESMTP faultserver"))
            while True:
                self.command(self.readline())
        except _Closed as e:
            self.conn.ended = str(e)
        except Exception as e:  # a bug in this module or in a test's script
            self.conn.ended = f"server error: {e!r}"
            self.srv.errors.append(traceback.format_exc())
        finally:
            try:
                self.flush()
            except _Closed:
                pass
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()
            self.conn.done.set()

    # -- I/O: short timeouts so that stop() and client hang-ups are noticed promptly --

    def recv(self):
        self.flush()  # the client may be waiting for the replies held so far
        while True:
            if self.srv._stop.is_set():
                raise _Closed("server stopped")
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError as e:
                raise _Closed(f"receive failed: {e}") from None
            if not data:
                raise _Closed("client closed")
            return data

    def send(self, data):
        self.conn.append(Event("out", data, self.tls))
        if self.srv.batch_replies:
            self.held += data
            if b"\n" not in self.buf:  # no command waiting: the client waits for these
                self.flush()
            return
        self.write(data)

    def flush(self):
        if self.held:
            data, self.held = bytes(self.held), bytearray()
            self.write(data)

    def write(self, data):
        view = memoryview(data)
        while view:
            if self.srv._stop.is_set():
                raise _Closed("server stopped")
            try:
                view = view[self.sock.send(view):]
            except socket.timeout:
                continue  # a TLS write must be retried with the same data: it is
            except OSError as e:
                raise _Closed(f"send failed: {e}") from None

    def readline(self):
        start = 0
        while (i := self.buf.find(b"\n", start)) < 0:
            start = len(self.buf)
            self.buf += self.recv()
        line = bytes(self.buf[:i + 1])
        del self.buf[:i + 1]
        self.conn.append(Event("in", line, self.tls))
        return line

    def readexact(self, n):
        while len(self.buf) < n:
            self.buf += self.recv()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        self.conn.append(Event("in", data, self.tls))
        return data

    def start_tls(self):
        self.flush()
        if self.srv.ctx is None:
            raise RuntimeError("TLS requested but the FaultServer has no cert/key")
        try:
            self.sock = self.srv.ctx.wrap_socket(self.sock, server_side=True,
                                                 do_handshake_on_connect=False)
        except OSError as e:
            raise _Closed(f"TLS setup failed: {e}") from None
        while True:
            if self.srv._stop.is_set():
                raise _Closed("server stopped")
            try:
                self.sock.do_handshake()
                break
            except socket.timeout:
                continue
            except OSError as e:
                raise _Closed(f"TLS handshake failed: {e}") from None
        self.tls = True

    # -- actions --

    def act(self, step, default):
        """Perform the scripted (or default) action for this occurrence of step; returns
        the reply code sent (None for Raw without a code)."""
        n = self.counts.get(step, 0)
        self.counts[step] = n + 1
        action = self.script.get(step)
        if isinstance(action, (list, tuple)):
            action = action[n] if n < len(action) else None
        if action is None:
            action = default
        if isinstance(action, int):
            action = Reply(action)
        return self.perform(action)

    def perform(self, a):
        if isinstance(a, Reply):
            code, data = a.code, a.encode()
        elif isinstance(a, InjectAfter):
            code, data = a.reply.code, a.reply.encode() + _bytes(a.extra)
        elif isinstance(a, Raw):
            code, data = a.code, _bytes(a.data)
        elif isinstance(a, HugeLine):
            code, data = a.code, f"{a.code} ".encode() + b"x" * max(0, a.size - 6) + b"\r\n"
        elif isinstance(a, Late):
            time.sleep(a.seconds)
            code, data = a.reply.code, a.reply.encode()
        elif isinstance(a, Trickle):
            code = a.reply.code
            data = _bytes(a.reply.data) if isinstance(a.reply, Raw) else a.reply.encode()
            self.conn.append(Event("out", data, self.tls))
            self.flush()
            for i in range(len(data)):
                self.write(data[i:i + 1])  # a client that left makes this fail: _Closed
                if i + 1 < len(data) and self.srv._stop.wait(a.interval):
                    raise _Closed("server stopped")
            if code == 421:
                raise _Closed("421 sent")
            return code
        elif isinstance(a, Disconnect):
            raise _Closed("scripted disconnect")
        elif isinstance(a, Silence):
            while True:  # keep reading, so that a client hang-up ends the connection
                self.conn.append(Event("in", self.recv(), self.tls))
        elif isinstance(a, EndlessMultiline):
            line = f"{a.code}-{a.text}\r\n".encode()
            chunk = line * max(1, 16384 // len(line))
            self.conn.append(Event("out", chunk, self.tls))
            self.flush()
            while True:
                self.write(chunk)
        else:
            raise TypeError(f"not a faultserver action: {a!r}")
        self.send(data)
        if code == 421:
            raise _Closed("421 sent")
        return code

    # -- commands --

    def command(self, raw):
        text = raw.rstrip(b"\r\n").decode("utf-8", "replace")
        self.conn.commands.append((text, self.tls))
        verb, _, arg = text.partition(" ")
        if verb.upper() in VERBS:
            getattr(self, "do_" + verb.lower())(arg.strip())
        else:
            self.act("unknown", Reply(500, "5.5.2 command not recognized"))

    def do_ehlo(self, arg):
        self.reset()
        caps = self.srv.ehlo_after_tls if self.tls else self.srv.ehlo
        self.act("ehlo", Reply(250, [f"{self.srv.hostname} greets {arg or 'you'}", *caps]))

    def do_helo(self, arg):
        self.reset()
        self.act("helo", Reply(250, self.srv.hostname))

    def do_starttls(self, arg):
        offered = "STARTTLS" in (c.upper() for c in self.srv.ehlo)
        if self.tls:
            default = Reply(503, "5.5.1 TLS already active")
        elif self.srv.tls_mode == "starttls" and offered:
            default = Reply(220, "2.0.0 Ready to start TLS")
        else:
            default = Reply(502, "5.5.1 STARTTLS not supported")
        if self.act("starttls", default) == 220:
            if self.buf:  # sent in clear before our 220: never executed (RFC 3207)
                self.conn.discarded += bytes(self.buf)
                self.conn.append(Event("in", bytes(self.buf), False))
                self.buf.clear()
            self.start_tls()
            self.reset()

    def decode64(self, s):
        """Decoded bytes of a SASL response, or None after replying 501 (cancel, bad base64)."""
        s = s.strip()
        if s == b"*":
            self.send(Reply(501, "5.7.0 authentication cancelled").encode())
            return None
        if s == b"=":
            return b""
        try:
            return base64.b64decode(s, validate=True)
        except ValueError:
            self.send(Reply(501, "5.5.2 cannot decode response").encode())
            return None

    def ask(self, prompt):
        self.send(b"334 " + base64.b64encode(prompt) + b"\r\n")
        line = self.readline()
        self.conn.commands.append((line.rstrip(b"\r\n").decode("utf-8", "replace"), self.tls))
        return self.decode64(line)

    def do_auth(self, arg):
        mech, _, initial = arg.partition(" ")
        mech, initial = mech.upper(), initial.strip().encode()
        if mech == "PLAIN":
            blob = self.decode64(initial) if initial else self.ask(b"")
            if blob is None:
                return
            _, user, password = (blob.split(b"\0", 2) + [b"", b""])[:3]
        elif mech == "LOGIN":
            user = self.decode64(initial) if initial else self.ask(b"Username:")
            if user is None:
                return
            password = self.ask(b"Password:")
            if password is None:
                return
        elif mech in ("XOAUTH2", "OAUTHBEARER", "EXTERNAL"):
            # Mechanisms no Debian server offers: record the initial response as sent, so a test
            # can check its exact form; the "password" slot holds the whole decoded blob.
            blob = self.decode64(initial) if initial and initial != b"=" else b""
            if blob is None:
                return
            user, password = b"", blob
        else:
            self.act("auth", Reply(504, "5.5.4 mechanism not supported"))
            return
        self.conn.auths.append((mech, user.decode("utf-8", "replace"),
                                password.decode("utf-8", "replace"), self.tls))
        self.act("auth", Reply(235, "2.7.0 Authentication successful"))

    def do_mail(self, arg):
        if _ok(self.act("mail", Reply(250, "2.1.0 OK"))):
            self.reset()
            self.mail_from = _path(arg)

    def do_rcpt(self, arg):
        default = (Reply(250, "2.1.5 OK") if self.mail_from is not None
                   else Reply(503, "5.5.1 MAIL first"))
        if _ok(self.act("rcpt", default)):
            self.rcpts.append(_path(arg))

    def transaction_error(self):
        if self.mail_from is None:
            return Reply(503, "5.5.1 MAIL first")
        if not self.rcpts:
            return Reply(554, "5.5.1 no valid recipients")
        return None

    def do_data(self, arg):
        go_ahead = Reply(354, "End data with <CR><LF>.<CR><LF>")
        if self.act("data", self.transaction_error() or go_ahead) != 354:
            return
        lines = []
        while (line := self.readline()) not in (b".\r\n", b".\n"):
            lines.append(line[1:] if line.startswith(b".") else line)
        self.finish(b"".join(lines), "data_end")

    def do_bdat(self, arg):
        m = re.fullmatch(r"(\d+)(\s+LAST)?", arg, re.IGNORECASE)
        if not m:
            self.act("bdat", Reply(501, "5.5.4 syntax: BDAT size [LAST]"))
            return
        self.chunks.append(self.readexact(int(m.group(1))))
        error = self.transaction_error()
        if m.group(2) and not error:
            self.finish(b"".join(self.chunks), "bdat")
        else:
            self.act("bdat", error or Reply(250, f"2.0.0 {m.group(1)} octets received"))
            if m.group(2):
                self.chunks = []

    def finish(self, data, step):
        msg = Message(self.mail_from, list(self.rcpts), data, self.tls, self.conn.index)
        self.srv.messages.append(msg)
        self.reset()
        msg.reply = self.act(step, Reply(250, "2.0.0 queued"))

    def do_rset(self, arg):
        self.reset()
        self.act("rset", Reply(250, "2.0.0 OK"))

    def do_noop(self, arg):
        self.act("noop", Reply(250, "2.0.0 OK"))

    def do_quit(self, arg):
        self.act("quit", Reply(221, "2.0.0 bye"))
        raise _Closed("QUIT")
