/* outq: chunks are shared by reference, written in order with partial
 * writes resumed mid-chunk, and freed exactly when the last queue lets go. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "outq.h"

static size_t drain(int fd, char *out, size_t max)
{
    size_t n = 0;
    ssize_t r;
    while (n < max && (r = read(fd, out + n, max - n)) > 0)
        n += (size_t)r;
    return n;
}

/* outq_take: bytes across chunk boundaries, a partly taken chunk resumed,
 * references dropped as chunks are used up. */
static void test_take(void)
{
    outq q;
    char dst[16];
    outq_init(&q);
    chunk *a = chunk_new("abcde", 5), *b = chunk_new("fgh", 3), *c = chunk_new("ijklmn", 6);
    outq_push(&q, a);
    outq_push(&q, b);
    outq_push(&q, c);
    CHECK(q.bytes == 14 && a->refs == 2);
    CHECK(outq_take(&q, dst, 3) == 3 && memcmp(dst, "abc", 3) == 0);
    CHECK(q.bytes == 11 && q.count == 3 && q.off == 3);
    CHECK(outq_take(&q, dst, 7) == 7 && memcmp(dst, "defghij", 7) == 0);
    CHECK(a->refs == 1 && b->refs == 1 && q.count == 1 && q.off == 2);
    CHECK(outq_take(&q, dst, sizeof dst) == 4 && memcmp(dst, "klmn", 4) == 0);
    CHECK(q.count == 0 && q.bytes == 0 && c->refs == 1);
    CHECK(outq_take(&q, dst, sizeof dst) == 0);
    chunk_unref(a);
    chunk_unref(b);
    chunk_unref(c);
    outq_clear(&q);
}

/* outq_trim: the rest of a chunk begun is kept, the backlog behind it let
 * go; a queue with nothing begun is emptied. */
static void test_trim(void)
{
    outq q;
    char dst[16];
    outq_init(&q);
    chunk *a = chunk_new("abcde", 5), *b = chunk_new("fgh", 3), *c = chunk_new("ij", 2);
    outq_push(&q, a);
    outq_push(&q, b);
    outq_push(&q, c);
    CHECK(outq_cost(&q) == 10 + 3 * OUTQ_CHUNK_COST);
    CHECK(outq_take(&q, dst, 2) == 2);
    outq_trim(&q);
    CHECK(q.count == 1 && q.bytes == 3 && b->refs == 1 && c->refs == 1 && a->refs == 2);
    CHECK(outq_take(&q, dst, sizeof dst) == 3 && memcmp(dst, "cde", 3) == 0);
    CHECK(q.count == 0 && a->refs == 1);
    outq_push(&q, b);
    outq_push(&q, c);
    outq_trim(&q); /* nothing begun: nothing kept */
    CHECK(q.count == 0 && q.bytes == 0 && q.ring == NULL && b->refs == 1);
    chunk_unref(a);
    chunk_unref(b);
    chunk_unref(c);
    outq_clear(&q);
}

void test_outq(void)
{
    test_take();
    test_trim();
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);

    chunk *a = chunk_new("hello ", 6);
    chunk *b = chunk_new("world\n", 6);
    outq q1, q2;
    outq_init(&q1);
    outq_init(&q2);
    outq_push(&q1, a);
    outq_push(&q1, b);
    outq_push(&q2, a);
    CHECK(a->refs == 3 && b->refs == 2);
    chunk_unref(a);
    chunk_unref(b);
    CHECK(q1.bytes == 12 && q1.count == 2);

    CHECK(outq_write(&q1, sv[0]) == 12);
    CHECK(q1.count == 0 && q1.bytes == 0);
    CHECK(a->refs == 1); /* still in q2 */
    char got[64];
    CHECK(drain(sv[1], got, sizeof got) == 12 && memcmp(got, "hello world\n", 12) == 0);
    outq_clear(&q2); /* frees a: ASan would report a leak or double free */
    CHECK(outq_write(&q2, sv[0]) == 0);

    /* Fill the socket until writev would block, then drain it bit by bit:
     * every byte arrives once, in order, across partial writes. */
    int sz = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    enum { N = 2000 };
    char text[32];
    size_t total = 0;
    for (int i = 0; i < N; i++) {
        int len = snprintf(text, sizeof text, "line %d\n", i);
        chunk *c = chunk_new(text, (size_t)len);
        outq_push(&q1, c);
        chunk_unref(c);
        total += (size_t)len;
    }
    CHECK(q1.bytes == total && q1.count == N);
    static char all[N * 16];
    size_t got_total = 0;
    int would_block = 0, rounds = 0;
    while ((q1.count > 0 || got_total < total) && rounds++ < 100000) {
        ssize_t w = outq_write(&q1, sv[0]);
        if (w < 0) {
            CHECK(errno == EAGAIN);
            would_block = 1;
        }
        ssize_t r = read(sv[1], all + got_total, 700);
        if (r > 0)
            got_total += (size_t)r;
    }
    CHECK(would_block);
    CHECK(got_total == total);
    int in_order = 1;
    size_t pos = 0;
    for (int i = 0; i < N && in_order; i++) {
        int len = snprintf(text, sizeof text, "line %d\n", i);
        if (pos + (size_t)len > got_total || memcmp(all + pos, text, (size_t)len) != 0)
            in_order = 0;
        pos += (size_t)len;
    }
    CHECK(in_order);
    CHECK(q1.ring == NULL); /* a big ring is given back once empty */

    /* A closed peer is an error (EPIPE), never a crash: SIGPIPE is ignored
     * by hichat, and here the socket is written with it ignored too. */
    close(sv[1]);
    chunk *d = chunk_new("x", 1);
    outq_push(&q1, d);
    chunk_unref(d);
    signal(SIGPIPE, SIG_IGN);
    CHECK(outq_write(&q1, sv[0]) == -1 && (errno == EPIPE || errno == ECONNRESET));
    outq_clear(&q1);
    close(sv[0]);
}
