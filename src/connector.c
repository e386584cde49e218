/* connector.c - see connector.h.
 *
 * getaddrinfo is synchronous: a name that needs DNS may hold the loop for
 * as long as the resolver takes. Callers give addresses or local names (a
 * Redis on this host or the LAN); resolving on a thread, or getaddrinfo_a,
 * is the way out if that ever stops being true. */
#include "connector.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net.h"
#include "trace.h"
#include "util.h"

struct connector {
    loop *l;
    struct addrinfo *res, *next; /* all addresses, the next to try */
    int fd;                      /* the attempt under way, or -1 */
    int timeout_ms;
    int err; /* the last attempt's errno */
    loop_timer deadline;
    connector_done *done;
    void *data;
    char target[NET_ADDRSTRLEN + 16];
};

static void finish(connector *c, int fd, int err)
{
    char why[NET_ERRLEN];
    connector_done *done = c->done;
    void *data = c->data;
    if (fd < 0)
        errno_describe(why, sizeof why, err, c->target);
    else
        why[0] = '\0';
    c->fd = -1;
    connector_cancel(c);
    done(data, fd, err, why);
}

static void attempt(connector *c);

static void failed(connector *c, int err)
{
    loop_unwatch(c->l, c->fd);
    trace_close(c->fd);
    c->fd = -1;
    c->err = err;
    attempt(c);
}

static void on_writable(loop *l, int fd, void *data, int mask)
{
    connector *c = data;
    int err = 0;
    socklen_t len = sizeof err;
    (void)l, (void)mask;
    if (trace_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err) {
        failed(c, err);
        return;
    }
    loop_unwatch(c->l, fd);
    loop_timer_cancel(c->l, &c->deadline);
    finish(c, fd, 0);
}

static void on_deadline(loop *l, loop_timer *t)
{
    connector *c = CONTAINER_OF(t, connector, deadline);
    (void)l;
    if (c->fd >= 0)
        failed(c, ETIMEDOUT);
    else
        attempt(c); /* (the first attempt starts from here) */
}

/* The next address, or the end with the last error. */
static void attempt(connector *c)
{
    while (c->next) {
        struct addrinfo *ai = c->next;
        c->next = ai->ai_next;
        int fd = trace_socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                              ai->ai_protocol);
        if (fd < 0) {
            c->err = errno;
            continue;
        }
        if (trace_connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
            c->err = errno;
            trace_close(fd);
            continue;
        }
        /* Connected at once (loopback may) or in progress: either way the
         * socket turns writable, and the answer comes from the loop. */
        if (loop_watch(c->l, fd, LOOP_WRITE, on_writable, c) < 0) {
            c->err = errno;
            trace_close(fd);
            continue;
        }
        c->fd = fd;
        loop_timer_arm(c->l, &c->deadline, (uint64_t)c->timeout_ms);
        return;
    }
    finish(c, -1, c->err ? c->err : EHOSTUNREACH);
}

connector *connector_start(loop *l, const char *host, const char *port, int timeout_ms,
                           connector_done *done, void *data, char *why, size_t whysz)
{
    struct addrinfo *res;
    if (net_resolve_tcp(host, port, &res, why, whysz) < 0)
        return NULL;
    connector *c = xcalloc(1, sizeof *c);
    c->l = l;
    c->res = c->next = res;
    c->fd = -1;
    c->timeout_ms = timeout_ms;
    c->done = done;
    c->data = data;
    net_target(host, port, c->target, sizeof c->target);
    loop_timer_init(&c->deadline, on_deadline);
    loop_timer_arm(l, &c->deadline, 0); /* done never runs inside this call */
    return c;
}

void connector_cancel(connector *c)
{
    if (!c)
        return;
    loop_timer_cancel(c->l, &c->deadline);
    if (c->fd >= 0) {
        loop_unwatch(c->l, c->fd);
        trace_close(c->fd);
    }
    freeaddrinfo(c->res);
    free(c);
}
