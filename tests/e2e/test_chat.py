"""Basic chat behaviour: delivery, commands, framing, seed-style programs."""

import os
import re
import signal
import sys
import time

from harness import (E2E_DIR, HichatConnect, Netcat, ProcClient, PyProc, Server,
                     assert_no_line_all, check, joined_clients)


def _no_own_echo(client, own_line, within=0.3):
    client.assert_no_line(own_line, within)
    check(own_line not in client.history,
          "%s got its own message back: %r" % (client.name, own_line))


def test_three_clients_chat_nick_collision_msg_who_quit():
    srv = Server()
    # alice and bob: `hichat connect --nick`; the third member: plain nc.
    a = HichatConnect(srv.port, nick="alice")
    ga = a.greeting()
    a.expect("*** %s is now known as alice" % ga)
    srv.wait_log(r"^connect 127\.0\.0\.1:\d+ %s$" % re.escape(ga))

    b = HichatConnect(srv.port, nick="bob")
    gb = b.greeting()
    b.expect("*** %s is now known as bob" % gb)
    a.expect("*** %s joined" % gb)
    a.expect("*** %s is now known as bob" % gb)

    c = Netcat(srv.port)
    gc = c.greeting()
    check(len({ga, gb, gc}) == 3, "default nicks not unique: %s %s %s" % (ga, gb, gc))
    a.expect("*** %s joined" % gc)
    b.expect("*** %s joined" % gc)
    c.sendline("/nick carol")
    for m in (a, b, c):
        m.expect("*** %s is now known as carol" % gc)

    # every line reaches the other two as `<nick> text`, not the sender
    members = {"alice": a, "bob": b, "carol": c}
    for nick, sender in members.items():
        text = "hello from %s, one two three" % nick
        sender.sendline(text)
        for other_nick, other in members.items():
            if other is not sender:
                other.expect("<%s> %s" % (nick, text))
        _no_own_echo(sender, "<%s> %s" % (nick, text))

    # /me
    a.sendline("/me waves")
    b.expect("* alice waves")
    c.expect("* alice waves")

    # nick collision, ignoring ASCII case, both ways
    b.sendline("/nick ALICE")
    b.expect(re.compile(r"^! .*in use"))
    c.sendline("/nick Bob")
    c.expect(re.compile(r"^! .*in use"))
    assert_no_line_all((a, b, c), re.compile(r"known as (ALICE|Bob)$"), 0.3)
    # /nick without argument tells you who you are (still bob)
    b.sendline("/nick")
    b.expect("*** you are bob")

    # private message: only the target gets it
    a.sendline("/msg bob psst, a secret")
    b.expect("*alice* psst, a secret")
    a.expect("-> *bob* psst, a secret")
    c.assert_no_line(re.compile("psst"), 0.4)
    b.assert_no_line(re.compile("psst"), 0.0)

    # /who lists everyone, the server's own member included
    c.sendline("/who")
    m = c.expect_match(r"^\*\*\* (\d+) members: (.*)$")
    names = set(n.strip() for n in m.group(2).split(","))
    check(m.group(1) == "4" and names == {"alice", "bob", "carol", "server"},
          "/who reply %r, expected 4 members alice, bob, carol, server" % m.group(0))

    # /quit: announced exactly once, quitter's connection closes, connect exits 0
    b.sendline("/quit gotta go")
    b.expect("*** bye")
    b.expect_eof(3)
    rc = b.wait(3)
    check(rc == 0, "hichat connect (bob) exited %s after /quit, expected 0" % rc)
    for m in (a, c):
        m.expect("*** bob left (quit: gotta go)")
    assert_no_line_all((a, c), re.compile(r"^\*\*\* bob left"), 0.5)
    srv.wait_log(r"^disconnect 127\.0\.0\.1:\d+ bob \(quit: gotta go\)$")

    # hichat connect: EOF on stdin -> shutdown(SHUT_WR) -> server closes -> exit 0
    a.close_stdin()
    rc = a.wait(3)
    check(rc == 0, "hichat connect (alice) exited %s after stdin EOF, expected 0; stderr %r"
          % (rc, a.stderr()))
    c.expect("*** alice left (connection closed)")
    c.assert_no_line(re.compile(r"^\*\*\* alice left"), 0.3)
    srv.wait_log(r"^disconnect 127\.0\.0\.1:\d+ alice \(connection closed\)$")

    # the server's terminal is a member: room traffic on its stdout, no private messages
    out = srv.stdout_lines()
    for nick in members:
        line = "<%s> hello from %s, one two three" % (nick, nick)
        check(line in out, "server stdout lacks %r; stdout: %r" % (line, out[-10:]))
    check(not any("psst" in l for l in out), "private message leaked to server stdout: %r" % out)
    check(srv.alive(), "server died")
    c.kill()  # nc (stdin open) would keep its end open; the server waits up to 2 s for it
    c.wait(3)
    check(srv.stop() == 0, "server exit status %s, expected 0" % srv.returncode)


def test_command_errors_are_answered_not_ignored():
    srv = Server()
    a, b = joined_clients(srv, 2)
    a.sendline("/frobnicate now")
    a.expect('! unknown command "/frobnicate"; type /help for the list')
    a.sendline("/MSG")
    a.expect(re.compile(r"^! usage: "))
    a.sendline("/nick a b")
    a.expect(re.compile(r'^! invalid nick "a b"'))
    a.sendline("/nick <x>")
    a.expect(re.compile(r'^! invalid nick "<x>"'))
    a.sendline("/msg nosuchnick hello")
    a.expect(re.compile(r"^! "))
    a.sendline("/help")
    a.expect(re.compile(r"^\*\*\* .*/msg"))
    # commands are case-insensitive
    a.sendline("/NICK Zed")
    a.expect("*** %s is now known as Zed" % a.nick)
    b.expect("*** %s is now known as Zed" % a.nick)
    # //text sends the literal /text; empty lines are ignored
    a.send(b"\n\r\n//slash text\n")
    b.expect("<Zed> /slash text")
    b.assert_no_line(re.compile(r"^<Zed> $|^<Zed>$"), 0.3)
    # none of the errors leaked to the other member
    check(not any(l.startswith("!") for l in b.history), "b saw errors meant for a: %r" % b.history)


def test_greeting_counts_serve_nick_is_a_member_quit_without_reason():
    srv = Server("--nick", "boss")
    a = srv.client()
    a.expect(re.compile(r"^\*\*\* welcome to hichat, guest\d+ \(2 members here\); type /help for commands$"))
    b = srv.client()
    b.expect(re.compile(r"^\*\*\* welcome to hichat, guest\d+ \(3 members here\); type /help for commands$"))
    a.nick = a.history[0].split()[4]
    b.nick = b.history[0].split()[4]
    a.expect("*** %s joined" % b.nick)
    # the console's nick (serve --nick) is taken, ignoring case
    a.sendline("/nick BOSS")
    a.expect(re.compile(r'^! nick "BOSS" is in use$'))
    a.sendline("/who")
    m = a.expect_match(r"^\*\*\* 3 members: (.*)$")
    check(set(x.strip() for x in m.group(1).split(",")) == {"boss", a.nick, b.nick},
          "/who: %r" % m.group(0))
    # a private message to the console shows up on the server's stdout
    a.sendline("/msg boss hello console")
    a.expect("-> *boss* hello console")
    srv.wait_log(r"^\*%s\* hello console$" % re.escape(a.nick), 3, stream="stdout")
    b.assert_no_line(re.compile("hello console"), 0.2)
    # /quit without a reason
    b.sendline("/QUIT")
    b.expect("*** bye")
    b.expect_eof(3)
    a.expect("*** %s left (quit)" % b.nick)
    srv.wait_log(r"^\*\*\* %s left \(quit\)$" % re.escape(b.nick), 3, stream="stdout")


def test_line_sent_byte_by_byte_is_delivered_once_whole():
    srv = Server()
    s, r = joined_clients(srv, 2)  # TCP_NODELAY is set by Client
    msg = "byte by byte: héllo 你好 😀 end"
    data = msg.encode() + b"\n"
    gaps = []
    last = time.monotonic()
    for i in range(len(data)):
        s.send(data[i:i + 1])
        time.sleep(0.02)
        now = time.monotonic()
        gaps.append(now - last)
        last = now
    check(max(gaps) < 0.25, "test itself too slow: a gap of %.3fs between bytes" % max(gaps))
    lines = r.lines_until_quiet(quiet=0.7, timeout=5)
    from_s = [l for l in lines if l.startswith("<%s>" % s.nick)]
    check(from_s == ["<%s> %s" % (s.nick, msg)],
          "expected exactly one whole line, got %r" % from_s)
    _no_own_echo(s, "<%s> %s" % (s.nick, msg), 0.3)


def test_500_lines_in_one_sendall_arrive_all_in_order():
    srv = Server("--msg-rate", "0")  # framing, not flood control
    s, r = joined_clients(srv, 2)
    n = 500
    s.send(b"".join(b"burst line %04d\n" % i for i in range(n)))
    got = r.collect(re.compile(r"^<%s> " % re.escape(s.nick)), n, timeout=10)
    expected = ["<%s> burst line %04d" % (s.nick, i) for i in range(n)]
    if got != expected:
        bad = next(i for i, (x, y) in enumerate(zip(got, expected)) if x != y)
        raise AssertionError("line %d: got %r, expected %r" % (bad, got[bad], expected[bad]))
    r.assert_no_line(re.compile(r"^<%s> " % re.escape(s.nick)), 0.4)


# A seed-style process that connects, prints the greeting, then on "go" sends
# a partial line (no newline), prints "sent" and waits to be killed.
_PARTIAL_SENDER = r"""
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
buf = b""
while b"\n" not in buf:
    buf += s.recv(4096)
print(buf.split(b"\n")[0].decode(), flush=True)
sys.stdin.readline()
s.send(b"partial secret words")
print("sent", flush=True)
time.sleep(60)
"""


def test_sigkilled_client_mid_line_partial_text_never_delivered():
    srv = Server()
    r = srv.client()
    r.greeting()

    # 1. a python process that sent a partial line, SIGKILLed ~20 ms later
    k = ProcClient([sys.executable, "-u", "-c", _PARTIAL_SENDER, str(srv.port)], name="partial-py")
    kn = k.greeting()
    r.expect("*** %s joined" % kn)
    k.sendline("go")
    k.expect("sent", 3)
    time.sleep(0.02)
    k.kill(signal.SIGKILL)
    k.wait(3)
    r.expect(re.compile(r"^\*\*\* %s left \(" % re.escape(kn)))
    r.assert_no_line(re.compile("partial|secret"), 0.6)  # past the 300 ms pause

    # 2. nc that got a partial line on stdin, SIGKILLed ~30 ms later
    n = Netcat(srv.port)
    nn = n.greeting()
    r.expect("*** %s joined" % nn)
    n.send(b"nc partial secret")
    time.sleep(0.03)
    n.kill(signal.SIGKILL)
    n.wait(3)

    r.expect(re.compile(r"^\*\*\* %s left \(" % re.escape(nn)))
    r.assert_no_line(re.compile("partial|secret"), 1.0)  # well past the 300 ms pause
    hist = r.history
    check(not any("partial" in l or "secret" in l for l in hist),
          "partial line delivered: %r" % [l for l in hist if "partial" in l])
    for nick in (kn, nn):
        cnt = sum(1 for l in hist if l.startswith("*** %s left" % nick))
        check(cnt == 1, "'*** %s left' seen %d times: %r" % (nick, cnt, hist))
    check(not any("partial" in l for l in srv.stdout_lines()), "partial line on server stdout")
    check(srv.alive(), "server died")


def test_seed_client_hello_without_newline_reaches_member_after_quiet_pause():
    srv = Server()
    r = srv.client()
    r.greeting()
    sc = PyProc(os.path.join(E2E_DIR, "seed_client.py"), "127.0.0.1", srv.port)
    nick = r.expect_match(r"^\*\*\* (\S+) joined$").group(1)
    t0 = time.monotonic()
    sc.sendline("hello")  # the seed sends b"hello", no newline
    r.expect("<%s> hello" % nick, timeout=3)
    dt = time.monotonic() - t0
    check(dt < 2.0, "took %.2fs to deliver after the quiet pause" % dt)
    r.assert_no_line(re.compile(r"^<%s> " % re.escape(nick)), 0.5)
    sc.expect(re.compile(r"welcome to hichat"), 3)  # its s.recv(1024) got the greeting
    sc.close_stdin()
    check(sc.wait(3) == 0, "seed client failed: %r" % sc.stderr())
    r.expect("*** %s left (connection closed)" % nick)


def test_hichat_connect_prints_seed_server_hi_without_newline():
    ss = PyProc(os.path.join(E2E_DIR, "seed_server.py"), 0)
    port = int(ss.expect_match(r"^port (\d+)$").group(1))
    hc = HichatConnect(port)
    t0 = time.monotonic()
    hc.expect("hi", timeout=3)
    check(time.monotonic() - t0 < 2.0, "'hi' took too long")
    hc.sendline("hello")
    ss.expect(re.compile(r"^hello$"), 3)
    hc.close_stdin()
    check(ss.wait(3) == 0, "seed server failed: %r" % ss.stderr())
    rc = hc.wait(3)
    check(rc == 0, "hichat connect exited %s after the server closed; stderr %r" % (rc, hc.stderr()))
    check(hc.history.count("hi") == 1, "stdout of hichat connect: %r" % hc.history)


def test_a_crowd_past_announce_max_hears_no_joins_or_leaves_but_who_tells():
    # The room is the console plus members; --announce-max 3 means joins and
    # leaves are told while at most 3 are in it.
    srv = Server("--announce-max", "3")
    a, b = joined_clients(srv, 2)  # b's join is told: 3 members with the console
    c = srv.client()
    c.greeting()  # the fourth: a crowd now
    a.assert_no_line(re.compile("joined"), 0.5)
    b.assert_no_line(re.compile("joined"), 0.1)
    a.sendline("/who")
    m = a.expect_match(r"^\*\*\* 4 members: (.*)$")
    check(c.nick in m.group(1), m.group(0))
    # Talk still flows to everyone.
    c.sendline("hello crowd")
    a.expect("<%s> hello crowd" % c.nick)
    b.expect("<%s> hello crowd" % c.nick)
    # A leave is told when the room it leaves is small again: b's, heard
    # joining, is (3 remain); c's join was never told, so neither is its leave.
    b.sendline("/quit")
    b.expect_eof(3)
    a.expect("*** %s left (quit)" % b.nick)
    c.sendline("/quit")
    c.expect_eof(3)
    a.assert_no_line(re.compile("%s left" % re.escape(c.nick)), 0.5)
    srv.wait_log(r"^disconnect .* %s \(quit\)$" % re.escape(c.nick))
    # Back to two: a newcomer is announced again, and its leave too.
    d = srv.client()
    d.greeting()
    a.expect("*** %s joined" % d.nick)
    d.sendline("/quit")
    a.expect("*** %s left (quit)" % d.nick)


def test_help_lists_every_command_and_usage_errors_name_the_arguments():
    srv = Server()
    a = srv.client()
    a.greeting()
    a.sendline("/help")
    # Rooms added /join, /part, /switch, /rooms and /topic, /who and /msg
    # take a room, the column grew for "/part [#ROOM] [REASON]", and a plain
    # line goes to the current room (issue 14).
    lines = [a.read_line() for _ in range(15)]
    check(lines == [
        "*** commands:",
        "***   /join #ROOM            join a room (making it if need be) and talk there",
        "***   /part [#ROOM] [REASON] leave a room (default: the current one)",
        "***   /switch #ROOM          talk in another of your rooms",
        "***   /rooms                 list the rooms",
        "***   /topic [#ROOM] [TEXT]  show or set a room's topic (- clears it)",
        "***   /who [#ROOM]           list who is in a room",
        "***   /nick NAME             change your nick (1-32 bytes, no spaces)",
        "***   /msg NICK|#ROOM TEXT   send TEXT to NICK alone, or to a room of yours",
        "***   /me ACTION             tell the room what you are doing",
        "***   /quit [REASON]         leave",
        "***   /help                  this list",
        '***   /hello                 the server answers "*** hi" (hichat hello)',
        "***   //TEXT                 send a message that starts with /",
        "*** anything else you type goes to your current room"], "the list: %r" % lines)
    for cmd, usage in (("/me", "! usage: /me ACTION"), ("/MSG", "! usage: /msg NICK|#ROOM TEXT"),
                       ("/msg bob", "! usage: /msg NICK|#ROOM TEXT"), ("/join", "! usage: /join #ROOM")):
        a.sendline(cmd)
        a.expect(usage)
    a.sendline("/Hello")
    a.expect("*** hi")
