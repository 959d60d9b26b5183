# tests/e2e/test_oauth_login.py: `outbox server login/logout` and sending with the tokens, against
# the local OAuth provider and the XOAUTH2/OAUTHBEARER SMTP server of tests/servers/oauth_*.py.
import os
import pty
import select
import signal
import statistics
import subprocess
import sys
import threading
import time

import pytest

from conftest import OUTBOX, Result
from sendutil import marker, message

BROWSER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "servers",
                       "oauth_browser.py")
SENDER = "sender@example.test"


def expect(what, got, want):
    assert got == want, f"{what}: got {got!r}, want {want!r}"


def add_server(ob, provider, smtp, pki, name="corp", auth="xoauth2"):
    """A custom OAuth server on the test bed, with an account that sends through it."""
    ob.ok("server", "add", name, "--oauth", "custom", "--host", "127.0.0.1",
          "--port", str(smtp.port), "--security", "tls" if smtp.implicit_tls else "starttls",
          "--tls-ca", pki.ca_cert, "--auth", auth, "--user", provider.user, "--timeout", "10",
          "--oauth-client-id", provider.client_id, "--oauth-device-url", provider.device_url,
          "--oauth-authorize-url", provider.authorize_url, "--oauth-token-url", provider.token_url,
          "--oauth-revoke-url", provider.revoke_url, "--oauth-scope", provider.scope)
    if ob.run("account", "show", SENDER).code != 0:
        ob.ok("account", "add", SENDER, "--server", name, "--name", "Test Sender")


def device_login(ob, provider, name="corp", *extra):
    """Run `server login --device`, approve the code it prints at the provider, return Result."""
    args = ["server", "login", name, "--device", *extra]
    proc = subprocess.Popen([OUTBOX, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=ob.env)
    # Under --json the instructions go to stderr, so that stdout is the JSON alone.
    instructions = proc.stderr if "--json" in extra else proc.stdout
    shown = []
    for line in instructions:
        shown.append(line)
        if "enter the code " in line:
            provider.approve(line.rsplit("enter the code ", 1)[1].strip())
            break
    out, err = proc.communicate(timeout=60)
    if "--json" in extra:
        err = "".join(shown) + err
    else:
        out = "".join(shown) + out
    proc.stdout, proc.stderr = out, err
    return Result(args, proc)


def send(ob, *extra, subject=None):
    return ob.run("send", *extra, "-i", "rcpt@example.test",
                  input=message(subject or marker()))


def signed_in(ob, provider, smtp, pki, **kw):
    add_server(ob, provider, smtp, pki, **kw)
    r = device_login(ob, provider)
    assert r.code == 0, "device sign-in: want exit 0, got:\n" + r.describe()
    return r


def all_tokens(provider):
    with provider.state.lock:
        return list(provider.state.refresh_tokens) + list(provider.state.access_tokens)


def test_device_sign_in_then_send_with_xoauth2(ob, oauth_provider, oauth_smtp, pki):
    r = signed_in(ob, oauth_provider, oauth_smtp, pki)
    assert "To sign in, open " + oauth_provider.base_url in r.out, r.describe()
    assert f"Signed in to corp as {oauth_provider.user}; access valid until " in r.out, r.describe()
    expect("device grants issued", oauth_provider.counters["issued:device_code"], 1)

    show = ob.ok("server", "show", "corp", "--json").json()
    expect("show: signed in", show["signed_in"], True)
    assert show["access_valid_until"] > time.time() + 3000, show

    subject = marker()
    r = send(ob, subject=subject)
    assert r.code == 0, r.describe()
    got = [(m["user"], m["mechanism"]) for m in oauth_smtp.messages]
    expect("messages the server took (user, mechanism)", got, [(oauth_provider.user, "XOAUTH2")])
    expect("refreshes for a send with a valid token", oauth_provider.counters["token:refresh_token"], 0)


def test_oauthbearer_send(ob, oauth_provider, oauth_smtp_tls, pki):
    signed_in(ob, oauth_provider, oauth_smtp_tls, pki, auth="oauthbearer")
    r = send(ob)
    assert r.code == 0, r.describe()
    got = [(m["user"], m["mechanism"]) for m in oauth_smtp_tls.messages]
    expect("messages the server took (user, mechanism)", got,
           [(oauth_provider.user, "OAUTHBEARER")])


def test_browser_sign_in_with_pkce(ob, oauth_provider, oauth_smtp, pki, tmp_path):
    add_server(ob, oauth_provider, oauth_smtp, pki)
    log = tmp_path / "browser.log"
    r = ob.run("server", "login", "corp", "--browser",
               env={"BROWSER": BROWSER, "OAUTH_BROWSER_LOG": str(log)})
    assert r.code == 0, r.describe()
    assert oauth_provider.authorize_url + "?" in r.out, "the address is printed:\n" + r.describe()
    assert f"Signed in to corp as {oauth_provider.user}" in r.out, r.describe()
    expect("code grants issued", oauth_provider.counters["issued:authorization_code"], 1)
    assert log.exists() and '"status": 200' in log.read_text(), log.read_text() if log.exists() else "no log"
    expect("send after browser sign-in", send(ob).code, 0)


def test_json_login_and_show_before_and_after(ob, oauth_provider, oauth_smtp, pki):
    add_server(ob, oauth_provider, oauth_smtp, pki)
    show = ob.ok("server", "show", "corp", "--json").json()
    expect("signed in before login", (show["signed_in"], show["access_valid_until"]), (False, 0))
    assert "Signed In:" in ob.ok("server", "show", "corp").out
    r = device_login(ob, oauth_provider, "corp", "--json")
    assert r.code == 0, r.describe()
    got = r.json()
    expect("login --json", {k: got[k] for k in ("server", "user", "signed_in")},
           {"server": "corp", "user": oauth_provider.user, "signed_in": True})


def test_send_without_sign_in_names_the_fix(ob, oauth_provider, oauth_smtp, pki):
    add_server(ob, oauth_provider, oauth_smtp, pki)
    r = send(ob)
    expect("exit code", r.code, 77)
    assert "outbox server login corp" in r.err, r.describe()


def test_expired_token_is_refreshed_before_sending(ob, oauth_provider, oauth_smtp, pki):
    # A token that lives 30 s has less than the 60 s margin from the start: every send refreshes.
    oauth_provider.configure(access_lifetime=30)
    signed_in(ob, oauth_provider, oauth_smtp, pki)
    for i in range(2):
        r = send(ob)
        assert r.code == 0, r.describe()
        expect(f"refreshes after send {i + 1}", oauth_provider.counters["issued:refresh_token"], i + 1)
    expect("messages delivered", len(oauth_smtp.messages), 2)


def test_five_concurrent_sends_after_expiry_refresh_once(ob, oauth_provider, oauth_smtp, pki):
    oauth_provider.configure(access_lifetime=30)
    signed_in(ob, oauth_provider, oauth_smtp, pki)
    oauth_provider.configure(access_lifetime=3600)  # what the one refresh brings lasts
    procs = [subprocess.Popen([OUTBOX, "send", "-i", "rcpt@example.test"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ob.env)
             for _ in range(5)]
    for p in procs:
        p.stdin.write(message(marker()))
        p.stdin.close()
    codes = [p.wait(timeout=60) for p in procs]
    errs = [p.stderr.read() for p in procs]
    expect("exit codes (stderr %r)" % (errs,), codes, [0] * 5)
    expect("refresh requests for 5 concurrent sends", oauth_provider.counters["token:refresh_token"], 1)
    expect("messages delivered", len(oauth_smtp.messages), 5)


def test_rotated_refresh_token_is_used_next_time(ob, oauth_provider, oauth_smtp, pki):
    oauth_provider.configure(access_lifetime=30, rotate=True)
    signed_in(ob, oauth_provider, oauth_smtp, pki)
    first = oauth_provider.live_refresh_tokens()
    for i in range(2):
        r = send(ob)
        assert r.code == 0, r.describe()
    now = oauth_provider.live_refresh_tokens()
    expect("refreshes issued / refused", (oauth_provider.counters["issued:refresh_token"],
                                          oauth_provider.counters["refused:refresh_token"]), (2, 0))
    assert len(now) == 1 and now != first, f"live refresh tokens: got {now}, first {first}"


def test_revoked_sign_in_exits_77_naming_the_fix(ob, oauth_provider, oauth_smtp, pki):
    oauth_provider.configure(access_lifetime=30)
    signed_in(ob, oauth_provider, oauth_smtp, pki)
    oauth_provider.revoke_user()
    r = send(ob)
    expect("exit code", r.code, 77)
    assert "sign in again: outbox server login corp" in r.err, r.describe()
    expect("messages delivered", len(oauth_smtp.messages), 0)


@pytest.mark.parametrize("auth,dummy", [("xoauth2", b""), ("oauthbearer", b"\x01")])
def test_revoked_cached_token_completes_the_sasl_error_dance(ob, oauth_provider, oauth_smtp, pki,
                                                             auth, dummy):
    signed_in(ob, oauth_provider, oauth_smtp, pki, auth=auth)
    oauth_provider.revoke_user()
    r = send(ob)
    expect("exit code", r.code, 77)
    assert "outbox server login corp" in r.err, r.describe()
    got = [(a.reason, a.dummy_reply) for a in oauth_smtp.attempts]
    expect("the refused attempt and the reply to the error challenge", got[:1], [("revoked", dummy)])


def test_revoked_sign_in_keeps_queued_mail_waiting(ob, oauth_provider, oauth_smtp, pki):
    oauth_provider.configure(access_lifetime=30)
    signed_in(ob, oauth_provider, oauth_smtp, pki)
    ob.ok("send", "--queue-only", "-i", "rcpt@example.test", input=message(marker()))
    oauth_provider.revoke_user()
    r = ob.run("queue", "run", "--all")
    listed = ob.ok("queue", "list")
    assert "outbox server login corp" in listed.out, "queue list says why:\n" + listed.describe() + "\n" + r.describe()
    expect("messages delivered", len(oauth_smtp.messages), 0)


def test_refresh_while_the_provider_is_down_queues(ob, oauth_provider, oauth_smtp, pki):
    oauth_provider.configure(access_lifetime=30)
    signed_in(ob, oauth_provider, oauth_smtp, pki)
    oauth_provider.fail_next("/token", 503)
    r = send(ob, "--no-queue")
    expect("exit code of a refresh that may pass later", r.code, 75)


def test_logout_revokes_and_deletes(ob, oauth_provider, oauth_smtp, pki):
    signed_in(ob, oauth_provider, oauth_smtp, pki)
    r = ob.ok("server", "logout", "corp")
    expect("revocation requests", oauth_provider.counters["revoke"], 1)
    expect("live refresh tokens at the provider", oauth_provider.live_refresh_tokens(), [])
    expect("signed in after logout", ob.ok("server", "show", "corp", "--json").json()["signed_in"], False)
    assert send(ob).code == 77


def test_logout_when_revocation_fails_warns_and_deletes(ob, oauth_provider, oauth_smtp, pki):
    signed_in(ob, oauth_provider, oauth_smtp, pki)
    oauth_provider.fail_next("/revoke", 503)
    r = ob.ok("server", "logout", "corp")
    assert "warning" in r.err, r.describe()
    expect("signed in after logout", ob.ok("server", "show", "corp", "--json").json()["signed_in"], False)


def test_tokens_never_in_database_outputs_or_transcripts(ob, oauth_provider, oauth_smtp, pki):
    oauth_provider.configure(access_lifetime=30)
    outputs = [signed_in(ob, oauth_provider, oauth_smtp, pki)]
    outputs.append(ob.run("send", "-v", "-i", "rcpt@example.test", input=message(marker())))
    outputs.append(ob.run("server", "show", "corp"))
    outputs.append(ob.run("server", "show", "corp", "--json"))
    outputs.append(ob.run("server", "check", "corp", "-v"))
    outputs.append(ob.run("log"))
    tokens = all_tokens(oauth_provider)
    assert len(tokens) >= 3, tokens
    _, dump = ob.fingerprint()
    with open(ob.db, "rb") as f:
        raw = f.read()
    for t in tokens:
        assert t not in dump and t.encode() not in raw, "a token is in the database"
        for r in outputs:
            assert t not in r.out and t not in r.err, "a token was printed:\n" + r.describe()


def test_refused_cached_token_is_refreshed_once_and_sent(ob, oauth_provider, oauth_smtp, pki):
    signed_in(ob, oauth_provider, oauth_smtp, pki)
    oauth_provider.expire_access_tokens()   # the provider ended it early; outbox cannot know
    r = send(ob)
    assert r.code == 0, r.describe()
    expect("refreshes", oauth_provider.counters["issued:refresh_token"], 1)
    expect("logins refused, then accepted", [a.ok for a in oauth_smtp.attempts], [False, True])


def test_token_refused_right_after_its_refresh_is_not_refreshed_again(ob, oauth_provider,
                                                                       oauth_smtp, pki):
    # Expired when sending starts, so sending refreshes it first; the server then refuses
    # every token (a scope the provider never grants), the fresh one too.
    oauth_provider.configure(access_lifetime=30)
    signed_in(ob, oauth_provider, oauth_smtp, pki)
    oauth_smtp.required_scope = "https://never-granted.example.test/"
    r = send(ob)
    expect("exit code", r.code, 77)
    expect("refresh requests at the provider", oauth_provider.counters["token:refresh_token"], 1)
    expect("logins tried (refused)", [(a.ok, a.reason) for a in oauth_smtp.attempts],
           [(False, "scope")])
    assert "outbox server login corp" in r.err, "the refusal names the fix:\n" + r.describe()


@pytest.mark.parametrize("store", ["ob", "ob_keyring"])
def test_access_token_of_10_kib_is_stored_and_sent_whole(request, oauth_provider, oauth_smtp, pki,
                                                         store):
    # Microsoft's JWTs pass 4 KiB with many group claims; the secret store (keyring or file)
    # must keep such a token whole, and the AUTH line carry all of it.
    ob = request.getfixturevalue(store)
    oauth_provider.configure(access_token_size=10 * 1024)
    signed_in(ob, oauth_provider, oauth_smtp, pki)
    r = send(ob)
    assert r.code == 0, r.describe()
    got = [(a.ok, a.token_size) for a in oauth_smtp.attempts]
    expect("logins (accepted, token characters the server got)", got, [(True, 10 * 1024)])
    expect("refreshes (the stored token was read back whole)",
           oauth_provider.counters["token:refresh_token"], 0)


@pytest.mark.parametrize("rotate,want", [(False, 1), (True, 2)])
def test_a_refresh_rewrites_only_what_changed(ob, oauth_provider, oauth_smtp, pki, rotate, want):
    # Each rewritten secret costs a durable write: a refresh that keeps the refresh token
    # rewrites the access token alone; a rotation rewrites both.
    oauth_provider.configure(access_lifetime=30, rotate=rotate)
    signed_in(ob, oauth_provider, oauth_smtp, pki)
    secrets = os.path.join(ob.home, "secrets")

    def files():
        return {n: (s.st_ino, s.st_mtime_ns) for n in os.listdir(secrets)
                for s in [os.stat(os.path.join(secrets, n))]}
    before = files()
    r = send(ob)
    assert r.code == 0, r.describe()
    expect("refreshes", oauth_provider.counters["issued:refresh_token"], 1)
    after = files()
    expect("secret files", sorted(after), sorted(before))
    expect("secret files rewritten by the refresh", sum(after[n] != before[n] for n in after), want)


def test_ctrl_c_ends_a_browser_sign_in(ob, oauth_provider, oauth_smtp, pki):
    """The person closes the browser and presses Ctrl-C: login ends at once, nothing stored."""
    add_server(ob, oauth_provider, oauth_smtp, pki)
    env = dict(ob.env, BROWSER="true")  # a browser that never comes back to the listener
    proc = subprocess.Popen([OUTBOX, "server", "login", "corp", "--browser"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    shown = []
    for line in proc.stdout:  # the address is printed once the listener is up
        shown.append(line)
        if line.startswith(oauth_provider.authorize_url):
            break
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError("login still waiting 20 s after Ctrl-C (want it to end at once); "
                             f"stdout {''.join(shown) + out!r} stderr {err!r}")
    expect("exit code after Ctrl-C (stderr %r)" % err, proc.returncode, 77)
    assert "the sign-in was cancelled" in err, f"want the words of a cancel, got stderr {err!r}"
    expect("signed in after Ctrl-C", ob.ok("server", "show", "corp", "--json").json()["signed_in"], False)
    expect("token requests", oauth_provider.counters["token:authorization_code"], 0)


def read_terminal_until(fd, text, timeout=30):
    """Read a pty's output until `text` shows (the terminal-only progress line), or fail."""
    seen = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in seen:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise AssertionError(f"want {text!r} on the terminal, got {seen!r}")
        try:
            seen += os.read(fd, 4096)
        except OSError:  # the program ended and closed the terminal
            raise AssertionError(f"want {text!r} on the terminal, got {seen!r} before it closed")
    return seen.decode(errors="replace")


def test_ctrl_c_ends_a_device_sign_in_between_long_polls(ob, oauth_provider, oauth_smtp, pki):
    """The provider asks for 30 s between polls: Ctrl-C must not wait for the next one."""
    oauth_provider.configure(interval=30)
    add_server(ob, oauth_provider, oauth_smtp, pki)
    # stderr a terminal: the live "s left" line says the wait between polls has begun.
    master, slave = pty.openpty()
    proc = subprocess.Popen([OUTBOX, "server", "login", "corp", "--device"], stdout=subprocess.PIPE,
                            stderr=slave, text=True, env=ob.env)
    os.close(slave)
    try:
        read_terminal_until(master, " s left")
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError("login still waiting 15 s after Ctrl-C (want it to end within a "
                                 "second or so, not at the 30 s poll)")
        err = read_terminal_until(master, "cancelled", timeout=5)
    finally:
        os.close(master)
        proc.stdout.close()
    expect("exit code after Ctrl-C (terminal %r)" % err, proc.returncode, 77)
    assert "the sign-in was cancelled" in err, f"want the words of a cancel, got {err!r}"
    expect("polls made", oauth_provider.counters["token:device_code"], 0)


def test_browser_sign_in_without_a_browser_says_so(ob, oauth_provider, oauth_smtp, pki, tmp_path):
    # No $BROWSER and no xdg-open on PATH's usual place: the address is printed with what to do,
    # and the scripted browser, run by hand as a user would, completes the sign-in.
    add_server(ob, oauth_provider, oauth_smtp, pki)
    env = {"BROWSER": ""}
    if os.path.exists("/usr/bin/xdg-open"):
        pytest.fail("this test needs a machine without /usr/bin/xdg-open")
    proc = subprocess.Popen([OUTBOX, "server", "login", "corp", "--browser"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**ob.env, **env})
    first = proc.stdout.readline()
    url = proc.stdout.readline().strip()
    assert "no browser found: set $BROWSER, or sign in with --device" in first, first
    subprocess.run([sys.executable, BROWSER, url], check=True, timeout=60)
    out, err = proc.communicate(timeout=60)
    expect("exit status", proc.returncode, 0)
    assert "Signed in to corp" in out, out + err


@pytest.mark.parametrize("style", ["google", "microsoft"])
def test_the_providers_answer_styles_sign_in_refresh_and_send(ob, oauth_provider, oauth_smtp, pki, style):
    # Google names the device page verification_url and leaves refresh_token out of a refresh
    # answer (the old one stays good); Microsoft sends a message and no verification_uri_complete.
    oauth_provider.configure(style=style, access_lifetime=30)
    r = signed_in(ob, oauth_provider, oauth_smtp, pki)
    assert "To sign in, open " + oauth_provider.base_url in r.out, r.describe()
    for i in range(2):
        r = send(ob)
        assert r.code == 0, f"send {i + 1}:\n" + r.describe()
    expect("refreshes issued / refused", (oauth_provider.counters["issued:refresh_token"],
                                          oauth_provider.counters["refused:refresh_token"]), (2, 0))
    expect("messages delivered", len(oauth_smtp.messages), 2)
    expect("still signed in", ob.ok("server", "show", "corp", "--json").json()["signed_in"], True)
