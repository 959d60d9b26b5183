# tests/e2e/test_bench_slowdisk.py: bench/slowdisk.c, the LD_PRELOAD shim that makes syncs and
# unlinks slow for the benchmarks: it sees every call (counted through SLOWDISK_LOG, not timed),
# keeps each call's real result, and lets SQLite and a sanitized outbox work under it.
import os
import shutil
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Under the shim, in a child: each call once or more, and calls that fail, to check errno.
CALLS = """
import errno, os, sys
d = sys.argv[1]
f = os.path.join(d, "f")
fd = os.open(f, os.O_WRONLY | os.O_CREAT, 0o600)
os.write(fd, b"x" * 4096)
os.fsync(fd); os.fsync(fd); os.fsync(fd)
os.fdatasync(fd); os.fdatasync(fd)
os.close(fd)
try:
    os.fsync(fd)
    print("fsync on a closed fd: no error")
except OSError as e:
    print("fsync on a closed fd:", errno.errorcode[e.errno])
os.unlink(f)
try:
    os.unlink(f)
except FileNotFoundError:
    print("second unlink: ENOENT")
os.mkdir(os.path.join(d, "sub"))
os.rmdir(os.path.join(d, "sub"))
dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
open(os.path.join(d, "g"), "w").close()
os.unlink("g", dir_fd=dfd)
os.close(dfd)
"""


@pytest.fixture(scope="module")
def shim(tmp_path_factory):
    cc = shutil.which("cc")
    assert cc, "want cc on PATH to build bench/slowdisk.c"
    out = str(tmp_path_factory.mktemp("slowdisk") / "slowdisk.so")
    p = subprocess.run([cc, "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", "-o", out,
                        os.path.join(REPO, "bench", "slowdisk.c"), "-ldl"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, "bench/slowdisk.c does not build:\n" + p.stderr
    return out


def shim_env(shim, log, **delays):
    env = {"LD_PRELOAD": shim, "SLOWDISK_LOG": log,
           "ASAN_OPTIONS": "verify_asan_link_order=0:" + os.environ.get("ASAN_OPTIONS", "")}
    env.update(delays)
    return env


def counts(log):
    got = {}
    if os.path.exists(log):
        with open(log) as f:
            for line in f:
                got[line.strip()] = got.get(line.strip(), 0) + 1
    return got


def test_the_shim_sees_every_sync_and_unlink_and_keeps_errno(shim, tmp_path):
    log = str(tmp_path / "calls.log")
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, **shim_env(shim, log, SLOWDISK_FSYNC_MS="0.1", SLOWDISK_UNLINK_MS="0.1")}
    p = subprocess.run([sys.executable, "-c", CALLS, str(work)], capture_output=True, text=True,
                       env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "fsync on a closed fd: EBADF" in p.stdout, f"want the real EBADF, got {p.stdout!r}"
    assert "second unlink: ENOENT" in p.stdout, f"want the real ENOENT, got {p.stdout!r}"
    # Python's os.unlink is unlink(2) without dir_fd and unlinkat(2) with it; os.rmdir is rmdir(2).
    want = {"fsync": 4, "fdatasync": 2, "unlink": 2, "unlinkat": 1}
    assert counts(log) == want, f"calls seen by the shim: got {counts(log)}, want {want}"


def test_sqlite_and_a_sanitized_outbox_run_under_the_shim(ob, shim, tmp_path):
    log = str(tmp_path / "calls.log")
    ob.ok("server", "add", "nowhere", "--host", "127.0.0.1", "--port", "9", "--security", "none")
    ob.ok("account", "add", "sender@example.test", "--server", "nowhere")
    r = ob.run("send", "--queue-only", "a@example.test", input="Subject: slow disk\n\nx\n",
               env=shim_env(shim, log, SLOWDISK_FSYNC_MS="0.5", SLOWDISK_UNLINK_MS="0.5"))
    assert r.code == 0, r.describe()
    listed = ob.ok("queue", "list").out
    assert "a@example.test" in listed, f"want the queued message in queue list, got:\n{listed}"
    got = counts(log)
    # The spool file, its directory and SQLite's commit each sync at least once.
    assert got.get("fsync", 0) + got.get("fdatasync", 0) >= 2, \
        f"want outbox's and SQLite's syncs to go through the shim, got {got}"
