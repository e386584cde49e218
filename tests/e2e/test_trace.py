"""--trace prints each socket call as strace does: run hichat under the real
strace and check that every line hichat printed is a line strace recorded,
in the same order, with the same arguments, descriptors and results."""

import os
import re
import shutil
import signal
import subprocess
import time

from harness import (HICHAT, LISTEN_RE, Client, HichatConnect, Server, SkipTest, _kill_proc,
                     _register, check, tmpdir)

CALLS = ("socket,bind,listen,accept4,connect,setsockopt,getsockopt,getsockname,read,write,"
         "writev,recvfrom,sendto,shutdown,close,ioctl,poll,epoll_create1,epoll_ctl,epoll_wait")


def normalize(line):
    # strace pads the " = result" to a column; hichat does not.
    return re.sub(r"\)\s+= ", ") = ", line.rstrip("\n"))


def compare(name, trace_path, strace_path, must_have, least=10):
    mine = [normalize(l) for l in open(trace_path) if l.strip()]
    theirs = [normalize(l) for l in open(strace_path)
              if l.strip() and not l.startswith(("+++", "---"))]
    check(len(mine) >= least, "%s printed only %d trace lines" % (name, len(mine)))
    j = 0
    for i, line in enumerate(mine):
        k = j
        while k < len(theirs) and theirs[k] != line:
            k += 1
        if k == len(theirs):
            near = [t for t in theirs[j:j + 40] if t.split("(")[0] == line.split("(")[0]][:3]
            raise AssertionError("%s trace line %d has no match in strace's record, in order:\n"
                                 "  hichat: %s\n  strace, same call next: %s"
                                 % (name, i + 1, line, "\n    ".join(near) or "(none)"))
        j = k + 1
    calls = {l.split("(")[0] for l in mine}
    missing = [c for c in must_have if c not in calls]
    check(not missing, "%s: no %s in the trace" % (name, ", ".join(missing)))
    return len(mine)


def test_trace_matches_strace_for_server_and_client():
    if not shutil.which("strace"):
        raise SkipTest("strace is not installed")
    # LeakSanitizer cannot run under ptrace; the other tests check for leaks.
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    d = tmpdir()
    srv_trace, srv_strace = os.path.join(d, "srv.trace"), os.path.join(d, "srv.strace")
    cli_trace, cli_strace = os.path.join(d, "cli.trace"), os.path.join(d, "cli.strace")
    err_path = os.path.join(d, "srv-under-strace.stderr")
    with open(err_path, "wb") as err:
        st = subprocess.Popen(["strace", "-o", srv_strace, "-e", "trace=" + CALLS, HICHAT, "serve",
                               "--port", "0", "--trace=" + srv_trace],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                              env=env)

    class _T:
        def teardown(self):
            _kill_proc(st)
    _register(_T())
    deadline = time.monotonic() + 10
    m = None
    while not m and time.monotonic() < deadline:
        m = LISTEN_RE.search(open(err_path).read())
        time.sleep(0.05)
    check(m, "server under strace never listened: %r" % open(err_path).read()[-300:])
    port = int(m.group(2))
    # The server's pid is strace's child (signals to strace would detach it).
    kids = open("/proc/%d/task/%d/children" % (st.pid, st.pid)).read().split()
    check(len(kids) == 1, "one traced child: %r" % kids)
    server_pid = int(kids[0])

    watcher = Client(port)
    watcher.greeting()
    r = subprocess.run(["strace", "-o", cli_strace, "-e", "trace=" + CALLS, HICHAT, "connect",
                        "127.0.0.1:%d" % port, "--nick", "tracer", "--trace=" + cli_trace],
                       input=b"hello\n/who\n", capture_output=True, timeout=20, env=env)
    check(r.returncode == 0, "client exit 0: %r" % r.stderr[-300:])
    check(b"*** 3 members: server, tracer" in r.stdout or b"members:" in r.stdout,
          "the client got its /who reply: %r" % r.stdout[-300:])
    watcher.expect(re.compile(r"^<tracer> hello$"))
    # A refused connection, for an error result in the trace.
    r2 = subprocess.run(["strace", "-o", cli_strace + ".refused", "-e", "trace=" + CALLS, HICHAT,
                         "connect", "127.0.0.1:1", "--trace=" + cli_trace + ".refused"],
                        stdin=subprocess.DEVNULL, capture_output=True, timeout=20, env=env)
    check(r2.returncode == 1, "refused: exit 1")
    watcher.close()
    os.kill(server_pid, signal.SIGTERM)
    check(st.wait(10) == 0, "server (under strace) exited 0 on SIGTERM")

    n1 = compare("server", srv_trace, srv_strace,
                 ["epoll_create1", "socket", "setsockopt", "bind", "listen", "getsockname",
                  "epoll_ctl", "epoll_wait", "accept4", "read", "writev", "shutdown", "close"])
    n2 = compare("client", cli_trace, cli_strace,
                 ["socket", "connect", "poll", "getsockopt", "epoll_create1", "epoll_ctl",
                  "epoll_wait", "write", "read", "shutdown", "close"])
    n3 = compare("refused client", cli_trace + ".refused", cli_strace + ".refused",
                 ["socket", "connect", "poll", "getsockopt", "close"], least=5)
    refused = open(cli_trace + ".refused").read()
    check("getsockopt(" in refused and "[ECONNREFUSED]" in refused,
          "the refusal shows in SO_ERROR: %r" % refused)
    print("    trace: %d server, %d client, %d refused-client lines, all in strace's record"
          % (n1, n2, n3))


STATS_RE = re.compile(r"^\*\*\* stats fd=(\d+) local=(\S+) peer=(\S+) state=(\S+) rtt=[\d.]+ms "
                      r"rttvar=[\d.]+ms cwnd=\d+ retrans=\d+/\d+ unacked=\d+ sendq=\d+ recvq=\d+ "
                      r"in=(\d+)B/(\d+) out=(\d+)B/(\d+)$")


def test_client_stats_show_the_socket_as_ss_and_lsof_do():
    srv = Server()
    member = srv.client()
    member.greeting()
    c = HichatConnect(srv.port, nick="looker")
    member.expect(re.compile(r"is now known as looker$"))
    c.sendline("hello")
    member.expect("<looker> hello")
    c.sendline("/stats")
    line = c.expect_match(STATS_RE)
    fd, local, peer, state = line.group(1), line.group(2), line.group(3), line.group(4)
    check(peer == "127.0.0.1:%d" % srv.port and state == "ESTABLISHED", line.group(0))
    check(int(line.group(8)) == 2, "two lines sent (/nick, hello): %s" % line.group(0))
    check(int(line.group(5)) > 0 and int(line.group(6)) >= 2, "bytes and lines in counted")
    srv.wait_log(r"^connect %s guest\d+$" % re.escape(local))  # the server saw this address
    # lsof's view: that fd of that process is this socket.
    link = os.readlink("/proc/%d/fd/%s" % (c.proc.pid, fd))
    check(link.startswith("socket:["), "fd %s is a socket: %s" % (fd, link))
    # ss's view: the same connection, established.
    if shutil.which("ss"):
        ss = subprocess.run(["ss", "-tnH", "state", "established", "src", local],
                            capture_output=True, text=True, timeout=10).stdout
        check("127.0.0.1:%d" % srv.port in ss, "ss lists %s -> server: %r" % (local, ss))
    member.assert_no_line(re.compile(r"stats"), within=0.3)  # answered locally, never sent
