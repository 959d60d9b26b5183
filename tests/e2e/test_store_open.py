# tests/e2e/test_store_open.py: opening the store: a store, database or password file that belongs
# to someone else is refused (root too), a symbolic link above $OUTBOX_HOME is followed but one in
# place of outbox.db is not, and reading commands work on a read-only store and beside a writer.
import hashlib
import os
import pwd
import re
import shutil
import subprocess
import tempfile

import pytest

from conftest import OUTBOX, Outbox, Result, base_env
from mounts import tmpfs
from sendutil import configure
from servers import netutil

ADDRESS = "sender@example.test"
NOBODY = pwd.getpwnam("nobody")


def reading_commands(queue_id):
    """Every command that only reads the store, with what its output must show."""
    return [
        (("server", "list"), "down"),
        (("server", "show", "down"), "127.0.0.1"),
        (("account", "list"), ADDRESS),
        (("account", "show", ADDRESS), ADDRESS),
        (("queue", "list"), "bob@example.test"),
        (("queue", "show", str(queue_id)), "bob@example.test"),
        (("log",), ""),
        (("mailq",), "bob@example.test"),
    ]


def populate(ob):
    """A server, an account and a queued message; returns the message's queue ID."""
    configure(ob, "down", netutil.free_port(), "none")
    r = ob.run("send", "--queue-only", "bob@example.test", input="Subject: kept\n\nkept\n")
    assert r.code == 0, r.describe()
    return int(re.search(r"queued as (\d+)", r.err).group(1))


def run_as(ob, args, user=None):
    """outbox (or, for ("mailq",), sendmail -bp through a link) as root or as `user`."""
    if args == ("mailq",):
        link = os.path.join(ob.env["HOME"], "sendmail")
        if not os.path.lexists(link):
            os.symlink(os.path.abspath(OUTBOX), link)
        argv = [link, "-bp"]
    else:
        argv = [OUTBOX, *args]
    if user is not None:
        argv = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups", *argv]
    proc = subprocess.run(argv, capture_output=True, text=True, env=ob.env, timeout=60)
    return Result(list(args), proc)


def check_reads(ob, queue_id, user=None):
    for args, shows in reading_commands(queue_id):
        r = run_as(ob, args, user)
        assert r.code == 0 and shows in r.out, \
            f"want exit 0 and {shows!r} in the output of a reading command, got:\n" + r.describe()


def check_write_refused(ob, user=None):
    r = run_as(ob, ("account", "add", "other@example.test", "--server", "down"), user)
    assert r.code == 74 and "read-only" in r.err and r.err.count("\n") == 1, \
        "want exit 74 and one line saying the store is read-only, got:\n" + r.describe()


@pytest.fixture
def open_home():
    """A directory others may enter, so a store in it can be handed to `nobody`."""
    path = tempfile.mkdtemp(prefix="outbox-open-")
    os.chmod(path, 0o755)
    yield path
    subprocess.run(["chmod", "-R", "u+w", path], check=False)
    shutil.rmtree(path, ignore_errors=True)


def store_in(home, extra=None):
    env = base_env(home, {"OUTBOX_SECRET_BACKEND": "file", **(extra or {})})
    return Outbox(env["OUTBOX_HOME"], env)


def chown_tree(path, user):
    for root, dirs, files in os.walk(path):
        for name in [root] + [os.path.join(root, f) for f in files]:
            os.lchown(name, user.pw_uid, user.pw_gid)


def snapshot(path):
    """Every file's bytes under the store, read without SQLite: opening the database to compare it
    would itself leave an index (-shm) beside it. SQLite's index and an empty WAL say nothing."""
    found = {}
    for root, dirs, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            if name.endswith("-shm") or (name.endswith("-wal") and os.path.getsize(full) == 0):
                continue
            with open(full, "rb") as f:
                found[os.path.relpath(full, path)] = hashlib.sha256(f.read()).hexdigest()
    return found


def owners_under(path):
    found = set()
    for root, dirs, files in os.walk(path):
        for name in [root] + [os.path.join(root, f) for f in files]:
            found.add((os.path.relpath(name, path), os.lstat(name).st_uid))
    return found


# --- whose store it is -------------------------------------------------------------------------

@pytest.mark.parametrize("what", ["directory", "database"])
def test_store_of_someone_else_is_refused(ob, what):
    populate(ob)
    before = snapshot(ob.home)
    path = ob.home if what == "directory" else ob.db
    os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)
    for args in (("server", "list"), ("server", "add", "x", "--host", "x.example.test")):
        r = ob.fails(78, *args)
        want = f"{path} belongs to nobody"
        assert want in r.err and r.err.count("\n") == 1, \
            f"want one line with {want!r}, got:\n" + r.describe()
    assert snapshot(ob.home) == before, "a refused command changed the store"


def test_root_is_refused_a_users_store(ob):
    """As ssh does: root's files in the store (WAL, spool, locks) would lock its owner out."""
    populate(ob)
    chown_tree(ob.home, NOBODY)
    before = owners_under(ob.home)
    for args in (("queue", "list"), ("queue", "run")):
        r = ob.fails(78, *args)
        assert "run outbox as nobody" in r.err, "want the fix in the message, got:\n" + r.describe()
    assert owners_under(ob.home) == before, "root left files of its own in nobody's store"


def test_user_is_refused_a_store_of_root(open_home):
    ob = store_in(open_home)
    populate(ob)
    r = run_as(ob, ("server", "list"), NOBODY)
    want = f"{ob.home} belongs to root, not nobody; run: chown -R nobody {ob.home}"
    assert r.code == 78 and r.err == f"outbox: {want}\n", \
        f"want exit 78 and {want!r}, got:\n" + r.describe()


@pytest.mark.parametrize("what", ["secrets directory", "password file"])
def test_password_of_someone_else_is_refused(ob, password, what):
    port = netutil.free_port()
    configure(ob, "down", port, "none", "--allow-insecure-auth", user="ann", password=password)
    secrets = os.path.join(ob.home, "secrets")
    path = secrets if what == "secrets directory" else os.path.join(secrets, os.listdir(secrets)[0])
    os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)
    r = ob.fails(78, "send", "bob@example.test", input="Subject: x\n\nx\n")
    want = f"{path} belongs to nobody, not root; run: chown "
    assert want in r.err and password not in r.err, f"want {want!r}, got:\n" + r.describe()
    assert "queued" not in r.err, "the message must not wait for a password it may not read"
    if what == "secrets directory":
        r = ob.fails(78, "server", "edit", "down", "--password-stdin", input="new-" + password)
        assert want in r.err, f"want {want!r} when storing a password too, got:\n" + r.describe()


# --- symbolic links ----------------------------------------------------------------------------

def test_symlink_above_the_store_is_followed(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    os.symlink(real, tmp_path / "home-link")
    ob = store_in(str(tmp_path), {"OUTBOX_HOME": str(tmp_path / "home-link" / "store")})
    queue_id = populate(ob)
    check_reads(ob, queue_id)
    assert os.path.exists(real / "store" / "outbox.db"), "the store is made where the link points"


def test_symlinked_database_is_refused(ob, tmp_path):
    populate(ob)
    elsewhere = tmp_path / "elsewhere.db"
    os.rename(ob.db, elsewhere)
    os.symlink(elsewhere, ob.db)
    before = elsewhere.read_bytes()
    for args in (("server", "list"), ("server", "add", "x", "--host", "x.example.test")):
        r = ob.fails(78, *args)
        want = f"the database {ob.db} is a symbolic link"
        assert want in r.err and r.err.count("\n") == 1, f"want {want!r}, got:\n" + r.describe()
    assert elsewhere.read_bytes() == before, "the file the link points at was changed"


# --- read-only stores and busy ones ------------------------------------------------------------

@pytest.fixture
def ro_mount(tmp_path):
    """A file system of its own, to be remounted read-only: root cannot write it."""
    with tmpfs(tmp_path, "mnt", "8m") as mnt:
        yield mnt


def test_reading_a_store_on_a_read_only_mount(tmp_path, ro_mount):
    ob = store_in(str(tmp_path), {"OUTBOX_HOME": os.path.join(ro_mount, "store")})
    queue_id = populate(ob)
    before = snapshot(ob.home)
    subprocess.run(["mount", "-o", "remount,ro", ro_mount], check=True)
    check_reads(ob, queue_id)
    check_write_refused(ob)
    assert snapshot(ob.home) == before, "a reading or refused command changed the store"


@pytest.mark.parametrize("writable_dir", [True, False], ids=["database-read-only", "all-read-only"])
def test_reading_a_store_that_is_not_writable(open_home, writable_dir):
    """chmod a-w, as its owner (not root, who may write anyway): the database, or everything."""
    ob = store_in(open_home)
    queue_id = populate(ob)
    before = snapshot(ob.home)
    chown_tree(open_home, NOBODY)
    changed = []
    for root, dirs, files in os.walk(ob.home):
        for name in files:
            changed.append((os.path.join(root, name), 0o600))
        if not writable_dir:
            changed.append((root, 0o700))
    for path, mode in changed:
        os.chmod(path, mode & 0o500)
    check_reads(ob, queue_id, NOBODY)
    check_write_refused(ob, NOBODY)
    assert snapshot(ob.home) == before, "a reading or refused command changed the store"
    # The owner undoes exactly what was done; nothing the readers left may keep the store read-only.
    for path, mode in reversed(changed):
        os.chmod(path, mode)
    r = run_as(ob, ("account", "add", "other@example.test", "--server", "down"), NOBODY)
    assert r.code == 0, "writable again, the store takes a change, got:\n" + r.describe()


def test_reading_while_another_process_writes(ob):
    queue_id = populate(ob)
    writer = subprocess.Popen(
        ["/usr/bin/python3", "-c",
         "import sqlite3, sys\n"
         "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
         "c.execute('BEGIN IMMEDIATE')\n"
         "c.execute(\"UPDATE servers SET description = 'uncommitted'\")\n"
         "print('holding', flush=True)\n"
         "sys.stdin.read()\n", ob.db],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline() == "holding\n"
        check_reads(ob, queue_id)
        r = ob.ok("server", "list")
        assert "uncommitted" not in r.out, "a reader saw another process's uncommitted change:\n" + r.describe()
    finally:
        writer.stdin.close()
        writer.wait(timeout=30)
