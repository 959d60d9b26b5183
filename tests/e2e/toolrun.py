# tests/e2e/toolrun.py: running a test tool (build/.../tests/tools/NAME) and reading the JSON lines
# it prints, for the tests that drive a library part through one.
import json
import os
import subprocess

from conftest import OUTBOX


def tool_path(name):
    """The tool built beside the outbox binary under test."""
    return os.path.join(os.path.dirname(os.path.abspath(OUTBOX)), "tests", "tools", name)


class JsonLines:
    """One run of a tool: its exit status, output, and each stdout line as a dict with a "kind"."""

    def __init__(self, argv, proc):
        self.argv = argv
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr
        self.lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]

    def describe(self):
        return (f"{' '.join(self.argv)}\n  exit {self.code}\n  stdout: {self.out}\n"
                f"  stderr: {self.err!r}")

    def of(self, kind):
        return [x for x in self.lines if x["kind"] == kind]

    def one(self, kind):
        got = self.of(kind)
        assert len(got) == 1, f"want one {kind!r} line, got {len(got)}:\n" + self.describe()
        return got[0]


def run_tool(name, *args, input="", timeout=60, lines=JsonLines):
    """Run tool `name` with `args`, `input` on its stdin; `timeout` only bounds a hang, it is no
    assertion about speed. `lines` is the JsonLines class the caller reads the run with."""
    path = tool_path(name)
    assert os.access(path, os.X_OK), f"{path} is missing: build it with `make unit-bins`"
    argv = [path, *args]
    proc = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout)
    return lines(argv, proc)

