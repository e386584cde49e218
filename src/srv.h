/* srv.h - the server's insides, shared by its modules (not by anything
 * else: server.h is the outside). One connection is a conn (conn.c), one
 * UDP peer a udp_peer (udp.c), the console a member of the server itself
 * (console.c); each is a member of the chat (chat.c) through member_ops.
 * The limits and their reasons are here, next to the state they bound. */
#ifndef HICHAT_SRV_H
#define HICHAT_SRV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "access.h"
#include "chat.h"
#include "dialect.h"
#include "frame.h"
#include "ipcount.h"
#include "loop.h"
#include "net.h"
#include "out.h"
#include "outq.h"
#include "ratelimit.h"
#include "server.h"
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
 * back under. Meanwhile its rooms take no input, so a member that reads as
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
    C_WAITS = 1u << 14,    /* parked on s->waiting: its room has a slow reader */
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

/* Why a connection was refused before it joined. */
enum refusal { F_FULL, F_PER_IP, F_BUSY, F_DENIED, F_LOCKED, F_COUNT };

typedef struct conn {
    member m; /* first: the room hands back member pointers */
    server *s;
    transport tp; /* its socket, plaintext or TLS */
    unsigned flags;
    framer fr;
    char *in; /* input carried to the next read or held back; owned */
    size_t inlen;
    outq out;
    loop_timer timer;                                 /* the next of: quiet pause, line deadline,
                                                         flood release; the close deadline after */
    uint64_t last_byte_ms;                            /* when input last arrived */
    uint64_t line_start_ms;                           /* when the unfinished line began, or 0 */
    uint64_t throttled_ms;                            /* when flood control began holding, or 0 */
    bucket flood;                                     /* flood control */
    uint64_t join_due_ms;                             /* when to announce the join, if not yet */
    uint64_t bytes_in, bytes_out, lines_in, msgs_out; /* for /stats */
    enum reason why;
    int inet;       /* a TCP peer (not Unix): per-address limits apply */
    char *why_text; /* "quit: REASON", or NULL; owned */
    ipkey ip;
    uint64_t gate_due;    /* the deadline of the handshake or the password */
    uint64_t hold_until;  /* input held back until then (after a wrong password) */
    uint64_t over_ms;     /* when its queue went over --max-queue (C_OVER) */
    uint64_t progress_ms; /* when its socket last took bytes, or its queue
                             last filled from empty: since then it is behind */
    unsigned auth_fails;
    char *want_nick; /* asked for (/nick) before the password; owned, or NULL */
    struct conn *next_pending, *next_leave, *next_dead;
    fifo_link parked; /* on s->parked (C_PARKED) */
    fifo_link link;   /* on s->conns */
    char *addr;       /* the peer, as the log names it; owned (its length, not
                         NET_ADDRSTRLEN: an idle member costs little) */
} conn;

typedef struct udp_peer {
    member m; /* first; in the room once verified */
    struct server *s;
    struct sockaddr_storage addr;
    socklen_t alen;
    ipkey ip;
    int verified, announced;      /* as C_JOINED, C_ANNOUNCED */
    uint64_t credit;              /* bytes a candidate may still be sent */
    fifo_link cand;               /* on s->cand while a candidate */
    char want_nick[NICK_MAX + 1]; /* asked for (/nick) before joining */
    bucket flood;
    uint64_t bytes_in, bytes_out, lines_in, msgs_out;
    loop_timer idle;
    struct udp_peer *hnext;
    char addr_text[NET_ADDRSTRLEN];
} udp_peer;

static inline udp_peer *as_udp(member *m)
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
    fifo parked;             /* connections whose input is put off, oldest first */
    fifo waiting;            /* ... and those whose room waits on a slow reader */
    fifo conns;              /* every connection, closing ones too (descriptors held) */
    size_t nover;            /* members over --max-queue: the rooms take no input */
    int udp_parked;          /* the UDP socket is not read until the room takes more */
    loop_timer resume_timer; /* takes put-off input in the next pass */
    size_t nopen;            /* connections in the room: what --max-clients counts */
    member console;
    SSL_CTX *tls; /* the TCP listener's TLS, or NULL */
    int lfd_tls[MAX_LISTENERS];
    char *password; /* owned, or NULL */
    size_t passlen;
    authlimit *fails; /* wrong passwords per address */
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
    fifo cand;                 /* UDP candidates (unproven), oldest first */
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

/* What owns a member (member.kind). */
enum { M_CONSOLE, M_CONN, M_UDP };

static inline conn *as_conn(member *m)
{
    return CONTAINER_OF(m, conn, m);
}

static inline int is_console(server *s, member *m)
{
    (void)s;
    return m->kind == M_CONSOLE;
}

static inline int is_open(const conn *c)
{
    return !(c->flags & (C_CLOSING | C_DEAD | C_LEAVING));
}

extern const struct reason_text {
    const char *text, *key;
} reasons[R_COUNT];
extern const char *const refusal_key[F_COUNT];
extern const member_ops conn_ops, console_ops;

void logmsg(server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Tells m alone about its own stream, in its dialect (event.h: enum error,
 * enum notice; n and arg as each says). */
static inline void tell_error(server *s, member *m, enum error code, size_t n, const char *arg)
{
    chat_event ev = {.kind = EV_ERROR, .code = code, .n = n, .arg = arg};
    chat_tell(s->chat, m, &ev);
}
static inline void tell_notice(server *s, member *m, enum notice code, const char *arg)
{
    chat_event ev = {.kind = EV_NOTICE, .code = code, .arg = arg};
    chat_tell(s->chat, m, &ev);
}

/* server.c: the loop pass, /stats, shutdown */
void member_line(server *s, member *m, const char *line, size_t len);
int pass_open(const server *s);
void server_shutdown(server *s);

/* conn.c: a stream connection */
int conn_takes(conn *c);
int conn_waits(conn *c);
void conn_announce(conn *c);
void conn_close(conn *c, enum reason why, int graceful);
void conn_flush(conn *c);
void conn_free(conn *c);
void conn_interest(conn *c, int mask);
void conn_io(loop *l, int fd, void *data, int mask);
void conn_quit(member *m, const char *why, size_t len);
void conn_read(conn *c);
void conn_readable(conn *c);
void conn_rearm(conn *c);
int conn_release(conn *c);
void conn_timer(loop *l, loop_timer *t);
enum reason conn_errno_reason(int e);
void conn_park(conn *c);
void member_reply(member *m, chunk *ch);
int conn_tls_waiting(const conn *c);
const char *conn_why(const conn *c);

/* gate.c: accepting, admission, TLS, the password */
int gate_check(server *s, const ipkey *ip, int inet, char *why, size_t sz);
void gate_seat(server *s, const ipkey *ip);
void gate_unseat(server *s, const ipkey *ip);
void gate_enter(server *s, member *m, const char *want);
void gate_leave(server *s, member *m, const char *why);
void gate_accept_resume(loop *l, loop_timer *t);
void conn_handshake(conn *c);
void gate_line(conn *c, const char *line, size_t len);
void gate_log_refusal(server *s, const char *addr, const char *why);
void gate_not_tls(conn *c);
void gate_on_accept(loop *l, int lfd, void *data, int mask);
void gate_refuse_second(loop *l, loop_timer *t);
int gate_secure(server *s);

/* udp.c: UDP members */
void udp_on_readable(loop *l, int fd, void *data, int mask);
void udp_announce(member *m);
size_t udp_cap(const server *s);
void udp_forget_all(server *s);

/* console.c: the server's terminal */
void console_eof(void *data);
void console_line(void *data, const char *line, size_t len);

#endif
