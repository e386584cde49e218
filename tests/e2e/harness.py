"""End-to-end test harness for hichat (Python 3 stdlib only).

Everything here is bounded: every wait has a timeout, every process and socket
that a test creates is registered and torn down by ``cleanup_all()`` (run.py
calls it after every test, in a finally block), and run.py arms a per-test
alarm so that no test can hang the suite.

Main pieces:

* ``Server``      -- ``$HICHAT serve --port 0 ...`` with stdin=/dev/null,
                     stdout/stderr to files in a temp dir.
* ``Client``      -- a raw TCP socket speaking the line protocol.
* ``HichatConnect`` / ``Netcat`` -- ``hichat connect`` and ``nc`` subprocesses
                     fed through a stdin pipe, stdout collected by a thread.

All clients share the ``LineSource`` API: ``expect``, ``read_line``,
``lines_until_quiet``, ``assert_no_line``, ``collect``, ``expect_eof``.
"""

import atexit
import collections
import os
import queue
import re
import resource
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

E2E_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(E2E_DIR))


def hichat_path():
    path = os.environ.get("HICHAT") or os.path.join(REPO_ROOT, "build", "hichat")
    if not os.path.isabs(path):
        path = os.path.join(REPO_ROOT, path)
    return path


HICHAT = hichat_path()

# One temp dir for the whole run; logs of each server go in there.
_TMPDIR = None


def tmpdir():
    global _TMPDIR
    if _TMPDIR is None:
        _TMPDIR = tempfile.mkdtemp(prefix="hichat-e2e-")
    return _TMPDIR


def remove_tmpdir():
    global _TMPDIR
    if _TMPDIR is not None:
        shutil.rmtree(_TMPDIR, ignore_errors=True)
        _TMPDIR = None


atexit.register(remove_tmpdir)


def raise_nofile_limit(want=4096):
    """Make sure this process (and the servers it starts) may open `want` fds."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < want:
        want = hard
    if soft == resource.RLIM_INFINITY or soft >= want:
        return soft
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


class SkipTest(Exception):
    """Raised by a test that cannot run in this environment."""


class TestTimeout(BaseException):
    """Raised by the per-test alarm. BaseException so that `except Exception`
    inside a test cannot swallow it."""


# ---------------------------------------------------------------------------
# Registry of everything that must be torn down after a test.

_registry = []
_registry_lock = threading.Lock()


def _register(obj):
    with _registry_lock:
        _registry.append(obj)
    return obj


# Problems found while tearing down (sanitizer reports, a server that did not
# exit 0 on SIGTERM); run.py fails the test that left them.
_findings = []

SANITIZER_RE = re.compile(r"ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|"
                          r"SUMMARY: (Address|Undefined|Leak)Sanitizer")


def scan_for_sanitizer(name, text):
    m = SANITIZER_RE.search(text)
    if m:
        start = max(0, m.start() - 200)
        _findings.append("%s: sanitizer report: %s" % (name, _shorten(text[start:], 900)))


def take_findings():
    found = list(_findings)
    _findings.clear()
    return found


def cleanup_all():
    """Kill every process and close every socket created since the last call."""
    with _registry_lock:
        objs = list(reversed(_registry))
        _registry.clear()
    for obj in objs:
        try:
            obj.teardown()
        except Exception:
            pass


def _kill_proc(proc, grace=0.0):
    if proc is None or proc.poll() is not None:
        return
    if grace > 0:
        try:
            proc.wait(grace)
            return
        except subprocess.TimeoutExpired:
            pass
    try:
        proc.kill()
    except OSError:
        pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass


class _ProcKiller:
    def __init__(self, proc):
        self.proc = proc

    def teardown(self):
        _kill_proc(self.proc)


def register_proc(proc):
    """A bare subprocess.Popen the test made itself: killed at teardown if
    it is still running. Returns proc."""
    _register(_ProcKiller(proc))
    return proc


def _shorten(text, n=200):
    text = repr(text)
    return text if len(text) <= n else text[: n - 3] + "..."


def _matcher(pattern):
    """str -> exact line match; compiled regex -> re.search."""
    if isinstance(pattern, re.Pattern):
        return lambda line: pattern.search(line) is not None, "/%s/" % pattern.pattern
    if callable(pattern):
        return pattern, getattr(pattern, "__name__", "predicate")
    return lambda line: line == pattern, repr(pattern)


def decode_line(raw):
    """Lines are UTF-8. Anything that is not shows up as \\xNN so that it can
    never be mistaken for the U+FFFD the server is supposed to send."""
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    return raw.decode("utf-8", errors="backslashreplace")


# ---------------------------------------------------------------------------
# Common line-reading API


class LineSource:
    """Base class: subclasses implement `_pull(deadline)` which must append new
    lines to `self.pending` (and `self.history`) or set `self.eof`, returning
    once it has made progress or the deadline passed."""

    name = "client"

    def __init__(self):
        self.pending = collections.deque()  # received, not yet consumed
        self.history = []  # every line ever received
        self.eof = False
        self.eof_reason = None

    # -- to implement
    def _pull(self, deadline):
        raise NotImplementedError

    # -- helpers
    def _recent(self, n=12):
        tail = self.history[-n:]
        return "; last %d lines seen by %s: %s" % (
            len(tail),
            self.name,
            "[" + ", ".join(_shorten(l, 120) for l in tail) + "]",
        )

    def read_line(self, timeout=5.0):
        """Next unconsumed line. AssertionError on timeout or EOF."""
        deadline = time.monotonic() + timeout
        while not self.pending:
            if self.eof:
                raise AssertionError("%s: connection closed (%s) while waiting for a line%s"
                                     % (self.name, self.eof_reason, self._recent()))
            if time.monotonic() >= deadline:
                raise AssertionError("%s: no line within %.1fs%s" % (self.name, timeout, self._recent()))
            self._pull(deadline)
        return self.pending.popleft()

    def expect(self, pattern, timeout=5.0):
        """Consume lines until one matches `pattern` (str: whole line equal;
        compiled regex: re.search). Returns the matching line; lines before it
        are consumed too."""
        match, desc = _matcher(pattern)
        deadline = time.monotonic() + timeout
        while True:
            while self.pending:
                line = self.pending.popleft()
                if match(line):
                    return line
            if self.eof:
                raise AssertionError("%s: connection closed (%s) before a line matching %s%s"
                                     % (self.name, self.eof_reason, desc, self._recent()))
            if time.monotonic() >= deadline:
                raise AssertionError("%s: no line matching %s within %.1fs%s"
                                     % (self.name, desc, timeout, self._recent()))
            self._pull(deadline)

    def expect_match(self, regex, timeout=5.0):
        """Like expect() with a regex, returns the re.Match."""
        if not isinstance(regex, re.Pattern):
            regex = re.compile(regex)
        line = self.expect(regex, timeout)
        return regex.search(line)

    def lines_until_quiet(self, quiet=0.5, timeout=10.0):
        """Consume and return every line until nothing new arrived for `quiet`
        seconds (or EOF, or `timeout` overall)."""
        out = []
        end = time.monotonic() + timeout
        last = time.monotonic()
        while True:
            while self.pending:
                out.append(self.pending.popleft())
            if self.eof:
                return out
            wait_end = min(end, last + quiet)
            if time.monotonic() >= wait_end:
                return out
            before = len(self.history)
            self._pull(wait_end)
            if len(self.history) != before:
                last = time.monotonic()

    def assert_no_line(self, pattern, within=0.5):
        """Wait `within` seconds; fail if any unconsumed line matches. Lines
        are NOT consumed, so a later expect() still sees them."""
        match, desc = _matcher(pattern)
        deadline = time.monotonic() + within
        while not self.eof:
            self._pull(deadline)  # at least one (non-blocking) look
            if time.monotonic() >= deadline:
                break
        for line in self.pending:
            if match(line):
                raise AssertionError("%s: unexpected line %s (matches %s)%s"
                                     % (self.name, _shorten(line), desc, self._recent()))

    def collect(self, pattern, count, timeout=10.0):
        """Consume lines until `count` lines matching `pattern` were seen;
        return those (non-matching lines are consumed and dropped)."""
        match, desc = _matcher(pattern)
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < count:
            while self.pending and len(got) < count:
                line = self.pending.popleft()
                if match(line):
                    got.append(line)
            if len(got) >= count:
                break
            if self.eof:
                raise AssertionError("%s: connection closed (%s) after %d/%d lines matching %s%s"
                                     % (self.name, self.eof_reason, len(got), count, desc, self._recent()))
            if time.monotonic() >= deadline:
                raise AssertionError("%s: only %d/%d lines matching %s within %.1fs%s"
                                     % (self.name, len(got), count, desc, timeout, self._recent()))
            self._pull(deadline)
        return got

    def expect_eof(self, timeout=5.0):
        """Consume lines until the stream ends; return them."""
        out = []
        deadline = time.monotonic() + timeout
        while True:
            while self.pending:
                out.append(self.pending.popleft())
            if self.eof:
                return out
            if time.monotonic() >= deadline:
                raise AssertionError("%s: stream still open after %.1fs%s" % (self.name, timeout, self._recent()))
            self._pull(deadline)

    def greeting(self, timeout=5.0):
        """Expect the welcome line; remember and return the nick it names."""
        m = self.expect_match(GREETING_RE, timeout)
        self.nick = m.group(1)
        return self.nick


GREETING_RE = re.compile(r"^\*\*\* welcome to hichat, ([^\s,(]+)")


# ---------------------------------------------------------------------------
# Server


LISTEN_RE = re.compile(r"^listening on (\[[^\]]*\]|[^\s:]+):(\d+)( \(tls\))?\s*$", re.M)


class Server:
    """`hichat serve` in the background.

    Server(*extra_args, port=0, bind=None) -- starts it and waits (5 s) for
    `listening on ADDR:PORT`; `.port`, `.addr`; `.stop()` sends SIGTERM and
    returns the exit status; teardown always kills it."""

    _seq = 0

    def __init__(self, *args, port=0, bind=None, ready_timeout=5.0, name=None, wrap=None,
                 stdout_pipe=False, ready=None):
        Server._seq += 1
        self.name = name or "server%d" % Server._seq
        d = tmpdir()
        self.stdout_path = os.path.join(d, "%s.stdout" % self.name)
        self.stderr_path = os.path.join(d, "%s.stderr" % self.name)
        argv = [HICHAT, "serve"]
        if bind is not None:
            argv += ["--bind", bind]
        argv += ["--port", str(port)]
        argv += [str(a) for a in args]
        if wrap:  # e.g. ["ip", "netns", "exec", NS]: it execs, so the pid stays
            argv = list(wrap) + argv
        self.argv = argv
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        # stdout_pipe: the test holds the read end of the server's stdout
        # (self.proc.stdout), to read it slowly or close it.
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE if stdout_pipe else self._out,
                                     stderr=self._err, close_fds=True)
        _register(self)
        self.returncode = None
        # ready: a regex for the line that says it is up, when it is not the
        # TCP one (a server with --no-tcp); then .port is None.
        ready_re = re.compile(ready, re.M) if ready else LISTEN_RE
        deadline = time.monotonic() + ready_timeout
        while True:
            m = ready_re.search(self.stderr())
            if m:
                break
            if self.proc.poll() is not None:
                raise AssertionError("%s exited with status %s before listening; stderr: %s"
                                     % (" ".join(argv), self.proc.returncode, _shorten(self.stderr(), 400)))
            if time.monotonic() >= deadline:
                raise AssertionError("%s: no 'listening on' line within %.0fs; stderr: %s"
                                     % (" ".join(argv), ready_timeout, _shorten(self.stderr(), 400)))
            time.sleep(0.01)
        self.listen_line = m.group(0).strip()
        if ready:
            self.addr, self.port = None, None
            return
        addr = m.group(1)
        self.addr = addr[1:-1] if addr.startswith("[") else addr
        self.port = int(m.group(2))
        if port:
            assert self.port == port, "asked for port %d, got %s" % (port, self.listen_line)
        else:
            assert self.port != 0, "port 0 printed instead of the kernel-chosen port: %s" % self.listen_line

    # -- logs
    def stdout(self):
        with open(self.stdout_path, "rb") as f:
            return f.read().decode("utf-8", errors="backslashreplace")

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", errors="backslashreplace")

    def stdout_lines(self):
        return self.stdout().splitlines()

    def stderr_lines(self):
        return self.stderr().splitlines()

    def wait_log(self, regex, timeout=5.0, stream="stderr"):
        """Poll a log file until a line matches `regex`; returns the re.Match."""
        if not isinstance(regex, re.Pattern):
            regex = re.compile(regex)
        deadline = time.monotonic() + timeout
        read = self.stderr if stream == "stderr" else self.stdout
        while True:
            for line in read().splitlines():
                m = regex.search(line)
                if m:
                    return m
            if time.monotonic() >= deadline:
                raise AssertionError("%s %s: no line matching /%s/ within %.1fs; log tail: %s"
                                     % (self.name, stream, regex.pattern, timeout,
                                        _shorten(read()[-600:], 700)))
            time.sleep(0.02)

    # -- lifecycle
    def alive(self):
        return self.proc.poll() is None

    def send_signal(self, sig):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def terminate(self, sig=signal.SIGTERM):
        """Send SIGTERM and return at once (see wait())."""
        self.send_signal(sig)

    def wait(self, timeout=5.0):
        """Exit status; AssertionError (and kill) if still running after `timeout`."""
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            _kill_proc(self.proc)
            raise AssertionError("%s still running after %.1fs" % (self.name, timeout))
        return self.returncode

    def stop(self, timeout=5.0, sig=signal.SIGTERM):
        """Send SIGTERM, wait up to `timeout` s; returns the exit status
        (negative = killed by a signal). Raises if it does not exit."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            _kill_proc(self.proc)
            raise AssertionError("%s did not exit within %.1fs after %s"
                                 % (self.name, timeout, signal.Signals(sig).name))
        return self.returncode

    def client(self, **kw):
        return Client(self.port, host=kw.pop("host", self._connect_host()), **kw)

    def _connect_host(self):
        if self.addr in ("0.0.0.0", ""):
            return "127.0.0.1"
        if self.addr == "::":
            return "::1"
        return self.addr

    def teardown(self):
        # Every test ends with a real shutdown, so each one also checks that
        # SIGTERM ends the server cleanly (and, under SANITIZE=1, that
        # LeakSanitizer's exit-time check passes).
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                status = self.proc.wait(5)
                if status != 0:
                    _findings.append("%s exited %s after SIGTERM; stderr tail: %s"
                                     % (self.name, status, _shorten(self.stderr()[-600:], 700)))
            except subprocess.TimeoutExpired:
                _findings.append("%s did not exit within 5 s of SIGTERM" % self.name)
        _kill_proc(self.proc)
        for f in (self._out, self._err, self.proc.stdout):
            try:
                if f:
                    f.close()
            except Exception:
                pass
        scan_for_sanitizer(self.name, self.stderr())

    def log_tail(self, n=15):
        err = self.stderr().splitlines()[-n:]
        return "\n".join("    %s stderr: %s" % (self.name, l) for l in err)


# ---------------------------------------------------------------------------
# Raw socket client


class Client(LineSource):
    """A raw TCP client.

    Client(port, host='127.0.0.1', nodelay=True, rcvbuf=None, source=None)
    source: a local address to connect from (e.g. '127.0.0.2').
    Client(None, unix=PATH): the same over a Unix-domain socket.
    """

    _seq = 0

    def __init__(self, port, host="127.0.0.1", nodelay=True, rcvbuf=None, timeout=5.0, name=None,
                 source=None, unix=None):
        super().__init__()
        Client._seq += 1
        self.name = name or "client%d" % Client._seq
        self.nick = None
        family = socket.AF_UNIX if unix else socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        _register(self)
        if source is not None:
            self.sock.bind((source, 0))
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if nodelay and not unix:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        self.sock.connect(unix if unix else (host, port))
        self.sock.setblocking(False)
        self._buf = b""
        self.closed = False

    def fileno(self):
        return self.sock.fileno()

    # -- sending
    def send(self, data, timeout=10.0):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.settimeout(timeout)
        try:
            self.sock.sendall(data)
        finally:
            self.sock.setblocking(False)

    def sendline(self, text):
        if isinstance(text, str):
            text = text.encode("utf-8")
        self.send(text + b"\n")

    # -- receiving
    def _feed(self, data):
        self._buf += data
        if b"\n" in self._buf:
            *lines, self._buf = self._buf.split(b"\n")
            for raw in lines:
                line = decode_line(raw)
                self.pending.append(line)
                self.history.append(line)

    def _pull(self, deadline):
        if self.eof:
            return
        remaining = max(0.0, deadline - time.monotonic())
        try:
            r, _, _ = select.select([self.sock], [], [], remaining)
        except (OSError, ValueError) as e:
            self.eof, self.eof_reason = True, "select: %s" % e
            return
        if not r:
            return
        try:
            data = self.sock.recv(262144)
        except BlockingIOError:
            return
        except ConnectionResetError:
            self.eof, self.eof_reason = True, "reset"
            return
        except OSError as e:
            self.eof, self.eof_reason = True, str(e)
            return
        if not data:
            self.eof, self.eof_reason = True, "EOF"
            if self._buf:
                # an unterminated last line: report it too, marked
                line = decode_line(self._buf)
                self._buf = b""
                self.pending.append(line)
                self.history.append(line)
            return
        self._feed(data)

    def drain(self):
        """Non-blocking: read whatever is available right now."""
        while not self.eof:
            try:
                data = self.sock.recv(262144)
            except BlockingIOError:
                return
            except ConnectionResetError:
                self.eof, self.eof_reason = True, "reset"
                return
            except OSError as e:
                self.eof, self.eof_reason = True, str(e)
                return
            if not data:
                self.eof, self.eof_reason = True, "EOF"
                return
            self._feed(data)

    # -- closing
    def shutdown_wr(self):
        self.sock.shutdown(socket.SHUT_WR)

    def close(self):
        if not self.closed:
            self.closed = True
            self.sock.close()

    def reset(self):
        """Abortive close: SO_LINGER {on, 0} makes close() send a RST."""
        if not self.closed:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close()

    def teardown(self):
        try:
            self.close()
        except OSError:
            pass


# ---------------------------------------------------------------------------
# Subprocess clients (hichat connect, nc)


class ProcClient(LineSource):
    """A line-oriented subprocess: bytes go to its stdin pipe, a thread splits
    its stdout into lines. Same expect API as Client."""

    _seq = 0

    def __init__(self, argv, name=None, env=None):
        super().__init__()
        ProcClient._seq += 1
        self.name = name or "%s%d" % (os.path.basename(argv[0]), ProcClient._seq)
        self.argv = argv
        self.nick = None
        self._q = queue.Queue()
        self._stderr_chunks = []
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, bufsize=0, close_fds=True, env=env)
        _register(self)
        self._t_out = threading.Thread(target=self._read_stdout, daemon=True)
        self._t_err = threading.Thread(target=self._read_stderr, daemon=True)
        self._t_out.start()
        self._t_err.start()

    def _read_stdout(self):
        buf = b""
        try:
            while True:
                data = self.proc.stdout.read1(65536) if hasattr(self.proc.stdout, "read1") \
                    else os.read(self.proc.stdout.fileno(), 65536)
                if not data:
                    break
                buf += data
                if b"\n" in buf:
                    *lines, buf = buf.split(b"\n")
                    for raw in lines:
                        self._q.put(decode_line(raw))
        except (OSError, ValueError):
            pass
        if buf:
            self._q.put(decode_line(buf))
        self._q.put(None)  # EOF marker

    def _read_stderr(self):
        try:
            while True:
                data = os.read(self.proc.stderr.fileno(), 65536)
                if not data:
                    break
                self._stderr_chunks.append(data)
        except (OSError, ValueError):
            pass

    def stderr(self):
        return b"".join(self._stderr_chunks).decode("utf-8", errors="backslashreplace")

    def _pull(self, deadline):
        if self.eof:
            return
        remaining = max(0.0, deadline - time.monotonic())
        try:
            item = self._q.get(timeout=remaining) if remaining > 0 else self._q.get_nowait()
        except queue.Empty:
            return
        while True:
            if item is None:
                self.eof, self.eof_reason = True, "stdout closed"
                return
            self.pending.append(item)
            self.history.append(item)
            try:
                item = self._q.get_nowait()
            except queue.Empty:
                return

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def sendline(self, text):
        if isinstance(text, str):
            text = text.encode("utf-8")
        self.send(text + b"\n")

    def close_stdin(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass

    def wait(self, timeout=5.0):
        """Exit status; AssertionError if still running after `timeout`."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("%s (%s) still running after %.1fs; stderr: %s%s"
                                 % (self.name, " ".join(self.argv), timeout,
                                    _shorten(self.stderr()), self._recent()))

    def kill(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def alive(self):
        return self.proc.poll() is None

    def teardown(self):
        self.close_stdin()
        # SIGTERM first: hichat connect then exits normally, which is when a
        # sanitizer build reports leaks.
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
            except OSError:
                pass
        _kill_proc(self.proc, grace=2.0)
        for f in (self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except Exception:
                pass
        scan_for_sanitizer(self.name, self.stderr())


def hostport(host, port):
    return "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)


class HichatConnect(ProcClient):
    """`hichat connect HOST:PORT [--nick NAME]` without a terminal."""

    def __init__(self, port, host="127.0.0.1", nick=None, extra=(), name=None):
        argv = [HICHAT, "connect", hostport(host, port)]
        if nick is not None:
            argv += ["--nick", nick]
        argv += list(extra)
        super().__init__(argv, name=name or ("connect-%s" % nick if nick else None))


class Netcat(ProcClient):
    """`nc HOST PORT` (netcat-openbsd)."""

    def __init__(self, port, host="127.0.0.1", name=None):
        nc = shutil.which("nc")
        if nc is None:
            raise SkipTest("nc (netcat-openbsd) not installed")
        super().__init__([nc, host, str(port)], name=name or "nc%d" % (ProcClient._seq + 1))


def run_hichat(args, timeout=5.0, stdin=subprocess.DEVNULL):
    """Run `hichat ARGS...` to completion; returns CompletedProcess with str
    stdout/stderr. Kills it (and fails) if it takes longer than `timeout`."""
    argv = [HICHAT] + [str(a) for a in args]
    proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_proc(proc)
        out, err = proc.communicate()
        raise AssertionError("%s still running after %.1fs (stdout %s, stderr %s)"
                             % (" ".join(argv), timeout, _shorten(out), _shorten(err)))
    return subprocess.CompletedProcess(argv, proc.returncode,
                                       out.decode("utf-8", "backslashreplace"),
                                       err.decode("utf-8", "backslashreplace"))


class PyProc(ProcClient):
    """A python3 helper script as a ProcClient (unbuffered)."""

    def __init__(self, script, *args, name=None):
        super().__init__([sys.executable, "-u", script] + [str(a) for a in args],
                         name=name or os.path.basename(script))


# ---------------------------------------------------------------------------
# Small helpers for tests


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    """A loopback port that nothing listens on (bound then closed)."""
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.bind((host, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def joined_clients(server, n, **kw):
    """Connect n raw clients one after the other; each one's greeting is read
    and every earlier client has consumed the join notice, so all of them are
    idle and in sync when this returns."""
    clients = []
    for _ in range(n):
        c = server.client(**kw)
        c.greeting()
        for other in clients:
            other.expect("*** %s joined" % c.nick)
        clients.append(c)
    return clients


def assert_no_line_all(sources, pattern, within=0.5):
    """assert_no_line on several clients, waiting `within` once for all."""
    time.sleep(within)
    for src in sources:
        src.assert_no_line(pattern, 0)


class FakeServer:
    """A one-connection TCP server on 127.0.0.1 (not hichat), run by
    handler(conn, result_dict) in a thread: for what a real server never
    sends, or a server that stops reading."""

    def __init__(self, handler):
        self.ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(1)
        self.ls.settimeout(10)
        self.port = self.ls.getsockname()[1]
        self.result = {}
        self.thread = threading.Thread(target=self._run, args=(handler,), daemon=True)
        self.thread.start()
        _register(self)

    def _run(self, handler):
        try:
            conn, _ = self.ls.accept()
            with conn:
                handler(conn, self.result)
        except OSError as e:
            self.result["error"] = e

    def teardown(self):
        self.ls.close()
        self.thread.join(5)


def logged_port(log, timeout=5.0):
    """The port of the "listening on ADDR:PORT" line a server started in a
    terminal (tmux) writes to its log file, waiting for it to appear."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(log):
            m = re.search(r"listening on [^\s]+:(\d+)", open(log).read())
            if m:
                return int(m.group(1))
        time.sleep(0.05)
    check(False, "the console server never printed 'listening on' to %s" % log)


def proc_cpu_seconds(pid):
    """User + system CPU time a process has used, from /proc."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def proc_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


class Tmux:
    """One tmux server of our own (-L), one pane running `command`."""

    _seq = 0

    def __init__(self, command, width=100, height=24):
        if not shutil.which("tmux"):
            raise AssertionError("tmux is not installed (scripts/setup installs it)")
        Tmux._seq += 1
        self.sock = "hichat-e2e-%d-%d" % (os.getpid(), Tmux._seq)
        env = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8", TERM="xterm-256color")
        self.env = env
        subprocess.run(["tmux", "-u", "-L", self.sock, "-f", "/dev/null", "new-session", "-d",
                        "-x", str(width), "-y", str(height), command],
                       check=True, env=env, timeout=10)
        _register(self)

    def tmux(self, *args):
        return subprocess.run(["tmux", "-u", "-L", self.sock] + list(args), env=self.env,
                              capture_output=True, timeout=10)

    def keys(self, text):
        self.tmux("send-keys", "-l", text)

    def key(self, *names):
        self.tmux("send-keys", *names)

    def type_line(self, text):
        """Types text and Enter."""
        self.keys(text)
        self.key("Enter")

    def screen(self):
        return self.tmux("capture-pane", "-p").stdout.decode("utf-8", "replace")

    def lines(self):
        return [l.rstrip() for l in self.screen().splitlines() if l.strip()]

    def wait_screen(self, pattern, timeout=5.0):
        rx = re.compile(pattern)
        return self.wait_until(lambda s: rx.search(s), "screen never showed /%s/" % pattern,
                               timeout)

    def wait_until(self, ok, what, timeout=5.0):
        """Polls the screen until ok(screen) holds; returns the screen."""
        deadline = time.monotonic() + timeout
        while True:
            s = self.screen()
            if ok(s):
                return s
            if time.monotonic() >= deadline:
                raise AssertionError("%s; it shows:\n%s" % (what, s))
            time.sleep(0.05)

    def cursor_x(self):
        return int(self.tmux("display-message", "-p", "#{cursor_x}").stdout.decode().strip())

    def alive(self):
        return self.tmux("has-session").returncode == 0

    def teardown(self):
        # A hichat still in the pane gets Ctrl-C first and a moment to end
        # while its terminal exists: a SANITIZE build hung up by kill-server
        # was seen spinning forever in LeakSanitizer's exit check.
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and "hichat" in self.tmux(
                "display-message", "-p", "#{pane_current_command}").stdout.decode():
            self.key("C-c")
            time.sleep(0.1)
        self.tmux("kill-server")


def title_of(t):
    return t.tmux("display-message", "-p", "#{pane_title}").stdout.decode().strip()
