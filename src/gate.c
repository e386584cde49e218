/* gate.c - the way in: accepting, the checks every newcomer passes before
 * anything is allocated for it (address lists, --max-clients, --max-per-ip,
 * the wrong-password lockout; UDP peers pass the same ones), refusals and
 * their rate-limited log, the TLS handshake and the password, then entering
 * the chat. */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "srv.h"

/* A plaintext client on the TLS port: told in plaintext, and closed. */
void gate_not_tls(conn *c)
{
    tell_error(c->s, &c->m, E_NOT_TLS, 0, NULL);
    conn_close(c, R_NOT_TLS, 1);
}

/* ---- the gate: TLS handshake, then the password ---- */

/* Joins the room: past the gate, or at once on an open server. */
static void conn_enter(conn *c)
{
    server *s = c->s;
    c->flags |= C_JOINED;
    gate_enter(s, &c->m, c->want_nick);
    free(c->want_nick); /* (asked for once) */
    c->want_nick = NULL;
    c->join_due_ms = loop_now(s->l) + JOIN_QUIET_MS;
    conn_rearm(c);
}

/* The handshake is done (or there is none): ask for the password, or join. */
static void conn_ready(conn *c)
{
    server *s = c->s;
    if (!s->password) {
        conn_enter(c);
        return;
    }
    c->flags |= C_AUTH;
    c->gate_due = loop_now(s->l) + LOGIN_MS;
    tell_notice(s, &c->m, N_PASSWORD, NULL);
    conn_rearm(c);
}

static void auth_try(conn *c, const char *pw, size_t len)
{
    server *s = c->s;
    uint64_t now = loop_now(s->l), locked = c->inet ? authlimit_locked(s->fails, &c->ip, now) : 0;

    if (!locked && password_eq(pw, len, s->password, s->passlen)) {
        c->flags &= ~(unsigned)C_AUTH;
        logmsg(s, "login %s", c->addr);
        conn_enter(c);
        return;
    }
    if (!locked) {
        c->auth_fails++;
        if (c->inet)
            locked = authlimit_fail(s->fails, &c->ip, now);
        logmsg(s, "wrong password from %s (%u on this connection)", c->addr, c->auth_fails);
    }
    if (locked) {
        tell_error(s, &c->m, E_LOCKED_OUT, (size_t)(locked + 999) / 1000, NULL);
        conn_close(c, R_AUTH, 1);
    } else if (c->auth_fails >= AUTH_TRIES) {
        tell_error(s, &c->m, E_WRONG_PASSWORD, AUTH_TRIES, NULL);
        conn_close(c, R_AUTH, 1);
    } else {
        /* Its next line waits: guessing goes at most one try a second. */
        c->hold_until = now + AUTH_DELAY_MS;
        tell_error(s, &c->m, E_WRONG_PASSWORD, 0, NULL);
    }
}

/* A line from a connection waiting for the password. */
void gate_line(conn *c, const char *line, size_t len)
{
    server *s = c->s;
    chat_cmd cmd;
    s->st.lines_in++;
    c->lines_in++;
    if (c->m.dialect->parse(line, len, &cmd) < 0)
        return;
    switch (cmd.kind) {
    case CMD_PASS: auth_try(c, cmd.text, cmd.len); break; /* as sent, spaces and all */
    case CMD_NICK:
        /* hichat connect asks for its nick first thing: kept for joining. */
        if (cmd.len <= NICK_MAX && !text_nick_invalid(cmd.text, cmd.len)) {
            free(c->want_nick);
            c->want_nick = xstrndup(cmd.text, cmd.len);
        }
        break;
    case CMD_QUIT: conn_quit(&c->m, cmd.text, cmd.len); break;
    case CMD_HELLO: tell_notice(s, &c->m, N_HI, NULL); break;
    default: tell_error(s, &c->m, E_NEED_PASSWORD, 0, NULL);
    }
}

/* TLS: the handshake's next step, once a first byte says it is TLS. */
void conn_handshake(conn *c)
{
    server *s = c->s;
    if (!c->tp.ssl) {
        unsigned char b;
        ssize_t n = trace_recvfrom(c->tp.fd, &b, 1, MSG_PEEK, NULL, NULL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            conn_close(c, n == 0 ? R_CLOSED : conn_errno_reason(errno), 0);
            return;
        }
        if (b != 0x16) { /* not a TLS handshake record: a plaintext client */
            gate_not_tls(c);
            return;
        }
        c->tp.ssl = tls_new(s->tls, c->tp.fd, 1, NULL);
        if (!c->tp.ssl) {
            logmsg(s, "tls %s: %s", c->addr, tls_error());
            conn_close(c, R_HANDSHAKE, 0);
            return;
        }
    }
    int want = 0;
    if (tls_handshake(c->tp.ssl, &want) < 0) {
        if (errno == EAGAIN) {
            conn_interest(c, want);
            return;
        }
        logmsg(s, "tls %s: %s", c->addr, errno == EPROTO ? tls_error() : errno_name(errno));
        conn_close(c, errno == EPROTO ? R_HANDSHAKE : conn_errno_reason(errno), 0);
        return;
    }
    char how[128];
    tls_describe(c->tp.ssl, how, sizeof how);
    logmsg(s, "tls %s %s", c->addr, how);
    c->flags &= ~(unsigned)C_HANDSHAKE;
    conn_interest(c, LOOP_READ);
    conn_ready(c);
    if (is_open(c) && tls_pending(c->tp.ssl))
        conn_readable(c);
}

/* ---- accepting ---- */

void gate_accept_resume(loop *l, loop_timer *t)
{
    server *s = CONTAINER_OF(t, server, accept_timer);
    for (int i = 0; i < s->nlfd && !s->stopping; i++)
        loop_set_mask(l, s->lfd[i], LOOP_READ);
}

void gate_refuse_second(loop *l, loop_timer *t)
{
    server *s = CONTAINER_OF(t, server, refuse_timer);
    (void)l;
    if (s->refuse_quiet)
        logmsg(s, "refuse: %lu more not logged in the last second", s->refuse_quiet);
    s->refuse_logged = 0;
    s->refuse_quiet = 0;
}

/* Logs one refusal, unless this second has had its share. */
void gate_log_refusal(server *s, const char *addr, const char *why)
{
    if (!loop_timer_armed(&s->refuse_timer))
        loop_timer_arm(s->l, &s->refuse_timer, 1000);
    if (s->refuse_logged >= REFUSE_LOG_PER_S) {
        s->refuse_quiet++;
        return;
    }
    s->refuse_logged++;
    logmsg(s, "refuse %s (%s)", addr, why);
}

static void refuse(server *s, int fd, const char *addr, enum refusal f, const char *why)
{
    /* In the text dialect: nothing was read, so nothing says otherwise. */
    chat_event ev = {.kind = EV_ERROR, .code = E_REFUSED, .arg = why};
    chunk *line = dialect_text.encode(&ev, 0);
    char sink[4096];
    /* Best effort on a fresh socket: its buffer is empty, so this fits.
     * Then FIN, and take what the peer already sent, so that closing with
     * unread input does not send a reset that could discard our line. */
    if (trace_write(fd, line->data, line->len) < 0) {
    }
    chunk_unref(line);
    trace_shutdown(fd, SHUT_WR);
    if (trace_recvfrom(fd, sink, sizeof sink, MSG_DONTWAIT, NULL, NULL) < 0) {
    }
    trace_close(fd);
    s->st.refused[f]++;
    gate_log_refusal(s, addr, why);
}

static void set_timeouts(server *s, int fd)
{
    int one = 1;
    /* We coalesce writes ourselves (one writev per pass): Nagle would only
     * add latency. */
    trace_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (s->opt.keepalive > 0) {
        int idle = (int)s->opt.keepalive;
        int intvl = idle < KEEPALIVE_INTVL ? idle : KEEPALIVE_INTVL, cnt = KEEPALIVE_CNT;
        trace_setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        trace_setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
        trace_setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
        trace_setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
    }
    if (s->opt.user_timeout > 0) {
        /* Data unacknowledged this long means the peer is gone (a pulled
         * cable, a half-open connection): the kernel then reports
         * ETIMEDOUT instead of retransmitting for a quarter of an hour. */
        unsigned ms = (unsigned)s->opt.user_timeout * 1000u;
        trace_setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof ms);
    }
}

/* Takes a new connection: the checks that need no memory, then a conn at
 * the gate (tls: the TCP listener of a TLS server) or in the room. */
/* The checks every newcomer passes, a connection at accept and a UDP peer
 * when it proves its address, before any per-member memory exists: the
 * address lists, --max-clients, --max-per-ip (not for Unix peers, local and
 * gated by the socket file's mode) and the wrong-password lockout. Returns
 * -1 if ip may come in, else the refusal, with why (for the peer and the
 * log) in why[0..sz); F_DENIED has no why: a port says nothing to an
 * address it does not allow. */
int gate_check(server *s, const ipkey *ip, int inet, char *why, size_t sz)
{
    why[0] = '\0';
    if (inet && !acl_permits(&s->opt.acl, ip))
        return F_DENIED;
    if ((long)s->nopen >= s->opt.max_clients) {
        snprintf(why, sz, "server full (max %ld clients)", s->opt.max_clients);
        return F_FULL;
    }
    if (inet && s->opt.max_per_ip > 0 &&
        ipcount_get(s->ips, ip) >= (unsigned long)s->opt.max_per_ip) {
        snprintf(why, sz, "too many connections from your address (max %ld)", s->opt.max_per_ip);
        return F_PER_IP;
    }
    uint64_t locked = s->password && inet ? authlimit_locked(s->fails, ip, loop_now(s->l)) : 0;
    if (locked) {
        snprintf(why, sz, "too many wrong passwords from your address; locked out for %llu s",
                 (unsigned long long)(locked + 999) / 1000);
        return F_LOCKED;
    }
    return -1;
}

/* A newcomer that passed gate_check takes its seat: it counts toward
 * --max-clients and --max-per-ip from now on (at the gate too). */
void gate_seat(server *s, const ipkey *ip)
{
    ipcount_add(s->ips, ip);
    s->nopen++;
    s->st.accepted++;
    if (s->nopen > s->st.peak)
        s->st.peak = s->nopen;
}

/* ... and gives it back when it leaves. */
void gate_unseat(server *s, const ipkey *ip)
{
    ipcount_del(s->ips, ip);
    s->nopen--;
}

/* A newcomer past the gate enters the chat: under the nick it asked for
 * if free, in the default room, welcomed; the log says who and where. */
void gate_enter(server *s, member *m, const char *want)
{
    chat_enter(s->chat, m, want, 1);
    logmsg(s, "connect %s %s", m->ops->addr(m), m->nick);
}

/* A member leaves the chat for why: the log says so, and its rooms are
 * told (chat_leave decides who hears it). The other end of gate_enter. */
void gate_leave(server *s, member *m, const char *why)
{
    logmsg(s, "disconnect %s %s (%s)", m->ops->addr(m), m->nick, why);
    chat_leave(s->chat, m, why, strlen(why));
}

static void adopt(server *s, int fd, const struct sockaddr *peer, int tls)
{
    char addr[NET_ADDRSTRLEN];
    ipkey ip = ipcount_key(peer);
    int inet = peer->sa_family == AF_INET || peer->sa_family == AF_INET6;

    net_addr_str(peer, sizeof(struct sockaddr_storage), addr, sizeof addr);
    char why[128];
    int f = gate_check(s, &ip, inet, why, sizeof why);
    if (f == F_DENIED) {
        trace_close(fd);
        s->st.refused[F_DENIED]++;
        gate_log_refusal(s, addr, "not allowed by --allow/--deny");
        return;
    }
    if (f >= 0) {
        refuse(s, fd, addr, (enum refusal)f, why);
        return;
    }
    if (inet)
        set_timeouts(s, fd);

    conn *c = xcalloc(1, sizeof *c);
    c->s = s;
    transport_init(&c->tp, fd);
    c->ip = ip;
    c->inet = inet;
    c->addr = xstrdup(addr);
    outq_init(&c->out);
    loop_timer_init(&c->timer, conn_timer);
    c->m.ops = &conn_ops;
    c->m.dialect = &dialect_text;
    c->m.kind = M_CONN;
    bucket_init(&c->flood, &s->flood, loop_now(s->l));
    c->join_due_ms = UINT64_MAX; /* set on joining */
    if (loop_watch(s->l, fd, LOOP_READ, conn_io, c) < 0) {
        logmsg(s, "refuse %s (epoll_ctl: %s)", addr, errno_name(errno));
        trace_close(fd);
        free(c->addr);
        free(c);
        return;
    }
    gate_seat(s, &ip);
    fifo_push(&s->conns, &c->link);
    if (tls) {
        /* The session is made at the first byte, once it looks like TLS. */
        c->flags |= C_HANDSHAKE;
        c->gate_due = loop_now(s->l) + HANDSHAKE_MS;
        conn_rearm(c);
        return;
    }
    conn_ready(c);
}

void server_adopt(server *s, int fd, const struct sockaddr *peer, socklen_t len)
{
    (void)len;
    adopt(s, fd, peer, 0);
}

/* Out of descriptors: close the spare one, accept and refuse with it, take
 * it back. Returns 0 if one connection was shed, -1 if none could be. */
static int shed_one(server *s, int lfd)
{
    struct sockaddr_storage ss;
    char addr[NET_ADDRSTRLEN];

    if (s->spare_fd < 0)
        return -1;
    close(s->spare_fd);
    int fd = net_accept(lfd, &ss, addr);
    if (fd >= 0)
        refuse(s, fd, addr, F_BUSY, "server busy: out of file descriptors");
    s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return fd >= 0 ? 0 : -1;
}

void gate_on_accept(loop *l, int lfd, void *data, int mask)
{
    server *s = data;
    struct sockaddr_storage ss;
    char addr[NET_ADDRSTRLEN];
    (void)mask;

    for (int i = 0; i < ACCEPT_BATCH; i++) {
        int fd = net_accept(lfd, &ss, addr);
        if (fd >= 0) {
            int tls = 0;
            for (int k = 0; k < s->nlfd; k++)
                if (s->lfd[k] == lfd)
                    tls = s->lfd_tls[k];
            adopt(s, fd, (struct sockaddr *)&ss, tls);
            continue;
        }
        if (errno == EAGAIN)
            return;
        if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
            continue;
        if ((errno == EMFILE || errno == ENFILE) && shed_one(s, lfd) == 0)
            continue; /* told it we are busy; the queue keeps moving */
        /* Nothing to shed with, or ENOBUFS/ENOMEM: the listener stays
         * readable and level-triggered epoll would wake us at once. */
        logmsg(s, "accept: %s (%s); pausing %d ms", errno_name(errno), strerror(errno),
               ACCEPT_BACKOFF_MS);
        for (int k = 0; k < s->nlfd; k++)
            loop_set_mask(l, s->lfd[k], 0);
        loop_timer_arm(l, &s->accept_timer, ACCEPT_BACKOFF_MS);
        return;
    }
}

/* TLS and the password, from the options. 0, or -1 after saying why. */
int gate_secure(server *s)
{
    const server_opts *o = &s->opt;
    char path[4096], fp[TLS_FPLEN], err[NET_ERRLEN];
    const char *cert = o->tls_cert, *key = o->tls_key;

    if (o->tls_self_signed) {
        int made;
        if (!o->tls_self_signed[0] && tls_config_path("selfsigned.pem", path, sizeof path) < 0) {
            fprintf(stderr, "hichat: --tls-self-signed: neither XDG_CONFIG_HOME nor HOME is set; "
                            "name the file: --tls-self-signed=FILE\n");
            return -1;
        }
        cert = key = o->tls_self_signed[0] ? o->tls_self_signed : path;
        if (tls_self_signed(cert, &made) < 0) {
            fprintf(stderr, "hichat: --tls-self-signed: %s\n", tls_error());
            return -1;
        }
        logmsg(s, "tls self-signed certificate %s %s", made ? "made in" : "kept in", cert);
    }
    if (cert) {
        s->tls = tls_server_ctx(cert, key, o->tls_client_ca);
        if (!s->tls || tls_file_fingerprint(cert, fp) < 0) {
            fprintf(stderr, "hichat: %s\n", tls_error());
            return -1;
        }
        logmsg(s, "tls fingerprint SHA256 %s", fp);
        if (o->tls_client_ca)
            logmsg(s, "tls client certificates required (CAs in %s)", o->tls_client_ca);
    }
    if (o->password_file) {
        int loose;
        s->password = password_load(o->password_file, &loose, err, sizeof err);
        if (!s->password) {
            fprintf(stderr, "hichat: %s\n", err);
            return -1;
        }
        s->passlen = strlen(s->password);
        s->fails = authlimit_new();
        if (loose)
            logmsg(s, "warning: others can read the password file %s (chmod 600 it)",
                   o->password_file);
    }
    return 0;
}
