# tests/e2e/test_refusals.py: every refused command gets a one-line error that names the field, a
# sysexits code, and leaves the database byte-for-byte as it was.
import pytest

USAGE, DATAERR = 64, 65


@pytest.fixture
def populated(ob, tmp_path):
    ob.ok("server", "add", "work", "--host", "smtp.work.example", "--user", "ann")
    ob.ok("server", "add", "home", "--host", "mail.home.example", "--security", "tls")
    ob.ok("account", "add", "ann@work.example", "--server", "work", "--fallback", "home")
    return ob


# (arguments, exit code, text the one-line message must contain)
REFUSALS = [
    # usage: caught before the store is touched
    (["server", "add", "x"], USAGE, "--host is required"),
    (["server", "add", "--host", "h.example"], USAGE, "NAME"),
    (["server", "add", "x", "--host", "h.example", "--bogus"], USAGE, "unknown option --bogus"),
    (["server", "add", "x", "--host"], USAGE, "needs a value"),
    (["server", "add", "x", "--host", "h.example", "--password-stdin", "--password-command", "c"],
     USAGE, "choose one"),
    (["server", "add", "x", "--host", "h.example", "--password", "hunter2"], USAGE, "unknown option"),
    (["server", "frobnicate"], USAGE, "unknown command"),
    (["server", "list", "extra"], USAGE, "unexpected argument"),
    (["server", "show", "work", "--port", "1"], USAGE, "does not take"),
    (["account", "set-server", "ann@work.example"], USAGE, "ADDRESS"),
    (["undo", "now"], USAGE, "no arguments"),
    (["nonsense"], USAGE, "unknown command"),
    # data: each names its field
    (["server", "add", "x", "--host", "h.example", "--port", "0"], DATAERR, "port: "),
    (["server", "add", "x", "--host", "h.example", "--port", "65536"], DATAERR, "port: "),
    (["server", "add", "x", "--host", "h.example", "--port", "twenty"], DATAERR, "port: "),
    (["server", "add", "x", "--host", "h.example", "--security", "ssl"], DATAERR, "security: "),
    (["server", "add", "x", "--host", "h.example", "--auth", "ntlm"], DATAERR, "auth: "),
    (["server", "add", "x", "--host", "bad host"], DATAERR, "host: "),
    (["server", "add", "x", "--host", "h.example:25"], DATAERR, "host: "),
    (["server", "add", "x", "--host", "-h.example"], DATAERR, "host: "),
    (["server", "add", "x", "--host", "exa_mple.com"], DATAERR, "host: "),
    (["server", "add", "x y", "--host", "h.example"], DATAERR, "name: "),
    (["server", "add", "x", "--host", "h.example", "--description", "a\nb"], DATAERR, "description: "),
    (["server", "add", "x", "--host", "h.example", "--user", "a\rb"], DATAERR, "user: "),
    (["server", "add", "x", "--host", "h.example", "--tls-pin", "1234"], DATAERR, "tls-pin: "),
    (["server", "add", "x", "--host", "h.example", "--tls-ca", "/no/such/ca.pem"], DATAERR, "tls-ca: "),
    (["server", "add", "x", "--host", "h.example", "--timeout", "0"], DATAERR, "timeout: "),
    (["server", "add", "x", "--host", "h.example", "--tls-verify=maybe"], DATAERR, "tls-verify: "),
    (["server", "add", "x", "--host", "h.example", "--security", "none", "--auth", "plain",
      "--user", "u"], DATAERR, "auth: "),
    (["server", "add", "x", "--host", "h.example", "--auth", "login"], DATAERR, "user: "),
    (["server", "add", "x", "--host", "h.example", "--auth", "external"], DATAERR, "auth: "),
    (["server", "add", "work", "--host", "other.example"], DATAERR, "name: "),
    (["server", "add", "again", "--host", "SMTP.work.example", "--user", "ann"], DATAERR, '"work"'),
    (["server", "edit", "nope", "--port", "25"], DATAERR, "server: "),
    (["server", "edit", "work", "--rename", "home"], DATAERR, "name: "),
    (["server", "remove", "nope"], DATAERR, "server: "),
    (["server", "remove", "work"], DATAERR, "ann@work.example"),
    (["server", "remove", "work", "--reassign", "nope"], DATAERR, "reassign: "),
    (["server", "remove", "work", "--reassign", "work"], DATAERR, "reassign: "),
    (["account", "add", "bob", "--server", "work"], DATAERR, "address: "),
    (["account", "add", "bob@@work.example", "--server", "work"], DATAERR, "address: "),
    (["account", "add", "bob@work.example\r\nRCPT TO:<x@y>", "--server", "work"], DATAERR, "address: "),
    (["account", "add", "bob@work.example", "--server", "nope"], DATAERR, "server: "),
    (["account", "add", "bob@work.example", "--server", "work", "--fallback", "work"], DATAERR,
     "fallback: "),
    (["account", "add", "bob@work.example", "--server", "work", "--fallback", "home,home"], DATAERR,
     "fallback: "),
    (["account", "add", "ANN@work.example", "--server", "work"], DATAERR, "address: "),
    (["account", "add", "bob@work.example", "--name", "Bob\nBcc: x@y"], DATAERR, "name: "),
    (["account", "edit", "nobody@work.example", "--name", "N"], DATAERR, "account: "),
    (["account", "set-server", "ann@work.example", "nope"], DATAERR, "server: "),
    (["account", "remove", "nobody@work.example"], DATAERR, "account: "),
    (["undo"], DATAERR, "nothing to undo"),
]


@pytest.mark.parametrize("args,code,text", REFUSALS, ids=[" ".join(a)[:60] for a, _, _ in REFUSALS])
def test_refusal_leaves_store_unchanged(populated, args, code, text):
    before = populated.fingerprint()
    r = populated.fails(code, *args)
    first_line = r.err.splitlines()[0]
    assert text in first_line, f"want {text!r} in the message, got {first_line!r}"
    assert len(first_line) < 300, "the message is one readable line"
    after = populated.fingerprint()
    assert after[1] == before[1], "the database content changed"
    assert after[0] == before[0], "the database bytes changed"


def test_default_server_needs_a_successor(populated):
    populated.ok("account", "set-server", "ann@work.example", "home")
    before = populated.fingerprint()
    r = populated.fails(DATAERR, "server", "remove", "work")
    assert "default server" in r.err and "--reassign" in r.err, r.describe()
    assert populated.fingerprint() == before


def test_password_prompt_without_terminal(populated):
    before = populated.fingerprint()
    r = populated.run("server", "edit", "work", "--password-prompt")
    assert r.code == USAGE, r.describe()
    assert "password-stdin" in r.err
    assert populated.fingerprint() == before
