# tests/e2e/test_setup_cancel.py: a discovery run cancelled by its caller's progress callback stops
# beginning anything (no probe, never the login check) and returns without waiting for its lookups.
"""Driven through tests/tools/setuprun (outbox_setup_discover with a progress that cancels) in the
small world of test_setup_pipeline.py: the HTTPS lookups held far past the timeout, smtp.slow.test
answering on 465 with the password the run is given, so a run left alone would log in there."""
import json
import os
import subprocess
import time

import pytest

from conftest import OUTBOX
from test_setup_cli import ISPDB, world  # noqa: F401
from test_setup_pipeline import slow_lookups_world

SETUPRUN = os.path.join(os.path.dirname(os.path.abspath(OUTBOX)), "tests", "tools", "setuprun")
TEMPFAIL = 75
TIMEOUT_MS = 10000  # the run's deadline: the held lookups would keep a run waiting this long


def setuprun(w, srv, *args):
    """(exit code, progress lines, the end line, describe) of one run with the right password."""
    argv = [SETUPRUN, "--resolver", w.resolver(), "--tls-ca", w.pki.ca_cert, "--ispdb",
            f"https://{ISPDB}/v1.1/", "--timeout-ms", str(TIMEOUT_MS), "--password-stdin", *args,
            "alice@slow.test"]
    try:
        # Bounds a hang only: a cancelled run returns at once, one left alone within the deadline.
        p = subprocess.run(argv, input=srv.password + "\n", capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{' '.join(argv)}: still running after 60 s\n  stdout: {e.stdout!r}")
    lines = [json.loads(x) for x in p.stdout.splitlines() if x.strip()]
    said = "\n".join(f"    {x['line']}" for x in lines if x["kind"] == "progress")
    describe = f"{' '.join(argv)}\n  exit {p.returncode}\n  progress:\n{said}\n  stdout: {p.stdout}\n  stderr: {p.stderr}"
    ends = [x for x in lines if x["kind"] == "end"]
    assert len(ends) == 1, "want one end line\n" + describe
    return p.returncode, [x["line"] for x in lines if x["kind"] == "progress"], ends[0], describe


def server_saw(srv, before=0):
    """The commands the SMTP server was sent after its first `before` ones, once it has seen every
    connection to its end (so a command sent before the client exited is in its log)."""
    until = time.monotonic() + 10
    while True:
        log = srv.log()
        opened = log.count("Peer: ")
        closed = log.count("connection lost") + log.count("EOF received")
        if closed >= opened or time.monotonic() > until:
            break
        time.sleep(0.05)
    return [line.split(">> ", 1)[1] for line in log.splitlines() if ">> " in line][before:]


def expect(got, want, what, describe):
    assert got == want, f"{what}: got {got!r}, want {want!r}\n{describe}"


def test_a_run_left_alone_logs_in_on_the_guess_it_probed(world):
    # The same world without a cancel: what the cancelled runs below are kept from doing.
    w, srv = slow_lookups_world(world)
    code, said, end, describe = setuprun(w, srv)
    expect((code, end["rc"], end["result"]), (0, 0, True), "exit, code and result", describe)
    assert "checking the login on smtp.slow.test..." in said, describe
    sent = server_saw(srv)
    assert any(c.startswith("b'AUTH") for c in sent), f"want an AUTH sent, got {sent}\n{describe}"


def test_cancelled_once_the_guess_answered_no_login_and_no_wait_for_the_lookups(world):
    w, srv = slow_lookups_world(world)
    code, said, end, describe = setuprun(w, srv, "--cancel-at", "probed smtp.slow.test port 465 tls: ok")
    expect((code, end["cancelled"], end["result"]), (TEMPFAIL, True, False),
           "exit status, cancelled, a result", describe)
    expect(end["error"], "the setup was cancelled: nothing was saved", "the message", describe)
    # The held lookups would have kept it TIMEOUT_MS: it returned without waiting for them.
    print(f"\nsetup cancelled once the guess answered: returned {end['ms_after_cancel']} ms after the cancel "
          f"(deadline {TIMEOUT_MS} ms)")
    assert 0 <= end["ms_after_cancel"] < TIMEOUT_MS / 2, (
        f"returned {end['ms_after_cancel']} ms after the cancel, want well under {TIMEOUT_MS / 2:.0f}\n{describe}")
    assert said[-1].startswith("probed smtp.slow.test port 465 tls: ok"), f"the last line heard\n{describe}"
    assert not any(x.startswith("checking the login") for x in said), describe
    sent = server_saw(srv)
    assert any(c.startswith("b'EHLO") for c in sent), f"want the probe's EHLO, got {sent}\n{describe}"
    assert not any(c.startswith("b'AUTH") for c in sent), f"want no AUTH, got {sent}\n{describe}"


def test_cancelled_at_the_first_line_nothing_is_probed(world):
    w, srv = slow_lookups_world(world)
    started = len(server_saw(srv))  # the fixture's own check that the server is up
    code, said, end, describe = setuprun(w, srv, "--cancel-at", "looking up the settings of slow.test")
    expect((code, end["cancelled"], end["result"], said), (TEMPFAIL, True, False,
                                                          ["looking up the settings of slow.test..."]),
           "exit status, cancelled, a result, the lines heard", describe)
    expect(server_saw(srv, started), [], "what the SMTP server was sent", describe)
