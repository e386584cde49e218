/* buf.h - a byte buffer with a hard cap.
 *
 * Bytes are appended at the end and consumed from the front; the buffer grows
 * on demand (doubling) but never past `max`, and an append that would pass it
 * fails whole, so a caller always knows what was kept. The storage is freed
 * when the buffer empties, so an idle buffer costs nothing. */
#ifndef HICHAT_BUF_H
#define HICHAT_BUF_H

#include <stddef.h>

typedef struct {
    char *data; /* owned; NULL while empty */
    size_t off; /* first unconsumed byte */
    size_t len; /* bytes after off */
    size_t cap; /* allocated */
    size_t max; /* hard cap on len */
} buf;

void buf_init(buf *b, size_t max);
/* Appends n bytes. Returns 0, or -1 (appending nothing) if len would pass max. */
int buf_append(buf *b, const void *p, size_t n);
/* Drops the first n (<= len) bytes. */
void buf_consume(buf *b, size_t n);
static inline const char *buf_data(const buf *b)
{
    return b->data ? b->data + b->off : "";
}
static inline size_t buf_len(const buf *b)
{
    return b->len;
}
void buf_clear(buf *b);

#endif
