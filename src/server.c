/* server.c - hichat serve.
 *
 * Data flows one way: bytes in (read into one scratch buffer per loop) ->
 * lines (frame.c) -> commands and messages -> one chunk per event (dialect) ->
 * a reference queued for every recipient (room.c, outq.c) -> one writev per
 * connection per loop pass (before_sleep). Closing is deferred: a connection
 * is only marked while the room may be iterating, and is left and freed in
 * before_sleep, so no callback ever sees a member vanish under it. */
#include "server.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dialect.h"
#include "frame.h"
#include "loop.h"
#include "net.h"
#include "out.h"
#include "outq.h"
#include "room.h"
#include "term.h"
#include "text.h"
#include "util.h"

/* Bytes taken from a socket per read; one read per readiness keeps the loop
 * fair between busy and quiet clients. */
#define READ_SIZE 65536
/* A partial line waits this long for its LF before it counts as a line. */
#define QUIET_PAUSE_MS 300
/* A closing connection gets this long to take its last output. */
#define CLOSE_LINGER_MS 2000
/* After SIGINT/SIGTERM, queued output is flushed for at most this long. */
#define SHUTDOWN_FLUSH_MS 2000
/* Connections accepted per readiness event, so a connect storm cannot
 * starve the clients already here. */
#define ACCEPT_BATCH 256
/* After EMFILE/ENFILE, accepting pauses this long instead of spinning. */
#define ACCEPT_BACKOFF_MS 100
#define LISTEN_BACKLOG    4096
/* Console (stdout) and log (stderr) output queued before lines are dropped. */
#define CONSOLE_QUEUE (1024 * 1024)
/* A /quit reason is cut to this many bytes. */
#define QUIT_REASON_MAX 160
/* /who replies are wrapped at about this many bytes per line. */
#define WHO_LINE 400

enum {
    C_CLOSING = 1u << 0, /* left the room, flushing its last output */
    C_LINGER = 1u << 1,  /* output flushed and write side shut; draining */
    C_DEAD = 1u << 2,    /* to be freed at the end of this pass */
    C_PENDING = 1u << 3, /* on the list of queues to write this pass */
    C_LEAVING = 1u << 4, /* on the list of leaves to announce */
};

typedef struct server server;

typedef struct conn {
    member m; /* first: the room hands back member pointers */
    server *s;
    int fd;
    unsigned flags;
    framer fr;
    char *in; /* a partial line carried to the next read; owned */
    size_t inlen;
    outq out;
    loop_timer timer;   /* quiet pause while open; close deadline after */
    const char *reason; /* why it left: static text or reason_own */
    char *reason_own;
    struct conn *next_pending;
    struct conn *next_leave;
    struct conn *next_dead;
    struct conn *prev_all, *next_all;
    char addr[NET_ADDRSTRLEN];
} conn;

struct server {
    server_opts opt;
    loop *l;
    room *room;
    int lfd;
    int sfd;
    char *scratch; /* READ_SIZE + max_line + 2 bytes */
    char *clean;   /* TEXT_CLEAN_MAX(max_line) bytes */
    conn *pending, *leaving, *dead;
    conn *all; /* every connection, for the last cleanup */
    size_t nconns;
    member console;
    out *stdout_o, *log_o;
    term *term;
    int stopping;
    loop_timer accept_timer, shutdown_timer;
    unsigned long console_dropped;
};

static void logmsg(server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void logmsg(server *s, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';
    out_write(s->log_o, line, (size_t)n);
}

static conn *as_conn(member *m)
{
    return CONTAINER_OF(m, conn, m);
}

static int is_console(server *s, member *m)
{
    return m == &s->console;
}

/* ---- output ---- */

static void conn_close(conn *c, const char *reason, int graceful);

static void mark_pending(conn *c)
{
    if (c->flags & (C_PENDING | C_DEAD))
        return;
    c->flags |= C_PENDING;
    c->next_pending = c->s->pending;
    c->s->pending = c;
}

static void conn_deliver(member *m, chunk *ch)
{
    conn *c = as_conn(m);
    if (c->flags & (C_DEAD | C_LINGER))
        return;
    if (c->out.bytes + ch->len > c->s->opt.max_queue) {
        /* It has stopped reading. Keeping it would grow memory or hold up
         * the room; dropping it costs everyone else nothing. */
        conn_close(c, "output queue full", 0);
        return;
    }
    outq_push(&c->out, ch);
    mark_pending(c);
}

static void console_deliver(member *m, chunk *ch)
{
    server *s = CONTAINER_OF(m, server, console);
    if (s->term) {
        term_print(s->term, ch->data, ch->len ? ch->len - 1 : 0);
        return;
    }
    if (s->console_dropped) { /* say so where the gap is */
        char note[96];
        int n = snprintf(note, sizeof note, "* (%lu lines not shown: stdout was too slow)\n",
                         s->console_dropped);
        if (out_write(s->stdout_o, note, (size_t)n) < 0) {
            s->console_dropped++; /* no line may pass its gap's notice */
            return;
        }
        s->console_dropped = 0;
    }
    /* The room never waits for stdout: what does not fit is counted. */
    if (out_write(s->stdout_o, ch->data, ch->len) < 0)
        s->console_dropped++;
}

/* Sends one chunk to one member and drops the caller's reference. */
static void reply(member *m, chunk *ch)
{
    m->deliver(m, ch);
    chunk_unref(ch);
}

static void broadcast(server *s, chunk *ch, member *except)
{
    room_broadcast(s->room, ch, except);
    chunk_unref(ch);
}

/* Writes c's queue once. */
static void conn_flush(conn *c)
{
    ssize_t n = outq_write(&c->out, c->fd);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
        conn_close(
            c, errno == EPIPE || errno == ECONNRESET ? "connection reset" : errno_name(errno), 0);
        return;
    }
    if (c->out.count > 0) {
        loop_set_mask(c->s->l, c->fd, (c->flags & C_CLOSING ? 0 : LOOP_READ) | LOOP_WRITE);
        return;
    }
    if (c->flags & C_CLOSING) {
        /* All said: send FIN, then read until the peer's FIN so that
         * unread input cannot turn our close into a reset that loses what
         * we just wrote. When the server is stopping and nothing is unread,
         * a close sends no reset: no need to wait for the peer. */
        int unread = 0;
        shutdown(c->fd, SHUT_WR);
        if (c->s->stopping && ioctl(c->fd, FIONREAD, &unread) == 0 && unread == 0) {
            conn_close(c, c->reason, 0);
            return;
        }
        c->flags |= C_LINGER;
        loop_set_mask(c->s->l, c->fd, LOOP_READ);
        return;
    }
    loop_set_mask(c->s->l, c->fd, LOOP_READ);
}

/* ---- closing ---- */

static void conn_free(conn *c)
{
    server *s = c->s;
    loop_timer_cancel(s->l, &c->timer);
    loop_unwatch(s->l, c->fd);
    close(c->fd);
    outq_clear(&c->out);
    free(c->in);
    free(c->reason_own);
    if (c->prev_all)
        c->prev_all->next_all = c->next_all;
    else
        s->all = c->next_all;
    if (c->next_all)
        c->next_all->prev_all = c->prev_all;
    free(c);
    s->nconns--;
}

/* Marks c to leave the room with reason (static text, or c->reason_own).
 * graceful: flush what is queued first; else drop the connection now. */
static void conn_close(conn *c, const char *reason, int graceful)
{
    server *s = c->s;
    if (c->flags & C_DEAD)
        return;
    if (!(c->flags & (C_CLOSING | C_LEAVING))) {
        c->reason = reason;
        c->flags |= C_LEAVING;
        c->next_leave = s->leaving;
        s->leaving = c;
    }
    if (graceful && !(c->flags & C_CLOSING)) {
        c->flags |= C_CLOSING;
        free(c->in);
        c->in = NULL;
        c->inlen = 0;
        loop_timer_arm(s->l, &c->timer, CLOSE_LINGER_MS);
        loop_set_mask(s->l, c->fd, 0);
        mark_pending(c);
        return;
    }
    if (!graceful) {
        c->flags |= C_DEAD;
        loop_unwatch(s->l, c->fd);
        c->next_dead = s->dead;
        s->dead = c;
    }
}

static void announce_leaves(server *s)
{
    while (s->leaving) {
        conn *c = s->leaving;
        s->leaving = c->next_leave;
        c->flags &= ~(unsigned)C_LEAVING;
        c->flags |= C_CLOSING; /* out of the room either way */
        room_leave(s->room, &c->m);
        logmsg(s, "disconnect %s %s (%s)", c->addr, c->m.nick, c->reason);
        if (!s->stopping)
            broadcast(s, dialect_notice("%s left (%s)", c->m.nick, c->reason), NULL);
    }
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
    if (s->stopping && s->nconns == 0)
        loop_stop(l);
}

/* ---- lines and commands ---- */

static void conn_quit(server *s, member *m, const char *why, size_t len);
static void begin_shutdown(server *s);

static const char *const help_lines[] = {
    "commands:",
    "  /nick NAME       change your nick (1-32 bytes, no spaces)",
    "  /msg NICK TEXT   send TEXT to NICK alone",
    "  /me ACTION       tell the room what you are doing",
    "  /who             list who is here",
    "  /quit [REASON]   leave",
    "  /help            this list",
    "  //TEXT           send a message that starts with /",
    "anything else you type goes to everyone",
};

static int cmp_nick(const void *a, const void *b)
{
    const member *x = *(member *const *)a, *y = *(member *const *)b;
    int r = ascii_casecmp(x->nick, y->nick);
    return r ? r : strcmp(x->nick, y->nick);
}

static void cmd_who(server *s, member *m)
{
    size_t n = room_count(s->room);
    member **all = xmalloc(n * sizeof *all);
    char line[WHO_LINE + NICK_MAX + 64];
    size_t len = 0;

    for (size_t i = 0; i < n; i++)
        all[i] = room_member(s->room, i);
    qsort(all, n, sizeof *all, cmp_nick);
    for (size_t i = 0; i < n; i++) {
        if (len == 0)
            len = (size_t)snprintf(line, sizeof line, "%zu member%s: %s", n, n == 1 ? "" : "s",
                                   all[i]->nick);
        else
            len += (size_t)snprintf(line + len, sizeof line - len, ", %s", all[i]->nick);
        if (len >= WHO_LINE || i + 1 == n) {
            reply(m, dialect_notice("%s", line));
            len = 0;
        }
    }
    free(all);
}

static void cmd_nick(server *s, member *m, const char *arg, size_t len)
{
    const char *why;
    char nick[NICK_MAX + 1];

    if (len == 0) {
        reply(m, dialect_notice("you are %s", m->nick));
        return;
    }
    if ((why = text_nick_invalid(arg, len)) != NULL) {
        size_t shown = len > 64 ? 64 : len;
        size_t cl = text_clean(arg, shown, s->clean);
        reply(m, dialect_error("invalid nick \"%.*s\": %s", (int)cl, s->clean, why));
        return;
    }
    memcpy(nick, arg, len);
    nick[len] = '\0';
    member *other = room_find(s->room, nick, len);
    if (other && other != m) {
        reply(m, dialect_error("nick \"%s\" is in use", nick));
        return;
    }
    if (strcmp(nick, m->nick) == 0) {
        reply(m, dialect_notice("you are already %s", nick));
        return;
    }
    chunk *ch = dialect_notice("%s is now known as %s", m->nick, nick);
    if (!is_console(s, m))
        logmsg(s, "nick %s %s %s", as_conn(m)->addr, m->nick, nick);
    room_rename(s->room, m, nick);
    broadcast(s, ch, NULL);
}

static void cmd_msg(server *s, member *m, const char *arg, size_t len)
{
    const char *sp = memchr(arg, ' ', len);
    if (!sp) {
        reply(m, dialect_error("usage: /msg NICK TEXT"));
        return;
    }
    size_t nlen = (size_t)(sp - arg);
    const char *text = sp;
    while (text < arg + len && *text == ' ')
        text++;
    size_t tlen = (size_t)(arg + len - text);
    if (tlen == 0) {
        reply(m, dialect_error("usage: /msg NICK TEXT"));
        return;
    }
    member *to = room_find(s->room, arg, nlen);
    if (!to) {
        size_t cl = text_clean(arg, nlen > 64 ? 64 : nlen, s->clean);
        reply(m, dialect_error("no such nick \"%.*s\"", (int)cl, s->clean));
        return;
    }
    size_t cl = text_clean(text, tlen, s->clean);
    reply(to, dialect_private(m->nick, s->clean, cl));
    reply(m, dialect_private_echo(to->nick, s->clean, cl));
}

/* One command line (without its leading '/'). */
static void command(server *s, member *m, const char *line, size_t len)
{
    size_t nl = 0;
    while (nl < len && line[nl] != ' ')
        nl++;
    const char *arg = line + nl;
    size_t alen = len - nl;
    while (alen > 0 && *arg == ' ')
        arg++, alen--;
    while (alen > 0 && arg[alen - 1] == ' ')
        alen--;

#define IS(name) (nl == sizeof(name) - 1 && strncasecmp(line, name, nl) == 0)
    if (IS("nick")) {
        cmd_nick(s, m, arg, alen);
    } else if (IS("msg")) {
        cmd_msg(s, m, arg, alen);
    } else if (IS("me")) {
        if (alen == 0) {
            reply(m, dialect_error("usage: /me ACTION"));
            return;
        }
        size_t cl = text_clean(arg, alen, s->clean);
        broadcast(s, dialect_action(m->nick, s->clean, cl), m);
    } else if (IS("who")) {
        cmd_who(s, m);
    } else if (IS("quit")) {
        conn_quit(s, m, arg, alen);
    } else if (IS("help")) {
        for (size_t i = 0; i < ARRAY_LEN(help_lines); i++)
            reply(m, dialect_notice("%s", help_lines[i]));
    } else {
        size_t cl = text_clean(line, nl > 64 ? 64 : nl, s->clean);
        reply(m, dialect_error("unknown command \"/%.*s\"; type /help for the list", (int)cl,
                               s->clean));
    }
#undef IS
}

/* One complete line from member m (console or connection). */
static void member_line(server *s, member *m, const char *line, size_t len)
{
    if (len == 0)
        return;
    if (line[0] == '/' && !(len > 1 && line[1] == '/')) {
        command(s, m, line + 1, len - 1);
        return;
    }
    if (line[0] == '/')
        line++, len--; /* "//x" is the message "/x" */
    size_t cl = text_clean(line, len, s->clean);
    broadcast(s, dialect_message(m->nick, s->clean, cl), m);
}

static void conn_quit(server *s, member *m, const char *why, size_t len)
{
    if (is_console(s, m)) {
        begin_shutdown(s);
        return;
    }
    conn *c = as_conn(m);
    reply(m, dialect_notice("bye"));
    if (len == 0) {
        conn_close(c, "quit", 1);
        return;
    }
    if (len > QUIT_REASON_MAX)
        len = QUIT_REASON_MAX; /* may cut a character: cleaning shows it as U+FFFD */
    size_t cl = text_clean(why, len, s->clean);
    c->reason_own = xmalloc(cl + 7);
    memcpy(c->reason_own, "quit: ", 6);
    memcpy(c->reason_own + 6, s->clean, cl);
    c->reason_own[6 + cl] = '\0';
    conn_close(c, c->reason_own, 1);
}

/* Takes the lines in data[0..len) (the carried partial line first). */
static void conn_input(conn *c, const char *data, size_t len)
{
    server *s = c->s;
    size_t pos = 0;

    while (pos < len && !(c->flags & (C_CLOSING | C_DEAD | C_LEAVING))) {
        enum frame_kind kind;
        const char *line;
        size_t ll;
        pos += framer_next(&c->fr, data + pos, len - pos, s->opt.max_line, &kind, &line, &ll);
        if (kind == FRAME_MORE)
            break;
        if (kind == FRAME_LINE)
            member_line(s, &c->m, line, ll);
        else
            reply(&c->m,
                  dialect_error("line too long (max %zu bytes); discarded", s->opt.max_line));
    }

    free(c->in);
    c->in = NULL;
    c->inlen = 0;
    if (c->flags & (C_CLOSING | C_DEAD | C_LEAVING))
        return;
    if (pos < len) {
        c->inlen = len - pos;
        c->in = xmalloc(c->inlen);
        memcpy(c->in, data + pos, c->inlen);
        loop_timer_arm(s->l, &c->timer, QUIET_PAUSE_MS);
    } else {
        loop_timer_cancel(s->l, &c->timer);
    }
}

static void conn_timer(loop *l, loop_timer *t)
{
    conn *c = CONTAINER_OF(t, conn, timer);
    (void)l;
    if (c->flags & C_CLOSING) {
        conn_close(c, c->reason, 0); /* linger deadline */
        return;
    }
    if (c->inlen == 0)
        return;
    /* The quiet pause is over: what waits is a line (see protocol.md). */
    char *in = c->in;
    size_t n = frame_partial(in, c->inlen);
    c->in = NULL;
    c->inlen = 0;
    member_line(c->s, &c->m, in, n);
    free(in);
}

static void conn_readable(conn *c)
{
    server *s = c->s;
    ssize_t n;

    if (c->flags & (C_CLOSING | C_LINGER)) {
        /* Draining after our FIN (or a hang-up while flushing). */
        n = read(c->fd, s->scratch, READ_SIZE);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            conn_close(c, c->reason, 0);
        return;
    }
    if (c->inlen)
        memcpy(s->scratch, c->in, c->inlen);
    n = read(c->fd, s->scratch + c->inlen, READ_SIZE);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        conn_close(c, errno == ECONNRESET ? "connection reset" : errno_name(errno), 0);
        return;
    }
    if (n == 0) {
        /* A partial line left at EOF is dropped: the sender may have died
         * mid-line, and half a message must never go out in its name. */
        conn_close(c, "connection closed", 1);
        return;
    }
    conn_input(c, s->scratch, c->inlen + (size_t)n);
}

static void conn_io(loop *l, int fd, void *data, int mask)
{
    conn *c = data;
    (void)l, (void)fd;
    if (mask & LOOP_READ)
        conn_readable(c);
    else if (!(c->flags & C_DEAD))
        conn_flush(c);
}

/* ---- accepting ---- */

static void on_accept(loop *l, int fd, void *data, int mask);

static void accept_resume(loop *l, loop_timer *t)
{
    server *s = CONTAINER_OF(t, server, accept_timer);
    if (!s->stopping)
        loop_set_mask(l, s->lfd, LOOP_READ);
}

static void refuse(server *s, int fd, const char *addr, const char *why)
{
    char line[160];
    int n = snprintf(line, sizeof line, "! %s; try again later\n", why);
    /* Best effort on a fresh socket: its buffer is empty, so this fits. */
    if (write(fd, line, (size_t)n) < 0) {
    }
    close(fd);
    logmsg(s, "refuse %s (%s)", addr, why);
}

static void conn_new(server *s, int fd, const char *addr)
{
    int one = 1;
    conn *c = xcalloc(1, sizeof *c);
    char nick[NICK_MAX + 1];

    /* We coalesce writes ourselves (one writev per pass): Nagle would only
     * add latency. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->s = s;
    c->fd = fd;
    snprintf(c->addr, sizeof c->addr, "%s", addr);
    outq_init(&c->out);
    loop_timer_init(&c->timer, conn_timer);
    c->m.deliver = conn_deliver;
    if (loop_watch(s->l, fd, LOOP_READ, conn_io, c) < 0) {
        logmsg(s, "refuse %s (epoll_ctl: %s)", addr, errno_name(errno));
        close(fd);
        free(c);
        return;
    }
    s->nconns++;
    c->next_all = s->all;
    if (s->all)
        s->all->prev_all = c;
    s->all = c;
    room_guest_nick(s->room, nick);
    broadcast(s, dialect_notice("%s joined", nick), NULL);
    room_join(s->room, &c->m, nick);
    size_t n = room_count(s->room);
    reply(&c->m, dialect_notice("welcome to hichat, %s (%zu member%s here); type /help "
                                "for commands",
                                nick, n, n == 1 ? "" : "s"));
    logmsg(s, "connect %s %s", addr, nick);
}

static void on_accept(loop *l, int lfd, void *data, int mask)
{
    server *s = data;
    char addr[NET_ADDRSTRLEN];
    (void)mask;

    for (int i = 0; i < ACCEPT_BATCH; i++) {
        int fd = net_accept(lfd, addr);
        if (fd < 0) {
            if (errno == EAGAIN)
                return;
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
                continue;
            /* EMFILE, ENFILE, ENOBUFS, ENOMEM: the queue stays full and
             * level-triggered epoll would wake us at once; back off. */
            logmsg(s, "accept: %s (%s); pausing %d ms", errno_name(errno), strerror(errno),
                   ACCEPT_BACKOFF_MS);
            loop_set_mask(l, lfd, 0);
            loop_timer_arm(l, &s->accept_timer, ACCEPT_BACKOFF_MS);
            return;
        }
        if ((long)s->nconns >= s->opt.max_clients) {
            char why[64];
            snprintf(why, sizeof why, "server full (max %ld clients)", s->opt.max_clients);
            refuse(s, fd, addr, why);
            continue;
        }
        conn_new(s, fd, addr);
    }
}

/* ---- console, signals, shutdown ---- */

static void console_line(void *data, const char *line, size_t len)
{
    server *s = data;
    member_line(s, &s->console, line, len);
}

static void console_eof(void *data)
{
    server *s = data;
    /* The room goes on without a console; Ctrl-C stops the server. */
    term_free(s->term);
    s->term = NULL;
}

static void shutdown_deadline(loop *l, loop_timer *t)
{
    (void)t;
    loop_stop(l);
}

static void begin_shutdown(server *s)
{
    if (s->stopping)
        return;
    s->stopping = 1;
    logmsg(s, "shutting down");
    loop_unwatch(s->l, s->lfd);
    close(s->lfd);
    s->lfd = -1;
    loop_timer_cancel(s->l, &s->accept_timer);
    broadcast(s, dialect_notice("server shutting down"), NULL);
    for (size_t i = 0; i < room_count(s->room); i++) {
        member *m = room_member(s->room, i);
        if (!is_console(s, m))
            conn_close(as_conn(m), "server shutting down", 1);
    }
    loop_timer_arm(s->l, &s->shutdown_timer, SHUTDOWN_FLUSH_MS);
}

static void on_signal(loop *l, int fd, void *data, int mask)
{
    server *s = data;
    struct signalfd_siginfo si;
    (void)mask;
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (s->stopping) {
            loop_stop(l); /* a second signal: do not wait for flushing */
            return;
        }
        begin_shutdown(s);
    }
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

int server_run(const server_opts *opt)
{
    server sv, *s = &sv;
    char err[NET_ERRLEN], where[NET_ADDRSTRLEN];
    sigset_t mask;
    int status = 1;

    memset(s, 0, sizeof *s);
    s->opt = *opt;
    s->lfd = s->sfd = -1;

    long limit = default_max_clients();
    if (s->opt.max_clients == 0) {
        s->opt.max_clients = limit;
    } else if (s->opt.max_clients > limit) {
        fprintf(stderr,
                "hichat: --max-clients %ld is above what the descriptor limit "
                "allows; using %ld (raise ulimit -n for more)\n",
                s->opt.max_clients, limit);
        s->opt.max_clients = limit;
    }

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, NULL);

    s->l = loop_new();
    if (!s->l) {
        fprintf(stderr, "hichat: epoll_create1: %s (%s)\n", errno_name(errno), strerror(errno));
        return 1;
    }
    s->lfd = net_listen_tcp(opt->bind, opt->port, LISTEN_BACKLOG, err, sizeof err);
    if (s->lfd < 0) {
        fprintf(stderr, "hichat: %s\n", err);
        goto out;
    }
    s->sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (s->sfd < 0 || loop_watch(s->l, s->sfd, LOOP_READ, on_signal, s) < 0 ||
        loop_watch(s->l, s->lfd, LOOP_READ, on_accept, s) < 0) {
        fprintf(stderr, "hichat: cannot watch signals or the listener: %s (%s)\n",
                errno_name(errno), strerror(errno));
        goto out;
    }
    s->room = room_new();
    s->scratch = xmalloc(READ_SIZE + s->opt.max_line + 2);
    s->clean = xmalloc(TEXT_CLEAN_MAX(s->opt.max_line + 2));
    loop_timer_init(&s->accept_timer, accept_resume);
    loop_timer_init(&s->shutdown_timer, shutdown_deadline);
    loop_before_sleep(s->l, before_sleep, s);

    s->log_o = out_new(s->l, STDERR_FILENO, CONSOLE_QUEUE);
    s->stdout_o = out_new(s->l, STDOUT_FILENO, CONSOLE_QUEUE);
    s->console.deliver = console_deliver;
    room_join(s->room, &s->console, opt->nick);
    if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
        char prompt[NICK_MAX + 4];
        snprintf(prompt, sizeof prompt, "%s> ", opt->nick);
        s->term = term_new(s->l, STDIN_FILENO, s->stdout_o, prompt, console_line, console_eof, s);
    }

    net_local_str(s->lfd, where, sizeof where);
    logmsg(s, "listening on %s", where);
    if (loop_run(s->l) < 0) {
        fprintf(stderr, "hichat: epoll_wait: %s (%s)\n", errno_name(errno), strerror(errno));
        goto out;
    }
    status = 0;

out:
    if (s->room) {
        /* Whatever is still connected after the deadline is dropped. */
        for (conn *c = s->all; c; c = c->next_all)
            conn_close(c, "server shutting down", 0);
        announce_leaves(s);
        while (s->dead) {
            conn *c = s->dead;
            s->dead = c->next_dead;
            conn_free(c);
        }
    }
    term_free(s->term);
    if (s->log_o && s->stopping)
        logmsg(s, "stopped");
    if (s->stdout_o) {
        out_flush(s->stdout_o, 500);
        out_free(s->stdout_o);
    }
    if (s->log_o) {
        out_flush(s->log_o, 500);
        out_free(s->log_o);
    }
    if (s->lfd >= 0)
        close(s->lfd);
    if (s->sfd >= 0)
        close(s->sfd);
    room_free(s->room);
    free(s->scratch);
    free(s->clean);
    loop_free(s->l);
    return status;
}
