# tests/e2e/test_queue_parallel.py: `queue run` carries different servers' messages over separate
# connections at the same time. Two gates in front of the real Postfix let a client through only
# once both have one waiting, so a runner that works one server after the other cannot pass.
import socket
import threading

from sendutil import marker

GATE_WAIT = 4.0  # seconds a gate waits for the other; a sequential runner fails after this


class GatePair:
    """Two loopback ports forwarding to one backend port. A connection is forwarded only when
    the other gate also has one (a barrier of two); otherwise it is closed after GATE_WAIT."""

    def __init__(self, backend_port):
        self.backend = backend_port
        self.barrier = threading.Barrier(2, timeout=GATE_WAIT)
        self.passed = [0, 0]
        self.turned_away = [0, 0]
        self.listeners = []
        for _ in range(2):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            s.listen(8)
            self.listeners.append(s)
        self.ports = [s.getsockname()[1] for s in self.listeners]
        self.threads = [threading.Thread(target=self._accept, args=(i,), daemon=True) for i in range(2)]
        for t in self.threads:
            t.start()

    def _accept(self, i):
        while True:
            try:
                client, _ = self.listeners[i].accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(i, client), daemon=True).start()

    def _serve(self, i, client):
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError:
            self.turned_away[i] += 1
            self.barrier.reset()
            client.close()
            return
        self.passed[i] += 1
        upstream = socket.create_connection(("127.0.0.1", self.backend))
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        for s in self.listeners:
            s.close()


def configure_pair(ob, gates):
    for name, port in zip(("east", "west"), gates.ports):
        ob.ok("server", "add", name, "--host", "127.0.0.1", "--port", str(port), "--security", "none",
              "--timeout", "10")
        ob.ok("account", "add", f"{name}@example.test", "--server", name)
    sent = []
    for name in ("east", "west"):
        for _ in range(3):
            m = marker()
            ob.ok("send", "--queue-only", "--account", f"{name}@example.test", "rcpt@example.test",
                  input=f"Subject: {m}\n\nparallel\n")
            sent.append(m)
    return sent


def test_two_servers_are_served_at_once(ob, postfix):
    gates = GatePair(postfix.plain_port)
    try:
        sent = configure_pair(ob, gates)
        r = ob.ok("queue", "run")
        assert "Sent 6," in r.out, "want all 6 sent through both gates at once, got:\n" + r.describe()
        assert gates.passed == [1, 1], f"connections let through: got {gates.passed}, want one per server"
        assert gates.turned_away == [0, 0], f"turned away: got {gates.turned_away}, want none"
        for m in sent:
            postfix.wait_message(m)
    finally:
        gates.close()


def test_one_connection_at_a_time_cannot_pass_the_gates(ob, postfix):
    """The control: with --connections 1 the runner visits the servers in turn, each gate waits
    for the other in vain, and every message stays queued. It shows the gate detects a runner
    that is not parallel."""
    gates = GatePair(postfix.plain_port)
    try:
        configure_pair(ob, gates)
        r = ob.ok("queue", "run", "--connections", "1")
        assert "Sent 0, queued again 6" in r.out, "want nothing through, got:\n" + r.describe()
        assert gates.passed == [0, 0], f"let through: got {gates.passed}, want none"
    finally:
        gates.close()


def test_connections_must_be_a_small_number(ob):
    r = ob.fails(64, "queue", "run", "--connections", "0")
    assert "connections" in r.err and "1 to 16" in r.err, r.describe()
