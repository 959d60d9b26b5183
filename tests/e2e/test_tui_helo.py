# tests/e2e/test_tui_helo.py: the server form's Advanced page in `outbox ui` shows the EHLO name,
# saves what is typed there, and refuses a bare IP address with the literal to write instead.
import shutil

import pytest

from test_tui import focus_field, quit_clean, server_json, ui_factory, wait_status  # noqa: F401

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

HELP = "the name this host gives in EHLO"


def open_advanced(ob, ui_factory):
    ob.ok("server", "add", "work", "--host", "smtp.work.test", "--description", "Work")
    ui = ui_factory()
    ui.wait_for("Work")
    ui.keys("Enter")  # into the form
    ui.keys("M-a")  # Advanced
    ui.wait_for("[Advanced]")
    focus_field(ui, HELP, tries=30)  # the form scrolls to it
    ui.wait_for("EHLO Name")
    return ui


def test_ehlo_name_typed_on_advanced_is_saved(ob, ui_factory):
    ui = open_advanced(ob, ui_factory)
    ui.type("box.work.test")
    ui.keys("Enter")
    ui.wait_for('Saved server "work"')
    got = server_json(ob, "work")["helo"]
    assert got == "box.work.test", f"helo after saving the form: got {got!r}, want 'box.work.test'"
    quit_clean(ui)


def test_bare_address_is_refused_on_advanced(ob, ui_factory):
    ui = open_advanced(ob, ui_factory)
    ui.type("10.0.0.1")
    ui.keys("Tab")
    wait_status(ui, "is an IP address; write it as [10.0.0.1]")
    got = server_json(ob, "work")["helo"]
    assert got == "", f"helo after a refused value: got {got!r}, want ''"
