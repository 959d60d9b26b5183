# tests/e2e/test_setup_undo.py: `outbox undo` after `outbox setup`, end to end in the world of
# test_setup_cli.py (dnsmasq, the HTTPS autoconfig server with the run's CA, aiosmtpd).
"""A saved setup is the latest entry of the undo journal: undo takes its account and server back
for good, with the password file, in the journal's order; it refuses, changing nothing, while mail
is still queued as the account."""
import sqlite3

from test_setup_cli import autoconfig_world, expect, lists, store_files, world  # noqa: F401

DATAERR = 65
ADDRESS = "alice@login.test"
TOOK_BACK = f'Took back the setup of {ADDRESS}: removed account {ADDRESS} and server "login.test".\n'


def journalled_rows(ob):
    """The rows an undo of the setup would change: servers, accounts, the journal, the queue."""
    with sqlite3.connect(f"file:{ob.db}?mode=ro", uri=True) as db:
        return {t: db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                for t in ("servers", "accounts", "account_fallbacks", "removals", "queue")}


def older_history(ob):
    """A server and an account kept, and a removal journalled before the setup."""
    ob.ok("server", "add", "old", "--host", "smtp.old.test")
    ob.ok("account", "add", "bob@old.test", "--server", "old")
    ob.ok("account", "add", "cy@old.test", "--server", "old")
    ob.ok("account", "remove", "cy@old.test")


def saved_setup(ob, w, srv):
    r = ob.run("setup", ADDRESS, "--password-stdin", *w.options(), input=srv.password + "\n")
    expect(r.code, 0, "setup's exit status", r)
    assert "Undo with: outbox undo" in r.out, "want setup to say how to take it back\n" + r.describe()
    return r


def test_undo_takes_back_the_setup_then_goes_on_to_older_entries(ob, world):
    w, srv = autoconfig_world(world)
    older_history(ob)
    before_lists, before_files = lists(ob), store_files(ob)
    saved_setup(ob, w, srv)
    assert store_files(ob) != before_files, "the setup keeps its password in a file of the store"

    r = ob.ok("undo")
    expect(r.out, TOOK_BACK, "what undo says", r)
    expect(lists(ob), before_lists, "server list and account list after the undo", r)
    expect(store_files(ob), before_files, "the password file is gone", r)
    r = ob.fails(DATAERR, "server", "show", "login.test")
    assert 'no server named "login.test"' in r.err, "want the server gone for good\n" + r.describe()

    r = ob.ok("undo")
    expect(r.out, "Restored account cy@old.test.\n", "the second undo restores the removal before", r)
    r = ob.fails(DATAERR, "undo")
    assert "nothing to undo" in r.err and "setup" in r.err, r.describe()


def test_undo_is_refused_while_mail_is_queued_as_the_account(ob, world):
    w, srv = autoconfig_world(world)
    saved_setup(ob, w, srv)
    ob.ok("send", "--queue-only", "--account", ADDRESS, "rcpt@example.test", input="Subject: q\n\nq\n")
    before, files = journalled_rows(ob), store_files(ob)
    r = ob.fails(DATAERR, "undo")
    expect(len(r.err.splitlines()), 1, "lines of the refusal", r)
    want = (f"outbox: cannot take back the setup of {ADDRESS}: account {ADDRESS} has 1 unsent message in "
            "the outbox; send or remove it first (see: outbox queue list)\n")
    expect(r.err, want, "the refusal", r)
    expect(journalled_rows(ob), before, "servers, accounts, journal and queue after the refusal", r)
    expect(store_files(ob), files, "the password file after the refusal", r)

    # Once the message is gone, nothing stands in the way.
    queued = ob.ok("queue", "list", "--json").json()
    ob.ok("queue", "remove", str(queued[0]["id"]), "--purge")
    expect(ob.ok("undo").out, TOOK_BACK, "undo once the queue is empty", r)


def test_a_removal_after_the_setup_is_undone_first(ob, world):
    w, srv = autoconfig_world(world)
    before = lists(ob)
    saved_setup(ob, w, srv)
    ob.ok("account", "remove", ADDRESS)
    r = ob.ok("undo")
    expect(r.out, f"Restored account {ADDRESS}.\n", "the latest change is taken back first", r)
    r = ob.ok("undo")
    expect(r.out, TOOK_BACK, "then the setup", r)
    expect(lists(ob), before, "server list and account list after both undos", r)
