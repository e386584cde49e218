/* hello.c - see hello.h. A probe does one thing and ends, so plain blocking
 * steps with poll() deadlines are the clearest way to write it. */
#include "hello.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "net.h"
#include "server.h"
#include "trace.h"
#include "util.h"
#include "wording.h"

#define HELLO_LINE_MAX 4096

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Milliseconds left until deadline, at least 0. */
static int left_ms(double deadline)
{
    double d = (deadline - now_s()) * 1000.0;
    return d > 0 ? (int)d + 1 : 0;
}

int hello_run(const hello_opts *opt)
{
    char host[256], port[16], err[NET_ERRLEN], target[NET_ADDRSTRLEN + 16];
    double t0 = now_s(), deadline = t0 + opt->timeout_ms / 1000.0;
    int fd;

    if (opt->unix_path) {
        snprintf(target, sizeof target, "unix:%s", opt->unix_path);
        fd = net_connect_unix(opt->unix_path, err, sizeof err);
    } else {
        if (net_split_hostport(opt->target, DEFAULT_PORT, host, sizeof host, port, sizeof port, err,
                               sizeof err) < 0) {
            fprintf(stderr, "hichat: %s\n", err);
            return 2;
        }
        net_target(host, port, target, sizeof target);
        fd = net_connect_tcp(host, port, opt->timeout_ms, err, sizeof err);
    }
    if (fd < 0) {
        fprintf(stderr, "hichat: %s\n", err);
        return 1;
    }
    double t_conn = now_s();

    static const char hello[] = "/hello\n";
    double t_sent = now_s();
    if (trace_write(fd, hello, sizeof hello - 1) != (ssize_t)(sizeof hello - 1)) {
        char d[200];
        errno_describe(d, sizeof d, errno, target);
        fprintf(stderr, "hichat: saying hello to %s: %s\n", target, d);
        trace_close(fd);
        return 1;
    }

    char buf[HELLO_LINE_MAX + 2];
    static const char hi[] = W_NOTICE W_HI;
    char last_error[200] = "";
    size_t have = 0;
    int status = 1;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = trace_poll(&p, 1, left_ms(deadline));
        if (n == 0) {
            fprintf(stderr, "hichat: no hi from %s within %d ms (ETIMEDOUT)\n", target,
                    opt->timeout_ms);
            break;
        }
        if (n < 0 && errno == EINTR)
            continue;
        ssize_t r = n < 0 ? -1 : trace_read(fd, buf + have, sizeof buf - have);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r <= 0) {
            if (r < 0) {
                char d[200];
                errno_describe(d, sizeof d, errno, target);
                fprintf(stderr, "hichat: %s: %s\n", target, d);
            } else {
                fprintf(stderr, "hichat: %s closed the connection before saying hi%s%s\n", target,
                        last_error[0] ? ": " : "", last_error);
            }
            break;
        }
        have += (size_t)r;
        size_t pos = 0, ll;
        long k;
        while ((k = frame_line(buf + pos, have - pos, HELLO_LINE_MAX, &ll)) != 0) {
            if (k < 0) { /* a line longer than any answer: not a hichat server */
                pos = have;
                break;
            }
            const char *line = buf + pos;
            pos += (size_t)k;
            if (ll == sizeof hi - 1 && memcmp(line, hi, ll) == 0) {
                double t_hi = now_s();
                printf("hi from %s in %.3f ms (connect %.3f ms)\n", target,
                       (t_hi - t_sent) * 1000.0, (t_conn - t0) * 1000.0);
                status = 0;
                goto done;
            }
            if (ll >= sizeof W_ERROR - 1 && memcmp(line, W_ERROR, sizeof W_ERROR - 1) == 0)
                snprintf(last_error, sizeof last_error, "%.*s", (int)(ll - (sizeof W_ERROR - 1)),
                         line + sizeof W_ERROR - 1);
        }
        memmove(buf, buf + pos, have - pos);
        have -= pos;
    }
done:
    /* Leave politely: FIN, then wait (briefly) for the server's. */
    trace_shutdown(fd, SHUT_WR);
    for (int i = 0; i < 16; i++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (trace_poll(&p, 1, left_ms(deadline) < 1000 ? left_ms(deadline) : 1000) <= 0 ||
            trace_read(fd, buf, sizeof buf) <= 0)
            break;
    }
    trace_close(fd);
    return status;
}
