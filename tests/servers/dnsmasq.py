# tests/servers/dnsmasq.py: a real name server for the tests: dnsmasq on 127.0.0.1 and a free port,
# answering only from the records a test gives it (SRV, MX, A/AAAA, TXT), never from upstream.
import atexit
import os
import socket
import struct
import subprocess
import tempfile
import time

from . import netutil

DNSMASQ = "/usr/sbin/dnsmasq"


def free_udp_tcp_port():
    """A port free on 127.0.0.1 for UDP and TCP both (DNS answers long replies over TCP)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind((netutil.LOOPBACK4, 0))
            port = u.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                    t.bind((netutil.LOOPBACK4, port))
            except OSError:
                continue
        return port
    raise RuntimeError("no port free for both UDP and TCP on 127.0.0.1")


def _probe_query(name):
    """A minimal DNS query for `name` type A, to see that the server answers."""
    q = struct.pack(">HHHHHH", 0x5a5a, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + struct.pack(">HH", 1, 1)


class Dnsmasq:
    """dnsmasq answering for `local` domains from the given records only.

    srv:   (name, target, port, priority, weight) tuples; target None makes the "." record
           that says "not offered".
    mx:    (domain, host, preference) tuples.
    hosts: (name, ipv4 or None, ipv6 or None) tuples.
    txt:   (name, text) tuples (a name that exists without the type asked for: NODATA).
    local: domains answered only from these records: any other name under them is NXDOMAIN.
           Names outside them are REFUSED (there is no upstream server).
    """

    def __init__(self, srv=(), mx=(), hosts=(), txt=(), local=("test",)):
        self.args = []
        for d in local:
            self.args.append(f"--address=/{d}/")
        for name, target, port, prio, weight in srv:
            self.args.append(f"--srv-host={name}" if target is None
                             else f"--srv-host={name},{target},{port},{prio},{weight}")
        for domain, host, pref in mx:
            self.args.append(f"--mx-host={domain},{host},{pref}")
        for name, v4, v6 in hosts:
            self.args.append("--host-record=" + ",".join(x for x in (name, v4, v6) if x))
        for name, text in txt:
            self.args.append(f"--txt-record={name},{text}")
        self.port = None
        self.proc = None
        self.dir = None

    @property
    def address(self):
        """The --resolver value: "127.0.0.1:PORT"."""
        return f"{netutil.LOOPBACK4}:{self.port}"

    def start(self, timeout=10.0):
        self.dir = tempfile.mkdtemp(prefix="outbox-dnsmasq-")
        self.log_path = os.path.join(self.dir, "dnsmasq.log")
        self.port = free_udp_tcp_port()
        # Root here: dnsmasq would drop to "nobody" and the container may not allow it; the
        # empty conf-file and pid-file keep it off the machine's own configuration.
        argv = [DNSMASQ, "--keep-in-foreground", "--conf-file=/dev/null", "--pid-file=",
                "--user=root", "--group=root", "--no-resolv", "--no-hosts", "--no-poll",
                f"--listen-address={netutil.LOOPBACK4}", "--bind-interfaces",
                f"--port={self.port}", "--log-queries", "--log-facility=-", *self.args]
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT)
        atexit.register(self.stop)
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"dnsmasq exited {self.proc.returncode}: {self.log()}")
                try:
                    s.sendto(_probe_query("ready.probe.test"), (netutil.LOOPBACK4, self.port))
                    s.recvfrom(4096)
                    return
                except OSError:
                    time.sleep(0.05)
        raise TimeoutError(f"dnsmasq did not answer on port {self.port}: {self.log()}")

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        self._log.close()
        if not netutil.keep_dirs():
            for name in os.listdir(self.dir):
                os.unlink(os.path.join(self.dir, name))
            os.rmdir(self.dir)
