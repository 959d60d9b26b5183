# tests/e2e/test_oauth_check.py: `outbox server check` of a server that signs in with OAuth: the
# sign-in shown before the connection, and the login made with the access token as sending does.
import datetime
import glob
import os
import time

from test_oauth_login import add_server, device_login, expect, signed_in

STEPS = ["signin", "resolve", "connect", "tls", "ehlo", "auth"]


def check_json(ob, name="corp"):
    r = ob.run("server", "check", name, "--json")
    return r, {s["name"]: s for s in r.json()}


def logins(smtp):
    return [(a.mechanism, a.ok) for a in smtp.attempts]


def test_check_shows_the_sign_in_then_logs_in_with_the_token(ob, oauth_provider, oauth_smtp, pki):
    signed_in(ob, oauth_provider, oauth_smtp, pki)
    r = ob.run("server", "check", "corp")
    assert r.code == 0, r.describe()
    lines = [line.split() for line in r.out.splitlines() if line.startswith("  ")]
    expect("the steps in order, each ok", [(w[0], w[1]) for w in lines],
           [("ok", step) for step in STEPS])
    assert f"signin   signed in as {oauth_provider.user}; access token valid until " in r.out, r.describe()
    assert "; refresh possible" in r.out, r.describe()
    expect("logins at the server (mechanism, accepted)", logins(oauth_smtp), [("XOAUTH2", True)])


def test_check_json_has_the_signin_object(ob, oauth_provider, oauth_smtp, pki):
    signed_in(ob, oauth_provider, oauth_smtp, pki)
    before = time.time()
    r, steps = check_json(ob)
    assert r.code == 0, r.describe()
    expect("steps", list(steps), STEPS)
    got = steps["signin"]["signin"]
    expires = datetime.datetime.strptime(got["expires_at"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    assert before + 3000 < expires < before + 3700, f"expires_at: got {got['expires_at']}, want about an hour from now"
    expect("signin", {k: got[k] for k in ("signed_in", "user", "refresh_possible")},
           {"signed_in": True, "user": oauth_provider.user, "refresh_possible": True})
    expect("signin object only on the signin step",
           [name for name, s in steps.items() if "signin" in s], ["signin"])


def test_check_refreshes_an_expired_token_and_logs_in(ob, oauth_provider, oauth_smtp, pki):
    oauth_provider.configure(access_lifetime=1)
    signed_in(ob, oauth_provider, oauth_smtp, pki)
    oauth_provider.configure(access_lifetime=3600)
    oauth_provider.expire_access_tokens()
    # The stored token's end (1 s after sign-in) may not have passed yet; it is within the
    # refresh margin either way, so the login step must refresh it first.
    r, steps = check_json(ob)
    assert r.code == 0, r.describe()
    expect("refresh requests", oauth_provider.counters["token:refresh_token"], 1)
    expect("logins at the server (mechanism, accepted)", logins(oauth_smtp), [("XOAUTH2", True)])
    later, _ = check_json(ob)
    expect("refresh requests after a second check", oauth_provider.counters["token:refresh_token"], 1)
    expect("second check", later.code, 0)


def test_check_says_expired_when_the_token_has_ended(ob, oauth_provider, oauth_smtp, pki):
    oauth_provider.configure(access_lifetime=1)
    signed_in(ob, oauth_provider, oauth_smtp, pki)
    time.sleep(1.5)  # waiting for the stored end to pass, not an assertion on time
    r = ob.run("server", "check", "corp")
    assert r.code == 0, r.describe()
    assert "; access token expired at " in r.out, "the signin line says expired:\n" + r.describe()


def test_check_before_sign_in_names_the_fix_and_tries_no_login(ob, oauth_provider, oauth_smtp, pki):
    add_server(ob, oauth_provider, oauth_smtp, pki)
    r, steps = check_json(ob)
    expect("exit code", r.code, 77)
    expect("steps", [(n, s["status"]) for n, s in steps.items()], [("signin", "failed")])
    expect("signin", steps["signin"]["signin"],
           {"signed_in": False, "user": None, "expires_at": None, "refresh_possible": False})
    assert "sign in again: outbox server login corp" in steps["signin"]["advice"], r.describe()
    text = ob.run("server", "check", "corp")
    expect("exit code (text)", text.code, 77)
    assert "FAIL  signin   not signed in\n" in text.out, text.describe()
    assert "fix: sign in again: outbox server login corp" in text.out, text.describe()
    expect("logins at the server", logins(oauth_smtp), [])


def test_check_after_the_user_changed_says_so(ob, oauth_provider, oauth_smtp, pki):
    signed_in(ob, oauth_provider, oauth_smtp, pki)
    ob.ok("server", "edit", "corp", "--user", "someone-else@example.test")
    r, steps = check_json(ob)
    expect("exit code", r.code, 77)
    s = steps["signin"]
    expect("signin user (whom the tokens are for)", s["signin"]["user"], oauth_provider.user)
    assert "the server now logs in as someone-else@example.test (user name changed)" in s["detail"], \
        "the detail says the user changed:\n" + r.describe()
    assert s["advice"].startswith(f"the tokens are {oauth_provider.user}'s, not someone-else@example.test's: "
                                  "sign in again: outbox server login corp"), r.describe()
    expect("logins at the server", logins(oauth_smtp), [])


def test_a_refresh_keeps_whom_the_sign_in_was_for(ob, oauth_provider, oauth_smtp, pki):
    oauth_provider.configure(access_lifetime=30)
    signed_in(ob, oauth_provider, oauth_smtp, pki)
    ob.ok("server", "edit", "corp", "--user", "someone-else@example.test")
    ob.run("send", "-i", "rcpt@example.test", input="Subject: x\n\nx\n")  # refreshes, then refused
    expect("refreshes", oauth_provider.counters["issued:refresh_token"], 1)
    _, steps = check_json(ob)
    expect("signin user after a refresh", steps["signin"]["signin"]["user"], oauth_provider.user)


def test_show_and_check_agree(ob, oauth_provider, oauth_smtp, pki):
    add_server(ob, oauth_provider, oauth_smtp, pki)
    for state in ("not signed in", "signed in", "user changed"):
        if state == "signed in":
            expect("sign-in exit code", device_login(ob, oauth_provider).code, 0)
        if state == "user changed":
            ob.ok("server", "edit", "corp", "--user", "someone-else@example.test")
        _, steps = check_json(ob)
        show_json = ob.ok("server", "show", "corp", "--json").json()
        expect(f"{state}: show's signin object vs check's", show_json["signin"],
               steps["signin"]["signin"])
        row = [line for line in ob.ok("server", "show", "corp").out.splitlines()
               if line.startswith("Signed In:")]
        check = steps["signin"]
        want = check["detail"] + ("; " + check["advice"].split(". ")[0] if check["advice"] else "")
        expect(f"{state}: show's Signed In row", [r.split(":", 1)[1].strip() for r in row], [want])


def test_check_refreshes_a_refused_stored_token_as_send_does(ob, oauth_provider, oauth_smtp, pki):
    signed_in(ob, oauth_provider, oauth_smtp, pki)
    oauth_provider.expire_access_tokens()   # the provider ended it early; outbox cannot know
    r, steps = check_json(ob)
    assert r.code == 0, "send would refresh and log in, so the check passes:\n" + r.describe()
    expect("steps", [(n, s["status"]) for n, s in steps.items()], [(n, "ok") for n in STEPS])
    assert "refreshed" in steps["auth"]["detail"], r.describe()
    expect("refresh requests", oauth_provider.counters["token:refresh_token"], 1)
    expect("logins at the server (mechanism, accepted)", logins(oauth_smtp),
           [("XOAUTH2", False), ("XOAUTH2", True)])


def test_check_of_a_revoked_sign_in_refreshes_once_and_names_the_fix(ob, oauth_provider, oauth_smtp,
                                                                     pki):
    signed_in(ob, oauth_provider, oauth_smtp, pki)
    oauth_provider.revoke_user()
    r, steps = check_json(ob)
    expect("exit code", r.code, 77)
    expect("last step", list(steps)[-1], "auth")
    expect("refresh requests", oauth_provider.counters["token:refresh_token"], 1)
    advice = steps["auth"]["advice"]
    assert advice.startswith("the sign-in is refused or missing: sign in again: outbox server login "
                             "corp."), f"auth advice: got {advice!r}, want the sign-in fix"
    assert "password" not in advice, f"auth advice: got {advice!r}, want no password advice"


def test_a_state_file_of_the_older_form_still_reads(ob, oauth_provider, oauth_smtp, pki):
    # Before the user name was recorded the state file held "file EXPIRES" only; such a sign-in
    # had a refresh token (every sign-in must) and still works.
    signed_in(ob, oauth_provider, oauth_smtp, pki)
    states = glob.glob(os.path.join(ob.home, "oauth", "*.state"))
    expect("state files", len(states), 1)
    with open(states[0]) as f:
        kind, expires = f.read().split()[:2]
    with open(states[0], "w") as f:
        f.write(f"{kind} {expires}\n")
    got = ob.ok("server", "show", "corp", "--json").json()["signin"]
    expect("signin from an older state file",
           {k: got[k] for k in ("signed_in", "user", "refresh_possible")},
           {"signed_in": True, "user": None, "refresh_possible": True})
    r = ob.run("server", "check", "corp")
    assert r.code == 0, r.describe()
    assert "signin   signed in; access token valid until " in r.out, r.describe()
