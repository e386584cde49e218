"""Rooms in the full-screen client (issue 14), driven inside tmux: a line
about a room lands in that room's scroll-back without its tag, the status
line lists the rooms with the one in view and unread counts, Alt-1..9 and
Alt-Left/Right switch the view and the server's current room, each room
keeps its own scroll position, and /part takes a room away. The line mode
passes tagged lines through as they came."""

import re
import time

from harness import HICHAT, ProcClient, Server, check
from test_tui import STAMP, Screen


def peer_in(srv, nick, *rooms):
    """A raw member named nick, in the default room and then each of rooms."""
    c = srv.client()
    c.greeting()
    c.sendline("/nick " + nick)
    c.expect(re.compile(r"is now known as %s$" % re.escape(nick)))
    for r in rooms:
        c.sendline("/join " + r)
        c.expect(re.compile(r"you joined %s " % re.escape(r)))
    return c


def tui_in_lobby(srv, nick, *extra, **kw):
    t = Screen(srv.port, "--nick", nick, *extra, **kw)
    t.wait_status(r"\| %s \| 2 members \| connected" % nick)  # and the console
    return t


def shown(t, text):
    """Whether a message row of t reads exactly STAMP + text."""
    rx = re.compile(STAMP + re.escape(text) + "$")
    return any(rx.fullmatch(r) for r in t.messages())


def test_tui_rooms_tagged_lines_routed_unread_counted_alt_digit_switches():
    srv = Server()
    t = tui_in_lobby(srv, "me")
    lobby = peer_in(srv, "lob")
    t.wait_status(r"\| 3 members \|")
    t.type_line("/join #rust")
    # the first room learnt its name (a hidden /topic), the new one is in view
    t.wait_status(r"\| me \| 1:#lobby \[2:#rust\] \| 1 member \| connected")
    t.wait_until(lambda s: "*** you joined #rust (1 member here)" in s, "the join shown")
    check("topic" not in t.screen(), "the hidden /topic's answer is not shown:\n" + t.screen())
    rust = peer_in(srv, "rusty", "#rust")
    t.wait_status(r"\[2:#rust\] \| 2 members \|")
    t.wait_until(lambda _: shown(t, "*** rusty joined"), "a join in #rust, without its tag")
    rust.sendline("fearless")
    t.wait_until(lambda _: shown(t, "<rusty> fearless"), "#rust's message, untagged, in view")
    # a line about the lobby: not shown here, counted as unread
    lobby.sendline("psst me")
    lobby.sendline("anyone?")
    t.wait_status(r"\| 1:#lobby\(2!\) \[2:#rust\] \|")
    check(not any("psst" in r for r in t.messages()), "the lobby's line is not in #rust's view")
    # typed lines go to the current room
    t.type_line("in rust")
    rust.expect("#rust <me> in rust")
    t.wait_until(lambda _: shown(t, "<me> in rust"), "your own line shown in #rust")
    # Alt-1: the lobby in view, its unread seen, the server told
    t.key("M-1")
    t.wait_status(r"\| \[1:#lobby\] 2:#rust \| 4 members \|")  # rusty is here too
    t.wait_until(lambda _: shown(t, "<lob> psst me") and shown(t, "<lob> anyone?"),
                 "the lobby's scroll-back, untagged")
    check(not any("fearless" in r for r in t.messages()), "#rust's lines are not in the lobby")
    t.type_line("back in the lobby")
    lobby.expect("<me> back in the lobby")
    rust.expect("#lobby <me> back in the lobby")  # rusty is in both
    # Alt-2, and a private line lands where one looks
    t.key("M-2")
    t.wait_status(r"\| 1:#lobby \[2:#rust\] \|")
    t.wait_until(lambda _: shown(t, "<rusty> fearless"), "#rust's scroll-back is back")
    lobby.sendline("/msg me hush")
    t.wait_until(lambda _: shown(t, "*lob* hush"), "a private line shows in the room in view")
    # a room that is not there: nothing moves
    t.key("M-5")
    time.sleep(0.3)
    check(re.search(r"\[2:#rust\]", t.status()), "Alt-5 without a room 5: %r" % t.status())


def test_tui_rooms_alt_left_right_and_scrollback_of_each_room():
    srv = Server()
    t = tui_in_lobby(srv, "me", width=100)
    for r in ("#a", "#b"):
        t.type_line("/join " + r)
        t.wait_status(r"\[\d:%s\]" % r)
    t.wait_status(r"\| 1:#lobby 2:#a \[3:#b\] \|")
    talker = peer_in(srv, "talker", "#a", "#b")
    for i in range(30):  # more than a screen, in #a
        talker.sendline("/msg #a line %d" % i)
    talker.sendline("/msg #b only b")
    t.wait_status(r"2:#a\(30\) \[3:#b\]")
    t.wait_until(lambda _: shown(t, "<talker> only b"), "#b's line in view")
    # Alt-Left: #a in view, at the bottom of its own scroll-back
    t.key("M-Left")
    t.wait_status(r"\| 1:#lobby \[2:#a\] 3:#b \|")
    t.wait_until(lambda _: shown(t, "<talker> line 29"), "#a's newest line at the bottom")
    t.key("PPage")
    t.wait_status(r"scrolled up")
    top = t.messages()
    check(not shown(t, "<talker> line 29"), "PgUp scrolled #a up: %r" % top)
    # away and back: #a still scrolled where it was, #b at its bottom
    t.key("M-Right")
    t.wait_status(r"\| 1:#lobby 2:#a \[3:#b\] \| 2 members \| connected$")
    check(shown(t, "<talker> only b"), "#b in view: %r" % t.messages())
    t.key("Escape", "Right")  # ESC then Right, as some terminals send Alt-Right: round
    t.wait_status(r"\| \[1:#lobby\] 2:#a 3:#b \|")
    t.key("M-Left")
    t.key("M-Left")
    t.wait_status(r"\| 1:#lobby \[2:#a\] 3:#b \|.*scrolled up")
    check(t.messages() == top, "#a kept its scroll position:\n%r\n%r" % (top, t.messages()))
    t.key("NPage")
    t.key("NPage")
    t.wait_until(lambda _: shown(t, "<talker> line 29"), "PgDn back to #a's newest")
    # the server was told each time: what is typed goes to the room in view
    t.type_line("to a")
    talker.expect("#a <me> to a")


def test_tui_rooms_part_and_switch_command_follow_the_server():
    srv = Server("--default-room", "#Main")  # the first room's name is learnt, not assumed
    t = tui_in_lobby(srv, "me")
    peer = peer_in(srv, "peer", "#x")
    t.type_line("/join #x")
    t.wait_status(r"\| 1:#Main \[2:#x\] \| 2 members \|")
    # who else is in #x was asked (/who #x), unseen: peer completes
    t.keys("pe")
    t.key("Tab")
    t.wait_input("peer: ")
    t.key("C-u")
    check("members:" not in t.screen(), "the hidden /who's answer is not shown:\n" + t.screen())
    # /switch typed: the view follows the server's answer
    t.type_line("/switch #main")
    t.wait_status(r"\| \[1:#Main\] 2:#x \| 3 members \|")
    t.wait_until(lambda s: "*** now talking in #Main" in s, "the answer shown")
    peer.sendline("/msg #x ping")
    t.wait_status(r"2:#x\(1\)")
    # /msg #x from the lobby: sent there, and shown in #x's scroll-back, not here
    t.type_line("/msg #x aside")
    peer.expect("#x <me> aside")
    check(not any("aside" in r for r in t.messages()), "not echoed in the lobby: %r" % t.messages())
    # /part of the current room: gone from the status, the last joined current
    t.type_line("/part")
    t.wait_status(r"\| \[1:#x\] \| 2 members \|")
    t.wait_until(lambda _: shown(t, "*** you left #Main"), "the part shown in the room now in view")
    t.wait_until(lambda _: shown(t, "<peer> ping") and shown(t, "<me> aside"),
                 "#x's own scroll-back, our /msg #x in it")
    # Tab completes our rooms' names
    t.keys("/switch #")
    t.key("Tab")
    t.wait_input("/switch #x ")


def test_rooms_line_mode_passes_tagged_lines_through():
    srv = Server()
    c = ProcClient([HICHAT, "connect", "127.0.0.1:%d" % srv.port, "--nick", "pipe"])
    c.expect(re.compile(r"is now known as pipe$"))
    c.sendline("/join #side")
    c.expect("*** you joined #side (1 member here)")
    p = peer_in(srv, "p", "#side")
    c.expect("#side *** p joined")
    p.sendline("#not a tag")
    c.expect("#side <p> #not a tag")
    p.sendline("/msg #lobby over here")
    c.expect("#lobby <p> over here")


def test_tui_rooms_after_a_reconnection_only_the_default_room_and_the_view_stay():
    srv = Server()
    port = srv.port
    t = tui_in_lobby(srv, "me", "--reconnect")
    t.type_line("/join #a")
    t.type_line("/join #b")
    t.wait_status(r"\| 1:#lobby 2:#a \[3:#b\] \|")
    t.key("M-2")
    t.wait_status(r"\| 1:#lobby \[2:#a\] 3:#b \|")
    t.type_line("said in a")
    t.wait_until(lambda _: shown(t, "<me> said in a"), "our line in #a")
    srv.stop()
    t.wait_status(r"reconnecting in")
    srv2 = Server(port=port)
    t.wait_status(r"\| me \| 2 members \| connected$", timeout=10)
    check(shown(t, "<me> said in a"), "the room in view kept its lines: %r" % t.messages())
    t.type_line("/join #c")  # the first room is named again by the hidden /topic
    t.wait_status(r"\| 1:#lobby \[2:#c\] \|")
    peer = peer_in(srv2, "peer")
    peer.sendline("hello lobby")
    t.wait_status(r"\| 1:#lobby\(1\) \[2:#c\] \|")
