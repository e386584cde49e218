"""Every transport the seeds describe: TCP over IPv4 and IPv6 (with the
[::1]:PORT syntax), Unix-domain sockets, and UDP."""

import os
import re
import socket
import stat
import struct
import time

from harness import (HICHAT, Client, HichatConnect, ProcClient, Server, check, run_hichat,
                     tmpdir)


def sock_path(name):
    return os.path.join(tmpdir(), name)


def test_unix_socket_chat_with_tcp_members_in_the_same_room():
    path = sock_path("room.sock")
    srv = Server("--unix", path)
    srv.wait_log(r"^listening on unix:%s$" % re.escape(path))
    check(stat.S_ISSOCK(os.stat(path).st_mode), "a socket file at %s" % path)
    tcp = srv.client()
    tcp.greeting()
    u = ProcClient([HICHAT, "connect", "--unix", path, "--nick", "local"], name="unix-connect")
    tcp.expect(re.compile(r"is now known as local$"))
    u.sendline("over a unix socket")
    tcp.expect("<local> over a unix socket")
    tcp.sendline("over tcp")
    u.expect("<%s> over tcp" % tcp.nick)
    srv.wait_log(r"^connect unix:%s guest\d+$" % re.escape(path))
    u.close_stdin()
    check(u.wait(5) == 0, "unix client exits 0")
    check(srv.stop() == 0, "server exits 0")
    check(not os.path.exists(path), "the socket file is removed at shutdown")


def test_unix_stale_socket_replaced_live_one_and_non_socket_refused():
    path = sock_path("stale.sock")
    # A stale socket: bound by a process that is gone, nobody listening.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()
    check(os.path.exists(path), "stale socket file left behind")
    srv = Server("--no-tcp", "--unix", path, ready=r"^listening on unix:")
    c = Client(None, unix=path)
    c.greeting()
    # A live one is not taken over.
    r = run_hichat(["serve", "--no-tcp", "--unix", path])
    check(r.returncode == 1 and "another server is listening there" in r.stderr,
          "a second server refuses: %r" % r.stderr)
    c.sendline("still mine")
    # Something that is not a socket is never removed.
    plain = sock_path("not-a-socket")
    open(plain, "w").write("precious\n")
    r = run_hichat(["serve", "--no-tcp", "--unix", plain])
    check(r.returncode == 1 and "exists and is not a socket" in r.stderr, r.stderr)
    check(open(plain).read() == "precious\n", "the file is untouched")
    # Path length is checked, with the limit named.
    r = run_hichat(["serve", "--no-tcp", "--unix", "/tmp/" + "x" * 120])
    check(r.returncode == 1 and "too long (at most 107 bytes)" in r.stderr, r.stderr)
    r = run_hichat(["connect", "--unix", sock_path("nothing-here")])
    check(r.returncode == 1 and "ENOENT" in r.stderr, r.stderr)
    r = run_hichat(["serve", "--no-tcp"])
    check(r.returncode == 2, "--no-tcp alone is a usage error")


def test_ipv6_bracket_syntax_and_v4_mapped_peers_shown_as_ipv4():
    srv = Server(bind="::")
    four = srv.client(host="127.0.0.1")
    four.greeting()
    six = HichatConnect(srv.port, host="::1", nick="six")  # connects to [::1]:PORT
    four.expect(re.compile(r"is now known as six$"))
    six.sendline("hello over v6")
    four.expect("<six> hello over v6")
    srv.wait_log(r"^connect \[::1\]:\d+ guest\d+$")
    srv.wait_log(r"^connect 127\.0\.0\.1:\d+ guest\d+$")  # not [::ffff:127.0.0.1]
    r = run_hichat(["connect", "[::1]:1"])
    check(r.returncode == 1 and "ECONNREFUSED" in r.stderr and "[::1]:1" in r.stderr, r.stderr)
    r = run_hichat(["connect", "[::1"])
    check(r.returncode == 2 and "missing ']'" in r.stderr, r.stderr)


class Udp:
    """A raw UDP peer (what nc -u does), counting bytes both ways."""

    def __init__(self, port, host="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                                  socket.SOCK_DGRAM)
        self.addr = (host, port)
        self.sock.settimeout(0.3)
        self.sent = self.received = 0
        self.lines = []

    def send(self, data):
        self.sock.sendto(data, self.addr)
        self.sent += len(data)

    def pump(self, wait=0.3):
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            self.received += len(data)
            self.lines += data.decode("utf-8", "replace").splitlines()
        return self.lines

    def expect(self, rx, timeout=3.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines:
                m = re.search(rx, line)
                if m:
                    self.lines.remove(line)
                    return m
            self.pump(0.1)
        raise AssertionError("udp peer never got /%s/; got %r" % (rx, self.lines))


def test_udp_room_two_hichat_clients_and_a_tcp_member():
    srv = Server("--udp")
    srv.wait_log(r"^listening on udp:127\.0\.0\.1:%d$" % srv.port)  # same port as TCP
    tcp = srv.client()
    tcp.greeting()
    a = HichatConnect(srv.port, nick="ua", extra=("--udp",))
    b = HichatConnect(srv.port, nick="ub", extra=("--udp",))
    a.expect(re.compile(r"^\*\*\* welcome to hichat, ua \(\d members here\)"))
    b.expect(re.compile(r"^\*\*\* welcome to hichat, ub \(\d members here\)"))
    a.sendline("datagram from ua")
    b.expect("<ua> datagram from ua")
    tcp.expect("<ua> datagram from ua")
    tcp.sendline("stream to datagrams")
    a.expect("<%s> stream to datagrams" % tcp.nick)
    b.expect("<%s> stream to datagrams" % tcp.nick)
    b.sendline("/who")
    b.expect(re.compile(r"^\*\*\* 4 members: %s, server, ua, ub$" % tcp.nick))
    a.close_stdin()  # EOF: /quit, "*** bye", exit 0
    check(a.wait(5) == 0, "udp client exits 0 after /quit")
    tcp.expect("*** ua left (quit)")
    srv.wait_log(r"^disconnect udp:127\.0\.0\.1:\d+ ua \(quit\)$")


def test_udp_never_amplifies_toward_an_unproven_address():
    srv = Server("--udp")
    tcp = srv.client()
    tcp.greeting()
    u = Udp(srv.port)
    u.send(b"hello\n")  # 6 bytes: the token prompt (~72 bytes) does not fit
    u.pump(0.4)
    check(u.received == 0, "nothing sent back for 6 bytes: got %d" % u.received)
    tcp.sendline("a long line to the whole room " + "z" * 200)
    u.pump(0.3)
    check(u.received <= u.sent, "never more than received: %d > %d" % (u.received, u.sent))
    u.send(b"/join please, here are enough bytes for your answer, thank you, really\n")
    m = u.expect(r"^\*\*\* udp: to receive the room, send /join ([0-9a-f]{32})$")
    check(u.received <= u.sent, "the prompt fitted: %d <= %d" % (u.received, u.sent))
    u.send(b"/join " + b"0" * 32 + b"\n")  # a wrong token proves nothing
    for i in range(20):
        tcp.sendline("room traffic %d %s" % (i, "r" * 100))  # ~2.5 KB toward it
    u.pump(0.4)
    check(u.received <= u.sent, "still never more than received: %d > %d"
          % (u.received, u.sent))
    u.send(b"/join " + m.group(1).encode() + b"\n")
    u.expect(r"^\*\*\* welcome to hichat, guest\d+")
    tcp.sendline("now you hear me")
    u.expect(r"^<%s> now you hear me$" % re.escape(tcp.nick))


def _udp_token(u):
    """Asks for u's token (padded, so that the answer fits) and returns it."""
    u.send(b"/join " + b" " * 100 + b"\n")
    return u.expect(r"^\*\*\* udp: to receive the room, send /join ([0-9a-f]+)$").group(1)


def _udp_join(port, host="127.0.0.1"):
    """A raw UDP peer that proved its address."""
    u = Udp(port, host)
    u.send(b"/join " + _udp_token(u).encode() + b"\n")
    return u


def _old_token_secret(token, sockaddr):
    """Undoes the old /join token (an invertible mix of a 64-bit secret):
    from one token and the address it was for, the secret."""
    mask = (1 << 64) - 1
    inv = pow(0x100000001B3, -1, 1 << 64)
    h = int(token, 16)
    for a in reversed(sockaddr):
        h ^= h >> 31  # x ^ (x >> 31) is undone by applying it again twice
        h ^= h >> 62
        h = (h * inv) & mask
        h ^= a
    return h ^ 0x9E3779B97F4A7C15


def _old_token(secret, sockaddr):
    mask = (1 << 64) - 1
    h = secret ^ 0x9E3779B97F4A7C15
    for a in sockaddr:
        h ^= a
        h = (h * 0x100000001B3) & mask
        h ^= h >> 31
    return "%016x" % h


def _sockaddr_in(port):
    return struct.pack("<H", socket.AF_INET) + struct.pack(">H", port) + \
        socket.inet_aton("127.0.0.1") + b"\0" * 8


def test_udp_token_for_one_address_says_nothing_of_another():
    # The old token was a mix of a 64-bit secret that one token undid:
    # with it a spoofed address could be "proved". Now it is HMAC-SHA256
    # under a 256-bit key: a token computed that way is refused.
    srv = Server("--udp")
    tcp = srv.client()
    tcp.greeting()
    a = Udp(srv.port)
    token = _udp_token(a)
    secret = _old_token_secret(token[:16], _sockaddr_in(a.sock.getsockname()[1]))
    b = Udp(srv.port)
    b.send(b"\n")  # learn b's port; an empty line is a keepalive, unanswered
    forged = _old_token(secret, _sockaddr_in(b.sock.getsockname()[1]))
    b.send(b"/join " + forged.encode() + b" " * 100 + b"\n")
    b.pump(0.5)
    check(not any("welcome" in l for l in b.lines), "a forged token was taken: %r" % b.lines)
    check(len(token) == 32, "a 128-bit token, got %r" % token)


def test_udp_unproven_address_is_not_a_member_and_says_nothing():
    srv = Server("--udp")
    tcp = srv.client()
    tcp.greeting()
    u = Udp(srv.port)
    u.send(b"hello from nowhere " + b"h" * 80 + b"\n")
    tcp.assert_no_line(re.compile(r"hello from nowhere|joined"), within=0.4)
    tcp.sendline("/who")
    tcp.expect(re.compile(r"^\*\*\* 2 members: %s, server$" % re.escape(tcp.nick)))
    u.expect(r"^\*\*\* udp: to receive the room, send /join [0-9a-f]{32}$")


def test_udp_peers_count_toward_max_per_ip_and_max_clients():
    srv = Server("--udp", "--max-per-ip", "3", "--max-clients", "4")
    peers = [_udp_join(srv.port) for _ in range(3)]
    for p in peers:
        p.expect(r"^\*\*\* welcome to hichat, guest\d+")
    fourth = _udp_join(srv.port)  # a fourth source port of the same address
    fourth.expect(r"^! too many connections from your address \(max 3\); try again later$")
    c = srv.client()  # a TCP connection from the same address is refused too
    c.expect(re.compile(r"^! too many connections from your address \(max 3\)"))
    # Datagrams from unproven ports fill nothing: another address gets in.
    junk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(300):
        junk.sendto(b"", ("127.0.0.1", srv.port))
        j2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        j2.sendto(b"x\n", ("127.0.0.1", srv.port))
        j2.close()
    d = socket.socket()  # from another address: the room has a seat for it
    d.bind(("127.0.0.2", 0))
    d.settimeout(5)
    d.connect(("127.0.0.1", srv.port))
    check(re.match(rb"^\*\*\* welcome to hichat", d.recv(200)), "another address gets in")
    d.close()


def test_udp_line_length_is_max_line_exactly():
    srv = Server("--udp", "--max-line", "200")
    tcp = srv.client()
    tcp.greeting()
    u = _udp_join(srv.port)
    u.expect(r"^\*\*\* welcome to hichat, guest\d+")
    u.send(b"y" * 200)  # exactly --max-line, no LF: a line
    tcp.expect(re.compile(r"^<guest\d+> y{200}$"))
    u.send(b"x" * 201)  # one byte more: refused, like a stream's line
    u.expect(r"^! line too long \(max 200 bytes\); discarded$")
    u.send(b"z" * 199 + b"\r\n")
    tcp.expect(re.compile(r"^<guest\d+> z{199}$"))
    tcp.assert_no_line(re.compile(r"xxxx"), within=0.3)


def test_udp_with_real_nc_truncation_and_forgetting_silent_peers():
    srv = Server("--udp", "--udp-timeout", "1", "--max-line", "200")
    tcp = srv.client()
    tcp.greeting()
    nc = ProcClient(["nc", "-u", "127.0.0.1", str(srv.port)], name="nc-u")
    nc.sendline("/join " + "please " * 10)
    m = nc.expect_match(re.compile(r"^\*\*\* udp: to receive the room, send /join ([0-9a-f]{32})$"))
    nc.sendline("/join " + m.group(1))
    nc.expect(re.compile(r"^\*\*\* welcome to hichat, guest\d+"))
    tcp.sendline("hello nc -u")
    nc.expect("<%s> hello nc -u" % tcp.nick)
    # A datagram longer than the cap is detected (MSG_TRUNC) and refused.
    u = Udp(srv.port)
    u.send(b"x" * 2000 + b"\n")
    u.expect(r"^! line too long \(max 200 bytes\); discarded$")
    tcp.assert_no_line(re.compile(r"xxxx"), within=0.3)
    # Silent peers are forgotten after --udp-timeout.
    tcp.expect(re.compile(r"^\*\*\* guest\d+ left \(no datagram in time\)$"), timeout=4)
    srv.wait_log(r"^disconnect udp:127\.0\.0\.1:\d+ guest\d+ \(no datagram in time\)$")


def test_udp_client_against_nothing_says_so():
    r = run_hichat(["connect", "--udp", "127.0.0.1:1"], timeout=10)
    check(r.returncode == 1, "exit 1, got %s" % r.returncode)
    check("ECONNREFUSED" in r.stderr or "no answer" in r.stderr, r.stderr)
