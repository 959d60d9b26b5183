# tests/e2e/conftest.py: fixtures for end-to-end tests of the real outbox binary: a throwaway
# OUTBOX_HOME per test, a runner that reports got/want, and a real Secret Service keyring.
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

# The real servers (Postfix, aiosmtpd, smtp-sink), the test PKI and the scripted fault server.
from servers_fixtures import *  # noqa: F401,F403

OUTBOX = os.environ.get("OUTBOX_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "outbox")


class Result:
    def __init__(self, args, proc):
        self.args = args
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def json(self):
        return json.loads(self.out)

    def describe(self):
        return (f"outbox {' '.join(self.args)}\n  exit {self.code}\n"
                f"  stdout: {self.out!r}\n  stderr: {self.err!r}")


def expect(got, want, what, run):
    """`got` must equal `want`; on failure say both, what was compared, and what `run` (a Result,
    or anything else with describe()) did."""
    assert got == want, f"{what}: got {got!r}, want {want!r}\n" + run.describe()


class Outbox:
    """Runs build/outbox against one private store."""

    def __init__(self, home, env):
        self.home = home
        self.env = env

    def run(self, *args, input=None, env=None):
        full_env = dict(self.env)
        full_env.update(env or {})
        proc = subprocess.run([OUTBOX, *args], input=input, capture_output=True,
                              text=True, env=full_env, timeout=60)
        return Result(list(args), proc)

    def ok(self, *args, **kw):
        r = self.run(*args, **kw)
        assert r.code == 0, "want exit 0, got:\n" + r.describe()
        return r

    def fails(self, code, *args, **kw):
        r = self.run(*args, **kw)
        assert r.code == code, f"want exit {code}, got:\n" + r.describe()
        assert r.err.startswith("outbox: "), "want an 'outbox: ' message, got:\n" + r.describe()
        return r

    @property
    def db(self):
        return os.path.join(self.home, "outbox.db")

    def fingerprint(self):
        """The database's bytes and its logical content, to prove a refusal changed nothing."""
        digest = hashlib.sha256()
        for suffix in ("", "-wal"):
            path = self.db + suffix
            if os.path.exists(path):
                with open(path, "rb") as f:
                    digest.update(f.read())
        dump = subprocess.run(["/usr/bin/python3", "-c",
                               "import sqlite3,sys; c=sqlite3.connect('file:'+sys.argv[1]+'?mode=ro', uri=True);"
                               "print('\\n'.join(c.iterdump()))", self.db],
                              capture_output=True, text=True, check=True).stdout
        return digest.hexdigest(), dump


def base_env(home, extra=None):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "OUTBOX_HOME": os.path.join(home, "store"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }
    for key in ("ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS"):
        if key in os.environ:
            env[key] = os.environ[key]
    env.update(extra or {})
    return env


@pytest.fixture
def ob(tmp_path):
    """outbox with a file-backed secret store and no session bus."""
    env = base_env(str(tmp_path), {"OUTBOX_SECRET_BACKEND": "file"})
    return Outbox(env["OUTBOX_HOME"], env)


@pytest.fixture
def password():
    """A password made up for this test run only."""
    return "pw-" + secrets.token_urlsafe(18)


@pytest.fixture(scope="session")
def keyring_bus():
    """A gnome-keyring Secret Service, unlocked, on this test run's private session bus.

    tests/run-e2e runs pytest inside dbus-run-session; this starts gnome-keyring-daemon on that
    bus with a throwaway HOME and a login password made up here."""
    bus = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    if not bus:
        pytest.fail("the keyring tests need a session bus: run them through tests/run-e2e")
    home = tempfile.mkdtemp(prefix="outbox-keyring-")
    env = {"PATH": os.environ["PATH"], "HOME": home, "DBUS_SESSION_BUS_ADDRESS": bus,
           "XDG_DATA_HOME": os.path.join(home, "data"),
           "XDG_RUNTIME_DIR": os.path.join(home, "run")}
    os.makedirs(env["XDG_RUNTIME_DIR"], mode=0o700)
    proc = subprocess.run(["gnome-keyring-daemon", "--unlock", "--components=secrets", "--daemonize"],
                          input=secrets.token_urlsafe(12), capture_output=True, text=True, env=env,
                          timeout=30)
    assert proc.returncode == 0, f"gnome-keyring-daemon failed: {proc.stderr}"
    pid = None
    for line in proc.stdout.splitlines():
        if line.startswith("GNOME_KEYRING_PID="):
            pid = int(line.split("=", 1)[1])
    # The daemon claims its bus name asynchronously. Asking for the Secret Service before it has
    # would make the bus start another gnome-keyring by activation, with a locked keyring and no
    # one to type its password: outbox would then fall back to the file. So wait for the name to
    # have an owner, asking the bus itself (which starts nothing), then for secret-tool to work.
    for _ in range(100):
        owner = subprocess.run(["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                                "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
                                "string:org.freedesktop.secrets"], capture_output=True, text=True, env=env)
        if "boolean true" in owner.stdout:
            break
        time.sleep(0.1)
    else:
        pytest.fail("gnome-keyring-daemon never took the Secret Service name on the test bus")
    for _ in range(50):
        probe = subprocess.run(["secret-tool", "search", "application", "outbox-probe"],
                               capture_output=True, text=True, env=env)
        if probe.returncode in (0, 1) and "error" not in probe.stderr.lower():
            break
        time.sleep(0.1)
    yield env
    if pid:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def ob_keyring(tmp_path, keyring_bus):
    """outbox with the real keyring on the session bus."""
    env = base_env(str(tmp_path), {"DBUS_SESSION_BUS_ADDRESS": keyring_bus["DBUS_SESSION_BUS_ADDRESS"],
                                   "XDG_RUNTIME_DIR": keyring_bus["XDG_RUNTIME_DIR"]})
    return Outbox(env["OUTBOX_HOME"], env)
