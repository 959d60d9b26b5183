# tests/e2e/test_queue_run_id.py: `outbox queue run --id ID` sends that one message now and no
# other, refuses what it cannot send with a one-line error, and a run's reply keeps the words of
# every server it tried (the account's own and its fallback), as `send` gives them.
from sendutil import configure, marker
from servers import netutil

BODY = "Subject: {m}\n\nrun one body\n"


def queue_list(ob):
    return ob.ok("queue", "list", "--json").json()


def queue_two(ob, srv, pki):
    configure(ob, "aio", netutil.free_port(), "starttls", user=srv.user, password=srv.password, ca=pki.ca_cert)
    marks = [marker(), marker()]
    for m in marks:
        r = ob.run("send", "bob@example.test", input=BODY.format(m=m))
        assert r.code == 0 and "queued as" in r.err, "want the message queued:\n" + r.describe()
    ob.ok("server", "edit", "aio", "--port", str(srv.port))  # the server is back
    return marks


def test_run_id_sends_only_that_message_now(ob, aiosmtpd_srv, pki):
    srv = aiosmtpd_srv
    first_m, second_m = queue_two(ob, srv, pki)
    first, second = queue_list(ob)
    r = ob.ok("queue", "run", "--id", str(second["id"]))
    assert "Sent 1," in r.out, "got " + r.describe()
    srv.wait_message(second_m)
    got = [data for _, data in srv.messages()]
    assert len(got) == 1 and first_m.encode() not in got[0], f"want only message {second['id']} sent, got {len(got)}"
    left = queue_list(ob)
    assert [(q["id"], q["next_attempt"]) for q in left] == [(first["id"], first["next_attempt"])], \
        f"got {left}, want message {first['id']} left as it was"


def test_run_id_refuses_what_it_cannot_send(ob, aiosmtpd_srv, pki):
    queue_two(ob, aiosmtpd_srv, pki)
    before = queue_list(ob)
    r = ob.fails(64, "queue", "run", "--id", "x")
    assert "give a message ID" in r.err and len(r.err.strip().splitlines()) <= 2, r.describe()
    r = ob.fails(64, "queue", "run", "--id", str(before[0]["id"]), "--watch")
    assert "id:" in r.err and "--watch" in r.err, r.describe()
    r = ob.fails(65, "queue", "run", "--id", "999")
    assert "no queued message 999" in r.err, r.describe()
    ob.ok("queue", "remove", str(before[1]["id"]))
    r = ob.fails(65, "queue", "run", "--id", str(before[1]["id"]))
    assert f"message {before[1]['id']} is not in the outbox: it was removed" in r.err, r.describe()
    assert aiosmtpd_srv.messages() == [], "nothing may be sent by a refused run"
    assert queue_list(ob) == before[:1], f"got {queue_list(ob)}, want the outbox as it was but the removal"


def test_run_reply_keeps_each_server_tried(ob, smtp_sink):
    sink = smtp_sink(["-Q", "CONNECT"])  # a real server that answers 421 and hangs up
    configure(ob, "main", sink.port, "none")
    configure(ob, "backup", netutil.free_port(), "none")
    ob.ok("account", "set-server", "sender@example.test", "main")
    ob.ok("account", "edit", "sender@example.test", "--fallback", "backup", "--no-only-this-server")
    r = ob.run("send", "bob@example.test", input=BODY.format(m=marker()))
    assert r.code == 0 and "queued as" in r.err, r.describe()
    ob.ok("queue", "run", "--all")
    [q] = queue_list(ob)
    reply = q["last_reply"]
    assert reply.startswith("main: ") and "421" in reply.split("; backup: ")[0], \
        f"last_reply: got {reply!r}, want main's 421 first"
    assert "; backup: " in reply and "refused" in reply.split("; backup: ")[1], \
        f"last_reply: got {reply!r}, want backup's refusal after main's"
