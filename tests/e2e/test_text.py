"""Line length limit, text hygiene, Unicode end to end."""

import re
import time

from harness import HichatConnect, Netcat, Server, assert_no_line_all, check, joined_clients


def _overlong_lines_discarded(limit, server_args):
    srv = Server(*server_args)
    s, r, w = joined_clients(srv, 3)
    nick = re.escape(s.nick)
    too_long = "! line too long (max %d bytes); discarded" % limit

    # exactly `limit` bytes is fine
    s.sendline("a" * limit)
    r.expect("<%s> %s" % (s.nick, "a" * limit))

    # limit + 1 is not: the sender alone is told, the next line carries on
    s.send(b"b" * (limit + 1) + b"\n")
    s.expect(too_long)
    s.sendline("after one")
    r.expect("<%s> after one" % s.nick)

    # far too long, next line in the same write
    s.send(b"c" * (limit * 5 + 17) + b"\nafter two\n")
    s.expect(too_long)
    r.expect("<%s> after two" % s.nick)

    # far too long, arriving in pieces (well inside the quiet pause)
    for _ in range(5):
        s.send(b"d" * (limit // 2 + 1))
        time.sleep(0.01)
    s.send(b"dddd\nafter three\n")
    s.expect(too_long)
    r.expect("<%s> after three" % s.nick)

    # the limit applies to what was received, not to the (longer) cleaned text
    s.send(b"\x1b" * limit + b"\n")
    r.expect("<%s> %s" % (s.nick, "^[" * limit))

    junk = re.compile(r"bbbbbbbb|cccccccc|dddddddd")
    assert_no_line_all((r, w), junk, 0.5)
    for m in (r, w):
        bad = [l for l in m.history if junk.search(l) or l.startswith("!")]
        check(not bad, "%s saw parts of an over-long line: %r" % (m.name, [l[:80] for l in bad]))
    got = w.collect(re.compile(r"^<%s> " % nick), 5, timeout=3)[:4]
    check([g[:40] for g in got] == [("<%s> " % s.nick + "a" * limit)[:40],
                                    "<%s> after one" % s.nick,
                                    "<%s> after two" % s.nick,
                                    "<%s> after three" % s.nick],
          "third member got %r" % [g[:60] for g in got])
    s.assert_no_line(re.compile(r"^! line too long"), 0)  # exactly three
    n_err = sum(1 for l in s.history if l.startswith("! line too long"))
    check(n_err == 3, "sender got %d 'line too long' errors, expected 3: %r" % (n_err, s.history))
    check(not any(junk.search(l) for l in srv.stdout_lines()), "over-long line on server stdout")


def test_overlong_line_default_4096_discarded_sender_told_next_line_delivered():
    _overlong_lines_discarded(4096, ())


def test_overlong_line_with_max_line_100_discarded_sender_told_next_line_delivered():
    _overlong_lines_discarded(100, ("--max-line", "100"))


HYGIENE_CASES = [
    (b"nul\x00here", "nul^@here"),
    (b"esc \x1b[31mred\x1b[0m", "esc ^[[31mred^[[0m"),
    (b"ctl \x01\x07\x1f del \x7f", "ctl ^A^G^_ del ^?"),
    (b"mid\rcr", "mid^Mcr"),
    (b"tab\there", "tab\there"),
    (b"crlf line\r", "crlf line"),
    (b"bad \xff\xfe ok", "bad \ufffd\ufffd ok"),
    (b"lone continuation \x80 x", "lone continuation \ufffd x"),
    (b"truncated \xe4\xbd end", "truncated \ufffd\ufffd end"),
    (b"overlong \xc0\xaf", "overlong \ufffd\ufffd"),
    (b"surrogate \xed\xa0\x80", "surrogate \ufffd\ufffd\ufffd"),
    (b"too big \xf4\x90\x80\x80", "too big \ufffd\ufffd\ufffd\ufffd"),
    (b"c1 \xc2\x85 x", "c1 \ufffd x"),
    (b"bidi \xe2\x80\xae x \xe2\x81\xa6", "bidi \ufffd x \ufffd"),
    (b"valid \xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80", "valid 你好 😀"),
]


def test_text_hygiene_controls_as_carets_invalid_utf8_as_replacement_char():
    srv = Server()
    s, r = joined_clients(srv, 2)
    for raw, _ in HYGIENE_CASES:
        s.send(raw + b"\n")
    got = r.collect(re.compile(r"^<%s> " % re.escape(s.nick)), len(HYGIENE_CASES), timeout=5)
    problems = []
    for (raw, want), line in zip(HYGIENE_CASES, got):
        want = "<%s> %s" % (s.nick, want)
        if line != want:
            problems.append("sent %r: got %r, expected %r" % (raw, line, want))
    check(not problems, "%d of %d lines cleaned wrongly:\n%s"
          % (len(problems), len(HYGIENE_CASES), "\n".join(problems)))
    check(not s.history or not any(l.startswith("!") for l in s.history),
          "sender got errors: %r" % s.history)


def test_chinese_and_emoji_intact_through_nc_and_hichat_connect():
    srv = Server()
    r = srv.client()
    r.greeting()
    n = Netcat(srv.port)
    nn = n.greeting()
    r.expect("*** %s joined" % nn)
    hc = HichatConnect(srv.port, nick="小明")
    hn = hc.greeting()
    hc.expect("*** %s is now known as 小明" % hn)
    for m in (r, n):
        m.expect("*** %s joined" % hn)
        m.expect("*** %s is now known as 小明" % hn)

    text1 = "你好，世界 😀🎉"
    n.sendline(text1)
    r.expect("<%s> %s" % (nn, text1))
    hc.expect("<%s> %s" % (nn, text1))

    text2 = "😀🎉 from connect: 你好，世界"
    hc.sendline(text2)
    r.expect("<小明> %s" % text2)
    n.expect("<小明> %s" % text2)

    text3 = "raw: 混合 ✓ 𝄞 ñ é 😀🎉"
    r.sendline(text3)
    n.expect("<%s> %s" % (r.nick, text3))
    hc.expect("<%s> %s" % (r.nick, text3))

    # private message with a Chinese nick
    n.sendline("/msg 小明 悄悄话 🤫")
    hc.expect("*%s* 悄悄话 🤫" % nn)
    n.expect("-> *小明* 悄悄话 🤫")

    out = srv.stdout_lines()
    for line in ("<%s> %s" % (nn, text1), "<小明> %s" % text2):
        check(line in out, "server stdout lacks %r: %r" % (line, out[-8:]))
