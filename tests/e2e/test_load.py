"""Load: broadcast storm with abrupt disconnects, 1,000 clients, slow readers."""

import re
import selectors
import socket
import time

from harness import Server, _register, check, joined_clients

MSG_RE = re.compile(r"^<(\S+)> m (\d+) ")


def _check_in_order(client, got, senders, counts):
    """`got`: lines `<nick> m I ...`; each sender's must be 0..counts-1 in order."""
    per = {s: [] for s in senders}
    for line in got:
        m = MSG_RE.match(line)
        check(m and m.group(1) in per, "%s: unexpected line %r" % (client.name, line[:80]))
        per[m.group(1)].append(int(m.group(2)))
    for s in senders:
        seq = per[s]
        if seq != list(range(counts[s])):
            first_bad = next((i for i, v in enumerate(seq) if v != i), len(seq))
            raise AssertionError("%s: messages from %s: %d of %d, first wrong at index %d (%r)"
                                 % (client.name, s, len(seq), counts[s], first_bad,
                                    seq[first_bad:first_bad + 5]))


def test_broadcast_storm_with_abrupt_disconnects_server_survives_no_loss():
    srv = Server("--msg-rate", "0")
    clients = joined_clients(srv, 20)
    senders = clients[:3]
    victims = clients[3:9]
    keepers = clients[9:]
    closed_victims = victims[0::2]
    reset_victims = victims[1::2]
    per_round = 25
    rounds = 16
    counts = {s.nick: 0 for s in senders}
    pad = "x" * 60
    vi = 0
    for rnd in range(rounds):
        for s in senders:
            base = counts[s.nick]
            s.send("".join("m %d %s %s\n" % (base + i, s.nick, pad) for i in range(per_round)))
            counts[s.nick] += per_round
        if rnd >= 3 and vi < len(victims):
            v = victims[vi]
            vi += 1
            if v in reset_victims:
                v.reset()
            else:
                v.drain()
                v.close()
        for c in senders + keepers:
            c.drain()
        time.sleep(0.005)

    survivors = senders + keepers
    for c in survivors:
        others = [s.nick for s in senders if s is not c]
        want = sum(counts[o] for o in others)
        got = c.collect(MSG_RE, want, timeout=15)
        _check_in_order(c, got, others, counts)

    check(srv.alive(), "server died during the storm; stderr tail:\n" + srv.log_tail())

    # every victim's departure announced exactly once, with a sensible reason
    watcher = keepers[0]
    watcher.lines_until_quiet(0.3, 3)
    for v in victims:
        lines = [l for l in watcher.history if l.startswith("*** %s left" % v.nick)]
        check(len(lines) == 1, "%s: departure of %s announced %d times: %r"
              % (watcher.name, v.nick, len(lines), lines))
        if v in reset_victims:
            check(lines[0] == "*** %s left (connection reset)" % v.nick, "got %r" % lines[0])
        else:
            check(lines[0] in ("*** %s left (connection closed)" % v.nick,
                               "*** %s left (connection reset)" % v.nick), "got %r" % lines[0])

    # the server still answers
    watcher.sendline("/who")
    m = watcher.expect_match(r"^\*\*\* (\d+) members: (.*)$")
    names = set(x.strip() for x in m.group(2).split(","))
    want = set(c.nick for c in survivors) | {"server"}
    check(int(m.group(1)) == len(want) and names == want,
          "/who after storm: %r, expected %d members %s" % (m.group(0), len(want), sorted(want)))
    c2 = srv.client()
    c2.greeting()
    check(srv.alive(), "server died")


class _SocketPile:
    """Lots of raw non-blocking sockets, closed on teardown."""

    def __init__(self):
        self.socks = []
        _register(self)

    def teardown(self):
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass


def test_thousand_clients_connect_at_once_and_all_receive_one_message():
    n = 1000
    srv = Server("--max-per-ip", "0")
    pile = _SocketPile()
    sel = selectors.DefaultSelector()
    state = {}
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        pile.socks.append(s)
        s.setblocking(False)
        err = s.connect_ex(("127.0.0.1", srv.port))
        check(err in (0, 115, 11), "connect_ex #%d: errno %d" % (i, err))  # EINPROGRESS/EAGAIN
        st = {"i": i, "buf": b"", "nick": None, "lines": 0, "got": [], "eof": False}
        state[s] = st
        sel.register(s, selectors.EVENT_READ, st)

    def pump(until, timeout, what):
        deadline = time.monotonic() + timeout
        while not until():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out (%.0fs) waiting for %s" % (timeout, what))
            for key, _ in sel.select(min(left, 0.5)):
                s, st = key.fileobj, key.data
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    continue
                except OSError as e:
                    data = b""
                    st["err"] = str(e)
                if not data:
                    st["eof"] = True
                    sel.unregister(s)
                    continue
                st["buf"] += data
                *lines, st["buf"] = st["buf"].split(b"\n")
                for raw in lines:
                    line = raw.decode("utf-8", "backslashreplace")
                    st["lines"] += 1
                    if st["nick"] is None:
                        m = re.match(r"^\*\*\* welcome to hichat, ([^\s,(]+)", line)
                        if m:
                            st["nick"] = m.group(1)
                            continue
                    if line.startswith("<") or line.startswith("*** 1001 members:") or \
                            re.match(r"^\*\*\* \d+ members:", line):
                        st["got"].append(line)

    pump(lambda: all(st["nick"] or st["eof"] for st in state.values()), 30,
         "1000 greetings")
    dead = [st for st in state.values() if st["eof"]]
    check(not dead, "%d of %d connections closed before/after the greeting (first: %r)"
          % (len(dead), n, dead[0] if dead else None))
    nicks = [st["nick"] for st in state.values()]
    check(len(set(nicks)) == n, "only %d distinct nicks among %d clients" % (len(set(nicks)), n))

    sender = pile.socks[0]
    snick = state[sender]["nick"]
    sender.setblocking(True)
    sender.sendall(b"hello thousand\n")
    sender.setblocking(False)
    want = "<%s> hello thousand" % snick
    others = [st for s, st in state.items() if s is not sender]
    pump(lambda: all(want in st["got"] or st["eof"] for st in others), 30,
         "the message to reach all 999 others")
    missing = [st["nick"] for st in others if want not in st["got"]]
    check(not missing, "%d members did not get the message (eg %s)" % (len(missing), missing[:5]))
    dead = [st["nick"] for st in state.values() if st["eof"]]
    check(not dead, "%d clients were disconnected: %s" % (len(dead), dead[:5]))
    check(want not in state[sender]["got"], "sender got its own line")

    # /who lists 1001 members (long lists continue on more lines, same prefix)
    asker = pile.socks[1]
    ast = state[asker]
    ast["got"].clear()
    asker.setblocking(True)
    asker.sendall(b"/who\n")
    asker.setblocking(False)

    def who_names():
        names = []
        for line in ast["got"]:
            m = re.match(r"^\*\*\* 1001 members: (.*)$", line)
            if m:
                names += [x.strip() for x in m.group(1).split(",") if x.strip()]
        return names

    pump(lambda: len(who_names()) >= n + 1 or ast["eof"], 10, "/who listing 1001 members")
    names = set(who_names())
    check(names == set(nicks) | {"server"}, "/who names differ: missing %s, extra %s"
          % (sorted(set(nicks) | {"server"} - names)[:5], sorted(names - set(nicks) - {"server"})[:5]))
    check(srv.alive(), "server died")
    sel.close()


def test_client_that_never_reads_is_dropped_others_get_every_message():
    srv = Server("--max-queue", "65536", "--msg-rate", "0")
    members = joined_clients(srv, 4)
    senders = members[:2]
    slow = srv.client(rcvbuf=4096)  # never calls recv
    slow_nick = members[0].expect_match(r"^\*\*\* (\S+) joined$").group(1)
    for m in members[1:]:
        m.expect("*** %s joined" % slow_nick)
    left_re = re.compile(r"^\*\*\* %s left \(" % re.escape(slow_nick))

    counts = {s.nick: 0 for s in senders}
    pad = "y" * 200
    deadline = time.monotonic() + 20
    watcher = members[-1]
    seen_at = None
    scanned = 0
    extra_rounds = 0
    total_bytes = 0
    while extra_rounds < 20:
        check(time.monotonic() < deadline,
              "%s not disconnected after %d bytes of chat (20 s)" % (slow_nick, total_bytes))
        for s in senders:
            base = counts[s.nick]
            chunk = "".join("m %d %s\n" % (base + i, pad) for i in range(40))
            s.send(chunk)
            total_bytes += len(chunk)
            counts[s.nick] += 40
        for m in members:
            m.drain()
            check(not m.eof, "%s (a reading member) was disconnected: %s%s"
                  % (m.name, m.eof_reason, m._recent(3)))
        if seen_at is None:
            for line in watcher.history[scanned:]:
                if left_re.match(line):
                    seen_at = total_bytes
            scanned = len(watcher.history)
        else:
            extra_rounds += 1
        time.sleep(0.002)

    for m in members:
        others = [s.nick for s in senders if s is not m]
        got = m.collect(MSG_RE, sum(counts[o] for o in others), timeout=15)
        _check_in_order(m, got, others, counts)
        m.lines_until_quiet(0.2, 2)
        lefts = [l for l in m.history if left_re.match(l)]
        check(lefts == ["*** %s left (output queue full)" % slow_nick],
              "%s saw departure notices %r, expected one '(output queue full)'" % (m.name, lefts))
    srv.wait_log(r"^disconnect 127\.0\.0\.1:\d+ %s \(output queue full\)$" % re.escape(slow_nick), 3)
    # the slow client's connection really is closed: reading it ends in EOF/reset
    slow.expect_eof(10)
    check(srv.alive(), "server died")
