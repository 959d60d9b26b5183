# tests/e2e/test_concurrent_edits.py: many `outbox server|account edit` processes at once on one
# store: each command-line edit loads and saves under one write lock, so every one succeeds.
import sqlite3
import subprocess

from conftest import OUTBOX, Result


def run_all(ob, commands):
    """Start every command at once, then wait for each; the Results in the same order."""
    procs = [subprocess.Popen([OUTBOX, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=ob.env) for args in commands]
    results = []
    for args, proc in zip(commands, procs):
        out, err = proc.communicate(timeout=120)
        results.append(Result(list(args), subprocess.CompletedProcess(args, proc.returncode, out, err)))
    return results


def failures(results):
    bad = [r for r in results if r.code != 0]
    return f"{len(bad)} of {len(results)} failed; first ones:\n" + "\n".join(r.describe() for r in bad[:3])


def show(ob, kind, name):
    return ob.ok(kind, "show", name, "--json").json()


def test_parallel_edits_all_succeed_and_all_land(ob):
    ob.ok("server", "add", "main", "--host", "smtp.main.example")
    ob.ok("server", "add", "backup", "--host", "smtp.backup.example")
    for k in range(5):
        ob.ok("server", "add", f"pick{k}", "--host", f"smtp.pick{k}.example")
    for k in range(6):
        ob.ok("server", "add", f"gone{k}", "--host", f"smtp.gone{k}.example")
    ob.ok("account", "add", "me@main.example", "--server", "main")

    # Different fields of one server and of one account: each change must survive the others.
    server_fields = {"port": ("--port", "2526", 2526), "user": ("--user", "mia", "mia"),
                     "timeout": ("--timeout", "45", 45), "host": ("--host", "smtp2.main.example",
                                                                  "smtp2.main.example"),
                     "allow_insecure_auth": ("--allow-insecure-auth", None, True)}
    account_fields = {"retry_first": ("--retry-first", "1m", "1m"), "retry_max": ("--retry-max", "4h", "4h"),
                      "give_up": ("--give-up", "6d", "6d"), "fallback": ("--fallback", "backup", ["backup"]),
                      "only_this_server": ("--only-this-server", None, True)}
    commands = []
    for opt, value, _ in server_fields.values():
        commands.append(["server", "edit", "main", opt] + ([value] if value else []))
    for opt, value, _ in account_fields.values():
        commands.append(["account", "edit", "me@main.example", opt] + ([value] if value else []))
    # The same field from many processes: one of the values wins, whole.
    descriptions = [f"description {i}" for i in range(40)]
    commands += [["server", "edit", "main", "--description", d] for d in descriptions]
    names = [f"Name {i}" for i in range(20)]
    commands += [["account", "edit", "me@main.example", "--name", n] for n in names]
    # The default, from several servers at once: exactly one ends up the default.
    commands += [["server", "edit", f"pick{k}", "--default"] for k in range(5)]
    # Removals beside the edits: each is journalled once, for undo.
    commands += [["server", "remove", f"gone{k}"] for k in range(6)]

    results = run_all(ob, commands)
    assert all(r.code == 0 for r in results), failures(results)

    server = show(ob, "server", "main")
    for key, (_, _, want) in server_fields.items():
        assert server[key] == want, f"server {key}: got {server[key]!r}, want {want!r} (an edit was lost)"
    assert server["description"] in descriptions, f"server description: got {server['description']!r}"
    account = show(ob, "account", "me@main.example")
    for key, (_, _, want) in account_fields.items():
        assert account[key] == want, f"account {key}: got {account[key]!r}, want {want!r} (an edit was lost)"
    assert account["name"] in names, f"account name: got {account['name']!r}"

    servers = ob.ok("server", "list", "--json").json()
    defaults = sorted(s["name"] for s in servers if s["default"])
    assert len(defaults) == 1 and defaults[0].startswith("pick"), f"default servers: got {defaults}, want one pick*"
    listed = sorted(s["name"] for s in servers)
    assert not [n for n in listed if n.startswith("gone")], f"removed servers still listed: {listed}"

    # Undo brings each removed server back once, then there is nothing left to undo.
    for _ in range(6):
        ob.ok("undo")
    ob.fails(65, "undo")
    listed = sorted(s["name"] for s in ob.ok("server", "list", "--json").json())
    want = sorted(["main", "backup"] + [f"pick{k}" for k in range(5)] + [f"gone{k}" for k in range(6)])
    assert listed == want, f"servers after undoing every removal: got {listed}, want {want}"
    assert show(ob, "server", "main")["port"] == 2526, "undo left the edited server as edited"


def test_store_held_by_another_process_is_a_temporary_failure(ob):
    ob.ok("server", "add", "main", "--host", "smtp.main.example")
    before = ob.fingerprint()[1]
    holder = sqlite3.connect(ob.db, timeout=0)
    try:
        holder.execute("BEGIN IMMEDIATE")  # a writer that outlasts the busy timeout
        r = ob.run("server", "edit", "main", "--port", "2526")
    finally:
        holder.rollback()
        holder.close()
    assert r.code == 75, "want EX_TEMPFAIL (75): running it again will work; got:\n" + r.describe()
    assert r.err.startswith("outbox: ") and "busy" in r.err and r.err.count("\n") == 1, \
        "want one 'outbox: ... busy ...' line, got:\n" + r.describe()
    assert ob.fingerprint()[1] == before, "a refused edit changed what the store holds"
