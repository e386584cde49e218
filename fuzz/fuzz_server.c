/* fuzz_server.c - the whole server (src/server.h) driven by a byte script:
 * connections, lines, commands, slow readers, hang-ups, timers, shutdown.
 *
 * The server runs on its own loop with a virtual clock, without a listener:
 * each client is one end of a socketpair whose other end server_adopt() takes,
 * with a made-up peer address (127.0.0.1-4, the same as v4-mapped IPv6, ::1,
 * or no IP at all) so the per-IP and total limits are reached too.
 *
 * Script: 4 header bytes, then ops. A missing byte reads as 0.
 *   h0  max_line  64 + 2 * (h0 % 225)              (64..512)
 *   h1  max_queue 4096 + 512 * (h1 & 0x7F); bit 7: tiny socket buffers, so a
 *       client that stops reading fills its queue within a few lines
 *   h2  msg_rate h2 & 7 (0: no flood control), msg_burst 1 + (h2 >> 3 & 7),
 *       flood_timeout 1 + (h2 >> 6) s
 *   h3  line_timeout h3 & 7 s (0: none), max_per_ip h3 >> 3 & 3 (0: none),
 *       max_clients h3 >> 5 ? 1 + (h3 >> 5) : unlimited
 * Ops (C is a client slot, byte % 8; ops on a free slot do nothing):
 *   c A      connect a new client from address A (first free slot)
 *   w C N .. client writes the next N bytes of the script
 *   W C ..\n client writes the script up to and including the next LF
 *   P C ..\n the same without the LF (a partial line)
 *   L C N B  client writes 8 * N bytes B and a LF (long lines)
 *   M C N B  the same without the LF
 *   d C K    client writes canned text K (commands, HTTP, TLS, junk...)
 *   r C      client reads and checks everything waiting
 *   a C      client stops / starts reading after every loop pass
 *   x C      client closes
 *   h C      client shuts down its writing side
 *   t K      the clock moves by one of 16 steps (1 ms .. 61 s); one pass
 *   T A B    the clock moves by (A << 8 | B) * 10 ms; one pass
 *   S        server_shutdown() (no connects after it)
 *   other    one loop pass
 * After the script, QUIET_PASSES passes with nothing happening must leave no
 * fd ready, else a real loop would spin (HICHAT_FUZZ_SKIP_QUIET=1 skips this
 * check, to fuzz past a known spin). Then server_shutdown(), passes with the
 * clock moving past every deadline, server_free(), loop_free(), and every
 * client reads what is left.
 *
 * Checked: what sanitizers see, no memory left (LeakSanitizer), no
 * descriptor left (the open fds are the same as before the input), and every
 * line a client receives obeys protocol.md: the first is the greeting or a
 * refusal, each is valid UTF-8 with no control character but TAB, no C1 or
 * bidi control, and none is longer than the longest line the server can
 * make (3 * max_line for the cleaned text plus the nick and frame, or a
 * 1 KiB notice). Only the HTTP answer to an HTTP request has CR LF. In a
 * room message "<nick> text" the nick is valid and the text comes from at
 * most max_line bytes. And, following each client's nick, no client gets
 * "<its nick> ..." back. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "dialect.h"
#include "fuzz.h"
#include "loop.h"
#include "server.h"
#include "text.h"

#define SLOTS        8       /* clients connected at once */
#define CONNECTS_MAX 32      /* connects per input */
#define OPS_MAX      600     /* script ops per input */
#define PASSES_MAX   3000    /* loop passes per input, the end included */
#define END_PASSES   40      /* passes after the script, END_STEP_MS apart */
#define END_STEP_MS  100     /* 40 * 100 ms passes every 2 s deadline */
#define TINY_SNDBUF  4096    /* the kernel's minimum is about this */
#define CLOCK_START  1000000 /* a clock at 0 would look like "not set" */
#define FD_SCAN      256     /* descriptors compared before and after */
/* dialect_text.c: "*** " (the longer prefix) + at most DIALECT_TEXT_MAX bytes */
#define NOTICE_MAX (sizeof W_NOTICE - 1 + DIALECT_TEXT_MAX)
/* Around the cleaned text of a message: "-> *" NICK "* " is the longest. */
#define MESSAGE_FRAME (4 + NICK_MAX + 2)
#define READ_CHUNK    65536
/* With no client activity and the clock stopped, the loop must be quiet
 * after this many passes: nothing ready, or a real loop_run would spin. */
#define QUIET_PASSES 8

typedef struct {
    int fd;       /* our end, -1 when the slot is free */
    int autoread; /* drained after every loop pass */
    int eof;      /* the server closed its end */
    int http;     /* got the HTTP answer: its lines end in CR LF */
    unsigned long lines;
    char nick[NICK_MAX + 1]; /* as the server last told this client */
    char *rx;                /* the line being received (line_max + 1 bytes) */
    size_t rxlen;
} client;

typedef struct {
    const uint8_t *p;
    size_t n, i;
} script;

typedef struct {
    loop *l;
    server *s;
    client c[SLOTS];
    size_t line_max; /* the longest line the server may send, LF excluded */
    size_t max_line; /* the server's option */
    int tiny_buffers;
    int stopping;
    int connects;
    int passes;
    int verbose;
    int epfd; /* the loop's epoll descriptor, to look at what is ready */
} state;

static uint64_t vclock;

static uint64_t virtual_clock(void *data)
{
    (void)data;
    return vclock;
}

static int get(script *sc)
{
    return sc->i < sc->n ? sc->p[sc->i++] : -1;
}

static int get0(script *sc)
{
    int b = get(sc);
    return b < 0 ? 0 : b;
}

/* ---- what clients receive ---- */

static int starts(const char *line, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(line, prefix, n) == 0;
}

/* Prints up to 100 bytes, escaped, for HICHAT_FUZZ_VERBOSE. */
static void show(const void *p, size_t n)
{
    const unsigned char *u = p;
    fputc('"', stderr);
    for (size_t i = 0; i < n && i < 100; i++)
        fprintf(stderr, u[i] >= 0x20 && u[i] < 0x7F && u[i] != '\\' ? "%c" : "\\x%02x", u[i]);
    fprintf(stderr, "\"%s\n", n > 100 ? "..." : "");
}

/* Follows the client's nick through the greeting and "*** OLD is now known
 * as NEW" notices, and checks protocol.md's "the sender does not get its own
 * line back". Only the server's notices start with W_NOTICE (a member's
 * /me is "* NICK ..."), so a rename of NICK is believed from them alone. */
static void track_nick(client *c, const char *line, size_t len)
{
    static const char welcome[] = W_NOTICE W_WELCOME, known[] = W_RENAMED;
    static const size_t pl = sizeof W_NOTICE - 1;
    size_t nl = strlen(c->nick);

    if (c->lines == 1 && starts(line, len, welcome)) {
        const char *p = line + sizeof welcome - 1;
        const char *e = memchr(p, ' ', len - (size_t)(p - line));
        FUZZ_CHECK(e && e - p <= NICK_MAX);
        memcpy(c->nick, p, (size_t)(e - p));
        c->nick[e - p] = '\0';
        return;
    }
    if (nl == 0)
        return;
    FUZZ_CHECKF(!(len > nl + 2 && line[0] == '<' && memcmp(line + 1, c->nick, nl) == 0 &&
                  line[nl + 1] == '>' && line[nl + 2] == ' '),
                "%s got its own message back: \"%.*s\"", c->nick, (int)len, line);
    size_t kl = sizeof known - 1;
    if (len > pl + nl + kl && starts(line, len, W_NOTICE) && memcmp(line + pl, c->nick, nl) == 0 &&
        memcmp(line + pl + nl, known, kl) == 0) {
        size_t n = len - (pl + nl + kl);
        FUZZ_CHECK(n <= NICK_MAX);
        memcpy(c->nick, line + pl + nl + kl, n);
        c->nick[n] = '\0';
    }
}

/* A room message "<nick> text": the nick is a valid one, and the text came
 * from a line of at most max_line bytes. Cleaning only grows text, so a
 * lower bound on what it came from is: one byte for each U+FFFD (an invalid
 * byte at least) and for each caret pair ("^[" is one control), the length
 * of anything else. */
static void check_message(state *st, const char *line, size_t len)
{
    const char *gt = memchr(line, '>', len);
    FUZZ_CHECKF(gt && gt + 1 < line + len && gt[1] == ' ', "not \"<nick> text\": \"%.*s\"",
                (int)len, line);
    size_t nl = (size_t)(gt - line) - 1;
    FUZZ_CHECKF(ref_nick_ok((const unsigned char *)line + 1, nl, NULL), "invalid nick in \"%.*s\"",
                (int)len, line);
    const unsigned char *u = (const unsigned char *)gt + 2;
    size_t n = len - nl - 3, raw = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp = 0;
        int k = ref_utf8_decode(u + i, n - i, &cp); /* valid: checked before */
        if (cp == '^' && i + 1 < n && ((u[i + 1] >= '@' && u[i + 1] <= '_') || u[i + 1] == '?'))
            k = 2;
        raw += cp == 0xFFFD || (k == 2 && cp == '^') ? 1 : (size_t)k;
        i += (size_t)k;
    }
    FUZZ_CHECKF(raw <= st->max_line, "a message from a line of at least %zu bytes (max %zu)", raw,
                st->max_line);
}

static void check_line(state *st, client *c, const char *line, size_t len)
{
    if (st->verbose) {
        fprintf(stderr, "fuzz: client %d gets ", (int)(c - st->c));
        show(line, len);
    }
    if (c->lines == 0)
        FUZZ_CHECKF(starts(line, len, W_NOTICE W_WELCOME) ||
                        starts(line, len, "! server full (max ") ||
                        starts(line, len, "! too many connections from your address (max "),
                    "first line is \"%.*s\"", (int)len, line);
    c->lines++;
    if (starts(line, len, "HTTP/1.0 400 Bad Request\r"))
        c->http = 1;
    if (c->http && len > 0 && line[len - 1] == '\r')
        len--;
    FUZZ_CHECKF(len <= st->line_max, "a line of %zu bytes (at most %zu): \"%.60s\"...", len,
                st->line_max, line);
    const unsigned char *u = (const unsigned char *)line;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int k = ref_utf8_decode(u + i, len - i, &cp);
        FUZZ_CHECKF(k > 0, "invalid UTF-8 at byte %zu of \"%.*s\"", i, (int)len, line);
        FUZZ_CHECKF(!ref_forbidden_cp(cp), "U+%04X at byte %zu of \"%.*s\"", (unsigned)cp, i,
                    (int)len, line);
        i += (size_t)k;
    }
    if (len > 0 && line[0] == '#') {
        /* "#room " before a line about a room (protocol.md, "Rooms"): a
         * room name, then a member's line or a notice, checked as any. */
        size_t t = 1;
        while (t < len && t <= 33 &&
               ((line[t] >= 'a' && line[t] <= 'z') || (line[t] >= 'A' && line[t] <= 'Z') ||
                (line[t] >= '0' && line[t] <= '9') || line[t] == '-' || line[t] == '_' ||
                line[t] == '.'))
            t++;
        FUZZ_CHECKF(t > 1 && t <= 33 && t < len && line[t] == ' ', "a bad room tag: \"%.*s\"",
                    (int)len, line);
        line += t + 1;
        len -= t + 1;
        FUZZ_CHECKF(len > 0 && (line[0] == '<' || line[0] == '*'),
                    "a tag before neither a member's line nor a notice: \"%.*s\"", (int)len, line);
    }
    if (len > 0 && line[0] == '<')
        check_message(st, line, len);
    track_nick(c, line, len);
}

static void received(state *st, client *c, const char *p, size_t n)
{
    while (n > 0) {
        const char *lf = memchr(p, '\n', n);
        size_t take = lf ? (size_t)(lf - p) : n;
        FUZZ_CHECKF(c->rxlen + take <= st->line_max + 1, "a line longer than %zu bytes is arriving",
                    st->line_max);
        memcpy(c->rx + c->rxlen, p, take);
        c->rxlen += take;
        if (!lf)
            return;
        check_line(st, c, c->rx, c->rxlen);
        c->rxlen = 0;
        p += take + 1;
        n -= take + 1;
    }
}

static void drain(state *st, client *c)
{
    static char buf[READ_CHUNK];
    if (c->fd < 0 || c->eof)
        return;
    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            received(st, c, buf, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            c->eof = 1; /* a line cut by a dropped connection stays unchecked */
        return;
    }
}

static void pass(state *st)
{
    if (st->passes >= PASSES_MAX)
        return;
    st->passes++;
    FUZZ_CHECK(loop_run_once(st->l, 0) == 0);
    for (int i = 0; i < SLOTS; i++)
        if (st->c[i].autoread)
            drain(st, &st->c[i]);
}

/* ---- what clients do ---- */

static void client_connect(state *st, int a)
{
    union {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
        struct sockaddr_un un;
    } peer;
    socklen_t plen;
    int slot = -1, sv[2];

    for (int i = 0; i < SLOTS && slot < 0; i++)
        if (st->c[i].fd < 0)
            slot = i;
    if (slot < 0 || st->stopping || st->connects >= CONNECTS_MAX)
        return;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
        return; /* out of descriptors: not the server's doing */
    st->connects++;
    if (st->tiny_buffers) {
        int sz = TINY_SNDBUF;
        setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
        setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    }

    memset(&peer, 0, sizeof peer);
    unsigned host = 1 + (unsigned)(a & 3), port = 40000 + (unsigned)st->connects;
    switch ((a >> 4) & 3) {
    case 0:
    case 1:
        peer.in.sin_family = AF_INET;
        peer.in.sin_port = htons((uint16_t)port);
        peer.in.sin_addr.s_addr = htonl(0x7F000000u | host);
        plen = sizeof peer.in;
        break;
    case 2: /* ::ffff:127.0.0.x, the same host as above for the per-IP limit */
        peer.in6.sin6_family = AF_INET6;
        peer.in6.sin6_port = htons((uint16_t)port);
        peer.in6.sin6_addr.s6_addr[10] = peer.in6.sin6_addr.s6_addr[11] = 0xFF;
        peer.in6.sin6_addr.s6_addr[12] = 127;
        peer.in6.sin6_addr.s6_addr[15] = (uint8_t)host;
        plen = sizeof peer.in6;
        break;
    default:
        if (a & 1) {
            peer.in6.sin6_family = AF_INET6;
            peer.in6.sin6_port = htons((uint16_t)port);
            peer.in6.sin6_addr.s6_addr[15] = 1; /* ::1 */
            plen = sizeof peer.in6;
        } else {
            peer.un.sun_family = AF_UNIX; /* no IP: counted under one key */
            plen = sizeof(sa_family_t);
        }
        break;
    }
    client *c = &st->c[slot];
    memset(c, 0, sizeof *c);
    c->fd = sv[0];
    c->autoread = 1;
    c->rx = malloc(st->line_max + 1);
    if (!c->rx)
        abort();
    if (st->verbose)
        fprintf(stderr, "fuzz: client %d connects (fd %d, server fd %d, family %d)\n", slot, sv[0],
                sv[1], peer.sa.sa_family);
    server_adopt(st->s, sv[1], &peer.sa, plen); /* sv[1] is the server's now */
}

static void client_write(state *st, int slot, const void *p, size_t n)
{
    client *c = &st->c[slot];
    if (c->fd < 0 || n == 0)
        return;
    ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (st->verbose) {
        fprintf(stderr, "fuzz: client %d writes %zd of %zu: ", slot, w, n);
        show(p, n);
    }
    /* A full buffer (EAGAIN) or a closed server end (EPIPE) is what a real
     * peer meets too: the bytes are simply not sent. */
}

static void client_close(state *st, int slot)
{
    client *c = &st->c[slot];
    if (c->fd < 0)
        return;
    if (st->verbose)
        fprintf(stderr, "fuzz: client %d closes\n", slot);
    close(c->fd);
    free(c->rx);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

#define S(x)                                                                                       \
    {                                                                                              \
        x, sizeof(x) - 1                                                                           \
    }
static const struct {
    const char *p;
    size_t n;
} canned[] = {
    S("hello\n"),
    S("hello from crlf\r\n"),
    S("\r\n"),
    S("\n"),
    S("no newline yet"),
    S("\r"),
    S("/nick alice\n"),
    S("/nick Alice\n"),
    S("/nick bob\n"),
    S("/nick guest1\n"),
    S("/nick server\n"),
    S("/nick a b\n"),
    S("/nick\n"),
    S("/nick \xe5\xb0\x8f\xe6\x98\x8e\n"),
    S("/nick x\xe2\x80\xae\n"),
    S("/nick 0123456789012345678901234567890123\n"),
    S("/msg alice hi there\n"),
    S("/msg guest1 psst\n"),
    S("/msg server hello\n"),
    S("/msg nobody x\n"),
    S("/msg alice\n"),
    S("/msg\n"),
    S("/me waves\n"),
    S("/me\n"),
    S("/who\n"),
    S("/WHO\n"),
    S("/quit\n"),
    S("/quit bye now\n"),
    S("/help\n"),
    S("/stats\n"),
    S("//etc\n"),
    S("/\n"),
    S("/unknown command\n"),
    S("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    S("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
    S("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16"),
    S("\x1b[31mred\x1b[0m \x1b]0;title\x07\n"),
    S("bidi \xe2\x80\xae evil \xe2\x81\xa6x\xe2\x81\xa9\n"),
    S("c1 \xc2\x9b"
      "31m \xc2\x85\n"),
    S("bad \xff\xfe \xc0\x80 \xed\xa0\x80 \xf4\x90\x80\x80 \xe4\xbd\n"),
    S("nul \0 byte\n"),
    S("\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80\n"),
    S("/me \x1b[2J\n"),
    S("/quit \xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0"
      "\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4"
      "\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd"
      "\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0"
      "\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4"
      "\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd"
      "\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\xe4\xbd\xa0\n"),
    S("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\no\np\nq\nr\ns\nt\nu\nv\nw\nx\ny\nz\n"),
};
#undef S

static const uint64_t steps_ms[16] = {1,    5,    50,   100,  250,  299,   300,   301,
                                      1000, 1999, 2000, 2001, 5000, 10001, 30001, 61000};

/* ---- descriptors ---- */

static void fd_snapshot(unsigned char *open_fds)
{
    for (int fd = 0; fd < FD_SCAN; fd++)
        open_fds[fd] = fcntl(fd, F_GETFD) >= 0;
}

/* ---- quiet ---- */

/* Descriptors come lowest first: the next one loop_new() opens is this. */
static int next_fd(void)
{
    int fd = dup(0);
    if (fd >= 0)
        close(fd);
    return fd;
}

/* Nothing to do but wait: after a few passes with no peer doing anything
 * and the clock stopped, no watched fd may still be ready. One that stays
 * ready makes epoll_wait return at once for ever: a busy loop. */
static void check_quiet(state *st)
{
    struct epoll_event ev[SLOTS + 8];
    if (st->epfd < 0 || st->stopping || getenv("HICHAT_FUZZ_SKIP_QUIET"))
        return;
    for (int i = 0; i < QUIET_PASSES; i++)
        pass(st);
    int n = epoll_wait(st->epfd, ev, (int)(sizeof ev / sizeof ev[0]), 0);
    FUZZ_CHECKF(n == 0,
                "fd %d (events 0x%x) is still ready after %d passes with nothing happening: "
                "the loop would spin",
                n > 0 ? ev[0].data.fd : -1, n > 0 ? ev[0].events : 0u, QUIET_PASSES);
}

/* ---- the input ---- */

static void run_script(state *st, script *sc)
{
    char buf[255 * 8 + 1];
    int ops = 0;

    while (ops++ < OPS_MAX && st->passes < PASSES_MAX) {
        int op = get(sc);
        if (op < 0)
            return;
        switch (op) {
        case 'c': client_connect(st, get0(sc)); break;
        case 'w': {
            int slot = get0(sc) % SLOTS;
            size_t n = (size_t)get0(sc);
            if (n > sc->n - sc->i)
                n = sc->n - sc->i;
            client_write(st, slot, sc->p + sc->i, n);
            sc->i += n;
            break;
        }
        case 'W':
        case 'P': {
            int slot = get0(sc) % SLOTS;
            const uint8_t *start = sc->p + sc->i;
            const uint8_t *lf = memchr(start, '\n', sc->n - sc->i);
            size_t n = lf ? (size_t)(lf - start) + 1 : sc->n - sc->i;
            sc->i += n;
            if (op == 'P' && lf)
                n--;
            client_write(st, slot, start, n);
            break;
        }
        case 'L':
        case 'M': {
            int slot = get0(sc) % SLOTS;
            size_t n = (size_t)get0(sc) * 8;
            memset(buf, get0(sc), n);
            if (op == 'L')
                buf[n++] = '\n';
            client_write(st, slot, buf, n);
            break;
        }
        case 'd': {
            int slot = get0(sc) % SLOTS;
            size_t k = (size_t)get0(sc) % (sizeof canned / sizeof canned[0]);
            client_write(st, slot, canned[k].p, canned[k].n);
            break;
        }
        case 'r': drain(st, &st->c[get0(sc) % SLOTS]); break;
        case 'a': {
            client *c = &st->c[get0(sc) % SLOTS];
            if (c->fd >= 0)
                c->autoread = !c->autoread;
            break;
        }
        case 'x': client_close(st, get0(sc) % SLOTS); break;
        case 'h': {
            client *c = &st->c[get0(sc) % SLOTS];
            if (c->fd >= 0)
                shutdown(c->fd, SHUT_WR);
            break;
        }
        case 't':
            vclock += steps_ms[get0(sc) & 15];
            pass(st);
            break;
        case 'T': {
            int a = get0(sc);
            vclock += (uint64_t)(a << 8 | get0(sc)) * 10;
            pass(st);
            break;
        }
        case 'S':
            if (!st->stopping) {
                st->stopping = 1;
                server_shutdown(st->s);
            }
            break;
        default: pass(st); break;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int devnull = -1;
    static unsigned char before[FD_SCAN], after[FD_SCAN];

    if (devnull < 0) {
        signal(SIGPIPE, SIG_IGN); /* as server_run does */
        devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        FUZZ_CHECK(devnull >= 0);
    }
    fd_snapshot(before);

    script sc = {data, size, 0};
    state st;
    memset(&st, 0, sizeof st);
    for (int i = 0; i < SLOTS; i++)
        st.c[i].fd = -1;
    st.verbose = getenv("HICHAT_FUZZ_VERBOSE") != NULL;

    server_opts o;
    server_defaults(&o);
    int h0 = get0(&sc), h1 = get0(&sc), h2 = get0(&sc), h3 = get0(&sc);
    o.max_line = 64 + 2 * (size_t)(h0 % 225);
    st.max_line = o.max_line;
    o.max_queue = 4096 + 512 * (size_t)(h1 & 0x7F);
    st.tiny_buffers = h1 >> 7;
    o.msg_rate = h2 & 7;
    o.msg_burst = 1 + (h2 >> 3 & 7);
    o.flood_timeout = 1 + (h2 >> 6);
    o.line_timeout = h3 & 7;
    o.max_per_ip = h3 >> 3 & 3;
    o.max_clients = h3 >> 5 ? 1 + (h3 >> 5) : 0;
    /* A message is "<nick> " and up to 3 * max_line bytes of cleaned text;
     * a notice or error is at most NOTICE_MAX. */
    st.line_max = 3 * o.max_line + MESSAGE_FRAME;
    if (st.line_max < NOTICE_MAX)
        st.line_max = NOTICE_MAX;

    vclock = CLOCK_START;
    st.epfd = next_fd();
    st.l = loop_new();
    FUZZ_CHECK(st.l != NULL);
    if (st.epfd >= 0) { /* make sure it is the epoll fd */
        char path[64], link[64] = "";
        snprintf(path, sizeof path, "/proc/self/fd/%d", st.epfd);
        ssize_t k = readlink(path, link, sizeof link - 1);
        if (k < 0 || strstr(link, "eventpoll") == NULL)
            st.epfd = -1;
    }
    loop_set_clock(st.l, virtual_clock, NULL);
    int out = st.verbose ? STDERR_FILENO : devnull;
    st.s = server_new(st.l, &o, out, out);
    FUZZ_CHECK(st.s != NULL);
    if (st.verbose)
        fprintf(stderr,
                "fuzz: max_line %zu max_queue %zu tiny %d rate %ld burst %ld flood %ld "
                "line_timeout %ld per_ip %ld max_clients %ld\n",
                o.max_line, o.max_queue, st.tiny_buffers, o.msg_rate, o.msg_burst, o.flood_timeout,
                o.line_timeout, o.max_per_ip, o.max_clients);

    run_script(&st, &sc);
    check_quiet(&st);

    if (!st.stopping)
        server_shutdown(st.s);
    st.passes = 0; /* the end always gets its passes */
    for (int i = 0; i < END_PASSES; i++) {
        vclock += END_STEP_MS;
        pass(&st);
    }
    server_free(st.s);
    loop_free(st.l);
    for (int i = 0; i < SLOTS; i++) {
        st.c[i].autoread = 1;
        drain(&st, &st.c[i]);
        client_close(&st, i);
    }

    fd_snapshot(after);
    for (int fd = 0; fd < FD_SCAN; fd++)
        FUZZ_CHECKF(before[fd] == after[fd], "fd %d was %s before the input and is %s after", fd,
                    before[fd] ? "open" : "closed", after[fd] ? "open" : "closed");
    return 0;
}
