# tests/e2e/test_lazy_libraries.py: what a command maps. A plain-SMTP send without AUTH must not
# load libidn2 or GNU SASL (nor libcurl, GMime, libsecret), nor one with AUTH PLAIN or LOGIN GNU
# SASL; the commands that need them still do.
import os
import subprocess

import pytest

from conftest import OUTBOX, Result
from sendutil import configure, marker

# Loaded with dlopen only when used: the file names as the dynamic loader reports them.
LAZY = ("libidn2.so", "libunistring.so", "libgsasl.so", "libcurl.so", "libgmime-3.0.so",
        "libsecret-1.so")


def loaded_libraries(stderr):
    """The libraries the dynamic loader initialised, from LD_DEBUG=libs output."""
    return [line.split("calling init:", 1)[1].strip() for line in stderr.splitlines()
            if "calling init:" in line]


def run_traced(ob, *args, **kw):
    r = ob.run(*args, env={"LD_DEBUG": "libs"}, **kw)
    libs = loaded_libraries(r.err)
    assert libs, "want LD_DEBUG's list of libraries, got:\n" + r.err[-2000:]
    return r, libs


def test_a_plain_send_without_auth_loads_no_lazy_library(ob, aiosmtpd_srv):
    srv = aiosmtpd_srv
    configure(ob, "aio", srv.port, "none")
    m = marker()
    r, libs = run_traced(ob, "send", "a@example.test", input=f"Subject: {m}\n\nx\n")
    assert r.code == 0, r.describe()[-2000:]
    assert any(m.encode() in (x[1] if isinstance(x, tuple) else x) for x in srv.messages()), \
        "the message did not reach aiosmtpd"
    # The list is the real one: SQLite is linked and must show.
    assert any("libsqlite3.so" in x for x in libs), libs
    unwanted = [x for x in libs if any(name in x for name in LAZY)]
    assert unwanted == [], f"a plain send without AUTH loaded {unwanted}; want none of {LAZY}"


@pytest.mark.parametrize("mech", ["plain", "login"])
def test_auth_plain_and_login_load_no_gnu_sasl(ob, aiosmtpd_srv, pki, mech):
    srv = aiosmtpd_srv
    configure(ob, "aio", srv.port, "starttls", "--auth", mech, user=srv.user,
              password=srv.password, ca=pki.ca_cert)
    m = marker()
    r, libs = run_traced(ob, "send", "a@example.test", input=f"Subject: {m}\n\nx\n")
    assert r.code == 0, r.describe()[-2000:]
    assert any(m.encode() in (x[1] if isinstance(x, tuple) else x) for x in srv.messages()), \
        f"the message did not reach aiosmtpd through AUTH {mech.upper()}"
    got = [x for x in libs if "libgsasl.so" in x]
    assert got == [], f"AUTH {mech.upper()} loaded {got}; want no GNU SASL"


def test_scram_loads_gnu_sasl_when_it_authenticates(ob, postfix, pki):
    configure(ob, "pf", postfix.submission_port, "starttls", "--auth", "scram-sha-256",
              user=postfix.user, password=postfix.password, ca=pki.ca_cert)
    r, libs = run_traced(ob, "send", "a@example.test", input=f"Subject: {marker()}\n\nx\n")
    assert r.code == 0, r.describe()[-2000:]
    got = [x for x in libs if "libgsasl.so" in x]
    assert got, f"want libgsasl loaded for SCRAM-SHA-256, got libraries {libs}"


@pytest.mark.parametrize("host, loads", [("b\u00fccher.example.test", True),
                                         ("mail.example.test", False)])
def test_only_an_international_host_name_loads_libidn2(ob, host, loads):
    r, libs = run_traced(ob, "server", "add", "intl", "--host", host, "--port", "2525",
                         "--security", "none")
    assert r.code == 0, r.describe()[-2000:]
    got = any("libidn2.so" in x for x in libs)
    assert got == loads, f"server add --host {host}: libidn2 loaded {got}, want {loads}"
    shown = ob.ok("server", "show", "intl").out
    assert host in shown, f"server show: want host {host}, got:\n{shown}"


def library_file(soname):
    """The file the dynamic loader would open for `soname`, resolved through its symlinks."""
    for d in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64"):
        p = os.path.join(d, soname)
        if os.path.exists(p):
            return os.path.realpath(p)
    pytest.fail(f"want {soname} installed to hide it, found none")


def run_without(ob, sonames, *args, input=None):
    """outbox ARGS in a mount namespace of its own where each of `sonames` is /dev/null, so
    dlopen fails on it as on a system without the package; the host's files are untouched."""
    hide = " && ".join(f"mount --bind /dev/null '{library_file(n)}'" for n in sonames)
    argv = ["unshare", "-m", "sh", "-c", hide + ' && exec "$@"', "sh", OUTBOX, *args]
    proc = subprocess.run(argv, input=input, capture_output=True, text=True, env=ob.env,
                          timeout=60)
    return Result(list(args), proc)


def test_without_libidn2_and_gnu_sasl_a_plain_send_works_and_the_rest_says_what_to_install(
        ob, aiosmtpd_srv, postfix, pki):
    srv = aiosmtpd_srv
    configure(ob, "aio", srv.port, "none")
    m = marker()
    r = run_without(ob, ["libidn2.so.0", "libgsasl.so.18"], "send", "a@example.test",
                    input=f"Subject: {m}\n\nx\n")
    assert r.code == 0, "a plain send needs neither library; got:\n" + r.describe()
    assert any(m.encode() in (x[1] if isinstance(x, tuple) else x) for x in srv.messages()), \
        "the message did not reach aiosmtpd"

    r = run_without(ob, ["libidn2.so.0"], "server", "add", "intl", "--host",
                    "b\u00fccher.example.test", "--port", "2525", "--security", "none")
    assert r.code == 78 and r.err.count("\n") == 1 and "install libidn2-0" in r.err, \
        "want exit 78 (EX_CONFIG) and a one-line error naming libidn2, got:\n" + r.describe()
    assert "not a valid" not in r.err, "a missing library is no fault of the name:\n" + r.describe()

    configure(ob, "tls", srv.port, "starttls", "--auth", "plain", user=srv.user,
              password=srv.password, ca=pki.ca_cert)
    m = marker()
    r = run_without(ob, ["libgsasl.so.18"], "send", "a@example.test", input=f"Subject: {m}\n\nx\n")
    assert r.code == 0, "AUTH PLAIN needs no GNU SASL; got:\n" + r.describe()
    assert any(m.encode() in (x[1] if isinstance(x, tuple) else x) for x in srv.messages()), \
        "the message did not reach aiosmtpd"

    configure(ob, "pf", postfix.submission_port, "starttls", "--auth", "scram-sha-256",
              user=postfix.user, password=postfix.password, ca=pki.ca_cert)
    r = run_without(ob, ["libgsasl.so.18"], "send", "a@example.test",
                    input=f"Subject: {marker()}\n\nx\n")
    assert r.code == 78 and r.err.count("\n") == 1 and "install libgsasl18" in r.err, \
        "want exit 78 (EX_CONFIG) and a one-line error naming GNU SASL, got:\n" + r.describe()
