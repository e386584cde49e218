"""The server never blocks on its own stdout: a console nobody reads loses
console lines (and says how many), never room traffic."""

import fcntl
import os
import re
import time

from harness import Server, check


def test_unread_stdout_never_blocks_the_room():
    # --max-queue is raised so that the reading member cannot be the one that
    # falls behind: this test is about the console alone.
    srv = Server("--max-queue", "67108864", "--msg-rate", "0", stdout_pipe=True)
    proc = srv.proc
    a, b = srv.client(), srv.client()
    a.greeting()
    b.greeting()
    a.expect(re.compile(r"joined$"))
    # ~1.5 MB of room traffic: more than the pipe (64 KiB) and the console's
    # own queue (1 MiB) together.
    n = 15000
    payload = "x" * 90
    a.send(b"".join(b"%d %s\n" % (i, payload.encode()) for i in range(n)))
    got = b.collect(re.compile(r"^<guest\d+> \d+ x+$"), n, timeout=30)
    check(all(line.split()[1] == str(i) for i, line in enumerate(got)),
          "room traffic arrives whole and in order while stdout is stuck")
    check(proc.poll() is None, "the server is still running")
    # Now read the console: it holds what fitted, then says what it dropped.
    fl = fcntl.fcntl(proc.stdout, fcntl.F_GETFL)
    fcntl.fcntl(proc.stdout, fcntl.F_SETFL, fl | os.O_NONBLOCK)
    seen = b""
    deadline = time.monotonic() + 5
    a.sendline("after the jam")
    note = re.compile(rb"\* \(\d+ lines not shown: stdout was too slow\)\n(.*\n)*"
                      rb"<guest\d+> after the jam\n")
    while not note.search(seen) and time.monotonic() < deadline:
        try:
            chunk = os.read(proc.stdout.fileno(), 65536)
            if chunk:
                seen += chunk
                continue
        except BlockingIOError:
            pass
        time.sleep(0.05)
        a.sendline("after the jam")
    text = seen.decode("utf-8", "replace")
    check(note.search(seen),
          "the console says how many lines it dropped, then recovers once stdout is "
          "read; tail: %r" % text[-300:])
    check(len(re.findall(r"lines not shown", text)) == 1, "one notice for one gap")
