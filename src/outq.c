/* outq.c - see outq.h. */
#include "outq.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "trace.h"
#include "util.h"

/* Chunks per writev. IOV_MAX is 1024 on Linux; fewer keeps the stack frame
 * small and is plenty to fill a socket buffer. */
#define OUTQ_IOV 256
/* A queue whose ring grew past this is given its memory back once empty. */
#define OUTQ_KEEP 16

chunk *chunk_new(const void *data, size_t len)
{
    chunk *c = xmalloc(sizeof *c + len);
    c->refs = 1;
    c->len = (uint32_t)len;
    memcpy(c->data, data, len);
    return c;
}

void chunk_unref(chunk *c)
{
    if (--c->refs == 0)
        free(c);
}

void outq_init(outq *q)
{
    memset(q, 0, sizeof *q);
}

void outq_push(outq *q, chunk *c)
{
    if (q->count == q->cap) {
        uint32_t cap = q->cap ? q->cap * 2 : 4;
        chunk **ring = xmalloc(cap * sizeof *ring);
        for (uint32_t i = 0; i < q->count; i++)
            ring[i] = q->ring[(q->head + i) & (q->cap - 1)];
        free(q->ring);
        q->ring = ring;
        q->head = 0;
        q->cap = cap;
    }
    q->ring[(q->head + q->count) & (q->cap - 1)] = chunk_ref(c);
    q->count++;
    q->bytes += c->len;
}

/* Drops n written bytes from the front of q. */
static void consume(outq *q, size_t n)
{
    q->bytes -= n;
    while (n > 0) {
        chunk *c = q->ring[q->head];
        size_t rest = c->len - q->off;
        if (n < rest) {
            q->off += (uint32_t)n;
            break;
        }
        n -= rest;
        chunk_unref(c);
        q->head = (q->head + 1) & (q->cap - 1);
        q->count--;
        q->off = 0;
    }
    if (q->count == 0) {
        q->head = 0;
        if (q->cap > OUTQ_KEEP) {
            free(q->ring);
            q->ring = NULL;
            q->cap = 0;
        }
    }
}

size_t outq_take(outq *q, char *dst, size_t max)
{
    size_t n = 0;
    for (uint32_t i = 0; i < q->count && n < max; i++) {
        chunk *c = q->ring[(q->head + i) & (q->cap - 1)];
        uint32_t skip = i == 0 ? q->off : 0;
        size_t k = c->len - skip < max - n ? c->len - skip : max - n;
        memcpy(dst + n, c->data + skip, k);
        n += k;
    }
    consume(q, n);
    return n;
}

ssize_t outq_write(outq *q, int fd)
{
    struct iovec iov[OUTQ_IOV];
    int n = 0;

    if (q->count == 0)
        return 0;
    for (uint32_t i = 0; i < q->count && n < OUTQ_IOV; i++, n++) {
        chunk *c = q->ring[(q->head + i) & (q->cap - 1)];
        uint32_t skip = i == 0 ? q->off : 0;
        iov[n].iov_base = c->data + skip;
        iov[n].iov_len = c->len - skip;
    }
    ssize_t w = trace_writev(fd, iov, n);
    if (w < 0)
        return -1;
    consume(q, (size_t)w);
    return w;
}

void outq_clear(outq *q)
{
    for (uint32_t i = 0; i < q->count; i++)
        chunk_unref(q->ring[(q->head + i) & (q->cap - 1)]);
    free(q->ring);
    outq_init(q);
}

void outq_trim(outq *q)
{
    uint32_t keep = q->off > 0 ? 1 : 0;
    while (q->count > keep) {
        uint32_t last = (q->head + q->count - 1) & (q->cap - 1);
        q->bytes -= q->ring[last]->len; /* (never the head begun: keep says so) */
        chunk_unref(q->ring[last]);
        q->count--;
    }
    if (q->count == 0)
        outq_clear(q);
}
