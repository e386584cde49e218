"""Nicks that would fool a reader (docs/protocol.md "Nicks"), through the real
server: invisible or format characters and look-alikes of ASCII a nick may
not have are refused with the rule they break; look-alikes of a nick in use
are in use; ordinary nicks, in any script, still work."""

import re

from harness import Server, assert_no_line_all, check, joined_clients

# (nick, a word of the reason the server gives)
REFUSED = [
    ("x\u00a0y", "spaces or blank"),          # no-break space
    ("x\u2000y", "spaces or blank"),          # en quad
    ("x\u2005y", "spaces or blank"),          # four-per-em space
    ("x\u200ay", "spaces or blank"),          # hair space
    ("x\u202fy", "spaces or blank"),          # narrow no-break space
    ("x\u205fy", "spaces or blank"),          # medium mathematical space
    ("x\u1680y", "spaces or blank"),          # ogham space mark
    ("x\u3000y", "spaces or blank"),          # ideographic (fullwidth) space
    ("\u3164", "blank characters"),             # Hangul filler
    ("x\u115f", "blank characters"),            # Hangul choseong filler
    ("x\u1160", "blank characters"),            # Hangul jungseong filler
    ("\uffa0", "blank characters"),             # halfwidth Hangul filler
    ("\u2800", "blank characters"),             # braille blank
    ("\u0301", "combining mark"),         # a combining mark alone
    ("\u0301\u0302", "combining mark"),   # marks only
    ("\u0301x", "combining mark"),        # a mark first
    ("x\u061cy", "format or bidi"),          # Arabic letter mark
    ("x\u180ey", "format or bidi"),          # Mongolian vowel separator
    ("x\ufff9y", "format or bidi"),          # interlinear annotation anchor
    ("x\ufffay", "format or bidi"),
    ("x\ufffby", "format or bidi"),
    ("x\U000e0041y", "format or bidi"),      # tag A
    ("x\U000e007f", "format or bidi"),       # cancel tag
    ("x\u200by", "format or bidi"),          # zero-width space
    ("x\u2066y", "format or bidi"),          # left-to-right isolate
    ("\uff0a", "look-alike"),        # fullwidth *
    ("\uff1cx\uff1e", "look-alike"),  # fullwidth < >
    ("x\uff01", "look-alike"),       # fullwidth !
    ("\u01c3x", "look-alike"),       # a letter that looks like !
]


def _rename_refused(c, nick, why):
    c.sendline("/nick " + nick)
    line = c.expect(re.compile(r'^! invalid nick ".*": '))
    check(why in line, "/nick %r: %r does not say %r" % (nick, line, why))


def test_nicks_invisible_format_and_ascii_lookalikes_are_refused():
    srv = Server()
    c, w = joined_clients(srv, 2)
    for nick, why in REFUSED:
        _rename_refused(c, nick, why)
    # nothing was renamed: the nick is still the greeting's
    c.sendline("/nick")
    c.expect("*** you are %s" % c.nick)
    assert_no_line_all((c, w), re.compile(r"known as"), 0.2)


def test_nicks_lookalikes_of_a_nick_in_use_are_in_use():
    srv = Server()  # the console is "server"
    a, b = joined_clients(srv, 2)
    a.sendline("/nick Alice")
    for m in (a, b):
        m.expect("*** %s is now known as Alice" % a.nick)
    for nick in ("\uff33\uff25\uff32\uff36\uff25\uff32",  # ＳＥＲＶＥＲ
                 "\u0455\u0435rv\u0435r",                 # ѕеrvеr: Cyrillic ѕ, е
                 "SERVER",
                 "alice",
                 "\uff21\uff2c\uff29\uff23\uff25",        # ＡＬＩＣＥ
                 "\u0410lice"):                           # Аlice: Cyrillic А
        b.sendline("/nick " + nick)
        b.expect('! nick "%s" is in use' % nick)
    assert_no_line_all((a, b), re.compile(r"known as"), 0.2)
    # /msg finds its target by the same key
    b.sendline("/msg \u0410lice psst")
    a.expect("*%s* psst" % b.nick)
    b.expect("-> *Alice* psst")


def test_nicks_guest_names_stay_free_of_lookalikes():
    srv = Server()
    a = srv.client()
    check(a.greeting() == "guest1", "first guest is %s" % a.nick)
    a.sendline("/nick guest\uff12")  # a fullwidth 2: guest2's look-alike
    a.expect("*** guest1 is now known as guest\uff12")
    b = srv.client()
    check(b.greeting() == "guest3", "guest2 was handed out beside guest\uff12: got %s" % b.nick)


def test_nicks_ordinary_ones_still_work():
    srv = Server()
    clients = joined_clients(srv, 5)
    nicks = ["alice", "Bob_2", "\u5c0f\u660e", "Zo\u00eb", "\U0001f980rust"]
    for c, nick in zip(clients, nicks):
        old = c.nick
        c.sendline("/nick " + nick)
        for o in clients:
            o.expect("*** %s is now known as %s" % (old, nick))
        c.nick = nick
    for c in clients:
        c.sendline("hi from " + c.nick)
        for o in clients:
            if o is not c:
                o.expect("<%s> hi from %s" % (c.nick, c.nick))
    # case alone still makes a nick in use
    clients[1].sendline("/nick ALICE")
    clients[1].expect('! nick "ALICE" is in use')
    clients[0].sendline("/who")
    m = clients[0].expect_match(r"^\*\*\* 6 members: (.*)$")
    names = set(n.strip() for n in m.group(1).split(","))
    check(names == set(nicks) | {"server"}, "/who: %r" % m.group(0))
