"""The terminal side, driven for real inside tmux: the line mode's (--no-tui)
input line survives arriving messages, peers' escape sequences are shown harmlessly,
UTF-8 editing works, and the server's own terminal takes part in the room."""

import os
import re
import shlex
import subprocess
import time

from harness import (HICHAT, Client, FakeServer, Server, Tmux, check, logged_port, scan_for_sanitizer, tmpdir,
                     title_of)


def connect_cmd(port, *extra):
    """The line mode on the terminal (test_tui.py has the full screen)."""
    argv = [HICHAT, "connect", "127.0.0.1:%d" % port, "--no-tui"] + list(extra)
    return " ".join(shlex.quote(a) for a in argv)


def test_tty_client_half_typed_line_survives_arriving_messages():
    srv = Server()
    t = Tmux(connect_cmd(srv.port, "--nick", "typer"))
    t.wait_screen(r"welcome to hichat")
    t.wait_screen(r"guest\d+ is now known as typer")
    bob = srv.client()
    bob.greeting()
    bob.sendline("/nick bob")
    bob.expect(re.compile(r"is now known as bob$"))
    t.keys("half typed")
    t.wait_screen(r"> half typed")
    for i in range(3):
        bob.sendline("incoming %d" % i)
    t.wait_screen(r"<bob> incoming 2")
    lines = t.lines()
    check(lines[-1] == "> half typed",
          "the input line should stay last and intact; screen:\n%s" % "\n".join(lines))
    joined = "\n".join(lines)
    for i in range(3):
        check(("<bob> incoming %d" % i) in lines,
              "message %d should be a whole line of its own; screen:\n%s" % (i, joined))
        check(joined.count("incoming %d" % i) == 1, "message %d shown once" % i)
    t.key("Enter")
    bob.expect("<typer> half typed")
    t.wait_screen(r"(?m)^> half typed$")  # what was sent stays on screen
    check(t.lines()[-1] == ">", "a fresh, empty input line after Enter: %r" % t.lines()[-1])


def test_tty_client_utf8_editing_cjk_and_emoji():
    _, t, peer = tty_with_peer("zh")
    t.keys("ab你好😀")
    t.wait_screen("> ab你好😀")
    # Left over the emoji and the 好, Backspace deletes 你 (three bytes).
    t.key("Left")
    t.key("Left")
    t.key("BSpace")
    t.wait_screen(r"(?m)^> ab好😀\s*$")
    t.key("Home")
    t.keys("[")
    t.key("End")
    t.type_line("]")
    peer.expect("<zh> [ab好😀]")
    # Ctrl-W erases the word before the cursor; Ctrl-U the whole line.
    t.keys("one two three")
    t.key("C-w")
    t.wait_screen(r"(?m)^> one two\s*$")
    t.key("C-u")
    t.type_line("你好，世界")
    peer.expect("<zh> 你好，世界")


def wait_input(t, text):
    """Waits until the input line (the screen's last) reads "> text"."""
    want = ("> " + text).rstrip()
    t.wait_until(lambda s: [l.rstrip() for l in s.splitlines() if l.strip()][-1:] == [want],
                 "the input line never read %r" % want)


def tty_with_peer(nick):
    """A server, `hichat connect --nick NICK` in tmux, and a raw peer."""
    srv = Server()
    t = Tmux(connect_cmd(srv.port, "--nick", nick))
    t.wait_screen(r"is now known as %s" % nick)
    peer = srv.client()
    peer.greeting()
    return srv, t, peer


def test_tty_client_history_word_moves_kill_and_yank():
    _, t, peer = tty_with_peer("ed")
    for line in ("first line", "second"):
        t.type_line(line)
        peer.expect("<ed> %s" % line)
    # Up and Down walk the history; what was being typed comes back.
    t.keys("draft")
    t.key("Up")
    wait_input(t, "second")
    t.key("Up")
    wait_input(t, "first line")
    t.key("Down")
    t.key("Down")
    wait_input(t, "draft")
    t.key("C-u")
    t.key("Up")
    t.key("Up")
    t.type_line("!")
    peer.expect("<ed> first line!")
    # Words: Alt-b and Ctrl-Left go back a word, Ctrl-K cuts to the end,
    # Ctrl-Y puts it back, Alt-d cuts the next word.
    t.keys("alpha beta gamma")
    t.key("M-b")
    t.key("C-k")
    wait_input(t, "alpha beta")
    t.key("C-y")
    t.key("C-Left")
    t.key("C-Left")
    # A key that only moves the cursor moves it on screen too: before "beta".
    t.wait_until(lambda _: t.cursor_x() == 8, "the cursor should stand at column 8")
    t.key("M-d")
    wait_input(t, "alpha  gamma")
    t.key("Enter")
    peer.expect("<ed> alpha  gamma")


def test_tty_client_shows_peer_escape_sequences_visibly_title_untouched():
    # A server that is not hichat (so nothing cleans on the way) sends a
    # title-setting OSC, a screen clear and a colour, then a C1 byte and an
    # RLO without a newline.
    def handler(conn, res):
        conn.sendall(b"\x1b]0;pwned\x07title\x1b[2Jgone\x1b[31mred\r\n")
        conn.sendall(b"\x9b\xe2\x80\xaeevil")
        time.sleep(2)

    fake = FakeServer(handler)
    t = Tmux(connect_cmd(fake.port))
    t.wait_screen(r"\^\[\]0;pwned\^Gtitle\^\[\[2Jgone\^\[\[31mred")
    t.wait_screen(r"\ufffd\ufffdevil")  # after the quiet pause, as a line
    check("pwned" not in title_of(t), "the peer must not set the title: %r" % title_of(t))


def test_piped_client_on_a_terminal_still_shows_escapes_visibly():
    # stdin a pipe, stdout the terminal: line mode, yet a peer's escape
    # sequences must not reach the terminal raw.
    def handler(conn, res):
        conn.sendall(b"\x1b]0;pwned\x07\x1b[2Jpiped\n")
        time.sleep(3)

    fake = FakeServer(handler)
    t = Tmux("sleep 5 | " + connect_cmd(fake.port))
    t.wait_screen(r"\^\[\]0;pwned\^G\^\[\[2Jpiped")
    check("pwned" not in title_of(t), "the peer must not set the title: %r" % title_of(t))


def test_server_console_is_a_participant():
    log = os.path.join(tmpdir(), "console.stderr")
    cmd = "%s serve --port 0 --nick boss 2>%s" % (shlex.quote(HICHAT), shlex.quote(log))
    t = Tmux(cmd, width=300)  # /stats lines are long: no wrapping
    port = logged_port(log)
    c = Client(port)
    c.greeting()
    t.wait_screen(r"\*\*\* guest\d+ joined")
    t.type_line("hello room")
    c.expect("<boss> hello room")
    t.keys("typing...")
    c.sendline("hi boss")
    t.wait_screen(r"<guest\d+> hi boss")
    check(t.lines()[-1] == "boss> typing...",
          "console input line intact: %r" % t.lines()[-1])
    t.key("C-u")
    t.type_line("/who")
    t.wait_screen(r"\*\*\* 2 members: boss, guest\d+")
    t.type_line("/stats")
    t.wait_screen(r"\*\*\* stats clients=1 peak=1 accepted=1 lines_in=\d+")
    t.wait_screen(r"\*\*\* conn guest\d+ fd=\d+ local=127\.0\.0\.1:%d peer=127\.0\.0\.1:\d+ "
                  r"state=ESTABLISHED rtt=[\d.]+ms rttvar=[\d.]+ms cwnd=\d+ retrans=\d+/\d+ "
                  r"unacked=\d+ sendq=\d+ recvq=\d+ in=\d+B/\d+ out=\d+B/\d+" % port)
    t.key("C-c")  # SIGINT from the terminal: clean shutdown
    c.expect("*** server shutting down")
    c.expect_eof()
    deadline = time.monotonic() + 5
    while t.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    text = open(log).read()
    check("stopped" in text, "the server logs 'stopped' after Ctrl-C")
    scan_for_sanitizer("console server", text)
