"""/who in a crowd: the list comes a page at a time as the asker reads it,
each page paid for like a line, and never costs the asker its seat (issue 13,
point 2)."""

import re
import socket
import time

from harness import Server, check, raise_nofile_limit

WHO_RE = re.compile(r"^\*\*\* (\d+) members: (.*)$")


def _crowd(port, n, prefix):
    """n members named prefix + a number padded to 32 bytes; they never read."""
    socks = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        nick = ("%s%d" % (prefix, i)).ljust(32, "x")
        s.sendall(("/nick %s\n" % nick).encode())
        socks.append(s)
    return socks


def _names(lines):
    names = []
    for l in lines:
        m = WHO_RE.match(l)
        if m:
            names += m.group(2).split(", ")
    return names


def test_who_larger_than_the_queue_bound_is_paged_not_a_lost_seat():
    # 300 nicks of 32 bytes: a 10 KB list against a 4 KB --max-queue. It
    # used to be queued at once, and the asker was dropped for it.
    raise_nofile_limit(1024)
    srv = Server("--max-queue", "4096", "--max-per-ip", "0", "--announce-max", "1",
                 "--msg-rate", "0")
    crowd = _crowd(srv.port, 300, "m")
    asker = srv.client()
    asker.greeting()
    deadline = time.monotonic() + 10
    while True:  # every /nick taken
        asker.sendline("/who")
        lines = asker.lines_until_quiet(0.3, 10)
        check(not asker.eof, "the asker lost its seat: %s" % asker.eof_reason)
        names = _names(lines)
        if len(names) == 302:
            break
        check(time.monotonic() < deadline, "listed %d of 302" % len(names))
    check(names[0] == asker.nick and names[-1] == "server", "sorted: %r ... %r" % (names[0], names[-1]))
    check(names[1:301] == sorted(n for n in names if n.startswith("m")), "in /who order")
    check("output queue full" not in srv.stderr(), srv.log_tail())
    for s in crowd:
        s.close()


def test_who_pages_are_paid_for_like_lines():
    # With 1 line a second and a burst of 1, a list of 3 pages takes about
    # 2 s to finish, and the asker's own next line waits behind it.
    raise_nofile_limit(1024)
    srv = Server("--max-per-ip", "0", "--announce-max", "1", "--msg-rate", "1",
                 "--msg-burst", "1")
    crowd = _crowd(srv.port, 300, "p")  # ~10 KB of names: 3 pages of 4 KB
    time.sleep(0.5)
    asker = srv.client()
    asker.greeting()
    time.sleep(1.1)  # a full bucket
    asker.sendline("/who")
    t0 = time.monotonic()
    first = asker.lines_until_quiet(0.4, 3)
    check(0 < len(_names(first)) < 302, "the first page alone at once: %d names" % len(_names(first)))
    rest = asker.lines_until_quiet(1.5, 10)
    names = _names(first) + _names(rest)
    check(len(names) == 302, "all 302 in the end, got %d" % len(names))
    check(time.monotonic() - t0 >= 1.5, "the pages came at the line rate")
    for s in crowd:
        s.close()


def test_who_over_udp_goes_as_far_as_flood_control_pays():
    # No queue to pace a datagram member by: it gets the pages its flood
    # control pays for at once, and is told where the list stops.
    raise_nofile_limit(1024)
    srv = Server("--udp", "--max-per-ip", "0", "--announce-max", "1", "--msg-rate", "1",
                 "--msg-burst", "2")
    crowd = _crowd(srv.port, 300, "u")  # ~10 KB of names: 3 pages
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(3)
    u.sendto(b"/join" + b" " * 200 + b"\n", ("127.0.0.1", srv.port))
    token = re.search(rb"/join ([0-9a-f]{32})", u.recv(4096)).group(1)
    u.sendto(b"/join " + token + b"\n", ("127.0.0.1", srv.port))
    check(b"welcome" in u.recv(4096), "joined")
    time.sleep(2.5)  # a full bucket: 2 lines, for /who and one more page
    u.sendto(b"/who\n", ("127.0.0.1", srv.port))
    lines = []
    try:
        while True:
            lines += u.recv(65536).decode().splitlines()
    except socket.timeout:
        pass
    names = _names(lines)
    check(0 < len(names) < 302, "part of the list: %d names" % len(names))
    check(re.match(r"^\*\*\* \.\.\. the list goes on after \S+: ask again in a while$", lines[-1]),
          "says where it stops: %r" % lines[-1:])
    for s in crowd:
        s.close()
