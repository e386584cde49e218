/* Framing: every input is fed split at every byte, and byte by byte, from
 * buffers that end at a guard page, and must frame exactly as when whole. */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "frame.h"

/* A copy of data that ends exactly where an unreadable page begins, so a
 * read one byte past the end faults instead of passing unnoticed. */
typedef struct {
    char *map;
    size_t maplen;
} guarded;

static const char *guard(guarded *g, const char *data, size_t len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t pages = (len + page - 1) / page + 1;
    g->maplen = (pages + 1) * page;
    g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(g->map + pages * page, page, PROT_NONE);
    char *start = g->map + pages * page - len;
    memcpy(start, data, len);
    return start;
}

static void unguard(guarded *g)
{
    munmap(g->map, g->maplen);
}

/* What a connection would make of a stream: lines joined by '|', and '#'
 * for each over-long line reported; the partial line left at the end. */
typedef struct {
    framer f;
    char kept[512];
    size_t nkept;
    char out[4096];
    size_t nout;
} sim;

static void feed(sim *s, const char *data, size_t len, size_t max)
{
    char buf[8192];
    guarded g;
    memcpy(buf, s->kept, s->nkept);
    memcpy(buf + s->nkept, data, len);
    size_t total = s->nkept + len, pos = 0;
    const char *in = guard(&g, buf, total);
    while (pos < total) {
        enum frame_kind kind;
        const char *line;
        size_t ll;
        pos += framer_next(&s->f, in + pos, total - pos, max, &kind, &line, &ll);
        if (kind == FRAME_MORE)
            break;
        if (kind == FRAME_LINE) {
            memcpy(s->out + s->nout, line, ll);
            s->nout += ll;
            s->out[s->nout++] = '|';
        } else {
            s->out[s->nout++] = '#';
        }
    }
    s->nkept = total - pos;
    memcpy(s->kept, in + pos, s->nkept);
    unguard(&g);
}

#define S(x) x, sizeof(x) - 1

static const struct {
    const char *in;
    size_t inlen;
    size_t max;
    const char *want; /* lines, each followed by '|'; '#' per over-long line */
    size_t wantlen;
    const char *kept; /* the partial line left at the end */
    size_t keptlen;
} cases[] = {
    {S("hello\n"), 16, S("hello|"), S("")},
    {S("a\nb\r\nc"), 16, S("a|b|"), S("c")},
    {S("\n\r\n\n"), 16, S("|||"), S("")},
    {S("no newline"), 16, S(""), S("no newline")},
    {S("cr\r"), 16, S(""), S("cr\r")},
    {S("mid\rdle\n"), 16, S("mid\rdle|"), S("")},
    {S("12345678\n"), 8, S("12345678|"), S("")},
    {S("12345678\r\n"), 8, S("12345678|"), S("")},
    {S("123456789\nok\n"), 8, S("#ok|"), S("")},
    {S("123456789"), 8, S("#"), S("")},
    {S("12345678\r"), 8, S(""), S("12345678\r")},
    {S("12345678\rx\nnext\n"), 8, S("#next|"), S("")},
    {S("x\n0123456789abcdef0123\ny\n"), 8, S("x|#y|"), S("")},
    {S("toolongtoolong\ntoolongagain\n"), 8, S("##"), S("")},
    {S("\xe4\xbd\xa0\xe5\xa5\xbd\n\xf0\x9f\x98\x80\n"), 16,
     S("\xe4\xbd\xa0\xe5\xa5\xbd|\xf0\x9f\x98\x80|"), S("")},
    {S("nul\0byte\n"), 16, S("nul\0byte|"), S("")},
    {S("a\nbb\nccc\ndddd\n"), 3, S("a|bb|ccc|#"), S("")},
};

static void check_result(size_t i, const char *how, size_t split, const sim *s)
{
    CHECKF(s->nout == cases[i].wantlen && memcmp(s->out, cases[i].want, s->nout) == 0,
           "case %zu %s %zu: lines \"%.*s\"", i, how, split, (int)s->nout, s->out);
    CHECKF(s->nkept == cases[i].keptlen && memcmp(s->kept, cases[i].kept, s->nkept) == 0,
           "case %zu %s %zu: kept \"%.*s\"", i, how, split, (int)s->nkept, s->kept);
}

static void test_frame_line(void)
{
    size_t ll = 99;
    CHECK(frame_line("", 0, 8, &ll) == 0);
    CHECK(frame_line("abc", 3, 8, &ll) == 0);
    CHECK(frame_line("abc\n", 4, 8, &ll) == 4 && ll == 3);
    CHECK(frame_line("abc\r\nx", 6, 8, &ll) == 5 && ll == 3);
    CHECK(frame_line("\r\n", 2, 0, &ll) == 2 && ll == 0);
    CHECK(frame_line("a\n", 2, 0, &ll) == -1);
    CHECK(frame_line("123456789", 9, 8, &ll) == -1);
    CHECK(frame_line("12345678\r", 9, 8, &ll) == 0);
    CHECK(frame_line("12345678\rx", 10, 8, &ll) == -1);
    CHECK(frame_partial("ab\r", 3) == 2);
    CHECK(frame_partial("ab", 2) == 2);
    CHECK(frame_partial("", 0) == 0);
}

void test_frame(void)
{
    test_frame_line();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *in = cases[i].in;
        size_t len = cases[i].inlen, max = cases[i].max;

        for (size_t split = 0; split <= len; split++) {
            sim s = {0};
            feed(&s, in, split, max);
            feed(&s, in + split, len - split, max);
            check_result(i, "split at", split, &s);
        }
        sim s = {0};
        for (size_t b = 0; b < len; b++)
            feed(&s, in + b, 1, max);
        check_result(i, "byte by byte", len, &s);
    }
}
