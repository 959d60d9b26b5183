# tests/e2e/test_provider_replies.py: Microsoft's and Google's tell-tale refusals of a login, as
# they send them, from the scripted server (no real server can be made to say them): `server check`
# and `send` both explain each with the same advice, naming the server and the command to run.
import pytest

from sendutil import configure
from servers.faultserver import FaultServer, Reply

TEMPFAIL, NOPERM = 75, 77
MESSAGE = "Subject: provider reply\n\nhello\n"

# (what, the reply to AUTH, exit status, advice words that must appear in both outputs)
CASES = [
    ("microsoft-basic-auth-retired",
     Reply(550, "5.7.30 Basic authentication is not supported for Client Submission."), NOPERM,
     "Microsoft 365 no longer accepts passwords for SMTP: use OAuth: outbox server edit ms "
     "--oauth microsoft --oauth-client-id ID, then outbox server login ms"),
    ("microsoft-smtp-auth-off-tenant",
     Reply(535, "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
                "Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."), NOPERM,
     "Settings > Mail flow > clear \"Turn off SMTP AUTH protocol for your organization\", then check "
     "again: outbox server check ms"),
    ("microsoft-smtp-auth-off-mailbox",
     Reply(535, "5.7.139 Authentication unsuccessful, the request did not meet the criteria to be "
                "authenticated successfully. Contact your administrator."), NOPERM,
     "\"Authenticated SMTP\" for the mailbox in the Microsoft 365 admin center (admin.microsoft.com): "
     "Users > Active users > the user > Mail > Manage email apps"),
    ("microsoft-5.7.3",
     Reply(535, "5.7.3 Authentication unsuccessful [BN6PR03CA0021.namprd03.prod.outlook.com]"), NOPERM,
     "Microsoft 365 refused the login: check the user name (the full address) and the password "
     "(outbox server edit ms --user ADDRESS --password-prompt)"),
    ("google-app-password",
     Reply(534, ["5.7.9 Application-specific password required. For more information, go to",
                 "5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor a1sm1 - gsmtp"]), NOPERM,
     "Google wants an app password, as the account has 2-Step Verification: use OAuth: outbox server "
     "edit ms --oauth google --oauth-client-id ID, then outbox server login ms"),
    ("google-web-login",
     Reply(534, ["5.7.14 <https://accounts.google.com/signin/continue?sarp=1&scc=1> Please log in via "
                 "your web browser and",
                 "5.7.14 then try again.",
                 "5.7.14  Learn more at",
                 "5.7.14  https://support.google.com/mail/answer/78754 a1sm1 - gsmtp"]), NOPERM,
     "Google wants this account signed in with a web browser first"),
    ("google-bad-credentials",
     Reply(535, ["5.7.8 Username and Password not accepted. For more information, go to",
                 "5.7.8  https://support.google.com/mail/?p=BadCredentials a1sm1 - gsmtp"]), NOPERM,
     "Google did not accept the user name and password: Google takes only an app password"),
    ("google-too-many-attempts",
     Reply(454, ["4.7.0 Too many login attempts, please try again later. For more information,",
                 "4.7.0  go to https://support.google.com/mail/answer/7126229 a1sm1 - gsmtp"]), TEMPFAIL,
     "wait before trying again"),
]


@pytest.fixture
def provider(ob, pki, password):
    """A scripted server that refuses the login as the test says, configured as server "ms"."""
    servers = []

    def start(reply):
        srv = FaultServer(cert=pki.server_cert, key=pki.server_key, tls_mode="starttls",
                          ehlo=["PIPELINING", "AUTH PLAIN LOGIN", "STARTTLS"], script={"auth": reply})
        srv.start()
        servers.append(srv)
        configure(ob, "ms", srv.port, "starttls", user="ann@contoso.example", password=password,
                  ca=pki.ca_cert)
        return srv

    yield start
    for srv in servers:
        srv.stop()


@pytest.mark.parametrize("what,reply,code,advice", CASES, ids=[c[0] for c in CASES])
def test_server_check_explains_the_providers_refusal(ob, provider, what, reply, code, advice):
    provider(reply)
    r = ob.run("server", "check", "ms", "--json")
    assert r.code == code, f"exit: got {r.code}, want {code}\n" + r.describe()
    steps = r.json()
    got = [(s["name"], s["status"]) for s in steps]
    want = [("resolve", "ok"), ("connect", "ok"), ("tls", "ok"), ("ehlo", "ok"), ("auth", "failed")]
    assert got == want, f"steps: got {got}, want {want}"
    auth = steps[4]
    assert auth["detail"].startswith(f"{reply.code} "), \
        f"detail: got {auth['detail']!r}, want the server's {reply.code} reply"
    assert advice in auth["advice"], f"advice: got {auth['advice']!r}, want it to contain {advice!r}"


@pytest.mark.parametrize("what,reply,code,advice", CASES, ids=[c[0] for c in CASES])
def test_send_names_the_fix_for_the_providers_refusal(ob, provider, password, what, reply, code, advice):
    provider(reply)
    r = ob.run("send", "--no-queue", "rcpt@example.test", input=MESSAGE)
    assert r.code == code, f"exit: got {r.code}, want {code}\n" + r.describe()
    assert advice in r.err, f"words: got {r.err!r}, want them to contain {advice!r}"
    assert "server edit NAME" not in r.err, f"words: got {r.err!r}, want the server named"
    assert password not in r.err + r.out, "the password leaked into the output"


def test_queue_run_names_the_fix_for_the_providers_refusal(ob, provider):
    # The runner judges the same refusal in the same words, and the queued message keeps them.
    what, reply, code, advice = CASES[0]
    provider(reply)
    ob.ok("send", "--queue-only", "rcpt@example.test", input=MESSAGE)
    run = ob.run("queue", "run")
    listed = ob.ok("queue", "list", "--json").json()
    assert len(listed) == 1, f"queue: got {listed}, want the one message waiting\n" + run.describe()
    reply_kept = listed[0]["last_reply"]
    assert advice in reply_kept, f"last_reply: got {reply_kept!r}, want it to contain {advice!r}"
