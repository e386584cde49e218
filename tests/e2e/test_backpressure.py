"""Slow or vanished readers and writers on the client's and the server's own
standard streams: no spinning, no loss, no split lines, honest exit codes."""

import os
import re
import signal
import subprocess
import time

from harness import (HICHAT, FakeServer, Server, check, register_proc,
                     joined_clients, proc_cpu_seconds)


def _spawn_connect(port, stdout, stdin=subprocess.DEVNULL):
    p = subprocess.Popen([HICHAT, "connect", "127.0.0.1:%d" % port], stdin=stdin, stdout=stdout,
                         stderr=subprocess.PIPE)
    return register_proc(p)


def test_server_with_a_vanished_stdout_reader_does_not_spin():
    srv = Server(stdout_pipe=True)
    srv.proc.stdout.close()  # the reader of the server's stdout goes away
    a, b = srv.client(), srv.client()
    a.greeting()
    b.greeting()
    a.sendline("into the void")
    b.expect(re.compile(r"> into the void$"))
    cpu0 = proc_cpu_seconds(srv.proc.pid)
    time.sleep(1.0)
    used = proc_cpu_seconds(srv.proc.pid) - cpu0
    check(used < 0.1, "server used %.2f s of CPU in 1 s idle with a dead stdout" % used)
    b.sendline("still chatting")
    a.expect(re.compile(r"> still chatting$"))


def test_client_whose_stdout_reader_vanished_neither_spins_nor_lingers():
    def handler(conn, res):
        conn.sendall(b"first\n")
        time.sleep(1.5)
        conn.sendall(b"second\n")  # now the client finds its stdout gone
        time.sleep(3)

    fake = FakeServer(handler)
    r, w = os.pipe()
    p = _spawn_connect(fake.port, stdout=w)
    os.close(w)
    first = os.read(r, 100)
    check(first == b"first\n", "got %r" % first)
    os.close(r)  # like `| head -1`
    time.sleep(0.3)
    cpu0 = proc_cpu_seconds(p.pid)
    time.sleep(0.8)
    used = proc_cpu_seconds(p.pid) - cpu0
    check(used < 0.1, "client used %.2f s of CPU waiting with a dead stdout" % used)
    status = p.wait(5)
    check(status == 1, "exit 1 once stdout is found gone, got %s" % status)
    check(b"standard output closed" in p.stderr.read(), "says why")


def test_client_survives_a_longest_line_ending_in_cr():
    # 65536 bytes then a CR: the longest partial line the client keeps.
    def handler(conn, res):
        conn.sendall(b"x" * 65536 + b"\r")
        time.sleep(0.1)
        conn.sendall(b"y" * 1000 + b"\nlast\n")

    fake = FakeServer(handler)
    p = _spawn_connect(fake.port, stdout=subprocess.PIPE)
    out, err = p.communicate(timeout=10)
    check(p.returncode == 0, "exit 0, got %s: %r" % (p.returncode, err[-300:]))
    lines = out.split(b"\n")
    check(lines[0] == b"x" * 65536 and lines[-2] == b"last", "lines intact: %r..."
          % [l[:20] for l in lines])


def test_client_piping_megabytes_to_a_slow_server_loses_nothing():
    data = b"".join(b"line %07d %s\n" % (i, b"d" * 60) for i in range(40000))  # ~3 MB

    def handler(conn, res):
        time.sleep(1.5)  # not reading: the client's queue fills, stdin hits EOF
        got = b""
        conn.settimeout(10)
        while True:
            chunk = conn.recv(1 << 20)
            if not chunk:
                break
            got += chunk
        res["got"] = got

    fake = FakeServer(handler)
    p = subprocess.Popen([HICHAT, "connect", "127.0.0.1:%d" % fake.port], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    register_proc(p)
    p.stdin.write(data)
    p.stdin.close()
    status = p.wait(20)
    fake.thread.join(10)
    got = fake.result.get("got", b"")
    check(status == 0, "exit 0, got %s" % status)
    check(len(got) == len(data) and got == data, "server received %d of %d bytes intact"
          % (len(got), len(data)))


def test_client_with_a_slow_stdout_prints_everything_whole_then_exits_0():
    payload = b"".join(b"line %07d %s\n" % (i, b"p" * 40) for i in range(20000))  # ~1 MB

    def handler(conn, res):
        conn.sendall(payload)  # then close at once

    fake = FakeServer(handler)
    r, w = os.pipe()
    p = _spawn_connect(fake.port, stdout=w)
    os.close(w)
    got = b""
    time.sleep(1.0)  # the client's stdout backs up; the server has long closed
    while True:
        chunk = os.read(r, 4096)
        if not chunk:
            break
        got += chunk
        time.sleep(0.0005)
    os.close(r)
    status = p.wait(10)
    check(status == 0, "exit 0 after the server closed, got %s" % status)
    check(got == payload, "all %d bytes, every line whole (got %d)" % (len(payload), len(got)))


def test_reset_client_partial_line_is_never_delivered_even_when_its_pause_is_due():
    srv = Server()
    watcher, talker = joined_clients(srv, 2)
    talker.send(b"half a messa")
    time.sleep(0.1)
    srv.send_signal(signal.SIGSTOP)  # one long loop pass, as under load
    try:
        time.sleep(0.4)  # the quiet pause falls due...
        talker.reset()   # ...in the same pass as the reset
    finally:
        srv.send_signal(signal.SIGCONT)
    watcher.expect("*** %s left (connection reset)" % talker.nick)
    watcher.assert_no_line(re.compile(r"half a messa"), within=0.6)


def test_a_long_line_tripled_by_cleaning_never_costs_an_idle_member_its_seat():
    srv = Server("--max-queue", "4096", "--max-line", "3000")
    a, b = joined_clients(srv, 2)
    a.sendline("hello")  # a first line of text: this is a chat client
    b.expect(re.compile(r"> hello$"))
    a.send(b"\x1b" * 3000 + b"\n")  # 6000 bytes once cleaned: more than --max-queue
    line = b.read_line(5)
    check(line == "<%s> %s" % (a.nick, "^[" * 3000), "delivered whole: %r..." % line[:40])
    b.sendline("still here")
    a.expect(re.compile(r"> still here$"))


def test_refused_client_exits_1_and_says_why():
    srv = Server("--max-clients", "1")
    first = srv.client()
    first.greeting()
    r = subprocess.run([HICHAT, "connect", "127.0.0.1:%d" % srv.port], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=10)
    check(r.returncode == 1, "exit 1 when refused, got %s" % r.returncode)
    check(b"refused the connection: server full (max 1 clients)" in r.stderr,
          "stderr says why: %r" % r.stderr)
