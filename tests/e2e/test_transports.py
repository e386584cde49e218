"""Every transport the seeds describe: TCP over IPv4 and IPv6 (with the
[::1]:PORT syntax), Unix-domain sockets, and UDP."""

import os
import re
import socket
import stat
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
    u.send(b"hello\n")  # 6 bytes: the token prompt (~56 bytes) does not fit
    tcp.expect(re.compile(r"^<guest\d+> hello$"))  # yet it may talk
    u.pump(0.4)
    check(u.received == 0, "nothing sent back for 6 bytes: got %d" % u.received)
    tcp.sendline("a long line to the whole room " + "z" * 200)
    u.pump(0.3)
    check(u.received <= u.sent, "never more than received: %d > %d" % (u.received, u.sent))
    u.send(b"/join please, here are enough bytes for your answer, thank you\n")
    m = u.expect(r"^\*\*\* udp: to receive the room, send /join ([0-9a-f]{16})$")
    check(u.received <= u.sent, "the prompt fitted: %d <= %d" % (u.received, u.sent))
    u.send(b"/join 0000000000000000\n")  # a wrong token proves nothing
    for i in range(20):
        tcp.sendline("room traffic %d %s" % (i, "r" * 100))  # ~2.5 KB toward it
    u.pump(0.4)
    check(u.received <= u.sent, "still never more than received: %d > %d"
          % (u.received, u.sent))
    u.send(b"/join " + m.group(1).encode() + b"\n")
    u.expect(r"^\*\*\* welcome to hichat, guest\d+")
    tcp.sendline("now you hear me")
    u.expect(r"^<%s> now you hear me$" % re.escape(tcp.nick))


def test_udp_with_real_nc_truncation_and_forgetting_silent_peers():
    srv = Server("--udp", "--udp-timeout", "1", "--max-line", "200")
    tcp = srv.client()
    tcp.greeting()
    nc = ProcClient(["nc", "-u", "127.0.0.1", str(srv.port)], name="nc-u")
    nc.sendline("/join " + "please " * 10)
    m = nc.expect_match(re.compile(r"^\*\*\* udp: to receive the room, send /join ([0-9a-f]{16})$"))
    nc.sendline("/join " + m.group(1))
    nc.expect(re.compile(r"^\*\*\* welcome to hichat, guest\d+"))
    tcp.sendline("hello nc -u")
    nc.expect("<%s> hello nc -u" % tcp.nick)
    # A datagram longer than the cap is detected (MSG_TRUNC) and refused.
    u = Udp(srv.port)
    u.send(b"x" * 1000 + b"\n")
    u.expect(r"^! datagram too long \(max 202 bytes\); discarded$")
    tcp.assert_no_line(re.compile(r"xxxx"), within=0.3)
    # Silent peers are forgotten after --udp-timeout.
    tcp.expect(re.compile(r"^\*\*\* guest\d+ left \(no datagram in time\)$"), timeout=4)
    srv.wait_log(r"^disconnect udp:127\.0\.0\.1:\d+ guest\d+ \(no datagram in time\)$")


def test_udp_client_against_nothing_says_so():
    r = run_hichat(["connect", "--udp", "127.0.0.1:1"], timeout=10)
    check(r.returncode == 1, "exit 1, got %s" % r.returncode)
    check("ECONNREFUSED" in r.stderr or "no answer" in r.stderr, r.stderr)
