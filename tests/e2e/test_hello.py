"""hichat hello: the course's hello/hi as a probe, against live, dead, slow
and full servers; and probes (or port scans) never disturb the room."""

import re
import socket
import time

from harness import FakeServer, Server, check, run_hichat, tmpdir

HI_RE = re.compile(r"^hi from (\S+) in (\d+\.\d{3}) ms \(connect (\d+\.\d{3}) ms\)$")


def test_hello_against_a_live_server_prints_the_round_trip_and_exits_0():
    srv = Server()
    member = srv.client()
    member.greeting()
    r = run_hichat(["hello", "127.0.0.1:%d" % srv.port])
    check(r.returncode == 0, "exit 0, got %s: %r" % (r.returncode, r.stderr))
    m = HI_RE.match(r.stdout.strip())
    check(m, "one line with the round trip: %r" % r.stdout)
    check(m.group(1) == "127.0.0.1:%d" % srv.port and 0 < float(m.group(2)) < 1000, r.stdout)
    r = run_hichat(["hello", "localhost:%d" % srv.port])
    check(r.returncode == 0, "by name too: %r" % r.stderr)
    srv.wait_log(r"^disconnect 127\.0\.0\.1:\d+ guest\d+ \(connection closed\)$")
    # The room never heard of the probes.
    member.assert_no_line(re.compile(r"joined|left"), within=0.4)


def test_hello_against_a_dead_server_names_the_errno():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # a port nobody listens on
    r = run_hichat(["hello", "127.0.0.1:%d" % port])
    check(r.returncode == 1, "exit 1, got %s" % r.returncode)
    check("ECONNREFUSED" in r.stderr and "is hichat serve running" in r.stderr, r.stderr)
    check(r.stdout == "", "nothing on stdout")


def test_hello_against_a_silent_server_times_out():
    fake = FakeServer(lambda conn, res: time.sleep(3))  # accepts, never answers
    t0 = time.monotonic()
    r = run_hichat(["hello", "127.0.0.1:%d" % fake.port, "--timeout", "400"])
    took = time.monotonic() - t0
    check(r.returncode == 1 and "ETIMEDOUT" in r.stderr, "%s %r" % (r.returncode, r.stderr))
    check(took < 2.5, "gave up after about 0.4 s, took %.1f s" % took)


def test_hello_over_unix_and_against_a_full_server():
    path = tmpdir() + "/hello.sock"
    srv = Server("--unix", path, "--max-clients", "1")
    r = run_hichat(["hello", "--unix", path])
    check(r.returncode == 0 and r.stdout.startswith("hi from unix:%s in " % path), r.stdout)
    first = srv.client()
    first.greeting()
    r = run_hichat(["hello", "127.0.0.1:%d" % srv.port])
    check(r.returncode == 1 and "server full" in r.stderr, "turned away: %r" % r.stderr)
    r = run_hichat(["hello"])
    check(r.returncode == 2, "usage error without a target")


def test_a_connection_that_leaves_at_once_is_never_announced():
    srv = Server()
    member = srv.client()
    member.greeting()
    for _ in range(5):  # a port scan: connect, close
        socket.create_connection(("127.0.0.1", srv.port)).close()
    member.assert_no_line(re.compile(r"joined|left"), within=0.5)
    # One that stays is announced, and so is its leaving.
    stayer = srv.client()
    stayer.greeting()
    member.expect("*** %s joined" % stayer.nick)
    stayer.shutdown_wr()
    member.expect("*** %s left (connection closed)" % stayer.nick)
