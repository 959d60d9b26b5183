# tests/e2e/bounded.py: run the outbox binary under a generous bound, for tests of its own time
# limits: a run that outlasts the bound fails the test with what it printed, instead of hanging it.
import subprocess
import tempfile
import time

import pytest

from conftest import OUTBOX, Result


def run_bounded(ob, args, bound, want, input=None):
    """(Result, seconds) of `outbox *args`; still running after `bound` seconds fails the test,
    saying `want` (what it should have done instead). Output goes to files, not pipes, so that a
    process the run left behind holding them cannot keep the test waiting."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.monotonic()
        proc = subprocess.Popen([OUTBOX, *args], stdin=subprocess.PIPE, stdout=out, stderr=err,
                                text=True, env=ob.env)
        try:
            proc.communicate(input, timeout=bound)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            err.seek(0)
            pytest.fail(f"outbox {' '.join(args)}: still running after {bound} s; want {want}\n"
                        f"  stderr so far: {err.read()!r}")
        took = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        done = subprocess.CompletedProcess(args, proc.returncode, out.read(), err.read())
    return Result(list(args), done), took
