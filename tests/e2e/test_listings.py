# tests/e2e/test_listings.py: what `outbox log`, `queue list` and `queue show` print for a person
# reading them, against a real Postfix: rows that stay readable with many recipients, the reply
# that explains why a message still waits, and outcome words the man page lists.
import os
import re

import pytest

from sendutil import configure, marker

MAN = os.path.join(os.path.dirname(__file__), "..", "..", "doc", "outbox.1.in")


def test_log_row_names_a_few_recipients_and_counts_the_rest(ob, postfix):
    configure(ob, "pf", postfix.plain_port, "none")
    rcpts = [f"r{i}@example.test" for i in range(500)]
    m = marker()
    ob.ok("send", *rcpts, input=f"Subject: {m}\n\nto many\n")
    out = ob.ok("log").out
    [row] = out.splitlines()[1:]
    short = row[:300] + ("..." if len(row) > 300 else "")
    assert len(row) < 300, f"got a row of {len(row)} characters ({short!r}), want one that fits a screen"
    assert "r0@example.test" in row and "+497 more" in row, f"got row {row!r}, want the first 3 and +497 more"
    [entry] = ob.ok("log", "--json").json()
    assert entry["recipients"] == rcpts, "the JSON keeps every recipient"


def list_rows(ob):
    lines = ob.ok("queue", "list").out.splitlines()
    return lines[0], lines[1:]


@pytest.mark.parametrize("then_run", [False, True], ids=["after-send", "after-queue-run"])
def test_queue_list_shows_why_the_pending_recipient_waits(ob, postfix, then_run):
    # Postfix takes ok@ (250 for the data) and answers later@ with 450: the row lists later@, so
    # its reply is the one that explains the row, not the 250 the message got for ok@; as `send`
    # left it, and as a queue run left it.
    configure(ob, "pf", postfix.plain_port, "none")
    m = marker()
    ob.ok("send", "ok@example.test", "later@example.test", input=f"Subject: {m}\n\nbody\n")
    postfix.wait_message(m)
    if then_run:
        ob.ok("queue", "run", "--all")
    head, [row] = list_rows(ob)
    assert "later@example.test" in row, row
    assert "450 4.2.1" in row, f"got row {row!r}, want later@'s 450 4.2.1 as the reason it waits"
    assert not re.search(r"\b250\b", row), f"got row {row!r}, want no 250 for a message still waiting"


def man_outcomes():
    """The attempt outcomes the man page lists under queue show."""
    with open(MAN) as f:
        text = f.read()
    found = re.search(r"attempt outcomes?:?(.*?)\n\.(SH|SS)", text, re.S | re.I)
    assert found, "the man page has no list of attempt outcomes"
    return found.group(1)


def test_queue_show_outcomes_are_in_the_man_page(ob, postfix):
    configure(ob, "pf", postfix.plain_port, "none")
    m = marker()
    ob.ok("send", "ok@example.test", "later@example.test", input=f"Subject: {m}\n\nbody\n")
    postfix.wait_message(m)
    ob.ok("queue", "run", "--all")
    [q] = ob.ok("queue", "list", "--json").json()
    shown = ob.ok("queue", "show", str(q["id"]), "--json").json()
    listed = man_outcomes()
    for attempt in shown["log"]:
        assert re.search(r"\b" + attempt["outcome"] + r"\b", listed), \
            f"outcome {attempt['outcome']!r} of queue show is not in the man page's list: {listed!r}"



def man_text():
    with open(MAN) as f:
        return f.read()


def test_man_synopsis_of_queue_run_has_every_option(ob):
    synopsis = man_text().split(".SH DESCRIPTION")[0]
    block = synopsis.split(".B outbox queue run", 1)[1].split(".br", 1)[0]
    for option in ("\\-\\-all", "\\-\\-server", "\\-\\-connections", "\\-v", "\\-\\-watch"):
        assert option in block, f"queue run in the SYNOPSIS: got {block!r}, want {option}"
    help_text = ob.ok("queue", "--help").out
    assert "--connections N" in help_text, help_text


def test_man_says_pipelining_across_messages_holds_over_data_only():
    text = " ".join(man_text().split())
    assert "BDAT" in text.split('SS "outbox queue run')[1].split(".SS")[0], \
        "queue run's section must say that with BDAT each message costs one round trip"


def test_queue_list_row_is_not_explained_by_a_refused_recipient(ob, postfix):
    # reject@ gets 550 (refused for good), later@ 450: the message waits for later@ alone, so its
    # row shows later@'s 450, not the 550 that comes first in the recipient order.
    configure(ob, "pf", postfix.plain_port, "none")
    m = marker()
    r = ob.run("send", "reject@example.test", "later@example.test", "ok@example.test",
               input=f"Subject: {m}\n\nbody\n")
    postfix.wait_message(m)
    head, [row] = list_rows(ob)
    assert "450 4.2.1" in row, f"got row {row!r}, want later@'s 450 4.2.1 as the reason it waits\n" + r.describe()
    assert "550" not in row, f"got row {row!r}: a refused recipient's 550 is not why the message waits"
