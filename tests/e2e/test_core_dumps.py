# tests/e2e/test_core_dumps.py: while outbox holds a password (here: waiting for the server to
# answer AUTH), its memory stays its own: the process is not dumpable, so the kernel gives its
# /proc files to root and writes no core file, and a crash leaves no password on disk.
import os
import pwd
import resource
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import OUTBOX, base_env
from servers.faultserver import FaultServer, Silence

ACCOUNT = "sender@example.test"
# As root every /proc file is root's whether the process is dumpable or not: the difference is
# only seen in a process of another user.
AS_NOBODY = os.geteuid() == 0


class Unprivileged:
    """outbox run as `nobody` (when the tests run as root) on a store that nobody owns."""

    def __init__(self, extra_env=None):
        self.base = tempfile.mkdtemp(prefix="outbox-core-")
        os.chmod(self.base, 0o755)
        self.env = base_env(self.base, {"OUTBOX_SECRET_BACKEND": "file", **(extra_env or {})})
        self.user = pwd.getpwnam("nobody") if AS_NOBODY else pwd.getpwuid(os.geteuid())
        if AS_NOBODY:
            os.chown(self.base, self.user.pw_uid, self.user.pw_gid)

    def argv(self, *args):
        prefix = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] if AS_NOBODY else []
        return [*prefix, OUTBOX, *args]

    def ok(self, *args, input=None):
        proc = subprocess.run(self.argv(*args), input=input, capture_output=True, text=True,
                              env=self.env, cwd=self.base, timeout=60)
        assert proc.returncode == 0, (f"outbox {' '.join(args)}: want exit 0, got {proc.returncode}\n"
                                      f"  stderr: {proc.stderr!r}")

    def start(self, *args, **kw):
        return subprocess.Popen(self.argv(*args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=self.env, cwd=self.base, **kw)

    def cleanup(self):
        shutil.rmtree(self.base, ignore_errors=True)


def auth_stalls(pki):
    """A server that takes the AUTH line, then never answers it."""
    srv = FaultServer(cert=pki.server_cert, key=pki.server_key, tls_mode="none",
                      ehlo=["PIPELINING", "AUTH PLAIN"], script={"auth": Silence()})
    srv.start()
    return srv


def configured(ob, srv, password):
    ob.ok("server", "add", "stall", "--host", "127.0.0.1", "--port", str(srv.port), "--security",
          "none", "--auth", "plain", "--allow-insecure-auth", "--user", "ann", "--password-stdin",
          "--timeout", "120", input=password)
    ob.ok("account", "add", ACCOUNT, "--server", "stall")


def wait_for_auth(srv, proc):
    """Until the server holds the AUTH line (so outbox holds the password), bounded generously."""
    for _ in range(600):
        if srv.connections and srv.connections[0].auths:
            return
        if proc.poll() is not None:
            raise AssertionError(f"outbox ended before AUTH: exit {proc.returncode}, "
                                 f"stderr {proc.stderr.read()!r}")
        time.sleep(0.1)
    raise AssertionError("outbox never sent AUTH within 60 s")


def test_a_process_holding_a_password_is_not_dumpable(pki, password):
    ob = Unprivileged()
    srv = auth_stalls(pki)
    proc = None
    try:
        configured(ob, srv, password)
        proc = ob.start("send", "bob@example.test")
        proc.stdin.write(b"Subject: hi\n\nbody\n")
        proc.stdin.close()
        wait_for_auth(srv, proc)
        owner = os.stat(f"/proc/{proc.pid}/environ").st_uid
        with open(f"/proc/{proc.pid}/limits") as f:
            core = [line.split()[4] for line in f if line.startswith("Max core file size")][0]
        assert (owner, core) == (0, "0"), (
            f"while waiting for the reply to AUTH, outbox (uid {ob.user.pw_uid}): "
            f"/proc/PID/environ owned by uid {owner}, core size limit {core}; want uid 0 "
            f"(the kernel's mark of a process that is not dumpable) and 0")
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        srv.stop()
        ob.cleanup()


def core_files(directory):
    return [os.path.join(directory, n) for n in os.listdir(directory) if n.startswith("core")]


def test_a_crash_during_auth_leaves_no_core_with_the_password(pki, password):
    with open("/proc/sys/kernel/core_pattern") as f:
        pattern = f.read().strip()
    if pattern.startswith("|") or "/" in pattern or not pattern.startswith("core"):
        pytest.skip(f"core_pattern is {pattern!r}: a core would not land in the process's "
                    "directory, so this run cannot look at it")
    # AddressSanitizer turns core files off by default; the old code's core must be possible.
    asan = os.environ.get("ASAN_OPTIONS", "")
    ob = Unprivileged({"ASAN_OPTIONS": asan + (":" if asan else "") + "disable_coredump=0"})
    srv = auth_stalls(pki)
    proc = None
    try:
        configured(ob, srv, password)
        proc = ob.start("send", "bob@example.test", preexec_fn=lambda: resource.setrlimit(
            resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)))
        proc.stdin.write(b"Subject: hi\n\nbody\n")
        proc.stdin.close()
        wait_for_auth(srv, proc)
        os.kill(proc.pid, signal.SIGQUIT)  # its default action dumps core
        proc.wait(timeout=120)
        leaked = []
        for path in core_files(ob.base):
            with open(path, "rb") as f:
                data = f.read()
            if password.encode() in data:
                leaked.append(f"{path} ({len(data)} bytes) holds the password "
                              f"{data.count(password.encode())} times")
        assert not leaked, "want no core file with the password, got: " + "; ".join(leaked)
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        srv.stop()
        ob.cleanup()
