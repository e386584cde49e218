"""Server notices cannot be forged (issue 13, point 4): they start with
"*** ", which no member's line can, so a /me that reads like "left (quit:
bye)" stays an action for nc users and for the full screen's member count.
And a client the server disconnects says why and exits 1; /quit and a
server shutdown exit 0."""

import re
import time

from harness import HichatConnect, Netcat, Server, check
from test_tui import Screen, tui_with_peer

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


def flood_server():
    return Server("--msg-rate", "1", "--msg-burst", "1", "--flood-timeout", "1")


FLOODED = "hichat: disconnected by the server: flooding: held back for 1 s; disconnecting"


def test_pipe_client_disconnected_for_flooding_says_why_and_exits_1():
    srv = flood_server()
    c = HichatConnect(srv.port)
    c.greeting()
    for i in range(20):  # stdin stays open: the server ends it, not we
        c.sendline("line %d" % i)
    status = c.wait(10)
    check(status == 1, "exit 1, got %s; stderr %r" % (status, c.stderr()))
    check(FLOODED in c.stderr(), "the reason on stderr: %r" % c.stderr())


def test_pipe_client_line_timeout_says_why_and_exits_1():
    srv = Server("--line-timeout", "1")
    c = HichatConnect(srv.port)
    c.greeting()
    # A byte at a time, never a pause long enough to count as a line's end.
    deadline = time.monotonic() + 10
    while c.alive() and time.monotonic() < deadline:
        try:
            c.send("x")
        except OSError:
            break
        time.sleep(0.05)
    status = c.wait(5)
    check(status == 1, "exit 1, got %s; stderr %r" % (status, c.stderr()))
    check("hichat: disconnected by the server: line not finished within 1 s; closing"
          in c.stderr(), "the reason on stderr: %r" % c.stderr())


def test_pipe_client_quit_and_server_shutdown_exit_0():
    srv = Server()
    q = HichatConnect(srv.port)
    q.greeting()
    q.sendline("/quit")
    q.expect("*** bye")
    check(q.wait(5) == 0, "/quit: exit 0; stderr %r" % q.stderr())
    check("disconnected" not in q.stderr(), "nothing said: %r" % q.stderr())
    s = HichatConnect(srv.port)
    s.greeting()
    srv.stop()
    s.expect("*** server shutting down")
    check(s.wait(5) == 0, "server shutdown: exit 0; stderr %r" % s.stderr())
    check("disconnected" not in s.stderr(), "nothing said: %r" % s.stderr())


def test_pipe_client_reconnect_shows_the_reason():
    srv = flood_server()
    c = HichatConnect(srv.port, extra=["--reconnect"])
    c.greeting()
    for i in range(20):
        c.sendline("line %d" % i)
    c.expect(re.compile(r"^\*\*\* welcome to hichat, "), timeout=10)  # in again
    check(re.search(r"hichat: disconnected by the server: flooding: held back for 1 s; "
                    r"disconnecting; trying again in [\d.]+ s", c.stderr()),
          "the reason on stderr: %r" % c.stderr())


def test_line_mode_client_disconnected_says_why_and_exits_1():
    srv = flood_server()
    t = Screen(srv.port, "--no-tui", "--nick", "fast")
    t.wait_until(lambda s: "is now known as fast" in s, "joined")
    for i in range(15):
        t.type_line("line %d" % i)
    t.wait_until(lambda s: "EXIT=1" in s, "the line mode exits 1", timeout=10)
    check(FLOODED in t.stderr_text(), "the reason on stderr: %r" % t.stderr_text())


def test_tui_disconnected_shows_why_and_exits_1_after():
    srv = flood_server()
    t = Screen(srv.port, "--nick", "fast")
    t.wait_status(r"\| fast \| \d+ members? \| connected")
    for i in range(15):
        t.type_line("line %d" % i)
    t.wait_status(r"\| disconnected", timeout=10)
    t.wait_until(lambda s: "disconnected by the server: flooding" in s, "the reason shown")
    t.type_line("/quit")
    t.wait_until(lambda s: "EXIT=1" in s, "leaving after the server's disconnect: status 1")
    check(FLOODED in t.stderr_text(), "the reason on stderr too: %r" % t.stderr_text())
