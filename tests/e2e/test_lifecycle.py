"""Start/stop, restart, signals, addresses, limits, command line."""

import os
import re
import signal
import socket
import subprocess
import time

from harness import (HICHAT, Client, HichatConnect, Server, SkipTest, check, free_port,
                     joined_clients, run_hichat, tmpdir)


def test_restart_on_same_port_right_after_sigterm_binds():
    srv = Server()
    port = srv.port
    # live connections, so the server's side of them is in TIME_WAIT after it closes them
    a, b = joined_clients(srv, 2)
    a.sendline("before restart")
    b.expect("<%s> before restart" % a.nick)
    srv.terminate()
    for m in (a, b):
        m.expect("*** server shutting down", 2)
        m.expect_eof(2)
        m.close()  # the server closed first, so its side is in TIME_WAIT
    rc = srv.wait(3)
    check(rc == 0, "first server exited %s, expected 0" % rc)
    srv2 = Server(port=port)  # immediately, same fixed port
    check(srv2.port == port, "second server listens on %s" % srv2.listen_line)
    c = srv2.client()
    c.greeting()
    d = srv2.client()
    d.greeting()
    c.sendline("after restart")
    d.expect("<%s> after restart" % c.nick)


def test_sighup_is_as_graceful_as_sigterm_and_removes_the_unix_socket():
    # A closed terminal or ssh session: members are told, the socket file
    # goes, exit 0 (it used to die at once with status 129).
    path = os.path.join(tmpdir(), "hup.sock")
    srv = Server("--unix", path)
    a, b = joined_clients(srv, 2)
    srv.send_signal(signal.SIGHUP)
    for m in (a, b):
        m.expect(re.compile(r"^\*\*\* server shutting down$"), 2)
        m.expect_eof(3)
    rc = srv.wait(4)
    check(rc == 0, "exit status %s after SIGHUP, expected 0" % rc)
    check(not os.path.exists(path), "the Unix socket file was left behind")


def test_sighup_under_nohup_stays_ignored():
    srv = Server(wrap=["nohup"])
    a, b = joined_clients(srv, 2)
    srv.send_signal(signal.SIGHUP)
    time.sleep(0.3)
    check(srv.alive(), "a server started under nohup died of SIGHUP")
    a.sendline("still here")
    b.expect("<%s> still here" % a.nick)


def test_sigterm_notifies_members_closes_connections_exits_0_within_3s():
    # a big --max-queue so the member that never reads is not dropped but has
    # megabytes queued when SIGTERM comes: the flush must give up after ~2 s
    srv = Server("--max-queue", str(32 << 20), "--msg-rate", "0")
    a, b = joined_clients(srv, 2)
    hc = HichatConnect(srv.port)
    hn = hc.greeting()
    a.expect("*** %s joined" % hn)
    b.expect("*** %s joined" % hn)
    stuck = srv.client(rcvbuf=4096)  # never reads
    sn = a.expect_match(r"^\*\*\* (\S+) joined$").group(1)
    b.expect("*** %s joined" % sn)
    hc.expect("*** %s joined" % sn)
    # ~6.5 MB: more than the kernel socket buffers hold (up to ~4 MB on loopback)
    batches, per = 200, 200
    for i in range(batches):
        a.send("".join("filler %d %d %s\n" % (i, j, "z" * 150) for j in range(per)))
        b.drain()
        a.drain()
    filler = re.compile(r"^<%s> filler " % re.escape(a.nick))
    b.collect(filler, batches * per, timeout=20)
    hc.collect(filler, batches * per, timeout=20)
    check(srv.alive(), "server died")

    t0 = time.monotonic()
    rc = srv.stop(timeout=5)
    dt = time.monotonic() - t0
    check(rc == 0, "exit status %s after SIGTERM, expected 0" % rc)
    check(dt < 3.0, "took %.2fs to exit after SIGTERM, expected < 3s" % dt)
    for m in (a, b, hc):
        m.expect("*** server shutting down", 1)
        m.expect_eof(2)
    rc = hc.wait(2)
    check(rc == 0, "hichat connect exited %s when the server shut down; stderr %r" % (rc, hc.stderr()))
    stuck.expect_eof(10)  # its connection is closed too (after what the kernel held)
    for nick in (a.nick, b.nick, hn):
        check(re.search(r"^disconnect 127\.0\.0\.1:\d+ %s \(server shutting down\)$" % re.escape(nick),
                        srv.stderr(), re.M),
              "no 'disconnect ... %s (server shutting down)' in server log:\n%s" % (nick, srv.log_tail()))


def test_connect_to_closed_port_exits_1_with_econnrefused_message():
    port = free_port()
    res = run_hichat(["connect", "127.0.0.1:%d" % port], timeout=5)
    check(res.returncode == 1, "exit status %s, expected 1; stderr %r" % (res.returncode, res.stderr))
    check("ECONNREFUSED" in res.stderr, "stderr lacks ECONNREFUSED: %r" % res.stderr)
    check("is hichat serve running" in res.stderr, "stderr lacks the hint: %r" % res.stderr)
    check("127.0.0.1:%d" % port in res.stderr, "stderr does not name the address: %r" % res.stderr)


def _need_ipv6():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
    except OSError as e:
        raise SkipTest("no IPv6 loopback: %s" % e)


def test_ipv6_bind_loopback_and_dual_stack_any():
    _need_ipv6()
    srv = Server(bind="::1")
    check(srv.listen_line == "listening on [::1]:%d" % srv.port, "got %r" % srv.listen_line)
    hc = HichatConnect(srv.port, host="::1", nick="v6alice")
    hn = hc.greeting()
    hc.expect("*** %s is now known as v6alice" % hn)
    r = Client(srv.port, host="::1")
    r.greeting()
    hc.expect("*** %s joined" % r.nick)
    hc.sendline("hello over ipv6")
    r.expect("<v6alice> hello over ipv6")
    r.sendline("and back")
    hc.expect("<%s> and back" % r.nick)
    srv.wait_log(r"^connect \[::1\]:\d+ %s$" % re.escape(r.nick))
    # an IPv4 client cannot reach a server bound to ::1
    try:
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=2)
        s.close()
        raise AssertionError("127.0.0.1:%d accepted a connection for a ::1 server" % srv.port)
    except ConnectionRefusedError:
        pass
    hc.close_stdin()
    check(hc.wait(3) == 0, "hichat connect [::1] did not exit 0")
    r.close()
    check(srv.stop(3) == 0, "server on ::1 did not exit 0")

    srv2 = Server(bind="::")
    check(srv2.listen_line == "listening on [::]:%d" % srv2.port, "got %r" % srv2.listen_line)
    c4 = Client(srv2.port, host="127.0.0.1")
    c4.greeting()
    c6 = Client(srv2.port, host="::1")
    c6.greeting()
    c4.expect("*** %s joined" % c6.nick)
    c4.sendline("from v4")
    c6.expect("<%s> from v4" % c4.nick)
    c6.sendline("from v6")
    c4.expect("<%s> from v6" % c6.nick)
    hc4 = HichatConnect(srv2.port, host="127.0.0.1", nick="v4connect")
    hc4.greeting()
    c6.expect("*** %s joined" % hc4.nick)
    c6.sendline("to everyone")
    hc4.expect("<%s> to everyone" % c6.nick)


def test_max_clients_2_third_gets_server_full_then_eof():
    srv = Server("--max-clients", "2")
    a, b = joined_clients(srv, 2)
    c = srv.client()
    c.expect("! server full (max 2 clients); try again later", 3)
    c.expect_eof(3)
    check(not any(l.startswith("*** welcome") for l in c.history), "rejected client was greeted: %r" % c.history)
    for m in (a, b):
        m.assert_no_line(re.compile(r"joined|left"), 0.3)
    a.sendline("still fine")
    b.expect("<%s> still fine" % a.nick)
    b.sendline("me too")
    a.expect("<%s> me too" % b.nick)
    # a slot frees up when someone leaves
    b.close()
    a.expect("*** %s left (connection closed)" % b.nick)
    d = srv.client()
    d.greeting()
    a.expect("*** %s joined" % d.nick)
    check(srv.alive(), "server died")


OPTIONS = ["--bind", "--port", "--nick", "--max-clients", "--max-line", "--max-queue"]


def test_every_long_option_is_in_help_readme_and_man_page():
    # The option tables in the sources are the truth; --help, the README
    # and the man page must each mention every option hichat accepts, and
    # hichat-bench --help every option it accepts.
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    table = re.compile(r'\{"([a-z-]+)",\s*(?:required|no|optional)_argument')

    def names(path):
        with open(os.path.join(repo, path)) as f:
            return sorted(set(table.findall(f.read())))

    helps = "".join(run_hichat(a, timeout=3).stdout for a in
                    (["--help"], ["serve", "--help"], ["connect", "--help"], ["hello", "--help"]))
    with open(os.path.join(repo, "README.md")) as f:
        readme = f.read()
    with open(os.path.join(repo, "man", "hichat.1")) as f:
        man = f.read().replace("\\-", "-")
    opts = names("src/main.c")
    check(len(opts) > 15, "the option tables were found: %r" % opts)
    problems = ["%s lacks --%s" % (where, o) for o in opts
                for where, text in (("--help", helps), ("README.md", readme), ("man page", man))
                if "--" + o not in text]
    bench = os.environ.get("BENCH") or os.path.join(os.path.dirname(HICHAT), "hichat-bench")
    bench_help = subprocess.run([bench, "--help"], stdout=subprocess.PIPE, text=True,
                                timeout=5).stdout
    problems += ["hichat-bench --help lacks --%s" % o for o in names("bench/bench.c")
                 if "--" + o not in bench_help]
    check(not problems, "; ".join(problems))


def test_usage_errors_exit_2_and_help_mentions_every_option():
    problems = []
    for args in (["serve", "--port", "70000"], ["bogus"], ["serve", "--no-such-option"],
                 ["connect"], ["serve", "--announce-max", "-1"]):
        res = run_hichat(args, timeout=3)
        if res.returncode != 2:
            problems.append("hichat %s: exit %s, expected 2" % (" ".join(args), res.returncode))
        if not res.stderr.strip():
            problems.append("hichat %s: nothing on stderr" % " ".join(args))
    for args, must in ((["--help"], ["serve", "connect"] + OPTIONS),
                       (["serve", "--help"], OPTIONS),
                       (["connect", "--help"], ["--nick"])):
        res = run_hichat(args, timeout=3)
        text = res.stdout + res.stderr
        if res.returncode != 0:
            problems.append("hichat %s: exit %s, expected 0" % (" ".join(args), res.returncode))
        missing = [o for o in must if o not in text]
        if missing:
            problems.append("hichat %s: output does not mention %s" % (" ".join(args), missing))
        if not res.stdout.strip():
            problems.append("hichat %s: help not on stdout" % " ".join(args))
    check(not problems, "; ".join(problems))
