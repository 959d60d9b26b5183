# tests/e2e/test_sendmail_mode.py: outbox invoked as sendmail: the options mutt, git send-email,
# cron and PHP pass are accepted, as Postfix reads them (DSN flags, a bare -f name, address lists,
# the mbox line, Bcc, ignored flags); -X, -C and unsafe envelope values are refused before connecting.
import os

import pytest

from conftest import OUTBOX
from sendutil import configure, headers_of, marker
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


# ---- against aiosmtpd (a real server) offering DSN and SMTPUTF8 -----------------------------

DATAERR = 65


@pytest.fixture
def aio(ob, tmp_path, aiosmtpd_factory, pki):
    """sendmail (a link to outbox) sending as sender@example.test through an aiosmtpd that offers
    DSN and SMTPUTF8; run(*args, input=...) returns the Result, run.srv the server."""
    srv = aiosmtpd_factory(dsn=True, smtputf8=True)
    configure(ob, "aio", srv.port, "starttls", user=srv.user, password=srv.password, ca=pki.ca_cert)
    link = tmp_path / "bin" / "sendmail"
    link.parent.mkdir()
    os.symlink(os.path.abspath(OUTBOX), link)

    def run(*args, input=None):
        import subprocess
        from conftest import Result
        proc = subprocess.run([str(link), *args], input=input, capture_output=True, text=True,
                              env=ob.env, timeout=60)
        return Result(["sendmail", *args], proc)
    run.srv = srv
    return run


def received(srv):
    """[(envelope, raw message)] the server stored, oldest first."""
    return [(srv.envelope(name), raw) for name, raw in srv.messages()]


def only_message(run, r):
    got = received(run.srv)
    assert len(got) == 1, f"want one message on the server, got {len(got)}\n" + r.describe()
    return got[0]


def test_dsn_flags_reach_the_server(aio):
    m = marker()
    r = aio("-N", "success,failure", "-R", "full", "-V", "env-" + m, "-t",
            input=f"To: a@example.test\nCc: b@example.test\nSubject: {m}\n\nx\n")
    assert r.code == 0, r.describe()
    env, _ = only_message(aio, r)
    assert " RET=FULL ENVID=env-" + m in env["mail_arg"], env["mail_arg"]
    assert env["rcpt_args"] == ["TO:<a@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@example.test",
                                "TO:<b@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@example.test"], \
        env["rcpt_args"]


def test_dsn_defaults_without_flags(aio):
    r = aio("a@example.test", input="Message-ID: <id-1@example.test>\nSubject: d\n\nx\n")
    assert r.code == 0, r.describe()
    env, _ = only_message(aio, r)
    assert " RET=HDRS ENVID=id-1@example.test" in env["mail_arg"], env["mail_arg"]
    assert env["rcpt_args"] == ["TO:<a@example.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;a@example.test"], \
        env["rcpt_args"]


def test_dsn_kept_when_queued_then_run(aio, ob):
    r = aio("-odq", "-N", "never", "-R", "full", "-V", "queued-1", "a@example.test", input="Subject: q\n\nx\n")
    assert r.code == 0, r.describe()
    assert aio.srv.messages() == [], "-odq sends nothing now"
    run = ob.run("queue", "run", "--all")
    assert run.code == 0, run.describe()
    env, _ = only_message(aio, run)
    assert " RET=FULL ENVID=queued-1" in env["mail_arg"], env["mail_arg"]
    assert env["rcpt_args"] == ["TO:<a@example.test> NOTIFY=NEVER ORCPT=rfc822;a@example.test"], env["rcpt_args"]


@pytest.mark.parametrize("args,field", [
    (["-N", "sometimes"], "-N"),
    (["-N", "never,success"], "-N"),
    (["-R", "headers"], "-R"),
    (["-V", "has space\u00e9"], "-V"),
])
def test_bad_dsn_value_refused_before_anything(aio, ob, args, field):
    r = aio(*args, "a@example.test", input="Subject: b\n\nx\n")
    assert r.code == DATAERR, r.describe()
    assert f"outbox: {field}: " in r.err, r.describe()
    assert len(r.err.strip().splitlines()) == 1, "one line: " + r.describe()
    assert aio.srv.messages() == [], "nothing sent"
    q = ob.run("queue", "list", "--json")
    assert q.code == 0 and q.json() == [], "nothing queued: " + q.describe()


def test_utf8_recipient_orcpt_is_utf8_type(aio):
    r = aio("zo\u00eb@example.test", "plain+tag@example.test", input="Subject: u\n\nx\n")
    assert r.code == 0, r.describe()
    env, _ = only_message(aio, r)
    assert " SMTPUTF8" in env["mail_arg"], env["mail_arg"]
    assert env["rcpt_args"] == [
        "TO:<zo\u00eb@example.test> NOTIFY=FAILURE,DELAY ORCPT=utf-8;zo\\x{EB}@example.test",
        "TO:<plain+tag@example.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;plain+2Btag@example.test"], \
        env["rcpt_args"]


def test_cron_call_with_bare_sender(aio):
    # cronie: sendmail -FCronDaemon -i -odi -oem -oi -t -f root
    r = aio("-FCronDaemon", "-i", "-odi", "-oem", "-oi", "-t", "-f", "root",
            input="To: admin@example.test\nSubject: Cron <root@host> job\n\noutput\n")
    assert r.code == 0, r.describe()
    env, raw = only_message(aio, r)
    assert env["mail_from"] == "root@example.test", "the account's domain completes -f root"
    assert env["rcpt_tos"] == ["admin@example.test"]
    assert headers_of(raw)["Subject"] == "Cron <root@host> job"


@pytest.mark.parametrize("sender", ["<>", ""])
def test_null_sender(aio, sender):
    r = aio("-f", sender, "a@example.test", input="Subject: n\n\nx\n")
    assert r.code == 0, r.describe()
    env, _ = only_message(aio, r)
    assert env["mail_arg"].startswith("FROM:<> "), env["mail_arg"]


@pytest.mark.parametrize("args", [["-t"], ["-i", "to@example.test"]])
def test_mbox_from_line_dropped(aio, args):
    # What git format-patch writes: an mbox separator, then the headers.
    patch = ("From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\n"
             "From: Sender <sender@example.test>\nTo: to@example.test\nSubject: [PATCH 1/3] fix\n"
             "\nbody of the patch\n")
    r = aio(*args, input=patch)
    assert r.code == 0, r.describe()
    env, raw = only_message(aio, r)
    assert env["rcpt_tos"] == ["to@example.test"]
    assert b"0123456789abcdef" not in raw, raw
    h = headers_of(raw)
    assert h["Subject"] == "[PATCH 1/3] fix" and h["From"] == "Sender <sender@example.test>", raw


def test_bcc_removed_without_t(aio):
    r = aio("to@example.test", input="To: to@example.test\nBcc: hidden@example.test\nSubject: b\n\nx\n")
    assert r.code == 0, r.describe()
    env, raw = only_message(aio, r)
    assert env["rcpt_tos"] == ["to@example.test"], "without -t Bcc names no recipient"
    assert headers_of(raw)["Bcc"] is None and b"hidden@" not in raw, raw


def test_recipients_as_address_lists(aio):
    r = aio("Bob <bob@example.test>", "<carol@example.test>", "a@example.test,b@example.test",
            "\"Smith, Dan\" <dan@example.test>", input="Subject: l\n\nx\n")
    assert r.code == 0, r.describe()
    env, _ = only_message(aio, r)
    assert env["rcpt_tos"] == ["bob@example.test", "carol@example.test", "a@example.test", "b@example.test",
                               "dan@example.test"], env["rcpt_tos"]


def test_o_i_as_two_words(aio):
    r = aio("-o", "i", "x@example.test", input="Subject: o\n\nfirst\n.\nafter the dot\n")
    assert r.code == 0, r.describe()
    env, raw = only_message(aio, r)
    assert env["rcpt_tos"] == ["x@example.test"], "\"i\" is the option's value, not a recipient"
    assert b"after the dot" in raw, "-o i: a lone dot does not end the message"


def test_postfix_ignored_flags_accepted(aio):
    r = aio("-U", "-G", "-h", "5", "-L", "tag", "-A", "c", "-m", "-c", "-x", "-n", "-O", "DeliveryMode=b",
            "-e", "m", "-Bbinarymime", "a@example.test", input="Subject: i\n\nx\n")
    assert r.code == 0, r.describe()
    env, _ = only_message(aio, r)
    assert env["rcpt_tos"] == ["a@example.test"], "no flag value was taken for a recipient"


def test_unknown_flag_still_refused(aio):
    r = aio("-K", "a@example.test", input="Subject: k\n\nx\n")
    assert r.code == USAGE, r.describe()
    assert "unknown option -K" in r.err, r.describe()
    assert aio.srv.messages() == []


def test_mailq_v(ob, tmp_path):
    link = tmp_path / "mailq"
    os.symlink(os.path.abspath(OUTBOX), link)
    import subprocess
    p = subprocess.run([str(link), "-v"], capture_output=True, text=True, env=ob.env, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "Mail queue is empty\n", p.stdout


@pytest.mark.parametrize("args", [
    ["-ti", "-f", "bounce@example.test"],
    ["-it", "-fbounce@example.test"],
    ["-tif", "bounce@example.test"],
    ["-itfbounce@example.test"],
    ["-Uti", "-f", "bounce@example.test"],
], ids=["ti", "it-fX", "tif-X", "itfX", "Uti"])
def test_options_clustered_as_getopt_reads_them(aio, args):
    # Postfix's sendmail reads options with getopt: "-ti" is -t -i, and a letter that takes a
    # value may end the cluster ("-tif X", "-itfX").
    r = aio(*args, input="To: to@example.test\nSubject: c\n\nfirst\n.\nafter the dot\n")
    assert r.code == 0, r.describe()
    env, raw = only_message(aio, r)
    assert env["mail_from"] == "bounce@example.test", f"-f in the cluster: got {env['mail_from']!r}"
    assert env["rcpt_tos"] == ["to@example.test"], f"-t in the cluster: got {env['rcpt_tos']}"
    assert b"after the dot" in raw, "-i in the cluster: a line of one dot must not end the message"


def test_value_after_a_value_option_is_not_spread(aio):
    # "-F -ti" would be a name starting with "-"; the word after -F is its value, never options.
    r = aio("-t", "-F", "-tix", input="To: to@example.test\nSubject: v\n\nbody\n")
    assert r.code == 0, r.describe()
    env, raw = only_message(aio, r)
    got = headers_of(raw)["From"]
    assert "-tix" in got and "sender@example.test" in got, f"From: got {got!r}, want the -F name -tix"
