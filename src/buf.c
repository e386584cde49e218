/* buf.c - see buf.h. */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void buf_init(buf *b, size_t max)
{
    b->data = NULL;
    b->off = b->len = b->cap = 0;
    b->max = max;
}

int buf_append(buf *b, const void *p, size_t n)
{
    if (n > b->max - b->len)
        return -1;
    if (n == 0)
        return 0;
    if (b->off + b->len + n > b->cap) {
        if (b->off > 0) { /* slide down before growing */
            memmove(b->data, b->data + b->off, b->len);
            b->off = 0;
        }
        if (b->len + n > b->cap) {
            size_t cap = b->cap ? b->cap : 64;
            while (cap < b->len + n)
                cap *= 2;
            if (cap > b->max)
                cap = b->max;
            b->data = xrealloc(b->data, cap);
            b->cap = cap;
        }
    }
    memcpy(b->data + b->off + b->len, p, n);
    b->len += n;
    return 0;
}

void buf_consume(buf *b, size_t n)
{
    if (n >= b->len) {
        buf_clear(b);
        return;
    }
    b->off += n;
    b->len -= n;
}

void buf_clear(buf *b)
{
    free(b->data);
    b->data = NULL;
    b->off = b->len = b->cap = 0;
}
