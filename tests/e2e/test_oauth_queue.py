# tests/e2e/test_oauth_queue.py: one queue run serving two OAuth servers at once: each connection's
# thread refreshes its own server's expired sign-in (HTTP and JSON in two threads), and all goes out.
from sendutil import marker, message
from test_oauth_login import add_server, device_login, expect, signed_in

SECOND = "second@example.test"


def test_two_oauth_servers_refresh_in_parallel_in_one_run(ob, oauth_provider, oauth_smtp, pki):
    oauth_provider.configure(access_lifetime=30)
    # Two users of the same provider and mail server, each with a server of their own.
    for name, user in (("corp", "first-user@example.test"), ("corp2", "second-user@example.test")):
        oauth_provider.configure(user=user)
        add_server(ob, oauth_provider, oauth_smtp, pki, name=name)
        r = device_login(ob, oauth_provider, name)
        assert r.code == 0, r.describe()
    ob.ok("account", "add", SECOND, "--server", "corp2")
    oauth_provider.configure(access_lifetime=3600)
    for i in range(3):
        ob.ok("send", "--queue-only", "-i", f"a{i}@example.test", input=message(marker()))
        ob.ok("send", "--queue-only", "-f", SECOND, "-i", f"b{i}@example.test", input=message(marker()))
    r = ob.run("queue", "run", "--all", "--connections", "2")
    assert r.code == 0, r.describe()
    expect("refresh requests: one per server", oauth_provider.counters["token:refresh_token"], 2)
    expect("messages delivered", len(oauth_smtp.messages), 6)
    expect("logins accepted", sorted((a.user, a.ok) for a in oauth_smtp.attempts),
           [("first-user@example.test", True), ("second-user@example.test", True)])
    expect("messages left in the queue", ob.ok("queue", "list", "--json").json(), [])


def test_queue_run_refreshes_a_refused_cached_token_once_and_sends(ob, oauth_provider, oauth_smtp, pki):
    # As send does: the provider ended the token early, the server refuses it, one refresh and
    # one more login deliver the queued message, with no fallback and no wait.
    signed_in(ob, oauth_provider, oauth_smtp, pki)
    ob.ok("send", "--queue-only", "-i", "rcpt@example.test", input=message(marker()))
    oauth_provider.expire_access_tokens()
    r = ob.run("queue", "run", "--all")
    assert r.code == 0, r.describe()
    expect("refreshes", oauth_provider.counters["issued:refresh_token"], 1)
    expect("logins refused, then accepted", [a.ok for a in oauth_smtp.attempts], [False, True])
    expect("messages delivered", len(oauth_smtp.messages), 1)
    expect("messages left in the queue", ob.ok("queue", "list", "--json").json(), [])
