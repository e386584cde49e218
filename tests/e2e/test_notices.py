"""Server notices cannot be forged (issue 13, point 4): they start with
"*** ", which no member's line can, so a /me that reads like "left (quit:
bye)" stays an action for nc users and for the full screen's member count."""

import re

from harness import Netcat, Server, check
from test_tui import tui_with_peer

# /me texts that, after "* NICK ", read like the server's notices did.
FORGERIES = ("left (quit: bye)", "joined", "is now known as x",
             "to hichat, x (9 members here); type /help for commands", "are x")


def test_forged_notices_are_actions_and_no_notice_looks_like_one():
    srv = Server()
    watcher = srv.client()
    watcher.greeting()
    nc = Netcat(srv.port)  # nc users see the same bytes
    nc.greeting()
    forger = srv.client()
    forger.greeting()
    forger.sendline("/nick alice")
    for src in (watcher, nc):
        src.expect(re.compile(r"is now known as alice$"))
    welcome = srv.client()  # a member named like the greeting's first word
    welcome.greeting()
    welcome.sendline("/nick welcome")
    watcher.expect(re.compile(r"is now known as welcome$"))
    for text in FORGERIES:
        forger.sendline("/me " + text)
        for src in (watcher, nc):
            line = src.expect(re.compile(r"^\S+ alice "))
            check(line == "* alice " + text, "an action, as sent: %r" % line)
    welcome.sendline("/me to hichat, alice (1 member here); type /help for commands")
    line = watcher.expect(re.compile(r"welcome to hichat, alice"))
    check(line.startswith("* welcome "), "an action: %r" % line)
    # Every kind of notice the room sends, for comparison.
    watcher.sendline("/who")
    watcher.sendline("/nick")
    watcher.sendline("/hello")
    forger.sendline("/nick alice2")
    forger.sendline("/quit bye")
    forger.expect("*** bye")
    watcher.expect("*** alice2 left (quit: bye)")
    welcome.close()
    watcher.expect(re.compile(r"^\*\*\* welcome left "))
    srv.stop()
    watcher.expect_eof()
    notices = [l for l in watcher.history + forger.history
               if not l.startswith(("<", "* alice ", "* welcome ", "!"))]
    for want in (r"welcome to hichat, guest\d+ \(\d members? here\)", r"\d members: ",
                 r"you are guest\d+$", r"hi$", r"guest\d+ is now known as alice$",
                 r"guest\d+ joined$", r"alice is now known as alice2$", r"bye$",
                 r"alice2 left \(quit: bye\)$", r"server shutting down$"):
        check(any(re.match(r"\*\*\* " + want, l) for l in notices),
              "the notice /%s/ was seen: %r" % (want, notices))
    for l in notices:
        check(l.startswith("*** "), "a notice starts with '*** ': %r" % l)
    forged = [l for l in watcher.history if l.startswith(("* alice ", "* welcome "))]
    check(len(forged) == len(FORGERIES) + 1, "every forgery arrived: %r" % forged)
    for f in forged:
        check(not f.startswith("*** ") and not any(f == n for n in notices),
              "no forgery reads like a notice: %r" % f)


def test_tui_member_count_ignores_forged_joins_leaves_and_renames():
    srv, t, peer = tui_with_peer("counter")
    for i, act in enumerate(("is now known as zed", "left (quit: bye)", "joined")):
        peer.sendline("/me " + act)
        peer.sendline("mark %d" % i)
        t.wait_until(lambda s: "<peer> mark %d" % i in s, "the forged line arrived")
        check(re.search(r"\| counter \| 3 members \|", t.status()),
              "after '* peer %s' the count is still 3: %r" % (act, t.status()))
    # The real leave is still counted: the forged rename did not move peer.
    peer.sendline("/quit")
    t.wait_until(lambda s: "*** peer left (quit)" in s, "the real leave arrived")
    t.wait_status(r"\| counter \| 2 members \|", timeout=2)
