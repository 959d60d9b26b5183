# tests/e2e/test_password_command_timeout.py: a password command that does not finish within the
# server's timeout is stopped with everything it started, and `send` says so instead of hanging;
# one that finishes but leaves a process in the background holding its output is used at once.
import signal
import os

import pytest

from bounded import run_bounded
from sendutil import configure
from servers.faultserver import FaultServer

TEMPFAIL = 75
TIMEOUT = 2       # the server's --timeout
BOUND = 20        # generous: the old code waited for the command however long it took
MESSAGE = "Subject: password command test\n\nhello\n"

# Each command writes its shell's pid, which is also its process group's id, to {pidfile}.
COMMANDS = {
    "sleeps-then-prints": "echo $$ > {pidfile}; sleep 300; echo pw",
    # The password comes at once, but the command itself does not end.
    "prints-then-sleeps": "echo $$ > {pidfile}; echo pw; sleep 300",
}


def live_in_group(pgid):
    """Processes of process group pgid that have not ended (zombies are not running)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after its ")".
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        state, _ppid, pgrp = stat[stat.rindex(")") + 2:].split()[:3]
        if int(pgrp) == pgid and state != "Z":
            found.append(f"{pid} {comm} ({state})")
    return found


@pytest.mark.parametrize("queue", [False, True], ids=["no-queue", "queued"])
@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_password_command_that_does_not_finish_is_stopped(ob, pki, tmp_path, name, queue):
    pidfile = tmp_path / "command.pid"
    srv = FaultServer(cert=pki.server_cert, key=pki.server_key, tls_mode="implicit").start()
    try:
        configure(ob, "slow", srv.port, "tls", ca=pki.ca_cert)
        ob.ok("server", "edit", "slow", "--timeout", str(TIMEOUT), "--user", "someone",
              "--password-command", COMMANDS[name].format(pidfile=pidfile))
        args = ["send", *([] if queue else ["--no-queue"]), "rcpt@example.test"]
        r, took = run_bounded(ob, args, BOUND, f"the command stopped after the {TIMEOUT} s timeout",
                              input=MESSAGE)
        assert took < BOUND, f"took {took:.1f} s, want under {BOUND} s\n" + r.describe()
        want = (f'the password command for server "slow" did not finish within {TIMEOUT} s; '
                f"it was stopped")
        assert want in r.err, f"want {want!r} in the message, got:\n" + r.describe()
        # A command that may finish next time is a temporary failure: the policy queues the
        # message, or reports it with 75 under --no-queue.
        if queue:
            assert r.code == 0 and "queued" in r.err, "want exit 0, queued, got:\n" + r.describe()
            items = ob.ok("queue", "list", "--json").json()
            assert [q["state"] for q in items] == ["queued"], f"queue: got {items}, want one queued"
        else:
            assert r.code == TEMPFAIL, f"want exit {TEMPFAIL}, got:\n" + r.describe()
        pgid = int(pidfile.read_text())
        left = live_in_group(pgid)
        assert left == [], f"processes of the command still running: {left}, want none"
        assert srv.connections == [], "no connection may be made without the password"
    finally:
        srv.stop()


def test_a_command_that_finished_is_not_waited_for_past_its_background_process(ob, pki, tmp_path, password):
    """The shell prints the password and exits; the process it left in the background holds the
    output open. The command has finished: the password is used now, not after the timeout."""
    pidfile = tmp_path / "command.pid"
    srv = FaultServer(cert=pki.server_cert, key=pki.server_key, tls_mode="implicit").start()
    try:
        configure(ob, "bg", srv.port, "tls", ca=pki.ca_cert)
        ob.ok("server", "edit", "bg", "--timeout", "30", "--user", "someone", "--password-command",
              f"echo $$ > {pidfile}; sleep 300 & echo {password}")
        r, took = run_bounded(ob, ["send", "--no-queue", "rcpt@example.test"], BOUND,
                              "the password used once the command exited", input=MESSAGE)
        assert r.code == 0, "want exit 0, got:\n" + r.describe()
        got = [(mech, user, pw) for c in srv.connections for mech, user, pw, _tls in c.auths]
        assert got == [("PLAIN", "someone", password)], f"logins: got {got}, want the command's password"
    finally:
        srv.stop()
        if pidfile.exists():
            try:
                os.killpg(int(pidfile.read_text()), signal.SIGKILL)  # the background sleep is ours to end
            except ProcessLookupError:
                pass
