"""Rooms (issue 14), end to end against docs/protocol.md, "## Rooms".

Everything goes through the real binary over raw sockets (what nc does), a
raw UDP socket, a Unix-domain socket, and the server's own terminal in tmux.

Readings of the protocol text where it leaves room for more than one (each
is repeated where a test relies on it):

R1. Tags. "A line about a room reaches you as before while that room is the
    only one you are in. Otherwise it starts with the room's name": so a line
    about #rust to someone in #lobby alone (e.g. their `/who #rust`) is
    tagged too, since #rust is not the only room they are in.
R2. The replies to your own room commands that name the room in their text
    (`*** you joined #R ...`, `*** you left #R`, `*** now talking in #R`,
    `*** topic of #R: ...`, `*** #R has no topic`) are accepted with or
    without a tag in front; the protocol's table shows them untagged, and a
    tag would only repeat the name.
R3. Singular counts: src/wording.h writes "N member[s] here", and the server
    already says `*** 1 member: a`; so for a count of 1 both "member" and
    "members" (and "1 room:" / "1 rooms:") are accepted. Counts themselves
    are always checked.
R4. `--max-rooms N` counts the default room: it is a room on the server,
    and `/rooms` lists it. `--max-rooms-per-member N` counts every room the
    member is in, the default room too.
R5. `/part ROOM` is written with its `#` in these tests: `/part [#NAME]
    [REASON]` without the `#` could be read either way (room or reason), and
    so could `/topic NAME`. The `#` is left out only with /join, /switch and
    /who, where the argument can only be a room.
R6. `/part` (`/switch`, `/msg`) of a room that does not exist at all may say
    `! you are not in #x` or `! no such room #x`: both are true.
R7. A topic over 300 bytes is refused with one `! ...` line naming the limit
    (300), and the topic stays as it was ("whoever crosses [a limit] is told
    why in a line of its own"); the limit is checked here only with text that
    cleaning does not lengthen, since the text does not say whether the
    limit applies before or after cleaning.
R8. `/msg #room TEXT`: the protocol gives the sender no echo line; the tests
    only check that the sender gets no error and the room gets the line.
R9. The invalid-name error quotes the name as typed; when it was typed
    without `#`, a `#` in the quote is accepted too.
R10. `--announce-max N` ("Joins and leaves are told while the room is
    small") is applied to each room on its own count.
R11. `/nick` tells the changer `*** OLD is now known as NEW` even when in no
    room ("everyone (you too)"); those sharing no room are not told.
"""

import os
import re
import shlex
import socket
import select
import time

import harness
from harness import (HICHAT, Client, LineSource, Server, Tmux, check, decode_line, proc_rss_kib,
                     run_hichat, scan_for_sanitizer, tmpdir)

ROOM_LINE_RE = re.compile(r"^\*\*\* (#[A-Za-z0-9_.-]+) \((\d+) members?\)(?:: (.*))?$")
ROOMS_HEAD_RE = re.compile(r"^\*\*\* (\d+) rooms?:$")
WHO_RE = re.compile(r"^(?:(#\S+) )?\*\*\* (\d+) members?: (.*)$")


# ---------------------------------------------------------------------------
# helpers


def serve(*args, **kw):
    """A server without flood control unless the test asks for it: these
    tests send more commands than a burst of 20, and a `! slow down` line in
    the middle would only get in the way of exact checks."""
    if "--msg-rate" not in args:
        args = ("--msg-rate", "0") + args
    return Server(*args, **kw)


def crew(srv, *nicks, **kw):
    """One raw client per nick, renamed; every earlier one has consumed the
    newcomer's join and rename, so all are idle and in step on return."""
    out = []
    for nick in nicks:
        c = srv.client(**kw)
        c.name = nick
        old = c.greeting()
        c.sendline("/nick " + nick)
        c.expect("*** %s is now known as %s" % (old, nick))
        for o in out:
            o.expect("*** %s is now known as %s" % (old, nick))
        c.nick = nick
        out.append(c)
    return out


def opt_tag(room):
    """R2: an optional `#room ` in front."""
    return r"(?:%s )?" % re.escape(room)


def members(n):
    return "members?" if n == 1 else "members"  # R3


def you_joined(room, n):
    return re.compile(r"^%s\*\*\* you joined %s \(%d %s here\)$"
                      % (opt_tag(room), re.escape(room), n, members(n)))


def you_left(room):
    return re.compile(r"^%s\*\*\* you left %s$" % (opt_tag(room), re.escape(room)))


def talking_in(room):
    return re.compile(r"^%s\*\*\* now talking in %s$" % (opt_tag(room), re.escape(room)))


def topic_of(room, text, nick):
    return re.compile(r"^%s\*\*\* topic of %s: %s \(set by %s\)$"
                      % (opt_tag(room), re.escape(room), re.escape(text), re.escape(nick)))


def no_topic(room):
    return re.compile(r"^%s\*\*\* %s has no topic$" % (opt_tag(room), re.escape(room)))


# The errors' exact shapes, as docs/protocol.md writes them ("Errors: ..."),
# each with the hint that says what to do.
def not_in(room):
    r = re.escape(room)
    return re.compile(r"^! you are not in %s; /join %s first$" % (r, r))


def no_such(room):
    return re.compile(r"^! no such room %s; /rooms lists them$" % re.escape(room))


def not_in_or_no_such(room):  # R6
    r = re.escape(room)
    return re.compile(r"^! (?:you are not in %s; /join %s first|no such room %s; /rooms lists them)$"
                      % (r, r, r))


def join(c, typed, shown=None, n=1):
    """c types `/join TYPED`; the reply names SHOWN (default TYPED) with n members."""
    c.sendline("/join " + typed)
    return c.expect(you_joined(shown or typed, n))


def seen(c, timeout=5.0):
    """Every line the server queued to c before it answered a `/nick` sent
    now, in order (the reply `*** you are NICK` is consumed, not returned).
    The server answers a member's lines in order, so after seen(actor),
    seen(watcher) holds everything the actor's earlier lines caused."""
    c.sendline("/nick")
    out = []
    deadline = time.monotonic() + timeout
    while True:
        line = c.read_line(max(0.1, deadline - time.monotonic()))
        if line == "*** you are %s" % c.nick:
            return out
        out.append(line)


def told(actor, *watchers):
    """seen() of the actor, then of each watcher: [actor lines, w1 lines, ...]."""
    return [seen(actor)] + [seen(w) for w in watchers]


def rooms_of(c, timeout=5.0):
    """Sends /rooms; returns (N, [(name, count, topic or None)], the '... and N more' line or None)."""
    c.sendline("/rooms")
    n = int(c.expect_match(ROOMS_HEAD_RE, timeout).group(1))
    rows = []
    for _ in range(min(n, 200)):
        line = c.read_line(timeout)
        m = ROOM_LINE_RE.match(line)
        check(m, "%s: /rooms line %r is not `*** #NAME (N members)[: TOPIC]`" % (c.name, line))
        rows.append((m.group(1), int(m.group(2)), m.group(3)))
    more = c.read_line(timeout) if n > 200 else None
    return n, rows, more


def who_of(c, arg=""):
    """Sends /who [ARG]; returns (tag or None, N, [names]) of the one-line reply."""
    c.sendline("/who" + (" " + arg if arg else ""))
    m = c.expect_match(WHO_RE)
    return m.group(1), int(m.group(2)), m.group(3).split(", ")


def exactly_once(lines, line, who):
    n = lines.count(line)
    check(n == 1, "%s got %r %d times (expected once): %r" % (who, line, n, lines))


def no_tags(c):
    tagged = [l for l in c.history if l.startswith("#")]
    check(not tagged, "%s is in one room and must see no tags, got %r" % (c.name, tagged))


# ---------------------------------------------------------------------------
# the default room, for a client that knows nothing of rooms


def test_rooms_unaware_client_chats_in_the_default_room_as_before():
    srv = Server()  # defaults throughout: this is what an nc user meets
    nc = srv.client(name="nc")  # a raw socket, as nc would be
    nc.expect(re.compile(r"^\*\*\* welcome to hichat, (guest\d+) \(2 members here\); "
                         r"type /help for commands$"))
    nc.nick = nc.history[0].split()[4]
    alice, = crew(srv, "alice")
    nc.expect(re.compile(r"^\*\*\* guest\d+ joined$"))
    nc.expect(re.compile(r"^\*\*\* guest\d+ is now known as alice$"))
    nc.sendline("hello, anyone?")
    alice.expect("<%s> hello, anyone?" % nc.nick)
    # alice goes into #rust and talks there; nc hears nothing of it
    join(alice, "#rust")
    alice.sendline("only for rustaceans")
    alice.sendline("/me hums in rust")
    # and to the lobby, without switching
    alice.sendline("/msg #lobby back in the lobby")
    nc.expect("<alice> back in the lobby")
    nc.sendline("/me waves")
    alice.expect("#lobby * %s waves" % nc.nick)
    nc.sendline("/who")
    nc.expect("*** 3 members: alice, %s, server" % nc.nick)
    alice.sendline("/part #lobby")
    alice.expect(you_left("#lobby"))
    nc.expect("*** alice left (part)")
    alice.sendline("in rust, alone")
    _, lines = told(alice, nc)
    check(lines == [], "nc saw more than the lobby: %r" % lines)
    check(not any("rust" in l for l in nc.history), "#rust leaked to the lobby: %r" % nc.history)
    no_tags(nc)
    nc.sendline("/quit")
    nc.expect("*** bye")
    nc.expect_eof(3)
    alice.assert_no_line(re.compile(r"left \(quit\)"), 0.3)  # they share no room now


# ---------------------------------------------------------------------------
# joining, tags, the current room


def test_rooms_join_notices_tags_for_members_in_several_rooms_none_for_one():
    srv = serve()
    alice, bob, carol = crew(srv, "alice", "bob", "carol")
    join(alice, "#rust", n=1)
    join(bob, "#rust", n=2)
    alice.expect("#rust *** bob joined")  # alice is in #lobby and #rust: tagged
    alice.sendline("hi")
    bob.expect("#rust <alice> hi")
    carol.sendline("yo")
    alice.expect("#lobby <carol> yo")
    bob.expect("#lobby <carol> yo")
    alice.sendline("/me waves")
    bob.expect("#rust * alice waves")
    _, b, c = told(alice, bob, carol)
    check(b == [], "bob: %r" % b)
    check(c == [], "carol (#lobby only) must see nothing of #rust: %r" % c)
    # bob leaves the lobby: in #rust alone, he sees no tags from now on
    bob.sendline("/part #lobby")
    bob.expect(you_left("#lobby"))
    carol.expect("*** bob left (part)")
    alice.expect("#lobby *** bob left (part)")
    n_before = len(bob.history)
    alice.sendline("one room now")
    bob.expect("<alice> one room now")
    carol.sendline("can bob hear me?")
    alice.expect("#lobby <carol> can bob hear me?")
    alice.send(b"/part #rust bye \x1b[2Jrustaceans \xe2\x80\xae\n")  # a reason is cleaned too
    alice.expect(you_left("#rust"))
    bob.expect("*** alice left (part: bye ^[[2Jrustaceans \ufffd)")
    # alice is back to #lobby alone: untagged again
    carol.sendline("#rust <bob> forged")  # only the server starts a line with '#'
    alice.expect("<carol> #rust <bob> forged")
    alice.sendline("back")
    carol.expect("<alice> back")
    _, b, c = told(alice, bob, carol)
    check(b == [], "bob (only in #rust) got %r" % b)
    check(not any(l.startswith("#") for l in bob.history[n_before:]),
          "bob, in #rust alone, got tagged lines: %r" % bob.history[n_before:])
    no_tags(carol)


def test_rooms_switch_and_part_move_the_current_room():
    srv = serve()
    alice, bob = crew(srv, "alice", "bob")
    for r in ("#a", "#b", "#c"):  # bob listens everywhere; tags say which room
        join(bob, r)
    for r in ("#a", "#b", "#c"):
        join(alice, r, n=2)
        bob.expect("%s *** alice joined" % r)
    alice.sendline("m1")  # current: the last joined
    bob.expect("#c <alice> m1")
    alice.sendline("/switch #a")
    alice.expect(talking_in("#a"))
    alice.sendline("m2")
    bob.expect("#a <alice> m2")
    alice.sendline("/switch b")  # the '#' may be left out
    alice.expect(talking_in("#b"))
    alice.sendline("m3")
    bob.expect("#b <alice> m3")
    alice.sendline("/switch #a")
    alice.expect(talking_in("#a"))
    alice.sendline("/part #a")  # parting the current room: the last joined of those left
    alice.expect(you_left("#a"))
    bob.expect("#a *** alice left (part)")
    alice.sendline("m4")
    bob.expect("#c <alice> m4")
    alice.sendline("/part")  # no argument: the current room (#c)
    alice.expect(you_left("#c"))
    bob.expect("#c *** alice left (part)")
    alice.sendline("m5")
    bob.expect("#b <alice> m5")
    alice.sendline("/part #b so long, and thanks")
    alice.expect(you_left("#b"))
    bob.expect("#b *** alice left (part: so long, and thanks)")
    alice.sendline("m6")
    bob.expect("#lobby <alice> m6")
    alice.sendline("/part")
    alice.expect(you_left("#lobby"))
    bob.expect("#lobby *** alice left (part)")
    # in no room at all
    alice.sendline("m7")
    alice.expect("! you are in no room; /join #NAME to talk")
    alice.sendline("/me m8")
    alice.expect(re.compile(r"^! "))
    a, b = told(alice, bob)
    check(a == [] and b == [], "nothing more: alice %r, bob %r" % (a, b))
    check(not any("m7" in l or "m8" in l for l in bob.history), "a line in no room went out")
    join(alice, "a", "#a", n=2)
    bob.expect("#a *** alice joined")
    alice.sendline("m9")
    bob.expect("#a <alice> m9")
    # /join of a room one is in: it becomes current, nobody is told again
    join(alice, "#lobby", n=3)
    bob.expect("#lobby *** alice joined")
    alice.sendline("/join #a")
    alice.expect(talking_in("#a"))
    alice.sendline("m10")
    bob.expect("#a <alice> m10")
    _, b = told(alice, bob)
    check(b == [], "a second /join told nobody: %r" % b)


def test_rooms_msg_to_a_room_without_switching():
    srv = serve()
    alice, bob, carol = crew(srv, "alice", "bob", "carol")
    join(alice, "#rust")
    join(bob, "#rust", n=2)
    alice.expect("#rust *** bob joined")
    alice.sendline("/msg #lobby psst, lobby")
    carol.expect("<alice> psst, lobby")
    bob.expect("#lobby <alice> psst, lobby")
    alice.sendline("/msg #RUST case does not matter")
    bob.expect("#rust <alice> case does not matter")
    alice.sendline("still in rust")  # the current room did not change
    bob.expect("#rust <alice> still in rust")
    a, b, c = told(alice, bob, carol)
    check(not any(l.startswith("!") for l in a), "R8: no error for the sender: %r" % a)
    check(c == [], "carol is not in #rust: %r" % c)
    carol.sendline("/msg #rust let me in")
    carol.expect(not_in("#rust"))
    carol.sendline("/msg #nowhere hello?")
    carol.expect(not_in_or_no_such("#nowhere"))  # R6
    _, b = told(carol, bob)
    check(b == [], "a refused /msg reached nobody: %r" % b)
    check(not any("let me in" in l for l in alice.history + bob.history), "refused line delivered")


# ---------------------------------------------------------------------------
# /rooms, /topic, /who


def test_rooms_lists_by_name_with_counts_and_topics_and_forgets_empty_ones():
    srv = serve()
    alice, bob, carol = crew(srv, "alice", "bob", "carol")
    n, rows, more = rooms_of(carol)
    check((n, rows, more) == (1, [("#lobby", 4, None)], None), "only #lobby: %r" % ((n, rows),))
    join(alice, "#zeta")
    join(alice, "#alpha")
    join(bob, "#alpha", n=2)
    join(bob, "#mid")
    bob.sendline("/topic middle of the road")
    bob.expect("#mid *** bob set the topic: middle of the road")
    n, rows, more = rooms_of(carol)
    check(n == 4 and more is None, "4 rooms: %r" % ((n, rows),))
    check(rows == [("#alpha", 2, None), ("#lobby", 4, None), ("#mid", 1, "middle of the road"),
                   ("#zeta", 1, None)], "by name, with counts and topics: %r" % rows)
    # a room goes away with its last member, by /part or by leaving the server
    alice.sendline("/part #zeta")
    alice.expect(you_left("#zeta"))
    bob.sendline("/quit")
    bob.expect("*** bye")
    carol.expect("*** bob left (quit)")
    n, rows, more = rooms_of(carol)
    check(rows == [("#alpha", 1, None), ("#lobby", 3, None)] and n == 2,
          "#zeta (parted) and #mid (its member quit) are gone: %r" % rows)
    # the default room stays even with nobody but the console in it
    for c in (alice, carol):
        c.sendline("/part #lobby")
        c.expect(you_left("#lobby"))
    n, rows, more = rooms_of(carol)
    check(("#lobby", 1, None) in rows, "#lobby stays: %r" % rows)
    # a topic goes with its room
    join(carol, "#mid")
    carol.sendline("/topic")
    carol.expect(no_topic("#mid"))


def test_rooms_list_stops_after_200_lines():
    srv = serve("--max-rooms-per-member", "300")
    alice, bob = crew(srv, "alice", "bob")
    names = ["#r%03d" % i for i in range(205)]
    alice.send("".join("/join %s\n" % r for r in names))
    alice.collect(re.compile(r"^(?:#r\d+ )?\*\*\* you joined #r\d+ \(1 members? here\)$"), 205)
    n, rows, more = rooms_of(bob)
    check(n == 206, "*** 206 rooms: got %d" % n)
    got = [r[0] for r in rows]
    check(got == sorted(names + ["#lobby"])[:200], "the first 200 by name: %r ... %r"
          % (got[:3], got[-3:]))
    check(more == "*** ... and 6 more", "then `*** ... and 6 more`, got %r" % more)
    b = seen(bob)
    check(b == [], "nothing after the list: %r" % b)


def test_rooms_topic_show_set_clear_and_errors():
    srv = serve()
    alice, bob, carol = crew(srv, "alice", "bob", "carol")
    join(alice, "#rust")
    alice.sendline("/topic")
    alice.expect(no_topic("#rust"))
    alice.sendline("/topic fearless concurrency")
    alice.expect("#rust *** alice set the topic: fearless concurrency")
    alice.sendline("/topic")
    alice.expect(topic_of("#rust", "fearless concurrency", "alice"))
    carol.sendline("/topic #rust")  # another room's topic, from outside it
    carol.expect(topic_of("#rust", "fearless concurrency", "alice"))
    carol.sendline("/topic #nosuch")
    carol.expect(no_such("#nosuch"))
    carol.sendline("/topic")  # carol's current room: #lobby
    carol.expect(no_topic("#lobby"))
    # a joiner is told the topic right after the join
    bob.sendline("/join #rust")
    bob.expect(you_joined("#rust", 2))
    bob.expect(topic_of("#rust", "fearless concurrency", "alice"))
    alice.expect("#rust *** bob joined")
    bob.sendline("/part #lobby")
    bob.expect(you_left("#lobby"))
    # bob, in #rust alone, sees topic changes untagged; alice tagged; carol nothing
    alice.sendline("/topic zero-cost abstractions")
    alice.expect("#rust *** alice set the topic: zero-cost abstractions")
    bob.expect("*** alice set the topic: zero-cost abstractions")
    bob.sendline("/topic -")
    bob.expect("*** bob cleared the topic")
    alice.expect("#rust *** bob cleared the topic")
    bob.sendline("/topic")
    bob.expect(no_topic("#rust"))
    _, _, c = told(alice, bob, carol)
    check(not any("topic" in l for l in c), "carol is not in #rust: %r" % c)
    n, rows, _ = rooms_of(carol)
    check(("#rust", 2, None) in rows, "no topic in /rooms once cleared: %r" % rows)


def test_rooms_topic_is_cleaned_like_a_message_and_bounded_to_300_bytes():
    srv = serve()
    alice, bob = crew(srv, "alice", "bob")
    join(alice, "#t")
    join(bob, "#t", n=2)
    alice.expect("#t *** bob joined")
    nasty = (b"\x1b[31mred\x1b[0m \xe2\x80\xae evil \xe2\x81\xa6iso \x07bell \x7f del "
             b"\xc2\x9b c1 \xff bad \xf0\x9f\xa6\x80 ok\tend")
    alice.send(nasty + b"\n")  # a plain line to #t, alice's current room
    cleaned = bob.expect(re.compile(r"^#t <alice> ")).split("#t <alice> ", 1)[1]
    check("\x1b" not in cleaned and "\u202e" not in cleaned and "^[[31m" in cleaned,
          "the message itself is cleaned: %r" % cleaned)
    alice.send(b"/topic " + nasty + b"\n")
    got = bob.expect(re.compile(r"^#t \*\*\* alice set the topic: ")).split(" set the topic: ", 1)[1]
    check(got == cleaned, "the topic is cleaned as the message was: topic %r, message %r"
          % (got, cleaned))
    alice.expect("#t *** alice set the topic: " + cleaned)
    bob.sendline("/topic")
    bob.expect(topic_of("#t", cleaned, "alice"))
    n, rows, _ = rooms_of(bob)
    check(("#t", 2, cleaned) in rows, "/rooms shows the cleaned topic: %r" % rows)
    check(not any("\x1b" in l or "\u202e" in l or "\u2066" in l for l in bob.history),
          "no escape or bidi control ever reached bob")
    # 300 bytes exactly: taken (100 three-byte characters, then 300 ASCII)
    han = "\u4f60" * 100
    alice.sendline("/topic " + han)
    bob.expect("#t *** alice set the topic: " + han)
    alice.sendline("/topic " + "t" * 300)
    bob.expect("#t *** alice set the topic: " + "t" * 300)
    # 301: refused, one line to the setter naming the limit, nothing changes (R7)
    alice.sendline("/topic " + "u" * 301)
    err = alice.expect(re.compile(r"^! "))
    check("300" in err, "the error names the limit of 300 bytes: %r" % err)
    alice.sendline("/topic " + han + "x")
    err = alice.expect(re.compile(r"^! "))
    check("300" in err, "301 bytes of UTF-8: %r" % err)
    a, b = told(alice, bob)
    check(not any("uuu" in l or "set the topic" in l for l in b), "bob saw a refused topic: %r" % b)
    bob.sendline("/topic")
    bob.expect(topic_of("#t", "t" * 300, "alice"))


def test_rooms_who_of_the_current_room_and_of_any_room():
    srv = serve()
    alice, bob, carol = crew(srv, "alice", "Bob", "carol")
    join(alice, "#rust")
    join(bob, "#rust", n=2)
    alice.expect("#rust *** Bob joined")
    got = who_of(carol)
    check(got == (None, 4, ["alice", "Bob", "carol", "server"]),
          "carol (#lobby only): untagged, sorted ignoring case: %r" % (got,))
    got = who_of(alice)
    check(got == ("#rust", 2, ["alice", "Bob"]), "alice's current room is #rust, and she is in "
          "two rooms: `#rust *** 2 members: alice, Bob`, got %r" % (got,))
    got = who_of(alice, "#lobby")
    check(got == ("#lobby", 4, ["alice", "Bob", "carol", "server"]), "/who #lobby: %r" % (got,))
    for arg in ("#rust", "#RUST", "rust"):
        got = who_of(carol, arg)
        # R1: #rust is not carol's only room (she is not in it): tagged
        check(got == ("#rust", 2, ["alice", "Bob"]),
              "carol /who %s: `#rust *** 2 members: alice, Bob`, got %r" % (arg, got))
    carol.sendline("/who #nonexistent")
    carol.expect(no_such("#nonexistent"))
    bob.sendline("/part #lobby")
    bob.expect(you_left("#lobby"))
    got = who_of(bob)
    check(got == (None, 2, ["alice", "Bob"]), "bob in #rust alone: untagged: %r" % (got,))
    alice.sendline("/part #rust")
    alice.expect(you_left("#rust"))
    bob.expect("*** alice left (part)")
    got = who_of(bob)
    check(got[1:] == (1, ["Bob"]) and got[0] is None, "one member: %r" % (got,))


# ---------------------------------------------------------------------------
# nicks across rooms


def test_rooms_nick_change_and_quit_told_once_to_those_sharing_a_room_only():
    srv = serve()
    alice, bob, carol, dave = crew(srv, "alice", "bob", "carol", "dave")
    join(alice, "#x")  # alice and bob share #lobby, #x and #y
    join(alice, "#y")
    join(bob, "#x", n=2)
    join(bob, "#y", n=2)
    dave.sendline("/part #lobby")  # dave shares no room with anyone
    dave.expect(you_left("#lobby"))
    join(dave, "#z")
    for c in (alice, bob, carol, dave):
        seen(c)
    alice.sendline("/nick alicia")
    alice.nick = "alicia"
    a, b, c, d = told(alice, bob, carol, dave)
    line = "*** alice is now known as alicia"
    exactly_once(a, line, "alice herself")
    exactly_once(b, line, "bob (three rooms shared)")
    exactly_once(c, line, "carol (#lobby shared)")
    check(a == [line] and b == [line] and c == [line], "untagged, nothing else: %r %r %r" % (a, b, c))
    check(d == [], "dave shares no room with alice: %r" % d)
    alice.sendline("/quit see ya")
    alice.expect("*** bye")
    alice.expect_eof(3)
    time.sleep(0.2)
    b, c, d = seen(bob), seen(carol), seen(dave)
    line = "*** alicia left (quit: see ya)"
    check(b == [line], "bob: once, untagged, no per-room part notices: %r" % b)
    check(c == [line], "carol: %r" % c)
    check(d == [], "dave: %r" % d)
    # end of stream, no /quit: the same, once
    bob.close()
    carol.expect("*** bob left (connection closed)")
    time.sleep(0.3)
    c, d = seen(carol), seen(dave)
    check(c == [], "once: %r" % c)
    check(d == [], "dave: %r" % d)
    n, rows, _ = rooms_of(carol)
    check([r[0] for r in rows] == ["#lobby", "#z"], "#x and #y went with their members: %r" % rows)


def test_rooms_nicks_are_unique_across_rooms_and_private_messages_cross_them():
    srv = serve()
    alice, bob = crew(srv, "alice", "bob")
    alice.sendline("/part #lobby")
    alice.expect(you_left("#lobby"))
    bob.expect("*** alice left (part)")
    join(alice, "#a")
    for attempt in ("alice", "ALICE", "Alice"):
        bob.sendline("/nick " + attempt)
        bob.expect('! nick "%s" is in use' % attempt)
    bob.sendline("/msg alice across rooms")
    bob.expect("-> *alice* across rooms")
    alice.expect("*bob* across rooms")
    alice.sendline("/msg bob and back")
    bob.expect("*alice* and back")
    alice.sendline("/part")
    alice.expect(you_left("#a"))
    bob.sendline("/nick alice")  # in no room, still on the server
    bob.expect('! nick "alice" is in use')
    alice.sendline("/nick ally")
    alice.expect("*** alice is now known as ally")  # told to herself, in no room or not
    alice.nick = "ally"
    _, b = told(alice, bob)
    check(b == [], "bob shares no room with her: %r" % b)
    bob.sendline("/nick alice")  # free now
    bob.expect("*** bob is now known as alice")


# ---------------------------------------------------------------------------
# room names


def test_rooms_names_ignore_case_keep_first_spelling_and_hash_is_optional():
    srv = serve()
    alice, bob, carol = crew(srv, "alice", "bob", "carol")
    join(alice, "#RuSt")
    join(bob, "rust", "#RuSt", n=2)
    alice.expect("#RuSt *** bob joined")
    bob.sendline("/join #RUST")
    bob.expect(talking_in("#RuSt"))
    alice.sendline("hey")
    bob.expect("#RuSt <alice> hey")
    n, rows, _ = rooms_of(carol)
    check(("#RuSt", 2, None) in rows and n == 2, "shown as first spelt: %r" % rows)
    got = who_of(carol, "#rust")
    check(got == ("#RuSt", 2, ["alice", "bob"]), "/who #rust: %r" % (got,))
    bob.sendline("/switch #lobby")
    bob.expect(talking_in("#lobby"))
    bob.sendline("/switch RUST")
    bob.expect(talking_in("#RuSt"))
    alice.sendline("/part #rust")
    alice.expect(you_left("#RuSt"))
    bob.sendline("/part #RUST")
    bob.expect(you_left("#RuSt"))
    # the room is gone: the next one to make it spells it
    join(carol, "#rust")
    n, rows, _ = rooms_of(alice)
    check([r[0] for r in rows] == ["#lobby", "#rust"], "a new #rust: %r" % rows)
    # every character class a name may have, and 32 bytes
    for name in ("#team-2", "#v1.0", "#a_b", "#" + "X" * 32, "#0"):
        join(alice, name)
    n, rows, _ = rooms_of(bob)
    check(n == 7, "7 rooms: %r" % rows)


def test_rooms_invalid_names_get_one_error_line_and_change_nothing():
    srv = serve()
    alice, bob = crew(srv, "alice", "bob")
    before = rooms_of(bob)
    bad = ["#" + "x" * 33, "#bad!", "#caf\u00e9", "#", "##rust", "#a/b", "#a*b", "#a,b", "#<x>"]
    for name in bad:
        alice.sendline("/join " + name)
        a = seen(alice)
        check(len(a) == 1 and a[0].startswith('! invalid room name "%s": ' % name)
              and len(a[0]) > len('! invalid room name "%s": ' % name),
              "/join %s: one line `! invalid room name \"%s\": REASON`, got %r" % (name, name, a))
    # a bidi control in the name: refused, and not sent back raw either
    alice.sendline("/join #\u202erust")
    a = seen(alice)
    check(len(a) == 1 and a[0].startswith('! invalid room name "#') and "\u202e" not in a[0],
          "/join #<U+202E>rust: one cleaned error line, got %r" % a)
    alice.sendline("/join bad!")  # R9
    alice.expect(re.compile(r'^! invalid room name "#?bad!": .+$'))
    for cmd in ("/switch #bad!", "/who #bad!"):
        alice.sendline(cmd)
        a = seen(alice)
        check(len(a) == 1 and a[0].startswith('! invalid room name "#bad!": '),
              "%s: %r" % (cmd, a))
    alice.sendline("/join")
    alice.expect(re.compile(r"^! usage: "))
    # nothing changed: alice still talks in #lobby alone, bob saw no line
    alice.sendline("still here")
    bob.expect("<alice> still here")
    b = seen(bob)
    check(b == [], "bob saw nothing of it: %r" % b)
    check(rooms_of(bob) == before, "the same rooms: %r" % (rooms_of(bob),))
    join(alice, "#" + "x" * 32)  # 32 bytes is still a name


# ---------------------------------------------------------------------------
# limits


def test_rooms_max_rooms_per_member():
    srv = serve("--max-rooms-per-member", "3")
    alice, bob = crew(srv, "alice", "bob")
    join(alice, "#a")
    join(alice, "#b")  # #lobby, #a, #b: 3 (R4)
    alice.sendline("/join #c")
    alice.expect("! too many rooms: you are in 3 (max 3); /part one first")
    n, rows, _ = rooms_of(bob)
    check("#c" not in [r[0] for r in rows], "#c was not made: %r" % rows)
    alice.sendline("/join #a")  # one she is in: fine, it becomes current
    alice.expect(talking_in("#a"))
    alice.sendline("/part #b")
    alice.expect(you_left("#b"))
    join(alice, "#c")
    alice.sendline("/part #lobby")
    alice.expect(you_left("#lobby"))
    join(alice, "#d")
    alice.sendline("/join #lobby")
    alice.expect("! too many rooms: you are in 3 (max 3); /part one first")
    # bob is not held to alice's count
    join(bob, "#a", n=2)
    join(bob, "#e")
    bob.sendline("/join #f")
    bob.expect("! too many rooms: you are in 3 (max 3); /part one first")


def test_rooms_max_rooms_on_the_server():
    srv = serve("--max-rooms", "3")
    alice, bob = crew(srv, "alice", "bob")
    join(alice, "#r1")
    join(alice, "#r2")
    bob.sendline("/join #r3")  # #lobby, #r1, #r2: 3 (R4)
    bob.expect("! too many rooms on this server (max 3); /rooms lists them")
    join(bob, "#r1", n=2)  # an existing room is no new room
    n, rows, _ = rooms_of(bob)
    check(n == 3 and [r[0] for r in rows] == ["#lobby", "#r1", "#r2"], "%r" % rows)
    alice.sendline("/part #r2")
    alice.expect(you_left("#r2"))
    join(bob, "#r3")  # #r2 is gone: there is a place again
    alice.sendline("/join #r4")
    alice.expect("! too many rooms on this server (max 3); /rooms lists them")


def test_rooms_part_switch_who_of_rooms_one_is_not_in():
    srv = serve()
    alice, bob = crew(srv, "alice", "bob")
    join(bob, "#bobs")
    alice.sendline("/part #bobs")
    alice.expect(not_in("#bobs"))
    alice.sendline("/switch #bobs")
    alice.expect(not_in("#bobs"))
    alice.sendline("/switch bobs")
    alice.expect(not_in("#bobs"))
    for cmd in ("/part #nowhere", "/switch #nowhere"):
        alice.sendline(cmd)
        alice.expect(not_in_or_no_such("#nowhere"))  # R6
    alice.sendline("/who #nowhere")
    alice.expect(no_such("#nowhere"))
    alice.sendline("/who nowhere")
    alice.expect(no_such("#nowhere"))
    a, b = told(alice, bob)
    check(a == [] and b == [], "nothing else: %r %r" % (a, b))
    alice.sendline("still lobby")  # her current room did not move
    bob.expect("#lobby <alice> still lobby")
    n, rows, _ = rooms_of(bob)
    check([r[0] for r in rows] == ["#bobs", "#lobby"], "no #nowhere was made: %r" % rows)


def _send_pumping(c, data, until):
    """Sends data on c's non-blocking socket while reading what comes back,
    so that neither side's buffers stall the other. Returns the bytes sent
    (less than len(data) if the server closed the connection)."""
    sent = 0
    while sent < len(data) and time.monotonic() < until and not c.eof:
        try:
            sent += c.sock.send(data[sent:sent + 65536])
        except BlockingIOError:
            pass
        except OSError:
            break
        c._pull(time.monotonic() + 0.01)
    return sent


def test_rooms_ten_thousand_joins_under_flood_control_cost_nobody_else():
    # Defaults: 10 lines/s, a burst of 20, 10 s of held-back lines before a
    # disconnect, 32 rooms a member. The flooder gets its 32, errors after,
    # and is let go for flooding; the others chat all the while.
    srv = Server()
    watcher, talker, listener = crew(srv, "watcher", "talker", "listener")
    rss0 = proc_rss_kib(srv.proc.pid)
    flooder = srv.client(name="flooder")
    flooder.greeting()
    for c in (watcher, talker, listener):
        c.expect("*** %s joined" % flooder.nick)
    data = b"".join(b"/join #f%05d\n" % i for i in range(10000))
    t0 = time.monotonic()
    _send_pumping(flooder, data, t0 + 3)
    delays = []
    for i in range(5):
        t = time.monotonic()
        talker.sendline("still talking %d" % i)
        listener.expect("<talker> still talking %d" % i, timeout=3)
        delays.append(time.monotonic() - t)
        time.sleep(0.3)
    check(max(delays) < 1.0, "the room stays responsive during the flood: %r" % delays)
    flooder.expect("! too many rooms: you are in 32 (max 32); /part one first", timeout=8)
    n, rows, _ = rooms_of(watcher)
    check(n == 32, "#lobby and the flooder's 31 rooms: %d" % n)
    check(all(cnt == 1 for name, cnt, _ in rows if name != "#lobby"), "%r" % rows[:5])
    watcher.expect("*** %s left (flooding)" % flooder.nick, timeout=15)
    flooder.expect_eof(5)
    # Its last line, unless the close came as a reset (the server closes
    # with the flooder's unread lines in its socket) and took it along.
    check("! flooding: held back for 10 s; disconnecting" in flooder.history
          or flooder.eof_reason == "reset",
          "the flooder is told why: %s" % flooder._recent(4))
    joined = [l for l in flooder.history if re.match(r"^(#f\d+ )?\*\*\* you joined #f\d+", l)]
    check(len(joined) == 31, "31 rooms joined: %d" % len(joined))
    slow = [l for l in flooder.history if l.startswith("! slow down")]
    check(len(slow) == 1, "told to slow down once: %r" % slow)
    n, rows, _ = rooms_of(watcher)
    check(n == 1 and rows == [("#lobby", 4, None)], "its rooms went with it: %r" % rows)
    rss1 = proc_rss_kib(srv.proc.pid)
    check(rss1 - rss0 < 32 * 1024, "server RSS grew %d KiB" % (rss1 - rss0))
    talker.sendline("after the flood")
    listener.expect("<talker> after the flood")


def test_rooms_ten_thousand_joins_without_flood_control_stop_at_max_rooms():
    srv = serve("--max-rooms", "600", "--max-rooms-per-member", "1000")
    watcher, talker, listener = crew(srv, "watcher", "talker", "listener")
    rss0 = proc_rss_kib(srv.proc.pid)
    flooder = srv.client(name="flooder")
    flooder.greeting()
    delays = []
    t0 = time.monotonic()
    for k in range(10):  # 10 x 1000 joins, and a line through the room after each
        data = b"".join(b"/join #f%05d\n" % i for i in range(k * 1000, k * 1000 + 1000))
        check(_send_pumping(flooder, data, t0 + 30) == len(data), "the flooder could send")
        t = time.monotonic()
        talker.sendline("still talking %d" % k)
        listener.expect("<talker> still talking %d" % k, timeout=5)
        delays.append(time.monotonic() - t)
    check(max(delays) < 1.0, "the room stays responsive: %r" % delays)
    flooder.sendline("/nick")
    flooder.expect("*** you are %s" % flooder.nick, timeout=20)
    joined = [l for l in flooder.history if re.match(r"^(#f\d+ )?\*\*\* you joined #f\d+", l)]
    full = [l for l in flooder.history
            if l == "! too many rooms on this server (max 600); /rooms lists them"]
    check(len(joined) == 599, "R4: 599 rooms besides #lobby, got %d" % len(joined))
    check(len(joined) + len(full) == 10000, "one answer per /join: %d + %d"
          % (len(joined), len(full)))
    n, rows, more = rooms_of(watcher)
    check(n == 600 and len(rows) == 200 and more == "*** ... and 400 more",
          "/rooms: %d, %d lines, %r" % (n, len(rows), more))
    watcher.sendline("/join #late")
    watcher.expect("! too many rooms on this server (max 600); /rooms lists them")
    rss1 = proc_rss_kib(srv.proc.pid)
    check(rss1 - rss0 < 64 * 1024, "server RSS grew %d KiB for 600 rooms" % (rss1 - rss0))
    flooder.close()
    watcher.expect("*** %s left (connection closed)" % flooder.nick)
    n, rows, _ = rooms_of(watcher)
    check(n == 1 and rows == [("#lobby", 4, None)], "the rooms went: %d %r" % (n, rows[:3]))
    join(watcher, "#late")


def test_rooms_who_of_a_big_room_comes_in_pages_every_line_tagged():
    # "long lists continue on more lines with the same prefix": for a member
    # in several rooms the prefix starts with the room's tag, on every page.
    harness.raise_nofile_limit(1024)
    srv = serve("--max-per-ip", "0", "--announce-max", "1")
    crowd = []
    for i in range(200):  # 200 nicks of 32 bytes: ~6.6 KB of names, two pages
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        s.sendall(("/nick %s\n/join #big\n" % ("big%d" % i).ljust(32, "z")).encode())
        crowd.append(s)
    asker, = crew(srv, "asker")
    join(asker, "#big", n=201)
    for arg in ("#big", ""):
        asker.sendline("/who" + (" " + arg if arg else ""))
        lines = asker.lines_until_quiet(0.5, 10)
        check(lines and all(l.startswith("#big *** 201 members: ") for l in lines),
              "/who %s: every line `#big *** 201 members: ...`: %r"
              % (arg, [l[:40] for l in lines]))
        names = [n for l in lines for n in l.split(": ", 1)[1].split(", ")]
        check(len(lines) >= 2, "more than one line: %d" % len(lines))
        check(len(names) == 201 and names == sorted(names, key=str.lower) and "asker" in names,
              "all 201, sorted ignoring case: %d" % len(names))
    for s in crowd:
        s.close()


def test_rooms_announce_max_counts_each_room_on_its_own():
    # R10: "a join is told when the room has at most N members with the
    # newcomer, a leave when it has at most N without the leaver, and a leave
    # only if its join was told", read per room: #s is small even though the
    # lobby is not.
    srv = serve("--announce-max", "2")
    a, b, c = crew(srv, "a", "b", "c")
    for x in (a, b, c):
        x.sendline("/part #lobby")
        x.expect(you_left("#lobby"))
    join(a, "#s")
    join(b, "#s", n=2)
    a.expect("*** b joined")  # 2 with the newcomer: told
    join(c, "#s", n=3)  # 3: not told
    c.sendline("/part #s")  # 2 without c, but c's join was not told
    c.expect(you_left("#s"))
    _, x, y = told(c, a, b)
    check(x == [] and y == [], "c came and went unannounced: a %r, b %r" % (x, y))
    b.sendline("/part #s")
    b.expect(you_left("#s"))
    a.expect("*** b left (part)")


# ---------------------------------------------------------------------------
# options


def test_rooms_default_room_option_and_room_options_are_checked():
    srv = serve("--default-room", "#main")
    c = srv.client()
    c.expect(re.compile(r"^\*\*\* welcome to hichat, guest\d+ \(2 members here\); "
                        r"type /help for commands$"))
    c.nick = c.history[0].split()[4]
    n, rows, _ = rooms_of(c)
    check((n, rows) == (1, [("#main", 2, None)]), "only #main: %r" % ((n, rows),))
    got = who_of(c)
    check(got == (None, 2, [c.nick, "server"]), "/who of #main: %r" % (got,))
    join(c, "#lobby")  # an ordinary room now
    c.sendline("/part #main")
    c.expect(you_left("#main"))
    c.sendline("/part #lobby")
    c.expect(you_left("#lobby"))
    n, rows, _ = rooms_of(c)
    check(rows == [("#main", 1, None)], "#main stays, #lobby went: %r" % rows)
    d = srv.client()
    d.greeting()
    c.assert_no_line(re.compile(r"joined"), 0.3)  # c is in no room
    d.sendline("/who")
    d.expect(re.compile(r"^\*\*\* 2 members: guest\d+, server$"))
    # invalid values are usage errors that name the option
    for opt, bad in (("--default-room", "#bad name!"), ("--default-room", "#" + "x" * 33),
                     ("--max-rooms", "-1"), ("--max-rooms", "x"),
                     ("--max-rooms-per-member", "-1"), ("--max-rooms-per-member", "x")):
        r = run_hichat(["serve", "--port", "0", opt, bad])
        check(r.returncode == 2, "%s %r: exit 2, got %s (%r)" % (opt, bad, r.returncode, r.stderr))
        check(opt in r.stderr, "%s %r: the message names the option: %r" % (opt, bad, r.stderr))
    r = run_hichat(["serve", "--help"])
    for opt in ("--default-room", "--max-rooms", "--max-rooms-per-member"):
        check(opt in r.stdout, "serve --help mentions %s" % opt)


def test_rooms_help_lists_the_room_commands():
    srv = serve()
    c, = crew(srv, "helpme")
    c.sendline("/help")
    lines = c.lines_until_quiet(0.4, 5)
    text = "\n".join(lines)
    check(all(l.startswith("*** ") for l in lines), "/help lines are notices: %r" % lines)
    for cmd in ("/join", "/part", "/switch", "/rooms", "/topic", "/who"):
        check(cmd in text, "/help mentions %s: %r" % (cmd, lines))


# ---------------------------------------------------------------------------
# other transports, and the console


class UdpPeer(LineSource):
    """A raw UDP socket as a LineSource: each datagram's lines are lines."""

    def __init__(self, port, name="udp"):
        super().__init__()
        self.name = name
        self.nick = None
        self.addr = ("127.0.0.1", port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        harness._register(self)  # closed by cleanup_all() like every client

    def send(self, data):
        self.sock.sendto(data.encode() if isinstance(data, str) else data, self.addr)

    def sendline(self, text):
        self.send((text.encode() if isinstance(text, str) else text) + b"\n")

    def _pull(self, deadline):
        r, _, _ = select.select([self.sock], [], [], max(0.0, deadline - time.monotonic()))
        while r:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return
            for raw in data.split(b"\n"):
                if raw:
                    line = decode_line(raw)
                    self.pending.append(line)
                    self.history.append(line)
            r, _, _ = select.select([self.sock], [], [], 0)

    def admit(self, nick):
        """Proves the address (/join TOKEN), reads the greeting, takes a nick."""
        self.send(b"/join" + b" " * 120 + b"\n")  # enough bytes for the token line
        m = self.expect_match(r"^\*\*\* udp: to receive the room, send /join ([0-9a-f]{32})$")
        self.sendline("/join " + m.group(1))
        old = self.greeting()
        self.sendline("/nick " + nick)
        self.expect("*** %s is now known as %s" % (old, nick))
        self.nick = nick

    def teardown(self):
        self.sock.close()


def test_rooms_udp_members_join_rooms_and_see_tags():
    srv = serve("--udp")
    srv.wait_log(r"^listening on udp:")
    tcp, = crew(srv, "tcp")
    # an unproven address that says /join #room gets the token, and no room
    stranger = UdpPeer(srv.port, "stranger")
    stranger.send(b"/join #sneaky" + b" " * 120 + b"\n")
    stranger.expect(re.compile(r"^\*\*\* udp: to receive the room, send /join [0-9a-f]{32}$"))
    u = UdpPeer(srv.port, "udp-a")
    u.admit("ua")
    tcp.expect(re.compile(r"^\*\*\* guest\d+ is now known as ua$"))
    n, rows, _ = rooms_of(tcp)
    check([r[0] for r in rows] == ["#lobby"], "no #sneaky: %r" % rows)
    # admitted, /join #NAME is a room
    u.sendline("/join #udp")
    u.expect(you_joined("#udp", 1))
    join(tcp, "#udp", n=2)
    u.expect("#udp *** tcp joined")
    tcp.sendline("over the stream")
    u.expect("#udp <tcp> over the stream")
    u.sendline("over datagrams")
    tcp.expect("#udp <ua> over datagrams")
    u.sendline("/msg #lobby to the lobby")
    tcp.expect("#lobby <ua> to the lobby")
    u.sendline("/join udp2")  # no '#': a room too, not a token
    u.expect(you_joined("#udp2", 1))
    u.sendline("/part #lobby")
    u.expect(you_left("#lobby"))
    u.sendline("/part #udp2")
    u.expect(you_left("#udp2"))
    tcp.sendline("one room now")
    u.expect("<tcp> one room now")  # ua is in #udp alone: untagged
    u.sendline("/rooms")
    u.expect(ROOMS_HEAD_RE)
    got = who_of(tcp, "#udp")
    check(got == ("#udp", 2, ["tcp", "ua"]), "/who #udp: %r" % (got,))
    u.sendline("/quit")
    u.expect("*** bye")
    tcp.expect("*** ua left (quit)")


def test_rooms_udp_member_that_falls_silent_takes_its_rooms_along():
    srv = serve("--udp", "--udp-timeout", "1")
    srv.wait_log(r"^listening on udp:")
    tcp, = crew(srv, "tcp")
    u = UdpPeer(srv.port, "udp-b")
    u.admit("ub")
    u.sendline("/join #quiet")
    u.expect(you_joined("#quiet", 1))
    u.sendline("/topic soon gone")
    u.expect("#quiet *** ub set the topic: soon gone")
    n, rows, _ = rooms_of(tcp)
    check(("#quiet", 1, "soon gone") in rows, "%r" % rows)
    tcp.expect("*** ub left (no datagram in time)", timeout=5)
    n, rows, _ = rooms_of(tcp)
    check([r[0] for r in rows] == ["#lobby"], "#quiet went with ub: %r" % rows)


def test_rooms_unix_socket_members_join_rooms_and_see_tags():
    path = os.path.join(tmpdir(), "rooms.sock")
    srv = serve("--unix", path)
    srv.wait_log(r"^listening on unix:")
    tcp, = crew(srv, "tcp")
    local = Client(None, unix=path, name="local")
    old = local.greeting()
    local.sendline("/nick local")
    local.expect("*** %s is now known as local" % old)
    local.nick = "local"
    tcp.expect("*** %s is now known as local" % old)
    join(local, "#sock")
    join(tcp, "sock", "#sock", n=2)
    local.expect("#sock *** tcp joined")
    tcp.sendline("hello socket")
    local.expect("#sock <tcp> hello socket")
    local.sendline("hello tcp")
    tcp.expect("#sock <local> hello tcp")
    local.sendline("/part #lobby")
    local.expect(you_left("#lobby"))
    tcp.expect("#lobby *** local left (part)")
    tcp.sendline("again")
    local.expect("<tcp> again")
    local.sendline("/topic sockets")
    local.expect("*** local set the topic: sockets")
    tcp.expect("#sock *** local set the topic: sockets")


def test_rooms_server_console_joins_a_room_and_talks_there():
    log = os.path.join(tmpdir(), "rooms-console.stderr")
    cmd = "%s serve --port 0 --nick boss --msg-rate 0 2>%s" % (shlex.quote(HICHAT), shlex.quote(log))
    t = Tmux(cmd, width=200, height=40)
    port = harness.logged_port(log)
    ops, = crew(_PortOnly(port), "ops")
    lob = _PortOnly(port).client(name="lob")
    lob.nick = lob.greeting()
    ops.expect("*** %s joined" % lob.nick)
    t.wait_screen(r"\*\*\* %s joined" % lob.nick)
    t.type_line("/join #ops")
    t.wait_screen(r"you joined #ops \(1 members? here\)")
    join(ops, "#ops", n=2)
    t.wait_screen(r"#ops \*\*\* ops joined")
    t.type_line("hello ops")
    ops.expect("#ops <boss> hello ops")
    ops.sendline("hello boss")
    t.wait_screen(r"#ops <ops> hello boss")
    t.type_line("/switch #lobby")
    t.wait_screen(r"now talking in #lobby")
    t.type_line("hello lobby")
    lob.expect("<boss> hello lobby")
    ops.expect("#lobby <boss> hello lobby")
    t.type_line("/msg #ops by name")
    ops.expect("#ops <boss> by name")
    told(ops, lob)
    check(not any("ops" in x for x in lob.history), "lob (#lobby only) saw #ops: %r" % lob.history)
    # the default room stays, even with nobody in it
    t.type_line("/part #lobby")
    t.wait_screen(r"you left #lobby")
    for c in (ops, lob):
        c.sendline("/part #lobby")
        c.expect(you_left("#lobby"))
    n, rows, _ = rooms_of(ops)
    check(("#lobby", 0, None) in rows and ("#ops", 2, None) in rows,
          "#lobby with 0 members stays: %r" % rows)
    t.key("C-c")
    ops.expect("*** server shutting down")
    deadline = time.monotonic() + 5
    while t.alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    scan_for_sanitizer("rooms console server", open(log).read())


class _PortOnly:
    """What crew() needs of a Server, for one started elsewhere (in tmux)."""

    def __init__(self, port):
        self.port = port

    def client(self, **kw):
        return Client(self.port, **kw)
