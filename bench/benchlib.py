# bench/benchlib.py: helpers shared by the Python benchmarks: find the tools, start smtp-sink and
# bench/rtt-proxy on loopback, set up throwaway outbox stores and msmtp configs, and clean up.
import contextlib
import os
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
LOOPBACK = "127.0.0.1"
FROM = "bench-from@example.test"
TO = "bench-to@example.test"


def fail(msg):
    print(f"{os.path.basename(sys.argv[0])}: {msg}", file=sys.stderr)
    sys.exit(1)


def exit_on_sigterm():
    """Turn SIGTERM/SIGHUP into SystemExit so every finally/with block (server clean-up) runs."""
    def handler(signum, frame):
        raise SystemExit(128 + signum)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


def outbox_path(argv):
    """The outbox binary: argv[1], else build/outbox (relative to the cwd, then the repo)."""
    given = argv[1] if len(argv) > 1 else "build/outbox"
    for cand in (given, os.path.join(REPO, given)):
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return os.path.abspath(cand)
    fail(f"no outbox binary at {given} (build it with `make -j2`, or pass its path)")


def find_tool(name):
    for d in ("/usr/sbin", "/usr/lib/postfix/sbin", "/usr/bin"):
        p = os.path.join(d, name)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    p = shutil.which(name)
    if not p:
        fail(f"{name} not found (Debian: apt-get install postfix msmtp)")
    return p


def env_int(name, default, lo=1, hi=100000):
    raw = os.environ.get(name, "")
    try:
        v = int(raw) if raw else default
    except ValueError:
        fail(f"{name}={raw!r} is not a number")
    if not lo <= v <= hi:
        fail(f"{name}={v} is out of range [{lo}, {hi}]")
    return v


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def wait_for_220(port, timeout=10.0, alive=lambda: True):
    """Poll until a server on 127.0.0.1:port greets with 220 (then QUIT)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"server on port {port} exited during start-up")
        try:
            with socket.create_connection((LOOPBACK, port), timeout=1.0) as s:
                buf = b""
                while b"\r\n" not in buf:
                    chunk = s.recv(512)
                    if not chunk:
                        break
                    buf += chunk
                if buf.startswith(b"220"):
                    s.sendall(b"QUIT\r\n")
                    return
                last = buf
        except OSError as e:
            last = e
        time.sleep(0.02)
    raise TimeoutError(f"no 220 greeting on port {port} within {timeout}s ({last!r})")


@contextlib.contextmanager
def tempdir(prefix):
    d = tempfile.mkdtemp(prefix=prefix)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def stop_process(proc, grace=5.0):
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(grace)


@contextlib.contextmanager
def smtp_sink(extra=()):
    """smtp-sink -u nobody -c 127.0.0.1:PORT 1000 on a free port; yields the port."""
    sink = find_tool("smtp-sink")
    port = free_port()
    argv = [sink, "-u", "nobody", "-c", *extra, f"{LOOPBACK}:{port}", "1000"]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_for_220(port, alive=lambda: proc.poll() is None)
        yield port
    finally:
        stop_process(proc)


@contextlib.contextmanager
def rtt_proxy(target_port, delay_ms, stats, timeout=600):
    """bench/rtt-proxy from a free loopback port to target_port; yields the listening port."""
    argv = [sys.executable, os.path.join(BENCH, "rtt-proxy"), "--listen", f"{LOOPBACK}:0",
            "--target", f"{LOOPBACK}:{target_port}", "--delay-ms", str(delay_ms),
            "--stats", stats, "--trace", "--max-seconds", str(timeout)]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 10.0)
        line = proc.stdout.readline().decode() if ready else ""
        if "listening on" not in line:
            stop_process(proc)
            raise RuntimeError(f"rtt-proxy did not start: {line!r} "
                               f"{proc.stderr.read().decode(errors='replace')}")
        yield int(line.rsplit(":", 1)[1])
    finally:
        stop_process(proc)
        proc.stdout.close()
        proc.stderr.close()


def outbox_env(home):
    env = dict(os.environ)
    env["OUTBOX_HOME"] = home
    env["OUTBOX_SECRET_BACKEND"] = "file"
    return env


def run(argv, timeout=60, **kw):
    """subprocess.run that fails the benchmark, with the tool's own words, on a non-zero exit."""
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    try:
        p = subprocess.run(argv, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:
        fail(f"timed out after {timeout}s: {' '.join(argv)}")
    if p.returncode != 0:
        out = (p.stdout or b"") + (p.stderr or b"")
        if isinstance(out, bytes):
            out = out.decode(errors="replace")
        fail(f"exit {p.returncode}: {' '.join(argv)}\n{out[-3000:]}")
    return p


def small_message(path, size=2048, sender=FROM, rcpt=TO):
    """A plain-text message of about `size` bytes (LF line ends) with one recipient."""
    head = (f"From: Bench Sender <{sender}>\nTo: <{rcpt}>\nSubject: outbox benchmark message\n"
            f"Date: Thu, 01 Jan 2026 00:00:00 +0000\nMessage-ID: <bench-small@example.test>\n"
            f"MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n")
    line = "The quick brown fox jumps over the lazy dog; pack my box with five dozen jugs.\n"
    body = ""
    while len(head) + len(body) + len(line) <= size:
        body += line
    with open(path, "w") as f:
        f.write(head + body)
    return os.path.getsize(path)


def msmtp_config(path, accounts):
    """Write an msmtp config (0600): accounts is {name: {key: value}}; 'default' must be one."""
    lines = ["# msmtp config for outbox benchmarks (generated, throwaway)",
             "defaults", "logfile", "syslog off", ""]
    for name, opts in accounts.items():
        lines.append(f"account {name}")
        lines += [f"{k} {v}" for k, v in opts.items()]
        lines.append("")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines))


def summary_ms(samples):
    """(median, min, max) in ms of a list of seconds."""
    return (statistics.median(samples) * 1000, min(samples) * 1000, max(samples) * 1000)


def verdict(ok):
    return "PASS" if ok else "MISS"


def snapshot_binary(path, tmp):
    """Copy the binary under test into tmp and return the copy: a long run keeps measuring the
    same build even if build/ is relinked meanwhile (make can leave it briefly unexecutable)."""
    copy = os.path.join(tmp, os.path.basename(path))
    shutil.copy2(path, copy)
    os.chmod(copy, 0o755)
    return copy


@contextlib.contextmanager
def tempdir_in(parent, prefix):
    d = tempfile.mkdtemp(prefix=prefix, dir=parent)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


# --- the slow-disk shim and the disk's own fsync latency -----------------------------------------

FSYNC_PROBE = """
import os, statistics, sys, time
d, n = sys.argv[1], int(sys.argv[2])
path = os.path.join(d, ".fsync-probe")
block = b"\\0" * 4096
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
times = []
try:
    for i in range(n):
        os.pwrite(fd, block, 0)
        t0 = time.perf_counter()
        os.fsync(fd)
        times.append(time.perf_counter() - t0)
finally:
    os.close(fd)
    os.unlink(path)
times.sort()
print(statistics.median(times) * 1000, times[min(n - 1, (n * 9) // 10)] * 1000)
"""


def fsync_latency(directory, env=None, count=200):
    """(median, p90) ms of one 4 KB write + fsync, `count` times in `directory`, measured in a
    child process so that `env` (the slow-disk shim's LD_PRELOAD) applies to it as to outbox."""
    p = run([sys.executable, "-c", FSYNC_PROBE, directory, str(count)], env=env, timeout=120)
    med, p90 = (float(x) for x in p.stdout.split())
    return med, p90


def fsync_line(label, directory, env=None):
    """The line every store-bound figure is printed beside: what one fsync costs there."""
    med, p90 = fsync_latency(directory, env)
    return f"{label}: 4 KB write+fsync in {directory}: median {med:.2f} ms, p90 {p90:.2f} ms (200 runs)"


def build_slowdisk(tmp):
    """Compile bench/slowdisk.c into tmp with the system's cc; returns the .so path."""
    cc = shutil.which("cc") or fail("no cc to build bench/slowdisk.c (Debian: apt-get install gcc)")
    out = os.path.join(tmp, "slowdisk.so")
    run([cc, "-shared", "-fPIC", "-O2", "-o", out, os.path.join(BENCH, "slowdisk.c"), "-ldl"])
    return out


def slowdisk_env(base, shim):
    """A copy of env `base` (None: this process's) that runs a program under the shim. Its delays
    come from SLOWDISK_FSYNC_MS/SLOWDISK_UNLINK_MS as set by the user (defaults 4 and 1.5 ms)."""
    env = dict(os.environ if base is None else base)
    env["LD_PRELOAD"] = " ".join(x for x in (shim, env.get("LD_PRELOAD", "")) if x)
    # A sanitized outbox: libasan wants to come first, the shim must; both work in this order.
    opts = env.get("ASAN_OPTIONS", "")
    env["ASAN_OPTIONS"] = ":".join(x for x in (opts, "verify_asan_link_order=0") if x)
    return env


def slowdisk_delays():
    """The shim's delays as they will apply, for the output."""
    return (os.environ.get("SLOWDISK_FSYNC_MS") or "4",
            os.environ.get("SLOWDISK_UNLINK_MS") or "1.5")


def summary(samples):
    """(median, min, max) of a list, in its own unit."""
    return statistics.median(samples), min(samples), max(samples)
