# tests/servers/netutil.py: loopback helpers shared by the server wrappers: pick a free
# port, wait for an SMTP 220 greeting (optionally over implicit TLS), pick temp dirs.
import os
import socket
import ssl
import stat
import tempfile
import time

LOOPBACK4 = "127.0.0.1"
LOOPBACK6 = "::1"


def have_ipv6_loopback():
    """True if ::1 can be bound (the container may lack IPv6)."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind((LOOPBACK6, 0))
        return True
    except OSError:
        return False


def free_port(also_ipv6=False, avoid=()):
    """A TCP port free on 127.0.0.1 (and on ::1 too if also_ipv6).

    There is an unavoidable race between closing the probe socket and the server
    binding it; the kernel's ephemeral range makes a collision very unlikely.
    """
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((LOOPBACK4, 0))
            port = s.getsockname()[1]
        if port in avoid:
            continue
        if also_ipv6:
            try:
                with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s6:
                    s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    s6.bind((LOOPBACK6, port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free loopback port found")


def read_reply(sock, deadline):
    """Read one complete (possibly multi-line) SMTP reply; returns its text."""
    buf = b""
    while True:
        lines = buf.split(b"\r\n")
        # A reply is complete once a line has the "NNN " (space) form.
        for line in lines[:-1]:
            if len(line) >= 4 and line[3:4] == b" ":
                return buf.decode("utf-8", "replace")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"incomplete SMTP reply: {buf!r}")
        sock.settimeout(remaining)
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError(f"connection closed, got {buf!r}")
        buf += chunk


def smtp_greeting(port, host=LOOPBACK4, implicit_tls=False, timeout=2.0):
    """Connect once, return the greeting text, say QUIT. Raises on failure."""
    deadline = time.monotonic() + timeout
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        if implicit_tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE  # readiness probe only: no data sent
            sock = ctx.wrap_socket(sock, server_hostname="localhost")
        text = read_reply(sock, deadline)
        try:
            sock.sendall(b"QUIT\r\n")
            read_reply(sock, deadline)
        except OSError:
            pass
        return text
    finally:
        sock.close()


def wait_for_220(port, host=LOOPBACK4, implicit_tls=False, timeout=10.0,
                 alive=lambda: True):
    """Poll until the server on port greets with 220; alive() lets callers
    bail out early if the server process died."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"server for port {port} exited during start-up "
                               f"(last probe: {last!r})")
        try:
            text = smtp_greeting(port, host, implicit_tls, timeout=2.0)
            if text.startswith("220"):
                return text
            last = text
        except (OSError, TimeoutError, ConnectionError) as e:
            last = e
        time.sleep(0.02)
    raise TimeoutError(f"no 220 greeting on {host}:{port} within {timeout}s "
                       f"(last probe: {last!r})")


def world_traversable_tempdir(prefix):
    """mkdtemp under /tmp, chmod 755, so daemons dropping to postfix/nobody can
    reach paths below it (every parent of /tmp/xxx is already traversable)."""
    path = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(path, 0o755)
    p = os.path.dirname(path)
    while p not in ("/", ""):
        mode = os.stat(p).st_mode
        if not mode & stat.S_IXOTH:
            raise RuntimeError(f"{p} is not world-traversable")
        p = os.path.dirname(p)
    return path


def keep_dirs():
    """Set OUTBOX_TEST_KEEP=1 to leave server dirs (logs, mail) for debugging."""
    return os.environ.get("OUTBOX_TEST_KEEP") not in (None, "", "0")
