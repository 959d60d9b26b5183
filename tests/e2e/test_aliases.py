# tests/e2e/test_aliases.py: local names as recipients (`outbox alias`), as cron and mdadm send
# them: mail to "root" reaches the alias's addresses at a real server (aiosmtpd), the history and
# the outbox show those addresses, and a local name without an alias is refused before anything.
import json

from conftest import expect
from sendutil import configure, marker


def setup_server(ob, srv, pki):
    configure(ob, "aio", srv.port, "starttls", user=srv.user, password=srv.password, ca=pki.ca_cert)


def rcpts_of(srv, m):
    name, _ = srv.wait_message(m)
    return srv.envelope(name)["rcpt_tos"]


def test_mail_to_root_reaches_the_alias_addresses(ob, aiosmtpd_srv, pki):
    srv = aiosmtpd_srv
    setup_server(ob, srv, pki)
    ob.ok("alias", "add", "root", "Admin <admin@example.test>, ops@example.test")
    m = marker()
    # cron's call: a bare local name as the recipient.
    r = ob.run("send", "-i", "root", input=f"Subject: {m}\n\ncron output\n")
    expect(r.code, 0, "exit status of a send to root", r)
    expect(rcpts_of(srv, m), ["admin@example.test", "ops@example.test"], "envelope recipients", r)
    log = ob.ok("log", "--json").json()
    expect(log[0]["recipients"], ["admin@example.test", "ops@example.test"], "recipients in the log", r)


def test_default_alias_catches_names_without_their_own(ob, aiosmtpd_srv, pki):
    srv = aiosmtpd_srv
    setup_server(ob, srv, pki)
    ob.ok("alias", "add", "default", "catch@example.test")
    ob.ok("alias", "add", "Root", "admin@example.test")
    m = marker()
    # "ROOT" finds "Root" (names compare without case); "mdadm" has none, so "default" takes it.
    r = ob.run("send", "-i", "ROOT", "mdadm", "direct@example.test", input=f"Subject: {m}\n\nx\n")
    expect(r.code, 0, "exit status", r)
    expect(rcpts_of(srv, m), ["admin@example.test", "catch@example.test", "direct@example.test"],
           "envelope recipients", r)


def test_header_recipients_are_expanded_too(ob, aiosmtpd_srv, pki):
    srv = aiosmtpd_srv
    setup_server(ob, srv, pki)
    ob.ok("alias", "add", "root", "admin@example.test")
    m = marker()
    r = ob.run("send", "-t", "-i", input=f"To: root\nCc: other@example.test\nSubject: {m}\n\nx\n")
    expect(r.code, 0, "exit status of -t with To: root", r)
    expect(rcpts_of(srv, m), ["admin@example.test", "other@example.test"], "envelope recipients", r)


def test_unknown_local_name_is_refused_naming_the_command(ob, aiosmtpd_srv, pki):
    srv = aiosmtpd_srv
    setup_server(ob, srv, pki)
    before = ob.fingerprint()
    r = ob.run("send", "-i", "root", input="Subject: x\n\nx\n")
    expect(r.code, 67, "exit status (EX_NOUSER) for a local name without an alias", r)
    lines = r.err.strip().splitlines()
    expect(len(lines), 1, "lines of error", r)
    assert "\"root\"" in lines[0] and "outbox alias add root ADDRESS" in lines[0], \
        "want the name and the command that adds an alias, got:\n" + r.describe()
    expect(srv.messages(), [], "messages at the server", r)
    expect(ob.ok("queue", "list", "--json").json(), [], "the outbox", r)
    expect(ob.fingerprint(), before, "the store after the refusal", r)


def test_queued_message_holds_the_expanded_addresses(ob, aiosmtpd_srv, pki):
    setup_server(ob, aiosmtpd_srv, pki)
    ob.ok("alias", "add", "postmaster", "pm1@example.test", "pm2@example.test")
    r = ob.run("send", "--queue-only", "-i", "postmaster", input="Subject: q\n\nx\n")
    expect(r.code, 0, "exit status of --queue-only", r)
    q = ob.ok("queue", "list", "--json").json()
    expect(len(q), 1, "messages queued", r)
    got = [x["address"] for x in q[0]["recipients"]]
    expect(got, ["pm1@example.test", "pm2@example.test"], "queued recipients", r)


def test_alias_add_list_remove(ob):
    r = ob.ok("alias", "list")
    assert "No aliases yet" in r.out, r.describe()
    ob.ok("alias", "add", "root", "a@example.test,Bob <b@example.test>", "a@example.test")
    got = ob.ok("alias", "list", "--json").json()
    expect(got, [{"name": "root", "addresses": "a@example.test, b@example.test"}],
           "aliases after add (normalized, each address once)", r)
    r = ob.ok("alias", "add", "root", "c@example.test")
    assert "now goes to c@example.test" in r.out and "a@example.test, b@example.test" in r.out, \
        "want the new and the old addresses, got:\n" + r.describe()
    text = ob.ok("alias", "list").out
    assert "root" in text and "c@example.test" in text, text
    r = ob.ok("alias", "remove", "root")
    assert "outbox alias add 'root' 'c@example.test'" in r.out, \
        "want the command that brings it back, got:\n" + r.describe()
    expect(ob.ok("alias", "list", "--json").json(), [], "aliases after remove", r)


def test_alias_errors_name_the_field_and_change_nothing(ob):
    ob.ok("alias", "add", "root", "a@example.test")
    before = ob.fingerprint()
    cases = [
        (("alias", "add", "root", "admin"), 65, "address: \"admin\" has no domain"),
        (("alias", "add", "root", "a@example.test, b@"), 65, "address:"),
        (("alias", "add", "bob smith", "a@example.test"), 65, "name: \"bob smith\" is not a local name"),
        (("alias", "add", "me@example.test", "a@example.test"), 65, "has an \"@\""),
        (("alias", "add", "root", ""), 65, "address: is required"),
        (("alias", "remove", "nobody"), 65, "no alias named \"nobody\""),
        (("alias", "add", "root"), 64, "NAME and ADDRESS are needed"),
        (("alias", "list", "extra"), 64, "unexpected argument"),
    ]
    for args, code, words in cases:
        r = ob.fails(code, *args)
        assert words in r.err, f"want {words!r} in the error, got:\n" + r.describe()
        expect(len(r.err.strip().splitlines()), 1 if code != 64 else 2, "lines of error", r)
    expect(ob.fingerprint(), before, "the store after refused changes", r)
    expect(json.loads(ob.ok("alias", "list", "--json").out),
           [{"name": "root", "addresses": "a@example.test"}], "aliases", r)
