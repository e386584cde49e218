"""Hostile input, overload and faults: every limit crossed, every refusal
explained, nobody else disturbed, no spinning, nothing leaked."""

import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import threading
import time

from harness import (HichatConnect, ProcClient, Server, SkipTest, _register, check,
                     joined_clients, proc_cpu_seconds, proc_fds, proc_rss_kib, run_hichat,
                     tmpdir)

NOTICE_RE = re.compile(r"^\*\*\* ")


def stats(srv, timeout=5.0):
    """SIGUSR1, then the newest 'stats ...' log line as a dict of counters."""
    before = len(re.findall(r"^stats ", srv.stderr(), re.M))
    srv.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    while True:
        lines = re.findall(r"^stats (.*)$", srv.stderr(), re.M)
        if len(lines) > before:
            return dict(re.findall(r"(\w+)=(\d+)", lines[-1]))
        check(time.monotonic() < deadline, "no stats line after SIGUSR1")
        time.sleep(0.02)


def test_per_ip_limit_refuses_with_a_reason_and_nobody_notices():
    srv = Server("--max-per-ip", "2")
    a, b = joined_clients(srv, 2)
    c = srv.client()
    c.expect("! too many connections from your address (max 2); try again later")
    c.expect_eof()
    srv.wait_log(r"^refuse 127\.0\.0\.1:\d+ \(too many connections from your address")
    # Another address is another count.
    d = srv.client(source="127.0.0.2")
    d.greeting()
    a.expect("*** %s joined" % d.nick)  # the refused one was never announced
    # A slot freed on the address is a slot to use again.
    b.close()
    a.expect(re.compile(r"left \(connection (closed|reset)\)$"))  # reset: b left unread lines
    e = srv.client()
    e.greeting()
    st = stats(srv)
    check(st["per_ip"] == "1", "one per-IP refusal counted: %s" % st)


def test_out_of_descriptors_sheds_with_a_reason_never_spins_and_recovers():
    srv = Server("--max-per-ip", "0", "--keepalive", "0")
    pid = srv.proc.pid
    base = proc_fds(pid)
    room = 8
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (base + room, base + room))
    greeted, refused = [], []
    for _ in range(room + 12):
        c = srv.client()
        line = c.read_line(5)
        if line.startswith("*** welcome"):
            greeted.append(c)
        else:
            check(line == "! server busy: out of file descriptors; try again later",
                  "a shed connection is told why: %r" % line)
            c.expect_eof()
            refused.append(c)
    check(len(greeted) >= room - 2 and refused, "both served and shed: %d served, %d shed"
          % (len(greeted), len(refused)))
    srv.wait_log(r"^refuse 127\.0\.0\.1:\d+ \(server busy: out of file descriptors\)")
    # Now idle at the limit: no busy loop.
    cpu0 = proc_cpu_seconds(pid)
    time.sleep(1.0)
    used = proc_cpu_seconds(pid) - cpu0
    check(used < 0.2, "server used %.2f s of CPU in 1 s while out of descriptors" % used)
    # The members it kept are fine, and freed descriptors are used again.
    greeted[0].sendline("still here")
    greeted[1].expect(re.compile(r"> still here$"))
    for c in greeted[:3]:
        c.close()
    time.sleep(0.3)
    late = srv.client()
    late.greeting()


def test_flood_control_lets_a_paste_through_holds_excess_and_kicks_a_flood():
    srv = Server("--msg-rate", "5", "--msg-burst", "10", "--flood-timeout", "3")
    a, b = joined_clients(srv, 2)
    # A paste within the burst goes straight through, unremarked.
    t0 = time.monotonic()
    a.send(b"".join(b"paste %d\n" % i for i in range(10)))
    got = b.collect(re.compile(r"> paste \d+$"), 10, timeout=3)
    check(time.monotonic() - t0 < 1.0, "a 10-line paste is not delayed")
    check([l.split()[-1] for l in got] == [str(i) for i in range(10)], "in order")
    a.assert_no_line(re.compile(r"^! "), within=0.3)
    time.sleep(2.2)  # the bucket refills
    # Beyond the burst: told once, held back, delivered in order at the rate.
    t0 = time.monotonic()
    a.send(b"".join(b"more %d\n" % i for i in range(15)))
    a.expect("! slow down: more than 5 lines a second; your lines are held back")
    got = b.collect(re.compile(r"> more \d+$"), 15, timeout=6)
    took = time.monotonic() - t0
    check([l.split()[-1] for l in got] == [str(i) for i in range(15)], "held lines keep order")
    check(0.6 < took < 3.0, "5 lines over the burst take about 1 s at 5/s, took %.1f s" % took)
    # A sustained flood: held back without a break past --flood-timeout.
    stop = time.monotonic() + 8
    kicked = None
    while time.monotonic() < stop:
        try:
            a.send(b"flood\n" * 5)
        except OSError:
            break
        time.sleep(0.05)
        for line in a.lines_until_quiet(quiet=0.0, timeout=0.01) if a.pending else []:
            if line.startswith("! flooding"):
                kicked = line
        if kicked or a.eof:
            break
    b.expect(re.compile(r"^\*\*\* %s left \(flooding\)$" % re.escape(a.nick)), timeout=6)
    srv.wait_log(r"^disconnect 127\.0\.0\.1:\d+ %s \(flooding\)$" % re.escape(a.nick))
    st = stats(srv)
    check(st["flood"] == "1", "the kick is counted: %s" % st)


def test_slowloris_line_never_finished_is_cut_after_line_timeout():
    srv = Server("--line-timeout", "2")
    slow, b = joined_clients(srv, 2)
    t0 = time.monotonic()
    deadline = t0 + 8
    while not slow.eof and time.monotonic() < deadline:
        try:
            slow.send(b"x")  # every 100 ms: never quiet for 300 ms
        except OSError:
            break
        time.sleep(0.1)
        if slow.pending or slow.eof:
            break
    slow.expect("! line not finished within 2 s; closing")
    slow.expect_eof()
    took = time.monotonic() - t0
    check(1.5 < took < 4.5, "cut after about 2 s, took %.1f s" % took)
    b.expect("*** %s left (line not finished in time)" % slow.nick)
    b.assert_no_line(re.compile(r"xxx"), within=0.2)  # its partial line never went out
    # Lines that do finish, however slowly typed, are fine.
    b.sendline("normal")


def test_wrong_protocols_get_a_short_answer_and_close_without_spinning():
    srv = Server()
    pid = srv.proc.pid
    watcher = srv.client()
    watcher.greeting()
    cpu0 = proc_cpu_seconds(pid)

    http = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    _register_sock(http)
    http.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: curl/8\r\n\r\n")
    reply = recv_all(http)
    check(b"HTTP/1.0 400 Bad Request\r\n" in reply, "an HTTP client gets an HTTP answer: %r"
          % reply[-200:])
    check(b"hichat chat server" in reply, "saying what this is")
    srv.wait_log(r"^disconnect 127\.0\.0\.1:\d+ guest\d+ \(not a chat client: HTTP request\)$")

    tls = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    _register_sock(tls)
    hello = bytes.fromhex("160301") + (200).to_bytes(2, "big") + b"\x01\x00\x00\xc4\x03\x03" + \
        os.urandom(194)
    tls.sendall(hello)
    recv_all(tls)  # closed (after the greeting it was sent on connecting)
    srv.wait_log(r"^disconnect 127\.0\.0\.1:\d+ guest\d+ \(not a chat client: TLS handshake\)$")

    junk = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    _register_sock(junk)
    rnd = random.Random(7)
    junk.sendall(bytes(rnd.randrange(256) for _ in range(400)))
    reply = recv_all(junk)
    check(b"! this port speaks UTF-8 text lines; closing\n" in reply, "junk gets a reason: %r"
          % reply[-120:])
    srv.wait_log(r"^disconnect 127\.0\.0\.1:\d+ guest\d+ \(not a chat client: binary data\)$")

    time.sleep(0.5)
    used = proc_cpu_seconds(pid) - cpu0
    check(used < 0.3, "server used %.2f s of CPU for three bad peers" % used)
    # The room was not disturbed beyond join/leave notices, and still works.
    lines = watcher.lines_until_quiet(quiet=0.3)
    check(all(NOTICE_RE.match(l) for l in lines), "only notices reached the room: %r" % lines)
    other = srv.client()
    other.greeting()
    other.sendline("fine")
    watcher.expect(re.compile(r"> fine$"))
    st = stats(srv)
    check((st["http"], st["tls"], st["binary"]) == ("1", "1", "1"), "counted by kind: %s" % st)


def _register_sock(sock):
    class _S:
        def teardown(self):
            sock.close()
    _register(_S())


def recv_all(sock, timeout=5.0):
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def test_sigkill_clients_mid_line_during_a_broadcast_storm():
    srv = Server("--msg-rate", "0", "--max-per-ip", "0")
    watcher = srv.client()
    watcher.greeting()
    senders = [srv.client() for _ in range(3)]
    for s in senders:
        s.greeting()
    victims = []
    for i in range(6):
        v = HichatConnect(srv.port, nick="victim%d" % i)
        victims.append(v)
    renamed = watcher.collect(re.compile(r"is now known as victim\d$"), 6, timeout=10)
    check(len(set(renamed)) == 6, "six victims: %r" % renamed)
    n = 400
    stop = threading.Event()

    def blast(sock, tag):
        try:
            for i in range(n):
                sock.send(b"%s %d %s\n" % (tag, i, b"y" * 80))
        except OSError:
            pass

    threads = [threading.Thread(target=blast, args=(s, b"s%d" % k), daemon=True)
               for k, s in enumerate(senders)]
    for t in threads:
        t.start()
    for i, v in enumerate(victims):
        v.send(b"PARTIAL-%d never finished" % i)  # no newline
        time.sleep(0.02)
        v.kill(signal.SIGKILL)
    for t in threads:
        t.join(20)
    stop.set()
    got = watcher.collect(re.compile(r"^<guest\d+> s\d \d+ y+$|left \(connection"), 3 * n + 6,
                          timeout=30)
    msgs = [l for l in got if l.startswith("<")]
    leaves = [l for l in got if "left (" in l]
    for k in range(3):
        seq = [int(l.split()[2]) for l in msgs if l.split()[1] == "s%d" % k]
        check(seq == list(range(n)), "sender %d: every line, in order" % k)
    for i in range(6):
        mine = [l for l in leaves if l.startswith("*** victim%d left" % i)]
        check(len(mine) == 1, "victim%d's leave announced once: %r" % (i, mine))
    watcher.assert_no_line(re.compile(r"PARTIAL"), within=0.5)
    check(srv.alive(), "server alive")


def test_soak_10000_connect_chat_disconnect_cycles_returns_to_baseline():
    srv = Server("--msg-rate", "0", "--max-per-ip", "0")
    pid = srv.proc.pid
    listener = srv.client()
    listener.greeting()

    def cycles(count, start):
        for i in range(start, start + count):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
            f = s.makefile("rb")
            line = f.readline()
            check(line.startswith(b"*** welcome"), "cycle %d greeted: %r" % (i, line))
            s.sendall(b"soak %d\n" % i)
            if i % 3 == 0:  # some leave politely, some reset, some just close
                s.sendall(b"/quit\n")
            elif i % 3 == 1:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            f.close()
            s.close()

    cycles(300, 0)  # warm up: allocator pools, hash tables at their size
    listener.collect(re.compile(r"> soak \d+$"), 300, timeout=30)
    listener.lines_until_quiet(quiet=0.3)
    fds0, rss0 = proc_fds(pid), proc_rss_kib(pid)
    t0 = time.monotonic()
    cycles(10000, 300)
    got = listener.collect(re.compile(r"> soak \d+$"), 10000, timeout=60)
    check(len(got) == 10000, "every cycle's line was delivered")
    deadline = time.monotonic() + 10
    while stats(srv)["clients"] != "1" and time.monotonic() < deadline:
        time.sleep(0.1)
    listener.lines_until_quiet(quiet=0.3)
    fds1, rss1 = proc_fds(pid), proc_rss_kib(pid)
    print("    soak: 10000 cycles in %.1f s; fds %d -> %d; RSS %d -> %d KiB"
          % (time.monotonic() - t0, fds0, fds1, rss0, rss1))
    check(fds1 == fds0, "descriptors back to baseline: %d -> %d" % (fds0, fds1))
    if os.environ.get("HICHAT_SANITIZE") == "1":
        print("    soak: RSS not compared: AddressSanitizer keeps freed memory in quarantine")
    else:
        check(rss1 - rss0 < 1024, "RSS back to baseline (+<1 MiB): %d -> %d KiB" % (rss0, rss1))
    st = stats(srv)
    check(int(st["accepted"]) == 10301, "every connection counted: %s" % st)


def test_stats_count_disconnects_by_reason():
    srv = Server("--max-clients", "3")
    a, b, c = srv.client(), srv.client(), srv.client()
    for x in (a, b, c):
        x.greeting()
    full = srv.client()
    full.expect(re.compile(r"^! server full"))
    a.sendline("/quit")
    a.expect_eof()
    b.reset()
    c.sendline("hello")
    c.shutdown_wr()  # a FIN, whatever it left unread: "connection closed"
    c.expect_eof()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        st = stats(srv)
        if st["clients"] == "0":
            break
        time.sleep(0.1)
    check(st["clients"] == "0" and st["peak"] == "3" and st["accepted"] == "3", "%s" % st)
    check((st["quit"], st["reset"], st["closed"], st["full"]) == ("1", "1", "1", "1"),
          "one of each: %s" % st)
    check(st["lines_in"] == "2" and st["bytes_in"] == "12", "'/quit' and 'hello': %s" % st)


def test_every_limit_option_is_range_checked():
    for opt, bad in [("--max-per-ip", "-1"), ("--msg-rate", "x"), ("--msg-burst", "0"),
                     ("--flood-timeout", "0"), ("--line-timeout", "86401"),
                     ("--keepalive", "99999"), ("--user-timeout", "-5")]:
        r = run_hichat(["serve", "--port", "0", opt, bad])
        check(r.returncode == 2, "%s %s: exit 2, got %s" % (opt, bad, r.returncode))
        check(opt in r.stderr, "%s %s: the message names the option: %r" % (opt, bad, r.stderr))


# ---- dead peers, in network namespaces of our own ----

class Netns:
    """Two namespaces joined by a veth pair: the server's (10.199.0.1, with
    its own loopback) and a client host's (10.199.0.2)."""

    def __init__(self):
        if os.geteuid() != 0 or not shutil.which("ip"):
            raise SkipTest("needs root and iproute2 (ip) for network namespaces")
        tag = "%d" % os.getpid()
        self.srv_ns, self.cli_ns = "hcs%s" % tag, "hcc%s" % tag
        _register(self)
        for cmd in (["ip", "netns", "add", self.srv_ns], ["ip", "netns", "add", self.cli_ns],
                    ["ip", "-n", self.srv_ns, "link", "set", "lo", "up"],
                    ["ip", "link", "add", "hv%s" % tag, "netns", self.srv_ns, "type", "veth",
                     "peer", "name", "hw%s" % tag, "netns", self.cli_ns],
                    ["ip", "-n", self.srv_ns, "addr", "add", "10.199.0.1/24", "dev", "hv%s" % tag],
                    ["ip", "-n", self.cli_ns, "addr", "add", "10.199.0.2/24", "dev", "hw%s" % tag],
                    ["ip", "-n", self.srv_ns, "link", "set", "hv%s" % tag, "up"],
                    ["ip", "-n", self.cli_ns, "link", "set", "hw%s" % tag, "up"]):
            subprocess.run(cmd, check=True, capture_output=True, timeout=10)
        self.cli_dev = "hw%s" % tag

    def cut(self):
        subprocess.run(["ip", "-n", self.cli_ns, "link", "set", self.cli_dev, "down"], check=True,
                       timeout=10)

    def teardown(self):
        for ns in (self.srv_ns, self.cli_ns):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)


def _dead_peer(server_args, send_after_cut):
    net = Netns()
    srv = Server(*server_args, bind="0.0.0.0", wrap=["ip", "netns", "exec", net.srv_ns])
    watcher = ProcClient(["ip", "netns", "exec", net.srv_ns, "nc", "127.0.0.1", str(srv.port)],
                         name="watcher")
    watcher.greeting()
    victim = subprocess.Popen(
        ["ip", "netns", "exec", net.cli_ns, "python3", "-c",
         "import socket,sys,time\n"
         "s=socket.create_connection(('10.199.0.1',%d),timeout=5)\n"
         "sys.stdout.write(s.recv(300).decode()); sys.stdout.flush(); time.sleep(60)" % srv.port],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    _register(_ProcTeardown(victim))
    m = watcher.expect_match(re.compile(r"^\*\*\* (guest\d+) joined$"), timeout=10)
    nick = m.group(1)
    net.cut()
    t0 = time.monotonic()
    if send_after_cut:
        watcher.sendline("anyone there?")
    watcher.expect("*** %s left (connection timed out)" % nick, timeout=15)
    srv.wait_log(r"^disconnect 10\.199\.0\.2:\d+ %s \(connection timed out\)$" % nick)
    return time.monotonic() - t0


class _ProcTeardown:
    def __init__(self, proc):
        self.proc = proc

    def teardown(self):
        self.proc.kill()
        self.proc.wait(5)


def test_keepalive_removes_an_idle_dead_peer():
    took = _dead_peer(["--keepalive", "1", "--user-timeout", "0"], send_after_cut=False)
    check(took < 10, "an idle dead peer is found by keepalive probes (1 s idle + 3 x 1 s), "
          "took %.1f s" % took)


def test_user_timeout_removes_a_half_open_peer_with_unacked_data():
    took = _dead_peer(["--keepalive", "0", "--user-timeout", "2"], send_after_cut=True)
    check(took < 8, "unacknowledged data for 2 s drops the peer, took %.1f s" % took)


def test_a_held_back_flooder_that_resets_does_not_make_the_server_spin():
    # Found by fuzz_server (fuzz/regressions/server/throttled-hangup-busy-loop):
    # a client held back by flood control hangs up with input unread.
    srv = Server("--msg-rate", "1", "--msg-burst", "1", "--flood-timeout", "30")
    watcher = srv.client()
    watcher.greeting()
    flooder = srv.client()
    flooder.greeting()
    flooder.send(b"x\n" * 200000)  # 400 KB: held back, mostly unread
    flooder.expect(re.compile(r"^! slow down"))
    flooder.reset()
    time.sleep(0.3)
    cpu0 = proc_cpu_seconds(srv.proc.pid)
    time.sleep(1.0)
    used = proc_cpu_seconds(srv.proc.pid) - cpu0
    check(used < 0.2, "server used %.2f s of CPU in 1 s after the flooder reset" % used)
    watcher.sendline("still responsive")
    check(srv.alive(), "alive")


def test_max_clients_above_the_descriptor_limit_is_lowered_with_a_warning():
    srv = Server("--max-clients", "1000000")
    check(re.search(r"--max-clients 1000000 is above what the descriptor limit allows; "
                    r"using \d+ \(raise ulimit -n for more\)", srv.stderr()),
          "the clamp is said: %r" % srv.stderr()[:300])
    c = srv.client()
    c.greeting()


def test_a_flood_of_refusals_is_not_a_flood_of_log_lines():
    # A locked-out address that keeps connecting: every connection is still
    # refused and counted, but the log says so 10 times a second at most,
    # then how many it left out.
    pw = os.path.join(tmpdir(), "pw")
    with open(pw, "w") as f:
        f.write("sesame\n")
    os.chmod(pw, 0o600)
    srv = Server("--password-file", pw)
    for i in range(4):  # 3 wrong passwords a connection: 12 lock it out
        c = srv.client(source="127.0.0.2")
        c.read_line()
        c.send("/pass a\n/pass b\n/pass c\n")
        c.expect_eof(5)
    refused = 0
    for i in range(200):
        s = socket.socket()
        s.bind(("127.0.0.2", 0))
        s.settimeout(5)
        s.connect(("127.0.0.1", srv.port))
        data = s.recv(200)
        refused += data.startswith(b"! too many wrong passwords")
        s.close()
    check(refused == 200, "every one refused: %d" % refused)
    m = srv.wait_log(r"^refuse: (\d+) more not logged in the last second$", 3)
    time.sleep(1.2)  # the last second's count too
    logged = len(re.findall(r"^refuse 127\.0\.0\.2:\d+ ", srv.stderr(), re.M))
    quiet = sum(int(x) for x in re.findall(r"^refuse: (\d+) more not logged", srv.stderr(), re.M))
    check(logged < 60, "%d refusals logged one by one" % logged)
    check(logged + quiet >= 200, "each counted: %d logged + %d told as a number" % (logged, quiet))
    check(int(m.group(1)) > 0, m.group(0))
