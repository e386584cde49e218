/* net.c - see net.h. */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "trace.h"
#include "util.h"

int net_split_hostport(const char *s, const char *defport, char *host, size_t hostsz, char *port,
                       size_t portsz, char *err, size_t errsz)
{
    const char *h = s, *p = NULL;
    size_t hlen;

    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close) {
            snprintf(err, errsz, "\"%s\": missing ']' after IPv6 address", s);
            return -1;
        }
        h = s + 1;
        hlen = (size_t)(close - h);
        if (close[1] == ':')
            p = close + 2;
        else if (close[1] != '\0') {
            snprintf(err, errsz, "\"%s\": expected ':PORT' after ']'", s);
            return -1;
        }
    } else {
        const char *colon = strchr(s, ':');
        if (colon && strchr(colon + 1, ':')) {
            hlen = strlen(s); /* several colons: a bare IPv6 address */
        } else if (colon) {
            hlen = (size_t)(colon - s);
            p = colon + 1;
        } else {
            hlen = strlen(s);
        }
    }
    if (hlen == 0 || hlen >= hostsz) {
        snprintf(err, errsz, "\"%s\": %s host name", s, hlen ? "over-long" : "empty");
        return -1;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    if (!p)
        p = defport;
    long long v;
    const char *why;
    if (parse_num(p, 0, 65535, &v, &why) < 0) {
        snprintf(err, errsz, "\"%s\": port %s is %s (use 0-65535)", s, p, why);
        return -1;
    }
    snprintf(port, portsz, "%lld", v);
    return 0;
}

static void addr_err(char *err, size_t errsz, const char *call, int e, const char *target)
{
    char d[200];
    errno_describe(d, sizeof d, e, target);
    snprintf(err, errsz, "%s %s: %s", call, target, d);
}

void net_target(const char *host, const char *port, char *out, size_t sz)
{
    if (strchr(host, ':'))
        snprintf(out, sz, "[%s]:%s", host, port);
    else
        snprintf(out, sz, "%s:%s", host, port);
}

/* A failed step on fd: the error into err, fd closed, errno kept; -1. */
static int fail_close(int fd, const char *call, const char *target, char *err, size_t errsz)
{
    int e = errno;
    addr_err(err, errsz, call, e, target);
    trace_close(fd);
    errno = e;
    return -1;
}

static int resolve(const char *host, const char *port, int socktype, int passive,
                   struct addrinfo **res, char *err, size_t errsz);

int net_resolve_tcp(const char *host, const char *port, struct addrinfo **res, char *err,
                    size_t errsz)
{
    return resolve(host, port, SOCK_STREAM, 0, res, err, errsz);
}

static int resolve(const char *host, const char *port, int socktype, int passive,
                   struct addrinfo **res, char *err, size_t errsz)
{
    struct addrinfo hints = {0};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = socktype;
    hints.ai_protocol = socktype == SOCK_DGRAM ? IPPROTO_UDP : IPPROTO_TCP;
    hints.ai_flags = passive ? AI_PASSIVE : AI_ADDRCONFIG;
    int rc = getaddrinfo(host, port, &hints, res);
    if (rc != 0) {
        int e = rc == EAI_SYSTEM ? errno : EHOSTUNREACH;
        snprintf(err, errsz, "cannot resolve \"%s\": %s", host, gai_strerror(rc));
        errno = e;
        return -1;
    }
    return 0;
}

/* Binds the first address of host:port that works (and listens on it when
 * backlog >= 0): the one body of net_listen_tcp and net_bind_udp. */
static int bind_first(const char *host, const char *port, int socktype, int backlog, char *err,
                      size_t errsz)
{
    struct addrinfo *res, *ai;
    char target[NET_ADDRSTRLEN + 16];
    int fd = -1, saved = 0;

    net_target(host, port, target, sizeof target);
    if (resolve(host, port, socktype, 1, &res, err, errsz) < 0)
        return -1;
    for (ai = res; ai; ai = ai->ai_next) {
        const char *call = "socket";
        fd = trace_socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                          ai->ai_protocol);
        if (fd >= 0) {
            int one = 1, zero = 0;
            call = "setsockopt SO_REUSEADDR";
            if (trace_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
                (ai->ai_family != AF_INET6 ||
                 (call = "setsockopt IPV6_V6ONLY",
                  trace_setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) == 0)) &&
                (call = "bind", trace_bind(fd, ai->ai_addr, ai->ai_addrlen) == 0) &&
                (backlog < 0 || (call = "listen", trace_listen(fd, backlog) == 0)))
                break;
        }
        saved = errno;
        addr_err(err, errsz, call, saved, target);
        if (fd >= 0)
            trace_close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        errno = saved;
    return fd;
}

int net_listen_tcp(const char *host, const char *port, int backlog, char *err, size_t errsz)
{
    return bind_first(host, port, SOCK_STREAM, backlog, err, errsz);
}

int net_bind_udp(const char *host, const char *port, char *err, size_t errsz)
{
    return bind_first(host, port, SOCK_DGRAM, -1, err, errsz);
}

/* Waits for a non-blocking connect; returns 0 or -1 with errno. */
static int connect_wait(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        uint64_t now = now_ms();
        int left = now >= deadline ? 0 : (int)(deadline - now);
        int n = trace_poll(&p, 1, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        int e = 0;
        socklen_t len = sizeof e;
        if (trace_getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
            return -1;
        if (e) {
            errno = e;
            return -1;
        }
        return 0;
    }
}

/* Connects to the first address of host:port that answers. */
static int connect_first(const char *host, const char *port, int socktype, int timeout_ms,
                         char *err, size_t errsz)
{
    struct addrinfo *res, *ai;
    char target[NET_ADDRSTRLEN + 16];
    int fd = -1, saved = 0;

    net_target(host, port, target, sizeof target);
    if (resolve(host, port, socktype, 0, &res, err, errsz) < 0)
        return -1;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = trace_socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                          ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            addr_err(err, errsz, "socket for", saved, target);
            continue;
        }
        if (trace_connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
            (errno == EINPROGRESS && connect_wait(fd, timeout_ms) == 0))
            break;
        saved = errno;
        addr_err(err, errsz, "cannot connect to", saved, target);
        trace_close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        errno = saved;
    return fd;
}

int net_connect_tcp(const char *host, const char *port, int timeout_ms, char *err, size_t errsz)
{
    return connect_first(host, port, SOCK_STREAM, timeout_ms, err, errsz);
}

int net_connect_udp(const char *host, const char *port, char *err, size_t errsz)
{
    /* A UDP connect only sets the peer: it succeeds at once. */
    return connect_first(host, port, SOCK_DGRAM, 0, err, errsz);
}

static int unix_addr(const char *path, struct sockaddr_un *un, socklen_t *len, char *err,
                     size_t errsz)
{
    size_t n = strlen(path);
    memset(un, 0, sizeof *un);
    un->sun_family = AF_UNIX;
    if (n == 0 || n >= sizeof un->sun_path) {
        snprintf(err, errsz, "unix socket path \"%s\": %s (at most %zu bytes)", path,
                 n ? "too long" : "empty", sizeof un->sun_path - 1);
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(un->sun_path, path, n);
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    return 0;
}

/* The address, its "unix:PATH" name and a non-blocking stream socket for
 * path: what listening and connecting both start with. */
static int unix_socket(const char *path, struct sockaddr_un *un, socklen_t *len,
                       char target[sizeof un->sun_path + 8], char *err, size_t errsz)
{
    if (unix_addr(path, un, len, err, errsz) < 0)
        return -1;
    snprintf(target, sizeof un->sun_path + 8, "unix:%s", path);
    int fd = trace_socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        addr_err(err, errsz, "socket for", errno, target);
    return fd;
}

int net_listen_unix(const char *path, int backlog, char *err, size_t errsz)
{
    struct sockaddr_un un;
    socklen_t len;
    char target[sizeof un.sun_path + 8];
    int fd = unix_socket(path, &un, &len, target, err, errsz);
    if (fd < 0)
        return -1;
    int rc = trace_bind(fd, (struct sockaddr *)&un, len);
    if (rc < 0 && errno == EADDRINUSE) {
        /* Something is there. A live server answers; a stale socket file
         * refuses; anything that is not a socket is not ours to remove. */
        struct stat st;
        if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
            snprintf(err, errsz, "%s exists and is not a socket; not removing it", path);
            trace_close(fd);
            errno = EEXIST;
            return -1;
        }
        int probe = trace_socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int live = probe >= 0 && trace_connect(probe, (struct sockaddr *)&un, len) == 0;
        int why = errno;
        if (probe >= 0)
            trace_close(probe);
        if (live || why != ECONNREFUSED) {
            snprintf(err, errsz, "%s: %s", target,
                     live ? "another server is listening there" : strerror(why));
            trace_close(fd);
            errno = EADDRINUSE;
            return -1;
        }
        unlink(path);
        rc = trace_bind(fd, (struct sockaddr *)&un, len);
    }
    if (rc < 0)
        return fail_close(fd, "bind", target, err, errsz);
    if (trace_listen(fd, backlog) < 0)
        return fail_close(fd, "listen", target, err, errsz);
    return fd;
}

int net_connect_unix(const char *path, char *err, size_t errsz)
{
    struct sockaddr_un un;
    socklen_t len;
    char target[sizeof un.sun_path + 8];
    int fd = unix_socket(path, &un, &len, target, err, errsz);
    if (fd < 0)
        return -1;
    /* A Unix-domain connect completes or fails at once (EAGAIN only when
     * the listener's backlog is full). */
    if (trace_connect(fd, (struct sockaddr *)&un, len) < 0)
        return fail_close(fd, "cannot connect to", target, err, errsz);
    return fd;
}

void net_addr_str(const struct sockaddr *sa, socklen_t len, char *out, size_t outsz)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(out, outsz, "%s:%u", host, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const void *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            /* An IPv4 peer of a dual-stack listener: show it as IPv4. */
            inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], host, sizeof host);
            snprintf(out, outsz, "%s:%u", host, ntohs(in6->sin6_port));
            return;
        }
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(out, outsz, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else if (sa->sa_family == AF_UNIX) {
        const struct sockaddr_un *un = (const void *)sa;
        size_t n = len > offsetof(struct sockaddr_un, sun_path)
                       ? strnlen(un->sun_path, len - offsetof(struct sockaddr_un, sun_path))
                       : 0;
        snprintf(out, outsz, "unix:%.*s", (int)n, un->sun_path);
    } else {
        snprintf(out, outsz, "(family %d)", sa->sa_family);
    }
}

int net_local_str(int fd, char *out, size_t outsz)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (trace_getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    net_addr_str((struct sockaddr *)&ss, len, out, outsz);
    return 0;
}

int net_accept(int lfd, struct sockaddr_storage *ss, char *addr)
{
    socklen_t len = sizeof *ss;
    int fd = trace_accept4(lfd, (struct sockaddr *)ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return -1;
    if (ss->ss_family == AF_UNIX) {
        /* Unix clients are unnamed: name them by the socket they came in on. */
        len = sizeof *ss;
        getsockname(fd, (struct sockaddr *)ss, &len);
    }
    net_addr_str((struct sockaddr *)ss, len, addr, NET_ADDRSTRLEN);
    return fd;
}

static const char *tcp_state_name(unsigned st)
{
    static const char *const names[] = {
        "?",         "ESTABLISHED", "SYN-SENT",   "SYN-RECV", "FIN-WAIT-1", "FIN-WAIT-2",
        "TIME-WAIT", "CLOSE",       "CLOSE-WAIT", "LAST-ACK", "LISTEN",     "CLOSING",
    };
    return st < sizeof names / sizeof names[0] ? names[st] : "?";
}

void net_sock_info(int fd, char *out, size_t outsz)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char local[NET_ADDRSTRLEN] = "?", peer[NET_ADDRSTRLEN] = "?";
    size_t n = 0;
    int inq = 0, outq = 0;

    if (trace_getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        net_addr_str((struct sockaddr *)&ss, len, local, sizeof local);
    len = sizeof ss;
    if (trace_getpeername(fd, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family != AF_UNIX)
        net_addr_str((struct sockaddr *)&ss, len, peer, sizeof peer);
    else if (ss.ss_family == AF_UNIX)
        snprintf(peer, sizeof peer, "unix");
    n += (size_t)snprintf(out + n, outsz - n, "fd=%d local=%s peer=%s", fd, local, peer);

    struct tcp_info ti;
    socklen_t tl = sizeof ti;
    if (ss.ss_family != AF_UNIX && n < outsz &&
        trace_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0) {
        n += (size_t)snprintf(out + n, outsz - n,
                              " state=%s rtt=%.3fms rttvar=%.3fms cwnd=%u retrans=%u/%u "
                              "unacked=%u",
                              tcp_state_name(ti.tcpi_state), ti.tcpi_rtt / 1000.0,
                              ti.tcpi_rttvar / 1000.0, ti.tcpi_snd_cwnd, ti.tcpi_retransmits,
                              ti.tcpi_total_retrans, ti.tcpi_unacked);
    }
    /* SIOCOUTQ: bytes not yet acknowledged (TCP) or not yet read (Unix);
     * SIOCINQ: bytes waiting to be read. */
    if (n < outsz && trace_ioctl_int(fd, SIOCOUTQ, &outq) == 0 &&
        trace_ioctl_int(fd, SIOCINQ, &inq) == 0)
        snprintf(out + n, outsz - n, " sendq=%d recvq=%d", outq, inq);
}

int net_wildcard_addrs(int fd, char *out, size_t outsz)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    struct ifaddrs *ifs;
    in_port_t port;
    int v6;

    out[0] = '\0';
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
        return 0;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        if (in->sin_addr.s_addr != htonl(INADDR_ANY))
            return 0;
        port = in->sin_port, v6 = 0;
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        if (!IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr))
            return 0;
        port = in6->sin6_port, v6 = 1;
    } else {
        return 0;
    }
    if (getifaddrs(&ifs) < 0)
        return 0;
    int n = 0;
    size_t len = 0;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        struct sockaddr_storage a;
        char one[NET_ADDRSTRLEN];
        if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET &&
                             !(v6 && i->ifa_addr->sa_family == AF_INET6)))
            continue;
        socklen_t al = i->ifa_addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                                         : sizeof(struct sockaddr_in6);
        memcpy(&a, i->ifa_addr, al);
        if (a.ss_family == AF_INET)
            ((struct sockaddr_in *)&a)->sin_port = port;
        else
            ((struct sockaddr_in6 *)&a)->sin6_port = port;
        net_addr_str((struct sockaddr *)&a, al, one, sizeof one);
        int w = snprintf(out + len, outsz - len, "%s%s", n ? ", " : "", one);
        if (w < 0 || (size_t)w >= outsz - len) {
            snprintf(out + len, outsz - len, ", ...");
            break;
        }
        len += (size_t)w;
        n++;
    }
    freeifaddrs(ifs);
    return n;
}
