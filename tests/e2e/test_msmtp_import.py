# tests/e2e/test_msmtp_import.py: `outbox import msmtprc` and `outbox export msmtprc` with real
# parts: a realistic msmtprc imported, then mail sent through it to aiosmtpd; a failing import
# leaving the store as it was; the export read back, and used to send, by the real msmtp.
import json
import os
import subprocess

import pytest

from conftest import expect
from sendutil import marker

MSMTP = "/usr/bin/msmtp"


def colon_hex(hexdigits):
    """A fingerprint as msmtp writes it: upper-case pairs joined by colons."""
    h = hexdigits.upper()
    return ":".join(h[i:i + 2] for i in range(0, len(h), 2))


def write(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return str(path)


def realistic_msmtprc(tmp_path, srv, pki, password):
    """An msmtprc as people write them: defaults, a base account inherited by two, a password
    command, a password in the file, a pin, `account default`, an aliases file under ~."""
    pwfile = write(tmp_path / "work-password", srv.password + "\n")
    write(tmp_path / "aliases", "# local names\nroot: admin@example.test\ndefault: catchall@example.test\n")
    return write(tmp_path / "msmtprc", f"""# msmtp configuration (made up for this test)
defaults
auth on
tls on
tls_trust_file {pki.ca_cert}
timeout 20
logfile ~/.msmtp.log
aliases ~/aliases

account base
user {srv.user}

account work : base
host 127.0.0.1
port {srv.port}
from work@example.test
passwordeval "cat {pwfile}"
domain mta.example.test
tls_fingerprint {colon_hex(pki.server_sha256)}

account personal : base
host localhost
port {srv.port}
from personal@example.test
password "{password}"

account legacy
host legacy.example.test
tls on
tls_fingerprint 01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:12:13:14
dsn_notify failure

account default : work
""")


def by_account(report):
    return {a["msmtp_account"]: a for a in report["accounts"]}


def test_realistic_msmtprc_imported_then_sends(ob, aiosmtpd_srv, pki, tmp_path):
    srv = aiosmtpd_srv
    file_password = srv.password  # aiosmtpd knows one user: the file's password is its password
    path = realistic_msmtprc(tmp_path, srv, pki, file_password)

    dry = ob.ok("import", "msmtprc", path, "--dry-run", "--json")
    expect(by_account(dry.json())["work"]["server_outcome"], "imported", "dry run: work's server", dry)
    expect(ob.run("server", "list", "--json").json(), [], "servers after --dry-run", dry)

    r = ob.ok("import", "msmtprc", path, "--json")
    report = r.json()
    got = {name: (a["server"], a["server_outcome"], a["address"], a["account_outcome"])
           for name, a in by_account(report).items()}
    want = {
        "base": ("", "skipped", "", "none"),
        "work": ("work", "imported", "work@example.test", "imported"),
        "personal": ("personal", "imported", "personal@example.test", "imported"),
        "legacy": ("legacy", "imported", "", "none"),
        "default": ("", "skipped", "", "none"),
    }
    expect(got, want, "each msmtp account's outcome", r)
    expect(by_account(report)["work"]["default"], True, "work is msmtp's default", r)
    expect(by_account(report)["personal"]["detail"], "password moved to the secret store", "personal's detail", r)
    notes = {(n["line"], n["key"]) for n in report["not_imported"]}
    expect(notes, {(7, "logfile"), (30, "tls_fingerprint"), (31, "dsn_notify")}, "lines not imported", r)
    expect(report["aliases_file"], str(tmp_path / "aliases"), "the aliases file, ~ expanded", r)
    expect([(a["name"], a["addresses"], a["outcome"]) for a in report["aliases"]],
           [("root", "admin@example.test", "imported"), ("default", "catchall@example.test", "imported")],
           "aliases", r)

    work = ob.ok("server", "show", "work", "--json").json()
    got = {k: work[k] for k in ("host", "port", "security", "auth", "user", "password_command", "tls_pin",
                                "tls_ca", "timeout", "helo", "default")}
    want = {"host": "127.0.0.1", "port": srv.port, "security": "starttls", "auth": "auto", "user": srv.user,
            "password_command": f"cat {tmp_path / 'work-password'}", "tls_pin": pki.server_sha256.lower(),
            "tls_ca": pki.ca_cert, "timeout": 20, "helo": "mta.example.test", "default": True}
    expect(got, want, "the work server", r)
    personal = ob.ok("server", "show", "personal", "--json").json()
    expect(personal["password"], "file", "where personal's password went", r)
    # The password went to the secret store: not the database, not the report.
    with open(ob.db, "rb") as f:
        assert file_password.encode() not in f.read(), "the file's password is in the database"
    assert file_password not in r.out + r.err, "the file's password is in the report"

    # Mail goes through each imported account: the pinned one with its EHLO name and its password
    # command, the other with the password from the secret store; root through its alias.
    m = marker()
    s = ob.run("send", "-f", "work@example.test", "root", input=f"Subject: {m}\n\nvia work\n")
    expect(s.code, 0, "send through the work account", s)
    s2 = ob.run("send", "-f", "personal@example.test", "friend@example.test", input=f"Subject: {m}-2\n\nvia personal\n")
    expect(s2.code, 0, "send through the personal account", s2)
    msgs = srv.messages()
    expect(len(msgs), 2, "messages the server received", s2)
    env = [srv.envelope(name) for name, _ in msgs]
    got = [(e["mail_from"], e["rcpt_tos"], e["helo"], e["authenticated"], e["tls_version"] is not None) for e in env]
    want = [("work@example.test", ["admin@example.test"], "mta.example.test", True, True),
            ("personal@example.test", ["friend@example.test"], got[1][2], True, True)]
    expect(got, want, "the envelopes (sender, recipients, EHLO name, authenticated, TLS)", s2)

    again = ob.ok("import", "msmtprc", path, "--json").json()
    # The second time nothing is written: the password is not moved again.
    expect({a["msmtp_account"]: (a["server_outcome"], a["account_outcome"], a["detail"]) for a in again["accounts"]
            if a["msmtp_account"] in ("work", "personal")},
           {"work": ("unchanged", "unchanged", ""), "personal": ("unchanged", "unchanged", "")}, "a second import", r)


@pytest.mark.parametrize("case, text, aliases, want", [
    ("a value outbox refuses",
     "account a\nhost a.example.test\nfrom a@example.test\naccount b\nhost b.example.test\nport 99999\n",
     None, "msmtprc line 6: "),
    ("a line msmtp refuses",
     "account a\nhost a.example.test\naccount b : nobody\n", None,
     "msmtprc line 3: account b inherits from \"nobody\", which is not defined above it"),
    ("two accounts on one host, port and user with other settings",
     "defaults\ntls on\nauth on\nuser u\naccount a\nhost same.example.test\nport 587\nfrom a@example.test\n"
     "account b\nhost same.example.test\nport 587\ntls_certcheck off\nfrom b@example.test\n", None,
     "msmtprc line 9 (account b): the same host, port and user as account a, with other settings"),
    ("an alias the import refuses, with a server and its password before it",
     "defaults\naliases ~/aliases\naccount a\nhost a.example.test\ntls on\nauth on\nuser u\n"
     "password made-up-for-this-test\nfrom a@example.test\n",
     "root: no address here\n", "aliases line 1 (root): "),
])
def test_failing_import_leaves_the_store_as_it_was(ob, tmp_path, case, text, aliases, want):
    ob.ok("server", "add", "existing", "--host", "existing.example.test")
    ob.ok("alias", "add", "postmaster", "existing@example.test")
    before = ob.fingerprint()
    secrets_before = sorted(os.listdir(os.path.join(ob.home, "secrets"))) \
        if os.path.isdir(os.path.join(ob.home, "secrets")) else []
    if aliases:
        write(tmp_path / "aliases", aliases)
    path = write(tmp_path / "msmtprc", text)
    r = ob.fails(65, "import", "msmtprc", path)
    assert want in r.err, f"{case}: want {want!r} in the error\n" + r.describe()
    expect(len(r.err.strip().splitlines()), 1, f"{case}: lines of the error", r)
    expect(ob.fingerprint(), before, f"{case}: the store after the failed import", r)
    secrets_after = sorted(os.listdir(os.path.join(ob.home, "secrets"))) \
        if os.path.isdir(os.path.join(ob.home, "secrets")) else []
    expect(secrets_after, secrets_before, f"{case}: secret files after the failed import", r)


def test_missing_file_named(ob, tmp_path):
    r = ob.fails(65, "import", "msmtprc")
    expect(r.err.strip(), f"outbox: file: neither {tmp_path}/.msmtprc nor {tmp_path}/.config/msmtp/config exists: "
           "name the msmtprc to import", "the error without a file", r)


def msmtp_pretend(config, account, env):
    """What msmtp itself reads from `config` for `account`, as a dict of its --pretend lines."""
    p = subprocess.run([MSMTP, "-C", config, "--pretend", "-a", account], capture_output=True, text=True,
                       env=env, timeout=30)
    assert p.returncode == 0, f"msmtp --pretend -a {account}: exit {p.returncode}\n{p.stderr}"
    out = {}
    for line in p.stdout.splitlines():
        key, sep, value = line.partition(" = ")
        if sep:
            out[key] = value
    return out


def test_export_read_back_and_used_by_msmtp(ob, aiosmtpd_srv, pki, tmp_path, password):
    srv = aiosmtpd_srv
    pwfile = write(tmp_path / "pw", srv.password + "\n")
    ob.ok("server", "add", "work", "--host", "127.0.0.1", "--port", str(srv.port), "--security", "starttls",
          "--tls-ca", pki.ca_cert, "--user", srv.user, "--password-command", f"cat {pwfile}",
          "--helo", "mta.example.test", "--timeout", "15")
    ob.ok("server", "add", "stored", "--host", "localhost", "--port", "465", "--security", "tls",
          "--user", "someone", "--password-stdin", input=password)
    ob.ok("account", "add", "work@example.test", "--server", "work")
    ob.ok("account", "add", "second@example.test", "--server", "work")
    ob.ok("account", "add", "other@example.test", "--server", "stored")
    ob.ok("alias", "add", "root", "admin@example.test")
    config, aliases = str(tmp_path / "exported"), str(tmp_path / "exported-aliases")
    r = ob.ok("export", "msmtprc", "--output", config, "--aliases", aliases)
    with open(config) as f:
        text = f.read()
    assert password not in text, "a stored password was written out\n" + text
    assert "# the password is in outbox's secret store (file)" in text, text
    expect(os.stat(config).st_mode & 0o777, 0o600, "the exported file's mode", r)
    with open(aliases) as f:
        expect(f.read().splitlines()[1:], ["root: admin@example.test"], "the exported aliases", r)

    env = {"HOME": str(tmp_path), "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    keys = ("host", "port", "tls", "tls_starttls", "auth", "user", "passwordeval", "from", "domain",
            "tls_trust_file", "aliases")
    got = {a: {k: msmtp_pretend(config, a, env).get(k) for k in keys}
           for a in ("work", "second@example.test", "stored", "default")}
    common = {"tls": "on", "tls_trust_file": pki.ca_cert, "aliases": aliases}
    want_work = dict(common, host="127.0.0.1", port=str(srv.port), tls_starttls="on", auth="choose",
                     user=srv.user, passwordeval=f"cat {pwfile}", domain="mta.example.test")
    want = {
        "work": dict(want_work, **{"from": "work@example.test"}),
        "second@example.test": dict(want_work, **{"from": "second@example.test"}),
        "stored": dict(common, host="localhost", port="465", tls_starttls="off", auth="choose", user="someone",
                       passwordeval="(not set)", domain="localhost", tls_trust_file="system",
                       **{"from": "other@example.test"}),
        "default": dict(want_work, **{"from": "work@example.test"}),
    }
    expect(got, want, "what msmtp reads from the export", r)

    # And msmtp sends with it: STARTTLS, the CA, the password command, the EHLO name.
    m = marker()
    p = subprocess.run([MSMTP, "-C", config, "-a", "work", "rcpt@example.test"],
                       input=f"From: work@example.test\nSubject: {m}\n\nsent by msmtp\n",
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, f"msmtp sending with the export: exit {p.returncode}\n{p.stderr}"
    msgs = srv.messages()
    expect(len(msgs), 1, "messages the server received from msmtp", r)
    e = srv.envelope(msgs[0][0])
    expect((e["mail_from"], e["rcpt_tos"], e["helo"], e["authenticated"]),
           ("work@example.test", ["rcpt@example.test"], "mta.example.test", True), "msmtp's envelope", r)


def test_password_goes_to_the_keyring_and_a_rollback_takes_it_back(ob_keyring, keyring_bus, tmp_path, password):
    from test_secrets import db_bytes, keyring_items
    ob = ob_keyring
    text = ("account work\nhost smtp.work.example\ntls on\nauth on\nuser ann\n"
            f"password {password}\nfrom ann@work.example\n")
    # Refused after the password was stored (the alias is checked when written): nothing stays.
    write(tmp_path / "aliases", "root: not an address\n")
    bad = ob.fails(65, "import", "msmtprc", write(tmp_path / "bad", f"defaults\naliases {tmp_path}/aliases\n" + text))
    assert password not in keyring_items(keyring_bus), "the rolled-back import left its password in the keyring"
    expect(ob.run("server", "list", "--json").json(), [], "servers after the refused import", bad)

    r = ob.ok("import", "msmtprc", write(tmp_path / "good", text))
    expect(ob.ok("server", "show", "work", "--json").json()["password"], "keyring", "where the password went", r)
    assert password in keyring_items(keyring_bus), "the keyring holds the imported password"
    assert password.encode() not in db_bytes(ob), "the imported password is in the database"
    assert not os.path.exists(os.path.join(ob.home, "secrets")), "a password file beside the keyring"
    ob.ok("account", "remove", "ann@work.example", "--purge")
    ob.ok("server", "remove", "work", "--purge")
    assert password not in keyring_items(keyring_bus), "the purged server's password is still in the keyring"


def test_dry_run_refuses_the_alias_the_import_would(ob, tmp_path):
    # --dry-run checks an alias's addresses by the rule the write applies, naming the line.
    write(tmp_path / "aliases", "root: admin@example.test\npostmaster: no address here\n")
    path = write(tmp_path / "msmtprc", "defaults\naliases ~/aliases\naccount a\nhost a.example.test\nfrom a@example.test\n")
    ob.ok("server", "add", "existing", "--host", "existing.example.test")
    before = ob.fingerprint()
    r = ob.fails(65, "import", "msmtprc", path, "--dry-run")
    assert "aliases line 2 (postmaster): " in r.err, "want the aliases file's line 2 named\n" + r.describe()
    expect(ob.fingerprint(), before, "the store after a refused dry run", r)


def test_accounts_named_by_address_import_and_export_round_trips(ob, tmp_path):
    # Many msmtprc files name an account by its address, and so does the export for an address
    # whose server another account names: the server gets a name it can hold.
    path = write(tmp_path / "msmtprc", "account me@gmail.com\nhost smtp.gmail.com\nport 465\ntls on\n"
                 "tls_starttls off\nauth on\nuser me@gmail.com\npasswordeval \"pass show gmail\"\n"
                 "from me@gmail.com\n\naccount alias@gmail.com : me@gmail.com\nfrom alias@gmail.com\n")
    r = ob.ok("import", "msmtprc", path, "--json")
    rows = {a["msmtp_account"]: (a["server"], a["server_outcome"], a["address"]) for a in r.json()["accounts"]}
    expect(rows, {"me@gmail.com": ("me-gmail.com", "imported", "me@gmail.com"),
                  "alias@gmail.com": ("me-gmail.com", "unchanged", "alias@gmail.com")},
           "server and account for each msmtp account", r)
    exported = str(tmp_path / "exported")
    ob.ok("export", "msmtprc", "--output", exported)
    before = ob.fingerprint()
    again = ob.ok("import", "msmtprc", exported, "--json").json()
    outcomes = sorted((a["server_outcome"], a["account_outcome"]) for a in again["accounts"] if a.get("address"))
    expect(outcomes, [("unchanged", "unchanged")] * 2, "importing outbox's own export", r)
    expect(ob.fingerprint(), before, "the store after importing its own export", r)
