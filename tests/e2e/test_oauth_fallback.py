# tests/e2e/test_oauth_fallback.py: a revoked OAuth sign-in is a refused login to the delivery
# policy: the account's fallback server takes the message, and the warning names the fix.
import pytest

from sendutil import marker, message
from test_oauth_login import SENDER, expect, signed_in


@pytest.mark.parametrize("stale", [True, False], ids=["refresh-refused", "cached-token-refused"])
def test_revoked_sign_in_moves_on_to_the_fallback(ob, oauth_provider, oauth_smtp, pki, postfix, stale):
    # stale: the stored token is past its margin, so the refresh meets invalid_grant; else the
    # server refuses the cached token and the forced refresh meets it.
    if stale:
        oauth_provider.configure(access_lifetime=30)
    signed_in(ob, oauth_provider, oauth_smtp, pki)
    ob.ok("server", "add", "backup", "--host", "127.0.0.1", "--port", str(postfix.plain_port),
          "--security", "none", "--timeout", "10")
    ob.ok("account", "edit", SENDER, "--fallback", "backup")
    oauth_provider.revoke_user()
    subject = marker()
    r = ob.run("send", "rcpt@example.test", input=message(subject))
    assert r.code == 0, r.describe()
    assert 'through "backup"' in r.out, r.describe()
    assert 'server "corp"' in r.err and "sign in again: outbox server login corp" in r.err, \
        "want a warning naming the OAuth server and the sign-in command:\n" + r.describe()
    postfix.wait_message(subject)
    expect("messages the OAuth server took", len(oauth_smtp.messages), 0)
