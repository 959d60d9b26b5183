# tests/e2e/test_sendmail_mode.py: outbox invoked as sendmail: the options mutt, git send-email,
# cron and PHP pass are accepted; -X, -C and unsafe envelope values are refused before connecting.
import os

import pytest

from conftest import OUTBOX
from sendutil import configure
from servers.faultserver import FaultServer

USAGE = 64
MESSAGE = "To: to@example.test\nCc: cc@example.test\nBcc: hidden@example.test\nSubject: sm\n\nbody\n"


@pytest.fixture
def sendmail(ob, tmp_path):
    link = tmp_path / "bin" / "sendmail"
    link.parent.mkdir()
    os.symlink(os.path.abspath(OUTBOX), link)
    srv = FaultServer(tls_mode="none", ehlo=["PIPELINING", "8BITMIME"])
    srv.start()
    configure(ob, "local", srv.port, "none")

    def run(*args, input=MESSAGE):
        import subprocess
        from conftest import Result
        proc = subprocess.run([str(link), *args], input=input, capture_output=True, text=True,
                              env=ob.env, timeout=60)
        return Result(["sendmail", *args], proc)
    run.srv = srv
    yield run
    srv.stop()


@pytest.mark.parametrize("args", [
    ["-t", "-oi"],                                   # mutt
    ["-i", "-t"],                                    # git send-email
    ["-t", "-i", "-f", "sender@example.test"],       # PHP mail()
    ["-odi", "-oem", "-bm", "-t"],                   # old cron and scripts
    ["-t", "-F", "Sender Name", "-fsender@example.test"],
    ["-v", "-t"],
])
def test_accepted_option_sets(sendmail, args):
    r = sendmail(*args)
    assert r.code == 0, r.describe()
    assert r.out == "", "sendmail mode is quiet on success"
    msg = sendmail.srv.messages[-1]
    assert sorted(msg.rcpt_to) == ["cc@example.test", "hidden@example.test", "to@example.test"]
    assert b"Bcc" not in msg.data and b"hidden@" not in msg.data, "Bcc is removed"


@pytest.mark.parametrize("args,words", [
    (["-X", "/tmp/log", "-t"], "-X is refused"),
    (["-C", "/etc/other.cf", "-t"], "-C is refused"),
    (["-f", "-oQ/tmp", "x@example.test"], 'starts with "-"'),
    (["--", "-bad@example.test"], 'starts with "-"'),
    (["-f", "a@example.test\r\nRCPT TO:<evil@example.test>", "x@example.test"], "line break"),
    (["x@example.test\nRCPT TO:<evil@example.test>"], "line break"),
])
def test_refused_before_connecting(sendmail, args, words):
    r = sendmail(*args)
    assert r.code == USAGE, r.describe()
    assert words in r.err, r.describe()
    assert sendmail.srv.connections == [], "no connection may be made"


def test_dot_line_ends_input_without_i(sendmail):
    sendmail("x@example.test", input="Subject: d\n\nfirst\n.\nafter the dot\n")
    assert b"after the dot" not in sendmail.srv.messages[-1].data
    sendmail("-i", "x@example.test", input="Subject: d\n\nfirst\n.\nafter the dot\n")
    assert b"after the dot" in sendmail.srv.messages[-1].data
