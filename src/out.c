/* out.c - see out.h. */
#include "out.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "util.h"

struct out {
    loop *l;
    int fd;         /* what we write to */
    int own_fd;     /* fd was opened here */
    int restore_fl; /* the caller's flags to put back, or -1 */
    int pollable;   /* epoll accepts fd (not a regular file) */
    int failed;
    buf q;
    void (*drain)(void *);
    void *drain_data;
};

static void on_writable(loop *l, int fd, void *data, int mask);

out *out_new(loop *l, int fd, size_t max)
{
    out *o = xcalloc(1, sizeof *o);
    struct stat st;

    o->l = l;
    o->fd = fd;
    o->restore_fl = -1;
    buf_init(&o->q, max);
    /* Regular files never block for long and cannot be polled: plain writes. */
    if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
        char path[64];
        int nfd = -1;
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
            nfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        }
        if (nfd >= 0) {
            o->fd = nfd;
            o->own_fd = 1;
        } else {
            int fl = fcntl(fd, F_GETFL);
            if (fl >= 0 && !(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0)
                o->restore_fl = fl;
        }
        /* Probe once whether epoll takes it (/dev/null does not). */
        if (loop_watch(l, o->fd, 0, on_writable, o) == 0) {
            o->pollable = 1;
            loop_unwatch(l, o->fd);
        }
    }
    return o;
}

/* Writes what is queued; returns 0 when all of it went, 1 when some waits, -1
 * on a write error. */
static int flush_some(out *o)
{
    while (buf_len(&o->q) > 0) {
        ssize_t n = write(o->fd, buf_data(&o->q), buf_len(&o->q));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 1;
        if (n < 0) {
            o->failed = 1; /* EPIPE, EIO: the reader is gone for good */
            buf_clear(&o->q);
            return -1;
        }
        buf_consume(&o->q, (size_t)n);
    }
    return 0;
}

/* The fd is watched only while output waits: an idle writer whose reader
 * hung up has no event to report, so it can never make the loop spin. */
static void update(out *o, int rc)
{
    if (o->pollable) {
        if (rc == 1 && loop_mask(o->l, o->fd) < 0)
            loop_watch(o->l, o->fd, LOOP_WRITE, on_writable, o);
        else if (rc != 1)
            loop_unwatch(o->l, o->fd);
    }
    if (rc != 1 && o->drain)
        o->drain(o->drain_data); /* emptied, or failed: see out_failed */
}

static void on_writable(loop *l, int fd, void *data, int mask)
{
    out *o = data;
    (void)l, (void)fd, (void)mask;
    update(o, flush_some(o));
}

static int push(out *o)
{
    if (loop_mask(o->l, o->fd) >= 0)
        return 0; /* already waiting for room */
    int rc = flush_some(o);
    /* An unpollable fd that would block keeps its queue for the next write
     * (only a non-blocking fd of the caller's can do that). */
    if (rc != 0)
        update(o, rc);
    return rc < 0 ? -1 : 0;
}

int out_write(out *o, const void *p, size_t n)
{
    if (o->failed || buf_append(&o->q, p, n) < 0)
        return -1;
    return push(o);
}

int out_line(out *o, const void *p, size_t n)
{
    if (o->failed || n + 1 > o->q.max - buf_len(&o->q))
        return -1;
    buf_append(&o->q, p, n);
    buf_append(&o->q, "\n", 1);
    return push(o);
}

int out_failed(const out *o)
{
    return o->failed;
}

size_t out_pending(const out *o)
{
    return buf_len(&o->q);
}

void out_on_drain(out *o, void (*fn)(void *), void *data)
{
    o->drain = fn;
    o->drain_data = data;
}

void out_flush(out *o, int timeout_ms)
{
    uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
    while (flush_some(o) == 1) {
        uint64_t now = now_ms();
        if (now >= deadline)
            break;
        struct pollfd p = {.fd = o->fd, .events = POLLOUT};
        poll(&p, 1, (int)(deadline - now));
    }
}

void out_free(out *o)
{
    if (!o)
        return;
    loop_unwatch(o->l, o->fd);
    if (o->own_fd)
        close(o->fd);
    if (o->restore_fl >= 0)
        fcntl(o->fd, F_SETFL, o->restore_fl);
    buf_clear(&o->q);
    free(o);
}
