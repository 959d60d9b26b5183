# tests/e2e/test_install_units.py: `make install` puts the systemd user units where systemd's user
# manager looks for them for that prefix (systemd.unit(5)), with the installed binary's path in
# ExecStart, not a path the units were written with.
import os
import shutil
import subprocess

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
UNITS = ["outbox-queue.service", "outbox-queue-once.service", "outbox-queue.timer"]


def install_units(tmp_path, prefix):
    dest = tmp_path / "dest"
    r = subprocess.run(["make", "-s", "-C", REPO, "install-units", f"PREFIX={prefix}", f"DESTDIR={dest}"],
                       capture_output=True, text=True)
    assert r.returncode == 0, f"make install-units PREFIX={prefix}: exit {r.returncode}\n{r.stdout}{r.stderr}"
    return dest


@pytest.mark.parametrize("prefix,unitdir", [
    ("{home}/.local", "{home}/.local/share/systemd/user"),  # $XDG_DATA_HOME/systemd/user
    ("/usr", "/usr/lib/systemd/user"),
    ("/usr/local", "/usr/local/lib/systemd/user"),
], ids=["home-local", "usr", "usr-local"])
def test_units_go_where_systemd_looks_with_the_binary_path(tmp_path, prefix, unitdir):
    home = "/home/someone"
    prefix, unitdir = prefix.format(home=home), unitdir.format(home=home)
    dest = install_units(tmp_path, prefix)
    where = dest / unitdir.lstrip("/")
    got = sorted(os.listdir(where)) if where.is_dir() else []
    assert got == sorted(UNITS), f"units in {unitdir}: got {got}, want {sorted(UNITS)}"
    for name in ("outbox-queue.service", "outbox-queue-once.service"):
        execs = [ln for ln in (where / name).read_text().splitlines() if ln.startswith("ExecStart=")]
        want = f"ExecStart={prefix}/bin/outbox queue run"
        assert len(execs) == 1 and execs[0].startswith(want), f"{name}: got {execs}, want {want}..."
        assert "@" not in execs[0], f"{name}: a placeholder was left: {execs[0]}"


def verify(analyze, run_dir, paths):
    """The lines systemd-analyze says about the units, leaving out the man page it cannot find
    here (Documentation=man:outbox(1) is not installed in the test)."""
    r = subprocess.run([analyze, "--user", "verify", *map(str, paths)], capture_output=True, text=True,
                       env={**os.environ, "XDG_RUNTIME_DIR": str(run_dir)})
    said = (r.stdout + r.stderr).splitlines()
    assert not any("Failed to initialize manager" in ln for ln in said), "\n".join(said)
    return [ln for ln in said if "outbox-queue" in ln and "Command 'man" not in ln]


def test_installed_units_verify(tmp_path):
    # systemd-analyze comes with Debian's systemd package; without it there is nothing to run.
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    run_dir = tmp_path / "run"
    run_dir.mkdir(mode=0o700)
    dest = install_units(tmp_path, "/usr")
    where = dest / "usr/lib/systemd/user"
    # verify wants the binary the units name to exist: point them at one that does.
    for name in UNITS:
        (where / name).write_text((where / name).read_text().replace("/usr/bin/outbox", "/bin/true"))
    # The check can fail: a unit with a bad setting is reported.
    bad = tmp_path / "outbox-queue-bad.service"
    bad.write_text((where / "outbox-queue.service").read_text().replace("Type=simple", "Type=bogus"))
    assert verify(analyze, run_dir, [bad]), "systemd-analyze verify did not report Type=bogus"
    problems = verify(analyze, run_dir, [where / u for u in UNITS])
    assert problems == [], "systemd-analyze verify:\n" + "\n".join(problems)
