/* bench.c - hichat-bench, a load generator for chat fan-out.
 *
 * It connects N members to a room (a hichat server, or a Redis server's
 * pub/sub channel), has S of them send at an aggregate open-loop rate, and
 * measures every delivery: latency from the message's intended send time
 * (so a server that falls behind is charged for the wait, not excused by a
 * slowed sender), loss, delivered/s, and the server's CPU per delivery.
 *
 * One message on the wire is a payload such as
 *
 *     ~HB01000000120000000005f5e100xxxxxxxx
 *        ^^ step  ^^^^^^^^ seq    ^^^^^^^^^^^^^^^^ intended send time (ns)
 *
 * sent as a hichat line ("PAYLOAD\n", delivered as "<nick> PAYLOAD\n") or as
 * a Redis PUBLISH (delivered inside a RESP "message" array). The receiver
 * does not parse either protocol: it finds "~HB" in each complete line,
 * which keeps its cost per delivery small and the same for both servers.
 *
 * With --rooms K the members are spread over K rooms of equal size instead
 * of one (Redis: K channels), each member in exactly one, and the senders
 * over the rooms likewise; with --in-rooms M every member is in the same M
 * rooms at once (hichat then tags each line with its room). A hichat member
 * moves by sending /join and /part as it connects, and counts as ready once
 * the server has confirmed its last command.
 *
 * Everything runs on one thread and one epoll loop; the program is meant to
 * be pinned to a core of its own (bench/compare does that). One process
 * holds every connection: 10,000 members need 10,000 descriptors, and the
 * check at start-up says so when the limit (ulimit -n) is lower. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "histo.h"
#include "util.h"
#include "wording.h"

#define MAGIC          "~HB"
#define MAGIC_LEN      3
#define STAMP_LEN      (MAGIC_LEN + 2 + 8 + 16) /* magic, step, seq, time */
#define PROBE_STEP     0xff                     /* readiness probes, not measured */
#define MAX_STEPS      64
#define CARRY_MAX      512 /* a partial line kept between reads */
#define WORDS_MAX      160
#define READ_BUF       (256 * 1024)
#define SEND_CAP       (64u << 20) /* a sender's own backlog beyond this fails the step */
#define CONNECT_WINDOW 256         /* connects in flight at once */
#define SEND_BATCH_NS  50000       /* how long a busy sender may gather messages */
#define ROOMS_MAX      1000        /* hichat's default --max-rooms */
#define IN_ROOMS_MAX   32          /* hichat's default --max-rooms-per-member */
#define ROOM_NAME_MAX  16          /* "r1000", "m32" and their NUL */
#define CHANNEL_MAX    101         /* --channel's limit and its NUL */
#define LOBBY          "#lobby"    /* the room every hichat member starts in */
#define SETTLE_S       120         /* how long the members may take to move */
#define STEP_PAUSE_NS  200000000u  /* quiet between steps ... */
#define STEP_PAUSE_S   30          /* ... waited for at most this long */

enum target { T_HICHAT, T_REDIS };

typedef struct {
    int fd;
    int alive;
    int receiver;  /* counts deliveries (every hichat member; Redis subscribers) */
    int publisher; /* sends messages */
    int connecting;
    int want_out;    /* EPOLLOUT is registered */
    uint8_t probed;  /* has seen a readiness probe */
    uint8_t settled; /* hichat: the server confirmed its room commands */
    uint16_t carrylen;
    char *carry; /* CARRY_MAX bytes, allocated on first partial line */
    char *words; /* the last error line the server sent (WORDS_MAX), so a
                    refusal can be quoted when it hangs up */
    char *out;   /* a publisher's unsent bytes */
    size_t outlen, outoff, outcap;
} bconn;

static struct {
    enum target target;
    const char *host, *port;
    int members, senders, sources, size;
    double rate, seconds, drain, p99_max_ms, grow;
    int sweep, refine, idle, spin;
    int rooms;    /* --rooms K: members spread over K rooms (0: one room) */
    int in_rooms; /* --in-rooms M: every member in the same M rooms */
    int senders_set;
    pid_t pid;
    const char *channel;
    /* state */
    struct sockaddr_storage addr;
    socklen_t alen;
    int ep;
    bconn *c;
    int nconns;
    int *pub;                     /* indexes of publishers */
    char (*pubchan)[CHANNEL_MAX]; /* Redis: each publisher's channel */
    char layout[40];              /* " rooms=K" or " in_rooms=M" in the report lines */
    int recips;                   /* recipients per message */
    int unsettled;                /* hichat members whose room commands are unconfirmed */
    char *rbuf;
    uint64_t recv[MAX_STEPS + 1];
    uint64_t tagged[MAX_STEPS + 1]; /* of recv, the lines tagged with a room */
    histo *hist;                    /* the current step's */
    int step;
    uint64_t last_delivery_ns;
    int dropped;
    int probes_seen;
    uint64_t last_read_ns; /* when any bytes last arrived */
} B = {
    .target = T_HICHAT,
    .host = "127.0.0.1",
    .port = NULL,
    .members = 100,
    .senders = 1,
    .sources = 0,
    .size = 64,
    .rate = 1000,
    .seconds = 2,
    .drain = 2,
    .p99_max_ms = 10,
    .grow = 1.5,
    .refine = 3,
    .channel = "room",
};

static const char *target_name(void)
{
    return B.target == T_REDIS ? "redis" : "hichat";
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("hichat-bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void die_errno(const char *what, int err)
{
    char why[256];
    errno_describe(why, sizeof why, err, NULL);
    die("%s: %s", what, why);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double cpu_self_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* The server's CPU time in ns (from /proc/PID/schedstat), or 0 without --pid. */
static uint64_t server_cpu_ns(void)
{
    if (B.pid <= 0)
        return 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/schedstat", (int)B.pid);
    FILE *f = fopen(path, "r");
    unsigned long long ns = 0;
    if (!f)
        die("--pid %d: cannot read %s: %s", (int)B.pid, path, strerror(errno));
    if (fscanf(f, "%llu", &ns) != 1)
        ns = 0;
    fclose(f);
    return ns;
}

/* A number field of /proc/PID/status ("VmRSS:", in KiB), or 0 without --pid. */
static long server_status_kib(const char *field)
{
    if (B.pid <= 0)
        return 0;
    char path[64], line[256];
    long kib = 0;
    snprintf(path, sizeof path, "/proc/%d/status", (int)B.pid);
    FILE *f = fopen(path, "r");
    if (!f)
        die("--pid %d: cannot read %s: %s", (int)B.pid, path, strerror(errno));
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, strlen(field)) == 0) {
            kib = strtol(line + strlen(field), NULL, 10);
            break;
        }
    fclose(f);
    return kib;
}

static long server_rss_kib(void)
{
    return server_status_kib("VmRSS:");
}

static long server_hwm_kib(void)
{
    return server_status_kib("VmHWM:");
}

/* How often the server was taken off its CPU while it could run: on a
 * machine shared with other work, the steps where that happened often are
 * the ones whose latency is not the server's. */
static long server_preempted(void)
{
    return server_status_kib("nonvoluntary_ctxt_switches:");
}

static void resolve(void)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res;
    int rc = getaddrinfo(B.host, B.port, &hints, &res);
    if (rc != 0)
        die("cannot resolve %s port %s: %s", B.host, B.port, gai_strerror(rc));
    memcpy(&B.addr, res->ai_addr, res->ai_addrlen);
    B.alen = res->ai_addrlen;
    freeaddrinfo(res);
}

/* Source addresses: the kernel finds a free local port per destination, so
 * one address gives about as many connections as the ephemeral range holds.
 * Beyond that, connections are spread over 127.0.0.1, .2, ... (loopback
 * answers for all of 127/8). */
static int auto_sources(int nconns)
{
    int lo = 32768, hi = 60999;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f) {
        if (fscanf(f, "%d %d", &lo, &hi) != 2)
            lo = 32768, hi = 60999;
        fclose(f);
    }
    int per = (hi - lo + 1) * 3 / 4; /* leave room for TIME_WAIT and others */
    if (per < 1)
        per = 1;
    return (nconns + per - 1) / per;
}

/* The name of room i (0-based) of --rooms ("r1", "r2", ...) or of
 * --in-rooms ("m1", ...), without hichat's '#': Redis channels use it bare. */
static void room_name(char *out, int i)
{
    snprintf(out, ROOM_NAME_MAX, "%c%d", B.rooms ? 'r' : 'm', i + 1);
}

/* With --rooms, the room of connection i: a member's (hichat senders are
 * members 0..S-1), or a Redis publisher's, counted from the first. */
static int room_of(int i)
{
    if (B.target == T_REDIS && i >= B.members)
        i -= B.members;
    return i % B.rooms;
}

/* Whether c is a hichat member that leaves the default room for others. */
static int moves(const bconn *c)
{
    return B.target == T_HICHAT && (B.rooms || B.in_rooms) && c->receiver;
}

static void watch(bconn *c, uint32_t events, int op)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(B.ep, op, c->fd, &ev) < 0)
        die_errno("epoll_ctl", errno);
}

static void conn_open(bconn *c, int i)
{
    int fd = socket(B.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die_errno("socket", errno);
    if (B.sources > 1 && B.addr.ss_family == AF_INET) {
        int one = 1;
        struct sockaddr_in src = {.sin_family = AF_INET};
        src.sin_addr.s_addr = htonl(0x7f000001u + (uint32_t)(i % B.sources));
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0)
            die_errno("bind to a 127.x source address", errno);
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&B.addr, B.alen) < 0 && errno != EINPROGRESS) {
        char what[128];
        snprintf(what, sizeof what, "connect %s port %s (connection %d)", B.host, B.port, i + 1);
        die_errno(what, errno);
    }
    c->fd = fd;
    c->alive = 1;
    c->connecting = 1;
    c->want_out = 1;
    c->probed = 0;
    c->carrylen = 0;
    c->outlen = c->outoff = 0;
    c->settled = !moves(c);
    if (!c->settled)
        B.unsettled++;
    watch(c, EPOLLIN | EPOLLOUT, EPOLL_CTL_ADD);
}

/* Appends bytes to a publisher's backlog. */
static int conn_queue(bconn *c, const char *p, size_t n)
{
    if (c->outlen - c->outoff + n > SEND_CAP)
        return -1;
    if (c->outoff > 0 && c->outoff == c->outlen)
        c->outoff = c->outlen = 0;
    if (c->outlen + n > c->outcap) {
        if (c->outoff > 0) {
            memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
            c->outlen -= c->outoff;
            c->outoff = 0;
        }
        if (c->outlen + n > c->outcap) {
            size_t cap = c->outcap ? c->outcap : 4096;
            while (cap < c->outlen + n)
                cap *= 2;
            c->out = xrealloc(c->out, cap);
            c->outcap = cap;
        }
    }
    memcpy(c->out + c->outlen, p, n);
    c->outlen += n;
    return 0;
}

static void conn_lost(bconn *c, const char *why)
{
    if (!c->alive)
        return;
    fprintf(stderr, "hichat-bench: connection %d lost: %s\n", (int)(c - B.c) + 1, why);
    epoll_ctl(B.ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->alive = 0;
    if (!c->settled) {
        c->settled = 1;
        B.unsettled--;
    }
    B.dropped++;
}

static void conn_flush(bconn *c)
{
    while (c->outoff < c->outlen) {
        ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN)
                break;
            if (errno == EINTR)
                continue;
            conn_lost(c, strerror(errno));
            return;
        }
        c->outoff += (size_t)w;
    }
    int want = c->outoff < c->outlen || c->connecting;
    if (want != c->want_out) {
        c->want_out = want;
        watch(c, EPOLLIN | (want ? EPOLLOUT : 0), EPOLL_CTL_MOD);
    }
}

static unsigned hexval(const char *p, int n, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) {
        unsigned ch = (unsigned char)p[i], d;
        if (ch - '0' < 10)
            d = ch - '0';
        else if (ch - 'a' < 6)
            d = ch - 'a' + 10;
        else
            return 0;
        v = v << 4 | d;
    }
    *out = v;
    return 1;
}

/* Counts the deliveries in complete lines p[0..n). */
static void scan(bconn *c, const char *p, size_t n, uint64_t now)
{
    const char *base = p, *end = p + n;
    /* hichat tags a line with its room for a member in several rooms; with
     * --rooms or --in-rooms the steps count the lines that came tagged. */
    int tags = B.target == T_HICHAT && (B.rooms || B.in_rooms);
    while ((p = memchr(p, '~', (size_t)(end - p))) != NULL) {
        if (end - p < STAMP_LEN)
            break;
        uint64_t step, t;
        if (memcmp(p, MAGIC, MAGIC_LEN) != 0 || !hexval(p + MAGIC_LEN, 2, &step) ||
            !hexval(p + MAGIC_LEN + 10, 16, &t)) {
            p++;
            continue;
        }
        const char *line = p;
        p += STAMP_LEN;
        if (!c->receiver)
            continue;
        if (tags && step <= MAX_STEPS) {
            while (line > base && line[-1] != '\n')
                line--;
            if (*line == W_ROOM_PREFIX)
                B.tagged[step]++;
        }
        if (step == PROBE_STEP) {
            if (!c->probed) {
                c->probed = 1;
                B.probes_seen++;
            }
        } else if ((int)step == B.step && B.hist) {
            histo_add(B.hist, now > t ? now - t : 0);
            B.recv[step]++;
            B.last_delivery_ns = now;
        } else if (step <= MAX_STEPS) {
            B.recv[step]++; /* late, after its step's report: counted, not timed */
        }
    }
}

/* Keeps the last line of p[0..n) (complete lines) as c's last words if it
 * is an error: hichat's start with '!', Redis's with '-'. */
static void remember_words(bconn *c, const char *p, size_t n)
{
    size_t end = n - 1, start = end;
    while (start > 0 && p[start - 1] != '\n')
        start--;
    if (end == start || (p[start] != '!' && p[start] != '-'))
        return;
    if (p[end - 1] == '\r')
        end--;
    size_t len = end - start < WORDS_MAX - 1 ? end - start : WORDS_MAX - 1;
    if (!c->words)
        c->words = xmalloc(WORDS_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)p[start + i];
        c->words[i] = ch >= ' ' && ch < 0x7f ? (char)ch : '?';
    }
    c->words[len] = '\0';
}

/* Looks in complete lines p[0..n) for the confirmation of a moving
 * member's last command, "*** you left #lobby" (tagged or not); dies on an
 * error instead, since a member in the wrong rooms would spoil the counts. */
static void settle(bconn *c, const char *p, size_t n)
{
    static const char done[] = W_NOTICE W_YOU_LEFT LOBBY;
    const char *end = p + n;
    while (p < end && !c->settled) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)(eol - p); /* complete lines: eol is found */
        if (len >= strlen(W_ERROR) && memcmp(p, W_ERROR, strlen(W_ERROR)) == 0)
            die("member %d, moving to its rooms, was told \"%.*s\"", (int)(c - B.c) + 1,
                (int)(len && p[len - 1] == '\r' ? len - 1 : len), p);
        const char *hit = memmem(p, len, done, sizeof done - 1);
        if (hit && (hit + sizeof done - 1 == eol || hit[sizeof done - 1] == '\r')) {
            c->settled = 1;
            B.unsettled--;
        }
        p = eol + 1;
    }
}

static void conn_read(bconn *c)
{
    for (;;) {
        size_t have = c->carrylen;
        if (have)
            memcpy(B.rbuf, c->carry, have);
        ssize_t r = recv(c->fd, B.rbuf + have, READ_BUF - have, 0);
        if (r == 0) {
            char why[200];
            if (c->words)
                snprintf(why, sizeof why, "closed by the server after \"%s\"", c->words);
            else
                snprintf(why, sizeof why, "closed by the server");
            conn_lost(c, why);
            return;
        }
        if (r < 0) {
            if (errno == EAGAIN)
                return;
            if (errno == EINTR)
                continue;
            conn_lost(c, strerror(errno));
            return;
        }
        B.last_read_ns = now_ns();
        size_t n = have + (size_t)r;
        char *nl = memrchr(B.rbuf, '\n', n);
        size_t whole = nl ? (size_t)(nl - B.rbuf) + 1 : 0;
        if (whole) {
            scan(c, B.rbuf, whole, now_ns());
            remember_words(c, B.rbuf, whole);
            if (!c->settled)
                settle(c, B.rbuf, whole);
        }
        size_t rest = n - whole;
        if (rest > CARRY_MAX) { /* not a line of ours: keep its tail for a stamp */
            memmove(B.rbuf + whole, B.rbuf + n - CARRY_MAX, CARRY_MAX);
            rest = CARRY_MAX;
        }
        if (rest && !c->carry)
            c->carry = xmalloc(CARRY_MAX);
        if (rest)
            memcpy(c->carry, B.rbuf + whole, rest);
        c->carrylen = (uint16_t)rest;
        if ((size_t)r < READ_BUF - have)
            return; /* drained */
    }
}

/* Queues what puts a new member where it belongs: hichat /join and /part
 * (the last one, /part, is the one whose confirmation settles it), a Redis
 * subscriber's SUBSCRIBE. */
static void queue_rooms(bconn *c)
{
    char cmd[IN_ROOMS_MAX * (ROOM_NAME_MAX + 8) + 64], name[ROOM_NAME_MAX];
    size_t n = 0;
    int first = 0, count = 1;
    if (B.rooms)
        first = room_of((int)(c - B.c));
    else if (B.in_rooms)
        count = B.in_rooms;
    if (B.target == T_REDIS) {
        n += (size_t)snprintf(cmd, sizeof cmd, "SUBSCRIBE");
        for (int k = 0; k < count; k++) {
            if (B.rooms || B.in_rooms)
                room_name(name, first + k);
            n += (size_t)snprintf(cmd + n, sizeof cmd - n, " %s",
                                  B.rooms || B.in_rooms ? name : B.channel);
        }
        n += (size_t)snprintf(cmd + n, sizeof cmd - n, "\r\n");
    } else {
        for (int k = 0; k < count; k++) {
            room_name(name, first + k);
            n += (size_t)snprintf(cmd + n, sizeof cmd - n, "/join #%s\n", name);
        }
        n += (size_t)snprintf(cmd + n, sizeof cmd - n, "/part " LOBBY "\n");
    }
    conn_queue(c, cmd, n);
}

static void on_connected(bconn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
        char what[128];
        snprintf(what, sizeof what, "connect %s port %s", B.host, B.port);
        die_errno(what, err);
    }
    c->connecting = 0;
    if ((B.target == T_REDIS && c->receiver) || moves(c))
        queue_rooms(c);
    conn_flush(c);
}

static int connecting;

/* Runs the loop once for at most timeout_ns; handles what is ready. */
static void poll_once(uint64_t timeout_ns)
{
    static struct epoll_event ev[1024];
    struct timespec ts = {.tv_sec = (time_t)(timeout_ns / 1000000000u),
                          .tv_nsec = (long)(timeout_ns % 1000000000u)};
    if (B.spin) /* never sleep: no wake-up latency of our own in the figures */
        ts.tv_sec = 0, ts.tv_nsec = 0;
    int n = epoll_pwait2(B.ep, ev, (int)ARRAY_LEN(ev), &ts, NULL);
    if (n < 0) {
        if (errno == EINTR)
            return;
        die_errno("epoll_pwait2", errno);
    }
    for (int i = 0; i < n; i++) {
        bconn *c = ev[i].data.ptr;
        if (!c->alive)
            continue;
        if (c->connecting && (ev[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
            on_connected(c);
            connecting--;
        }
        if (c->alive && (ev[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
            conn_read(c);
        if (c->alive && !c->connecting && (ev[i].events & EPOLLOUT))
            conn_flush(c);
    }
}

/* Formats one message for the target into out; returns its length. A Redis
 * message is published to channel. */
static size_t encode(char *out, const char *channel, int step, uint64_t seq, uint64_t t)
{
    char payload[4096];
    int n = snprintf(payload, sizeof payload, MAGIC "%02x%08" PRIx32 "%016" PRIx64, step,
                     (uint32_t)seq, t);
    while (n < B.size)
        payload[n++] = 'x';
    if (B.target == T_HICHAT) {
        memcpy(out, payload, (size_t)n);
        out[n] = '\n';
        return (size_t)n + 1;
    }
    int h = snprintf(out, 256, "*3\r\n$7\r\nPUBLISH\r\n$%zu\r\n%s\r\n$%d\r\n", strlen(channel),
                     channel, n);
    memcpy(out + h, payload, (size_t)n);
    memcpy(out + h + n, "\r\n", 2);
    return (size_t)h + (size_t)n + 2;
}

static int publish(int who, int step, uint64_t seq, uint64_t t)
{
    char msg[4096 + 256];
    size_t n = encode(msg, B.pubchan[who], step, seq, t);
    bconn *c = &B.c[B.pub[who]];
    if (!c->alive || conn_queue(c, msg, n) < 0)
        return -1;
    return 0;
}

static void flush_publishers(void)
{
    for (int i = 0; i < B.senders; i++) {
        bconn *c = &B.c[B.pub[i]];
        if (c->alive && c->outoff < c->outlen)
            conn_flush(c);
    }
}

static int receivers_total(void)
{
    int n = 0;
    for (int i = 0; i < B.nconns; i++)
        n += B.c[i].receiver;
    return n;
}

/* Dies if members were lost since the count was dropped0, while doing what. */
static void no_losses(int dropped0, const char *what)
{
    if (B.dropped != dropped0)
        die("%d connection(s) lost while %s; is the server's limit on clients "
            "(hichat: --max-clients, --max-per-ip) too low?",
            B.dropped - dropped0, what);
}

/* Connects every member that is not connected (all of them at first; after
 * a step that cost members, those the server dropped), waits for hichat to
 * confirm the room commands of those that move, then sends probes until
 * every receiver has heard one, which proves each is in its room whatever
 * the server says on joining, and waits for the rooms to settle. With
 * --rooms, the first sender of each room probes it. */
static void join_all(void)
{
    int dropped0 = B.dropped;
    for (int i = 0; i < B.nconns; i++) {
        if (B.c[i].alive)
            continue;
        while (connecting >= CONNECT_WINDOW)
            poll_once(100000000);
        conn_open(&B.c[i], i);
        connecting++;
    }
    while (connecting > 0)
        poll_once(100000000);
    no_losses(dropped0, "connecting");
    uint64_t deadline = now_ns() + SETTLE_S * 1000000000ull;
    while (B.unsettled > 0) {
        if (now_ns() > deadline)
            die("%d members had not left " LOBBY " for their rooms within %d s", B.unsettled,
                SETTLE_S);
        poll_once(100000000);
        no_losses(dropped0, "moving to the rooms");
    }

    for (int i = 0; i < B.nconns; i++)
        B.c[i].probed = 0;
    B.probes_seen = 0;
    int probers = B.rooms ? B.rooms : 1;
    /* In hichat the probing member hears everyone but itself. */
    int need = receivers_total() - (B.target == T_HICHAT ? probers : 0);
    uint64_t seq = 0;
    deadline = now_ns() + 120ull * 1000000000u;
    while (B.probes_seen < need) {
        if (now_ns() > deadline)
            die("only %d of %d members heard a message within 120 s", B.probes_seen, need);
        for (int i = 0; i < probers; i++)
            if (publish(i, PROBE_STEP, seq++, now_ns()) < 0)
                die("sender %d's connection is gone", i + 1);
        flush_publishers();
        uint64_t until = now_ns() + 300000000u;
        while (B.probes_seen < need && now_ns() < until)
            poll_once(until - now_ns());
        no_losses(dropped0, "joining");
    }
    /* Then the room settles: the server may announce the newcomers (hichat
     * does after a quiet moment, a notice to every member for each). */
    uint64_t quiet = 1000000000u;
    deadline = now_ns() + 300ull * 1000000000u;
    while (now_ns() - B.last_read_ns < quiet) {
        if (now_ns() > deadline)
            die("the room did not fall quiet within 300 s of everyone joining");
        poll_once(quiet - (now_ns() - B.last_read_ns));
    }
}

/* Sets up the members and publishers, and joins them all. */
static void setup(void)
{
    int subs = B.members, pubs = B.target == T_REDIS ? B.senders : 0;
    B.nconns = subs + pubs;
    B.c = xcalloc((size_t)B.nconns, sizeof *B.c);
    B.pub = xcalloc((size_t)B.senders, sizeof *B.pub);
    B.pubchan = xcalloc((size_t)B.senders, sizeof *B.pubchan);
    for (int i = 0; i < B.nconns; i++)
        B.c[i].receiver = i < subs;
    for (int i = 0; i < B.senders; i++) {
        /* hichat: the first S members also send; Redis: S extra connections */
        B.pub[i] = B.target == T_REDIS ? subs + i : i;
        B.c[B.pub[i]].publisher = 1;
        if (B.rooms)
            room_name(B.pubchan[i], room_of(B.pub[i]));
        else if (B.in_rooms) /* where a hichat member talks: the room joined last */
            room_name(B.pubchan[i], B.in_rooms - 1);
        else
            snprintf(B.pubchan[i], sizeof B.pubchan[i], "%s", B.channel);
    }
    int per_room = B.rooms ? B.members / B.rooms : B.members;
    B.recips = B.target == T_REDIS ? per_room : per_room - 1;
    if (B.sources == 0)
        B.sources = auto_sources(B.nconns);

    uint64_t t0 = now_ns();
    join_all();
    printf("ready target=%s members=%d%s senders=%d recipients_per_msg=%d sources=%d "
           "setup_s=%.2f\n",
           target_name(), B.members, B.layout, B.senders, B.recips, B.sources,
           (double)(now_ns() - t0) / 1e9);
    fflush(stdout);
}

typedef struct {
    double rate, delivered_per_s, server_cpu, cpu_ns_per_delivery, gen_cpu;
    uint64_t msgs, expected, got, lost;
    uint64_t p50, p90, p99, p999, max;
    int dropped, backlog, ok;
    long preempted;
} result;

static result run_step(double rate)
{
    result r = {.rate = rate};
    if (++B.step >= MAX_STEPS)
        die("too many steps");
    histo *h = xcalloc(1, sizeof *h);
    B.hist = h;
    B.recv[B.step] = B.tagged[B.step] = 0;
    int dropped0 = B.dropped;

    uint64_t total = (uint64_t)llround(rate * B.seconds);
    if (total < 1)
        total = 1;
    double gap = 1e9 / rate;
    uint64_t cpu0 = server_cpu_ns();
    long pre0 = server_preempted();
    double gen0 = cpu_self_s();
    uint64_t t0 = now_ns() + 1000000u, k = 0;
    B.last_delivery_ns = t0;
    uint64_t oldest = 0; /* intended time of the oldest message not yet sent */
    while (k < total) {
        uint64_t now = now_ns();
        while (k < total) {
            uint64_t due = t0 + (uint64_t)((double)k * gap);
            if (due > now)
                break;
            if (publish((int)(k % (uint64_t)B.senders), B.step, k, due) < 0) {
                r.backlog = 1;
                break;
            }
            if (!oldest)
                oldest = due;
            k++;
        }
        if (r.backlog)
            break;
        /* One send per message would make the generator, not the server,
         * the limit at high rates: under load messages go out together, the
         * oldest at most SEND_BATCH_NS late (and charged to the latency). */
        uint64_t next = t0 + (uint64_t)((double)k * gap); /* > now: all due are queued */
        if (oldest && (k == total || next - now > SEND_BATCH_NS || now - oldest >= SEND_BATCH_NS)) {
            flush_publishers();
            oldest = 0;
        }
        if (k < total) {
            now = now_ns();
            poll_once(next > now ? next - now : 0);
        }
    }
    r.msgs = k;
    r.expected = k * (uint64_t)B.recips;
    uint64_t end = now_ns() + (uint64_t)(B.drain * 1e9);
    while (B.recv[B.step] < r.expected && now_ns() < end && B.dropped == dropped0)
        poll_once(10000000);
    uint64_t cpu1 = server_cpu_ns();
    r.preempted = server_preempted() - pre0;
    double gen1 = cpu_self_s();
    double wall = (double)(B.last_delivery_ns - t0) / 1e9;
    if (wall < B.seconds)
        wall = B.seconds;

    r.got = B.recv[B.step];
    r.lost = r.got < r.expected ? r.expected - r.got : 0;
    r.dropped = B.dropped - dropped0;
    r.delivered_per_s = (double)r.got / wall;
    r.server_cpu = B.pid > 0 ? (double)(cpu1 - cpu0) / 1e9 / wall : 0;
    r.cpu_ns_per_delivery = B.pid > 0 && r.got ? (double)(cpu1 - cpu0) / (double)r.got : 0;
    r.gen_cpu = (gen1 - gen0) / wall;
    r.p50 = histo_q(h, 0.50);
    r.p90 = histo_q(h, 0.90);
    r.p99 = histo_q(h, 0.99);
    r.p999 = histo_q(h, 0.999);
    r.max = h->max;
    r.ok = !r.backlog && r.lost == 0 && r.dropped == 0 && (double)r.p99 <= B.p99_max_ms * 1e6;
    B.hist = NULL;
    free(h);

    char tagged[48] = "";
    if (B.target == T_HICHAT && (B.rooms || B.in_rooms))
        snprintf(tagged, sizeof tagged, " tagged=%" PRIu64, B.tagged[B.step]);
    printf("step target=%s members=%d%s rate=%.0f msgs=%" PRIu64 " expected=%" PRIu64
           " delivered=%" PRIu64 "%s lost=%" PRIu64 " dropped=%d delivered_per_s=%.0f"
           " p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f"
           " server_cpu=%.2f server_ns_per_delivery=%.1f server_preempted=%ld gen_cpu=%.2f"
           " ok=%d%s\n",
           target_name(), B.members, B.layout, rate, r.msgs, r.expected, r.got, tagged, r.lost,
           r.dropped, r.delivered_per_s, (double)r.p50 / 1e3, (double)r.p90 / 1e3,
           (double)r.p99 / 1e3, (double)r.p999 / 1e3, (double)r.max / 1e3, r.server_cpu,
           r.cpu_ns_per_delivery, r.preempted, r.gen_cpu, r.ok,
           r.backlog ? " (the server stopped reading the senders)" : "");
    fflush(stdout);
    /* A pause between steps, so one step's backlog does not start the next:
     * at least STEP_PAUSE_NS, and after an overload until the late lines
     * have stopped coming (a server can take seconds to write off a queue
     * of millions), for at most STEP_PAUSE_S. */
    uint64_t start = now_ns(), cap = start + STEP_PAUSE_S * 1000000000ull;
    for (;;) {
        uint64_t now = now_ns(), until = start + STEP_PAUSE_NS;
        if (B.last_read_ns + STEP_PAUSE_NS > until)
            until = B.last_read_ns + STEP_PAUSE_NS;
        if (now >= until || now >= cap)
            break;
        poll_once(until - now);
    }
    return r;
}

static void print_best(const result *best)
{
    if (!best) {
        printf("best target=%s members=%d%s none: even the first rate failed\n", target_name(),
               B.members, B.layout);
        return;
    }
    printf("best target=%s members=%d%s rate=%.0f delivered_per_s=%.0f p99_us=%.1f"
           " server_ns_per_delivery=%.1f\n",
           target_name(), B.members, B.layout, best->rate, best->delivered_per_s,
           (double)best->p99 / 1e3, best->cpu_ns_per_delivery);
}

/* Raises the rate by --grow until two rates in a row fail, or one loses a
 * delivery or a member (the server is past what it can carry), then bisects
 * between the highest rate that held and the failure just above it. Going on
 * past a single failure matters: p99 is not monotonic in the rate. A server
 * that writes each message alone at moderate load starts to coalesce many
 * per write once busy, so its latency can peak below its capacity. */
static int sweep(void)
{
    result best = {0}, r = {0};
    int have = 0, fails = 0;
    double hi = 0, rate = B.rate;
    while (B.step < MAX_STEPS - B.refine - 1) {
        r = run_step(rate);
        if (r.ok) {
            best = r, have = 1, fails = 0, hi = 0;
        } else {
            if (hi == 0)
                hi = rate;
            if (++fails >= 2 || r.lost || r.dropped || r.backlog)
                break;
        }
        rate *= B.grow;
    }
    double lo = have ? best.rate : 0;
    for (int i = 0; hi > lo && have && i < B.refine; i++) {
        if (r.dropped) { /* the members the last step cost come back first */
            int lost = r.dropped;
            join_all();
            printf("rejoin target=%s members=%d%s rejoined=%d\n", target_name(), B.members,
                   B.layout, lost);
            fflush(stdout);
        }
        rate = (lo + hi) / 2;
        r = run_step(rate);
        if (r.ok)
            best = r, lo = rate;
        else
            hi = rate;
    }
    print_best(have ? &best : NULL);
    return have ? 0 : 2;
}

/* Holds the members connected and idle; reports the server's memory. */
static int idle(long rss0)
{
    /* hichat hands memory left free by the join storm back a second after
     * activity; give any server that long and a little more. */
    for (uint64_t until = now_ns() + 2000000000u; now_ns() < until;)
        poll_once(until - now_ns());
    long rss1 = server_rss_kib(), hwm = server_hwm_kib();
    printf("idle target=%s members=%d%s server_rss_before_kib=%ld server_rss_after_kib=%ld"
           " server_rss_peak_kib=%ld bytes_per_member=%.0f\n",
           target_name(), B.members, B.layout, rss0, rss1, hwm,
           (double)(rss1 - rss0) * 1024.0 / B.members);
    return 0;
}

static void usage(FILE *f)
{
    fputs("usage: hichat-bench [options]\n"
          "\n"
          "Connects N members to a chat room and measures delivery: latency from each\n"
          "message's intended send time (open loop), loss, delivered/s, and the\n"
          "server's CPU time per delivery. Prints one 'step' line per rate and, with\n"
          "--sweep, a 'best' line: the highest rate with p99 within --p99-max, no\n"
          "loss and no dropped connection.\n"
          "\n"
          "  -t, --target hichat|redis  the server's protocol (default hichat; redis\n"
          "                         is pub/sub: N SUBSCRIBE connections, S PUBLISH ones)\n"
          "  -H, --host HOST        server address (default 127.0.0.1)\n"
          "  -p, --port PORT        server port (default 6666 for hichat, 6379 for redis)\n"
          "  -n, --members N        members in the room (default 100)\n"
          "  -s, --senders S        how many of them send, in turn (default 1; with\n"
          "                         --rooms K, K: sender i is in room i mod K)\n"
          "  -r, --rate R           messages per second, all senders together\n"
          "                         (default 1000; with --sweep, the first rate)\n"
          "  -d, --seconds D        length of each step (default 2)\n"
          "      --drain D          seconds to wait for late deliveries (default 2)\n"
          "      --size BYTES       message payload size (default 64; 29-4000)\n"
          "      --sweep            raise the rate by --grow until two steps in a row\n"
          "                         fail (or one loses something), then bisect --refine\n"
          "                         times below the first failure above the best rate,\n"
          "                         first connecting again any member a step cost\n"
          "                         (exit 2 if none held)\n"
          "      --grow F           rate factor between sweep steps (default 1.5)\n"
          "      --refine K         bisection steps after the first failure (default 3)\n"
          "      --p99-max MS       the latency a step may not exceed (default 10)\n"
          "      --idle             connect, wait, report the server's memory, exit\n"
          "      --sources K        spread connections over 127.0.0.1..K (default:\n"
          "                         as many as the ephemeral port range needs)\n"
          "      --spin             poll without sleeping, so the generator's own\n"
          "                         wake-ups do not add to the latency it measures\n"
          "      --pid PID          the server's process, for CPU and memory figures\n"
          "      --channel NAME     Redis channel (default room)\n"
          "      --rooms K          spread the N members over K rooms of N/K, each\n"
          "                         member in exactly one: hichat /join #r1..#rK, then\n"
          "                         /part " LOBBY "; Redis SUBSCRIBE r1..rK (one each)\n"
          "      --in-rooms M       put every member in the same M rooms and no other:\n"
          "                         hichat /join #m1..#mM, then /part " LOBBY " (its\n"
          "                         lines come tagged); Redis SUBSCRIBE m1..mM; the\n"
          "                         senders talk in the last (with --idle: the memory\n"
          "                         of members in several rooms)\n"
          "  -h, --help             this help\n"
          "\n"
          "A hichat server must not rate-limit the senders: start it with --msg-rate 0\n"
          "(and --max-per-ip 0 for more than 64 members from one address). Exit status:\n"
          "0 measured, 1 error, 2 no rate held.\n",
          f);
}

static double num_arg(const char *opt, const char *s, double min, double max)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= min && v <= max))
        die("%s: '%s' is not a number in [%g, %g]", opt, s, min, max);
    return v;
}

int main(int argc, char **argv)
{
    enum {
        O_DRAIN = 256,
        O_SIZE,
        O_SWEEP,
        O_GROW,
        O_REFINE,
        O_P99,
        O_IDLE,
        O_SOURCES,
        O_PID,
        O_CHANNEL,
        O_SPIN,
        O_ROOMS,
        O_IN_ROOMS
    };
    static const struct option opts[] = {
        {"target", required_argument, NULL, 't'},
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"members", required_argument, NULL, 'n'},
        {"senders", required_argument, NULL, 's'},
        {"rate", required_argument, NULL, 'r'},
        {"seconds", required_argument, NULL, 'd'},
        {"drain", required_argument, NULL, O_DRAIN},
        {"size", required_argument, NULL, O_SIZE},
        {"sweep", no_argument, NULL, O_SWEEP},
        {"grow", required_argument, NULL, O_GROW},
        {"refine", required_argument, NULL, O_REFINE},
        {"p99-max", required_argument, NULL, O_P99},
        {"idle", no_argument, NULL, O_IDLE},
        {"sources", required_argument, NULL, O_SOURCES},
        {"pid", required_argument, NULL, O_PID},
        {"channel", required_argument, NULL, O_CHANNEL},
        {"spin", no_argument, NULL, O_SPIN},
        {"rooms", required_argument, NULL, O_ROOMS},
        {"in-rooms", required_argument, NULL, O_IN_ROOMS},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "t:H:p:n:s:r:d:h", opts, NULL)) != -1) {
        switch (ch) {
        case 't':
            if (strcmp(optarg, "hichat") == 0)
                B.target = T_HICHAT;
            else if (strcmp(optarg, "redis") == 0)
                B.target = T_REDIS;
            else
                die("--target: '%s' is neither hichat nor redis", optarg);
            break;
        case 'H': B.host = optarg; break;
        case 'p': B.port = optarg; break;
        case 'n': B.members = (int)num_arg("--members", optarg, 2, 1000000); break;
        case 's':
            B.senders = (int)num_arg("--senders", optarg, 1, 100000);
            B.senders_set = 1;
            break;
        case 'r': B.rate = num_arg("--rate", optarg, 0.1, 1e8); break;
        case 'd': B.seconds = num_arg("--seconds", optarg, 0.05, 3600); break;
        case O_DRAIN: B.drain = num_arg("--drain", optarg, 0, 3600); break;
        case O_SIZE: B.size = (int)num_arg("--size", optarg, STAMP_LEN, 4000); break;
        case O_SWEEP: B.sweep = 1; break;
        case O_GROW: B.grow = num_arg("--grow", optarg, 1.01, 100); break;
        case O_REFINE: B.refine = (int)num_arg("--refine", optarg, 0, 20); break;
        case O_P99: B.p99_max_ms = num_arg("--p99-max", optarg, 0.001, 1e6); break;
        case O_IDLE: B.idle = 1; break;
        case O_SOURCES: B.sources = (int)num_arg("--sources", optarg, 1, 65536); break;
        case O_PID: B.pid = (pid_t)num_arg("--pid", optarg, 1, 1 << 30); break;
        case O_CHANNEL: B.channel = optarg; break;
        case O_SPIN: B.spin = 1; break;
        case O_ROOMS: B.rooms = (int)num_arg("--rooms", optarg, 1, ROOMS_MAX); break;
        case O_IN_ROOMS: B.in_rooms = (int)num_arg("--in-rooms", optarg, 1, IN_ROOMS_MAX); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 1;
        }
    }
    if (optind < argc)
        die("unexpected argument '%s' (see --help)", argv[optind]);
    if (B.rooms && B.in_rooms)
        die("--rooms and --in-rooms are two layouts; choose one");
    if (B.rooms) {
        if (B.members % B.rooms != 0 || B.members / B.rooms < 2)
            die("--members %d do not make --rooms %d of equal size, 2 or more each", B.members,
                B.rooms);
        if (!B.senders_set)
            B.senders = B.rooms;
        if (B.senders < B.rooms)
            die("--senders %d leave some of --rooms %d without a sender", B.senders, B.rooms);
        snprintf(B.layout, sizeof B.layout, " rooms=%d", B.rooms);
    } else if (B.in_rooms) {
        snprintf(B.layout, sizeof B.layout, " in_rooms=%d", B.in_rooms);
    }
    if (B.senders > B.members)
        die("--senders %d is more than --members %d", B.senders, B.members);
    if (strlen(B.channel) > CHANNEL_MAX - 1 || strpbrk(B.channel, " \r\n"))
        die("--channel: a short name without spaces, please");
    if (!B.port)
        B.port = B.target == T_REDIS ? "6379" : "6666";
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_TIMERSLACK, 1UL); /* send on time, not up to 50 us late */

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    int conns = B.members + (B.target == T_REDIS ? B.senders : 0);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (rlim_t)conns + 16 > rl.rlim_cur)
        die("%d connections need more descriptors than the limit of %llu (ulimit -n)", conns,
            (unsigned long long)rl.rlim_cur);

    resolve();
    B.ep = epoll_create1(EPOLL_CLOEXEC);
    if (B.ep < 0)
        die_errno("epoll_create1", errno);
    B.rbuf = xmalloc(READ_BUF);
    long rss0 = server_rss_kib();
    setup();
    int rc;
    if (B.idle)
        rc = idle(rss0);
    else if (B.sweep)
        rc = sweep();
    else
        rc = run_step(B.rate).ok ? 0 : 2;
    return rc;
}
