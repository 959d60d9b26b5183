# tests/e2e/clientrun.py: runs real mail programs (mutt, git send-email, PHP, s-nail, bsd-mailx)
# with outbox as their sendmail, and reads back what aiosmtpd received, for test_clients*.py.
import email
import email.policy
import os
import subprocess

from conftest import OUTBOX
from sendutil import configure

ACCOUNT = "sender@example.test"


class ClientRun:
    """One client's run: what it was asked, its exit status and output, for failure messages."""

    def __init__(self, argv, proc):
        self.argv = argv
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def describe(self):
        # A script passed inline is shown by its start only.
        shown = " ".join(a if len(a) < 80 else repr(a[:60]) + "..." for a in self.argv)
        return (f"client: {shown}\n  exit {self.code}\n"
                f"  stdout: {self.out[-2000:]!r}\n  stderr: {self.err[-2000:]!r}")


class Received:
    """One message as aiosmtpd stored it: the envelope and the parsed message."""

    def __init__(self, srv, name, raw):
        env = srv.envelope(name)
        self.raw = raw
        self.mail_from = env["mail_from"]
        self.rcpt_tos = sorted(env["rcpt_tos"])
        self.mail_options = env["mail_options"]
        self.msg = email.message_from_bytes(raw, policy=email.policy.default)

    def header(self, name):
        """The header's decoded value, or None when it is absent."""
        value = self.msg[name]
        return None if value is None else str(value)

    def text(self):
        """The text/plain body, decoded, with its line ends made LF."""
        part = self.msg.get_body(preferencelist=("plain",))
        return None if part is None else part.get_content().replace("\r\n", "\n")

    def attachments(self):
        """{filename: decoded bytes} of every attachment."""
        found = {}
        for part in self.msg.iter_attachments():
            data = part.get_payload(decode=True)
            found[part.get_filename()] = data
        return found


class Clients:
    """A private HOME, a PATH whose `sendmail` is outbox, and outbox set up to send as ACCOUNT
    through aiosmtpd; run() starts a client there, received() waits for what arrived."""

    def __init__(self, ob, srv, tmp_path):
        self.ob = ob
        self.srv = srv
        self.home = str(tmp_path)
        bindir = tmp_path / "bin"
        bindir.mkdir()
        self.sendmail = str(bindir / "sendmail")
        # A link, not a wrapper: outbox must see the name "sendmail" exactly as a client runs it.
        os.symlink(os.path.abspath(OUTBOX), self.sendmail)
        self.env = dict(ob.env)
        self.env["PATH"] = f"{bindir}:{self.env['PATH']}"
        self.env["HOME"] = self.home
        self.env["EDITOR"] = self.env["VISUAL"] = "false"  # nothing may wait for an editor
        self.last = None

    def write(self, name, data):
        """A file in the private HOME; returns its path."""
        path = os.path.join(self.home, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        return path

    def run(self, argv, input=None, cwd=None, extra_env=None):
        env = dict(self.env)
        env.update(extra_env or {})
        # The timeout only keeps a hung client from hanging the run; nothing asserts on time.
        # No input means an empty one: a client that would ask a question gets end-of-file.
        proc = subprocess.run(argv, input=input if input is not None else "", capture_output=True,
                              text=True, env=env, cwd=cwd or self.home, timeout=60)
        self.last = ClientRun(argv, proc)
        return self.last

    def ok(self, argv, **kw):
        r = self.run(argv, **kw)
        assert r.code == 0, "want the client to exit 0, got:\n" + self.describe()
        return r

    def received(self, n):
        """The first n messages aiosmtpd stored (waiting for clients that send in the background)."""
        try:
            msgs = self.srv.wait_messages(n)
        except TimeoutError as e:
            raise AssertionError(f"want {n} message(s) at the server: {e}\n" + self.describe()) from None
        got = [Received(self.srv, name, raw) for name, raw in msgs]
        assert len(got) == n, f"want {n} message(s) at the server, got {len(got)}\n" + self.describe()
        return got

    def describe(self):
        text = self.last.describe() if self.last else "no client run yet"
        queue = self.ob.run("queue", "list")
        return f"{text}\n  outbox queue list: {queue.out.strip()!r} {queue.err.strip()!r}"


def clients_for(ob, srv, pki, tmp_path):
    """Clients sending as ACCOUNT through aiosmtpd `srv` (STARTTLS, AUTH, the test CA)."""
    configure(ob, "aio", srv.port, "starttls", user=srv.user, password=srv.password, ca=pki.ca_cert,
              address=ACCOUNT)
    return Clients(ob, srv, tmp_path)


def expect(got, want, what, clients):
    """got must equal want; on failure say both, what was compared, and what the client did."""
    assert got == want, f"{what}: got {got!r}, want {want!r}\n" + clients.describe()
