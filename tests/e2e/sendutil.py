# tests/e2e/sendutil.py: helpers shared by the sending tests: configuring outbox for a test
# server, building messages with a unique marker, and reading what a server delivered.
import email
import secrets


def marker():
    """A token that makes one test's message easy to find among others."""
    return "t-" + secrets.token_hex(8)


def message(subject, body="hello\n", extra_headers=""):
    return f"Subject: {subject}\n{extra_headers}\n{body}"


def configure(ob, name, port, security, *extra, user=None, password=None, ca=None,
              address="sender@example.test"):
    """Add server `name` on 127.0.0.1 and an account for `address` that uses it."""
    args = ["server", "add", name, "--host", "127.0.0.1", "--port", str(port),
            "--security", security, "--timeout", "10", *extra]
    if ca:
        args += ["--tls-ca", ca]
    if user:
        args += ["--user", user, "--password-stdin"]
    ob.ok(*args, input=password)
    r = ob.run("account", "show", address)
    if r.code != 0:
        ob.ok("account", "add", address, "--server", name, "--name", "Test Sender")
    else:
        ob.ok("account", "set-server", address, name)


def body_of(raw):
    """The body of a delivered message (bytes after the blank line), line ends made LF."""
    text = raw.replace(b"\r\n", b"\n")
    head, _, body = text.partition(b"\n\n")
    return body


def headers_of(raw):
    return email.message_from_bytes(raw.replace(b"\r\n", b"\n"))
