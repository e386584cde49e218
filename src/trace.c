/* trace.c - see trace.h. The formats follow strace 6's default output. */
#include "trace.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

/* strace's default -s: bytes of a string, and elements of an array, shown. */
#define STR_MAX   32
#define LINE_MAX_ 4096

static int tfd = -1;

void trace_to(int fd)
{
    tfd = fd;
}

int trace_fd(void)
{
    return tfd;
}

/* ---- a line being built ---- */

typedef struct {
    char s[LINE_MAX_];
    size_t n;
} line;

static void put(line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(line *l, const char *fmt, ...)
{
    if (l->n >= sizeof l->s)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(l->s + l->n, sizeof l->s - l->n, fmt, ap);
    va_end(ap);
    if (k > 0)
        l->n += (size_t)k < sizeof l->s - l->n ? (size_t)k : sizeof l->s - l->n - 1;
}

/* One byte as strace quotes it inside "...": C escapes, printable ASCII,
 * else octal (three digits when a digit follows, so it stays unambiguous). */
static void put_byte(line *l, unsigned char c, int digit_next)
{
    switch (c) {
    case '"': put(l, "\\\""); return;
    case '\\': put(l, "\\\\"); return;
    case '\t': put(l, "\\t"); return;
    case '\n': put(l, "\\n"); return;
    case '\v': put(l, "\\v"); return;
    case '\f': put(l, "\\f"); return;
    case '\r': put(l, "\\r"); return;
    default: break;
    }
    if (c >= 0x20 && c < 0x7f)
        put(l, "%c", c);
    else
        put(l, digit_next ? "\\%03o" : "\\%o", c);
}

/* A string as strace quotes it: "..." cut at STR_MAX bytes (then "..."
 * follows the closing quote). For names and option values: data on a
 * connection goes through put_data. */
static void put_str(line *l, const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t shown = n > STR_MAX ? STR_MAX : n;
    put(l, "\"");
    for (size_t i = 0; i < shown; i++)
        put_byte(l, b[i], i + 1 < shown && b[i + 1] >= '0' && b[i + 1] <= '7');
    put(l, n > STR_MAX ? "\"..." : "\"");
}

/* ---- the password out of traces ----
 *
 * Traces get pasted into bug reports, so a line that begins "/pass " (any
 * case, as the server takes it) shows *** for the rest of the line. Where a
 * line begins is a property of the stream, not of one call: "/pa" may come
 * in one read and "ss secret\n" in the next, or a partial write may stop in
 * the middle of the password. So each descriptor keeps, per direction, where
 * its stream is in the current line: one of the states below, a nibble. */
enum {
    /* 0 to 5: at the start of a line, that many bytes of "/pass " seen. A
     * descriptor's table entry starts at 0: a new connection starts a line. */
    LS_SECRET = 6, /* in the rest of a "/pass " line: shown as *** */
    LS_OTHER = 7,  /* in any other line */
};
static const char pass_prefix[] = "/pass ";
/* The table grows to the highest descriptor traced, one byte each (in and
 * out); beyond this, memory is not worth it and the stream's place is
 * unknown. */
#define LINESTATE_FDS_MAX (1u << 20)

static unsigned char *linestate; /* by fd: low nibble in, high nibble out */
static size_t nlinestate;

enum { DIR_IN = 0, DIR_OUT = 4 }; /* the nibble's shift */

/* The state after byte c. */
static unsigned next_state(unsigned s, unsigned char c)
{
    if (c == '\n')
        return 0;
    if (s >= LS_SECRET)
        return s;
    return ascii_lower(c) == pass_prefix[s] ? s + 1 : LS_OTHER;
}

/* fd's state in one direction. A descriptor past the table's bound is
 * taken to be inside a password until its next line end: unknown is
 * secret. */
static unsigned state_get(int fd, int dir)
{
    if (fd < 0 || (size_t)fd >= LINESTATE_FDS_MAX)
        return LS_SECRET;
    if ((size_t)fd >= nlinestate)
        return 0;
    return (linestate[fd] >> dir) & 0xf;
}

static void state_set(int fd, int dir, unsigned s)
{
    if (fd < 0 || (size_t)fd >= LINESTATE_FDS_MAX)
        return;
    if ((size_t)fd >= nlinestate) {
        if (s == 0)
            return; /* what a missing entry means anyway */
        size_t n = nlinestate ? nlinestate : 64;
        while (n <= (size_t)fd)
            n *= 2;
        linestate = xrealloc(linestate, n);
        memset(linestate + nlinestate, 0, n - nlinestate);
        nlinestate = n;
    }
    linestate[fd] = (unsigned char)((linestate[fd] & ~(0xfu << dir)) | (s << dir));
}

/* A descriptor closed or new: whatever comes on it next starts a line. */
static void state_reset(int fd)
{
    if (fd >= 0 && (size_t)fd < nlinestate)
        linestate[fd] = 0;
}

/* Data on a connection, as put_str shows it, with the rest of a "/pass "
 * line as ***. *s is the stream's state before the data; it is left at the
 * state after the first `moved` bytes, which are what the call really moved
 * (a partial write sends the rest again; a peek moves nothing). l may be
 * NULL: only the state is followed. */
static void put_data(line *l, unsigned *s, const void *p, size_t n, size_t moved)
{
    const unsigned char *b = p;
    size_t shown = n > STR_MAX ? STR_MAX : n;
    unsigned st = *s;
    int starred = 0;
    if (l)
        put(l, "\"");
    for (size_t i = 0; i < n && (i < shown || i < moved); i++) {
        int secret = st == LS_SECRET && b[i] != '\n';
        st = next_state(st, b[i]);
        if (i + 1 == moved)
            *s = st;
        if (!l || i >= shown)
            continue;
        if (secret) {
            if (!starred)
                put(l, "***");
            starred = 1;
            continue;
        }
        starred = 0;
        put_byte(l, b[i], i + 1 < shown && b[i + 1] >= '0' && b[i + 1] <= '7');
    }
    if (l)
        put(l, n > STR_MAX ? "\"..." : "\"");
}

/* put_data on fd's stream in direction dir. */
static void put_stream(line *l, int fd, int dir, const void *p, size_t n, long r)
{
    unsigned s = state_get(fd, dir);
    put_data(l, &s, p, n, r > 0 ? (size_t)r : 0);
    if (r > 0)
        state_set(fd, dir, s);
}

static const char *family_name(int f)
{
    switch (f) {
    case AF_UNIX: return "AF_UNIX";
    case AF_INET: return "AF_INET";
    case AF_INET6: return "AF_INET6";
    default: return NULL;
    }
}

static void put_sockaddr(line *l, const struct sockaddr *sa, socklen_t len)
{
    if (!sa) {
        put(l, "NULL");
        return;
    }
    const char *fam = family_name(sa->sa_family);
    if (fam)
        put(l, "{sa_family=%s", fam);
    else
        put(l, "{sa_family=%d", sa->sa_family);
    char a[INET6_ADDRSTRLEN];
    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, a, sizeof a);
        put(l, ", sin_port=htons(%u), sin_addr=inet_addr(\"%s\")}", ntohs(in->sin_port), a);
    } else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const void *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof a);
        put(l,
            ", sin6_port=htons(%u), sin6_flowinfo=htonl(%u), inet_pton(AF_INET6, \"%s\", "
            "&sin6_addr), sin6_scope_id=%u}",
            ntohs(in6->sin6_port), ntohl(in6->sin6_flowinfo), a, in6->sin6_scope_id);
    } else if (sa->sa_family == AF_UNIX) {
        const struct sockaddr_un *un = (const void *)sa;
        size_t plen = len > offsetof(struct sockaddr_un, sun_path)
                          ? len - offsetof(struct sockaddr_un, sun_path)
                          : 0;
        if (plen > 0 && un->sun_path[0] == '\0') {
            put(l, ", sun_path=@");
            put_str(l, un->sun_path + 1, plen - 1);
        } else if (plen > 0) {
            put(l, ", sun_path=");
            put_str(l, un->sun_path, strnlen(un->sun_path, plen));
        }
        put(l, "}");
    } else {
        put(l, ", ...}");
    }
}

/* An in/out length: "[16]" or "[128 => 16]" as strace shows a changed one. */
static void put_len(line *l, socklen_t before, const socklen_t *after)
{
    if (!after)
        put(l, "NULL");
    else if (before != *after)
        put(l, "[%u => %u]", before, *after);
    else
        put(l, "[%u]", before);
}

struct flagname {
    unsigned bit;
    const char *name;
};

/* An address a call filled in, and its in/out length: the address and
 * "[128 => 16]" when it succeeded, the pointer and "[128]" when it failed. */
static void put_addr_result(line *l, long r, const struct sockaddr *sa, socklen_t before,
                            const socklen_t *len)
{
    if (r >= 0)
        put_sockaddr(l, sa, *len);
    else
        put(l, "%p", (const void *)sa);
    put(l, ", ");
    if (r >= 0)
        put_len(l, before, len);
    else
        put(l, "[%u]", before);
}

static void put_flags(line *l, unsigned v, const struct flagname *names, size_t n)
{
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        if (v & names[i].bit) {
            put(l, "%s%s", first ? "" : "|", names[i].name);
            v &= ~names[i].bit;
            first = 0;
        }
    }
    if (v)
        put(l, "%s%#x", first ? "" : "|", v);
    else if (first)
        put(l, "0");
}

static const struct flagname msg_flags[] = {
    {MSG_OOB, "MSG_OOB"},
    {MSG_PEEK, "MSG_PEEK"},
    {MSG_DONTROUTE, "MSG_DONTROUTE"},
    {MSG_TRUNC, "MSG_TRUNC"},
    {MSG_DONTWAIT, "MSG_DONTWAIT"},
    {MSG_WAITALL, "MSG_WAITALL"},
    {MSG_NOSIGNAL, "MSG_NOSIGNAL"},
};

static const struct flagname epoll_flags[] = {
    {EPOLLIN, "EPOLLIN"},   {EPOLLPRI, "EPOLLPRI"}, {EPOLLOUT, "EPOLLOUT"},
    {EPOLLERR, "EPOLLERR"}, {EPOLLHUP, "EPOLLHUP"}, {EPOLLRDHUP, "EPOLLRDHUP"},
    {EPOLLET, "EPOLLET"},
};

static const struct flagname poll_flags[] = {
    {POLLIN, "POLLIN"},   {POLLPRI, "POLLPRI"}, {POLLOUT, "POLLOUT"},
    {POLLERR, "POLLERR"}, {POLLHUP, "POLLHUP"}, {POLLNVAL, "POLLNVAL"},
};

/* " = 3" or " = -1 ECONNREFUSED (Connection refused)", then the line out. */
static void finish(line *l, long r, int err)
{
    if (r < 0)
        put(l, " = -1 %s (%s)\n", errno_name(err), strerror(err));
    else
        put(l, " = %ld\n", r);
    if (l->n >= sizeof l->s)
        l->n = sizeof l->s - 1;
    /* One write per call, so lines stay whole; a trace that cannot be
     * written is simply lost (never worth failing the chat over). */
    if (write(tfd, l->s, l->n) < 0) {
    }
}

/* Every wrapper: make the call, keep errno, print if tracing. */
#define BEGIN(call)                                                                                \
    long r_ = (long)(call);                                                                        \
    int e_ = errno;                                                                                \
    if (tfd >= 0) {                                                                                \
        line l_ = {.n = 0};                                                                        \
        line *l = &l_;
#define END()                                                                                      \
    finish(l, r_, e_);                                                                             \
    }                                                                                              \
    errno = e_;

int trace_socket(int domain, int type, int protocol)
{
    BEGIN(socket(domain, type, protocol))
    state_reset((int)r_);
    const char *fam = family_name(domain);
    int base = type & ~(SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fam)
        put(l, "socket(%s, ", fam);
    else
        put(l, "socket(%d, ", domain);
    put(l, "%s", base == SOCK_STREAM ? "SOCK_STREAM" : base == SOCK_DGRAM ? "SOCK_DGRAM" : "?");
    if (type & SOCK_CLOEXEC)
        put(l, "|SOCK_CLOEXEC");
    if (type & SOCK_NONBLOCK)
        put(l, "|SOCK_NONBLOCK");
    if (domain == AF_UNIX)
        put(l, ", %d)", protocol);
    else
        put(l, ", %s)",
            protocol == IPPROTO_TCP   ? "IPPROTO_TCP"
            : protocol == IPPROTO_UDP ? "IPPROTO_UDP"
                                      : "IPPROTO_IP");
    END()
    return (int)r_;
}

/* bind and connect: the same arguments, the same line. */
static int addr_call(const char *name, int (*fn)(int, const struct sockaddr *, socklen_t), int fd,
                     const struct sockaddr *sa, socklen_t len)
{
    BEGIN(fn(fd, sa, len))
    put(l, "%s(%d, ", name, fd);
    put_sockaddr(l, sa, len);
    put(l, ", %u)", len);
    END()
    return (int)r_;
}

int trace_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
    return addr_call("bind", bind, fd, sa, len);
}

int trace_listen(int fd, int backlog)
{
    BEGIN(listen(fd, backlog))
    put(l, "listen(%d, %d)", fd, backlog);
    END()
    return (int)r_;
}

int trace_accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
    socklen_t before = len ? *len : 0;
    BEGIN(accept4(fd, sa, len, flags))
    state_reset((int)r_);
    put(l, "accept4(%d, ", fd);
    put_addr_result(l, r_, sa, before, len);
    put(l, ", ");
    static const struct flagname f[] = {{SOCK_CLOEXEC, "SOCK_CLOEXEC"},
                                        {SOCK_NONBLOCK, "SOCK_NONBLOCK"}};
    put_flags(l, (unsigned)flags, f, ARRAY_LEN(f));
    put(l, ")");
    END()
    return (int)r_;
}

int trace_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    return addr_call("connect", connect, fd, sa, len);
}

static void put_level_name(line *l, int level, int name)
{
    const char *lv = level == SOL_SOCKET     ? "SOL_SOCKET"
                     : level == IPPROTO_TCP  ? "SOL_TCP"
                     : level == IPPROTO_IPV6 ? "SOL_IPV6"
                     : level == IPPROTO_IP   ? "SOL_IP"
                                             : NULL;
    const char *nm = NULL;
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_REUSEADDR: nm = "SO_REUSEADDR"; break;
        case SO_KEEPALIVE: nm = "SO_KEEPALIVE"; break;
        case SO_ERROR: nm = "SO_ERROR"; break;
        case SO_LINGER: nm = "SO_LINGER"; break;
        case SO_SNDBUF: nm = "SO_SNDBUF"; break;
        case SO_RCVBUF: nm = "SO_RCVBUF"; break;
        default: break;
        }
    } else if (level == IPPROTO_TCP) {
        switch (name) {
        case TCP_NODELAY: nm = "TCP_NODELAY"; break;
        case TCP_KEEPIDLE: nm = "TCP_KEEPIDLE"; break;
        case TCP_KEEPINTVL: nm = "TCP_KEEPINTVL"; break;
        case TCP_KEEPCNT: nm = "TCP_KEEPCNT"; break;
        case TCP_USER_TIMEOUT: nm = "TCP_USER_TIMEOUT"; break;
        case TCP_INFO: nm = "TCP_INFO"; break;
        default: break;
        }
    } else if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY) {
        nm = "IPV6_V6ONLY";
    }
    if (lv)
        put(l, "%s, ", lv);
    else
        put(l, "%d, ", level);
    if (nm)
        put(l, "%s", nm);
    else
        put(l, "%d", name);
}

/* An option value: an int as [1] (SO_ERROR as [ENAME]), anything else as
 * the bytes strace would show. */
static void put_optval(line *l, int level, int name, const void *val, socklen_t len)
{
    if (level == SOL_SOCKET && name == SO_LINGER && len >= sizeof(struct linger)) {
        const struct linger *lg = val;
        put(l, "{l_onoff=%d, l_linger=%d}", lg->l_onoff, lg->l_linger);
    } else if (len == sizeof(int) && !(level == IPPROTO_TCP && name == TCP_INFO)) {
        int v;
        memcpy(&v, val, sizeof v);
        if (level == SOL_SOCKET && name == SO_ERROR && v != 0)
            put(l, "[%s]", errno_name(v));
        else
            put(l, "[%d]", v);
    } else {
        put_str(l, val, len);
    }
}

int trace_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    BEGIN(setsockopt(fd, level, name, val, len))
    put(l, "setsockopt(%d, ", fd);
    put_level_name(l, level, name);
    put(l, ", ");
    put_optval(l, level, name, val, len);
    put(l, ", %u)", len);
    END()
    return (int)r_;
}

int trace_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    socklen_t before = *len;
    BEGIN(getsockopt(fd, level, name, val, len))
    put(l, "getsockopt(%d, ", fd);
    put_level_name(l, level, name);
    put(l, ", ");
    if (r_ >= 0)
        put_optval(l, level, name, val, *len);
    else
        put(l, "%p", val);
    put(l, ", ");
    if (r_ >= 0)
        put_len(l, before, len);
    else
        put(l, "[%u]", before);
    put(l, ")");
    END()
    return (int)r_;
}

static int name_call(const char *call, int (*fn)(int, struct sockaddr *, socklen_t *), int fd,
                     struct sockaddr *sa, socklen_t *len)
{
    socklen_t before = *len;
    BEGIN(fn(fd, sa, len))
    put(l, "%s(%d, ", call, fd);
    put_addr_result(l, r_, sa, before, len);
    put(l, ")");
    END()
    return (int)r_;
}

int trace_getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
    return name_call("getsockname", getsockname, fd, sa, len);
}

int trace_getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
    return name_call("getpeername", getpeername, fd, sa, len);
}

ssize_t trace_read(int fd, void *buf, size_t n)
{
    BEGIN(read(fd, buf, n))
    put(l, "read(%d, ", fd);
    if (r_ >= 0)
        put_stream(l, fd, DIR_IN, buf, (size_t)r_, r_);
    else
        put(l, "%p", buf);
    put(l, ", %zu)", n);
    END()
    return (ssize_t)r_;
}

ssize_t trace_write(int fd, const void *buf, size_t n)
{
    BEGIN(write(fd, buf, n))
    put(l, "write(%d, ", fd);
    put_stream(l, fd, DIR_OUT, buf, n, r_);
    put(l, ", %zu)", n);
    END()
    return (ssize_t)r_;
}

ssize_t trace_writev(int fd, const struct iovec *iov, int cnt)
{
    BEGIN(writev(fd, iov, cnt))
    put(l, "writev(%d, [", fd);
    /* Each buffer shown from where the one before left the line; the
     * stream moves on by what was written. */
    unsigned shown = state_get(fd, DIR_OUT), moved = shown;
    size_t left = r_ > 0 ? (size_t)r_ : 0;
    for (int i = 0; i < cnt; i++) {
        size_t len = iov[i].iov_len, k = left < len ? left : len;
        put_data(NULL, &moved, iov[i].iov_base, len, k);
        left -= k;
        if (i < STR_MAX) {
            put(l, "%s{iov_base=", i ? ", " : "");
            put_data(l, &shown, iov[i].iov_base, len, len);
            put(l, ", iov_len=%zu}", len);
        } else if (i == STR_MAX) {
            put(l, ", ...");
        }
    }
    if (r_ > 0)
        state_set(fd, DIR_OUT, moved);
    put(l, "], %d)", cnt);
    END()
    return (ssize_t)r_;
}

ssize_t trace_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *sa, socklen_t *len)
{
    socklen_t before = len ? *len : 0;
    BEGIN(recvfrom(fd, buf, n, flags, sa, len))
    put(l, "recvfrom(%d, ", fd);
    size_t got = r_ < 0 ? 0 : (size_t)r_ < n ? (size_t)r_ : n;
    if (r_ >= 0 && sa) {
        unsigned fresh = 0; /* a datagram is a message of its own */
        put_data(l, &fresh, buf, got, got);
    } else if (r_ >= 0) {
        put_stream(l, fd, DIR_IN, buf, got, flags & MSG_PEEK ? 0 : (long)got);
    } else {
        put(l, "%p", buf);
    }
    put(l, ", %zu, ", n);
    put_flags(l, (unsigned)flags, msg_flags, ARRAY_LEN(msg_flags));
    put(l, ", ");
    if (!sa)
        put(l, "NULL");
    else if (r_ >= 0)
        put_sockaddr(l, sa, *len);
    else
        put(l, "%p", (void *)sa);
    put(l, ", ");
    if (r_ >= 0 || !len)
        put_len(l, before, len);
    else
        put(l, "[%u]", before);
    put(l, ")");
    END()
    return (ssize_t)r_;
}

ssize_t trace_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *sa,
                     socklen_t len)
{
    BEGIN(sendto(fd, buf, n, flags, sa, len))
    put(l, "sendto(%d, ", fd);
    if (sa) {
        unsigned fresh = 0; /* a datagram is a message of its own */
        put_data(l, &fresh, buf, n, n);
    } else {
        put_stream(l, fd, DIR_OUT, buf, n, r_);
    }
    put(l, ", %zu, ", n);
    put_flags(l, (unsigned)flags, msg_flags, ARRAY_LEN(msg_flags));
    put(l, ", ");
    put_sockaddr(l, sa, len);
    put(l, ", %u)", len);
    END()
    return (ssize_t)r_;
}

int trace_shutdown(int fd, int how)
{
    BEGIN(shutdown(fd, how))
    put(l, "shutdown(%d, %s)", fd,
        how == SHUT_RD   ? "SHUT_RD"
        : how == SHUT_WR ? "SHUT_WR"
                         : "SHUT_RDWR");
    END()
    return (int)r_;
}

int trace_close(int fd)
{
    BEGIN(close(fd))
    state_reset(fd);
    put(l, "close(%d)", fd);
    END()
    return (int)r_;
}

int trace_ioctl_int(int fd, unsigned long req, int *n)
{
    BEGIN(ioctl(fd, req, n))
    /* SIOCOUTQ is TIOCOUTQ's number, and strace names it so. */
    put(l, "ioctl(%d, %s, ", fd, req == FIONREAD ? "FIONREAD" : req == TIOCOUTQ ? "TIOCOUTQ" : "?");
    if (r_ >= 0)
        put(l, "[%d])", *n);
    else
        put(l, "%p)", (void *)n);
    END()
    return (int)r_;
}

int trace_poll(struct pollfd *p, nfds_t n, int timeout)
{
    BEGIN(poll(p, n, timeout))
    put(l, "poll([");
    for (nfds_t i = 0; i < n; i++) {
        put(l, "%s{fd=%d, events=", i ? ", " : "", p[i].fd);
        put_flags(l, (unsigned short)p[i].events, poll_flags, ARRAY_LEN(poll_flags));
        put(l, "}");
    }
    put(l, "], %lu, %d)", (unsigned long)n, timeout);
    if (r_ > 0) {
        /* strace appends the revents after the result: built here, put
         * after " = N" below. */
        line tail = {.n = 0};
        put(&tail, " ([");
        int k = 0;
        for (nfds_t i = 0; i < n; i++) {
            if (!p[i].revents)
                continue;
            put(&tail, "%s{fd=%d, revents=", k++ ? ", " : "", p[i].fd);
            put_flags(&tail, (unsigned short)p[i].revents, poll_flags, ARRAY_LEN(poll_flags));
            put(&tail, "}");
        }
        put(&tail, "])\n");
        put(l, " = %ld%s", r_, tail.s);
        if (write(tfd, l->s, l->n) < 0) {
        }
    } else if (r_ == 0) {
        put(l, " = 0 (Timeout)\n");
        if (write(tfd, l->s, l->n) < 0) {
        }
    } else {
        finish(l, r_, e_);
    }
}
errno = e_;
return (int)r_;
}

int trace_epoll_create1(int flags)
{
    BEGIN(epoll_create1(flags))
    put(l, "epoll_create1(%s)", flags & EPOLL_CLOEXEC ? "EPOLL_CLOEXEC" : "0");
    END()
    return (int)r_;
}

static void put_event(line *l, const struct epoll_event *ev)
{
    put(l, "{events=");
    put_flags(l, ev->events, epoll_flags, ARRAY_LEN(epoll_flags));
    put(l, ", data={u32=%u, u64=%llu}}", ev->data.u32, (unsigned long long)ev->data.u64);
}

int trace_epoll_ctl(int ep, int op, int fd, struct epoll_event *ev)
{
    BEGIN(epoll_ctl(ep, op, fd, ev))
    put(l, "epoll_ctl(%d, %s, %d, ", ep,
        op == EPOLL_CTL_ADD   ? "EPOLL_CTL_ADD"
        : op == EPOLL_CTL_MOD ? "EPOLL_CTL_MOD"
                              : "EPOLL_CTL_DEL",
        fd);
    if (ev)
        put_event(l, ev);
    else
        put(l, "NULL");
    put(l, ")");
    END()
    return (int)r_;
}

int trace_epoll_wait(int ep, struct epoll_event *ev, int max, int timeout)
{
    BEGIN(epoll_wait(ep, ev, max, timeout))
    put(l, "epoll_wait(%d, ", ep);
    if (r_ < 0) {
        put(l, "%p", (void *)ev);
    } else {
        put(l, "[");
        for (long i = 0; i < r_; i++) {
            if (i == STR_MAX) {
                put(l, ", ...");
                break;
            }
            if (i)
                put(l, ", ");
            put_event(l, &ev[i]);
        }
        put(l, "]");
    }
    put(l, ", %d, %d)", max, timeout);
    END()
    return (int)r_;
}
