"""Every transport the seeds describe: TCP over IPv4 and IPv6 (with the
[::1]:PORT syntax), Unix-domain sockets, and UDP."""

import os
import re
import socket
import stat

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
