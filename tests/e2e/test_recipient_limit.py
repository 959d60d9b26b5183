# tests/e2e/test_recipient_limit.py: a message goes to at most 1000 different addresses, what a
# default Postfix takes in one transaction; more is refused whole before anything is sent or queued.
import os
import resource
import subprocess

from conftest import OUTBOX, Result
from sendutil import configure, marker

LIMIT = 1000


def addresses(n, domain="example.test"):
    return [f"r{i}@{domain}" for i in range(n)]


def nothing_queued(ob):
    r = ob.ok("queue", "list", "--json")
    assert r.json() == [], "want an empty outbox, got:\n" + r.describe()
    spool = os.path.join(ob.home, "spool")
    left = os.listdir(spool) if os.path.isdir(spool) else []
    assert left == [], f"want no spool files, got {left}"


def shortened(args):
    """The command line as a report shows it: a thousand addresses are not read."""
    return list(args[:5]) + ([f"... ({len(args) - 5} more)"] if len(args) > 5 else [])


def send(ob, *args, input):
    r = ob.run("send", *args, input=input)
    r.args = shortened(r.args)
    return r


def run_with_long_argv(ob, args, input):
    """Run outbox with an argument list longer than the default 2 MiB exec limit allows."""
    def bigger_stack():
        resource.setrlimit(resource.RLIMIT_STACK, (64 << 20, resource.RLIM_INFINITY))
    try:
        proc = subprocess.run([OUTBOX, *args], input=input, capture_output=True, text=True,
                              env=ob.env, timeout=120, preexec_fn=bigger_stack)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"outbox {' '.join(shortened(args))}: still running after 120 s") from None
    return Result(shortened(args), proc)


def test_at_the_limit_one_transaction_to_aiosmtpd(ob, aiosmtpd_srv, pki):
    srv = aiosmtpd_srv
    configure(ob, "aio", srv.port, "starttls", user=srv.user, password=srv.password, ca=pki.ca_cert)
    rcpts = addresses(LIMIT)
    # The same addresses again, in other case, on the command line and in the header (-t).
    again = [a.upper() for a in rcpts[:300]]
    m = marker()
    r = send(ob, "-t", *rcpts, *again,
             input=f"To: {', '.join(a.title() for a in rcpts[300:310])}\nSubject: {m}\n\nhello\n")
    assert r.code == 0, r.describe()
    assert f"to {LIMIT} recipients" in r.out, "want every address once, got:\n" + r.describe()
    name, _ = srv.wait_message(m)
    got = srv.envelope(name)["rcpt_tos"]
    assert got == rcpts, (f"envelope: got {len(got)} recipients (first {got[:3]}), "
                          f"want the {LIMIT} addresses once each, in order of first mention")
    assert len(srv.messages()) == 1, f"want one transaction, got {len(srv.messages())} messages"


def test_at_the_limit_postfix_takes_all_in_one_go(ob, postfix):
    assert postfix.postconf("-h", "smtpd_recipient_limit").strip() == str(LIMIT), \
        "the limit is chosen to match Postfix's default smtpd_recipient_limit"
    configure(ob, "pf", postfix.plain_port, "none")
    m = marker()
    r = send(ob, *addresses(LIMIT), input=f"Subject: {m}\n\nhello\n")
    assert r.code == 0 and f"to {LIMIT} recipients" in r.out, \
        "want every recipient accepted at once (no 452 too many recipients), got:\n" + r.describe()
    nothing_queued(ob)
    postfix.wait_messages(LIMIT, timeout=120)  # let it finish before the next test clears it


def test_one_over_the_limit_is_refused_whole(ob, aiosmtpd_srv, pki):
    srv = aiosmtpd_srv
    configure(ob, "aio", srv.port, "starttls", user=srv.user, password=srv.password, ca=pki.ca_cert)
    for mode in ([], ["--queue-only"]):
        r = send(ob, *mode, *addresses(LIMIT + 1), input="Subject: too many\n\nhello\n")
        assert r.code == 65, f"want 65 (data error) with {mode}, got:\n" + r.describe()
        want = f"outbox: recipients: {LIMIT + 1} different addresses, more than the {LIMIT} one message can go to"
        assert r.err.startswith(want) and r.err.count("\n") == 1, \
            f"want one line naming the count and the limit, {want!r}..., got:\n" + r.describe()
        nothing_queued(ob)
    assert srv.messages() == [], "nothing may reach the server"


def test_hundred_thousand_recipients_refused_at_once(ob):
    ob.ok("server", "add", "s", "--host", "127.0.0.1", "--port", "9", "--security", "none")
    ob.ok("account", "add", "me@example.test", "--server", "s")
    r = run_with_long_argv(ob, ["send", "--queue-only", *addresses(100000)], "Subject: many\n\nhello\n")
    assert r.code == 65, "want 65, not a message queued that can never go; got:\n" + r.describe()
    assert r.err.startswith("outbox: recipients: 100000 different addresses") and r.err.count("\n") == 1, \
        "want one line naming the count, got:\n" + r.describe()
    nothing_queued(ob)
