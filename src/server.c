/* server.c - hichat serve.
 *
 * Data flows one way: bytes in (read into one scratch buffer per loop) ->
 * lines (frame.c) -> commands and messages -> one chunk per event (dialect) ->
 * a reference queued for every recipient (room.c, outq.c) -> one writev per
 * connection per loop pass (before_sleep). Closing is deferred: a connection
 * is only marked while the room may be iterating, and is left and freed in
 * before_sleep, so no callback ever sees a member vanish under it.
 *
 * Every limit a peer can push against is here, each with its reason for
 * the log and the room: queue bound (slow readers), flood control (a token
 * bucket that holds input back, then disconnects), a deadline to finish a
 * line (slowloris), per-IP and total connection caps checked before any
 * per-client memory, TCP keepalive and TCP_USER_TIMEOUT for dead peers, and
 * a first look at the bytes for peers speaking the wrong protocol.
 *
 * A connection may pass a gate before it joins the room: the TLS handshake
 * (on the TCP listener of a TLS server) and the password. Until then it
 * has no nick, the room does not see it, and it has a deadline. Address
 * lists and the wrong-password lockout are checked before anything is
 * allocated for it. */
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

#include "access.h"
#include "chat.h"
#include "dialect.h"
#include "frame.h"
#include "ipcount.h"
#include "net.h"
#include "out.h"
#include "outq.h"
#include "ratelimit.h"
#include "term.h"
#include "text.h"
#include "tls.h"
#include "trace.h"
#include "transport.h"
#include "util.h"
#include "wording.h"

/* Bytes taken from a socket per read; one read per readiness keeps the loop
 * fair between busy and quiet clients. */
#define READ_SIZE 65536
/* What one loop pass may add to each member's queue, so that a pass never
 * reads more than it can write: at most PASS_BYTES, at most a quarter of
 * --max-queue, and at most PASS_FANOUT bytes queued across the room. Input
 * beyond it waits for the next pass, taken in the order it was put off. */
#define PASS_BYTES  (256 * 1024)
#define PASS_FANOUT (32u * 1024 * 1024)
/* A member over --max-queue loses its seat when its socket has taken
 * nothing for STALL_MS, or when it has been over for BEHIND_MS (it reads,
 * but slower than the room talks), if a last write then cannot bring it
 * back under. Meanwhile the room takes no input, so a member that reads as
 * fast as it can catches up instead of being cut off by a burst, and no
 * queue grows past its bound by more than one pass. */
#define STALL_MS  500
#define BEHIND_MS 2000
/* A partial line waits this long for its LF before it counts as a line. */
#define QUIET_PAUSE_MS 300
/* A closing connection gets this long to take its last output. */
#define CLOSE_LINGER_MS 2000
/* After SIGINT/SIGTERM, queued output is flushed for at most this long. */
#define SHUTDOWN_FLUSH_MS 2000
/* Connections accepted per readiness event, so a connect storm cannot
 * starve the clients already here. */
#define ACCEPT_BATCH 256
/* After EMFILE/ENFILE with nothing left to shed, accepting pauses this long
 * instead of spinning on a listener that stays readable. */
#define ACCEPT_BACKOFF_MS 100
#define LISTEN_BACKLOG    4096
#define MAX_LISTENERS     2
/* Console (stdout) and log (stderr) output queued before lines are dropped. */
#define CONSOLE_QUEUE (1024 * 1024)
/* A new connection is announced to the room after this quiet time, or at its
 * first line: a probe (hichat hello), a port scan or a browser that leaves
 * at once never makes the room say "joined" and "left". */
#define JOIN_QUIET_MS 150
/* Refusals are logged at most this many a second; the rest are counted in
 * one line when the second is over (and in /stats): a flood of refused
 * connections must not become a flood of log lines. */
#define REFUSE_LOG_PER_S 10
/* Free heap beyond this is handed back to the system a second after a burst. */
#define TIDY_KEEP (1024 * 1024)
#define TIDY_MS   1000
/* A /quit reason is cut to this many bytes. */
#define QUIT_REASON_MAX 160
/* /stats lists at most this many connections. */
#define STATS_CONNS_MAX 100
/* Sniffing the first bytes of a connection: at least this many, of which
 * more than BINARY_PERCENT are not text, make it binary junk. */
#define SNIFF_MIN      16
#define SNIFF_MAX      512
#define BINARY_PERCENT 30
/* Keepalive probes: interval (at most) and count after the idle time. */
#define KEEPALIVE_INTVL 10
#define KEEPALIVE_CNT   3
/* The gate: a TLS handshake must be done within HANDSHAKE_MS, a password
 * sent within LOGIN_MS; a wrong one holds the connection's input for
 * AUTH_DELAY_MS, and the AUTH_TRIES-th wrong one on a connection ends it. */
#define HANDSHAKE_MS  10000
#define LOGIN_MS      60000
#define AUTH_DELAY_MS 1000
#define AUTH_TRIES    3

enum {
    C_CLOSING = 1u << 0,   /* left the room, flushing its last output */
    C_LINGER = 1u << 1,    /* output flushed and write side shut; draining */
    C_DEAD = 1u << 2,      /* to be freed at the end of this pass */
    C_PENDING = 1u << 3,   /* on the list of queues to write this pass */
    C_LEAVING = 1u << 4,   /* on the list of leaves to announce */
    C_THROTTLED = 1u << 5, /* flood control holds its input back */
    C_SPOKE = 1u << 6,     /* has sent a first line (protocol sniffing done) */
    C_ANNOUNCED = 1u << 7, /* its join is settled: told, or not in a crowd */
    C_HANDSHAKE = 1u << 9, /* at the gate: TLS handshake under way */
    C_AUTH = 1u << 10,     /* at the gate: waiting for the password */
    C_JOINED = 1u << 11,   /* in the room (past the gate) */
    C_PARKED = 1u << 12,   /* input put off until the room takes more */
    C_OVER = 1u << 13,     /* its queue is over --max-queue (counted in nover) */
};
#define C_GATE (C_HANDSHAKE | C_AUTH)
/* Not reading: flood control or the room holds its input (kept in c->in). */
#define C_HELD (C_THROTTLED | C_PARKED)

/* Why a member left: the text the room sees and the key /stats counts by. */
enum reason {
    R_QUIT,
    R_CLOSED,
    R_RESET,
    R_TIMEOUT,
    R_QUEUE_FULL,
    R_FLOOD,
    R_LINE_TIMEOUT,
    R_HTTP,
    R_TLS,
    R_BINARY,
    R_SHUTDOWN,
    R_ERROR,
    R_HANDSHAKE,
    R_NOT_TLS,
    R_AUTH,
    R_LOGIN_TIMEOUT,
    R_COUNT
};

static const struct {
    const char *text, *key;
} reasons[R_COUNT] = {
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

/* Why a connection was refused before it joined. */
enum refusal { F_FULL, F_PER_IP, F_BUSY, F_DENIED, F_LOCKED, F_COUNT };
static const char *const refusal_key[F_COUNT] = {"full", "per_ip", "busy", "denied", "locked"};

typedef struct conn {
    member m; /* first: the room hands back member pointers */
    server *s;
    transport tp; /* its socket, plaintext or TLS */
    unsigned flags;
    framer fr;
    char *in; /* input carried to the next read or held back; owned */
    size_t inlen;
    outq out;
    loop_timer timer;       /* the next of: quiet pause, line deadline,
                               flood release; the close deadline after */
    uint64_t last_byte_ms;  /* when input last arrived */
    uint64_t line_start_ms; /* when the unfinished line began, or 0 */
    uint64_t throttled_ms;  /* when flood control began holding, or 0 */
    bucket flood;           /* flood control */
    uint64_t join_due_ms;                             /* when to announce the join, if not yet */
    uint64_t bytes_in, bytes_out, lines_in, msgs_out; /* for /stats */
    enum reason why;
    char *why_text; /* "quit: REASON", or NULL; owned */
    ipkey ip;
    int inet; /* a TCP peer (not Unix): per-address limits apply */
    uint64_t gate_due;  /* the deadline of the handshake or the password */
    uint64_t hold_until; /* input held back until then (after a wrong password) */
    uint64_t over_ms;     /* when its queue went over --max-queue (C_OVER) */
    uint64_t progress_ms; /* when its socket last took bytes, or its queue
                             last filled from empty: since then it is behind */
    unsigned auth_fails;
    char want_nick[NICK_MAX + 1]; /* asked for (/nick) before the password */
    struct conn *next_pending, *next_leave, *next_dead;
    fifo_link parked; /* on s->parked (C_PARKED) */
    fifo_link link; /* on s->conns */
    char addr[NET_ADDRSTRLEN];
} conn;

typedef struct udp_peer {
    member m; /* first; in the room once verified */
    struct server *s;
    struct sockaddr_storage addr;
    socklen_t alen;
    ipkey ip;
    int verified, announced;        /* as C_JOINED, C_ANNOUNCED */
    uint64_t credit;                /* bytes a candidate may still be sent */
    fifo_link cand;                 /* on s->cand while a candidate */
    char want_nick[NICK_MAX + 1];   /* asked for (/nick) before joining */
    bucket flood;
    uint64_t bytes_in, bytes_out, lines_in, msgs_out;
    loop_timer idle;
    struct udp_peer *hnext;
    char addr_text[NET_ADDRSTRLEN];
} udp_peer;

static udp_peer *as_udp(member *m)
{
    return CONTAINER_OF(m, udp_peer, m);
}

struct server {
    server_opts opt;
    rate_rule flood; /* --msg-rate, --msg-burst */
    loop *l;
    chat *chat;
    ipcount *ips;
    int lfd[MAX_LISTENERS]; /* stream listeners: TCP, Unix */
    int nlfd;
    char *unix_path; /* the socket file we made, removed at the end */
    int sfd, spare_fd;
    char *scratch; /* READ_SIZE + max_line + 2 bytes */
    char *clean;   /* TEXT_CLEAN_MAX(max_line + 2) bytes */
    conn *pending, *leaving, *dead;
    fifo parked;        /* connections whose input is put off, oldest first */
    fifo conns;    /* every connection, closing ones too (descriptors held) */
    size_t nover;       /* members over --max-queue: the rooms take no input */
    int udp_parked;     /* the UDP socket is not read until the room takes more */
    loop_timer resume_timer; /* takes put-off input in the next pass */
    size_t nopen;  /* connections in the room: what --max-clients counts */
    member console;
    SSL_CTX *tls;          /* the TCP listener's TLS, or NULL */
    int lfd_tls[MAX_LISTENERS];
    char *password;        /* owned, or NULL */
    size_t passlen;
    authlimit *fails;      /* wrong passwords per address */
    out *stdout_o, *log_o;
    term *term;
    int stopping;
    loop_timer accept_timer, shutdown_timer;
    loop_timer tidy_timer;        /* hands freed memory back after activity */
    loop_timer refuse_timer;      /* ends a second of refusal logging */
    unsigned refuse_logged;       /* refusals logged in this second */
    unsigned long refuse_quiet;   /* ... and not logged */
    unsigned long long tidy_mark; /* activity count at the last tidy */
    unsigned long console_dropped;
    int ufd;              /* the UDP socket, or -1 */
    struct udp_peer **ub; /* UDP peers by address: a chained hash */
    size_t nub, nudp;
    fifo cand; /* UDP candidates (unproven), oldest first */
    unsigned char udp_key[32]; /* keys the /join tokens (HMAC-SHA256) */
    uint64_t udp_seed;         /* seeds the peer table's hash */
    char *dgram;               /* one datagram: udp_cap bytes */
    struct {
        uint64_t accepted, lines_in, deliveries, bytes_in, bytes_out;
        size_t peak;
        uint64_t left[R_COUNT], refused[F_COUNT];
        uint64_t udp_dropped, udp_truncated;
    } st;
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

/* What owns a member (member.kind). */
enum { M_CONSOLE, M_CONN, M_UDP };

static conn *as_conn(member *m)
{
    return CONTAINER_OF(m, conn, m);
}

static int is_console(server *s, member *m)
{
    (void)s;
    return m->kind == M_CONSOLE;
}


static int is_open(const conn *c)
{
    return !(c->flags & (C_CLOSING | C_DEAD | C_LEAVING));
}

/* ---- output ---- */

static void conn_close(conn *c, enum reason why, int graceful);
static void conn_rearm(conn *c);
static void who_next(conn *c);
static int take_token(conn *c);
static void conn_io(loop *l, int fd, void *data, int mask);
static void conn_readable(conn *c);
static void conn_read(conn *c);
static int conn_release(conn *c);
static int tls_waiting(const conn *c);
static void park(conn *c);
static int conn_ended(conn *c);
static void udp_announce(member *m);
static int conn_takes(conn *c);

/* Watches c's socket for mask, or not at all when mask is 0: a socket that
 * is not watched cannot report a hang-up over and over while we are not
 * reading it (held back by flood control, or closing). */
static void conn_interest(conn *c, int mask)
{
    loop *l = c->s->l;
    mask |= c->tp.rwant | c->tp.wwant; /* TLS waiting on the other direction */
    if (mask == 0)
        loop_unwatch(l, c->tp.fd);
    else if (loop_mask(l, c->tp.fd) < 0)
        loop_watch(l, c->tp.fd, mask, conn_io, c);
    else
        loop_set_mask(l, c->tp.fd, mask);
}

static void mark_pending(conn *c)
{
    if (c->flags & (C_PENDING | C_DEAD))
        return;
    c->flags |= C_PENDING;
    c->next_pending = c->s->pending;
    c->s->pending = c;
}

static int conn_unsent(const conn *c)
{
    return c->out.count > 0 || transport_unsent(&c->tp);
}

/* Counts c in nover while its queue costs more than --max-queue. Being over
 * is no fault by itself (one pass may queue a burst that a fast reader takes
 * at once); staying behind too long is (behind_due, conn_timer). A member
 * leaving no longer counts: nobody waits for its last words. */
static void conn_weigh(conn *c)
{
    server *s = c->s;
    int over = is_open(c) && outq_cost(&c->out) > s->opt.max_queue;
    if (over == ((c->flags & C_OVER) != 0))
        return;
    if (over) {
        c->flags |= C_OVER;
        c->over_ms = loop_now(s->l);
        s->nover++;
        conn_rearm(c);
    } else {
        c->flags &= ~(unsigned)C_OVER;
        s->nover--;
    }
}

/* When c, over its bound, has been behind too long (see STALL_MS). */
static uint64_t behind_due(const conn *c)
{
    uint64_t stalled = c->progress_ms + STALL_MS, slow = c->over_ms + BEHIND_MS;
    return stalled < slow ? stalled : slow;
}

static void conn_deliver(member *m, chunk *ch)
{
    conn *c = as_conn(m);
    if (!is_open(c))
        return; /* leaving: its last words are queued, nothing follows them */
    if (!conn_unsent(c))
        c->progress_ms = loop_now(c->s->l); /* nothing was waiting for it */
    outq_push(&c->out, ch);
    c->s->st.deliveries++;
    c->msgs_out++;
    mark_pending(c);
    conn_weigh(c);
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
    m->ops->deliver(m, ch);
    chunk_unref(ch);
}

/* Whether the rooms take input now: nobody is over its bound and this pass
 * has not queued its share across the server yet. */
static int room_open(const server *s)
{
    return s->nover == 0 && chat_fanout(s->chat) < PASS_FANOUT;
}

/* What one pass may add to the queue of each member of a room of n. */
static size_t pass_budget(const server *s, size_t n)
{
    size_t budget = PASS_FANOUT / (n ? n : 1);
    if (budget > s->opt.max_queue / 4)
        budget = s->opt.max_queue / 4;
    if (budget > PASS_BYTES)
        budget = PASS_BYTES;
    return budget ? budget : 1;
}

/* Whether c's next line may be taken now: the rooms are open and c's
 * current room has not had its share of this pass. */
static int conn_takes(conn *c)
{
    size_t n;
    server *s = c->s;
    if (!room_open(s))
        return 0;
    if (!(c->flags & C_JOINED))
        return 1;
    return chat_room_load(s->chat, &c->m, &n) < pass_budget(s, n);
}

static enum reason errno_reason(int e)
{
    switch (e) {
    case EPIPE:
    case ECONNRESET: return R_RESET;
    case ETIMEDOUT:
    case EHOSTUNREACH:
    case ENETUNREACH: return R_TIMEOUT;
    default: return R_ERROR;
    }
}


/* Writes c's queue once. */
static void conn_flush(conn *c)
{
    server *s = c->s;
    ssize_t n = transport_send(&c->tp, &c->out);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
        conn_close(c, errno_reason(errno), 0);
        return;
    }
    if (n > 0) {
        s->st.bytes_out += (uint64_t)n;
        c->bytes_out += (uint64_t)n;
        c->progress_ms = loop_now(s->l);
    }
    conn_weigh(c);
    int rmask = (c->flags & (C_CLOSING | C_HELD)) ? 0 : LOOP_READ;
    if (conn_unsent(c)) {
        /* (A TLS write waiting to read waits on readability alone.) */
        conn_interest(c, rmask | (c->tp.wwant ? 0 : LOOP_WRITE));
        return;
    }
    if (c->flags & C_CLOSING) {
        /* All said: send FIN, then read until the peer's FIN so that
         * unread input cannot turn our close into a reset that loses what
         * we just wrote. When the server is stopping and nothing is unread,
         * a close sends no reset: no need to wait for the peer. */
        int unread = 0;
        transport_shutdown(&c->tp);
        if (s->stopping && trace_ioctl_int(c->tp.fd, FIONREAD, &unread) == 0 && unread == 0) {
            conn_close(c, c->why, 0);
            return;
        }
        c->flags |= C_LINGER;
        conn_interest(c, LOOP_READ);
        return;
    }
    conn_interest(c, rmask);
    who_next(c); /* it has read the last page */
}

/* ---- closing ---- */

static void unpark(conn *c);

static void conn_free(conn *c)
{
    server *s = c->s;
    unpark(c);
    loop_timer_cancel(s->l, &c->timer);
    loop_unwatch(s->l, c->tp.fd);
    trace_close(c->tp.fd);
    ipcount_del(s->ips, &c->ip);
    outq_clear(&c->out);
    transport_free(&c->tp);
    free(c->in);
    free(c->why_text);
    free(c->m.who); /* (chat_leave frees it; not for one turned back at the gate) */
    fifo_remove(&s->conns, &c->link);
    free(c);
}

/* Marks c to leave the room for reason why. graceful: flush what is queued
 * first; else drop the connection at the end of this pass. */
static void conn_close(conn *c, enum reason why, int graceful)
{
    server *s = c->s;
    if (c->flags & C_DEAD)
        return;
    /* Closing ends the gate too: a handshake or a login must not go on
     * (and let it join) while its last words are flushed. */
    c->flags &= ~(unsigned)C_GATE;
    if (!(c->flags & (C_CLOSING | C_LEAVING))) {
        c->why = why;
        c->flags |= C_LEAVING;
        c->next_leave = s->leaving;
        s->leaving = c;
    }
    unpark(c);
    conn_weigh(c);
    if (graceful && !(c->flags & C_CLOSING)) {
        c->flags |= C_CLOSING;
        free(c->in);
        c->in = NULL;
        c->inlen = 0;
        loop_timer_arm(s->l, &c->timer, CLOSE_LINGER_MS);
        conn_interest(c, 0);
        mark_pending(c);
        return;
    }
    if (!graceful) {
        /* Nothing more from it, not even a partial line due in this pass. */
        c->flags |= C_DEAD;
        loop_timer_cancel(s->l, &c->timer);
        free(c->in);
        c->in = NULL;
        c->inlen = 0;
        loop_unwatch(s->l, c->tp.fd);
        c->next_dead = s->dead;
        s->dead = c;
    }
}

static const char *why_text(const conn *c)
{
    return c->why_text ? c->why_text : reasons[c->why].text;
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
            logmsg(s, "disconnect %s - (%s)", c->addr, why_text(c));
            continue;
        }
        logmsg(s, "disconnect %s %s (%s)", c->addr, c->m.nick, why_text(c));
        chat_leave(s->chat, &c->m, why_text(c), strlen(why_text(c)));
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
    if ((s->parked.head || s->udp_parked) && room_open(s) && !loop_timer_armed(&s->resume_timer))
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
    while (s->parked.head && room_open(s)) {
        fifo_link *k = s->parked.head;
        conn *c = CONTAINER_OF(k, conn, parked);
        /* Its turn: what waits in the kernel (or inside OpenSSL) is read
         * now too, or a connection put off before reading never would. */
        if (conn_release(c)) {
            if (conn_takes(c))
                conn_read(c);
            else if (tls_waiting(c))
                park(c); /* no event will come for it: wait in line */
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
                 s->nudp - s->cand.count, s->cand.count,
                 (unsigned long long)s->st.udp_dropped, (unsigned long long)s->st.udp_truncated);
}

/* ---- lines and commands ---- */

static void announce_join(conn *c);

/* /who for a connection: a crowd's list is not made at once. It gets a
 * page, then the next each time it has read the last (who_next), each page
 * paid for like a line, so a big room's list neither stalls the loop nor
 * fills the asker's queue. */
static void conn_who(member *m)
{
    conn *c = as_conn(m);
    chat_who_more(c->s->chat, m);
}

/* The next page of c's /who once it has read the last one, if its flood
 * control has a line to spare; else its timer comes back for it. */
static void who_next(conn *c)
{
    if (!c->m.who || !is_open(c) || conn_unsent(c))
        return;
    if (!take_token(c)) {
        conn_rearm(c);
        return;
    }
    chat_who_more(c->s->chat, &c->m);
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
    reply(m, dialect_notice("stats %s rooms=%zu", line, chat_rooms(s->chat)));
    /* Then each connection, as ss -tie and lsof -i would show it. */
    size_t shown = 0;
    for (fifo_link *k = s->conns.head; k; k = k->next) {
        conn *c = CONTAINER_OF(k, conn, link);
        if (shown++ == STATS_CONNS_MAX) {
            reply(m, dialect_notice("stats ... and %zu more connections",
                                    s->conns.count - STATS_CONNS_MAX));
            break;
        }
        net_sock_info(c->tp.fd, line, sizeof line);
        const char *who = (c->flags & C_JOINED)  ? c->m.nick
                          : (c->flags & C_AUTH) ? "(login)"
                                                : "(handshake)";
        reply(m, dialect_notice("conn %s %s%s in=%lluB/%llu out=%lluB/%llu rooms=%zu", who, line,
                                c->tp.ssl ? " tls=1" : "", (unsigned long long)c->bytes_in,
                                (unsigned long long)c->lines_in, (unsigned long long)c->bytes_out,
                                (unsigned long long)c->msgs_out, c->m.nrooms));
    }
    for (size_t i = 0; i < chat_members(s->chat) && shown <= STATS_CONNS_MAX; i++) {
        member *u = chat_member(s->chat, i);
        if (u->kind != M_UDP)
            continue;
        shown++;
        udp_peer *p = as_udp(u);
        reply(m, dialect_notice("udp %s peer=%s verified=%d in=%lluB/%llu out=%lluB/%llu rooms=%zu",
                                u->nick, p->addr_text + 4, p->verified,
                                (unsigned long long)p->bytes_in, (unsigned long long)p->lines_in,
                                (unsigned long long)p->bytes_out, (unsigned long long)p->msgs_out,
                                u->nrooms));
    }
}

static void server_log(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void server_log(void *ctx, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n >= 0)
        logmsg(ctx, "%s", line);
}

/* One complete line from member m (console, connection or UDP peer). */
static void member_line(server *s, member *m, const char *line, size_t len)
{
    if (len == 0)
        return;
    s->st.lines_in++;
    if (m->kind == M_CONN) {
        conn *c = as_conn(m);
        c->lines_in++;
        if (!(len == 6 && strncasecmp(line, "/hello", 6) == 0))
            announce_join(c); /* before anything it says reaches the room */
    } else if (m->kind == M_UDP) {
        udp_announce(m);
    }
    chat_input(s->chat, m, line, len);
}

/* "quit" or "quit: REASON" (cleaned, cut) into c->why_text. */
static void set_quit_reason(conn *c, const char *why, size_t len)
{
    server *s = c->s;
    if (len == 0)
        return;
    if (len > QUIT_REASON_MAX)
        len = QUIT_REASON_MAX; /* may cut a character: cleaning shows U+FFFD */
    size_t cl = text_clean(why, len, s->clean);
    free(c->why_text);
    c->why_text = xmalloc(cl + 7);
    memcpy(c->why_text, "quit: ", 6);
    memcpy(c->why_text + 6, s->clean, cl);
    c->why_text[6 + cl] = '\0';
}

static void conn_quit(member *m, const char *why, size_t len)
{
    conn *c = as_conn(m);
    chat_event bye = {.kind = EV_NOTICE, .code = N_BYE};
    chat_tell(c->s->chat, m, &bye);
    set_quit_reason(c, why, len);
    conn_close(c, R_QUIT, 1);
}

static void console_quit(member *m, const char *why, size_t len)
{
    server *s = CONTAINER_OF(m, server, console);
    (void)why, (void)len;
    server_shutdown(s);
}

static const char *conn_addr(const member *m)
{
    return CONTAINER_OF(m, conn, m)->addr;
}

static const member_ops conn_ops = {
    .deliver = conn_deliver,
    .quit = conn_quit,
    .who = conn_who,
    .addr = conn_addr,
};

static const member_ops console_ops = {
    .deliver = console_deliver,
    .quit = console_quit,
};

/* An HTTP request line: "METHOD TARGET HTTP/d.d". */
static int is_http_request(const char *line, size_t len)
{
    size_t i = 0;
    while (i < len && line[i] >= 'A' && line[i] <= 'Z')
        i++;
    if (i == 0 || i >= len || line[i] != ' ')
        return 0;
    const char *sp = memchr(line + i + 1, ' ', len - i - 1);
    if (!sp)
        return 0;
    size_t rest = len - (size_t)(sp + 1 - line);
    return rest == 8 && memcmp(sp + 1, "HTTP/", 5) == 0;
}

/* The first line of a connection: a browser or curl gets an HTTP answer it
 * can show instead of chat noise. Returns 1 if the line was taken. */
static int sniff_first_line(conn *c, const char *line, size_t len)
{
    c->flags |= C_SPOKE;
    if (!is_http_request(line, len))
        return 0;
    static const char answer[] =
        "HTTP/1.0 400 Bad Request\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Connection: close\r\n"
        "\r\n"
        "This is a hichat chat server. It speaks lines of text, not HTTP:\r\n"
        "connect with `hichat connect HOST:PORT` or `nc HOST PORT`.\r\n";
    chunk *ch = chunk_new(answer, sizeof answer - 1);
    reply(&c->m, ch);
    conn_close(c, R_HTTP, 1);
    return 1;
}

/* The first bytes of a connection: a TLS ClientHello or binary junk is not a
 * chat client. Returns 1 if the connection was closed for it. */
static int sniff_first_bytes(conn *c, const unsigned char *p, size_t n)
{
    if (n >= 3 && p[0] == 0x16 && p[1] == 0x03 && p[2] <= 0x04) {
        conn_close(c, R_TLS, 0); /* it cannot read a text reply anyway */
        return 1;
    }
    size_t look = n < SNIFF_MAX ? n : SNIFF_MAX, bad = 0;
    if (look < SNIFF_MIN)
        return 0;
    for (size_t i = 0; i < look;) {
        uint32_t cp;
        int k = utf8_decode(p + i, look - i, &cp);
        if (k < 0) {
            if (look - i >= 4)
                bad++; /* a sequence cut by the window is not counted */
            i++;
            continue;
        }
        if (cp < 0x20 && cp != '\t' && cp != '\r' && cp != '\n')
            bad++;
        i += (size_t)k;
    }
    if (bad * 100 <= look * BINARY_PERCENT)
        return 0;
    reply(&c->m, dialect_error("this port speaks UTF-8 text lines; closing"));
    conn_close(c, R_BINARY, 1);
    return 1;
}

/* ---- flood control and timing ---- */

/* Takes one line's worth from c's flood bucket; 0 if it is empty. */
static int take_token(conn *c)
{
    return bucket_take(&c->flood, &c->s->flood, loop_now(c->s->l));
}

/* When c's flood bucket next has a whole line (0: now). */
static uint64_t token_due(const conn *c)
{
    return bucket_due(&c->flood, &c->s->flood);
}

/* Arms c's one timer for the earliest thing it waits for. */
static void conn_rearm(conn *c)
{
    server *s = c->s;
    uint64_t next = UINT64_MAX;

    if (c->flags & C_CLOSING)
        return; /* the close deadline is armed */
    if (c->flags & C_GATE)
        next = c->gate_due;
    else if (!(c->flags & C_ANNOUNCED))
        next = c->join_due_ms;
    if (c->flags & C_THROTTLED) {
        /* Held back: until a token is due, and not before the hold ends. */
        uint64_t at = c->hold_until, due = token_due(c);
        if (due > at)
            at = due;
        if (at < next)
            next = at;
    } else if (!(c->flags & C_PARKED)) {
        if (c->inlen > 0 && !c->fr.discarding && c->last_byte_ms + QUIET_PAUSE_MS < next)
            next = c->last_byte_ms + QUIET_PAUSE_MS;
        if (c->line_start_ms && s->opt.line_timeout > 0) {
            uint64_t dl = c->line_start_ms + (uint64_t)s->opt.line_timeout * 1000;
            if (dl < next)
                next = dl;
        }
    }
    if ((c->flags & C_OVER) && behind_due(c) < next)
        next = behind_due(c);
    if (c->m.who && !conn_unsent(c) && token_due(c) < next)
        next = token_due(c); /* the next page of /who */
    if (next == UINT64_MAX)
        loop_timer_cancel(s->l, &c->timer);
    else
        loop_timer_arm_at(s->l, &c->timer, next);
}

/* Tells the room c joined (once). */
static void announce_join(conn *c)
{
    if (c->flags & C_ANNOUNCED)
        return;
    c->flags |= C_ANNOUNCED;
    chat_announce(c->s->chat, &c->m);
}

/* Whether c's input waits out a wrong password's delay. */
static int held(const conn *c)
{
    return c->hold_until > loop_now(c->s->l);
}

/* Stops taking c's input (kept in c->in) until conn_timer releases it. */
static void hold(conn *c)
{
    c->flags |= C_THROTTLED;
    conn_interest(c, conn_unsent(c) ? LOOP_WRITE : 0);
}

/* Puts off c's input (kept in c->in, the rest in the kernel) until the room
 * takes more; resume() takes it up again in the order it was put off. */
static void park(conn *c)
{
    server *s = c->s;
    if (c->flags & C_PARKED)
        return;
    c->flags |= C_PARKED;
    c->line_start_ms = 0; /* waiting on us, not on the peer */
    c->throttled_ms = 0;  /* nor is it flooding while it waits */
    fifo_push(&s->parked, &c->parked);
    conn_interest(c, conn_unsent(c) ? LOOP_WRITE : 0);
}

static void unpark(conn *c)
{
    server *s = c->s;
    if (!(c->flags & C_PARKED))
        return;
    c->flags &= ~(unsigned)C_PARKED;
    fifo_remove(&s->parked, &c->parked);
}

/* c has been behind too long (behind_due) and its socket takes no more: it
 * loses its seat. Its backlog is let go (but the rest of a line begun), so
 * that the one line saying why is next in its stream. */
static void fell_behind(conn *c)
{
    server *s = c->s;
    outq_trim(&c->out);
    chunk *ch = dialect_error("you fell too far behind: over %zu bytes unread; disconnecting",
                              s->opt.max_queue);
    outq_push(&c->out, ch);
    chunk_unref(ch);
    conn_close(c, R_QUEUE_FULL, 1);
}

/* c's stream failed with err; a TLS failure (EPROTO) is logged with
 * OpenSSL's reason, which errno cannot carry. */
static void conn_broke(conn *c, int err)
{
    if (err == EPROTO)
        logmsg(c->s, "tls %s: %s", c->addr, tls_error());
    conn_close(c, errno_reason(err), 0);
}

/* A plaintext client on the TLS port: told in plaintext, and closed. */
static void not_tls(conn *c)
{
    reply(&c->m, dialect_error("this port speaks TLS: hichat connect --tls, ncat --ssl or "
                               "openssl s_client"));
    conn_close(c, R_NOT_TLS, 1);
}

/* Flood control found c's bucket empty with lines waiting: stop reading
 * (the kernel buffers the rest, then the sender blocks) until the next
 * token, and cut a client that keeps this up. */
static void throttle(conn *c)
{
    server *s = c->s;
    uint64_t now = loop_now(s->l);
    if (!c->throttled_ms) {
        c->throttled_ms = now;
        reply(&c->m, dialect_error("slow down: more than %ld lines a second; "
                                   "your lines are held back",
                                   s->opt.msg_rate));
    } else if (now - c->throttled_ms > (uint64_t)s->opt.flood_timeout * 1000) {
        /* Held back this long without a break: flooding, not pasting. */
        reply(&c->m,
              dialect_error("flooding: held back for %ld s; disconnecting", s->opt.flood_timeout));
        conn_close(c, R_FLOOD, 1);
        return;
    }
    hold(c);
}

/* ---- the gate: TLS handshake, then the password ---- */

/* Joins the room: past the gate, or at once on an open server. */
static void conn_enter(conn *c)
{
    server *s = c->s;
    c->flags |= C_JOINED;
    chat_enter(s->chat, &c->m, c->want_nick, 1);
    c->join_due_ms = loop_now(s->l) + JOIN_QUIET_MS;
    logmsg(s, "connect %s %s", c->addr, c->m.nick);
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
    reply(&c->m, dialect_notice(W_PASSWORD ": send /pass PASSWORD (hichat connect "
                                "--password-file FILE does it for you)"));
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
        reply(&c->m, dialect_error("too many wrong passwords from your address; locked out "
                                   "for %llu s",
                                   (unsigned long long)(locked + 999) / 1000));
        conn_close(c, R_AUTH, 1);
    } else if (c->auth_fails >= AUTH_TRIES) {
        reply(&c->m, dialect_error("wrong password; closing after %d tries", AUTH_TRIES));
        conn_close(c, R_AUTH, 1);
    } else {
        /* Its next line waits: guessing goes at most one try a second. */
        c->hold_until = now + AUTH_DELAY_MS;
        reply(&c->m, dialect_error("wrong password"));
    }
}

/* A line from a connection waiting for the password. */
static void gate_line(conn *c, const char *line, size_t len)
{
    server *s = c->s;
    chat_cmd cmd;
    s->st.lines_in++;
    c->lines_in++;
    if (dialect_text.parse(line, len, &cmd) < 0)
        return;
    switch (cmd.kind) {
    case CMD_PASS: auth_try(c, cmd.text, cmd.len); break; /* as sent, spaces and all */
    case CMD_NICK:
        /* hichat connect asks for its nick first thing: kept for joining. */
        if (cmd.len <= NICK_MAX && !text_nick_invalid(cmd.text, cmd.len)) {
            memcpy(c->want_nick, cmd.text, cmd.len);
            c->want_nick[cmd.len] = '\0';
        }
        break;
    case CMD_QUIT: conn_quit(&c->m, cmd.text, cmd.len); break;
    case CMD_HELLO: reply(&c->m, dialect_text.encode(&(chat_event){.kind = EV_NOTICE, .code = N_HI}, 0)); break;
    default: reply(&c->m, dialect_error("this room needs a password: send /pass PASSWORD first"));
    }
}

/* One line from a connection: to the gate or to the room. */
static void conn_line(conn *c, const char *line, size_t len)
{
    if (c->flags & C_AUTH)
        gate_line(c, line, len);
    else
        member_line(c->s, &c->m, line, len);
}

/* Takes the lines in data[0..len) (held or carried input first), then keeps
 * what is left in c->in. data is never c->in itself. */
static void conn_input(conn *c, const char *data, size_t len)
{
    server *s = c->s;
    size_t pos = 0;
    int throttled = 0, waiting = 0, parked = 0;

    while (pos < len && is_open(c)) {
        enum frame_kind kind;
        const char *line;
        size_t ll;
        size_t n = framer_next(&c->fr, data + pos, len - pos, s->opt.max_line, &kind, &line, &ll);
        if (kind == FRAME_MORE) {
            pos += n;
            break;
        }
        if (kind == FRAME_TOO_LONG) {
            pos += n;
            c->flags |= C_SPOKE;
            reply(&c->m,
                  dialect_error("line too long (max %zu bytes); discarded", s->opt.max_line));
            continue;
        }
        if (ll > 0 && !conn_takes(c)) {
            pos = (size_t)(line - data);
            parked = 1;
            break;
        }
        if (ll > 0 && held(c)) {
            pos = (size_t)(line - data);
            waiting = 1;
            break;
        }
        if (ll > 0 && !take_token(c)) {
            pos = (size_t)(line - data); /* keep the line, drop what framing skipped */
            throttled = 1;
            break;
        }
        pos += n;
        if (!(c->flags & C_SPOKE) && sniff_first_line(c, line, ll))
            break;
        conn_line(c, line, ll);
    }

    if (!is_open(c))
        return; /* conn_close dropped c->in, or conn_free will */
    /* Keep the rest: a partial line (at most max_line + 1 bytes), or lines
     * held back by flood control (at most what one read brought). */
    char *rest = NULL;
    size_t nrest = len - pos;
    if (nrest) {
        rest = xmalloc(nrest);
        memcpy(rest, data + pos, nrest);
    }
    free(c->in);
    c->in = rest;
    c->inlen = nrest;

    uint64_t now = loop_now(s->l);
    if (throttled || waiting) {
        c->line_start_ms = 0; /* waiting on us, not on the peer */
        if (throttled)
            throttle(c);
        else
            hold(c);
    } else if (parked) {
        park(c);
    } else {
        c->throttled_ms = 0;
        if ((nrest || c->fr.discarding) && !c->line_start_ms)
            c->line_start_ms = now;
        else if (!nrest && !c->fr.discarding)
            c->line_start_ms = 0;
    }
    conn_rearm(c);
}

/* Takes up c's held input again (flood control let go, or the room takes
 * more): reading resumes, and what waits in c->in is taken first. Reads
 * nothing more itself: decrypted TLS input that epoll cannot see is the
 * caller's to take (see tls_waiting). Returns whether c may read on. */
static int conn_release(conn *c)
{
    char *held = c->in;
    size_t n = c->inlen;
    c->flags &= ~(unsigned)C_THROTTLED;
    unpark(c);
    c->in = NULL;
    c->inlen = 0;
    /* The pause it waited out is ours: its partial line starts afresh. */
    c->last_byte_ms = loop_now(c->s->l);
    conn_interest(c, LOOP_READ | (conn_unsent(c) ? LOOP_WRITE : 0));
    conn_input(c, held, n);
    free(held);
    return !conn_ended(c) && is_open(c) && !(c->flags & C_HELD);
}

/* Decrypted input waiting inside OpenSSL, which epoll cannot report. */
static int tls_waiting(const conn *c)
{
    return transport_pending(&c->tp) > 0;
}

static void conn_timer(loop *l, loop_timer *t)
{
    conn *c = CONTAINER_OF(t, conn, timer);
    server *s = c->s;
    uint64_t now = loop_now(l);

    if (c->flags & C_CLOSING) {
        conn_close(c, c->why, 0); /* linger deadline */
        return;
    }
    if (!is_open(c))
        return; /* leaving: its input no longer counts */
    if ((c->flags & C_GATE) && now >= c->gate_due) {
        if (c->flags & C_AUTH) {
            reply(&c->m, dialect_error("no password within %d s; closing", LOGIN_MS / 1000));
            conn_close(c, R_LOGIN_TIMEOUT, 1);
        } else if (!c->tp.ssl) {
            /* Silent all along: a TLS client would have spoken first, so
             * this is a person with nc waiting for a greeting. */
            not_tls(c);
        } else {
            logmsg(s, "tls %s: handshake not done within %d s", c->addr, HANDSHAKE_MS / 1000);
            conn_close(c, R_HANDSHAKE, 0);
        }
        return;
    }
    if ((c->flags & C_OVER) && now >= behind_due(c)) {
        /* One more try first: the server may have been the slow one (a
         * long pass, a SIGSTOP), and a reader that kept up takes it now. */
        uint64_t before;
        do {
            before = c->bytes_out;
            conn_flush(c);
        } while ((c->flags & C_OVER) && c->bytes_out > before);
        if (c->flags & C_OVER) {
            fell_behind(c);
            return;
        }
        if (!is_open(c))
            return;
    }
    if (!(c->flags & C_ANNOUNCED) && now >= c->join_due_ms)
        announce_join(c);
    who_next(c);
    if (c->flags & C_THROTTLED) {
        if (conn_release(c) && tls_waiting(c))
            conn_readable(c); /* (in line behind others, if there are any) */
        return;
    }
    if (c->line_start_ms && s->opt.line_timeout > 0 &&
        now >= c->line_start_ms + (uint64_t)s->opt.line_timeout * 1000) {
        reply(&c->m, dialect_error("line not finished within %ld s; closing", s->opt.line_timeout));
        conn_close(c, R_LINE_TIMEOUT, 1);
        return;
    }
    if (c->inlen > 0 && !c->fr.discarding && !(c->flags & C_PARKED) &&
        now >= c->last_byte_ms + QUIET_PAUSE_MS) {
        /* The quiet pause is over: what waits is a line (see protocol.md). */
        if (!conn_takes(c)) {
            park(c);
            conn_rearm(c);
            return;
        }
        if (held(c)) { /* after a wrong password, a line without LF waits too */
            hold(c);
            conn_rearm(c);
            return;
        }
        if (!take_token(c)) {
            throttle(c);
            conn_rearm(c);
            return;
        }
        char *in = c->in;
        size_t n = frame_partial(in, c->inlen);
        c->in = NULL;
        c->inlen = 0;
        c->line_start_ms = 0;
        if ((c->flags & C_SPOKE) || !sniff_first_line(c, in, n))
            conn_line(c, in, n);
        free(in);
    }
    conn_rearm(c);
}

/* The TLS stream ended after the bytes just taken: close, but only once
 * lines held back (flood control, a wrong password) have been taken too.
 * Returns whether c is closing. */
static int conn_ended(conn *c)
{
    if (!c->tp.end || !is_open(c) || (c->flags & C_HELD))
        return 0;
    if (c->tp.end > 0)
        conn_close(c, R_CLOSED, 1);
    else
        conn_broke(c, c->tp.err);
    return 1;
}

/* TLS: the handshake's next step, once a first byte says it is TLS. */
static void conn_handshake(conn *c)
{
    server *s = c->s;
    if (!c->tp.ssl) {
        unsigned char b;
        ssize_t n = trace_recvfrom(c->tp.fd, &b, 1, MSG_PEEK, NULL, NULL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n <= 0) {
            conn_close(c, n == 0 ? R_CLOSED : errno_reason(errno), 0);
            return;
        }
        if (b != 0x16) { /* not a TLS handshake record: a plaintext client */
            not_tls(c);
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
        conn_close(c, errno == EPROTO ? R_HANDSHAKE : errno_reason(errno), 0);
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

static void conn_readable(conn *c)
{
    server *s = c->s;
    ssize_t n;

    if (c->flags & C_HANDSHAKE) {
        conn_handshake(c);
        return;
    }
    if (c->flags & (C_CLOSING | C_LINGER | C_HELD)) {
        /* Not taking input now; only notice the peer going away (a hang-up
         * is reported even to a quiet watcher). */
        char b;
        n = trace_recvfrom(c->tp.fd, &b, 1, MSG_PEEK, NULL, NULL);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            conn_close(c, n == 0 ? R_CLOSED : errno_reason(errno), 0);
        } else if (n > 0 && (c->flags & C_LINGER)) {
            n = trace_read(c->tp.fd, s->scratch, READ_SIZE); /* drained and dropped */
        }
        return;
    }
    if (s->parked.head || !conn_takes(c)) {
        /* The room has taken its share of this pass, or others were put
         * off first: wait in line, and read nothing meanwhile. */
        park(c);
        return;
    }
    conn_read(c);
}

/* Reads c's stream once and takes the lines in it. */
static void conn_read(conn *c)
{
    server *s = c->s;
    ssize_t n;

    /* A second pass only for TLS bytes already decrypted and waiting (less
     * than a record): epoll would not report them. */
    for (int pass = 0; pass < 2; pass++) {
        size_t want = READ_SIZE;
        if (pass) {
            size_t p = transport_pending(&c->tp);
            if (p == 0 || !is_open(c) || (c->flags & C_HELD))
                return;
            want = p < READ_SIZE ? p : READ_SIZE;
        }
        if (c->inlen)
            memcpy(s->scratch, c->in, c->inlen);
        n = transport_recv(&c->tp, s->scratch + c->inlen, want);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                if (c->tp.rwant) /* TLS must write before it can read on */
                    conn_interest(c, LOOP_READ | (conn_unsent(c) ? LOOP_WRITE : 0));
                return;
            }
            conn_broke(c, errno);
            return;
        }
        if (n == 0) {
            /* A partial line left at EOF is dropped: the sender may have died
             * mid-line, and half a message must never go out in its name. */
            conn_close(c, R_CLOSED, 1);
            return;
        }
        s->st.bytes_in += (uint64_t)n;
        c->bytes_in += (uint64_t)n;
        c->last_byte_ms = loop_now(s->l);
        if (!(c->flags & C_SPOKE) && c->inlen == 0 &&
            sniff_first_bytes(c, (unsigned char *)s->scratch, (size_t)n))
            return;
        conn_input(c, s->scratch, c->inlen + (size_t)n);
        if (conn_ended(c))
            return;
    }
}

static void conn_io(loop *l, int fd, void *data, int mask)
{
    conn *c = data;
    (void)l, (void)fd;
    if (c->flags & C_HANDSHAKE) {
        conn_handshake(c);
        return;
    }
    /* TLS: a write that waits for readability, a read for writability. */
    if ((mask & LOOP_READ) && c->tp.wwant) {
        c->tp.wwant = 0;
        mark_pending(c);
    }
    if ((mask & LOOP_WRITE) && c->tp.rwant && !(c->flags & C_DEAD)) {
        c->tp.rwant = 0;
        conn_readable(c);
        return;
    }
    if (mask & LOOP_READ)
        conn_readable(c);
    else if (!(c->flags & C_DEAD))
        conn_flush(c);
}

/* ---- accepting ---- */

static void accept_resume(loop *l, loop_timer *t)
{
    server *s = CONTAINER_OF(t, server, accept_timer);
    for (int i = 0; i < s->nlfd && !s->stopping; i++)
        loop_set_mask(l, s->lfd[i], LOOP_READ);
}

static void refuse_second(loop *l, loop_timer *t)
{
    server *s = CONTAINER_OF(t, server, refuse_timer);
    (void)l;
    if (s->refuse_quiet)
        logmsg(s, "refuse: %lu more not logged in the last second", s->refuse_quiet);
    s->refuse_logged = 0;
    s->refuse_quiet = 0;
}

/* Logs one refusal, unless this second has had its share. */
static void log_refusal(server *s, const char *addr, const char *why)
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
    char line[160];
    int n = snprintf(line, sizeof line, "! %s; try again later\n", why);
    char sink[4096];
    /* Best effort on a fresh socket: its buffer is empty, so this fits.
     * Then FIN, and take what the peer already sent, so that closing with
     * unread input does not send a reset that could discard our line. */
    if (trace_write(fd, line, (size_t)n) < 0) {
    }
    trace_shutdown(fd, SHUT_WR);
    if (trace_recvfrom(fd, sink, sizeof sink, MSG_DONTWAIT, NULL, NULL) < 0) {
    }
    trace_close(fd);
    s->st.refused[f]++;
    log_refusal(s, addr, why);
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
static void adopt(server *s, int fd, const struct sockaddr *peer, int tls)
{
    char addr[NET_ADDRSTRLEN];
    ipkey ip = ipcount_key(peer);
    int inet = peer->sa_family == AF_INET || peer->sa_family == AF_INET6;

    net_addr_str(peer, sizeof(struct sockaddr_storage), addr, sizeof addr);
    /* Every check here comes before any per-client memory exists. */
    if (inet && !acl_permits(&s->opt.acl, &ip)) {
        /* Not told why: to an address not allowed, the port says nothing. */
        trace_close(fd);
        s->st.refused[F_DENIED]++;
        log_refusal(s, addr, "not allowed by --allow/--deny");
        return;
    }
    if ((long)s->nopen >= s->opt.max_clients) {
        char why[64];
        snprintf(why, sizeof why, "server full (max %ld clients)", s->opt.max_clients);
        refuse(s, fd, addr, F_FULL, why);
        return;
    }
    /* Unix-domain peers are local and gated by file permissions: no per-IP. */
    if (inet && s->opt.max_per_ip > 0 &&
        ipcount_get(s->ips, &ip) >= (unsigned long)s->opt.max_per_ip) {
        char why[80];
        snprintf(why, sizeof why, "too many connections from your address (max %ld)",
                 s->opt.max_per_ip);
        refuse(s, fd, addr, F_PER_IP, why);
        return;
    }
    uint64_t locked = s->password && inet ? authlimit_locked(s->fails, &ip, loop_now(s->l)) : 0;
    if (locked) {
        char why[96];
        snprintf(why, sizeof why, "too many wrong passwords from your address; locked out for %llu s",
                 (unsigned long long)(locked + 999) / 1000);
        refuse(s, fd, addr, F_LOCKED, why);
        return;
    }
    if (inet)
        set_timeouts(s, fd);

    conn *c = xcalloc(1, sizeof *c);
    c->s = s;
    transport_init(&c->tp, fd);
    c->ip = ip;
    c->inet = inet;
    snprintf(c->addr, sizeof c->addr, "%s", addr);
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
        free(c);
        return;
    }
    ipcount_add(s->ips, &ip);
    s->nopen++;
    s->st.accepted++;
    if (s->nopen > s->st.peak)
        s->st.peak = s->nopen;
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

static void on_accept(loop *l, int lfd, void *data, int mask)
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

/* ---- UDP members ----
 *
 * A datagram room shares the room with the stream members. UDP source
 * addresses can be forged, so an address first has to prove that it
 * receives there: its first datagram is answered with a token (a keyed MAC
 * of the address, which a forger never sees), and only a peer that sends it
 * back (/join TOKEN) becomes a member. Until then it is a candidate: not in
 * the room, not in /who, its lines go nowhere, it is sent at most as many
 * bytes as it has sent (the server cannot be used to amplify traffic toward
 * someone else), and it costs one slot in a bounded table. A member counts
 * toward --max-clients and --max-per-ip like a connection, and is forgotten
 * after --udp-timeout of silence. */

/* Credit a candidate can build up: enough for a few answers, never a store
 * of amplification. */
#define UDP_CREDIT_MAX 4096
/* Candidates kept at once; past it the oldest is forgotten (it can ask
 * again), so a flood of forged addresses costs bounded memory. */
#define UDP_CANDIDATES 4096
/* Datagrams taken per readiness event. */
#define UDP_BATCH 64
/* A /join datagram may be padded to this size (so that the answer fits in
 * what was received: hichat connect pads to 512), whatever --max-line is. */
#define UDP_JOIN_MAX 1024
/* The token: this many bytes of HMAC-SHA256, in hex. */
#define UDP_TOKEN_BYTES 16
#define UDP_TOKEN_LEN   (2 * UDP_TOKEN_BYTES)

static size_t udp_slot(const server *s, const struct sockaddr *sa, socklen_t len)
{
    /* FNV-1a from a random seed: chains cannot be aimed at. */
    const unsigned char *p = (const unsigned char *)sa;
    uint64_t h = s->udp_seed;
    for (socklen_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return (size_t)(h ^ (h >> 29)) & (s->nub - 1);
}

/* The token a peer at this address must send back: HMAC-SHA256 under a
 * key drawn from the OS at start, so one token says nothing of another. */
static void udp_token(const server *s, const udp_peer *p, char tok[UDP_TOKEN_LEN + 1])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int ml = 0;
    HMAC(EVP_sha256(), s->udp_key, (int)sizeof s->udp_key, (const unsigned char *)&p->addr,
         (size_t)p->alen, mac, &ml);
    for (int i = 0; i < UDP_TOKEN_BYTES; i++)
        snprintf(tok + 2 * i, 3, "%02x", mac[i]);
}

/* Sends one datagram to p, within its credit while it is a candidate. */
static void udp_send(udp_peer *p, const void *data, size_t len)
{
    server *s = p->s;
    if (!p->verified) {
        if (len > p->credit) {
            s->st.udp_dropped++; /* would amplify: not sent */
            return;
        }
        p->credit -= len;
    }
    ssize_t n = trace_sendto(s->ufd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL,
                             (struct sockaddr *)&p->addr, p->alen);
    if (n < 0) {
        s->st.udp_dropped++; /* a full socket buffer: UDP may lose it */
        return;
    }
    p->bytes_out += (uint64_t)n;
    s->st.bytes_out += (uint64_t)n;
}

static void udp_deliver(member *m, chunk *ch)
{
    udp_peer *p = as_udp(m);
    udp_send(p, ch->data, ch->len);
    p->msgs_out++;
    p->s->st.deliveries++;
}

static void udp_announce(member *m)
{
    udp_peer *p = as_udp(m);
    if (p->announced)
        return;
    p->announced = 1;
    chat_announce(p->s->chat, m);
}

/* Forgets p; a member leaves the room for reason why (text). Never called
 * while the room is being iterated. */
static void udp_forget(udp_peer *p, enum reason why, const char *text)
{
    server *s = p->s;
    for (udp_peer **pp = &s->ub[udp_slot(s, (struct sockaddr *)&p->addr, p->alen)]; *pp;
         pp = &(*pp)->hnext) {
        if (*pp == p) {
            *pp = p->hnext;
            break;
        }
    }
    loop_timer_cancel(s->l, &p->idle);
    s->nudp--;
    if (!p->verified) {
        fifo_remove(&s->cand, &p->cand);
        free(p);
        return;
    }
    ipcount_del(s->ips, &p->ip);
    s->nopen--;
    s->st.left[why]++;
    logmsg(s, "disconnect %s %s (%s)", p->addr_text, p->m.nick, text);
    chat_leave(s->chat, &p->m, text, strlen(text));
    free(p);
}

static void udp_idle(loop *l, loop_timer *t)
{
    udp_peer *p = CONTAINER_OF(t, udp_peer, idle);
    (void)l;
    udp_forget(p, R_TIMEOUT, "no datagram in time");
}

static void udp_quit(member *m, const char *why, size_t len)
{
    udp_peer *p = as_udp(m);
    server *s = p->s;
    char text[QUIT_REASON_MAX + 8] = "quit";
    chat_event bye = {.kind = EV_NOTICE, .code = N_BYE};
    chat_tell(s->chat, m, &bye);
    if (len > 0) {
        size_t cl = text_clean(why, len > QUIT_REASON_MAX ? QUIT_REASON_MAX : len, s->clean);
        snprintf(text, sizeof text, "quit: %.*s", (int)cl, s->clean);
    }
    udp_forget(p, R_QUIT, text);
}

/* /who for a UDP member: no queue to pace by, so the pages go at once
 * while its flood control has lines to spare for them, and the list says
 * so where it stops. */
static void udp_who(member *m)
{
    udp_peer *p = as_udp(m);
    server *s = p->s;
    while (!chat_who_more(s->chat, m)) {
        if (!bucket_take(&p->flood, &s->flood, loop_now(s->l))) {
            chat_who_stop(s->chat, m);
            return;
        }
    }
}

static const char *udp_addr(const member *m)
{
    return CONTAINER_OF(m, udp_peer, m)->addr_text;
}

static const member_ops udp_ops = {
    .deliver = udp_deliver,
    .quit = udp_quit,
    .who = udp_who,
    .addr = udp_addr,
};

/* A candidate for the address: its first datagram made it. */
static udp_peer *udp_new(server *s, const struct sockaddr *sa, socklen_t len)
{
    ipkey ip = ipcount_key(sa);
    if (!acl_permits(&s->opt.acl, &ip)) {
        s->st.refused[F_DENIED]++; /* silently, and unlogged: datagrams are cheap */
        return NULL;
    }
    if (s->cand.count >= UDP_CANDIDATES) /* the oldest goes: it may ask again */
        udp_forget(CONTAINER_OF(s->cand.head, udp_peer, cand), R_TIMEOUT, "");
    if (s->nudp >= s->nub) { /* grow the table */
        size_t old = s->nub;
        udp_peer **ob = s->ub;
        s->nub = old ? old * 2 : 64;
        s->ub = xcalloc(s->nub, sizeof *s->ub);
        for (size_t i = 0; i < old; i++) {
            for (udp_peer *q = ob[i], *next; q; q = next) {
                next = q->hnext;
                size_t k = udp_slot(s, (struct sockaddr *)&q->addr, q->alen);
                q->hnext = s->ub[k];
                s->ub[k] = q;
            }
        }
        free(ob);
    }
    udp_peer *p = xcalloc(1, sizeof *p);
    p->s = s;
    memcpy(&p->addr, sa, len);
    p->alen = len;
    p->ip = ip;
    bucket_init(&p->flood, &s->flood, loop_now(s->l));
    net_addr_str(sa, len, p->addr_text + 4, sizeof p->addr_text - 4);
    memcpy(p->addr_text, "udp:", 4);
    loop_timer_init(&p->idle, udp_idle);
    p->m.ops = &udp_ops;
    p->m.dialect = &dialect_text;
    p->m.kind = M_UDP;
    size_t k = udp_slot(s, sa, len);
    p->hnext = s->ub[k];
    s->ub[k] = p;
    s->nudp++;
    fifo_push(&s->cand, &p->cand);
    return p;
}

static udp_peer *udp_find(server *s, const struct sockaddr *sa, socklen_t len)
{
    for (udp_peer *p = s->ub ? s->ub[udp_slot(s, sa, len)] : NULL; p; p = p->hnext)
        if (p->alen == len && memcmp(&p->addr, sa, len) == 0)
            return p;
    return NULL;
}

static void udp_ask_token(udp_peer *p)
{
    char tok[UDP_TOKEN_LEN + 1];
    udp_token(p->s, p, tok);
    reply(&p->m, dialect_notice(W_UDP_JOIN "%s", tok));
}

/* The candidate p proved its address: it joins like a connection, within
 * the same limits, or is told why not and forgotten (then returns -1). */
static int udp_admit(udp_peer *p)
{
    server *s = p->s;
    const char *why = NULL;
    char text[96];
    if ((long)s->nopen >= s->opt.max_clients) {
        snprintf(text, sizeof text, "server full (max %ld clients)", s->opt.max_clients);
        why = text;
        s->st.refused[F_FULL]++;
    } else if (s->opt.max_per_ip > 0 &&
               ipcount_get(s->ips, &p->ip) >= (unsigned long)s->opt.max_per_ip) {
        snprintf(text, sizeof text, "too many connections from your address (max %ld)",
                 s->opt.max_per_ip);
        why = text;
        s->st.refused[F_PER_IP]++;
    }
    if (why) {
        reply(&p->m, dialect_error("%s; try again later", why));
        log_refusal(s, p->addr_text, why);
        udp_forget(p, R_TIMEOUT, "");
        return -1;
    }
    fifo_remove(&s->cand, &p->cand);
    p->verified = 1;
    ipcount_add(s->ips, &p->ip);
    s->nopen++;
    s->st.accepted++;
    if (s->nopen > s->st.peak)
        s->st.peak = s->nopen;
    chat_enter(s->chat, &p->m, p->want_nick, 1);
    logmsg(s, "connect %s %s", p->addr_text, p->m.nick);
    udp_announce(&p->m);
    return 0;
}

/* "/join [TOKEN]": the token proves the peer receives at its address.
 * Returns 0 when p is a member, 1 when it was asked for the token (again),
 * -1 when it was turned away and forgotten. */
/* Whether arg[0..len) (spaces around it allowed) is p's token. */
static int udp_token_ok(const udp_peer *p, const char *arg, size_t len)
{
    char tok[UDP_TOKEN_LEN + 1];
    udp_token(p->s, p, tok);
    while (len > 0 && *arg == ' ')
        arg++, len--;
    while (len > 0 && arg[len - 1] == ' ')
        len--;
    return len == UDP_TOKEN_LEN && CRYPTO_memcmp(arg, tok, UDP_TOKEN_LEN) == 0;
}

static int udp_join(udp_peer *p, const char *arg, size_t len)
{
    if (p->verified)
        return 0;
    if (udp_token_ok(p, arg, len))
        return udp_admit(p);
    udp_ask_token(p);
    return 1;
}

static int is_cmd(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);
    return len >= n && strncasecmp(line, name, n) == 0 && (len == n || line[n] == ' ');
}

/* The lines of one datagram from p. Returns at once if p was forgotten. */
static void udp_lines(udp_peer *p, const char *data, size_t len)
{
    server *s = p->s;
    while (len > 0) {
        const char *lf = memchr(data, '\n', len);
        size_t ll = lf ? (size_t)(lf - data) : len; /* the datagram ends a line */
        size_t step = lf ? ll + 1 : len;
        const char *line = data;
        if (ll > 0 && line[ll - 1] == '\r')
            ll--;
        data += step;
        len -= step;
        if (ll == 0)
            continue; /* an empty line: a keepalive */
        /* "/join TOKEN" proves the address (a member may send it again);
         * a member's "/join #room" is for the chat. */
        if (is_cmd(line, ll, "/join") && (!p->verified || udp_token_ok(p, line + 5, ll - 5))) {
            if (udp_join(p, line + 5, ll - 5) != 0)
                return; /* asked again, or forgotten */
            continue;
        }
        if (!p->verified && is_cmd(line, ll, "/nick") && ll > 6 && ll - 6 <= NICK_MAX &&
            !text_nick_invalid(line + 6, ll - 6)) {
            /* hichat connect asks for its nick first thing: kept for joining. */
            memcpy(p->want_nick, line + 6, ll - 6);
            p->want_nick[ll - 6] = '\0';
            continue;
        }
        if (!p->verified) {
            s->st.udp_dropped++; /* an unproven address says nothing to the room */
            udp_ask_token(p);
            return;
        }
        if (ll > s->opt.max_line) {
            reply(&p->m,
                  dialect_error("line too long (max %zu bytes); discarded", s->opt.max_line));
            continue;
        }
        if (!bucket_take(&p->flood, &s->flood, loop_now(s->l))) {
            s->st.udp_dropped++; /* no holding back a datagram: over the rate, dropped */
            continue;
        }
        p->lines_in++;
        /* /quit frees p: it must be the last thing done with it. */
        int quitting = is_cmd(line, ll, "/quit");
        member_line(s, &p->m, line, ll);
        if (quitting)
            return;
    }
}

/* The largest datagram taken: a line of --max-line and its CRLF, or a
 * padded /join. */
static size_t udp_cap(const server *s)
{
    return s->opt.max_line + 2 > UDP_JOIN_MAX ? s->opt.max_line + 2 : UDP_JOIN_MAX;
}

static void on_udp(loop *l, int fd, void *data, int mask)
{
    server *s = data;
    size_t cap = udp_cap(s);
    (void)mask;

    for (int i = 0; i < UDP_BATCH; i++) {
        if (!room_open(s)) {
            /* Left in the socket until the room takes more (datagrams
             * beyond its buffer are lost: that is UDP). */
            s->udp_parked = 1;
            loop_set_mask(l, fd, 0);
            return;
        }
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        /* MSG_TRUNC: the result is the datagram's real length, so one
         * longer than our buffer is known to be cut. */
        ssize_t n = trace_recvfrom(fd, s->dgram, cap, MSG_TRUNC, (struct sockaddr *)&ss, &len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return; /* EAGAIN, or an ICMP error for an earlier send: nothing to do */
        }
        udp_peer *p = udp_find(s, (struct sockaddr *)&ss, len);
        if (!p && !(p = udp_new(s, (struct sockaddr *)&ss, len)))
            continue;
        p->bytes_in += (uint64_t)n;
        s->st.bytes_in += (uint64_t)n;
        if (!p->verified) {
            p->credit += (uint64_t)n;
            if (p->credit > UDP_CREDIT_MAX)
                p->credit = UDP_CREDIT_MAX;
        }
        loop_timer_arm(s->l, &p->idle, (uint64_t)s->opt.udp_timeout * 1000);
        if ((size_t)n > cap) {
            s->st.udp_truncated++;
            reply(&p->m,
                  dialect_error("line too long (max %zu bytes); discarded", s->opt.max_line));
            continue;
        }
        udp_lines(p, s->dgram, (size_t)n);
    }
}

/* Forgets every UDP peer (at shutdown); their leaves are not announced. */
static void udp_forget_all(server *s)
{
    for (size_t i = 0; i < s->nub; i++)
        while (s->ub[i])
            udp_forget(s->ub[i], R_SHUTDOWN, reasons[R_SHUTDOWN].text);
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
    loop_timer_init(&s->accept_timer, accept_resume);
    loop_timer_init(&s->shutdown_timer, shutdown_deadline);
    loop_timer_init(&s->tidy_timer, tidy);
    loop_timer_init(&s->resume_timer, resume);
    loop_timer_init(&s->refuse_timer, refuse_second);
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

/* TLS and the password, from the options. 0, or -1 after saying why. */
static int secure(server *s)
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
        return IN6_IS_ADDR_LOOPBACK(a) ||
               (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
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
            logmsg(s, "warning: serving the network in plaintext without a password: anyone "
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
    if (secure(s) < 0) {
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
        ok = loop_watch(l, s->lfd[i], LOOP_READ, on_accept, s) == 0;
    if (ok && s->ufd >= 0)
        ok = loop_watch(l, s->ufd, LOOP_READ, on_udp, s) == 0;
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
