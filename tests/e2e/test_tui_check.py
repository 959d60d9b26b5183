# tests/e2e/test_tui_check.py: Check Connection in `outbox ui` at 120x35, 80x24 and 50x12: the
# advice whole (wrapped, scrolled), in the form's words, Apply putting the fix in the form, the
# result staying until Close, and the progress moving with no key pressed.
import re
import shutil
import time

import pytest

from servers import netutil
from servers.faultserver import FaultServer, Late, Reply
from test_tui import quit_clean, server_json, ui_factory, wait_status  # noqa: F401

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

SIZES = [(120, 35), (80, 24), (50, 12)]


def body_rows(ui, size):
    """The dialog's body rows as they are on the screen now, without the box's borders."""
    cols, rows = size
    lines = ui.screen().splitlines()
    # The dialog's box: top border on row 1, the body rows 2 .. rows-4, the buttons below them.
    return [lines[y][3:cols - 3].rstrip() if y < len(lines) else "" for y in range(2, rows - 3)]


def read_dialog(ui, size):
    """The dialog's whole body as one string: from the top, then one Down at a time while the
    bottom border says there is more, taking the row that came into view each time."""
    ui.keys("Home")
    ui.wait_for(absent=(" ^ more ",))
    got = body_rows(ui, size)
    for _ in range(200):
        if " v more " not in ui.screen():
            return " ".join(" ".join(got).split())
        before = ui.screen()
        ui.keys("Down")
        deadline = time.monotonic() + 15
        while ui.screen() == before:
            assert time.monotonic() < deadline, "Down did not scroll the dialog:\n" + before
            time.sleep(0.05)
        assert " ^ more " in ui.screen(), "after scrolling down, a mark says there is more above"
        got.append(body_rows(ui, size)[-1])
    raise AssertionError("the dialog never reached its end:\n" + ui.screen())


def meanwhile_of(ob, name, after):
    """What the CLI's advice says after `after`: the words sending's policy adds, the same in both."""
    steps = ob.run("server", "check", name, "--json").json()
    failed = [s for s in steps if s["status"] == "failed"]
    assert len(failed) == 1, steps
    assert after in failed[0]["advice"], f"want {after!r} in the CLI's advice, got {failed[0]['advice']!r}"
    return failed[0], failed[0]["advice"].split(after, 1)[1]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_apply_sets_security_and_port_from_the_advice(ob, ui_factory, postfix, pki, size):
    """STARTTLS set on Postfix's implicit-TLS port: the advice says, in the form's words, to set
    Security to TLS and Port to that port; Apply puts both in the form, OK saves them, and a
    second check passes."""
    port = postfix.smtps_port
    ob.ok("server", "add", "pf", "--host", "127.0.0.1", "--port", str(port), "--security", "starttls",
          "--tls-ca", pki.ca_cert, "--user", postfix.user, "--password-stdin", "--timeout", "10",
          input=postfix.password)
    step, meanwhile = meanwhile_of(ob, "pf", f"outbox server edit pf --security tls --port {port}")
    assert step["fix"] == [{"field": "security", "value": "tls"}, {"field": "port", "value": str(port)}], \
        f"server check --json fix: got {step['fix']}"

    ui = ui_factory(*size)
    ui.wait_for("pf")
    ui.keys("c")
    ui.wait_for("[FAIL]", "[ Close ]", timeout=30)
    s = ui.wait_for("[ Apply ]")
    assert "a: apply the fix" in s.splitlines()[-1], "the bottom row names this dialog's keys:\n" + s
    name = f"check-apply-{size[0]}x{size[1]}"
    ui.save(name)
    got = read_dialog(ui, size)
    want = (f"What to do: port {port} speaks TLS from the first byte: set Security to TLS and Port to "
            f"{port}{meanwhile}")
    assert want in got, f"the advice whole, in the form's words:\ngot  {got}\nwant {want}"
    assert "outbox server edit" not in got and " --" not in got, \
        "the dialog names fields, not command-line options:\n" + got
    assert "this port expects implicit TLS: Security TLS" in got, "the finding in the form's words:\n" + got
    ui.save(name + "-end")

    ui.keys("M-a")
    wait_status(ui, f"Applied: Security tls, Port {port}.")
    s = ui.wait_for(absent=("[ Apply ]", "Check connection: pf"))
    ui.save(name + "-applied")
    saved = server_json(ob, "pf")
    assert (saved["security"], saved["port"]) == ("starttls", port), \
        f"Apply changes the form, not the store: got {saved['security']}/{saved['port']}"
    assert f'Server "pf" (changed)' in s and f"Port: {port}" in s, "the form shows the draft changed:\n" + s
    if size[1] >= 24:  # Security is below the screen's edge at 50x12
        assert re.search(r"Security: *\[?tls", s), "the form shows Security changed:\n" + s
    ui.keys("o")
    wait_status(ui, 'Saved server "pf"')
    saved = server_json(ob, "pf")
    assert (saved["security"], saved["port"]) == ("tls", port), \
        f"after OK: got {saved['security']}/{saved['port']}, want tls/{port}"

    ui.keys("c")
    ui.wait_for("Every step passed", timeout=30)
    ui.keys("Escape")
    wait_status(ui, 'Check connection: every step passed for "pf".')
    quit_clean(ui)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_closed_port_advice_is_whole_and_has_no_apply(ob, ui_factory, size):
    """Nothing listens: the advice is shown whole (at 50x12 by scrolling), no Apply, keys that
    are not Close leave the result open, and the store is as it was."""
    port = netutil.free_port()
    ob.ok("server", "add", "shut", "--host", "127.0.0.1", "--port", str(port), "--security", "starttls",
          "--timeout", "10")
    step, meanwhile = meanwhile_of(ob, "shut", "(outbox server edit shut --port N --security MODE)")
    assert step["fix"] == [], f"server check --json fix for a closed port: got {step['fix']}, want []"
    before = ob.fingerprint()

    ui = ui_factory(*size)
    ui.wait_for("shut")
    ui.keys("c")
    ui.wait_for("[FAIL]", "[ Close ]", timeout=30)
    ui.save(f"check-closed-{size[0]}x{size[1]}")
    ui.keys("x", "a", "M-a", "Tab", "1")  # no Apply here, and none of these closes the result
    got = read_dialog(ui, size)
    want = (f"What to do: nothing accepts connections on 127.0.0.1 port {port}: check the port and that "
            f"the server runs; mail submission uses 587 with Security STARTTLS or 465 with Security TLS "
            f"(change Port and Security){meanwhile}")
    assert want in got, f"the advice whole, in the form's words:\ngot  {got}\nwant {want}"
    assert "Failed:" in got, got
    s = ui.screen()
    assert "[ Apply ]" not in s and "[ Close ]" in s, "no Apply without a change of fields:\n" + s
    bottom = s.splitlines()[-1]
    assert "c or Esc: close" in bottom and "apply" not in bottom, "the bottom row names this dialog's keys:\n" + s
    ui.save(f"check-closed-{size[0]}x{size[1]}-end")
    ui.keys("M-c")
    wait_status(ui, "Check connection failed:")
    ui.wait_gone("[ Close ]")
    quit_clean(ui)
    assert ob.fingerprint() == before, "a check closed without Apply changes nothing in the store"


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_progress_moves_without_a_key(ob, ui_factory, size):
    """A server that greets only after a pause: the EHLO step shows as running, then the check
    ends and the dialog shows it, with no key pressed in between; Enter on Close closes it."""
    srv = FaultServer(tls_mode="none", script={"greeting": Late(Reply(220, "slow.test ESMTP"), 1.5)}).start()
    try:
        ob.ok("server", "add", "slow", "--host", "127.0.0.1", "--port", str(srv.port), "--security", "none",
              "--timeout", "10")
        ui = ui_factory(*size)
        ui.wait_for("slow")
        ui.keys("c")
        ui.wait_for("[ .. ]", "[ Cancel ]", timeout=15)
        ui.save(f"check-progress-{size[0]}x{size[1]}")
        ui.click_text("Check connection: slow")  # a click beside the buttons stops nothing
        ui.wait_for("Every step passed", "[ Close ]", absent=("[ .. ]",), timeout=30)
        ui.save(f"check-progress-{size[0]}x{size[1]}-done")
        ui.click_text("Check connection: slow")  # nor does it close the result
        got = read_dialog(ui, size)
        for want in ("[ OK ] Connect to 127.0.0.1", "[ OK ] Greeting and capabilities (EHLO)",
                     'greeting "220 slow.test ESMTP"', "[skip] Log in"):
            assert want in got, f"want {want!r} in the finished check, got {got}"
        if size[1] >= 24:
            ui.keys("Enter")  # Enter on Close, which has the focus
        else:
            ui.click_text("[ Close ]", offset=2)
        wait_status(ui, 'Check connection: every step passed for "slow".')
        quit_clean(ui)
    finally:
        srv.stop()
