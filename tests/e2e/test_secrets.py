# tests/e2e/test_secrets.py: where passwords go: the real Secret Service keyring on a private
# session bus, else a 0600 file; never the database, never output, only the command when given.
import os
import stat
import subprocess


def db_bytes(ob):
    data = b""
    for suffix in ("", "-wal"):
        path = ob.db + suffix
        if os.path.exists(path):
            with open(path, "rb") as f:
                data += f.read()
    return data


def keyring_items(env, attribute="application", value="outbox"):
    r = subprocess.run(["secret-tool", "search", "--all", "--unlock", attribute, value],
                       capture_output=True, text=True, env=env, timeout=30)
    return r.stdout + r.stderr


def test_file_backend(ob, password):
    ob.ok("server", "add", "work", "--host", "smtp.work.example", "--user", "ann",
          "--password-stdin", input=password + "\n")
    assert ob.ok("server", "show", "work", "--json").json()["password"] == "file"
    secrets_dir = os.path.join(ob.home, "secrets")
    files = os.listdir(secrets_dir)
    assert len(files) == 1, files
    path = os.path.join(secrets_dir, files[0])
    assert stat.S_IMODE(os.stat(secrets_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as f:
        assert f.read() == password, "the stored password is exactly what was typed"
    assert password.encode() not in db_bytes(ob), "the password is not in the database"
    for args in (["server", "show", "work"], ["server", "show", "work", "--json"],
                 ["server", "list", "--json"], ["server", "list"]):
        r = ob.ok(*args)
        assert password not in r.out + r.err, f"password printed by {args}"


def test_file_backend_when_no_bus(ob, password):
    env = {"OUTBOX_SECRET_BACKEND": ""}
    ob.ok("server", "add", "work", "--host", "smtp.work.example", "--user", "ann",
          "--password-stdin", input=password, env=env)
    assert ob.ok("server", "show", "work", "--json").json()["password"] == "file"


def test_replacing_and_forgetting(ob, password):
    ob.ok("server", "add", "work", "--host", "smtp.work.example", "--user", "ann",
          "--password-stdin", input="first-" + password)
    ob.ok("server", "edit", "work", "--password-stdin", input="second-" + password)
    secrets_dir = os.path.join(ob.home, "secrets")
    files = os.listdir(secrets_dir)
    assert len(files) == 1, f"the old password is deleted, got {files}"
    with open(os.path.join(secrets_dir, files[0])) as f:
        assert f.read() == "second-" + password
    ob.ok("server", "edit", "work", "--no-password")
    assert os.listdir(secrets_dir) == []
    assert ob.ok("server", "show", "work", "--json").json()["password"] == "none"


def test_password_command_stores_only_the_command(ob, password):
    ob.ok("server", "add", "work", "--host", "smtp.work.example", "--user", "ann",
          "--password-command", f"echo {password}")
    got = ob.ok("server", "show", "work", "--json").json()
    assert (got["password"], got["password_command"]) == ("command", f"echo {password}"), got
    assert not os.path.exists(os.path.join(ob.home, "secrets")) or \
        os.listdir(os.path.join(ob.home, "secrets")) == []


def test_empty_password_refused(ob):
    r = ob.fails(65, "server", "add", "work", "--host", "smtp.work.example", "--user", "ann",
                 "--password-stdin", input="\n")
    assert "password: " in r.err, r.describe()


def test_keyring_backend(ob_keyring, keyring_bus, password):
    ob = ob_keyring
    ob.ok("server", "add", "work", "--host", "smtp.work.example", "--user", "ann",
          "--password-stdin", input=password)
    assert ob.ok("server", "show", "work", "--json").json()["password"] == "keyring"
    assert not os.path.exists(os.path.join(ob.home, "secrets")), "no file when the keyring took it"
    assert password.encode() not in db_bytes(ob)
    listing = keyring_items(keyring_bus)
    assert password in listing, "the keyring holds the password: " + listing[:300]
    # Replacing it leaves one item; purging the server deletes it.
    ob.ok("server", "edit", "work", "--password-stdin", input="new-" + password)
    listing = keyring_items(keyring_bus)
    assert "new-" + password in listing and listing.count(password) == 1, listing[:500]
    ob.ok("server", "remove", "work", "--purge")
    assert password not in keyring_items(keyring_bus)


def test_keyring_required_but_absent(ob, password):
    r = ob.run("server", "add", "work", "--host", "smtp.work.example", "--user", "ann",
               "--password-stdin", input=password, env={"OUTBOX_SECRET_BACKEND": "keyring"})
    assert r.code == 78, r.describe()
    assert password not in r.err
    assert ob.ok("server", "list", "--json").json() == [], "nothing half-written"


def test_fifo_in_place_of_the_password_file_is_refused_not_waited_on(ob, password):
    """A FIFO planted where the password file was would hold `send` in open() for good."""
    from bounded import run_bounded
    ob.ok("server", "add", "work", "--host", "127.0.0.1", "--port", "9", "--user", "ann",
          "--password-stdin", input=password)
    ob.ok("account", "add", "ann@example.test", "--server", "work")
    secrets_dir = os.path.join(ob.home, "secrets")
    [name] = os.listdir(secrets_dir)
    path = os.path.join(secrets_dir, name)
    os.unlink(path)
    os.mkfifo(path, 0o600)
    r, _took = run_bounded(ob, ["send", "--no-queue", "rcpt@example.test"], 20,
                           "a refusal of the FIFO", input="Subject: s\n\nbody\n")
    assert r.code == 78 and "is not a regular file" in r.err, \
        "want exit 78 saying the password file is not a regular file, got:\n" + r.describe()
