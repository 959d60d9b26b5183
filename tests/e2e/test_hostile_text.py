# tests/e2e/test_hostile_text.py: a server's words never reach the terminal as something it would
# obey: escape sequences, C1 controls, bidi overrides and bytes that are not UTF-8 are shown as
# visible escapes in errors, -v transcripts, the queue, the log and the doctor; JSON still parses.
import json
import subprocess

import pytest

from conftest import OUTBOX
from sendutil import configure, marker
from servers.faultserver import FaultServer, Raw

# (name, the hostile bytes a reply carries, the escape a person should see instead, or None
# when the reply parser refuses the line outright and no text of it is shown at all)
HOSTILE = [
    ("esc-csi", b"\x1b[2K\x1b[1A250 2.0.0 delivered OK", None),
    ("c1-csi-utf8", b"\xc2\x9b" b"2K\xc2\x9b" b"1A250 2.0.0 delivered OK", "\\u009B"),
    ("c1-csi-raw", b"\x9b" b"2K\x9b" b"1A250 2.0.0 delivered OK", "\\x9B"),
    ("bidi-override", "\u202eKO deliver\u2066x\u2069".encode(), "\\u202E"),
    ("not-utf8", b"\xff\xfe\xc3 refused", "\\xFF"),
]

# Bytes that must never reach a terminal from a server: ESC, CSI in either form (0x9B covers
# C2 9B too), the bidi override and isolates, and the invalid bytes sent.
FORBIDDEN = [b"\x1b", b"\x9b", "\u202e".encode(), "\u2066".encode(), b"\xff", b"\xfe"]


def run(ob, *args, input=None):
    """outbox with bytes kept as bytes: a raw 0x9B must be seen, not fail to decode."""
    proc = subprocess.run([OUTBOX, *args], input=input, capture_output=True, env=ob.env, timeout=60)
    return proc


def describe(args, proc):
    return (f"outbox {' '.join(args)}\n  exit {proc.returncode}\n"
            f"  stdout: {proc.stdout!r}\n  stderr: {proc.stderr!r}")


class Leaks:
    """Every command whose output held raw server bytes, reported together at the end, so one
    failing run names every place that leaks."""

    def __init__(self):
        self.found = []

    def check(self, args, proc):
        for stream, data in (("stdout", proc.stdout), ("stderr", proc.stderr)):
            raw = [b for b in FORBIDDEN if b in data]
            if raw:
                self.found.append(f"{stream} of `outbox {' '.join(args)}` holds {raw!r}:\n"
                                  + describe(args, proc))

    def want_shown(self, args, proc, shown):
        if shown is not None and shown.encode() not in proc.stdout + proc.stderr:
            self.found.append(f"`outbox {' '.join(args)}` does not show the server's words with "
                              f"{shown!r}:\n" + describe(args, proc))

    def assert_none(self):
        assert not self.found, ("want server bytes shown as escapes, got them raw in "
                                f"{len(self.found)} outputs:\n" + "\n".join(self.found))


LEAKS = Leaks()


def checked(ob, *args, input=None):
    proc = run(ob, *args, input=input)
    LEAKS.check(args, proc)
    return proc




def line(code, text):
    return Raw(str(code).encode() + b" " + text + b"\r\n", code)


@pytest.mark.parametrize("hostile,shown", [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_server_text_is_escaped_everywhere(ob, pki, hostile, shown):
    # The greeting, one refused and one deferred recipient all carry the hostile text.
    srv = FaultServer(cert=pki.server_cert, key=pki.server_key, tls_mode="none",
                      script={"greeting": line(220, b"mx " + hostile),
                              "rcpt": [line(550, b"5.1.1 " + hostile), line(451, b"4.7.1 " + hostile)]})
    srv.start()
    LEAKS.found = []
    try:
        configure(ob, "fault", srv.port, "none")
        for verbose in ([], ["-v"]):
            m = marker()
            args = ["send", *verbose, "gone@example.test", "later@example.test"]
            proc = checked(ob, *args, input=f"Subject: {m}\n\nbody\n".encode())
            LEAKS.want_shown(args, proc, shown)

        queued = parsed_json(ob, "queue", "list", "--json")
        assert queued, "want the deferred message in the outbox, got an empty queue"
        checked(ob, "queue", "list")
        for q in queued:
            LEAKS.want_shown(["queue", "show"], checked(ob, "queue", "show", str(q["id"])), shown)
            parsed_json(ob, "queue", "show", str(q["id"]), "--json")
        LEAKS.want_shown(["log"], checked(ob, "log"), shown)
        args = ["queue", "run", "--all", "-v"]
        LEAKS.want_shown(args, checked(ob, *args), shown)
        history = parsed_json(ob, "log", "--json")
        assert history, "want the attempts in the log, got none"

        for args in (["server", "check", "fault"], ["server", "check", "fault", "-v"]):
            LEAKS.want_shown(args, checked(ob, *args), shown)
        parsed_json_or_failure(ob, "server", "check", "fault", "--json")
        LEAKS.assert_none()
    finally:
        srv.stop()


def parsed_json_or_failure(ob, *args, want_exit=None):
    """The JSON `outbox *args` printed, which must parse whatever the exit (the doctor exits
    non-zero when a step fails); with want_exit, the exit is checked too."""
    proc = checked(ob, *args)
    if want_exit is not None:
        assert proc.returncode == want_exit, f"want exit {want_exit}, got:\n" + describe(args, proc)
    try:
        return json.loads(proc.stdout)
    except ValueError as e:
        raise AssertionError(f"`outbox {' '.join(args)}` printed JSON that does not parse ({e}):\n"
                             + describe(args, proc))


def parsed_json(ob, *args):
    return parsed_json_or_failure(ob, *args, want_exit=0)


def test_the_ui_shows_a_hostile_reply_as_escapes(ob, pki):
    """The Outbox view of `outbox ui` quotes the last reply: a bidi override there is shown as
    \\u202E, and the reply's words stay in their order on the screen."""
    from tmuxui import TmuxUI

    hostile = "\u202eKO deliver".encode()
    srv = FaultServer(cert=pki.server_cert, key=pki.server_key, tls_mode="none",
                      script={"rcpt": line(451, b"4.7.1 later " + hostile)})
    srv.start()
    ui = None
    try:
        configure(ob, "fault", srv.port, "none")
        proc = checked(ob, "send", "later@example.test", input=b"Subject: ui\n\nbody\n")
        assert proc.returncode == 0, "want the message queued, got:\n" + describe(["send"], proc)
        ui = TmuxUI(OUTBOX, dict(ob.env), 120, 30)
        ui.keys("3")
        screen = ui.wait_for("later@example.test", "4.7.1 later")
        ui.save("hostile-reply")
        assert "4.7.1 later \\u202EKO deliver" in screen and "\u202e" not in screen, (
            "want the reply shown as '4.7.1 later \\u202EKO deliver', got the screen:\n" + screen)
        ui.keys("q")
    finally:
        if ui:
            ui.close()
        srv.stop()
