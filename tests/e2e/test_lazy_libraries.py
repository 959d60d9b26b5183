# tests/e2e/test_lazy_libraries.py: what a command maps. A plain-SMTP send without AUTH must not
# load libidn2 or GNU SASL (nor libcurl, GMime, libsecret); the commands that need them still do.
import pytest

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


def test_auth_plain_loads_gnu_sasl_when_it_authenticates(ob, aiosmtpd_srv, pki):
    srv = aiosmtpd_srv
    configure(ob, "aio", srv.port, "starttls", "--auth", "plain", user=srv.user,
              password=srv.password, ca=pki.ca_cert)
    r, libs = run_traced(ob, "send", "a@example.test", input=f"Subject: {marker()}\n\nx\n")
    assert r.code == 0, r.describe()[-2000:]
    got = [x for x in libs if "libgsasl.so" in x]
    assert got, f"want libgsasl loaded for AUTH PLAIN, got libraries {libs}"


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
