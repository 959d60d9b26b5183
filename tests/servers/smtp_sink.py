# tests/servers/smtp_sink.py: wraps Postfix's smtp-sink test server on a free loopback port,
# with its options passed through, for fault-injection and benchmark tests.
import atexit
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time

from . import netutil

SMTP_SINK = next((p for p in ("/usr/sbin/smtp-sink", "/usr/lib/postfix/sbin/smtp-sink")
                  if os.path.exists(p)), "smtp-sink")


class SmtpSink:
    """smtp-sink [options] -u nobody 127.0.0.1:PORT BACKLOG.

    options are passed through verbatim (e.g. ["-r", "RCPT"], ["-w", "3"],
    ["-Q", "DATA"], ["-A", "0"]); "{dir}" inside an option is replaced by a
    scratch directory writable by the sink's user (for -d/-D dump templates).

    Readiness: probe="banner" waits for a 220 greeting (one extra session);
    probe="listen" only waits for the socket to be LISTENing (from /proc/net,
    no connection), chosen automatically when options mention -n (session
    count), -M, or CONNECT (greeting suppressed/refused).
    """

    def __init__(self, options=(), backlog=64, user="nobody", probe=None,
                 start_timeout=10.0):
        self.options = list(options)
        self.backlog = backlog
        self.user = user
        if probe is None:
            probe = "banner"
            if any(o in ("-n", "-M") for o in self.options) or any(
                    "connect" in o.lower() for o in self.options):
                probe = "listen"
        self.probe = probe
        self.start_timeout = start_timeout
        self.host = netutil.LOOPBACK4
        self.port = None
        self.dir = None
        self.proc = None

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="outbox-smtp-sink-")
        os.chmod(self.dir, 0o755)
        scratch = os.path.join(self.dir, "dump")
        os.mkdir(scratch)
        pw = pwd.getpwnam(self.user)
        os.chown(scratch, pw.pw_uid, pw.pw_gid)
        opts = [o.replace("{dir}", scratch) for o in self.options]
        self.port = netutil.free_port()
        self._log = open(os.path.join(self.dir, "smtp-sink.log"), "wb")
        self.argv = [SMTP_SINK, "-u", self.user, *opts,
                     f"{self.host}:{self.port}", str(self.backlog)]
        atexit.register(self.stop)
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                         stdout=self._log, stderr=subprocess.STDOUT)
            alive = lambda: self.proc.poll() is None  # noqa: E731
            if self.probe == "banner":
                netutil.wait_for_220(self.port, self.host, timeout=self.start_timeout,
                                     alive=alive)
            else:
                _wait_listening(self.port, self.start_timeout, alive)
        except BaseException as e:
            log = self.log()
            self.stop()
            if isinstance(e, Exception):
                raise RuntimeError(f"smtp-sink failed to start: {e}\n{log}") from e
            raise
        return self

    @property
    def scratch_dir(self):
        return os.path.join(self.dir, "dump")

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(5)
            self.proc = None
        if self.dir is not None:
            self._log.close()
            if not netutil.keep_dirs():
                shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        atexit.unregister(self.stop)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def log(self):
        if self.dir is None:
            return ""
        try:
            with open(os.path.join(self.dir, "smtp-sink.log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


def _listening(port):
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    local, state = fields[1], fields[3]
                    if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                        return True
        except FileNotFoundError:
            continue
    return False


def _wait_listening(port, timeout, alive):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError("smtp-sink exited during start-up")
        if _listening(port):
            return
        time.sleep(0.02)
    raise TimeoutError(f"smtp-sink not listening on port {port} within {timeout}s")
