"""Rooms in the full-screen client (issue 14), driven inside tmux: a line
about a room lands in that room's scroll-back without its tag, the status
line lists the rooms with the one in view and unread counts, Alt-1..9 and
Alt-Left/Right switch the view and the server's current room, each room
keeps its own scroll position, and /part takes a room away. The line mode
passes tagged lines through as they came."""

import re
import selectors
import socket
import threading
import time

from harness import HICHAT, Client, ProcClient, _register, check
from test_tui import STAMP, Screen


class FakeRooms:
    """A stand-in for `hichat serve` with rooms, as docs/protocol.md "Rooms"
    has them and as far as these tests use them, until the server has them."""

    def __init__(self):
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(16)
        self.port = self.ls.getsockname()[1]
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.ls, selectors.EVENT_READ)
        self.members = {}  # socket -> dict(nick, rooms (keys, in join order), cur, buf)
        self.rooms = {}  # key -> dict(name, members (sockets))
        self.seq = 0
        self.stop = False
        self.calls = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        _register(self)

    def client(self, **kw):
        return Client(self.port, **kw)

    def teardown(self):
        self.stop = True
        self.thread.join(5)
        for s in list(self.members):
            s.close()
        self.ls.close()

    def call(self, fn):
        """Runs fn in the server's thread, and waits for it."""
        done = threading.Event()
        self.calls.append((fn, done))
        check(done.wait(5), "the stand-in server did not run %s" % fn.__name__)

    def cut(self):
        """Every connection ends at once, as when a server goes away."""
        for s in list(self.members):
            for k in self.members[s]["rooms"]:
                self.rooms[k]["members"].remove(s)
            del self.members[s]
            self.sel.unregister(s)
            s.close()

    def _run(self):
        while not self.stop:
            while self.calls:
                fn, done = self.calls.pop(0)
                fn()
                done.set()
            for key, _ in self.sel.select(0.1):
                if key.fileobj is self.ls:
                    s, _ = self.ls.accept()
                    self._hello(s)
                    continue
                s = key.fileobj
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    self._gone(s, "connection closed")
                    continue
                m = self.members[s]
                m["buf"] += data
                while b"\n" in m["buf"] and s in self.members:
                    line, m["buf"] = m["buf"].split(b"\n", 1)
                    line = line.decode().rstrip("\r")
                    if line:
                        self._line(s, m, line)

    def _send(self, s, text):
        try:
            s.sendall((text + "\n").encode())
        except OSError:
            pass

    def _about(self, s, key, text):
        m = self.members[s]
        self._send(s, text if m["rooms"] == [key] else self.rooms[key]["name"] + " " + text)

    def _to_room(self, key, text, but=None):
        for o in list(self.rooms[key]["members"]):
            if o is not but:
                self._about(o, key, text)

    def _sharing(self, s):
        return {o for k in self.members[s]["rooms"] for o in self.rooms[k]["members"]} - {s}

    def _join(self, s, name):
        key = name.lower()
        room = self.rooms.setdefault(key, {"name": name, "members": []})
        room["members"].append(s)
        self.members[s]["rooms"].append(key)
        self.members[s]["cur"] = key
        return room

    def _hello(self, s):
        self.seq += 1
        self.members[s] = {"nick": "guest%d" % self.seq, "rooms": [], "cur": None, "buf": b""}
        self.sel.register(s, selectors.EVENT_READ)
        room = self._join(s, "#lobby")
        n = len(room["members"])
        self._send(s, "*** welcome to hichat, %s (%d member%s here); type /help for commands"
                   % (self.members[s]["nick"], n, "" if n == 1 else "s"))
        self._to_room("#lobby", "*** %s joined" % self.members[s]["nick"], but=s)

    def _gone(self, s, why):
        m = self.members[s]
        for o in self._sharing(s):
            self._send(o, "*** %s left (%s)" % (m["nick"], why))
        for k in m["rooms"]:
            self.rooms[k]["members"].remove(s)
        del self.members[s]
        self.sel.unregister(s)
        s.close()

    def _part(self, s, m, key, reason):
        self._send(s, "*** you left " + self.rooms[key]["name"])
        self._to_room(key, "*** %s left (%s)" % (m["nick"], reason), but=s)
        # the tag rule counts the rooms after leaving
        self.rooms[key]["members"].remove(s)
        m["rooms"].remove(key)
        if m["cur"] == key:
            m["cur"] = m["rooms"][-1] if m["rooms"] else None

    def _line(self, s, m, line):
        if not line.startswith("/"):
            if m["cur"] is None:
                return self._send(s, "! you are in no room; /join #NAME to talk")
            return self._to_room(m["cur"], "<%s> %s" % (m["nick"], line), but=s)
        cmd, _, arg = line.partition(" ")
        cmd = cmd.lower()
        room = arg.split(" ")[0] if arg else ""
        if room and not room.startswith("#"):
            room = "#" + room
        key = room.lower()
        if cmd == "/nick":
            old, m["nick"] = m["nick"], arg
            for o in self._sharing(s) | {s}:
                self._send(o, "*** %s is now known as %s" % (old, arg))
        elif cmd == "/who":
            key = key or m["cur"]
            if key not in self.rooms:
                return self._send(s, "! no such room " + room)
            nicks = sorted(self.members[o]["nick"] for o in self.rooms[key]["members"])
            self._about(s, key, "*** %d member%s %s" % (len(nicks), "s:" if len(nicks) > 1 else ":",
                                                        ", ".join(nicks)))
        elif cmd == "/join":
            if key in m["rooms"]:
                m["cur"] = key
                return self._send(s, "*** now talking in " + self.rooms[key]["name"])
            r = self._join(s, room)
            n = len(r["members"])
            self._send(s, "*** you joined %s (%d member%s here)" % (r["name"], n,
                                                                  "" if n == 1 else "s"))
            self._to_room(key, "*** %s joined" % m["nick"], but=s)
        elif cmd == "/part":
            key = key or m["cur"]
            if key not in m["rooms"]:
                return self._send(s, "! you are not in " + room)
            self._part(s, m, key, "part")
        elif cmd == "/switch":
            if key not in m["rooms"]:
                return self._send(s, "! you are not in " + room)
            m["cur"] = key
            self._send(s, "*** now talking in " + self.rooms[key]["name"])
        elif cmd == "/topic":
            self._about(s, m["cur"], "*** %s has no topic" % self.rooms[m["cur"]]["name"])
        elif cmd == "/msg" and room.startswith("#") and arg.startswith("#"):
            if key not in m["rooms"]:
                return self._send(s, "! you are not in " + room)
            self._to_room(key, "<%s> %s" % (m["nick"], arg.partition(" ")[2]), but=s)
        elif cmd == "/msg":
            nick, _, text = arg.partition(" ")
            for o, om in self.members.items():
                if om["nick"].lower() == nick.lower():
                    self._send(o, "*%s* %s" % (m["nick"], text))
                    self._send(s, "-> *%s* %s" % (om["nick"], text))
        elif cmd == "/quit":
            self._send(s, "*** bye")
            self._gone(s, "quit")
        else:
            self._send(s, '! unknown command "%s"; type /help for the list' % cmd)


def rooms_server():
    return FakeRooms()


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
    t.wait_status(r"\| %s \| 1 member \| connected" % nick)
    return t


def shown(t, text):
    """Whether a message row of t reads exactly STAMP + text."""
    rx = re.compile(STAMP + re.escape(text) + "$")
    return any(rx.fullmatch(r) for r in t.messages())


def test_tui_rooms_tagged_lines_routed_unread_counted_alt_digit_switches():
    srv = rooms_server()
    t = tui_in_lobby(srv, "me")
    lobby = peer_in(srv, "lob")
    t.wait_status(r"\| 2 members \|")
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
    t.wait_status(r"\| \[1:#lobby\] 2:#rust \| 3 members \|")  # rusty is here too
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
    srv = rooms_server()
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
    srv = rooms_server()
    t = tui_in_lobby(srv, "me")
    peer = peer_in(srv, "peer", "#x")
    t.type_line("/join #x")
    t.wait_status(r"\| 1:#lobby \[2:#x\] \| 2 members \|")
    # /switch typed: the view follows the server's answer
    t.type_line("/switch #lobby")
    t.wait_status(r"\| \[1:#lobby\] 2:#x \| 2 members \|")
    t.wait_until(lambda s: "*** now talking in #lobby" in s, "the answer shown")
    peer.sendline("/msg #x ping")
    t.wait_status(r"2:#x\(1\)")
    # /part of the current room: gone from the status, the last joined current
    t.type_line("/part")
    t.wait_status(r"\| \[1:#x\] \| 2 members \|")
    t.wait_until(lambda _: shown(t, "*** you left #lobby"), "the part shown in the room now in view")
    t.wait_until(lambda _: shown(t, "<peer> ping"), "#x's own scroll-back")
    # Tab completes our rooms' names
    t.keys("/switch #")
    t.key("Tab")
    t.wait_input("/switch #x ")


def test_rooms_line_mode_passes_tagged_lines_through():
    srv = rooms_server()
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
    srv = rooms_server()
    t = tui_in_lobby(srv, "me", "--reconnect")
    t.type_line("/join #a")
    t.type_line("/join #b")
    t.wait_status(r"\| 1:#lobby 2:#a \[3:#b\] \|")
    t.key("M-2")
    t.wait_status(r"\| 1:#lobby \[2:#a\] 3:#b \|")
    t.type_line("said in a")
    srv.call(srv.cut)
    t.wait_status(r"\| me \| 1 member \| connected$", timeout=10)
    check(shown(t, "<me> said in a"), "the room in view kept its lines: %r" % t.messages())
    t.type_line("/join #c")  # the first room is named again by the hidden /topic
    t.wait_status(r"\| 1:#lobby \[2:#c\] \|")
