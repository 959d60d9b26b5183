# tests/e2e/test_clients_git.py: git with outbox as its sendmail: a 3-patch series by git
# send-email arrives threaded and applies with git am; a format-patch file piped to sendmail.
import os
import re

import pytest

from clientrun import ACCOUNT, clients_for, expect

AUTHOR = f"Test Sender <{ACCOUNT}>"


@pytest.fixture
def clients(ob, aiosmtpd_srv, pki, tmp_path):
    c = clients_for(ob, aiosmtpd_srv, pki, tmp_path)
    c.env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "Test Sender",
                  "GIT_AUTHOR_EMAIL": ACCOUNT, "GIT_COMMITTER_NAME": "Test Sender",
                  "GIT_COMMITTER_EMAIL": ACCOUNT})
    return c


def git(clients, repo, *args, **kw):
    return clients.ok(["git", "-C", repo, *args], **kw).out


@pytest.fixture
def repo(clients):
    """A repository with a base commit and three changes on top of it."""
    path = os.path.join(clients.home, "project")
    clients.ok(["git", "init", "-q", "-b", "main", path])
    clients.write("project/notes.txt", "base\n")
    git(clients, path, "add", "notes.txt")
    git(clients, path, "commit", "-q", "-m", "base")
    for i in range(1, 4):
        with open(os.path.join(path, "notes.txt"), "a") as f:
            f.write(f"change {i}: a line with trailing spaces   \n\tand a tab\n")
        git(clients, path, "commit", "-q", "-a", "-m", f"change {i}", "-m", f"Why change {i} is made.")
    return path


def split_patch(text):
    """(headers by lower-case name, body) of a format-patch file; its first line, the mbox
    "From <sha>" line, is not a header."""
    head, _, body = text.partition("\n\n")
    headers = {}
    for line in head.splitlines()[1:]:
        name, _, value = line.partition(": ")
        headers[name.lower()] = value
    return headers, body


def test_git_send_email_series_threaded(clients, repo):
    outdir = os.path.join(clients.home, "series")
    git(clients, repo, "format-patch", "-q", "--cover-letter", "--thread", "-3", "-o", outdir)
    patches = sorted(os.path.join(outdir, n) for n in os.listdir(outdir))
    # The cover letter's placeholders, filled in as its author would before sending.
    with open(patches[0]) as f:
        cover = f.read().replace("*** SUBJECT HERE ***", "Three changes").replace(
            "*** BLURB HERE ***", "What the series does.")
    with open(patches[0], "w") as f:
        f.write(cover)

    clients.ok(["git", "-C", repo, "send-email", f"--smtp-server={clients.sendmail}",
                "--confirm=never", "--suppress-cc=all", "--no-validate", f"--from={AUTHOR}",
                "--to=list@example.test", "--cc=reviewer@example.test", *patches])
    got = clients.received(4)

    sent = []
    for p in patches:
        with open(p) as f:
            sent.append(split_patch(f.read()))
    cover_id = sent[0][0]["message-id"]
    expect([g.header("Subject") for g in got],
           ["[PATCH 0/3] Three changes", "[PATCH 1/3] change 1", "[PATCH 2/3] change 2",
            "[PATCH 3/3] change 3"], "subjects, in the order sent", clients)
    for i, (g, (headers, body)) in enumerate(zip(got, sent)):
        what = f"message {i}"
        expect(g.mail_from, ACCOUNT, f"{what}: envelope sender", clients)
        expect(g.rcpt_tos, ["list@example.test", "reviewer@example.test"],
               f"{what}: envelope recipients", clients)
        expect(g.header("Message-ID"), headers["message-id"], f"{what}: Message-ID", clients)
        if i > 0:
            expect(g.header("In-Reply-To"), cover_id, f"{what}: In-Reply-To (the thread)", clients)
            expect(g.header("References"), cover_id, f"{what}: References (the thread)", clients)
        expect(g.text(), body, f"{what}: body as in the patch file", clients)

    # What a maintainer does with it: the three patches apply and give the same tree.
    clone = os.path.join(clients.home, "maintainer")
    clients.ok(["git", "clone", "-q", repo, clone])
    git(clients, clone, "reset", "-q", "--hard", "HEAD~3")
    maildir = os.path.join(clients.home, "inbox")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(maildir, sub))
    for i, g in enumerate(got[1:], 1):
        with open(os.path.join(maildir, "cur", f"{i}"), "wb") as f:
            f.write(g.raw.replace(b"\r\n", b"\n"))
    git(clients, clone, "am", "-q", maildir)
    for what, args in [("the tree", ["rev-parse", "HEAD^{tree}"]),
                       ("authors and subjects", ["log", "--format=%an <%ae>|%s", "-3"])]:
        expect(git(clients, clone, *args), git(clients, repo, *args),
               f"{what} after git am of the received patches", clients)


@pytest.mark.parametrize("args", [["-t", "-i"], ["-i", "list@example.test"]],
                         ids=["with-t", "recipient-named"])
def test_format_patch_piped_to_sendmail(clients, repo, args):
    # A format-patch file starts with an mbox line "From <sha> <date>"; Postfix's sendmail drops
    # it, so the headers after it are the message's headers.
    patch = git(clients, repo, "format-patch", "-1", "--stdout", "--to=list@example.test")
    first = patch.splitlines()[0]
    assert re.fullmatch(r"From [0-9a-f]{40} Mon Sep 17 00:00:00 2001", first), first
    clients.ok([clients.sendmail, *args], input=patch)
    (got,) = clients.received(1)
    _, body = split_patch(patch)
    expect(got.rcpt_tos, ["list@example.test"], "envelope recipients", clients)
    expect(got.header("Subject"), "[PATCH] change 3", "Subject", clients)
    expect(got.header("From"), AUTHOR, "From", clients)
    expect(got.raw.split(b"\r\n")[0].startswith(b"From "), False,
           f"the mbox line {first!r} left at the top", clients)
    expect(got.text(), body, "body as in the patch file", clients)

