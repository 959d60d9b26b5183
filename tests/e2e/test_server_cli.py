# tests/e2e/test_server_cli.py: `outbox server add|edit|remove|list|show` through the real binary:
# what a user types, what they see, and what the store holds afterwards.
import os
import stat


def add_work(ob, *extra, input=None):
    return ob.ok("server", "add", "work", "--host", "smtp.work.example", *extra, input=input)


def show(ob, name):
    return ob.ok("server", "show", name, "--json").json()


def test_add_with_defaults(ob):
    r = add_work(ob)
    assert 'Added server "work"' in r.out, r.describe()
    got = show(ob, "work")
    want = {"name": "work", "host": "smtp.work.example", "port": 587, "security": "starttls",
            "auth": "auto", "tls_verify": True, "allow_insecure_auth": False, "timeout": 60,
            "default": True, "password": "none", "used_by": [], "fallback_for": []}
    for key, value in want.items():
        assert got[key] == value, f"{key}: got {got[key]!r}, want {value!r}"


def test_port_follows_security(ob):
    for name, security, port in [("a", "tls", 465), ("b", "starttls", 587), ("c", "none", 25)]:
        ob.ok("server", "add", name, "--host", f"{name}.example", "--security", security)
        assert show(ob, name)["port"] == port, f"security {security}: want port {port}"
    ob.ok("server", "edit", "b", "--security", "tls")
    assert show(ob, "b")["port"] == 465, "editing the security moves a default port"
    ob.ok("server", "add", "d", "--host", "d.example", "--port", "2525")
    ob.ok("server", "edit", "d", "--security", "tls")
    assert show(ob, "d")["port"] == 2525, "a chosen port stays"


def test_every_field_round_trips(ob, tmp_path):
    ca = tmp_path / "ca.pem"
    cert = tmp_path / "client.pem"
    key = tmp_path / "client.key"
    for f in (ca, cert, key):
        f.write_text("placeholder\n")
    pin = "AB:" * 31 + "CD"
    ob.ok("server", "add", "full", "--host", "bücher.example", "--port", "465", "--security", "tls",
          "--auth", "scram-sha-256", "--user", "ann@bücher.example", "--description", "Büro (TLS)",
          "--tls-ca", str(ca), "--tls-pin", pin, "--tls-cert", str(cert), "--tls-key", str(key),
          "--timeout", "30", "--no-tls-verify", "--allow-insecure-auth", "--default")
    got = show(ob, "full")
    want = {"host": "bücher.example", "port": 465, "security": "tls", "auth": "scram-sha-256",
            "user": "ann@bücher.example", "description": "Büro (TLS)", "tls_ca": str(ca),
            "tls_pin": ("ab" * 31 + "cd"), "tls_cert": str(cert), "tls_key": str(key),
            "timeout": 30, "tls_verify": False, "allow_insecure_auth": True, "default": True}
    for k, v in want.items():
        assert got[k] == v, f"{k}: got {got[k]!r}, want {v!r}"


def test_all_auth_methods_accepted(ob, tmp_path):
    cert = tmp_path / "c.pem"
    cert.write_text("x\n")
    for i, method in enumerate(["auto", "none", "plain", "login", "cram-md5", "scram-sha-1",
                                "scram-sha-256", "xoauth2", "oauthbearer", "external"]):
        extra = ["--tls-cert", str(cert), "--tls-key", str(cert)] if method == "external" else []
        ob.ok("server", "add", f"s{i}", "--host", f"h{i}.example", "--auth", method, "--user", "u",
              *extra)
        assert show(ob, f"s{i}")["auth"] == method


def test_edit_and_rename(ob):
    add_work(ob)
    ob.ok("account", "add", "ann@work.example", "--server", "work")
    ob.ok("server", "edit", "work", "--rename", "office", "--description", "Office", "--port", "2525")
    ob.fails(65, "server", "show", "work")
    got = show(ob, "office")
    assert (got["description"], got["port"]) == ("Office", 2525), got
    assert got["used_by"] == ["ann@work.example"], "the account follows the rename"


def test_list_shows_description_host_and_users(ob):
    add_work(ob, "--description", "Work mail")
    ob.ok("server", "add", "home", "--host", "mail.home.example")
    ob.ok("account", "add", "ann@work.example", "--server", "work")
    ob.ok("account", "add", "bob@work.example", "--server", "work")
    out = ob.ok("server", "list").out
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "DESCRIPTION", "SERVER", "SECURITY", "IN", "USE", "BY"], out
    work = next(line for line in lines if " work " in line)
    assert work.startswith("*"), "the default server is marked: " + work
    for part in ("Work mail", "smtp.work.example:587", "ann@work.example, bob@work.example"):
        assert part in work, f"want {part!r} in {work!r}"
    home = next(line for line in lines if " home " in line)
    assert "mail.home.example" in home and home.rstrip().endswith("-"), home


def test_list_empty_says_how_to_start(ob):
    out = ob.ok("server", "list").out
    assert "outbox server add" in out, out
    assert ob.ok("server", "list", "--json").json() == []


def test_list_json_has_every_field_and_no_secret(ob, password):
    add_work(ob, "--user", "ann", "--password-stdin", input=password)
    got = ob.ok("server", "list", "--json").json()
    assert len(got) == 1
    keys = set(got[0])
    want = {"name", "description", "host", "port", "security", "auth", "user", "password_command",
            "allow_insecure_auth", "tls_verify", "tls_ca", "tls_pin", "tls_cert", "tls_key",
            "timeout", "default", "password", "used_by", "fallback_for",
            "oauth", "oauth_client_id", "oauth_tenant", "oauth_device_url", "oauth_authorize_url",
            "oauth_token_url", "oauth_revoke_url", "oauth_scope", "oauth_tls_ca", "oauth_client_secret",
            "helo"}
    assert keys == want, f"got keys {sorted(keys)}, want {sorted(want)}"
    assert got[0]["password"] == "file"
    assert password not in ob.ok("server", "list", "--json").out


def test_show_text(ob):
    add_work(ob, "--user", "ann", "--password-command", "printf secret")
    out = ob.ok("server", "show", "work").out
    for want in ("Server Name:", "work", "Host Name:", "smtp.work.example", "Port:", "587",
                 "Password:", "from command: printf secret", "Verify Certificate:", "yes"):
        assert want in out, f"want {want!r} in:\n{out}"


def test_store_is_private(ob):
    add_work(ob)
    assert stat.S_IMODE(os.stat(ob.home).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(ob.db).st_mode) == 0o600


def test_help_everywhere(ob):
    for args in (["--help"], ["server", "--help"], ["server", "add", "--help"],
                 ["server", "edit", "--help"], ["server", "remove", "--help"],
                 ["server", "list", "--help"], ["server", "show", "--help"],
                 ["account", "--help"], ["account", "add", "--help"], ["account", "edit", "--help"],
                 ["account", "remove", "--help"], ["account", "list", "--help"],
                 ["account", "show", "--help"], ["account", "set-server", "--help"],
                 ["undo", "--help"]):
        r = ob.ok(*args)
        assert r.out.startswith("Usage: outbox"), r.describe()
    assert not os.path.exists(ob.home), "help must not create a store"
    assert ob.ok("--version").out.startswith("outbox ")


def test_add_help_lists_every_auth_method(ob):
    out = ob.ok("server", "add", "--help").out
    line = next((ln for ln in out.splitlines() if "--auth " in ln), "")
    got = line.split("--auth ", 1)[-1].strip().split("|")
    want = ["auto", "none", "plain", "login", "cram-md5", "scram-sha-1", "scram-sha-256", "xoauth2",
            "oauthbearer", "external"]
    assert got == want, f"--auth in server add --help: got {got}, want {want}"
