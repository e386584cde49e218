/* transport.c - see transport.h. */
#include "transport.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "loop.h"
#include "tls.h"
#include "trace.h"
#include "util.h"

/* TLS output is gathered into records of this size (the largest TLS
 * allows) instead of one record per message; at most TLS_BURST of them are
 * written per call, so one busy member cannot hold the loop. */
#define TLS_STAGE 16384
#define TLS_BURST 4

void transport_init(transport *t, int fd)
{
    memset(t, 0, sizeof *t);
    t->fd = fd;
}

void transport_free(transport *t)
{
    tls_free(t->ssl);
    t->ssl = NULL;
    free(t->stage);
    t->stage = NULL;
    t->stage_len = t->stage_off = 0;
}

ssize_t transport_recv(transport *t, void *p, size_t n)
{
    if (!t->ssl)
        return trace_read(t->fd, p, n);
    int want, end;
    ssize_t r = tls_read_some(t->ssl, p, n, &want, &end);
    t->rwant = want == LOOP_WRITE ? LOOP_WRITE : 0;
    if (r > 0 && end)
        t->end = end, t->err = errno;
    return r;
}

/* TLS: the queue goes out as records of up to TLS_STAGE bytes, each staged
 * whole and retried as it was until it is written. */
static ssize_t tls_send(transport *t, outq *q)
{
    size_t total = 0;
    for (int i = 0; i < TLS_BURST; i++) {
        if (t->stage_off == t->stage_len) {
            if (q->count == 0)
                break;
            if (!t->stage)
                t->stage = xmalloc(TLS_STAGE);
            t->stage_len = outq_take(q, t->stage, TLS_STAGE);
            t->stage_off = 0;
        }
        int want = 0;
        ssize_t n = tls_write(t->ssl, t->stage + t->stage_off, t->stage_len - t->stage_off, &want);
        if (n < 0) {
            if (errno != EAGAIN)
                return -1;
            t->wwant = want == LOOP_READ ? LOOP_READ : 0;
            return total ? (ssize_t)total : -1;
        }
        t->wwant = 0;
        t->stage_off += (size_t)n;
        total += (size_t)n;
    }
    if (t->stage && t->stage_off == t->stage_len) {
        free(t->stage); /* idle TLS members keep no buffer */
        t->stage = NULL;
        t->stage_len = t->stage_off = 0;
    }
    return (ssize_t)total;
}

ssize_t transport_send(transport *t, outq *q)
{
    return t->ssl ? tls_send(t, q) : outq_write(q, t->fd);
}

int transport_unsent(const transport *t)
{
    return t->stage_off < t->stage_len;
}

size_t transport_pending(const transport *t)
{
    return t->ssl ? tls_pending(t->ssl) : 0;
}

void transport_shutdown(transport *t)
{
    if (t->ssl)
        tls_close_notify(t->ssl);
    trace_shutdown(t->fd, SHUT_WR);
}
