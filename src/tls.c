/* tls.c - see tls.h. */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "loop.h"
#include "trace.h"
#include "util.h"

#define SELF_SIGNED_DAYS 3650
/* What a resumed session must have been made under (see tls_server_ctx). */
#define SESSION_CONTEXT "hichat"
/* A known-hosts line: "[host]:port" and a fingerprint. */
#define KNOWN_LINE 512

static char last_error[256];

const char *tls_error(void)
{
    return last_error;
}

/* Sets the reason from what (a phrase) and OpenSSL's error queue. */
static void set_error(const char *what)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    if (r)
        snprintf(last_error, sizeof last_error, "%s: %s", what, r);
    else
        snprintf(last_error, sizeof last_error, "%s", what);
    ERR_clear_error();
}

/* ---- the socket BIO: OpenSSL's I/O through trace.c ---- */

static int bio_fd(BIO *b)
{
    return (int)(intptr_t)BIO_get_data(b);
}

static int bio_write(BIO *b, const char *p, int n)
{
    BIO_clear_retry_flags(b);
    ssize_t r = trace_sendto(bio_fd(b), p, (size_t)n, MSG_NOSIGNAL, NULL, 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        BIO_set_retry_write(b);
    return (int)r;
}

static int bio_read(BIO *b, char *p, int n)
{
    BIO_clear_retry_flags(b);
    ssize_t r = trace_read(bio_fd(b), p, (size_t)n);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        BIO_set_retry_read(b);
    return (int)r;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b, (void)num, (void)ptr;
    return cmd == BIO_CTRL_FLUSH; /* writes are not buffered here */
}

static BIO_METHOD *bio_method(void)
{
    static BIO_METHOD *m;
    if (!m) {
        m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "hichat socket");
        if (!m)
            return NULL;
        BIO_meth_set_write(m, bio_write);
        BIO_meth_set_read(m, bio_read);
        BIO_meth_set_ctrl(m, bio_ctrl);
    }
    return m;
}

/* ---- contexts ---- */

static SSL_CTX *ctx_new(const SSL_METHOD *method)
{
    SSL_CTX *ctx = SSL_CTX_new(method);
    if (!ctx) {
        set_error("SSL_CTX_new");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* No renegotiation (a TLS 1.2 way to make the server work hard); a FIN
     * without close_notify is an end like any other for a line protocol. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF |
                                 SSL_OP_NO_COMPRESSION);
    /* Partial writes, and a write buffer that may move between retries; an
     * idle connection gives its 34 KB of record buffers back. */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    return ctx;
}

static int load_pair(SSL_CTX *ctx, const char *cert, const char *key)
{
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        char what[PATH_MAX + 64];
        snprintf(what, sizeof what, "cannot load the certificate %s", cert);
        set_error(what);
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        char what[PATH_MAX + 64];
        snprintf(what, sizeof what, "cannot load the private key %s", key);
        set_error(what);
        return -1;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        set_error("the private key does not match the certificate");
        return -1;
    }
    return 0;
}

SSL_CTX *tls_server_ctx(const char *cert, const char *key, const char *client_ca)
{
    SSL_CTX *ctx = ctx_new(TLS_server_method());
    if (!ctx)
        return NULL;
    /* A resumed session skips the client certificate check, so OpenSSL
     * refuses to resume one (the handshake fails: "session id context
     * uninitialized") unless sessions are tied to a context; ours is this
     * program, whose tickets are sealed with a key of this process. */
    if (SSL_CTX_set_session_id_context(ctx, (const unsigned char *)SESSION_CONTEXT,
                                       sizeof SESSION_CONTEXT - 1) != 1) {
        set_error("cannot set the TLS session context");
        goto fail;
    }
    if (load_pair(ctx, cert, key ? key : cert) < 0)
        goto fail;
    if (client_ca) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(client_ca);
        if (!names || SSL_CTX_load_verify_locations(ctx, client_ca, NULL) != 1) {
            char what[PATH_MAX + 64];
            snprintf(what, sizeof what, "cannot load the client CA file %s", client_ca);
            set_error(what);
            sk_X509_NAME_pop_free(names, X509_NAME_free);
            goto fail;
        }
        SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

/* Lets the handshake finish whatever the chain looks like; tls_verdict
 * judges the result afterwards. */
static int verify_later(int ok, X509_STORE_CTX *x)
{
    (void)ok, (void)x;
    return 1;
}

SSL_CTX *tls_client_ctx(const char *ca, const char *cert, const char *key)
{
    SSL_CTX *ctx = ctx_new(TLS_client_method());
    if (!ctx)
        return NULL;
    int ok = ca ? SSL_CTX_load_verify_locations(ctx, ca, NULL) : SSL_CTX_set_default_verify_paths(ctx);
    if (ok != 1) {
        char what[PATH_MAX + 64];
        snprintf(what, sizeof what, "cannot load the CA file %s", ca ? ca : "(system default)");
        set_error(what);
        goto fail;
    }
    if (cert && load_pair(ctx, cert, key ? key : cert) < 0)
        goto fail;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_later);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

/* ---- files ---- */

int tls_config_path(const char *name, char *out, size_t outsz)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/')
        n = snprintf(out, outsz, "%s/hichat/%s", xdg, name);
    else if (home && home[0])
        n = snprintf(out, outsz, "%s/.config/hichat/%s", home, name);
    else
        return -1;
    return n > 0 && (size_t)n < outsz ? 0 : -1;
}

/* mkdir -p of path's directory, new levels mode 0700. */
static int make_parent(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(dir, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

static void errno_error(const char *what, const char *path)
{
    snprintf(last_error, sizeof last_error, "%s %s: %s (%s)", what, path, errno_name(errno),
             strerror(errno));
}

/* One level of tls_path_safe: p, if it exists. kind names it for the fix. */
static int owned_safely(const char *p, const char *kind)
{
    struct stat st;
    if (stat(p, &st) < 0) {
        if (errno == ENOENT)
            return 0; /* made later, by us, private */
        errno_error("cannot check", p);
        return -1;
    }
    uid_t me = geteuid();
    if (st.st_uid != me && st.st_uid != 0) {
        snprintf(last_error, sizeof last_error,
                 "will not trust %s: it is owned by uid %u, not by you (uid %u) or root "
                 "(fix: use a %s of your own)",
                 p, (unsigned)st.st_uid, (unsigned)me, kind);
        return -1;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        snprintf(last_error, sizeof last_error,
                 "will not trust %s: others may write it (mode %03o; fix: chmod go-w %s)", p,
                 (unsigned)(st.st_mode & 0777), p);
        return -1;
    }
    return 0;
}

int tls_path_safe(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        slash[slash == dir] = '\0'; /* "/f" is in "/" */
    return owned_safely(dir, "directory") < 0 || owned_safely(path, "file") < 0 ? -1 : 0;
}

/* A new file only its owner may read (mode 0600), as a stdio stream; NULL
 * with tls_error() set. It must not exist yet, not even as a symlink: in a
 * directory someone else can write, a name planted there would otherwise
 * make us write (or truncate) whatever it points to. */
static FILE *create_private(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f && errno == EEXIST)
        snprintf(last_error, sizeof last_error,
                 "cannot create %s: it exists already (a file or symlink left there, "
                 "or planted; nothing was written: remove it if no hichat is running)",
                 path);
    else if (!f)
        errno_error("cannot create", path);
    if (!f && fd >= 0)
        close(fd);
    return f;
}

static int add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (!e)
        return -1;
    int ok = X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    return ok == 1 ? 0 : -1;
}

static X509 *make_cert(EVP_PKEY *key)
{
    char host[256] = "localhost", san[600];
    unsigned char serial[16];
    X509 *x = X509_new();
    if (!x)
        return NULL;
    if (gethostname(host, sizeof host - 1) < 0 || !host[0])
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    snprintf(san, sizeof san, "DNS:%s,DNS:localhost,IP:127.0.0.1,IP:::1", host);
    BIGNUM *bn = NULL;
    if (RAND_bytes(serial, sizeof serial) == 1) {
        serial[0] &= 0x7f; /* positive */
        bn = BN_bin2bn(serial, sizeof serial, NULL);
    }
    X509_NAME *name = X509_get_subject_name(x);
    int ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) &&
             X509_set_version(x, 2) && X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
             X509_gmtime_adj(X509_getm_notAfter(x), (long)SELF_SIGNED_DAYS * 86400) &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (unsigned char *)host, -1, -1,
                                        0) &&
             X509_set_issuer_name(x, name) && X509_set_pubkey(x, key) &&
             add_ext(x, NID_subject_alt_name, san) == 0 &&
             add_ext(x, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
             X509_sign(x, key, EVP_sha256()) > 0;
    BN_free(bn);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

int tls_self_signed(const char *path, int *made)
{
    *made = 0;
    if (tls_path_safe(path) < 0)
        return -1; /* a key someone else could swap is no identity */
    if (access(path, F_OK) == 0) {
        /* Kept from an earlier run: it must still be a pair. */
        SSL_CTX *ctx = tls_server_ctx(path, path, NULL);
        if (!ctx)
            return -1;
        SSL_CTX_free(ctx);
        return 0;
    }
    if (make_parent(path) < 0) {
        errno_error("cannot make the directory of", path);
        return -1;
    }
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = key ? make_cert(key) : NULL;
    if (!x) {
        set_error("cannot make a self-signed certificate");
        EVP_PKEY_free(key);
        return -1;
    }
    int rc = -1;
    FILE *f = create_private(path);
    if (f) {
        int ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1 &&
                 PEM_write_X509(f, x) == 1;
        if (fclose(f) != 0 || !ok) {
            errno_error("cannot write", path);
            unlink(path);
        } else {
            rc = 0;
            *made = 1;
        }
    }
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}

static int fingerprint(X509 *x, char out[TLS_FPLEN])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (!x || X509_digest(x, EVP_sha256(), md, &len) != 1 || len != 32)
        return -1;
    static const char hex[] = "0123456789ABCDEF";
    for (unsigned i = 0; i < len; i++) {
        out[i * 3] = hex[md[i] >> 4];
        out[i * 3 + 1] = hex[md[i] & 15];
        out[i * 3 + 2] = i + 1 < len ? ':' : '\0';
    }
    return 0;
}

int tls_file_fingerprint(const char *path, char out[TLS_FPLEN])
{
    FILE *f = fopen(path, "re");
    if (!f) {
        errno_error("cannot open", path);
        return -1;
    }
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    int rc = fingerprint(x, out);
    if (rc < 0)
        set_error("no certificate in the file");
    X509_free(x);
    return rc;
}

int tls_peer_fingerprint(SSL *ssl, char out[TLS_FPLEN])
{
    X509 *x = SSL_get1_peer_certificate(ssl);
    int rc = fingerprint(x, out);
    X509_free(x);
    return rc;
}

int tls_fingerprint_parse(const char *in, char out[TLS_FPLEN])
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    if (strncasecmp(in, "SHA256:", 7) == 0)
        in += 7;
    for (; *in; in++) {
        if (*in == ':')
            continue;
        const char *h = strchr(hex, *in >= 'a' && *in <= 'f' ? *in - 32 : *in);
        if (!h || !*in || n == 64)
            return -1;
        out[n / 2 * 3 + n % 2] = *h;
        if (n % 2)
            out[n / 2 * 3 + 2] = n == 63 ? '\0' : ':';
        n++;
    }
    return n == 64 ? 0 : -1;
}

/* ---- sessions ---- */

SSL *tls_new(SSL_CTX *ctx, int fd, int server, const char *host)
{
    SSL *ssl = SSL_new(ctx);
    BIO_METHOD *m = bio_method();
    BIO *b = m ? BIO_new(m) : NULL;
    if (!ssl || !b) {
        set_error("cannot start a TLS session");
        BIO_free(b);
        SSL_free(ssl);
        return NULL;
    }
    BIO_set_data(b, (void *)(intptr_t)fd);
    BIO_set_init(b, 1);
    SSL_set_bio(ssl, b, b);
    if (server) {
        SSL_set_accept_state(ssl);
    } else {
        SSL_set_connect_state(ssl);
        if (host) {
            unsigned char ip[16];
            int literal = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
            X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
            /* Only subjectAltName names a server (RFC 6125, as browsers do):
             * a CN that looks like a host name is not taken for one. */
            X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
            if (literal) {
                X509_VERIFY_PARAM_set1_ip_asc(vp, host);
            } else {
                SSL_set_tlsext_host_name(ssl, host); /* SNI is for names only */
                SSL_set1_host(ssl, host);
            }
        }
    }
    return ssl;
}

void tls_free(SSL *ssl)
{
    SSL_free(ssl);
}

/* Turns an OpenSSL result into our convention: -1 with errno (and *want
 * for EAGAIN), or 0 for the end of the stream. */
static int failed(SSL *ssl, int r, int *want, const char *what)
{
    int e = SSL_get_error(ssl, r);
    switch (e) {
    case SSL_ERROR_WANT_READ: *want = LOOP_READ; errno = EAGAIN; return -1;
    case SSL_ERROR_WANT_WRITE: *want = LOOP_WRITE; errno = EAGAIN; return -1;
    case SSL_ERROR_ZERO_RETURN: ERR_clear_error(); return 0;
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() == 0) {
            /* The socket's own error (errno was cleared before the
             * call); a bare EOF mid-handshake is a reset. */
            if (errno == 0)
                errno = ECONNRESET;
            snprintf(last_error, sizeof last_error, "%s: %s", what, errno_name(errno));
            return -1;
        }
        /* fall through */
    default:
        set_error(what);
        errno = EPROTO;
        return -1;
    }
}

int tls_handshake(SSL *ssl, int *want)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_do_handshake(ssl);
    if (r == 1)
        return 0;
    return failed(ssl, r, want, "TLS handshake") == 0 ? (errno = ECONNRESET, -1) : -1;
}

ssize_t tls_read(SSL *ssl, void *buf, size_t n, int *want)
{
    size_t got = 0;
    ERR_clear_error();
    errno = 0;
    if (n > INT_MAX)
        n = INT_MAX;
    int r = SSL_read_ex(ssl, buf, n, &got);
    if (r == 1)
        return (ssize_t)got;
    return failed(ssl, r, want, "TLS");
}

ssize_t tls_read_some(SSL *ssl, void *buf, size_t n, int *want, int *end)
{
    size_t got = 0;
    *want = 0;
    *end = 0;
    while (got < n) {
        ssize_t r = tls_read(ssl, (char *)buf + got, n - got, want);
        if (r > 0) {
            got += (size_t)r;
            continue;
        }
        if (got == 0)
            return r;
        if (!(r < 0 && errno == EAGAIN))
            *end = r == 0 ? 1 : -1;
        break;
    }
    return (ssize_t)got;
}

ssize_t tls_write(SSL *ssl, const void *buf, size_t n, int *want)
{
    size_t put = 0;
    ERR_clear_error();
    errno = 0;
    int r = SSL_write_ex(ssl, buf, n, &put);
    if (r == 1)
        return (ssize_t)put;
    if (failed(ssl, r, want, "TLS") == 0)
        errno = EPIPE; /* the peer said close_notify: nothing more goes */
    return -1;
}

size_t tls_pending(SSL *ssl)
{
    int n = SSL_pending(ssl);
    return n > 0 ? (size_t)n : 0;
}

void tls_close_notify(SSL *ssl)
{
    ERR_clear_error();
    if (SSL_is_init_finished(ssl))
        SSL_shutdown(ssl);
    ERR_clear_error();
}

void tls_describe(SSL *ssl, char *out, size_t outsz)
{
    snprintf(out, outsz, "%s %s", SSL_get_version(ssl), SSL_get_cipher_name(ssl));
}

/* ---- trusting the server ---- */

int tls_known_get(const char *file, const char *hostport, char fp[TLS_FPLEN])
{
    char line[KNOWN_LINE];
    size_t hl = strlen(hostport);
    FILE *f = fopen(file, "re");
    if (!f)
        return errno == ENOENT ? 0 : -1;
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, hostport, hl) != 0 || line[hl] != ' ')
            continue;
        char *v = line + hl + 1;
        v[strcspn(v, " \r\n")] = '\0';
        found = tls_fingerprint_parse(v, fp) == 0;
    }
    int bad = ferror(f);
    fclose(f);
    return bad ? -1 : found;
}

int tls_known_put(const char *file, const char *hostport, const char *fp)
{
    char tmp[PATH_MAX], line[KNOWN_LINE];
    size_t hl = strlen(hostport);
    if (snprintf(tmp, sizeof tmp, "%s.%ld.tmp", file, (long)getpid()) >= (int)sizeof tmp ||
        make_parent(file) < 0) {
        errno_error("cannot write", file);
        return -1;
    }
    FILE *out = create_private(tmp);
    if (!out)
        return -1;
    /* Every other host's line kept, this host's replaced: written aside
     * and renamed, so a crash never leaves half a file. */
    FILE *in = fopen(file, "re");
    if (in) {
        while (fgets(line, sizeof line, in))
            if (!(strncmp(line, hostport, hl) == 0 && line[hl] == ' '))
                fputs(line, out);
        fclose(in);
    }
    fprintf(out, "%s %s\n", hostport, fp);
    if (fclose(out) != 0 || rename(tmp, file) < 0) {
        errno_error("cannot write", file);
        unlink(tmp);
        return -1;
    }
    return 0;
}

int tls_verdict(SSL *ssl, const char *pin, const char *known, const char *hostport, int insecure,
                char *why, size_t whysz)
{
    char fp[TLS_FPLEN], kept[TLS_FPLEN];
    if (tls_peer_fingerprint(ssl, fp) < 0) {
        snprintf(why, whysz, "the server showed no certificate");
        return -1;
    }
    if (insecure)
        return TLS_BY_NOTHING;
    long v = SSL_get_verify_result(ssl);
    /* known_hosts decides here (it is read, or told a pin): if others could
     * write it or its directory, it could say anything. */
    if (known && (pin || v != X509_V_OK) && tls_path_safe(known) < 0) {
        snprintf(why, whysz, "%s", tls_error());
        return -1;
    }
    if (pin) {
        if (strcmp(pin, fp) != 0) {
            snprintf(why, whysz,
                     "the server's certificate is not the one pinned with "
                     "--tls-fingerprint\n  pinned: %s\n  shown:  %s\n"
                     "Someone may be intercepting the connection; do not go on "
                     "until the server's operator confirms the new fingerprint.",
                     pin, fp);
            return -1;
        }
        if (known && tls_known_put(known, hostport, fp) < 0)
            fprintf(stderr, "hichat: warning: %s\n", tls_error());
        return TLS_BY_PIN;
    }
    if (v == X509_V_OK)
        return TLS_BY_CA;
    int k = known ? tls_known_get(known, hostport, kept) : 0;
    if (k == 1 && strcmp(kept, fp) == 0)
        return TLS_BY_KNOWN; /* remembered: trusted on first use */
    if (k == 1) {
        snprintf(why, whysz,
                 "@@@ THE SERVER'S CERTIFICATE HAS CHANGED @@@\n"
                 "  remembered for %s: %s\n  shown now:%*s %s\n"
                 "Someone may be intercepting the connection, or the server made a\n"
                 "new key. If its operator confirms the new fingerprint, connect once\n"
                 "with --tls-fingerprint %s (that replaces the line in %s).",
                 hostport, kept, (int)strlen(hostport), "", fp, fp, known);
        return -1;
    }
    const char *reason = X509_verify_cert_error_string(v);
    snprintf(why, whysz,
             "cannot verify the server's certificate: %s\n"
             "  its SHA-256 fingerprint: %s\n"
             "If it is a self-signed certificate whose fingerprint the server's operator\n"
             "confirms (hichat serve --tls-self-signed prints it), connect with\n"
             "--tls-fingerprint %s; or name its CA with --tls-ca FILE.",
             reason, fp, fp);
    return -1;
}
