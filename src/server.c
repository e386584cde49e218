/* server.c - hichat serve: the server's wiring.
 *
 * Data flows one way (see srv.h for the pieces):
 *   accept (gate.c) -> bytes in, lines (conn.c, udp.c, console.c)
 *   -> a command in the member's dialect (dialect_text.c)
 *   -> the chat logic (chat.c, room.c, nicks.c) -> one event, encoded once
 *      per dialect and form -> a reference queued for every recipient
 *   -> one writev per connection per loop pass (before_sleep, here).
 * Closing is deferred: a connection is only marked while a room may be
 * iterating, and is left and freed in before_sleep, so no callback ever
 * sees a member vanish under it.
 *
 * Here: the server's state, the loop pass (before_sleep, the input budget,
 * taking up put-off input), /stats, signals, listeners and shutdown. */
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

const struct reason_text reasons[R_COUNT] = {
    [R_QUIT] = {"quit", "quit"},
    [R_CLOSED] = {"connection closed", "closed"},
    [R_RESET] = {"connection reset", "reset"},
    [R_TIMEOUT] = {"connection timed out", "timeout"},
    [R_QUEUE_FULL] = {"output queue full", "queue_full"},
    [R_FLOOD] = {"flooding", "flood"},
    [R_LINE_TIMEOUT] = {"line not finished in time", "line_timeout"},
    [R_HTTP] = {"not a chat client: HTTP request", "http"},
    [R_TLS] = {"not a chat client: TLS handshake", "tls"},
    [R_BINARY] = {"not a chat client: binary data", "binary"},
    [R_SHUTDOWN] = {"server shutting down", "shutdown"},
    [R_ERROR] = {"socket error", "error"},
    [R_HANDSHAKE] = {"TLS handshake failed", "handshake"},
    [R_NOT_TLS] = {"not TLS on the TLS port", "not_tls"},
    [R_AUTH] = {"wrong password", "auth"},
    [R_LOGIN_TIMEOUT] = {"no password in time", "login_timeout"},
};

const char *const refusal_key[F_COUNT] = {"full", "per_ip", "busy", "denied", "locked"};

static void vlogmsg(server *s, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void vlogmsg(server *s, const char *fmt, va_list ap)
{
    char line[1024];
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';
    out_write(s->log_o, line, (size_t)n);
}

void logmsg(server *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlogmsg(s, fmt, ap);
    va_end(ap);
}

/* Whether this pass has room for more fan-out across the server. */
int pass_open(const server *s)
{
    return chat_fanout(s->chat) < PASS_FANOUT;
}

static void announce_leaves(server *s)
{
    while (s->leaving) {
        conn *c = s->leaving;
        s->leaving = c->next_leave;
        c->flags &= ~(unsigned)C_LEAVING;
        c->flags |= C_CLOSING; /* out of the room either way */
        s->nopen--;
        s->st.left[c->why]++;
        if (!(c->flags & C_JOINED)) { /* turned back at the gate */
            logmsg(s, "disconnect %s - (%s)", c->addr, conn_why(c));
            continue;
        }
        gate_leave(s, &c->m, conn_why(c));
    }
}

/* Activity since the last tidy: traffic, arrivals. */
static unsigned long long activity(const server *s)
{
    return s->st.deliveries + s->st.accepted + s->st.lines_in;
}

/* A second after activity, memory that bursts left free is handed back, so
 * the resident size follows the load down (a join storm of 10,000 members
 * briefly queues hundreds of megabytes of notices). An idle server is not
 * woken for this. */
static void tidy(loop *l, loop_timer *t)
{
    server *s = CONTAINER_OF(t, server, tidy_timer);
    (void)l;
    s->tidy_mark = activity(s);
    heap_tidy(TIDY_KEEP);
}

static void before_sleep(loop *l, void *data)
{
    server *s = data;

    /* Leaving queues notices for others, and writing can find a dead peer
     * that must leave in turn: repeat until both lists are empty. */
    while (s->leaving || s->pending) {
        announce_leaves(s);
        while (s->pending) {
            conn *c = s->pending;
            s->pending = c->next_pending;
            c->flags &= ~(unsigned)C_PENDING;
            if (!(c->flags & (C_DEAD | C_LINGER)))
                conn_flush(c);
        }
    }
    while (s->dead) {
        conn *c = s->dead;
        s->dead = c->next_dead;
        conn_free(c);
    }
    /* A new pass: its share of each room, and input put off in the last
     * one is taken first, before anything newly readable. */
    chat_new_pass(s->chat);
    if ((s->parked.head || (s->udp_parked && s->nover == 0)) && pass_open(s) &&
        !loop_timer_armed(&s->resume_timer))
        loop_timer_arm(l, &s->resume_timer, 0);
    if (activity(s) != s->tidy_mark && !loop_timer_armed(&s->tidy_timer))
        loop_timer_arm(l, &s->tidy_timer, TIDY_MS);
    if (s->stopping && s->conns.count == 0)
        loop_stop(l);
}

/* Takes up the input put off in earlier passes, oldest first, while the
 * room takes it; a connection put off again goes to the end of the line. */
static void resume(loop *l, loop_timer *t)
{
    server *s = CONTAINER_OF(t, server, resume_timer);
    fifo_link *last = s->parked.tail;
    /* The UDP socket first: it is read in the next pass's events, so it
     * cannot be kept waiting by connections that fill every pass. */
    if (s->udp_parked && s->nover == 0) {
        s->udp_parked = 0;
        if (s->ufd >= 0) /* (closed at shutdown) */
            loop_set_mask(l, s->ufd, LOOP_READ);
    }
    while (s->parked.head && pass_open(s)) {
        fifo_link *k = s->parked.head;
        conn *c = CONTAINER_OF(k, conn, parked);
        /* Its turn: what waits in the kernel (or inside OpenSSL) is read
         * now too, or a connection put off before reading never would. */
        if (conn_release(c)) {
            if (conn_takes(c))
                conn_read(c);
            else if (conn_tls_waiting(c))
                conn_park(c); /* no event will come for it: wait in line */
        }
        if (k == last)
            break;
    }
}

/* ---- statistics ---- */

/* One line: "clients=3 peak=5 ... left: quit=1 ... refused: full=0 ...". */
static void stats_line(server *s, char *dst, size_t sz)
{
    size_t n =
        (size_t)snprintf(dst, sz,
                         "clients=%zu peak=%zu accepted=%llu lines_in=%llu "
                         "deliveries=%llu bytes_in=%llu bytes_out=%llu left:",
                         s->nopen, s->st.peak, (unsigned long long)s->st.accepted,
                         (unsigned long long)s->st.lines_in, (unsigned long long)s->st.deliveries,
                         (unsigned long long)s->st.bytes_in, (unsigned long long)s->st.bytes_out);
    for (int i = 0; i < R_COUNT && n < sz; i++)
        n += (size_t)snprintf(dst + n, sz - n, " %s=%llu", reasons[i].key,
                              (unsigned long long)s->st.left[i]);
    if (n < sz)
        n += (size_t)snprintf(dst + n, sz - n, " refused:");
    for (int i = 0; i < F_COUNT && n < sz; i++)
        n += (size_t)snprintf(dst + n, sz - n, " %s=%llu", refusal_key[i],
                              (unsigned long long)s->st.refused[i]);
    if (n < sz)
        snprintf(dst + n, sz - n, " udp: peers=%zu candidates=%zu dropped=%llu truncated=%llu",
                 s->nudp - s->cand.count, s->cand.count, (unsigned long long)s->st.udp_dropped,
                 (unsigned long long)s->st.udp_truncated);
}

/* /stats: the server's counters and each connection, for the console. */
static void server_stats(void *ctx, member *m)
{
    server *s = ctx;
    char line[1024];
    if (!is_console(s, m)) {
        chat_event ev = {.kind = EV_ERROR, .code = E_STATS_CONSOLE};
        chat_tell(s->chat, m, &ev);
        return;
    }
    stats_line(s, line, sizeof line);
    member_reply(m, dialect_notice("stats %s rooms=%zu", line, chat_rooms(s->chat)));
    /* Then each connection, as ss -tie and lsof -i would show it. */
    size_t shown = 0;
    for (fifo_link *k = s->conns.head; k; k = k->next) {
        conn *c = CONTAINER_OF(k, conn, link);
        if (shown++ == STATS_CONNS_MAX) {
            member_reply(m, dialect_notice("stats ... and %zu more connections",
                                           s->conns.count - STATS_CONNS_MAX));
            break;
        }
        net_sock_info(c->tp.fd, line, sizeof line);
        const char *who = (c->flags & C_JOINED) ? c->m.nick
                          : (c->flags & C_AUTH) ? "(login)"
                                                : "(handshake)";
        member_reply(
            m, dialect_notice("conn %s %s%s in=%lluB/%llu out=%lluB/%llu rooms=%zu", who, line,
                              c->tp.ssl ? " tls=1" : "", (unsigned long long)c->bytes_in,
                              (unsigned long long)c->lines_in, (unsigned long long)c->bytes_out,
                              (unsigned long long)c->msgs_out, (size_t)c->m.nrooms));
    }
    for (size_t i = 0; i < chat_members(s->chat) && shown <= STATS_CONNS_MAX; i++) {
        member *u = chat_member(s->chat, i);
        if (u->kind != M_UDP)
            continue;
        shown++;
        udp_peer *p = as_udp(u);
        member_reply(m, dialect_notice(
                            "udp %s peer=%s verified=%d in=%lluB/%llu out=%lluB/%llu rooms=%zu",
                            u->nick, p->addr_text + 4, p->verified, (unsigned long long)p->bytes_in,
                            (unsigned long long)p->lines_in, (unsigned long long)p->bytes_out,
                            (unsigned long long)p->msgs_out, (size_t)u->nrooms));
    }
}

static void server_log(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The chat's log lines (chat_hooks.log). */
static void server_log(void *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlogmsg(ctx, fmt, ap);
    va_end(ap);
}

/* One complete line from member m (console, connection or UDP peer). */
void member_line(server *s, member *m, const char *line, size_t len)
{
    if (len == 0)
        return;
    s->st.lines_in++;
    if (m->kind == M_CONN) {
        conn *c = as_conn(m);
        c->lines_in++;
        if (!(len == 6 && strncasecmp(line, "/hello", 6) == 0))
            conn_announce(c); /* before anything it says reaches the room */
    } else if (m->kind == M_UDP) {
        udp_announce(m);
    }
    chat_input(s->chat, m, line, len);
}

static void shutdown_deadline(loop *l, loop_timer *t)
{
    (void)t;
    loop_stop(l);
}

static void close_listeners(server *s)
{
    for (int i = 0; i < s->nlfd; i++) {
        loop_unwatch(s->l, s->lfd[i]);
        trace_close(s->lfd[i]);
    }
    s->nlfd = 0;
    if (s->unix_path) {
        unlink(s->unix_path);
        free(s->unix_path);
        s->unix_path = NULL;
    }
}

void server_shutdown(server *s)
{
    if (s->stopping)
        return;
    s->stopping = 1;
    logmsg(s, "shutting down");
    close_listeners(s);
    loop_timer_cancel(s->l, &s->accept_timer);
    chat_notice_all(s->chat, N_SHUTDOWN);
    chat_quiet(s->chat);
    for (fifo_link *k = s->conns.head; k; k = k->next)
        conn_close(CONTAINER_OF(k, conn, link), R_SHUTDOWN, 1);
    udp_forget_all(s);
    if (s->ufd >= 0) {
        loop_unwatch(s->l, s->ufd);
        trace_close(s->ufd);
        s->ufd = -1;
    }
    loop_timer_arm(s->l, &s->shutdown_timer, SHUTDOWN_FLUSH_MS);
}

static void on_signal(loop *l, int fd, void *data, int mask)
{
    server *s = data;
    struct signalfd_siginfo si;
    (void)mask;
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGUSR1) {
            char line[1024];
            stats_line(s, line, sizeof line);
            logmsg(s, "stats %s", line);
            continue;
        }
        if (s->stopping) {
            loop_stop(l); /* a second signal: do not wait for flushing */
            return;
        }
        server_shutdown(s);
    }
}

void server_defaults(server_opts *o)
{
    memset(o, 0, sizeof *o); /* every option not named here is off */
    o->bind = DEFAULT_BIND;
    o->port = DEFAULT_PORT;
    o->nick = DEFAULT_SERVER_NICK;
    o->max_clients = 0;
    o->max_per_ip = DEFAULT_MAX_PER_IP;
    o->max_line = DEFAULT_MAX_LINE;
    o->max_queue = DEFAULT_MAX_QUEUE;
    o->msg_rate = DEFAULT_MSG_RATE;
    o->msg_burst = DEFAULT_MSG_BURST;
    o->flood_timeout = DEFAULT_FLOOD_TIMEOUT;
    o->line_timeout = DEFAULT_LINE_TIMEOUT;
    o->keepalive = DEFAULT_KEEPALIVE;
    o->user_timeout = DEFAULT_USER_TIMEOUT;
    o->tcp = 1;
    o->unix_path = NULL;
    o->udp = 0;
    o->udp_timeout = DEFAULT_UDP_TIMEOUT;
    o->announce_max = DEFAULT_ANNOUNCE_MAX;
    o->default_room = DEFAULT_ROOM;
    o->max_rooms = DEFAULT_MAX_ROOMS;
    o->max_joined = DEFAULT_MAX_JOINED;
}

server *server_new(loop *l, const server_opts *opt, int out_fd, int log_fd)
{
    server *s = xcalloc(1, sizeof *s);
    s->opt = *opt;
    if (s->opt.max_clients <= 0)
        s->opt.max_clients = 1000000;
    if (s->opt.msg_burst < 1)
        s->opt.msg_burst = 1;
    s->flood = (rate_rule){s->opt.msg_rate, s->opt.msg_burst};
    s->l = l;
    s->sfd = s->ufd = -1;
    s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    s->dgram = xmalloc(udp_cap(s));
    /* From the OS's pool (blocking until it is seeded, at boot): the key
     * is what keeps a forger from computing anyone's token. */
    if (getrandom(s->udp_key, sizeof s->udp_key, 0) != (ssize_t)sizeof s->udp_key)
        RAND_bytes(s->udp_key, (int)sizeof s->udp_key);
    if (getrandom(&s->udp_seed, sizeof s->udp_seed, 0) != (ssize_t)sizeof s->udp_seed)
        RAND_bytes((unsigned char *)&s->udp_seed, (int)sizeof s->udp_seed);
    chat_opts co = {
        .default_room = s->opt.default_room,
        .max_rooms = (size_t)s->opt.max_rooms,
        .max_joined = (size_t)s->opt.max_joined,
        .announce_max = (size_t)s->opt.announce_max,
        .max_line = s->opt.max_line,
        .has_password = s->opt.password_file != NULL,
    };
    chat_hooks hooks = {.ctx = s, .stats = server_stats, .log = server_log};
    s->chat = chat_new(&co, &hooks);
    s->ips = ipcount_new();
    s->scratch = xmalloc(READ_SIZE + s->opt.max_line + 2);
    s->clean = xmalloc(TEXT_CLEAN_MAX(s->opt.max_line + 2));
    loop_timer_init(&s->accept_timer, gate_accept_resume);
    loop_timer_init(&s->shutdown_timer, shutdown_deadline);
    loop_timer_init(&s->tidy_timer, tidy);
    loop_timer_init(&s->resume_timer, resume);
    loop_timer_init(&s->refuse_timer, gate_refuse_second);
    loop_before_sleep_add(l, before_sleep, s); /* (the first: cannot fail) */
    s->log_o = out_new(l, log_fd, CONSOLE_QUEUE);
    s->stdout_o = out_new(l, out_fd, CONSOLE_QUEUE);
    s->console.ops = &console_ops;
    s->console.dialect = &dialect_text;
    s->console.kind = M_CONSOLE;
    chat_enter(s->chat, &s->console, opt->nick, 0);
    return s;
}

void server_free(server *s)
{
    if (!s)
        return;
    /* Whatever is still connected after the deadline is dropped. */
    for (fifo_link *k = s->conns.head; k; k = k->next)
        conn_close(CONTAINER_OF(k, conn, link), R_SHUTDOWN, 0);
    announce_leaves(s);
    while (s->dead) {
        conn *c = s->dead;
        s->dead = c->next_dead;
        conn_free(c);
    }
    udp_forget_all(s); /* (they log, and may tell the console: before those go) */
    term_free(s->term);
    if (s->stopping)
        logmsg(s, "stopped");
    out_flush(s->stdout_o, 500);
    out_free(s->stdout_o);
    out_flush(s->log_o, 500);
    out_free(s->log_o);
    loop_timer_cancel(s->l, &s->accept_timer);
    loop_timer_cancel(s->l, &s->shutdown_timer);
    loop_timer_cancel(s->l, &s->tidy_timer);
    loop_timer_cancel(s->l, &s->resume_timer);
    loop_timer_cancel(s->l, &s->refuse_timer);
    loop_before_sleep_remove(s->l, before_sleep, s);
    if (s->ufd >= 0) {
        loop_unwatch(s->l, s->ufd);
        trace_close(s->ufd);
    }
    free(s->ub);
    free(s->dgram);
    close_listeners(s);
    if (s->sfd >= 0) {
        loop_unwatch(s->l, s->sfd);
        close(s->sfd);
    }
    if (s->spare_fd >= 0)
        close(s->spare_fd);
    chat_free(s->chat);
    ipcount_free(s->ips);
    SSL_CTX_free(s->tls);
    if (s->password) {
        OPENSSL_cleanse(s->password, s->passlen);
        free(s->password);
    }
    authlimit_free(s->fails);
    free(s->scratch);
    free(s->clean);
    free(s);
}

static long default_max_clients(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 1024 - FD_RESERVE;
    /* Use what we are allowed: the soft limit is often far below the hard. */
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1000000)
        return 1000000;
    return rl.rlim_cur > 2 * FD_RESERVE ? (long)rl.rlim_cur - FD_RESERVE : FD_RESERVE;
}

/* Whether a listener's local address reaches only this machine. */
static int loopback_only(int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
    if (ss.ss_family == AF_INET6) {
        const struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return 1; /* a Unix socket */
}

/* The listening lines, and what the exposure means (docs/security.md). */
static void tell_listening(server *s)
{
    char where[NET_ADDRSTRLEN], all[900];
    for (int i = 0; i < s->nlfd; i++) {
        net_local_str(s->lfd[i], where, sizeof where);
        logmsg(s, "listening on %s%s", where, s->lfd_tls[i] ? " (tls)" : "");
        if (s->lfd_tls[i] || loopback_only(s->lfd[i]))
            continue;
        if (net_wildcard_addrs(s->lfd[i], all, sizeof all) > 0)
            logmsg(s, "reachable at %s", all);
        if (!s->password)
            logmsg(s,
                   "warning: serving the network in plaintext without a password: anyone "
                   "who reaches %s can join and read the room, and anyone on the path can "
                   "read it (see --tls-cert, --tls-self-signed, --password-file, --allow)",
                   where);
        else
            logmsg(s, "warning: serving the network in plaintext: the password and the chat "
                      "can be read on the path (see --tls-cert, --tls-self-signed)");
    }
    for (int i = 0; i < s->nlfd; i++) {
        if (s->lfd_tls[i] && !loopback_only(s->lfd[i]) &&
            net_wildcard_addrs(s->lfd[i], all, sizeof all) > 0)
            logmsg(s, "reachable at %s", all);
    }
    if (s->ufd >= 0) {
        net_local_str(s->ufd, where, sizeof where);
        logmsg(s, "listening on udp:%s", where);
    }
}

int server_run(const server_opts *opt)
{
    server_opts o = *opt;
    char err[NET_ERRLEN];
    sigset_t mask;

    long limit = default_max_clients();
    if (o.max_clients == 0) {
        o.max_clients = limit;
    } else if (o.max_clients > limit) {
        fprintf(stderr,
                "hichat: --max-clients %ld is above what the descriptor limit "
                "allows; using %ld (raise ulimit -n for more)\n",
                o.max_clients, limit);
        o.max_clients = limit;
    }

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGUSR1);
    /* A hang-up (the terminal closed, an ssh session ended) stops the
     * server as gracefully as SIGTERM; started under nohup, whose ignoring
     * is inherited, it stays ignored. */
    struct sigaction hup;
    if (sigaction(SIGHUP, NULL, &hup) == 0 && hup.sa_handler != SIG_IGN)
        sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, NULL);

    loop *l = loop_new();
    if (!l) {
        fprintf(stderr, "hichat: epoll_create1: %s (%s)\n", errno_name(errno), strerror(errno));
        return 1;
    }
    server *s = server_new(l, &o, STDOUT_FILENO, STDERR_FILENO);
    if (gate_secure(s) < 0) {
        server_free(s);
        loop_free(l);
        return 1;
    }
    int ok = 1;
    if (o.tcp) {
        int fd = net_listen_tcp(o.bind, o.port, LISTEN_BACKLOG, err, sizeof err);
        if (fd < 0) {
            ok = 0;
        } else {
            s->lfd_tls[s->nlfd] = s->tls != NULL;
            s->lfd[s->nlfd++] = fd;
        }
    }
    if (ok && o.unix_path) {
        int fd = net_listen_unix(o.unix_path, LISTEN_BACKLOG, err, sizeof err);
        if (fd < 0) {
            ok = 0;
        } else {
            s->lfd[s->nlfd++] = fd;
            s->unix_path = xstrdup(o.unix_path);
        }
    }
    if (ok && o.udp) {
        /* The same address and port as TCP (the port the kernel chose, if
         * --port 0), so one HOST:PORT names the room for both. */
        char uport[16];
        snprintf(uport, sizeof uport, "%s", o.port);
        if (o.tcp && s->nlfd > 0) {
            struct sockaddr_storage ss;
            socklen_t sl = sizeof ss;
            if (getsockname(s->lfd[0], (struct sockaddr *)&ss, &sl) == 0)
                snprintf(uport, sizeof uport, "%u",
                         ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                        : ((struct sockaddr_in *)&ss)->sin_port));
        }
        s->ufd = net_bind_udp(o.bind, uport, err, sizeof err);
        ok = s->ufd >= 0;
    }
    if (!ok) {
        fprintf(stderr, "hichat: %s\n", err);
        server_free(s);
        loop_free(l);
        return 1;
    }
    s->sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    ok = s->sfd >= 0 && loop_watch(l, s->sfd, LOOP_READ, on_signal, s) == 0;
    for (int i = 0; ok && i < s->nlfd; i++)
        ok = loop_watch(l, s->lfd[i], LOOP_READ, gate_on_accept, s) == 0;
    if (ok && s->ufd >= 0)
        ok = loop_watch(l, s->ufd, LOOP_READ, udp_on_readable, s) == 0;
    if (!ok) {
        fprintf(stderr, "hichat: cannot watch signals or the listeners: %s (%s)\n",
                errno_name(errno), strerror(errno));
        server_free(s);
        loop_free(l);
        return 1;
    }
    if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
        char prompt[NICK_MAX + 4];
        snprintf(prompt, sizeof prompt, "%s> ", o.nick);
        s->term = term_new(l, STDIN_FILENO, s->stdout_o, prompt, console_line, console_eof, s);
    }

    /* One stable line per listener; the TCP one begins exactly
     * "listening on ADDR:PORT". */
    tell_listening(s);
    int status = 0;
    if (loop_run(l) < 0) {
        fprintf(stderr, "hichat: epoll_wait: %s (%s)\n", errno_name(errno), strerror(errno));
        status = 1;
    }
    server_free(s);
    loop_free(l);
    return status;
}
