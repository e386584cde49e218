"""Security: TLS on the TCP port (a CA's certificate, a self-signed one kept
across restarts, client certificates), how `hichat connect --tls` decides to
trust a server (CA and name, a pinned fingerprint, known_hosts, and the loud
refusals), the password gate with its slow-down and per-address lockout,
--allow/--deny over IPv4 and IPv6, and interoperation with openssl s_client
and ncat --ssl.

Every certificate is made here with the openssl command, in the run's temp
dir; every hichat client gets its own XDG_CONFIG_HOME, so known_hosts starts
empty unless a test means otherwise. Lockout tests connect from 127.0.0.2 and
127.0.0.3 so that 127.0.0.1 is never locked out.
"""

import os
import re
import shutil
import stat
import subprocess
import time

from harness import (HICHAT, ProcClient, Server, SkipTest, _kill_proc, _register, check,
                     free_port, scan_for_sanitizer, tmpdir)

TLS_NOTICE = "! this port speaks TLS: hichat connect --tls, ncat --ssl or openssl s_client"
PASS_PROMPT = ("*** password required: send /pass PASSWORD (hichat connect --password-file "
               "FILE does it for you)")
FP_RE = re.compile(r"(?:[0-9A-F]{2}:){31}[0-9A-F]{2}")
# No CA vouches for the certificate: OpenSSL says the first when the server
# sends the leaf alone, the second when it sends a chain.
NO_ISSUER = "unable to verify the first certificate|unable to get local issuer certificate"
TLS_CONN_LOG = r"^tls 127\.0\.0\.1:\d+ TLSv1\.3 TLS_AES_256_GCM_SHA384$"
LOCKED_RE = re.compile(r"^! too many wrong passwords from your address; locked out for (\d+) s$")

_seq = [0]


def fresh_dir(name):
    """A new empty directory under the run's temp dir."""
    _seq[0] += 1
    path = os.path.join(tmpdir(), "sec-%d-%s" % (_seq[0], name))
    os.makedirs(path)
    return path


def write_secret(path, text):
    """A file only its owner may read (a password file, a key)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return path


# ---------------------------------------------------------------------------
# Certificates, made with the openssl command


def openssl(*args, cwd=None):
    r = subprocess.run(["openssl"] + [str(a) for a in args], cwd=cwd, capture_output=True,
                       text=True, timeout=20)
    if r.returncode != 0:
        raise AssertionError("openssl %s failed: %s" % (" ".join(map(str, args)), r.stderr))
    return r.stdout


EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]


def cert_fingerprint(path):
    """SHA-256 fingerprint as `openssl x509 -fingerprint -sha256` prints it."""
    out = openssl("x509", "-in", path, "-noout", "-fingerprint", "-sha256")
    return out.strip().split("=", 1)[1]


class Pki:
    """The certificates the tests use, in one directory:

    ca / rogue_ca       two CAs (rogue_ca is trusted by nobody)
    leaf                server cert by ca for DNS:localhost, IP:127.0.0.1
    other               server cert by ca for DNS:other.example only
    expired             like leaf, valid only on 2020-01-01
    self_signed         self-signed, for DNS:localhost, IP:127.0.0.1
    client / rogue_client   client certs by ca and by rogue_ca
    Each is a (cert, key) pair of paths."""

    def __init__(self):
        self.dir = fresh_dir("pki")
        self.ca = self.make_ca("ca", "hichat test CA")
        self.rogue_ca = self.make_ca("rogue-ca", "somebody else's CA")
        san = "DNS:localhost,IP:127.0.0.1"
        self.leaf = self.make_leaf("leaf", self.ca, san)
        self.other = self.make_leaf("other", self.ca, "DNS:other.example")
        self.expired = self.make_expired("expired", self.ca, san)
        self.self_signed = self.make_self_signed("self", san)
        self.client = self.make_leaf("client", self.ca, None, client=True)
        self.rogue_client = self.make_leaf("rogue-client", self.rogue_ca, None, client=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def _csr(self, name, cn):
        openssl("req", "-new", *EC_KEY, "-keyout", name + ".key", "-out", name + ".csr",
                "-subj", "/CN=" + cn, cwd=self.dir)
        os.chmod(self.path(name + ".key"), 0o600)

    def _ext(self, name, san, client=False):
        lines = ["basicConstraints=critical,CA:FALSE"]
        if san:
            lines.append("subjectAltName=" + san)
        lines.append("extendedKeyUsage=" + ("clientAuth" if client else "serverAuth"))
        with open(self.path(name + ".ext"), "w") as f:
            f.write("\n".join(lines) + "\n")
        return name + ".ext"

    def make_ca(self, name, cn):
        openssl("req", "-x509", *EC_KEY, "-keyout", name + ".key", "-out", name + ".pem",
                "-days", "30", "-subj", "/CN=" + cn, cwd=self.dir)
        return self.path(name + ".pem"), self.path(name + ".key")

    def make_leaf(self, name, ca, san, client=False):
        """A certificate signed by ca, valid from now for 30 days."""
        cn = "hichat test client" if client else "localhost"
        self._csr(name, cn)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", ca[0], "-CAkey", ca[1],
                "-CAcreateserial", "-days", "30", "-extfile", self._ext(name, san, client),
                "-out", name + ".pem", cwd=self.dir)
        return self.path(name + ".pem"), self.path(name + ".key")

    def make_self_signed(self, name, san):
        openssl("req", "-x509", *EC_KEY, "-keyout", name + ".key", "-out", name + ".pem",
                "-days", "30", "-subj", "/CN=localhost", "-addext", "subjectAltName=" + san,
                cwd=self.dir)
        return self.path(name + ".pem"), self.path(name + ".key")

    def make_expired(self, name, ca, san):
        """Signed by ca, valid only on 2020-01-01: `openssl ca` takes explicit
        dates (OpenSSL 3.0's x509 -req cannot date a certificate back)."""
        self._csr(name, "localhost")
        d = self.path("ca-db-" + name)
        os.makedirs(d)
        open(os.path.join(d, "index.txt"), "w").close()
        with open(os.path.join(d, "serial"), "w") as f:
            f.write("1000\n")
        conf = os.path.join(d, "ca.cnf")
        with open(conf, "w") as f:
            f.write("[ca]\ndefault_ca = db\n"
                    "[db]\ndir = %s\ndatabase = $dir/index.txt\nnew_certs_dir = $dir\n"
                    "serial = $dir/serial\ndefault_md = sha256\npolicy = any\n"
                    "unique_subject = no\n"
                    "[any]\ncommonName = supplied\n"
                    "[v3]\nbasicConstraints = critical,CA:FALSE\nsubjectAltName = %s\n"
                    % (d, san))
        openssl("ca", "-config", conf, "-batch", "-notext", "-cert", ca[0], "-keyfile", ca[1],
                "-in", name + ".csr", "-out", name + ".pem", "-extensions", "v3",
                "-startdate", "20200101000000Z", "-enddate", "20200102000000Z", cwd=self.dir)
        return self.path(name + ".pem"), self.path(name + ".key")


_pki = {}


def pki():
    """The run's certificates, made on first use (the temp dir lives for the
    whole run, so every test shares them)."""
    key = tmpdir()
    if key not in _pki:
        _pki.clear()
        _pki[key] = Pki()
    return _pki[key]


# ---------------------------------------------------------------------------
# hichat clients, each with its own XDG_CONFIG_HOME


def new_xdg():
    return fresh_dir("xdg")


def known_hosts(xdg):
    return os.path.join(xdg, "hichat", "known_hosts")


def read_known(xdg):
    try:
        with open(known_hosts(xdg)) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def client_env(xdg):
    return dict(os.environ, XDG_CONFIG_HOME=xdg)


def hichat(args, xdg=None, input="", timeout=8.0):
    """Runs `hichat ARGS...` to completion with XDG_CONFIG_HOME=xdg (a fresh
    one if None) and `input` piped in; CompletedProcess with str output."""
    argv = [HICHAT] + [str(a) for a in args]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=client_env(xdg or new_xdg()))
    try:
        out, err = proc.communicate(input.encode(), timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_proc(proc)
        out, err = proc.communicate()
        raise AssertionError("%s still running after %.1fs (stdout %r, stderr %r)"
                             % (" ".join(argv), timeout, out[-300:], err[-300:]))
    err = err.decode("utf-8", "backslashreplace")
    scan_for_sanitizer("hichat " + " ".join(argv[1:3]), err)  # a SANITIZE=1 build's report
    return subprocess.CompletedProcess(argv, proc.returncode,
                                       out.decode("utf-8", "backslashreplace"), err)


def connect(port, *extra, xdg=None, host="127.0.0.1", name=None):
    """`hichat connect HOST:PORT EXTRA...` in pipe mode, as a ProcClient."""
    hp = "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)
    argv = [HICHAT, "connect", hp] + [str(a) for a in extra]
    return ProcClient(argv, name=name, env=client_env(xdg or new_xdg()))


def expect_failure(r, status, *needles):
    """r exited `status` and its stderr has every needle."""
    check(r.returncode == status, "%s: exit %s, expected %d; stderr: %s"
          % (" ".join(r.args[1:]), r.returncode, status, r.stderr))
    for n in needles:
        check(n in r.stderr, "%s: stderr lacks %r: %s" % (" ".join(r.args[1:]), n, r.stderr))


def expect_joined(r, what):
    """A pipe-mode connect that got in and left at EOF on its stdin."""
    check(r.returncode == 0, "%s: exit %s; stderr: %s" % (what, r.returncode, r.stderr))
    check(r.stdout.startswith("*** welcome to hichat, "),
          "%s: stdout starts with the greeting: %r" % (what, r.stdout[:200]))


def tls_server(cert, *args, **kw):
    """A server with TLS from (cert, key), checked to say so."""
    srv = Server("--tls-cert", cert[0], "--tls-key", cert[1], *args, **kw)
    check(srv.listen_line.endswith(" (tls)"), "listening line says tls: %r" % srv.listen_line)
    return srv


def tls_watcher(srv, pk):
    """A verified hichat --tls member of srv's room, its greeting read."""
    w = connect(srv.port, "--tls-ca", pk.ca[0], name="watcher")
    w.greeting()
    return w


# ---------------------------------------------------------------------------
# Server-side TLS


def test_tls_server_with_a_ca_signed_certificate_chats_and_logs():
    pk = pki()
    srv = tls_server(pk.leaf)
    fp = srv.wait_log(r"^tls fingerprint SHA256 (\S+)$").group(1)
    check(fp == cert_fingerprint(pk.leaf[0]),
          "logged fingerprint %s is openssl's %s" % (fp, cert_fingerprint(pk.leaf[0])))
    check(re.match(r"^listening on 127\.0\.0\.1:%d \(tls\)$" % srv.port, srv.listen_line),
          srv.listen_line)
    # Two verified clients (by IP and by host name) in one room.
    a = connect(srv.port, "--tls-ca", pk.ca[0], "--nick", "alice", name="alice")
    a.greeting()
    a.expect(re.compile(r"^\*\*\* guest\d+ is now known as alice$"))
    b = connect(srv.port, "--tls-ca", pk.ca[0], "--nick", "bob", host="localhost", name="bob")
    b.greeting()
    b.expect(re.compile(r"^\*\*\* guest\d+ is now known as bob$"))
    a.sendline("over tls from alice")
    b.expect("<alice> over tls from alice")
    b.sendline("and back from bob")
    a.expect("<bob> and back from bob")
    srv.wait_log(TLS_CONN_LOG)
    check(len(re.findall(TLS_CONN_LOG, srv.stderr(), re.M)) == 2,
          "one tls line per connection: %s" % srv.stderr())
    # Pipe mode prints only what came over the wire, as without TLS: no
    # notes of the client's own on stdout.
    check(all(l.startswith(("*** ", "<")) for l in a.history), "clean stdout: %r" % a.history)
    a.close_stdin()
    b.close_stdin()
    check(a.wait(5) == 0 and b.wait(5) == 0, "both exit 0 at EOF")
    # --tls-key defaults to the --tls-cert file: a combined PEM works.
    both = os.path.join(fresh_dir("combined"), "both.pem")
    write_secret(both, open(pk.leaf[0]).read() + open(pk.leaf[1]).read())
    srv2 = Server("--tls-cert", both)
    expect_joined(hichat(["connect", "127.0.0.1:%d" % srv2.port, "--tls-ca", pk.ca[0]]),
                  "connect to the combined-PEM server")
    check(srv.stop() == 0 and srv2.stop() == 0, "servers exit 0")


def test_self_signed_certificate_is_made_once_and_kept_across_restarts():
    d = fresh_dir("selfsigned")
    path = os.path.join(d, "sub", "server.pem")  # its directory is made too
    srv = Server("--tls-self-signed=" + path)
    srv.wait_log(r"^tls self-signed certificate made in %s$" % re.escape(path))
    fp1 = srv.wait_log(r"^tls fingerprint SHA256 (%s)$" % FP_RE.pattern).group(1)
    check(fp1 == cert_fingerprint(path), "fingerprint %s is openssl's %s"
          % (fp1, cert_fingerprint(path)))
    mode = stat.S_IMODE(os.stat(path).st_mode)
    check(mode == 0o600, "key file mode %o, expected 600" % mode)
    text = openssl("x509", "-in", path, "-noout", "-ext", "subjectAltName")
    check("DNS:localhost" in text and "IP Address:127.0.0.1" in text,
          "its names include localhost and 127.0.0.1: %s" % text)
    check("PRIVATE KEY" in open(path).read(), "the key is in the same file")
    # A client pinning the printed fingerprint gets in.
    expect_joined(hichat(["connect", "127.0.0.1:%d" % srv.port, "--tls-fingerprint", fp1]),
                  "pinned connect")
    check(srv.stop() == 0, "server exits 0")
    before = open(path, "rb").read()
    srv = Server("--tls-self-signed=" + path)
    srv.wait_log(r"^tls self-signed certificate kept in %s$" % re.escape(path))
    fp2 = srv.wait_log(r"^tls fingerprint SHA256 (\S+)$").group(1)
    check(fp2 == fp1, "same fingerprint after a restart: %s vs %s" % (fp1, fp2))
    check(open(path, "rb").read() == before, "the file is not rewritten")
    check("made in" not in srv.stderr(), "not made again: %s" % srv.stderr())
    # Without =FILE it lives in $XDG_CONFIG_HOME/hichat/selfsigned.pem.
    xdg = new_xdg()
    old = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = xdg
    try:
        srv3 = Server("--tls-self-signed")
    finally:
        if old is None:
            del os.environ["XDG_CONFIG_HOME"]
        else:
            os.environ["XDG_CONFIG_HOME"] = old
    default = os.path.join(xdg, "hichat", "selfsigned.pem")
    srv3.wait_log(r"^tls self-signed certificate made in %s$" % re.escape(default))
    check(stat.S_IMODE(os.stat(default).st_mode) == 0o600, "default file is 0600 too")
    fp3 = srv3.wait_log(r"^tls fingerprint SHA256 (\S+)$").group(1)
    check(fp3 != fp1 and fp3 == cert_fingerprint(default), "a new key of its own: %s" % fp3)


def test_plaintext_and_tls_clients_on_the_wrong_port_are_told():
    pk = pki()
    srv = tls_server(pk.leaf)
    # A plaintext client that speaks first is told at once, in plaintext.
    c = srv.client()
    c.sendline("hello, anyone?")
    check(c.expect_eof(3) == [TLS_NOTICE], "the notice and the end: %r" % c.history)
    srv.wait_log(r"^disconnect 127\.0\.0\.1:%d - \(not TLS on the TLS port\)$"
                 % c.sock.getsockname()[1])
    # TLS members are not disturbed by it.
    w = tls_watcher(srv, pk)
    w.assert_no_line(re.compile("hello, anyone"), within=0.2)
    # A TLS client on a plaintext port: refused with a hint, and the
    # server sees a ClientHello, not a chat client.
    plain = Server()
    r = hichat(["connect", "127.0.0.1:%d" % plain.port, "--tls-ca", pk.ca[0]])
    expect_failure(r, 1, "does not speak TLS")
    plain.wait_log(r"^disconnect 127\.0\.0\.1:\d+ \S+ \(not a chat client: TLS handshake\)$")


def test_silent_plaintext_client_and_stalled_handshake_end_after_10_s():
    pk = pki()
    srv = tls_server(pk.leaf)
    t0 = time.monotonic()
    c = srv.client()  # like nc waiting for a greeting
    stall = srv.client(name="stall")
    stall.send(b"\x16\x03\x01")  # a TLS record begun, never finished
    check(c.expect(TLS_NOTICE, timeout=13) == TLS_NOTICE, "told")
    took = time.monotonic() - t0
    check(9.0 <= took <= 12.5, "told after %.1f s, expected about 10" % took)
    check(c.expect_eof(2) == [], "then closed")
    check(c.history == [TLS_NOTICE], "nothing else: %r" % c.history)
    srv.wait_log(r"^disconnect 127\.0\.0\.1:\d+ - \(not TLS on the TLS port\)$")
    # The stalled handshake is dropped at the same deadline, without a word
    # (there is no session to say it in).
    check(stall.expect_eof(2) == [] and stall.history == [], "no data: %r" % stall.history)
    addr = re.escape("127.0.0.1:%d" % stall.sock.getsockname()[1])
    srv.wait_log(r"^tls %s: handshake not done within 10 s$" % addr)
    srv.wait_log(r"^disconnect %s - \(TLS handshake failed\)$" % addr)


def test_client_certificates_required_by_tls_client_ca():
    pk = pki()
    srv = tls_server(pk.leaf, "--tls-client-ca", pk.ca[0])
    srv.wait_log(r"^tls client certificates required \(CAs in %s\)$" % re.escape(pk.ca[0]))
    # With a certificate from the CA: in, and chatting.
    a = connect(srv.port, "--tls-ca", pk.ca[0], "--tls-cert", pk.client[0],
                "--tls-key", pk.client[1], "--nick", "certified", name="certified")
    a.greeting()
    a.expect(re.compile(r"^\*\*\* guest\d+ is now known as certified$"))
    # Without one: refused, and told why.
    r = hichat(["connect", "127.0.0.1:%d" % srv.port, "--tls-ca", pk.ca[0]], input="sneak in\n")
    expect_failure(r, 1, "certificate required")
    check("*** welcome" not in r.stdout, "never greeted: %r" % r.stdout)
    srv.wait_log(r"^tls 127\.0\.0\.1:\d+: TLS handshake: peer did not return a certificate$")
    # With one from another CA: rejected by the server.
    r = hichat(["connect", "127.0.0.1:%d" % srv.port, "--tls-ca", pk.ca[0],
                "--tls-cert", pk.rogue_client[0], "--tls-key", pk.rogue_client[1]],
               input="sneak in\n")
    expect_failure(r, 1, "did not accept the client certificate")
    check("*** welcome" not in r.stdout, "never greeted: %r" % r.stdout)
    srv.wait_log(r"^tls 127\.0\.0\.1:\d+: TLS handshake: certificate verify failed$")
    fails = re.findall(r"^disconnect 127\.0\.0\.1:\d+ - \(TLS handshake failed\)$",
                       srv.stderr(), re.M)
    check(len(fails) == 2, "two handshakes failed: %s" % srv.stderr())
    a.sendline("only certified members here")
    srv.wait_log(r"^<certified> only certified members here$", stream="stdout")
    a.assert_no_line(re.compile("sneak in"), within=0.3)
    check("sneak in" not in srv.stdout(), "no refused client's line reached the room")
    a.close_stdin()
    check(a.wait(5) == 0, "certified client exits 0")


# ---------------------------------------------------------------------------
# The client's trust in the server


def test_client_refuses_certificates_it_cannot_verify_and_insecure_takes_any():
    pk = pki()

    def refused(srv, reason, *extra, host="127.0.0.1", cert=None):
        xdg = new_xdg()
        r = hichat(["connect", "%s:%d" % (host, srv.port)] + list(extra), xdg=xdg,
                   input="must never reach the room\n")
        fp = cert_fingerprint(cert)
        expect_failure(r, 1, "its SHA-256 fingerprint: " + fp, "--tls-fingerprint " + fp)
        check(re.search(r"cannot verify the server's certificate: (%s)\n" % reason, r.stderr),
              "the reason is /%s/: %s" % (reason, r.stderr))
        check("*** welcome" not in r.stdout, "nothing shown from an untrusted server: %r"
              % r.stdout)
        check(read_known(xdg) == [], "nothing remembered: %r" % read_known(xdg))

    # A CA the client does not know: the system's CAs, or another CA.
    srv = tls_server(pk.leaf)
    w = tls_watcher(srv, pk)
    refused(srv, NO_ISSUER, "--tls", cert=pk.leaf[0])
    refused(srv, NO_ISSUER, "--tls-ca", pk.rogue_ca[0], cert=pk.leaf[0])
    # A self-signed one with nothing remembered.
    ss = tls_server(pk.self_signed)
    refused(ss, "self-signed certificate", "--tls", cert=pk.self_signed[0])
    # Expired.
    old = tls_server(pk.expired)
    refused(old, "certificate has expired", "--tls-ca", pk.ca[0], cert=pk.expired[0])
    # Signed by the right CA but for another name: by IP, by host name.
    other = tls_server(pk.other)
    refused(other, "IP address mismatch", "--tls-ca", pk.ca[0], cert=pk.other[0])
    refused(other, "hostname mismatch", "--tls-ca", pk.ca[0], host="localhost",
            cert=pk.other[0])
    # The right certificate on another address (it names 127.0.0.1 only).
    two = tls_server(pk.leaf, bind="127.0.0.2")
    refused(two, "IP address mismatch", "--tls-ca", pk.ca[0], host="127.0.0.2",
            cert=pk.leaf[0])
    # No refused client's line reached a room.
    w.assert_no_line(re.compile("must never reach"), within=0.3)
    for s in (srv, ss, old, other, two):
        check("must never reach" not in s.stdout(), "%s's room got it" % s.name)
    # --tls-insecure takes even the expired one, warning on stderr.
    xdg = new_xdg()
    r = hichat(["connect", "127.0.0.1:%d" % old.port, "--tls-insecure"], xdg=xdg,
               input="insecure hello\n")
    expect_joined(r, "--tls-insecure")
    check("warning: --tls-insecure" in r.stderr, "warned: %r" % r.stderr)
    old.wait_log(r"^<guest\d+> insecure hello$", stream="stdout")  # it chatted
    check(read_known(xdg) == [], "insecure remembers nothing: %r" % read_known(xdg))
    w.close_stdin()
    check(w.wait(5) == 0, "watcher exits 0")


def test_pinned_fingerprint_is_remembered_in_known_hosts_and_trusted_later():
    pk = pki()
    srv = tls_server(pk.self_signed)
    fp = cert_fingerprint(pk.self_signed[0])
    target = "127.0.0.1:%d" % srv.port
    xdg = new_xdg()
    # Nothing known yet: refused with the fingerprint to check.
    r = hichat(["connect", target, "--tls"], xdg=xdg)
    expect_failure(r, 1, "cannot verify the server's certificate: self-signed certificate", fp)
    # A wrong pin is refused and remembers nothing.
    wrong = "AA:" + fp[3:] if not fp.startswith("AA") else "BB:" + fp[3:]
    r = hichat(["connect", target, "--tls-fingerprint", wrong], xdg=xdg)
    expect_failure(r, 1, "not the one pinned with --tls-fingerprint", "pinned: " + wrong,
                   "shown:  " + fp)
    check(read_known(xdg) == [], "a refused pin is not remembered: %r" % read_known(xdg))
    # Colons optional, any case, an optional SHA256: prefix: all the same pin.
    for form in ("sha256:" + fp.replace(":", "").lower(), fp.lower(), "SHA256:" + fp,
                 fp.replace(":", "")):
        r = hichat(["connect", target, "--tls-fingerprint", form], xdg=xdg)
        expect_joined(r, "pin written as %s" % form)
        check(read_known(xdg) == ["%s %s" % (target, fp)],
              "known_hosts has one line for %s: %r" % (target, read_known(xdg)))
    mode = stat.S_IMODE(os.stat(known_hosts(xdg)).st_mode)
    check(mode & 0o077 == 0, "known_hosts is private: %o" % mode)
    # Later, plain --tls is enough for that HOST:PORT ...
    w = connect(srv.port, "--tls", xdg=xdg, name="remembered")
    w.greeting()
    w.sendline("trusted on first use")
    srv.wait_log(r"^<%s> trusted on first use$" % w.nick, stream="stdout")
    # ... but not for another spelling of the server (HOST:PORT is the key).
    r = hichat(["connect", "localhost:%d" % srv.port, "--tls"], xdg=xdg)
    expect_failure(r, 1, "cannot verify the server's certificate")
    # ... nor for another port with the same certificate.
    srv2 = tls_server(pk.self_signed)
    r = hichat(["connect", "127.0.0.1:%d" % srv2.port, "--tls"], xdg=xdg)
    expect_failure(r, 1, "cannot verify the server's certificate")
    check(read_known(xdg) == ["%s %s" % (target, fp)], "unchanged: %r" % read_known(xdg))
    # IPv6: remembered as [::1]:PORT.
    six = tls_server(pk.self_signed, bind="::1")
    target6 = "[::1]:%d" % six.port
    expect_joined(hichat(["connect", target6, "--tls-fingerprint", fp], xdg=xdg), "pin over v6")
    check(read_known(xdg) == ["%s %s" % (target, fp), "%s %s" % (target6, fp)],
          "a second line, in brackets: %r" % read_known(xdg))
    expect_joined(hichat(["connect", target6, "--tls"], xdg=xdg), "remembered over v6")
    # A malformed pin is a usage error.
    for bad in ("12:34", fp + ":00", fp[:-1] + "G"):
        r = hichat(["connect", target, "--tls-fingerprint", bad], xdg=xdg)
        expect_failure(r, 2, "not a SHA-256 fingerprint")
    w.close_stdin()
    check(w.wait(5) == 0, "exits 0")


def test_a_changed_certificate_is_refused_loudly_until_pinned_again():
    d = fresh_dir("rekey")
    first, second = os.path.join(d, "first.pem"), os.path.join(d, "second.pem")
    srv = Server("--tls-self-signed=" + first)
    port = srv.port
    fp1 = srv.wait_log(r"^tls fingerprint SHA256 (\S+)$").group(1)
    target = "127.0.0.1:%d" % port
    xdg = new_xdg()
    # Another host's line must survive everything below.
    os.makedirs(os.path.join(xdg, "hichat"), mode=0o700)
    other_line = "192.0.2.1:4000 " + ":".join(["00"] * 32)
    write_secret(known_hosts(xdg), other_line + "\n")  # others may not write it
    expect_joined(hichat(["connect", target, "--tls-fingerprint", fp1], xdg=xdg), "first pin")
    expect_joined(hichat(["connect", target, "--tls"], xdg=xdg), "remembered")
    check(srv.stop() == 0, "first server exits 0")
    # Same address and port, a new key.
    srv = Server("--tls-self-signed=" + second, port=port)
    fp2 = srv.wait_log(r"^tls fingerprint SHA256 (\S+)$").group(1)
    check(fp1 != fp2, "two keys, two fingerprints")
    r = hichat(["connect", target, "--tls"], xdg=xdg, input="to the impostor\n")
    expect_failure(r, 1, "THE SERVER'S CERTIFICATE HAS CHANGED", fp1, fp2,
                   "--tls-fingerprint " + fp2)
    check("*** welcome" not in r.stdout, "nothing shown: %r" % r.stdout)
    check(sorted(read_known(xdg)) == sorted([other_line, "%s %s" % (target, fp1)]),
          "known_hosts untouched by a refusal: %r" % read_known(xdg))
    # Pinning the new one replaces the line; then plain --tls works again.
    expect_joined(hichat(["connect", target, "--tls-fingerprint", fp2], xdg=xdg), "re-pin")
    check(sorted(read_known(xdg)) == sorted([other_line, "%s %s" % (target, fp2)]),
          "the line replaced, the other kept: %r" % read_known(xdg))
    expect_joined(hichat(["connect", target, "--tls"], xdg=xdg), "remembered again")


# ---------------------------------------------------------------------------
# The password gate


def password_file(text="correct horse battery staple\n", name="password"):
    return write_secret(os.path.join(fresh_dir("pw"), name), text)


PASSWORD = "correct horse battery staple"


def test_password_gate_prompt_nick_and_login():
    pw = password_file()
    srv = Server("--password-file", pw)
    check("warning: others can read the password file" not in srv.stderr(),
          "a 0600 file is not warned about: %s" % srv.stderr())
    m = srv.client(name="member")
    m.expect(PASS_PROMPT)
    m.sendline("/pass " + PASSWORD)
    m.greeting()
    srv.wait_log(r"^login 127\.0\.0\.1:%d$" % m.sock.getsockname()[1])
    # Someone at the gate: nothing but /pass (and /nick, /hello, /quit) is taken.
    g = srv.client(name="gate")
    check(g.read_line() == PASS_PROMPT, "the prompt is the first line: %r" % g.history)
    g.sendline("let me talk")
    g.expect("! this room needs a password: send /pass PASSWORD first")
    g.sendline("/who")
    g.expect("! this room needs a password: send /pass PASSWORD first")
    g.sendline("/hello")
    g.expect("*** hi")
    g.sendline("/nick carol")  # remembered for joining
    g.sendline("/pass " + PASSWORD)
    g.expect(re.compile(r"^\*\*\* welcome to hichat, carol \(3 members here\)"))
    m.expect("*** carol joined")
    # Nothing from the gate ever reached the room.
    g.sendline("now I may talk")
    m.expect("<carol> now I may talk")
    check(not any("let me talk" in l or "/pass" in l or PASSWORD in l or "/who" in l
                  for l in m.history[1:]), "gate traffic leaked: %r" % m.history)
    check(PASSWORD not in srv.stderr() and PASSWORD not in srv.stdout(),
          "the password is never logged")
    # A /pass once in is not taken as a message either.
    g.sendline("/pass " + PASSWORD)
    g.expect("! you are already in")
    m.assert_no_line(re.compile("pass|" + PASSWORD), within=0.3)
    # A readable password file is warned about.
    loose = password_file(name="loose")
    os.chmod(loose, 0o644)
    srv2 = Server("--password-file", loose)
    srv2.wait_log(r"^warning: others can read the password file %s \(chmod 600 it\)$"
                  % re.escape(loose))


def test_wrong_passwords_slow_down_and_three_end_the_connection():
    pw = password_file()
    srv = Server("--password-file", pw)
    c = srv.client(source="127.0.0.3")
    c.expect(PASS_PROMPT)
    addr = "127.0.0.3:%d" % c.sock.getsockname()[1]
    # The wrong one, and at once a line that must wait a second.
    c.send("/pass guess one\n/hello\n")
    c.expect("! wrong password")
    t0 = time.monotonic()
    c.expect("*** hi", timeout=3)
    held = time.monotonic() - t0
    check(0.8 <= held <= 2.0, "the next line held about 1 s, was %.2f s" % held)
    srv.wait_log(r"^wrong password from %s \(1 on this connection\)$" % re.escape(addr))
    # Spaces count: the password is taken as sent.
    c.sendline("/pass  " + PASSWORD)
    c.expect("! wrong password")
    c.sendline("/pass " + PASSWORD.upper())
    check(c.expect_eof(4) == ["! wrong password; closing after 3 tries"],
          "the third closes: %r" % c.history)
    srv.wait_log(r"^wrong password from %s \(3 on this connection\)$" % re.escape(addr))
    srv.wait_log(r"^disconnect %s - \(wrong password\)$" % re.escape(addr))
    # Three wrong ones are not a lockout: the right one still works.
    d = srv.client(source="127.0.0.3")
    d.expect(PASS_PROMPT)
    d.sendline("/pass " + PASSWORD)
    d.greeting()


def test_ten_wrong_passwords_lock_the_address_out():
    pw = password_file()
    srv = Server("--password-file", pw)
    conns = [srv.client(source="127.0.0.2", name="guesser%d" % i) for i in range(5)]
    for c in conns:
        c.expect(PASS_PROMPT)
    for i, c in enumerate(conns):  # 5 wrong ones at once ...
        c.sendline("/pass wrong %d" % i)
    for c in conns:
        c.expect("! wrong password")
    for i, c in enumerate(conns):  # ... and 5 more, each held a second
        c.sendline("/pass still wrong %d" % i)
    replies = [c.read_line(4) for c in conns]
    locked = [c for c, l in zip(conns, replies) if LOCKED_RE.match(l)]
    check(len(locked) == 1 and replies.count("! wrong password") == 4,
          "the tenth wrong one locks the address: %r" % replies)
    check(locked[0].expect_eof(2) == [], "and ends its connection")
    n = int(LOCKED_RE.match([l for l in replies if LOCKED_RE.match(l)][0]).group(1))
    check(55 <= n <= 60, "locked for about a minute: %d s" % n)
    # Locked out now even with the right password, on a connection at the gate ...
    open_one = [c for c in conns if c not in locked][0]
    open_one.sendline("/pass " + PASSWORD)
    line = open_one.read_line(3)
    check(LOCKED_RE.match(line), "the right password is refused while locked: %r" % line)
    open_one.expect_eof(2)
    # ... and on new connections, at once.
    late = srv.client(source="127.0.0.2", name="late")
    m = late.expect_match(r"^! too many wrong passwords from your address; locked out for "
                          r"(\d+) s; try again later$", timeout=2)
    check(1 <= int(m.group(1)) <= 60, "a sane lockout time: %s" % m.group(0))
    check(late.expect_eof(2) == [], "then closed")
    srv.wait_log(r"^refuse 127\.0\.0\.2:\d+ \(too many wrong passwords from your address; "
                 r"locked out for \d+ s\)$")
    # Another address is not affected.
    other = srv.client(source="127.0.0.3", name="other")
    other.expect(PASS_PROMPT)
    other.sendline("/pass " + PASSWORD)
    other.greeting()
    srv.wait_log(r"^login 127\.0\.0\.3:\d+$")
    check(not re.search(r"^login 127\.0\.0\.2:", srv.stderr(), re.M),
          "127.0.0.2 never logged in: %s" % srv.stderr())


def test_pass_on_a_room_without_a_password_is_refused_and_never_broadcast():
    srv = Server()
    a = srv.client()
    a.greeting()
    b = srv.client()
    b.greeting()
    a.expect("*** %s joined" % b.nick)
    b.sendline("/pass hunter2")
    b.expect("! this room needs no password")
    b.sendline("/PASS hunter2")
    b.expect("! this room needs no password")
    a.assert_no_line(re.compile("hunter2|pass", re.I), within=0.4)
    check("hunter2" not in srv.stdout() and "hunter2" not in srv.stderr(),
          "not in the server's output either")


def test_connect_with_password_file_over_tls():
    pw = password_file()
    d = fresh_dir("pwtls")
    srv = Server("--tls-self-signed=" + os.path.join(d, "s.pem"), "--password-file", pw)
    fp = srv.wait_log(r"^tls fingerprint SHA256 (\S+)$").group(1)
    target = "127.0.0.1:%d" % srv.port
    w = connect(srv.port, "--tls-fingerprint", fp, "--password-file", pw, "--nick", "watch",
                name="watch")
    w.expect(re.compile(r"^\*\*\* welcome to hichat, watch "))
    check(w.history[0].startswith("*** welcome"), "the prompt is answered, not shown: %r"
          % w.history)
    # A line piped in at once waits for the login, then reaches the room.
    e = connect(srv.port, "--tls-fingerprint", fp, "--password-file", pw, "--nick", "early",
                name="early")
    e.sendline("said before the greeting")
    e.close_stdin()
    w.expect("<early> said before the greeting")
    lines = e.expect_eof(5)
    check(e.wait(5) == 0, "exits 0 at EOF")
    check(lines and lines[0].startswith("*** welcome to hichat, early "), "greeted: %r" % lines)
    # A wrong password file: refused, with the file named.
    bad = password_file("not it\n", name="wrong")
    r = hichat(["connect", target, "--tls-fingerprint", fp, "--password-file", bad],
               input="nope\n")
    expect_failure(r, 1, "refused the password in " + bad)
    # None at all, without a terminal: told how to give one.
    r = hichat(["connect", target, "--tls-fingerprint", fp], input="nope\n")
    expect_failure(r, 1, "needs a password: give it with --password-file FILE")
    srv.wait_log(r"^wrong password from 127\.0\.0\.1:\d+ \(1 on this connection\)$")
    w.assert_no_line(re.compile("nope"), within=0.3)
    # The same over plaintext.
    plain = Server("--password-file", pw)
    r = hichat(["connect", "127.0.0.1:%d" % plain.port, "--password-file", pw],
               input="plain and logged in\n")
    expect_joined(r, "plaintext with --password-file")
    plain.wait_log(r"^<guest\d+> plain and logged in$", stream="stdout")
    w.close_stdin()
    check(w.wait(5) == 0, "watcher exits 0")


# ---------------------------------------------------------------------------
# Interoperation


def test_hichat_openssl_s_client_and_ncat_share_one_tls_room():
    pk = pki()
    srv = tls_server(pk.leaf)
    h = connect(srv.port, "--tls-ca", pk.ca[0], "--nick", "hi", name="hichat-tls")
    h.greeting()
    h.expect(re.compile(r"^\*\*\* guest\d+ is now known as hi$"))
    s = ProcClient(["openssl", "s_client", "-quiet", "-verify_return_error", "-CAfile",
                    pk.ca[0], "-connect", "127.0.0.1:%d" % srv.port], name="s_client")
    s_nick = s.greeting()
    h.expect("*** %s joined" % s_nick)
    s.sendline("from openssl s_client")
    h.expect("<%s> from openssl s_client" % s_nick)
    h.sendline("from hichat")
    s.expect("<hi> from hichat")
    if shutil.which("ncat") is None:
        raise SkipTest("ncat not installed (hichat and openssl s_client did chat)")
    # ncat checks host names but not IP addresses in the certificate: by name.
    n = ProcClient(["ncat", "--ssl", "--ssl-verify", "--ssl-trustfile", pk.ca[0], "localhost",
                    str(srv.port)], name="ncat-ssl")
    n_nick = n.greeting()
    h.expect("*** %s joined" % n_nick)
    s.expect("*** %s joined" % n_nick)
    n.sendline("from ncat --ssl")
    h.expect("<%s> from ncat --ssl" % n_nick)
    s.expect("<%s> from ncat --ssl" % n_nick)
    s.sendline("s_client to all")
    n.expect("<%s> s_client to all" % s_nick)
    h.sendline("hichat to all")
    n.expect("<hi> hichat to all")
    s.expect("<hi> hichat to all")
    check(len(re.findall(TLS_CONN_LOG, srv.stderr(), re.M)) == 3,
          "three TLS 1.3 connections logged: %s" % srv.stderr())


# ---------------------------------------------------------------------------
# --allow / --deny


def expect_denied(srv, c):
    check(c.expect_eof(3) == [] and c.history == [], "closed with no data: %r" % c.history)
    host, port = c.sock.getsockname()[:2]
    shown = "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)
    srv.wait_log(r"^refuse %s \(not allowed by --allow/--deny\)$" % re.escape(shown))


def test_allow_and_deny_over_ipv4():
    srv = Server("--allow", "127.0.0.0/8", "--deny", "127.0.0.2")
    ok = srv.client()
    ok.greeting()
    expect_denied(srv, srv.client(source="127.0.0.2"))
    three = srv.client(source="127.0.0.3")  # allowed, not denied
    three.greeting()
    ok.expect("*** %s joined" % three.nick)
    ok.assert_no_line(re.compile("joined"), within=0.3)  # the refused one never was
    # With an --allow, only matching addresses get in; deny wins over allow.
    srv2 = Server("--allow", "127.0.0.3/32", "--allow", "10.0.0.0/8")
    expect_denied(srv2, srv2.client())
    expect_denied(srv2, srv2.client(source="127.0.0.2"))
    srv2.client(source="127.0.0.3").greeting()
    srv3 = Server("--allow", "127.0.0.0/8", "--deny", "127.0.0.0/8")
    expect_denied(srv3, srv3.client(source="127.0.0.3"))
    # The refusals are counted as such, and nothing else was.
    check(len(re.findall(r"^refuse ", srv.stderr(), re.M)) == 1, srv.stderr())


def test_allow_and_deny_over_ipv6():
    srv = Server("--allow", "::1/128", bind="::")
    six = srv.client(host="::1")
    six.greeting()
    expect_denied(srv, srv.client(host="127.0.0.1"))  # shown as 127.0.0.1, not ::ffff:
    srv2 = Server("--deny", "127.0.0.0/8", bind="::")
    expect_denied(srv2, srv2.client(host="127.0.0.1"))
    six2 = srv2.client(host="::1")
    six2.greeting()
    # hichat connect over IPv6 to it, too.
    r = hichat(["connect", "[::1]:%d" % srv2.port], input="v6 only room\n")
    expect_joined(r, "connect [::1]")
    six2.expect(re.compile(r"^<guest\d+> v6 only room$"))
    srv3 = Server("--allow", "fd00::/8", "--allow", "::1", bind="::")
    srv3.client(host="::1").greeting()
    expect_denied(srv3, srv3.client(host="127.0.0.1"))


# ---------------------------------------------------------------------------
# Usage errors


def test_usage_errors_exit_2():
    d = fresh_dir("usage")
    ss = os.path.join(d, "never.pem")
    pw = password_file()
    cases = [
        (["serve", "--port", "0", "--udp", "--tls-self-signed=" + ss], "--udp is always plaintext"),
        (["serve", "--port", "0", "--udp", "--password-file", pw], "--udp is always plaintext"),
        (["serve", "--port", "0", "--tls-key", os.path.join(d, "k")], "need --tls-cert"),
        (["serve", "--port", "0", "--tls-client-ca", os.path.join(d, "ca")], "need --tls-cert"),
        (["serve", "--port", "0", "--allow", "10.0.0.0/33"], "prefix length"),
        (["serve", "--port", "0", "--allow", "::/129"], "prefix length"),
        (["serve", "--port", "0", "--deny", "nonsense"], "is not an address or network"),
        (["serve", "--port", "0", "--deny", "/8"], "is not an address or network"),
        (["connect", "127.0.0.1:1", "--udp", "--tls"], "UDP is always plaintext"),
        (["connect", "127.0.0.1:1", "--tls-insecure", "--tls-fingerprint", "00" * 32],
         "contradict"),
    ]
    for args, needle in cases:
        r = hichat(args, timeout=5)
        expect_failure(r, 2, needle)
    check(not os.path.exists(ss), "a refused command made no certificate")
    # Errors that are not usage: a missing file exits 1 with the file named.
    missing = os.path.join(d, "missing.pem")
    r = hichat(["serve", "--port", "0", "--tls-cert", missing], timeout=5)
    expect_failure(r, 1, missing)
    r = hichat(["serve", "--port", "0", "--password-file", os.path.join(d, "nopw")], timeout=5)
    expect_failure(r, 1, "cannot read the password file")
    empty = write_secret(os.path.join(d, "empty"), "\n")
    r = hichat(["serve", "--port", "0", "--password-file", empty], timeout=5)
    expect_failure(r, 1, "the first line must be the password")
    pk = pki()
    r = hichat(["serve", "--port", "0", "--tls-cert", pk.leaf[0], "--tls-key", pk.client[1]],
               timeout=5)
    expect_failure(r, 1, "cannot load the private key " + pk.client[1])
    port = free_port()
    r = hichat(["connect", "127.0.0.1:%d" % port, "--tls-cert", pk.client[0],
                "--tls-key", pk.leaf[1]], timeout=5)
    expect_failure(r, 1, "cannot load the private key " + pk.leaf[1])
    r = hichat(["connect", "127.0.0.1:%d" % port, "--tls", "--tls-ca", missing], timeout=5)
    expect_failure(r, 1, missing)
    r = hichat(["connect", "127.0.0.1:%d" % port, "--password-file", os.path.join(d, "nopw")],
               timeout=5)
    expect_failure(r, 1, "nopw")


# ---------------------------------------------------------------------------
# Found in review: each of these failed before its fix.


def test_udp_room_obeys_deny():
    srv = Server("--udp", "--deny", "127.0.0.1")
    import socket
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(0.6)
    u.sendto(b"/join" + b" " * 500 + b"\n", ("127.0.0.1", srv.port))
    u.sendto(b"hello from a denied address\n", ("127.0.0.1", srv.port))
    try:
        data = u.recv(4096)
    except socket.timeout:
        data = b""
    u.close()
    check(data == b"", "a denied address got a UDP answer: %r" % data)
    time.sleep(0.2)
    check("connect udp:" not in srv.stderr() and "denied address" not in srv.stdout(),
          "a denied UDP peer joined: %s" % srv.stderr())


def test_tls_lines_held_by_flood_control_survive_close_notify():
    """40 lines and close_notify in one write: the 20 beyond the burst are held
    back by flood control, and the end of the stream must wait for them."""
    import socket
    import ssl
    pk = pki()
    srv = tls_server(pk.leaf, "--msg-rate", "40")
    w = tls_watcher(srv, pk)
    ctx = ssl.create_default_context(cafile=pk.ca[0])
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out, server_hostname="localhost")
    raw = socket.create_connection(("127.0.0.1", srv.port))
    raw.settimeout(5)
    while True:
        try:
            tls.do_handshake()
            break
        except ssl.SSLWantReadError:
            raw.sendall(out.read())
            inc.write(raw.recv(65536))
    raw.sendall(out.read())
    tls.write(b"".join(b"burst %02d\n" % i for i in range(40)))
    try:
        tls.unwrap()  # queues close_notify; the answer is not awaited
    except ssl.SSLWantReadError:
        pass
    raw.sendall(out.read())  # the 40 lines and close_notify in one write
    for i in range(40):
        w.expect(re.compile(r"<guest\d+> burst %02d$" % i), timeout=5)
    raw.close()


def test_a_wrong_password_holds_an_unterminated_line_too():
    pw = password_file()
    srv = Server("--password-file", pw)
    c = srv.client(source="127.0.0.4")
    c.expect(PASS_PROMPT)
    c.send("/pass first guess\n/pass second guess")  # no LF: taken after a pause
    c.expect("! wrong password")
    t0 = time.monotonic()
    c.expect("! wrong password", timeout=4)
    waited = time.monotonic() - t0
    check(waited >= 0.9, "the second try came after %.2f s, not the 1 s hold" % waited)


def test_trace_never_shows_the_password():
    pw = password_file()
    srv = Server("--password-file", pw, "--trace")
    r = hichat(["connect", "127.0.0.1:%d" % srv.port, "--password-file", pw, "--trace",
                "--nick", "tracer"], input="hi\n")
    expect_joined(r, "traced login")
    check("/pass ***" in r.stderr, "the client's trace shows /pass ***: %s" % r.stderr[-2000:])
    srv.wait_log(r"/pass \*\*\*")
    for where, text in (("client", r.stderr), ("server", srv.stderr())):
        check(PASSWORD not in text and "correct horse" not in text,
              "the %s's trace shows the password" % where)


def test_trace_hides_a_password_split_over_reads():
    """Redaction follows the line, not the read: a /pass line cut anywhere
    (before or inside the password) never shows any of the password."""
    pw = password_file()
    srv = Server("--password-file", pw, "--trace")
    splits = [("/pa", "ss " + PASSWORD), ("/pass corr", PASSWORD[4:]), ("/pass ", PASSWORD),
              ("/PASS correct horse", PASSWORD[13:])]
    for i, (first, rest) in enumerate(splits):
        c = srv.client(name="split%d" % i)
        c.expect(PASS_PROMPT)
        c.send(first)
        srv.wait_log(r"read\(\d+, \"%s" % re.escape(first[:3]))  # seen as a read of its own
        time.sleep(0.1)
        c.sendline(rest)
        c.greeting()
    # Every login went through its own reads; no word of the password in them.
    check(len(re.findall(r"^login 127\.0\.0\.1:", srv.stderr(), re.M)) == len(splits),
          "every split /pass logged in: %s" % srv.stderr()[-2000:])
    for word in PASSWORD.split():
        check(word[1:] not in srv.stderr(), "the server's trace shows %r: %s"
              % (word, srv.stderr()[-3000:]))
    # The client side: hichat connect --trace shows its /pass line starred.
    r = hichat(["connect", "127.0.0.1:%d" % srv.port, "--password-file", pw, "--trace"],
               input="hi\n")
    expect_joined(r, "traced login")
    for word in PASSWORD.split():
        check(word[1:] not in r.stderr, "the client's trace shows %r: %s"
              % (word, r.stderr[-3000:]))


def test_a_symlink_planted_at_the_known_hosts_temp_name_writes_nothing():
    """known_hosts is rewritten through known_hosts.PID.tmp: a symlink planted
    at that exact name (the PID is the wrapper shell's, which execs hichat)
    must not make the client truncate or write the file it points to."""
    pk = pki()
    srv = tls_server(pk.self_signed)
    fp = cert_fingerprint(pk.self_signed[0])
    xdg = new_xdg()
    os.makedirs(os.path.join(xdg, "hichat"), mode=0o700)
    victim = os.path.join(fresh_dir("victim"), "precious")
    with open(victim, "w") as f:
        f.write("precious\n")
    plant = 'ln -s "$1" "$2.$$.tmp" || exit 99; shift 2; exec "$@"'
    r = subprocess.run(["sh", "-c", plant, "sh", victim, known_hosts(xdg), HICHAT, "connect",
                        "127.0.0.1:%d" % srv.port, "--tls-fingerprint", fp],
                       input=b"", capture_output=True, timeout=10, env=client_env(xdg))
    err = r.stderr.decode("utf-8", "backslashreplace")
    scan_for_sanitizer("hichat connect", err)
    check(r.returncode != 99, "the symlink was planted")
    check(open(victim).read() == "precious\n", "the symlink's target was written: %r"
          % open(victim).read())
    tmps = [n for n in os.listdir(os.path.dirname(known_hosts(xdg))) if n.endswith(".tmp")]
    check(len(tmps) == 1, "one planted name: %r" % tmps)
    tmp = os.path.join(os.path.dirname(known_hosts(xdg)), tmps[0])
    check(os.path.islink(tmp) and not os.path.exists(known_hosts(xdg)),
          "the planted link stays where it was, known_hosts is not made from it")
    check("cannot create %s: it exists already" % tmp in err, "the client says why: %s" % err)
    # The pin itself was good: the client got in (and only remembering failed).
    check(r.returncode == 0 and r.stdout.startswith(b"*** welcome"),
          "a pinned connect still works: %s %r" % (r.returncode, r.stdout[:200]))


def test_config_files_others_could_write_are_not_trusted():
    """Like ssh's StrictModes: known_hosts, selfsigned.pem and the directory
    holding them must be owned by the user (or root) and not writable by
    group or others, or the client and server refuse, naming the path and
    the fix."""
    pk = pki()
    srv = tls_server(pk.self_signed)
    fp = cert_fingerprint(pk.self_signed[0])
    target = "127.0.0.1:%d" % srv.port
    xdg = new_xdg()
    d = os.path.join(xdg, "hichat")
    expect_joined(hichat(["connect", target, "--tls-fingerprint", fp], xdg=xdg), "pin")
    expect_joined(hichat(["connect", target, "--tls"], xdg=xdg), "remembered")
    # A directory anyone may write: someone could have put a known_hosts there.
    for mode in (0o777, 0o775):
        os.chmod(d, mode)
        r = hichat(["connect", target, "--tls"], xdg=xdg, input="never sent\n")
        expect_failure(r, 1, "will not trust %s: others may write it (mode %o; fix: chmod go-w %s)"
                       % (d, mode, d))
        check("* welcome" not in r.stdout, "not connected: %r" % r.stdout)
        # Not told a pin either.
        r = hichat(["connect", target, "--tls-fingerprint", fp], xdg=xdg)
        expect_failure(r, 1, "will not trust %s" % d)
    os.chmod(d, 0o700)
    expect_joined(hichat(["connect", target, "--tls"], xdg=xdg), "trusted again after chmod")
    # known_hosts itself planted world-writable.
    kh = known_hosts(xdg)
    os.chmod(kh, 0o666)
    r = hichat(["connect", target, "--tls"], xdg=xdg)
    expect_failure(r, 1, "will not trust %s: others may write it (mode 666; fix: chmod go-w %s)"
                   % (kh, kh))
    os.chmod(kh, 0o600)
    # Owned by someone else (not root): only a root test run can arrange it.
    if os.geteuid() == 0:
        os.chown(kh, 65534, 65534)
        r = hichat(["connect", target, "--tls"], xdg=xdg)
        expect_failure(r, 1, "will not trust %s: it is owned by uid 65534" % kh)
        os.chown(kh, 0, 0)
    expect_joined(hichat(["connect", target, "--tls"], xdg=xdg), "trusted again")
    # A CA-verified server never consults known_hosts: a loose directory does not matter.
    os.chmod(d, 0o777)
    ca_srv = tls_server(pk.leaf)
    expect_joined(hichat(["connect", "127.0.0.1:%d" % ca_srv.port, "--tls-ca", pk.ca[0]], xdg=xdg),
                  "CA-verified")
    # The server's --tls-self-signed: the default directory, then the file.
    sx = new_xdg()
    sd = os.path.join(sx, "hichat")
    os.makedirs(sd, mode=0o700)
    os.chmod(sd, 0o775)
    r = hichat(["serve", "--port", "0", "--tls-self-signed"], xdg=sx)
    expect_failure(r, 1, "--tls-self-signed: will not trust %s: others may write it "
                   "(mode 775; fix: chmod go-w %s)" % (sd, sd))
    check(not os.path.exists(os.path.join(sd, "selfsigned.pem")), "no key made there")
    os.chmod(sd, 0o700)
    pem = os.path.join(sd, "selfsigned.pem")
    write_secret(pem, open(pk.self_signed[1]).read() + open(pk.self_signed[0]).read())
    os.chmod(pem, 0o620)
    r = hichat(["serve", "--port", "0", "--tls-self-signed"], xdg=sx)
    expect_failure(r, 1, "will not trust %s: others may write it (mode 620; fix: chmod go-w %s)"
                   % (pem, pem))
    # And an explicit --tls-self-signed=FILE in a directory anyone may write.
    loose = fresh_dir("loose")
    os.chmod(loose, 0o777)
    r = hichat(["serve", "--port", "0", "--tls-self-signed=" + os.path.join(loose, "k.pem")])
    expect_failure(r, 1, "will not trust %s" % loose)


def test_tls_sessions_resume_with_client_certificates():
    """With --tls-client-ca, a session resumed (openssl s_client -sess_out,
    then -sess_in) must be "Reused", not fail with "session id context
    uninitialized"; over TLS 1.3 (tickets) and TLS 1.2 (session ids)."""
    pk = pki()
    srv = tls_server(pk.leaf, "--tls-client-ca", pk.ca[0])
    sess = os.path.join(fresh_dir("sess"), "session.pem")

    def s_client(version, sess_arg):
        p = subprocess.Popen(["openssl", "s_client", version, "-connect",
                              "127.0.0.1:%d" % srv.port, "-CAfile", pk.ca[0], "-cert",
                              pk.client[0], "-key", pk.client[1], sess_arg, sess],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        _register_proc(p)
        out = b""
        deadline = time.monotonic() + 8
        # The greeting comes after the session ticket: then the session is saved.
        while b"* welcome" not in out and time.monotonic() < deadline:
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            out += chunk
        rest, _ = p.communicate(timeout=8)
        return (out + rest).decode("utf-8", "backslashreplace")

    for version in ("-tls1_3", "-tls1_2"):
        first = s_client(version, "-sess_out")
        check("\nNew, TLSv1." in first and "* welcome" in first,
              "%s: a new session, greeted: %s" % (version, first[-1500:]))
        again = s_client(version, "-sess_in")
        check("\nReused, TLSv1." in again and "* welcome" in again,
              "%s: the session is reused: %s" % (version, again[-1500:]))
    check("session id context uninitialized" not in srv.stderr(), srv.stderr())


def _register_proc(p):
    class _P:
        def teardown(self):
            _kill_proc(p)
    _register(_P())


def test_a_certificate_naming_the_host_only_in_its_cn_is_refused():
    """Only subjectAltName names a server: a CA-signed certificate with
    CN=localhost and no subjectAltName does not vouch for localhost."""
    pk = pki()
    nosan = pk.make_leaf("nosan", pk.ca, None)
    subject = openssl("x509", "-in", nosan[0], "-noout", "-subject")
    check("CN = localhost" in subject or "CN=localhost" in subject, subject)
    check("Alternative Name" not in openssl("x509", "-in", nosan[0], "-noout", "-text"),
          "made without a subjectAltName")
    srv = tls_server(nosan)
    r = hichat(["connect", "localhost:%d" % srv.port, "--tls-ca", pk.ca[0]],
               input="must never reach the room\n")
    expect_failure(r, 1, "cannot verify the server's certificate: hostname mismatch")
    check("* welcome" not in r.stdout, "nothing shown: %r" % r.stdout)
    check("must never reach" not in srv.stdout(), "the line reached the room")
    # The same CA's certificate with the name in its subjectAltName is fine.
    ok = tls_server(pk.leaf)
    expect_joined(hichat(["connect", "localhost:%d" % ok.port, "--tls-ca", pk.ca[0]]),
                  "subjectAltName DNS:localhost")


def test_prefix_lengths_strtol_would_take_are_usage_errors():
    """--allow/--deny prefix lengths are plain decimal 0-32 / 0-128: a sign,
    a space or a leading zero (which strtol skipped or took) is refused."""
    for flag, rule in (("--allow", "127.0.0.1/-0"), ("--deny", "::/-0"),
                       ("--allow", "127.0.0.0/\t8"), ("--allow", "127.0.0.0/08"),
                       ("--deny", "::1/0128"), ("--allow", "/-0"), ("--allow", "1.2.3.4/")):
        r = hichat(["serve", "--port", "0", flag, rule], timeout=5)
        expect_failure(r, 2, "--%s" % flag.lstrip("-"))
        check("prefix length" in r.stderr or "is not an address or network" in r.stderr,
              "%s %r: the reason is given: %s" % (flag, rule, r.stderr))
        check("listening" not in r.stderr, "%s %r: it served: %s" % (flag, rule, r.stderr))


# Connects from each source address given, in order, and prints the first
# line each got; holds every connection open until its stdin ends.
_V6_CLIENTS = r"""
import socket, sys
port, socks = int(sys.argv[1]), []
for src in sys.argv[2:]:
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.settimeout(5)
    s.bind((src, 0))
    s.connect(("2001:db8:1:2::1", port))
    line = b""
    while not line.endswith(b"\n"):
        b = s.recv(1)
        if not b:
            break
        line += b
    print(src, line.decode().rstrip("\n"), flush=True)
    socks.append(s)
sys.stdin.read()
"""


def test_max_per_ip_counts_an_ipv6_host_as_its_64():
    """--max-per-ip counts an IPv6 peer as its /64, as the wrong-password
    lockout does: three addresses of one /64 are one host. Loopback has only
    ::1, so this runs in a network namespace of its own (root, iproute2)
    with addresses of 2001:db8:1:2::/64 and 2001:db8:1:3::/64 on its lo."""
    if os.geteuid() != 0 or not shutil.which("ip"):
        raise SkipTest("needs root and iproute2 (ip) for a network namespace")
    ns = "hc6%d" % os.getpid()

    class _Ns:
        def teardown(self):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)
    _register(_Ns())
    cmds = [["ip", "netns", "add", ns], ["ip", "-n", ns, "link", "set", "lo", "up"]]
    for a in ("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2::3", "2001:db8:1:3::1"):
        cmds.append(["ip", "-n", ns, "addr", "add", a + "/128", "dev", "lo", "nodad"])
    for cmd in cmds:
        subprocess.run(cmd, check=True, capture_output=True, timeout=10)
    srv = Server("--max-per-ip", "2", bind="::", wrap=["ip", "netns", "exec", ns])
    p = subprocess.Popen(["ip", "netns", "exec", ns, "python3", "-c", _V6_CLIENTS,
                          str(srv.port), "2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2::3",
                          "2001:db8:1:3::1"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _register_proc(p)
    lines = [p.stdout.readline().decode().rstrip("\n") for _ in range(4)]
    p.stdin.close()
    p.wait(5)
    got = dict(l.split(" ", 1) for l in lines if " " in l)
    check(len(got) == 4, "four answers: %r %r" % (lines, p.stderr.read()))
    check(got["2001:db8:1:2::1"].startswith("*** welcome") and
          got["2001:db8:1:2::2"].startswith("*** welcome"), "two of the /64 get in: %r" % got)
    check(got["2001:db8:1:2::3"] == "! too many connections from your address (max 2); "
          "try again later", "the third address of the same /64 is refused: %r" % got)
    check(got["2001:db8:1:3::1"].startswith("*** welcome"), "another /64 is another host: %r" % got)
    srv.wait_log(r"^refuse \[2001:db8:1:2::3\]:\d+ \(too many connections from your address "
                 r"\(max 2\)\)$")


def test_piped_input_waits_for_a_greeting_at_most_2_s():
    """Piped lines wait for the server's first line (a password prompt must
    be answered first), but a server that never speaks first still gets
    them, after the 2 s hold."""
    from harness import FakeServer

    def handler(conn, result):
        conn.settimeout(6)
        t0 = time.monotonic()
        data = b""
        while b"piped\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        result["after"] = time.monotonic() - t0
        result["data"] = data

    fake = FakeServer(handler)
    c = connect(fake.port, name="silent-server")
    c.sendline("piped")
    fake.thread.join(8)
    after = fake.result.get("after")
    check(fake.result.get("data", b"").endswith(b"piped\n"), "got %r" % fake.result)
    check(after is not None and 1.8 <= after <= 4.0,
          "piped input went after %s s, not after the 2 s hold" % after)
