# tests/e2e/test_account_cli.py: `outbox account ...` and `outbox undo` through the real binary:
# accounts, their server choice and fallbacks, removal with reassignment, and undo.


def account(ob, address):
    return ob.ok("account", "show", address, "--json").json()


def server(ob, name):
    return ob.ok("server", "show", name, "--json").json()


def setup_servers(ob):
    ob.ok("server", "add", "work", "--host", "smtp.work.example")
    ob.ok("server", "add", "home", "--host", "mail.home.example")
    ob.ok("server", "add", "spare", "--host", "spare.example")


def test_add_show_list(ob):
    setup_servers(ob)
    r = ob.ok("account", "add", "ann@work.example", "--name", "Ann Example", "--server", "work",
              "--fallback", "home,spare", "--only-this-server")
    assert "ann@work.example" in r.out
    got = account(ob, "ann@work.example")
    want = {"address": "ann@work.example", "name": "Ann Example", "server": "work",
            "fallback": ["home", "spare"], "only_this_server": True, "default": True,
            "retry_first": "1m", "retry_max": "1h", "give_up": "5d"}
    assert got == want, f"got {got}, want {want}"
    out = ob.ok("account", "list").out
    row = next(line for line in out.splitlines() if "ann@work.example" in line)
    for part in ("*", "Ann Example", "work (only)", "home,spare"):
        assert part in row, f"want {part!r} in {row!r}"
    assert [a["address"] for a in ob.ok("account", "list", "--json").json()] == ["ann@work.example"]


def test_utf8_address_and_default_server(ob):
    setup_servers(ob)
    ob.ok("account", "add", "用户@例子.广告")
    assert account(ob, "用户@例子.广告")["server"] == "work", "the default server is used"


def test_set_server_and_edit(ob):
    setup_servers(ob)
    ob.ok("account", "add", "ann@work.example", "--server", "work", "--fallback", "home")
    ob.ok("account", "set-server", "ann@work.example", "home")
    got = account(ob, "ann@work.example")
    assert (got["server"], got["fallback"]) == ("home", []), got
    assert server(ob, "home")["used_by"] == ["ann@work.example"]
    ob.ok("account", "edit", "ann@work.example", "--rename", "ann@home.example", "--name", "Ann",
          "--fallback", "spare")
    got = account(ob, "ann@home.example")
    assert (got["name"], got["fallback"]) == ("Ann", ["spare"]), got
    assert server(ob, "spare")["fallback_for"] == ["ann@home.example"]


def test_default_account_moves(ob):
    setup_servers(ob)
    ob.ok("account", "add", "a@x.example")
    ob.ok("account", "add", "b@x.example", "--default")
    assert account(ob, "b@x.example")["default"] is True
    assert account(ob, "a@x.example")["default"] is False


def test_remove_reassign_and_undo(ob):
    setup_servers(ob)
    ob.ok("account", "add", "ann@work.example", "--server", "work", "--fallback", "home")
    ob.ok("account", "add", "bob@work.example", "--server", "work")
    r = ob.ok("server", "remove", "work", "--reassign", "spare")
    assert "ann@work.example, bob@work.example" in r.out and "outbox undo" in r.out, r.describe()
    assert '"spare" is now the default server' in r.out, r.describe()
    assert account(ob, "ann@work.example")["server"] == "spare"
    assert server(ob, "spare")["default"] is True
    assert [s["name"] for s in ob.ok("server", "list", "--json").json()] == ["home", "spare"]

    r = ob.ok("undo")
    assert r.out.strip() == 'Restored server "work", and moved 2 accounts back to it.', r.describe()
    assert account(ob, "ann@work.example") == {"address": "ann@work.example", "name": "",
                                               "server": "work", "fallback": ["home"],
                                               "only_this_server": False, "default": True,
                                               "retry_first": "1m", "retry_max": "1h",
                                               "give_up": "5d"}
    assert server(ob, "work")["default"] is True
    assert server(ob, "spare")["default"] is False
    ob.fails(65, "undo")


def test_remove_fallback_server_and_undo(ob):
    setup_servers(ob)
    ob.ok("account", "add", "ann@work.example", "--server", "work", "--fallback", "home,spare")
    ob.ok("server", "remove", "home")
    assert account(ob, "ann@work.example")["fallback"] == ["spare"]
    ob.ok("undo")
    assert account(ob, "ann@work.example")["fallback"] == ["home", "spare"]


def test_undo_is_a_stack(ob):
    setup_servers(ob)
    ob.ok("account", "add", "a@x.example")
    ob.ok("account", "add", "b@x.example")
    ob.ok("account", "remove", "a@x.example")
    ob.ok("account", "remove", "b@x.example")
    assert ob.ok("undo").out.strip() == "Restored account b@x.example."
    assert ob.ok("undo").out.strip() == "Restored account a@x.example."
    assert account(ob, "a@x.example")["default"] is True, "the default comes back too"


def test_undo_refuses_when_the_name_was_taken(ob):
    setup_servers(ob)
    ob.ok("server", "remove", "spare")
    ob.ok("server", "add", "spare", "--host", "new-spare.example")
    r = ob.fails(65, "undo")
    assert "rename" in r.err, r.describe()


def test_purge_is_final(ob, password):
    setup_servers(ob)
    ob.ok("server", "edit", "spare", "--user", "u", "--password-stdin", input=password)
    secrets_dir = ob.home + "/secrets"
    import os
    assert len(os.listdir(secrets_dir)) == 1
    r = ob.ok("server", "remove", "spare", "--purge")
    assert "for good" in r.out and "undo" not in r.out, r.describe()
    assert os.listdir(secrets_dir) == [], "the stored password goes with a purge"
    ob.fails(65, "undo")
    ob.ok("account", "add", "a@x.example")
    ob.ok("account", "remove", "a@x.example", "--purge")
    ob.fails(65, "undo")
