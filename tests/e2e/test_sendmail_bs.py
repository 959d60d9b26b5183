# tests/e2e/test_sendmail_bs.py: `sendmail -bs`, SMTP on standard input and output, driven by a
# client over pipes (in lockstep and pipelined) and by Symfony Mailer; aiosmtpd is the real upstream.
import email
import email.policy
import os
import select
import subprocess
import tempfile
import time

import pytest

from conftest import OUTBOX
from sendutil import configure, marker

USAGE, DATAERR, TEMPFAIL = 64, 65, 75


class BsClient:
    """`sendmail -bs` as a child on pipes; replies read with a deadline, so a silent server fails
    the test with what it said so far instead of hanging it."""

    def __init__(self, link, env, *args):
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([str(link), "-bs", *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.err, env=env)
        self.buf = b""
        self.said = []

    def send(self, data):
        self.proc.stdin.write(data if isinstance(data, bytes) else data.encode())
        self.proc.stdin.flush()

    def _line(self, timeout):
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            ready = select.select([fd], [], [], max(left, 0))[0] if left > 0 else []
            if not ready:
                pytest.fail(f"no reply within {timeout} s; replies so far {self.said!r}, "
                            f"unread {self.buf!r}\n  stderr: {self.stderr()!r}")
            chunk = os.read(fd, 65536)
            if not chunk:
                pytest.fail(f"sendmail -bs closed its output; replies so far {self.said!r}\n"
                            f"  stderr: {self.stderr()!r}")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode() + "\n"

    def reply(self, timeout=30):
        """(code, text of every line) of the next reply."""
        lines = []
        while True:
            line = self._line(timeout)
            assert line.endswith("\r\n"), f"a reply line must end in CRLF: got {line!r}"
            lines.append(line[4:-2])
            if line[3] == " ":
                self.said.append(line[:-2])
                return int(line[:3]), lines
            assert line[3] == "-", f"a reply line is 'ddd ' or 'ddd-': got {line!r}"

    def expect(self, want, what):
        code, lines = self.reply()
        assert code == want, f"{what}: got {code} {lines!r}, want {want}\n  stderr: {self.stderr()!r}"
        return lines

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode(errors="replace")

    def finish(self, timeout=30):
        self.proc.stdin.close()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"sendmail -bs still running {timeout} s after its input ended\n"
                        f"  stderr: {self.stderr()!r}")


@pytest.fixture
def link(tmp_path):
    path = tmp_path / "bin" / "sendmail"
    path.parent.mkdir()
    os.symlink(os.path.abspath(OUTBOX), path)
    return path


@pytest.fixture
def upstream(ob, aiosmtpd_srv, pki):
    configure(ob, "aio", aiosmtpd_srv.port, "starttls", user=aiosmtpd_srv.user,
              password=aiosmtpd_srv.password, ca=pki.ca_cert)
    return aiosmtpd_srv


def received(srv, m):
    """(envelope, raw bytes) of the message carrying marker m."""
    name, data = srv.wait_message(m)
    return srv.envelope(name), data


def test_lockstep_session_delivers_with_the_smtp_envelope(ob, link, upstream):
    m = marker()
    c = BsClient(link, ob.env)
    c.expect(220, "greeting")
    c.send("EHLO client.example\r\n")
    offers = [line.split(" ")[0].upper() for line in c.expect(250, "EHLO")[1:]]
    assert offers == ["PIPELINING", "8BITMIME", "SMTPUTF8", "DSN", "ENHANCEDSTATUSCODES", "HELP"], \
        f"EHLO offers: got {offers}, want only what -bs implements"
    c.send("MAIL FROM:<sender@example.test>\r\n")
    c.expect(250, "MAIL")
    for rcpt in ("a@example.test", "b@example.test"):
        c.send(f"RCPT TO:<{rcpt}>\r\n")
        c.expect(250, f"RCPT {rcpt}")
    c.send("DATA\r\n")
    c.expect(354, "DATA")
    c.send(f"From: Sender <sender@example.test>\r\nTo: a@example.test\r\nSubject: {m}\r\n\r\n"
           "line one\r\n..starts with a dot\r\n.\r\n")
    words = c.expect(250, "the end of the data")
    assert "delivered" in words[0], f"DATA reply: got {words!r}, want it to say delivered"
    c.send("QUIT\r\n")
    c.expect(221, "QUIT")
    assert c.finish() == 0, c.stderr()
    env, data = received(upstream, m)
    assert env["mail_from"] == "sender@example.test", f"MAIL FROM upstream: got {env['mail_from']!r}"
    assert env["rcpt_tos"] == ["a@example.test", "b@example.test"], f"RCPT TO upstream: got {env['rcpt_tos']}"
    assert b"\r\n.starts with a dot\r\n" in data, f"the dot-stuffing: got {data!r}"
    assert b"\r\n..starts" not in data, "a stuffed dot reached the message"


def test_pipelined_session_two_messages(ob, link, upstream):
    m1, m2 = marker(), marker()
    c = BsClient(link, ob.env)
    c.expect(220, "greeting")
    # RFC 2920: everything up to DATA in one write; replies come back in order.
    c.send("EHLO client.example\r\nMAIL FROM:<sender@example.test>\r\nRCPT TO:<a@example.test>\r\n"
           "RCPT TO:<no-domain>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n")
    got = [c.reply()[0] for _ in range(6)]
    # no-domain is a local name no alias maps: 550, and the group goes on.
    assert got == [250, 250, 250, 550, 250, 354], f"pipelined replies: got {got}"
    # The data, its end and the whole next transaction in one write as well.
    c.send(f"Subject: {m1}\r\n\r\none\r\n.\r\nRSET\r\nMAIL FROM:<>\r\nRCPT TO:<c@example.test>\r\n"
           f"DATA\r\n")
    got = [c.reply()[0] for _ in range(5)]
    assert got == [250, 250, 250, 250, 354], f"replies after the first message: got {got}"
    c.send(f"Subject: {m2}\r\n\r\ntwo\r\n.\r\nQUIT\r\n")
    got = [c.reply()[0] for _ in range(2)]
    assert got == [250, 221], f"replies to the second message and QUIT: got {got}"
    assert c.finish() == 0, c.stderr()
    env1, _ = received(upstream, m1)
    env2, _ = received(upstream, m2)
    assert env1["rcpt_tos"] == ["a@example.test", "b@example.test"], \
        f"first message's recipients: got {env1['rcpt_tos']}, want the two accepted"
    # aiosmtpd records the null reverse-path as "<>".
    assert (env2["mail_from"], env2["rcpt_tos"]) == ("<>", ["c@example.test"]), \
        f"second message (null sender): got {env2['mail_from']!r} {env2['rcpt_tos']}"


def test_refused_commands_leave_the_session_usable(ob, link, upstream):
    m = marker()
    c = BsClient(link, ob.env)
    c.expect(220, "greeting")
    for line, code in [("MAIL FROM:<sender@example.test>", 503), ("EHLO c", 250), ("STARTTLS", 502),
                       ("FROB", 500), ("MAIL FROM:<sender@example.test> SIZE=100", 555),
                       ("MAIL FROM:<sender@example.test>", 250), ("RCPT TO:<a@example.test> FROB=1", 555),
                       ("DATA", 554), ("VRFY a@example.test", 252), ("RCPT TO:<a@example.test>", 250),
                       ("NOOP " + "x" * 1200, 500), ("DATA", 354)]:
        c.send(line + "\r\n")
        c.expect(code, line[:60])
    c.send(f"Subject: {m}\r\n\r\nbody\r\n.\r\nQUIT\r\n")
    c.expect(250, "the message after the refusals")
    c.expect(221, "QUIT")
    assert c.finish() == 0, c.stderr()
    env, _ = received(upstream, m)
    assert env["rcpt_tos"] == ["a@example.test"], f"recipients: got {env['rcpt_tos']}"


@pytest.fixture
def dsn_upstream(ob, aiosmtpd_factory, pki):
    """An aiosmtpd that offers DSN and records the MAIL and RCPT arguments it was sent."""
    srv = aiosmtpd_factory(dsn=True)
    configure(ob, "aio", srv.port, "starttls", user=srv.user, password=srv.password, ca=pki.ca_cert)
    return srv


def bs_message(c, mail, rcpts, m, want_rcpt):
    """One transaction in lockstep: MAIL, each RCPT with the code wanted, and a message with
    subject m that must be accepted."""
    c.send(f"MAIL FROM:<sender@example.test>{mail}\r\n")
    c.expect(250, "MAIL" + mail)
    for rcpt, want in zip(rcpts, want_rcpt):
        c.send(f"RCPT TO:{rcpt}\r\n")
        c.expect(want, "RCPT TO:" + rcpt)
    c.send("DATA\r\n")
    c.expect(354, "DATA")
    c.send(f"Subject: {m}\r\n\r\nbody\r\n.\r\n")
    c.expect(250, "the end of the data")


def test_dsn_parameters_reach_the_upstream_server(ob, link, dsn_upstream):
    m = marker()
    c = BsClient(link, ob.env)
    c.expect(220, "greeting")
    c.send("EHLO client.example\r\n")
    assert "DSN" in c.expect(250, "EHLO")[1:], "EHLO must offer DSN"
    # ENVID is xtext: "+2B" is a "+", decoded here and written again as xtext upstream.
    bs_message(c, f" RET=HDRS ENVID=env+2B{m}",
               ["<a@example.test> NOTIFY=SUCCESS ORCPT=rfc822;a@example.test", "<b@example.test> NOTIFY=success"],
               m, [250, 250])
    c.send("QUIT\r\n")
    c.expect(221, "QUIT")
    assert c.finish() == 0, c.stderr()
    env, _ = received(dsn_upstream, m)
    assert f" RET=HDRS ENVID=env+2B{m}" in env["mail_arg"], \
        f"MAIL upstream: got {env['mail_arg']!r}, want RET=HDRS ENVID=env+2B{m}"
    want = ["TO:<a@example.test> NOTIFY=SUCCESS ORCPT=rfc822;a@example.test",
            "TO:<b@example.test> NOTIFY=SUCCESS ORCPT=rfc822;b@example.test"]
    assert env["rcpt_args"] == want, f"RCPT upstream: got {env['rcpt_args']}, want {want}"


def test_second_notify_gets_455_and_goes_in_its_own_transaction(ob, link, dsn_upstream):
    m1, m2 = marker(), marker()
    c = BsClient(link, ob.env)
    c.expect(220, "greeting")
    c.send("EHLO client.example\r\n")
    c.expect(250, "EHLO")
    c.send("MAIL FROM:<sender@example.test>\r\nRCPT TO:<a@example.test> NOTIFY=SUCCESS\r\n"
           "RCPT TO:<b@example.test> NOTIFY=NEVER\r\n")
    c.expect(250, "MAIL")
    c.expect(250, "RCPT a with NOTIFY=SUCCESS")
    words = c.expect(455, "RCPT b with another NOTIFY")
    assert words[0].startswith("4.5.4 ") and "separate transaction" in words[0], \
        f"455 words: got {words!r}, want 4.5.4 asking for a separate transaction"
    c.send("DATA\r\n")
    c.expect(354, "DATA")
    c.send(f"Subject: {m1}\r\n\r\nbody\r\n.\r\n")
    c.expect(250, "the first message")
    # What a client does with the 455: the recipient again, in a transaction of its own.
    bs_message(c, "", ["<b@example.test> NOTIFY=NEVER"], m2, [250])
    c.send("QUIT\r\n")
    c.expect(221, "QUIT")
    assert c.finish() == 0, c.stderr()
    env1, _ = received(dsn_upstream, m1)
    env2, _ = received(dsn_upstream, m2)
    want1 = ["TO:<a@example.test> NOTIFY=SUCCESS ORCPT=rfc822;a@example.test"]
    want2 = ["TO:<b@example.test> NOTIFY=NEVER ORCPT=rfc822;b@example.test"]
    assert env1["rcpt_args"] == want1, f"first message's RCPT upstream: got {env1['rcpt_args']}, want {want1}"
    assert env2["rcpt_args"] == want2, f"second message's RCPT upstream: got {env2['rcpt_args']}, want {want2}"


def test_recipient_refused_upstream_is_a_5xx_to_data(ob, link, smtp_sink):
    sink = smtp_sink(["-f", "RCPT"])
    configure(ob, "sink", sink.port, "none")
    c = BsClient(link, ob.env)
    c.send("EHLO c\r\nMAIL FROM:<sender@example.test>\r\nRCPT TO:<a@example.test>\r\nDATA\r\n")
    got = [c.reply()[0] for _ in range(5)]
    assert got == [220, 250, 250, 250, 354], f"replies: got {got}"
    c.send("Subject: refused\r\n\r\nbody\r\n.\r\n")
    code, words = c.reply()
    assert code == 554 and "5.3.0 Error: command failed" in words[0], \
        f"DATA reply: got {code} {words!r}, want 554 with the server's own words"
    c.send("QUIT\r\n")
    c.expect(221, "QUIT")
    assert c.finish() == 0, c.stderr()
    assert ob.ok("queue", "list", "--json").json() == [], "a refused message must not be queued"


def test_temporary_failure_upstream_is_queued_and_250(ob, link, smtp_sink):
    sink = smtp_sink(["-r", "RCPT"])
    configure(ob, "sink", sink.port, "none")
    c = BsClient(link, ob.env)
    c.send("EHLO c\r\nMAIL FROM:<sender@example.test>\r\nRCPT TO:<a@example.test>\r\nDATA\r\n")
    got = [c.reply()[0] for _ in range(5)]
    assert got == [220, 250, 250, 250, 354], f"replies: got {got}"
    c.send("Subject: later\r\n\r\nbody\r\n.\r\nQUIT\r\n")
    code, words = c.reply()
    assert code == 250 and "queued as" in words[0], f"DATA reply: got {code} {words!r}, want 250 queued"
    c.expect(221, "QUIT")
    assert c.finish() == 0, c.stderr()
    queued = ob.ok("queue", "list", "--json").json()
    assert [r["address"] for q in queued for r in q["recipients"]] == ["a@example.test"], \
        f"queue: got {queued}, want the message for a@example.test"


def test_input_ending_inside_a_message_sends_nothing(ob, link, upstream):
    m = marker()
    c = BsClient(link, ob.env)
    c.send(f"EHLO c\r\nMAIL FROM:<sender@example.test>\r\nRCPT TO:<a@example.test>\r\nDATA\r\n"
           f"Subject: {m}\r\n\r\nhalf a message\r\n")
    code = c.finish()
    assert code == TEMPFAIL, f"exit: got {code}, want {TEMPFAIL}\n  stderr: {c.stderr()!r}"
    assert "not sent" in c.stderr(), f"stderr: got {c.stderr()!r}, want it to say the message was not sent"
    assert not any(m.encode() in data for _, data in upstream.messages()), "half a message was sent"
    assert ob.ok("queue", "list", "--json").json() == [], "half a message was queued"


@pytest.mark.parametrize("args", [["a@example.test"], ["-t"]])
def test_bs_with_recipients_is_a_usage_error(ob, link, args):
    proc = subprocess.run([str(link), "-bs", *args], input=b"", capture_output=True, env=ob.env, timeout=30)
    assert proc.returncode == USAGE, f"exit: got {proc.returncode}, want {USAGE}: {proc.stderr!r}"
    assert b"RCPT TO" in proc.stderr, f"stderr: got {proc.stderr!r}, want it to say where recipients come from"
    assert proc.stdout == b"", f"no SMTP greeting on a usage error: got {proc.stdout!r}"


def test_bad_dsn_flag_with_bs_is_refused_before_the_greeting(ob, link):
    proc = subprocess.run([str(link), "-bs", "-N", "sometimes"], input=b"EHLO c\r\n", capture_output=True,
                          env=ob.env, timeout=30)
    # 65, as plain sendmail answers the same flag (test_sendmail_mode.py).
    assert proc.returncode == DATAERR, f"exit: got {proc.returncode}, want {DATAERR}: {proc.stderr!r}"
    assert b"-N" in proc.stderr and b"sometimes" in proc.stderr, \
        f"stderr: got {proc.stderr!r}, want the flag and the value named"
    assert proc.stdout == b"", f"no SMTP greeting for a bad flag: got {proc.stdout!r}"


SYMFONY_SCRIPT = r"""<?php
require '/usr/share/php/Symfony/Component/Mailer/autoload.php';
use Symfony\Component\Mailer\Mailer;
use Symfony\Component\Mailer\Transport;
use Symfony\Component\Mime\Email;

[$_, $dsn, $subject] = $argv;
$email = (new Email())
    ->from('Sender <sender@example.test>')
    ->to('to@example.test')
    ->cc('cc@example.test')
    ->bcc('hidden@example.test')
    ->subject($subject)
    ->text("Grüße\n.a line that starts with a dot\n")
    ->html('<p>Grüße</p>');
try {
    (new Mailer(Transport::fromDsn($dsn)))->send($email);
} catch (\Symfony\Component\Mailer\Exception\TransportExceptionInterface $e) {
    echo "failed: ", $e->getMessage(), "\n";
    exit(1);
}
echo "sent\n";
"""


def symfony_send(ob, link, tmp_path, subject):
    script = tmp_path / "send.php"
    script.write_text(SYMFONY_SCRIPT)
    dsn = "sendmail://default?command=" + f"{link} -bs".replace(" ", "%20")
    return subprocess.run(["php", str(script), dsn, subject], capture_output=True, text=True, env=ob.env,
                          timeout=60)


def test_symfony_mailer_sendmail_transport(ob, link, upstream, tmp_path):
    m = marker()
    proc = symfony_send(ob, link, tmp_path, m)
    assert proc.returncode == 0 and proc.stdout == "sent\n", \
        f"php: exit {proc.returncode}\n  stdout: {proc.stdout!r}\n  stderr: {proc.stderr!r}"
    env, data = received(upstream, m)
    assert env["mail_from"] == "sender@example.test", f"MAIL FROM upstream: got {env['mail_from']!r}"
    assert sorted(env["rcpt_tos"]) == ["cc@example.test", "hidden@example.test", "to@example.test"], \
        f"recipients upstream: got {env['rcpt_tos']}"
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert msg["Subject"] == m and msg["Bcc"] is None, f"headers: got {dict(msg.items())}"
    texts = [part.get_content() for part in msg.walk() if part.get_content_type() == "text/plain"]
    assert texts and texts[0].replace("\r\n", "\n") == "Grüße\n.a line that starts with a dot\n", \
        f"text part: got {texts!r}"


def test_symfony_mailer_learns_of_a_refusal(ob, link, smtp_sink, tmp_path):
    # What -bs is for: the program hears that the message did not go, in the server's words.
    sink = smtp_sink(["-f", "RCPT"])
    configure(ob, "sink", sink.port, "none")
    proc = symfony_send(ob, link, tmp_path, "refused")
    assert proc.returncode == 1 and "554" in proc.stdout and "Error: command failed" in proc.stdout, \
        f"php: exit {proc.returncode}, want 1 with the 554\n  stdout: {proc.stdout!r}\n  stderr: {proc.stderr!r}"


def test_local_name_goes_through_its_alias_and_one_without_gets_550(ob, link, upstream):
    # RCPT TO:<root> is the alias's addresses, as for `sendmail root`; a name no alias maps gets
    # 550 5.1.1 at RCPT (no such user here), with the command that fixes it, and the session goes on.
    ob.ok("alias", "add", "root", "admin@example.test")
    m = marker()
    c = BsClient(link, ob.env)
    c.expect(220, "greeting")
    c.send("EHLO client.example\r\nMAIL FROM:<sender@example.test>\r\n")
    c.expect(250, "EHLO")
    c.expect(250, "MAIL")
    c.send("RCPT TO:<nobody>\r\n")
    words = c.expect(550, "RCPT to a local name without an alias")
    assert words[0].startswith("5.1.1") and "outbox alias add nobody" in words[0], \
        f"RCPT reply: got {words!r}, want 5.1.1 naming 'outbox alias add nobody'"
    c.send("RCPT TO:<root>\r\n")
    c.expect(250, "RCPT to root, which has an alias")
    c.send("DATA\r\n")
    c.expect(354, "DATA")
    c.send(f"From: sender@example.test\r\nTo: root\r\nSubject: {m}\r\n\r\ncron output\r\n.\r\n")
    c.expect(250, "the end of the data")
    c.send("QUIT\r\n")
    c.expect(221, "QUIT")
    assert c.finish() == 0, c.stderr()
    env, _ = received(upstream, m)
    assert env["rcpt_tos"] == ["admin@example.test"], \
        f"RCPT TO upstream: got {env['rcpt_tos']}, want the alias's address"
