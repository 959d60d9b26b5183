# tests/e2e/test_clients.py: Debian's own mail programs (mutt, s-nail, bsd-mailx, PHP mail(),
# Symfony Mailer, cron's call) with outbox as their sendmail; what aiosmtpd got is what was sent.
import email
import email.policy
import secrets

import pytest

from clientrun import ACCOUNT, clients_for, expect
from sendutil import configure, marker


@pytest.fixture
def clients(ob, aiosmtpd_srv, pki, tmp_path):
    return clients_for(ob, aiosmtpd_srv, pki, tmp_path)


def attachment_bytes():
    """Binary content that no text conversion can pass unharmed: NUL, CR, LF, 8-bit bytes."""
    return bytes(range(256)) + b"\r\n.\r\n" + secrets.token_bytes(1500)


# --- mutt in batch mode -----------------------------------------------------------------------
def mutt(clients, settings, subject, body, *args):
    rc = clients.write(".muttrc", "".join(line + "\n" for line in [
        f'set sendmail="{clients.sendmail} -oem -oi"',  # mutt's own default, with our path
        f"set from={ACCOUNT}",
        "set realname='Test Sender'",
        "set use_envelope_from=yes",
        "set copy=no",
        "set charset=utf-8",
        *settings]))
    return clients.ok(["mutt", "-n", "-F", rc, "-s", subject, *args], input=body)


def test_mutt_attachment_cc_and_bcc(clients):
    m = marker()
    body = f"Hello from mutt, {m}.\nGrüße, a second line in UTF-8.\n"
    data = attachment_bytes()
    path = clients.write("report.bin", data)
    mutt(clients, [], m, body, "-c", "cc@example.test", "-b", "bcc@example.test",
         "-a", path, "--", "to@example.test")
    (got,) = clients.received(1)
    expect(got.mail_from, ACCOUNT, "envelope sender (mutt's -f)", clients)
    expect(got.rcpt_tos, ["bcc@example.test", "cc@example.test", "to@example.test"],
           "envelope recipients", clients)
    expect(got.header("To"), "to@example.test", "To", clients)
    expect(got.header("Cc"), "cc@example.test", "Cc", clients)
    expect(got.header("Bcc"), None, "Bcc header", clients)
    expect(got.header("Subject"), m, "Subject", clients)
    expect(got.header("From"), f"Test Sender <{ACCOUNT}>", "From", clients)
    expect(got.text().rstrip("\n"), body.rstrip("\n"), "the text part, decoded", clients)
    expect(got.attachments(), {"report.bin": data}, "the attachment, decoded", clients)


def test_mutt_dsn_return_and_notify(clients):
    # dsn_return=hdrs and dsn_notify make mutt pass "-N failure,delay -R hdrs". aiosmtpd offers no
    # DSN, so the mail goes without the parameters, as Postfix's sendmail would send it.
    m = marker()
    mutt(clients, ["set dsn_return=hdrs", 'set dsn_notify="failure,delay"'], m, "dsn\n",
         "--", "to@example.test")
    (got,) = clients.received(1)
    expect(got.rcpt_tos, ["to@example.test"], "envelope recipients", clients)
    expect(got.header("Subject"), m, "Subject", clients)
    expect([o for o in got.mail_options if o.upper().startswith(("RET=", "ENVID="))], [],
           "DSN parameters sent to a server without DSN", clients)


def test_mutt_dsn_success_report_with_headers_only(clients, postfix):
    # Postfix offers DSN: with NOTIFY=SUCCESS it sends the sender a delivery report, and
    # RET=HDRS makes that report return the message's headers only. Both reach Postfix only if
    # outbox passes on mutt's "-N success -R hdrs".
    configure(clients.ob, "pf", postfix.plain_port, "none", address=ACCOUNT)
    m, secret_body = marker(), marker()
    mutt(clients, ["set dsn_return=hdrs", "set dsn_notify=success"], m, f"body {secret_body}\n",
         "--", "to@example.test")
    try:
        msgs = [email.message_from_bytes(raw, policy=email.policy.default)
                for _, raw in postfix.wait_messages(2)]
    except TimeoutError as e:
        raise AssertionError(f"want the message and its delivery report: {e}\n"
                             + clients.describe()) from None
    reports = [msg for msg in msgs if msg.get_content_type() == "multipart/report"]
    expect(len(reports), 1, "delivery reports received", clients)
    report = reports[0]
    expect(str(report["To"]), ACCOUNT, "the report's recipient", clients)
    returned = [part for part in report.iter_parts()
                if part.get_content_type() in ("text/rfc822-headers", "message/rfc822")]
    expect([part.get_content_type() for part in returned], ["text/rfc822-headers"],
           "what the report returns (RET=HDRS: headers only)", clients)
    content = returned[0].get_payload(decode=True).decode(errors="replace")
    expect((m in content, secret_body in content), (True, False),
           f"(Subject returned, body returned) in the report's returned part {content!r}", clients)


# --- s-nail and bsd-mailx ---------------------------------------------------------------------
def test_snail_attachment_cc_and_bcc(clients):
    m = marker()
    body = f"s-nail says hello, {m}.\n"
    data = attachment_bytes()
    path = clients.write("data.bin", data)
    # sendwait: s-nail waits for sendmail and reports its exit status.
    clients.ok(["s-nail", "-n", "-#", "-S", f"mta={clients.sendmail}", "-S", "sendwait",
                "-S", f"from=Test Sender <{ACCOUNT}>", "-s", m, "-c", "cc@example.test",
                "-b", "bcc@example.test", "-a", path, "to@example.test"],
               input=body, extra_env={"MAILRC": "/dev/null"})
    (got,) = clients.received(1)
    expect(got.mail_from, ACCOUNT, "envelope sender (from the From: header)", clients)
    expect(got.rcpt_tos, ["bcc@example.test", "cc@example.test", "to@example.test"],
           "envelope recipients", clients)
    expect(got.header("Bcc"), None, "Bcc header", clients)
    expect(got.header("Cc"), "cc@example.test", "Cc", clients)
    expect(got.header("Subject"), m, "Subject", clients)
    expect(got.text().rstrip("\n"), body.rstrip("\n"), "the text part, decoded", clients)
    expect(got.attachments(), {"data.bin": data}, "the attachment, decoded", clients)


def test_bsd_mailx_cc_and_bcc(clients):
    m = marker()
    body = f"bsd-mailx says hello, {m}.\n"
    clients.write(".mailrc", f"set sendmail={clients.sendmail}\n")
    # bsd-mailx runs "sendmail -i -t" with the Bcc header in the message.
    clients.ok(["bsd-mailx", "-s", m, "-c", "cc@example.test", "-b", "bcc@example.test",
                "to@example.test"], input=body)
    (got,) = clients.received(1)
    expect(got.mail_from, ACCOUNT, "envelope sender (the default account)", clients)
    expect(got.rcpt_tos, ["bcc@example.test", "cc@example.test", "to@example.test"],
           "envelope recipients", clients)
    expect(got.header("Bcc"), None, "Bcc header", clients)
    expect(got.header("To"), "to@example.test", "To", clients)
    expect(got.header("Subject"), m, "Subject", clients)
    expect(got.text(), body, "the body", clients)


# --- PHP ------------------------------------------------------------------------------------
PHP_MAIL = """
$ok = mail($argv[1], $argv[2], $argv[3], $argv[4], $argv[5]);
echo $ok ? "sent\\n" : "mail() returned false\\n";
exit($ok ? 0 : 1);
"""


def php_mail(clients, to, subject, body, headers, *params):
    return clients.ok(["php", "-d", f"sendmail_path={clients.sendmail} -t -i", "-r", PHP_MAIL,
                       "--", to, subject, body, headers, " ".join(params)])


@pytest.mark.parametrize("bounces", [ACCOUNT, "bounces@example.test"])
def test_php_mail_with_f(clients, bounces):
    # PHP's mail() runs sendmail_path ("sendmail -t -i" by default) with its fifth argument
    # appended; web applications pass -f to set the envelope sender for bounces, the account's
    # own address or another one of its domain.
    m = marker()
    body = f"Order {m} confirmed.\n.\nA line with only a dot stays, as -i asks."
    headers = f"From: Web Shop <{ACCOUNT}>\r\nCc: cc@example.test\r\nReply-To: help@example.test"
    php_mail(clients, "to@example.test", m, body, headers, f"-f{bounces}")
    (got,) = clients.received(1)
    expect(got.mail_from, bounces, "envelope sender (-f)", clients)
    expect(got.rcpt_tos, ["cc@example.test", "to@example.test"], "envelope recipients", clients)
    expect(got.header("From"), f"Web Shop <{ACCOUNT}>", "From", clients)
    expect(got.header("Reply-To"), "help@example.test", "Reply-To", clients)
    expect(got.header("Subject"), m, "Subject", clients)
    # mail() ends the message with a line break of its own.
    expect(got.text(), body + "\n", "the body", clients)


def test_php_mail_to_names_and_a_list(clients):
    # mail()'s first argument is the To: header as the application wrote it: names, lists.
    m = marker()
    php_mail(clients, "Customer <to@example.test>, other@example.test", m, "two of them",
             f"From: {ACCOUNT}", f"-f{ACCOUNT}")
    (got,) = clients.received(1)
    expect(got.rcpt_tos, ["other@example.test", "to@example.test"], "envelope recipients", clients)
    expect(got.header("To"), "Customer <to@example.test>, other@example.test", "To", clients)


def html_page(marker_text):
    """An HTML mail body as web applications write it: one line of 3,000 octets and more."""
    cells = "".join(f"<td class=\"c{i}\">{i} Grüße</td>" for i in range(120))
    return f"<html><body><p>{marker_text}</p><table><tr>{cells}</tr></table></body></html>"


@pytest.mark.parametrize("kind,no_8bitmime", [("html", False), ("plain", True), ("html", True)],
                         ids=["long-line", "8bit-no-8bitmime", "long-line-no-8bitmime"])
def test_php_mail_content_a_strict_server_needs_converted(ob, aiosmtpd_factory, pki, tmp_path,
                                                          kind, no_8bitmime):
    # A line over SMTP's 998 octets, or 8-bit text for a server without 8BITMIME: to be sent the
    # part is re-encoded, and what the reader decodes is what the application wrote.
    clients = clients_for(ob, aiosmtpd_factory(no_8bitmime=no_8bitmime), pki, tmp_path)
    m = marker()
    body = html_page(m) if kind == "html" else f"Grüße from {m}.\nZweite Zeile: ÄÖÜ ß €."
    php_mail(clients, "to@example.test", m, body,
             f"From: {ACCOUNT}\r\nMIME-Version: 1.0\r\nContent-Type: text/{kind}; charset=UTF-8",
             f"-f{ACCOUNT}")
    (got,) = clients.received(1)
    part = got.msg.get_body(preferencelist=(kind,))
    # mail() ends the message with a line break of its own.
    expect(part.get_content().replace("\r\n", "\n") if part else None, body + "\n",
           f"the text/{kind} body, decoded", clients)
    longest = max(len(line) for line in got.raw.split(b"\r\n"))
    expect(longest <= 998, True, f"every line within 998 octets (longest {longest})", clients)
    if no_8bitmime:
        expect(max(got.raw) < 0x80, True, "only 7-bit bytes to a server without 8BITMIME", clients)


SYMFONY = """
require '/usr/share/php/Symfony/Component/Mailer/autoload.php';
require '/usr/share/php/Symfony/Component/Mime/autoload.php';
[, $command, $from, $subject, $text, $attachment] = $argv;
$email = (new Symfony\\Component\\Mime\\Email())
    ->from($from)->to('to@example.test')->cc('cc@example.test')->bcc('bcc@example.test')
    ->subject($subject)->text($text)->attachFromPath($attachment, 'invoice.pdf', 'application/pdf');
$transport = new Symfony\\Component\\Mailer\\Transport\\SendmailTransport($command);
(new Symfony\\Component\\Mailer\\Mailer($transport))->send($email);
echo "sent\\n";
"""


@pytest.mark.parametrize("mode", ["-bs", "-t -i"])
def test_symfony_mailer(clients, mode):
    # Symfony Mailer's default transport runs "sendmail -bs" and speaks SMTP over its pipes; in
    # its "-t" mode it drops -t, strips Bcc itself and names every recipient after "--".
    m = marker()
    text = f"Symfony with {mode}, {m}.\n"
    data = attachment_bytes()
    path = clients.write("invoice.pdf", data)
    clients.ok(["php", "-r", SYMFONY, "--", f"{clients.sendmail} {mode}", ACCOUNT, m, text, path])
    (got,) = clients.received(1)
    expect(got.mail_from, ACCOUNT, "envelope sender", clients)
    expect(got.rcpt_tos, ["bcc@example.test", "cc@example.test", "to@example.test"],
           "envelope recipients", clients)
    expect(got.header("Bcc"), None, "Bcc header", clients)
    expect(got.header("Subject"), m, "Subject", clients)
    expect(got.text(), text, "the text part, decoded", clients)
    expect(got.attachments(), {"invoice.pdf": data}, "the attachment, decoded", clients)


# --- cron -----------------------------------------------------------------------------------
CRONIE_ARGS = ["-FCronDaemon", "-i", "-odi", "-oem", "-oi", "-t", "-f", "root"]


def cron_message(to, subject, output, sender='"(Cron Daemon)" <root>'):
    """A job's output as cron writes it to sendmail (cronie's From: by default)."""
    return (f"From: {sender}\nTo: {to}\nSubject: {subject}\n"
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n"
            "Auto-Submitted: auto-generated\nPrecedence: bulk\n"
            "X-Cron-Env: <SHELL=/bin/sh>\nX-Cron-Env: <HOME=/root>\nX-Cron-Env: <LOGNAME=root>\n"
            f"\n{output}")


def test_cronie_mails_root_with_f_root(clients):
    # cronie (Fedora, RHEL, Arch): "-f root" is completed with the sending account's domain,
    # as Postfix completes a bare name; MAILTO names a full address here.
    m = marker()
    output = f"backup finished, {m}\n"
    clients.ok([clients.sendmail, *CRONIE_ARGS],
               input=cron_message("admin@example.test", f"Cron <root@host> /usr/local/bin/backup {m}",
                                  output))
    (got,) = clients.received(1)
    expect(got.mail_from, "root@example.test", "envelope sender for -f root", clients)
    expect(got.rcpt_tos, ["admin@example.test"], "envelope recipients", clients)
    expect(got.header("Subject"), f"Cron <root@host> /usr/local/bin/backup {m}", "Subject", clients)
    expect(got.text(), output, "the job's output", clients)


def test_cronie_mails_local_root_through_an_alias(clients):
    # With no MAILTO cron mails the job's owner, "root": an alias names where that goes.
    clients.ob.ok("alias", "add", "root", "admin@example.test")
    m = marker()
    output = f"disk 91% full, {m}\n"
    clients.ok([clients.sendmail, *CRONIE_ARGS],
               input=cron_message("root", f"Cron <root@host> df {m}", output))
    (got,) = clients.received(1)
    expect(got.mail_from, "root@example.test", "envelope sender for -f root", clients)
    expect(got.rcpt_tos, ["admin@example.test"], "envelope recipients (root's alias)", clients)
    expect(got.text(), output, "the job's output", clients)


def test_debian_cron_call(clients):
    # Debian's cron names the recipient and passes -B8BITMIME, without -f or -t; its From: is
    # "root (Cron Daemon)". Which envelope sender that gives is outbox's choice (the account's).
    m = marker()
    output = f"rotated the logs, {m}\n"
    clients.ok([clients.sendmail, "-FCronDaemon", "-i", "-B8BITMIME", "-oem", "admin@example.test"],
               input=cron_message("admin@example.test", f"Cron <root@host> logrotate {m}", output,
                                  sender="root (Cron Daemon)"))
    (got,) = clients.received(1)
    expect(got.rcpt_tos, ["admin@example.test"], "envelope recipients", clients)
    expect(got.header("Subject"), f"Cron <root@host> logrotate {m}", "Subject", clients)
    expect(got.text(), output, "the job's output", clients)
