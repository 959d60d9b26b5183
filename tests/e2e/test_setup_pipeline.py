# tests/e2e/test_setup_pipeline.py: `outbox setup` overlaps its lookups and probes, and tells each
# result as it comes: the live progress on a terminal, and the guesses probed while lookups still run.
"""The same small worlds as test_setup_cli.py (dnsmasq, the HTTPS autoconfig/ISPDB server with the
run's CA, aiosmtpd on 127.x addresses). Progress comes in the order things end, so the tests
compare the set of lines and each line's words, never their order or their timing."""
import os
import pty
import re
import select
import subprocess

from conftest import OUTBOX
from test_setup_cli import (AUTOCONFIG_PATH, ISPDB, SOURCES, WELL_KNOWN_PATH, chosen,  # noqa: F401
                            every_source_world, expect, setup_json, world)


def run_on_terminal(ob, *args, timeout=60):
    """Run outbox with stderr a terminal (progress is shown only there): (exit code, stdout, the
    terminal's lines)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([OUTBOX, *args], stdout=subprocess.PIPE, stderr=slave, env=ob.env, text=True)
    os.close(slave)
    seen = b""
    try:
        while True:
            if not select.select([master], [], [], timeout)[0]:
                proc.kill()
                raise AssertionError(f"no end after {timeout} s; the terminal so far: {seen!r}")
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the program ended and closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        out = proc.stdout.read()
        proc.wait(timeout=timeout)
    finally:
        os.close(master)
        proc.stdout.close()
    return proc.returncode, out, seen.decode(errors="replace").replace("\r\n", "\n").splitlines()


def test_progress_tells_each_source_and_each_probe_with_its_outcome_in_the_results_words(ob, world):
    w, names, srv = every_source_world(world)
    options = w.options()
    r, doc = setup_json(ob, "alice@every.test", "--dry-run", *options)
    expect(r.code, 0, "exit status of the --json run", r)

    code, out, lines = run_on_terminal(ob, "setup", "alice@every.test", "--dry-run", *options)
    shown = "\n".join(lines)
    assert code == 0, f"exit status: got {code}, want 0\nterminal:\n{shown}\nstdout:\n{out}"
    expect(lines[0], "outbox: looking up the settings of every.test...", "the first line", r)

    # One line per lookup, in the words of the result's sources: what came of it, then what was asked.
    lookup_lines = [x for x in lines if re.match(r"outbox:   (%s): " % "|".join(map(re.escape, SOURCES)), x)]
    expect(len(lookup_lines), len(doc["sources"]), f"lookup lines (got {lookup_lines})", r)
    for s in doc["sources"]:
        said = f"{s['source']}: {s['outcome']}" + (f": {s['detail']}" if s["detail"] else "")
        pattern = re.escape(f"outbox:   {said} (") + r"\d+" + re.escape(f" ms; {s['what']})")
        got = [x for x in lookup_lines if re.fullmatch(pattern, x)]
        assert len(got) == 1, f"want one line like {pattern!r}, got {got!r} among:\n{shown}"

    # One line per distinct server: each probed once, its verdict as the result has it.
    probe_lines = [x for x in lines if x.startswith("outbox:   probed ")]
    servers = {(c["host"], c["port"], c["security"]): c for c in doc["candidates"]}
    expect(len(probe_lines), len(servers), f"probe lines, one per distinct server (got {probe_lines})", r)
    for (host, port, security), c in servers.items():
        head = f"outbox:   probed {host} port {port} {security}: "
        got = [x for x in probe_lines if x.startswith(head)]
        assert len(got) == 1, f"want one line starting {head!r}, got {got!r} among:\n{shown}"
        if c["probe"] == "ok":
            assert re.fullmatch(re.escape(head + "ok (") + r"\d+" + re.escape(f" ms), AUTH {c['offered_auth']}, "
                                                                               f"{c['tls']}"), got[0]), got[0]
        else:
            expect(got[0], head + c["why"], "a failed probe's line says what the result says", r)
    # The explanation on stdout is what it always was.
    assert f"* {names['autoconfig']} port 465 tls, from autoconfig" in out, out


def slow_lookups_world(world):
    """Every HTTPS lookup held past the timeout; no SRV or MX records; smtp.DOMAIN answering on 465."""
    d = "slow.test"
    w = world(d)
    srv = w.smtp_server([f"smtp.{d}"], port=465)
    w.https({})
    for path in (AUTOCONFIG_PATH, WELL_KNOWN_PATH, f"/v1.1/{d}"):
        w.web.delay(path, 30)
    return w, srv


def test_the_guesses_are_probed_while_the_lookups_still_run(ob, world):
    w, srv = slow_lookups_world(world)
    options = w.options()[:-1] + ["3"]  # --timeout 3
    r, doc = setup_json(ob, "alice@slow.test", "--dry-run", *options)
    expect(r.code, 0, "exit status", r)
    got = {s["source"]: s["outcome"] for s in doc["sources"] if s["source"] in ("autoconfig", "well-known", "ISPDB")}
    expect(got, {"autoconfig": "no answer", "well-known": "no answer", "ISPDB": "no answer"},
           "the HTTPS lookups, held past the timeout", r)
    c = chosen(doc)
    expect((c["host"], c["port"], c["source"], c["probe"]), ("smtp.slow.test", 465, "guess", "ok"), "chosen", r)
    # Offsets from the run's start, compared with each other (not with a clock): the guess had its
    # whole probe, begun and answered, before the first held lookup gave up.
    first_given_up = min(s["done_ms"] for s in doc["sources"] if s["outcome"] == "no answer")
    assert 0 <= c["probe_began_ms"] <= c["probe_done_ms"] < first_given_up, (
        f"want the guess probed before any held lookup ended: probe began {c['probe_began_ms']} ms, "
        f"done {c['probe_done_ms']} ms, the first lookup given up at {first_given_up} ms\n" + r.describe())
