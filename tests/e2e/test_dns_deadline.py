# tests/e2e/test_dns_deadline.py: a name server that never answers costs no more than the server's
# timeout: send fails (or queues) with the reason in plain words, and `server check` says so too.
import json
import socket
import subprocess
import threading

import pytest

from conftest import OUTBOX
from servers import netutil

BLACK_HOLE = "127.0.0.9"  # a loopback address of its own, so the real resolver is not disturbed


class SilentNameServer:
    """A real UDP socket on port 53 that takes every query and answers none: the fault of a
    name server that is down behind a network that drops packets. glibc would wait its own
    5 s per try, twice over, for it."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((BLACK_HOLE, 53))
        self.sock.settimeout(0.2)
        self.queries = 0
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping:
            try:
                self.sock.recvfrom(4096)
                self.queries += 1
            except socket.timeout:
                pass

    def stop(self):
        self.stopping = True
        self.thread.join()
        self.sock.close()


@pytest.fixture
def silent_dns(tmp_path):
    """A resolv.conf naming only the silent server, and the server itself."""
    conf = tmp_path / "resolv.conf"
    conf.write_text(f"nameserver {BLACK_HOLE}\n")
    srv = SilentNameServer()
    yield str(conf), srv
    srv.stop()


def with_resolv_conf(ob, conf, *args, input=None):
    """outbox ARGS in a mount namespace of its own where /etc/resolv.conf is `conf`: the rest of
    the machine keeps its resolver. Needs root, as the e2e tests have (Postfix needs it too)."""
    script = 'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"'
    argv = ["unshare", "--mount", "sh", "-c", script, "sh", conf, OUTBOX, *args]
    p = subprocess.run(argv, input=input, capture_output=True, text=True, env=ob.env, timeout=60)
    assert "mount" not in p.stderr and "unshare" not in p.stderr, \
        f"could not give the test its own resolv.conf (root and mount namespaces needed): {p.stderr}"
    return p


def add_server(ob, timeout):
    port = netutil.free_port()  # never reached: the name does not resolve in time
    ob.ok("server", "add", "slow", "--host", "mail.slow-dns.test", "--port", str(port),
          "--security", "none", "--timeout", str(timeout))
    ob.ok("account", "add", "sender@example.test", "--server", "slow")


WHY = "cannot resolve mail.slow-dns.test: no answer from the DNS resolver in 2 s"


def test_send_gives_up_on_a_silent_name_server_at_the_timeout(ob, silent_dns):
    conf, srv = silent_dns
    add_server(ob, 2)
    p = with_resolv_conf(ob, conf, "send", "--no-queue", "rcpt@example.test", input="Subject: d\n\nd\n")
    assert p.returncode == 75, f"want EX_TEMPFAIL (75), got {p.returncode}: {p.stderr}"
    assert WHY in p.stderr, f"want the reason, got: {p.stderr}"
    assert "/etc/resolv.conf" in p.stderr, "and where to look"
    assert srv.queries > 0, "the lookup did reach the silent name server"


def test_send_queues_the_message_when_the_name_server_is_silent(ob, silent_dns):
    conf, _ = silent_dns
    add_server(ob, 2)
    p = with_resolv_conf(ob, conf, "send", "rcpt@example.test", input="Subject: q\n\nq\n")
    assert p.returncode == 0, f"a temporary failure is queued: exit {p.returncode}: {p.stderr}"
    assert "queued" in p.stderr, p.stderr
    [m] = ob.ok("queue", "list", "--json").json()
    assert WHY in m["last_reply"], f"the queue says why: {m['last_reply']}"


def test_server_check_reports_the_silent_name_server(ob, silent_dns):
    conf, _ = silent_dns
    add_server(ob, 2)
    p = with_resolv_conf(ob, conf, "server", "check", "slow", "--json")
    assert p.returncode == 75, f"want EX_TEMPFAIL (75), got {p.returncode}: {p.stderr}"
    steps = json.loads(p.stdout)
    assert [s["name"] for s in steps] == ["resolve"], f"the check stops at the lookup: {steps}"
    assert steps[0]["status"] == "failed", steps[0]
    assert WHY in steps[0]["detail"], steps[0]
