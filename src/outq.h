/* outq.h - shared output chunks and per-connection output queues.
 *
 * A message is encoded once into a chunk; every recipient's queue holds a
 * reference to that same chunk, so a line sent to a thousand members is one
 * allocation and a thousand pointer pushes. A queue is written with one
 * writev per call, coalescing everything queued since the last write. */
#ifndef HICHAT_OUTQ_H
#define HICHAT_OUTQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct chunk {
    uint32_t refs;
    uint32_t len;
    char data[];
} chunk;

/* A new chunk holding a copy of data[0..len), with one reference. */
chunk *chunk_new(const void *data, size_t len);
static inline chunk *chunk_ref(chunk *c)
{
    c->refs++;
    return c;
}
/* Drops one reference; frees the chunk with the last. */
void chunk_unref(chunk *c);

typedef struct {
    chunk **ring;   /* owned; NULL while the queue has never held much */
    uint32_t head;  /* index of the oldest chunk */
    uint32_t count; /* chunks queued */
    uint32_t cap;   /* ring size, a power of two */
    uint32_t off;   /* bytes of the oldest chunk already written */
    size_t bytes;   /* bytes still to write */
} outq;

void outq_init(outq *q);
/* Queues c, taking a new reference of its own. */
void outq_push(outq *q, chunk *c);
/* Writes as much as one writev takes. Returns the bytes written (0 if the
 * queue is empty), or -1 with errno (EAGAIN means try when writable). */
ssize_t outq_write(outq *q, int fd);
/* Moves up to max queued bytes, oldest first, into dst (TLS writes from a
 * staging buffer of whole records instead of writev). Returns the count. */
size_t outq_take(outq *q, char *dst, size_t max);
/* Drops everything queued and frees the ring. */
void outq_clear(outq *q);
/* Drops everything queued except the rest of a chunk already begun, so the
 * stream stays whole up to a line's end (a member cut off keeps no backlog
 * but can still be told why). */
void outq_trim(outq *q);

/* What each queued chunk costs beyond its bytes: its ring slot, which may
 * be doubled while the ring grows. */
#define OUTQ_CHUNK_COST (2 * sizeof(chunk *))
/* What q holds a member to: its bytes and their bookkeeping. A queue of
 * many short lines costs its ring as much as its text. */
static inline size_t outq_cost(const outq *q)
{
    return q->bytes + (size_t)q->count * OUTQ_CHUNK_COST;
}

#endif
