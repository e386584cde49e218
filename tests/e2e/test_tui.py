"""The full-screen client, driven for real inside tmux against a real server:
layout and typing while messages arrive, CJK and emoji, resize, history,
scroll-back, nick colours and styles, escape sequences neutralised, Tab
completion, local commands, pasting, connection loss and --reconnect."""

import os
import re
import shlex
import subprocess
import time

from harness import (HICHAT, FakeServer, ProcClient, Server, Tmux, check, proc_cpu_seconds,
                     scan_for_sanitizer, tmpdir, title_of)

W, H = 80, 16


class Screen(Tmux):
    """`hichat connect` full screen in a tmux pane of W x H. Its stderr goes
    to a file (scanned for sanitizer reports when the test ends) and the pane
    stays after it exits, showing EXIT=status."""

    _n = 0

    def __init__(self, port, *extra, width=W, height=H, env=""):
        Screen._n += 1
        self.err = os.path.join(tmpdir(), "tui%d.stderr" % Screen._n)
        argv = [HICHAT, "connect", "127.0.0.1:%d" % port] + list(extra)
        cmd = "%s%s 2>%s; echo EXIT=$?; sleep 60" % (
            env, " ".join(shlex.quote(a) for a in argv), shlex.quote(self.err))
        super().__init__(cmd, width=width, height=height)

    def rows(self):
        return self.screen().split("\n")[:self.height()]

    def height(self):
        return int(self.tmux("display-message", "-p", "#{pane_height}").stdout.decode())

    def status(self):
        return self.rows()[-2]

    def input(self):
        return self.rows()[-1].rstrip()

    def messages(self):
        return [r.rstrip() for r in self.rows()[:-2]]

    def wait_status(self, pattern, timeout=5.0):
        rx = re.compile(pattern)
        return self.wait_until(lambda s: rx.search(s.split("\n")[self.height() - 2]),
                               "status line never matched /%s/" % pattern, timeout)

    def wait_input(self, text, timeout=5.0):
        want = ("> " + text).rstrip()
        return self.wait_until(lambda s: s.split("\n")[self.height() - 1].rstrip() == want,
                               "input line never read %r" % text, timeout)

    def styled(self):
        return self.tmux("capture-pane", "-p", "-e").stdout.decode("utf-8", "replace")

    def stderr_text(self):
        return open(self.err, errors="replace").read() if os.path.exists(self.err) else ""

    def teardown(self):
        # Ctrl-C first, so the client ends (and a sanitizer reports) while
        # its terminal still exists; then the pane goes.
        if self.alive() and "EXIT=" not in self.screen():
            self.key("C-c")
            deadline = time.monotonic() + 5
            while "EXIT=" not in self.screen() and time.monotonic() < deadline:
                time.sleep(0.05)
        super().teardown()
        scan_for_sanitizer("hichat connect (tmux)", self.stderr_text())


def tui_with_peer(nick, *extra, server_args=(), **kw):
    """A server, the full screen as NICK (hidden /who answered, so the
    member count is right), and a raw peer named peer."""
    srv = Server(*server_args)
    t = Screen(srv.port, "--nick", nick, *extra, **kw)
    t.wait_status(r"\| %s \| 2 members \| connected" % nick)
    peer = srv.client()
    peer.greeting()
    peer.sendline("/nick peer")
    peer.expect(re.compile(r"is now known as peer$"))
    t.wait_status(r"\| 3 members \|")
    return srv, t, peer


STAMP = r"\d\d:\d\d "


def test_tui_layout_typing_while_messages_arrive():
    srv, t, peer = tui_with_peer("typer")
    check(t.status().startswith(" 127.0.0.1:%d | typer | 3 members | connected" % srv.port),
          "status line: %r" % t.status())
    t.keys("half typed")
    t.wait_input("half typed")
    for i in range(40):  # more than the screen holds
        peer.sendline("incoming %d" % i)
    t.wait_until(lambda s: "<peer> incoming 39" in s, "the last message never showed")
    msgs = t.messages()
    check(re.fullmatch(STAMP + r"<peer> incoming 39", msgs[-1]),
          "the newest message sits just above the status line: %r" % msgs)
    check(re.fullmatch(STAMP + r"<peer> incoming 26", msgs[0]),
          "the area shows the last %d lines: %r" % (H - 2, msgs))
    check(t.input() == "> half typed", "the input line is intact: %r" % t.input())
    check(t.cursor_x() == len("> half typed"), "the cursor is at the end of the input")
    t.key("Enter")
    peer.expect("<typer> half typed")
    t.wait_until(lambda s: re.search(r"(?m)^" + STAMP + r"<typer> half typed$", s),
                 "your own message is shown, stamped")
    t.wait_input("")
    # the server's join and leave notices keep the count
    other = srv.client()
    other.greeting()
    t.wait_status(r"\| 4 members \|")
    other.close()
    t.wait_status(r"\| 3 members \|")


def test_tui_cjk_and_emoji_input_display_and_wrapping():
    srv, t, peer = tui_with_peer("cjk")
    t.keys("\u4f60\u597d w\u00f6rld \U0001f44d")
    t.wait_input("\u4f60\u597d w\u00f6rld \U0001f44d")
    # columns: 2 + 2 + 1 + 5 + 1 + 2 after "> "
    t.wait_until(lambda _: t.cursor_x() == 2 + 13, "cursor after the emoji at column 15")
    t.key("BSpace")  # the emoji goes in one step
    t.wait_until(lambda _: t.cursor_x() == 2 + 11, "Backspace took the whole emoji")
    t.key("BSpace")
    t.wait_input("\u4f60\u597d w\u00f6rld")
    t.key("Home")
    t.key("Right")
    t.wait_until(lambda _: t.cursor_x() == 4, "Right steps over a whole wide character")
    t.key("DC")  # Delete: the second CJK character, whole
    t.wait_input("\u4f60 w\u00f6rld")
    t.key("Enter")
    peer.expect("<cjk> \u4f60 w\u00f6rld")
    # a long line of wide characters wraps at whole characters, indented
    long = "".join(chr(0x4e00 + i) for i in range(60))  # 120 columns
    peer.sendline(long)
    s = t.wait_until(lambda s: chr(0x4e00 + 59) in s, "the long CJK line never showed")
    rows = [r for r in s.split("\n") if any(0x4e00 <= ord(ch) < 0x4e00 + 60 for ch in r)]
    check(len(rows) == 2, "120 columns of CJK wrap onto two rows: %r" % rows)
    check(rows[1].startswith("      ") and not rows[1][6] == " ",
          "the continuation is indented under the text: %r" % rows[1])
    joined = rows[0].split("<peer> ", 1)[1].rstrip() + rows[1].strip()
    check(joined == long, "no character lost or split at the wrap")


def test_tui_resize_reflows():
    srv, t, peer = tui_with_peer("rs")
    peer.sendline("x" * 70 + " tail")
    t.wait_until(lambda s: "tail" in s, "message shown")
    t.keys("still here")
    t.tmux("resize-window", "-x", "50", "-y", "10")
    t.wait_until(lambda s: len(s.split("\n")[0]) <= 50 and t.height() == 10, "the pane shrank")
    t.wait_status(r"rs \| 3 members")
    t.wait_input("still here")
    rows = t.messages()
    tail = [r for r in rows if "tail" in r]
    check(tail and all(len(r) <= 50 for r in rows), "rows fit the new width: %r" % rows)
    t.tmux("resize-window", "-x", "100", "-y", "20")
    t.wait_until(lambda s: t.height() == 20, "the pane grew")
    t.wait_until(lambda s: re.search(r"(?m)^" + STAMP + r"<peer> x{70} tail$", s),
                 "the message is one row again at 100 columns")
    t.wait_input("still here")
    # keys after a resize are keys, and the loop still runs (it once spun)
    t.keys("!")
    t.wait_input("still here!")
    peer.sendline("after the resize")
    t.wait_until(lambda s: "after the resize" in s, "messages still arrive")


def test_tui_long_input_line_keeps_the_cursor_and_what_precedes_it():
    srv, t, peer = tui_with_peer("longin")
    t.keys("A" * 60 + " " + "B" * 60)
    t.key("C-a")
    t.tmux("send-keys", "-N", "81", "Right")
    t.wait_until(lambda _: t.input()[t.cursor_x() - 1:t.cursor_x()] == "B",
                 "the character before the cursor is drawn (a B)")
    row = t.input()
    check(row.count("B") >= 15 and len(row) <= W, "a window of the line around the cursor: %r" % row)
    t.key("Enter")
    peer.expect("<longin> " + "A" * 60 + " " + "B" * 60)


def test_tui_history_and_paste_of_many_lines():
    srv, t, peer = tui_with_peer("hist")
    for line in ("one", "two"):
        t.type_line(line)
        peer.expect("<hist> %s" % line)
    t.key("Up")
    t.wait_input("two")
    t.key("Up")
    t.wait_input("one")
    t.key("Down")
    t.wait_input("two")
    t.key("C-u")
    # a paste of five lines sends five lines, in order
    t.tmux("set-buffer", "p1\np2\np3\np4\np5\n")
    t.tmux("paste-buffer")
    for i in range(1, 6):
        peer.expect("<hist> p%d" % i)
    t.wait_input("")


def test_tui_scrollback_pageup_pagedown():
    srv, t, peer = tui_with_peer("sb")
    for i in range(60):
        peer.sendline("line %02d" % i)
    t.wait_until(lambda s: "line 59" in s, "all lines arrived")
    t.key("PPage")
    s = t.wait_until(lambda s: "line 59" not in s, "PageUp scrolled back")
    check("line 45" in s or "line 40" in s, "earlier lines are shown: %s" % s)
    t.wait_status(r"scrolled up")
    before = t.messages()
    peer.sendline("while away")
    t.wait_status(r"1 new below")
    check(t.messages() == before, "the view holds still while scrolled up")
    for _ in range(5):
        t.key("PPage")
    t.wait_until(lambda s: re.search(r"line 00", s), "PageUp reaches the oldest line")
    for _ in range(10):
        t.key("NPage")
    t.wait_until(lambda s: "while away" in s and "scrolled" not in s, "PageDown comes back down")


def test_tui_scrollback_keeps_the_newest_5000_lines():
    srv, t, peer = tui_with_peer("keep", server_args=("--msg-rate", "0"))
    peer.send(b"".join(b"early %d\n" % i for i in range(30)))
    t.wait_until(lambda s: "early 29" in s, "the first lines arrived")
    t.key("PPage")  # scrolled up while the flood comes and pushes lines out
    t.wait_status(r"scrolled up")
    peer.send(b"".join(b"n%04d\n" % i for i in range(6000)))
    t.wait_status(r"6000 new below", timeout=20)
    t.wait_until(lambda s: re.search(r"<peer> n\d{4}", s),
                 "the view shows kept lines, not a blank area")
    t.tmux("send-keys", "-N", "600", "NPage")
    t.wait_until(lambda s: "n5999" in s and "scrolled" not in s, "PageDown reaches the newest")
    t.tmux("send-keys", "-N", "600", "PPage")
    s = t.wait_until(lambda s: "n1000" in s or "n0999" in s, "the top of the scroll-back")
    nums = [int(m) for m in re.findall(r"<peer> n(\d{4})", s)]
    check(nums and min(nums) == 1000 and "welcome" not in s,
          "the oldest 1000 lines (and the greeting) were dropped: %s" % s)


def test_tui_scrollback_keeps_at_most_4_mib():
    # 1500 lines of 4013 bytes ("<peer> bNNNN " and 4000 y): the line count
    # (5000) is not the limit, the byte budget is. A new line goes in once
    # the kept bytes and three times its own (its cleaned worst case) fit
    # in 4 MiB, so 4194304 // 4013 - 2 of them stay.
    srv, t, peer = tui_with_peer("bytes", server_args=("--msg-rate", "0",
                                                       "--max-queue", str(64 << 20)))
    peer.send(b"".join(b"b%04d " % i + b"y" * 4000 + b"\n" for i in range(1500)))
    peer.sendline("the end")
    t.wait_until(lambda s: "<peer> the end" in s, "all lines arrived", timeout=20)
    t.tmux("send-keys", "-N", "5000", "PPage")
    s = t.wait_until(lambda s: re.search(r"<peer> b(\d{4})", s), "the top of the scroll-back")
    top = min(int(m) for m in re.findall(r"<peer> b(\d{4})", s))
    want = 1501 - (4194304 // 4013 - 2)  # "the end" is kept too
    check(abs(top - want) <= 2, "the oldest kept line is b%04d, want about b%04d" % (top, want))


def sgr_states(styled):
    """Replays the SGR sequences of a capture-pane -e screen: each line as a
    list of (char, (fg, bg, bold, dim)) cells."""
    fg, bg, bold, dim = None, None, False, False
    out = []
    for line in styled.split("\n"):
        cells, i = [], 0
        while i < len(line):
            m = re.match(r"\x1b\[([0-9;]*)m", line[i:])
            if m:
                ps = [int(p) if p else 0 for p in m.group(1).split(";")]
                j = 0
                while j < len(ps):
                    p = ps[j]
                    if p == 0:
                        fg, bg, bold, dim = None, None, False, False
                    elif p == 1:
                        bold = True
                    elif p == 2:
                        dim = True
                    elif p == 22:
                        bold = dim = False
                    elif 30 <= p <= 37 or 90 <= p <= 97:
                        fg = p
                    elif p == 39:
                        fg = None
                    elif 40 <= p <= 47 or 100 <= p <= 107:
                        bg = p
                    elif p == 49:
                        bg = None
                    elif p in (38, 48) and j + 2 < len(ps) and ps[j + 1] == 5:
                        if p == 38:
                            fg = ("256", ps[j + 2])
                        else:
                            bg = ("256", ps[j + 2])
                        j += 2
                    j += 1
                i += m.end()
                continue
            cells.append((line[i], (fg, bg, bold, dim)))
            i += 1
        out.append(cells)
    return out


def style_at(styled, row_pattern, text):
    """The (fg, bg, bold, dim) of the first character of text on the first row
    matching row_pattern."""
    for cells in sgr_states(styled):
        row = "".join(c for c, _ in cells)
        if re.search(row_pattern, row):
            k = row.find(text)
            if k >= 0:
                return cells[k][1]
    raise AssertionError("no row /%s/ with %r in:\n%s" % (row_pattern, text, styled))


def fnv_colour(nick, n=12):
    h = 2166136261
    for b in nick.lower().encode():
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h % n


def test_tui_nick_colours_are_stable_and_styles_differ():
    # two nicks the colour hash puts apart
    a = "amber"
    b = next(n for n in ("basil", "birch", "brook", "bramble") if fnv_colour(n) != fnv_colour(a))
    srv, t, peer = tui_with_peer("me")
    second = Screen(srv.port, "--nick", "other")
    second.wait_status(r"\| other \|")
    peer.sendline("/nick %s" % a)
    peer.expect(re.compile(r"is now known as %s$" % a))
    bob = srv.client()
    bob.greeting()
    bob.sendline("/nick %s" % b)
    bob.expect(re.compile(r"is now known as %s$" % b))
    peer.sendline("first from a")
    bob.sendline("first from b")
    peer.sendline("second from a")
    peer.sendline("hey me, look")
    peer.sendline("/msg me a secret")
    bob.sendline("/nosuchcommand")
    t.wait_until(lambda s: "a secret" in s, "all lines shown")
    second.wait_until(lambda s: "second from a" in s, "second client got them")
    st = t.styled()
    ca1 = style_at(st, r"first from a", "<" + a)  # the "<" is plain
    a1 = style_at(st, r"first from a", a)
    a2 = style_at(st, r"second from a", a)
    b1 = style_at(st, r"first from b", b)
    check(a1 == a2, "the same nick, the same colour: %r %r" % (a1, a2))
    check(a1 != b1, "%s and %s differ in colour: %r %r" % (a, b, a1, b1))
    check(a1[0] is not None and a1 != ca1, "a nick is coloured: %r" % (a1,))
    a_other = style_at(second.styled(), r"first from a", a)
    check(a_other == a1, "another client colours %s the same: %r %r" % (a, a_other, a1))
    # a mention is highlighted; a plain message is not
    plain = style_at(st, r"first from a", "first")
    mention = style_at(st, r"hey me, look", "hey")
    check(mention != plain and mention[1] is not None,
          "a line naming me is highlighted: %r vs %r" % (mention, plain))
    # private messages, notices and errors each look different from talk
    priv = style_at(st, r"\*%s\* a secret" % a, "a secret")
    notice = style_at(st, r"is now known as %s" % b, "is now")
    check(len({plain, priv, notice}) == 3,
          "talk, private and notice are styled apart: %r %r %r" % (plain, priv, notice))
    t.type_line("/nosuch")
    t.wait_until(lambda s: "unknown command" in s, "the server's error shown")
    error = style_at(t.styled(), r"unknown command", "unknown")
    check(error not in (plain, priv, notice), "errors stand apart: %r" % (error,))


def test_tui_neutralises_escape_sequences_and_bidi():
    def handler(conn, res):
        conn.sendall(b"*** welcome to hichat, me (1 member here)\n")
        conn.sendall(b"<evil> \x1b]0;pwned\x07title\x1b[2Jgone\x1b[31mred\n")
        conn.sendall(b"<evil> \xe2\x80\xaereversed\xe2\x81\xa6 \x9b end\n")
        conn.sendall(b"<long> " + b"y" * 5000 + b"\n")
        time.sleep(3)

    fake = FakeServer(handler)
    t = Screen(fake.port, height=80)  # the long line takes 58 rows
    t.wait_until(lambda s: "red" in s and "end" in s, "the lines showed")
    s = t.screen()
    check(re.search(r"<evil> \^\[\]0;pwned\^Gtitle\^\[\[2Jgone\^\[\[31mred", s),
          "escape sequences shown as text: %s" % s)
    check(re.search("<evil> \ufffdreversed\ufffd \ufffd end", s), "bidi and C1 replaced: %s" % s)
    check("pwned" not in title_of(t), "the title is untouched: %r" % title_of(t))
    t.wait_until(lambda s: re.search(r"y\.\.\.\s*$", s, re.M), "a very long line is cut, with ...")
    check(style_at(t.styled(), r"<long> y", "long")[0] is not None, "its nick is still coloured")
    check(t.status().startswith(" 127.0.0.1:%d | me | 1 member |" % fake.port),
          "the status line survives: %r" % t.status())


def test_tui_tab_completes_nicks_and_commands():
    srv, t, peer = tui_with_peer("tabby")
    others = []
    for n in ("bobby", "bob2"):
        c = srv.client()
        c.greeting()
        c.sendline("/nick " + n)
        c.expect(re.compile(r"is now known as %s$" % n))
        others.append(c)
    t.wait_status(r"\| 5 members \|")
    t.keys("bo")
    t.key("Tab")
    t.wait_input("bob2: ")
    t.key("Tab")
    t.wait_input("bobby: ")
    t.key("Tab")
    t.wait_input("bob2: ")
    t.keys("hi ")
    t.keys("pe")
    t.key("Tab")
    t.wait_input("bob2: hi peer ")
    t.key("BSpace")
    t.key("Enter")
    peer.expect("<tabby> bob2: hi peer")
    t.keys("/wh")
    t.key("Tab")
    t.wait_input("/who ")
    # a member present before we came (learnt from the hidden /who)
    srv2, t2, _ = tui_with_peer("late")
    t2.keys("pe")
    t2.key("Tab")
    t2.wait_input("peer: ")


def test_tui_local_help_clear_and_quit():
    srv, t, peer = tui_with_peer("loc", height=36)  # the server's /help has rooms too
    t.type_line("/help")
    t.wait_until(lambda s: "PgUp/PgDn" in s and "/nick NAME" in s,
                 "/help lists the keys and the server's commands")
    t.type_line("/clear")
    t.wait_until(lambda s: all(not r.strip() for r in s.split("\n")[:t.height() - 2]),
                 "/clear empties the message area")
    t.type_line("/quit see you")
    peer.expect("*** loc left (quit: see you)")
    t.wait_until(lambda s: "EXIT=0" in s, "/quit ends with status 0")


def test_tui_connection_loss_shown_then_reconnect_command():
    srv, t, peer = tui_with_peer("lossy")
    port = srv.port
    srv.stop()
    t.wait_status(r"\| disconnected")
    t.wait_until(lambda s: "server shutting down" in s, "the server's last word is shown")
    t.type_line("into the void")
    t.wait_until(lambda s: "not sent (not connected)" in s, "a line typed while down is refused")
    srv2 = Server(port=port)
    t.type_line("/reconnect")
    t.wait_status(r"\| lossy \| \d+ members? \| connected")
    c = srv2.client()
    c.greeting()
    t.type_line("back again")
    c.expect("<lossy> back again")
    t.key("C-d")
    t.wait_until(lambda s: "EXIT=0" in s, "Ctrl-D on an empty line leaves, status 0")


def test_tui_reconnect_with_backoff_keeps_the_nick():
    srv = Server()
    port = srv.port
    t = Screen(port, "--nick", "stayer", "--reconnect")
    t.wait_status(r"stayer \| 2 members \| connected")
    # lines of the server's shapes, forged with /me, change nothing
    for nick, act in (("welcome", "to hichat, mallory (9 members here)"), ("you", "are mallory")):
        f = srv.client()
        f.greeting()
        f.sendline("/nick " + nick)
        f.expect(re.compile(r"is now known as %s$" % nick))
        f.sendline("/me " + act)
    t.wait_until(lambda s: "* you are mallory" in s, "the forged lines arrived")
    t.wait_status(r"stayer \| 4 members \| connected")
    srv.stop()
    t.wait_status(r"reconnecting in \d+ s \(try 1\)")
    t.wait_status(r"reconnecting in \d+ s \(try 2\)", timeout=6)  # refused: back off
    srv2 = Server(port=port)
    watcher = srv2.client()
    watcher.greeting()
    watcher.expect(re.compile(r"^\*\*\* guest\d+ is now known as stayer$"), timeout=10)
    t.wait_status(r"stayer \| \d+ members \| connected")
    t.key("C-c")
    t.wait_until(lambda s: "EXIT=0" in s, "Ctrl-C leaves, status 0")
    watcher.expect(re.compile(r"^\*\*\* stayer left \(connection closed\)$"))


def test_no_tui_and_unknown_terminal_use_the_line_mode():
    srv = Server()
    t = Screen(srv.port, "--nick", "plain", "--no-tui")
    t.wait_until(lambda s: re.search(r"(?m)^\*\*\* guest\d+ is now known as plain$", s),
                 "the line mode prints lines as they are")
    check(" | connected" not in t.screen(), "no status line with --no-tui")
    u = Screen(srv.port, "--nick", "dumb", env="TERM=dumb ")
    u.wait_until(lambda s: re.search(r"(?m)^\*\*\* guest\d+ is now known as dumb$", s),
                 "TERM=dumb falls back to the line mode")
    check("no full screen (TERM is dumb)" in u.stderr_text(), "and says why: %r" % u.stderr_text())
    v = Screen(srv.port, "--nick", "odd", env="TERM=no-such-terminal ")
    v.wait_until(lambda s: re.search(r"(?m)^\*\*\* guest\d+ is now known as odd$", s),
                 "a TERM without a terminal description falls back to the line mode")
    check("no full screen (no terminal description for TERM=no-such-terminal)"
          in v.stderr_text(), "and says why: %r" % v.stderr_text())


def test_piped_client_reconnects_and_sends_what_follows():
    srv = Server()
    port = srv.port
    p = ProcClient([HICHAT, "connect", "127.0.0.1:%d" % port, "--reconnect", "--nick", "pipe"])
    p.expect(re.compile(r"is now known as pipe$"))
    srv.stop()
    deadline = time.monotonic() + 5
    while "trying again in" not in p.stderr() and time.monotonic() < deadline:
        time.sleep(0.05)
    check("trying again in" in p.stderr(), "stderr says it will retry: %r" % p.stderr())
    # a line written while down waits in the pipe, and costs no CPU meanwhile
    p.sendline("written while down")
    cpu0 = proc_cpu_seconds(p.proc.pid)
    time.sleep(1.0)
    spent = proc_cpu_seconds(p.proc.pid) - cpu0
    check(spent < 0.2, "waiting to reconnect must not spin: %.2f s of CPU in 1 s" % spent)
    srv2 = Server(port=port)
    w = srv2.client()
    w.greeting()
    w.expect(re.compile(r"is now known as pipe$"), timeout=10)
    w.expect("<pipe> written while down", timeout=10)
    p.sendline("after the restart")
    w.expect("<pipe> after the restart")
    p.close_stdin()
    check(p.wait(5) == 0, "stdin's end after a reconnect is a normal end")


def test_reconnect_with_udp_is_a_usage_error():
    r = subprocess.run([HICHAT, "connect", "--udp", "--reconnect", "127.0.0.1:1"],
                       capture_output=True, timeout=5)
    check(r.returncode == 2 and b"--reconnect is for streams" in r.stderr,
          "refused: %r" % (r.stderr,))


def test_refusal_text_is_cleaned_before_stderr():
    def handler(conn, res):
        conn.sendall(b"! \x1b]2;pwned\x07\x1b[2J go away\n")

    fake = FakeServer(handler)
    r = subprocess.run([HICHAT, "connect", "127.0.0.1:%d" % fake.port], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=5)
    check(r.returncode == 1, "a refusal exits 1: %r" % (r.returncode,))
    check(b"\x1b" not in r.stderr and b"^[]2;pwned^G^[[2J go away" in r.stderr,
          "the reason is shown cleaned: %r" % r.stderr)


def test_tui_ends_when_its_terminal_hangs_up():
    """A pty that is not the controlling terminal: closing it sends no
    SIGHUP; the client must notice and end, not spin."""
    import pty
    srv = Server()
    master, slave = pty.openpty()
    env = dict(os.environ, TERM="xterm-256color", LANG="C.UTF-8")
    p = subprocess.Popen([HICHAT, "connect", "127.0.0.1:%d" % srv.port], stdin=slave,
                         stdout=slave, stderr=subprocess.DEVNULL, env=env, close_fds=True)
    os.close(slave)
    try:
        seen, deadline = b"", time.monotonic() + 5
        while b"connected" not in seen and time.monotonic() < deadline:
            seen += os.read(master, 65536)
        check(b"connected" in seen, "the full screen came up: %r" % seen[-200:])
        os.close(master)
        p.wait(5)
        check(p.returncode == 0, "it ends, status 0: %r" % p.returncode)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def password_room():
    pw = os.path.join(tmpdir(), "room%d.pw" % Screen._n)
    with open(pw, "w") as f:
        f.write("open sesame\n")
    os.chmod(pw, 0o600)
    return Server("--password-file", pw)


def test_tui_password_asked_without_echo_then_joined():
    srv = password_room()
    t = Screen(srv.port, "--nick", "asker")
    t.wait_screen(r"(?m)password for 127\.0\.0\.1:%d: *$" % srv.port)
    t.keys("open sesam")
    time.sleep(0.2)
    check("sesam" not in t.screen(), "the password was echoed:\n%s" % t.screen())
    t.type_line("e")
    t.wait_status(r"\| asker \| 2 members \| connected")
    t.wait_until(lambda s: "welcome to hichat, asker" in s, "no greeting after the password")
    check("sesame" not in t.screen(), "the password shows on the screen")
    srv.wait_log(r"^login 127\.0\.0\.1:\d+$")
    peer = srv.client()
    peer.sendline("/pass open sesame")
    peer.greeting()
    t.type_line("in the room")
    peer.expect(re.compile(r"<asker> in the room$"))


def test_tui_wrong_password_asked_again_then_ctrl_c_gives_up():
    srv = password_room()
    t = Screen(srv.port, "--nick", "guesser")
    t.wait_screen(r"(?m)password for 127\.0\.0\.1:%d: *$" % srv.port)
    t.type_line("not it")
    srv.wait_log(r"^wrong password from 127\.0\.0\.1:\d+ \(1 on this connection\)$")
    # Asked again on the terminal, below the first prompt.
    t.wait_until(lambda s: s.count("password for 127.0.0.1:%d:" % srv.port) == 2,
                 "the password was not asked again")
    t.key("C-c")  # ends the prompt by itself: no Enter
    t.wait_screen(r"EXIT=1")
    check("no password given for 127.0.0.1:%d" % srv.port in t.stderr_text(), t.stderr_text())


def test_line_mode_password_prompt_without_echo():
    srv = password_room()
    t = Screen(srv.port, "--nick", "liner", "--no-tui")
    t.wait_screen(r"(?m)password for 127\.0\.0\.1:%d: *$" % srv.port)
    t.type_line("open sesame")
    t.wait_screen(r"welcome to hichat, liner")
    check("open sesame" not in t.screen(), "echoed:\n%s" % t.screen())
    peer = srv.client()
    peer.sendline("/pass open sesame")
    peer.greeting()
    t.type_line("typed after login")
    peer.expect(re.compile(r"<liner> typed after login$"))
