# tests/e2e/test_queue_turns.py: a queue run over DATA (no CHUNKING) costs one round trip per
# message, also across the groups its records are kept in: counted by bench/rtt-proxy, not timed.
import json
import os
import subprocess
import sys
import time

from sendutil import configure, marker

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROXY = os.path.join(ROOT, "bench", "rtt-proxy")
COUNT = 150


def proxy(target_port, stats, delay_ms):
    p = subprocess.Popen([sys.executable, PROXY, "--listen", "127.0.0.1:0", "--target",
                          f"127.0.0.1:{target_port}", "--delay-ms", str(delay_ms), "--stats", stats,
                          "--max-seconds", "300"], stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    assert line.startswith("rtt-proxy listening on "), f"the proxy did not start: {line!r}"
    return p, int(line.rsplit(":", 1)[1])


def test_one_turn_per_message_across_groups(ob, smtp_sink, tmp_path):
    """With a 2 ms delay each way a group of records closes after 50 ms, a dozen messages or so,
    so 150 messages span a dozen groups. Each message's MAIL, RCPT and DATA go behind the one
    before's final ".", the first of each group behind the last of the group before included;
    a message started afresh would wait for its 354 and cost a second turn."""
    sink = smtp_sink([])
    stats = str(tmp_path / "turns.jsonl")
    p, port = proxy(sink.port, stats, 2)
    try:
        configure(ob, "sink", port, "none")
        for _ in range(COUNT):
            r = ob.run("send", "--queue-only", "rcpt@example.test", input=f"Subject: {marker()}\n\nt\n")
            assert r.code == 0, r.describe()
        r = ob.ok("queue", "run")
        assert f"Sent {COUNT}," in r.out, r.describe()
        deadline = time.monotonic() + 10
        while not (os.path.exists(stats) and os.path.getsize(stats)) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        p.terminate()
        p.wait(timeout=10)
    [conn] = [json.loads(line) for line in open(stats)]
    # One turn for EHLO; one per message; one more for the first message of each claim batch (64,
    # then 128), which starts afresh and waits for its 354; and the QUIT after the last replies.
    batches = 2
    want = 1 + COUNT + batches + 1
    assert conn["turns"] <= want, \
        f"turns: got {conn['turns']} for {COUNT} messages, want at most {want} (one per message)"
