/* fuzz_frame.c - line framing (src/frame.h) against the rules of
 * docs/protocol.md.
 *
 * Input: [m0 (m1)] [k] [k chunk sizes] [stream...]
 *   max line: m0 when m0 < 0xF0, else 240 + ((m0 & 0x0F) << 8 | m1), so both
 *             tiny limits (0, 1, 2...) and ordinary ones are reached;
 *   k:        (byte & 0x1F) chunk-size bytes follow; the stream is fed in
 *             chunks of those sizes, cycled (0 = an empty read).
 *
 * The stream is framed as a connection frames it (keep what framer_next did
 * not consume, present it again with the next chunk) three ways - whole,
 * in the chosen chunks, byte by byte - and each must give exactly the events
 * of a reference model written from protocol.md:
 *   - the stream splits at LF; a CR right before the LF is not content;
 *   - a line whose content is at most max bytes is a line, even if empty;
 *   - a longer one is reported once, at its first byte, and dropped whole
 *     through its LF;
 *   - bytes after the last LF are kept while they can still become a line
 *     (at most max bytes, or max + 1 when the last is a CR), else reported
 *     as over-long at once.
 * Every call is also checked on its own: consumed within the buffer, a line
 * inside the buffer, without LF, ending right before its CR LF or LF. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "fuzz.h"

/* Framings per input are bounded so a long input stays fast. */
#define BYTEWISE_MAX 4096 /* longest stream also fed byte by byte */
#define WINDOWS_MAX  64   /* frame_line calls checked directly */

enum { EV_LINE, EV_TOO_LONG };

typedef struct {
    int kind;
    size_t off; /* stream offset of the line's first byte */
    size_t len; /* content length (EV_LINE) */
} event;

typedef struct {
    event *ev;
    size_t n, cap;
    size_t kept_off, kept_len; /* the partial line left at the end */
    int discarding;            /* dropping an over-long line at the end */
} result;

static void push(result *r, int kind, size_t off, size_t len)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->ev = realloc(r->ev, r->cap * sizeof *r->ev);
        if (!r->ev)
            abort();
    }
    r->ev[r->n++] = (event){kind, off, len};
}

/* The reference: protocol.md's rules applied to the whole stream at once. */
static void model(const uint8_t *d, size_t n, size_t max, result *r)
{
    size_t pos = 0;
    while (pos < n) {
        const uint8_t *lf = memchr(d + pos, '\n', n - pos);
        if (lf) {
            size_t c = (size_t)(lf - (d + pos));
            if (c > 0 && d[pos + c - 1] == '\r')
                c--;
            if (c > max)
                push(r, EV_TOO_LONG, pos, 0);
            else
                push(r, EV_LINE, pos, c);
            pos = (size_t)(lf - d) + 1;
            continue;
        }
        size_t t = n - pos;
        if (t > max + 1 || (t == max + 1 && d[n - 1] != '\r')) {
            push(r, EV_TOO_LONG, pos, 0);
            r->discarding = 1;
            r->kept_off = n;
        } else {
            r->kept_off = pos;
            r->kept_len = t;
        }
        return;
    }
    r->kept_off = n;
}

static size_t count_lf(const char *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += p[i] == '\n';
    return k;
}

/* Frames buf[0..total) (kept bytes, then a new chunk; buf[0] is stream
 * offset base) as server.c's conn_input does, checking each call. Returns
 * the bytes consumed; the rest is the new partial line. */
static size_t frame_buffer(framer *f, const char *buf, size_t total, size_t base, size_t max,
                           const uint8_t *stream, result *r)
{
    size_t pos = 0;

    for (;;) {
        enum frame_kind kind;
        const char *line = NULL;
        size_t ll = (size_t)-1;
        int was_discarding = f->discarding;
        size_t n = framer_next(f, buf + pos, total - pos, max, &kind, &line, &ll);

        FUZZ_CHECKF(n <= total - pos, "consumed %zu of %zu", n, total - pos);
        FUZZ_CHECK(f->discarding == 0 || f->discarding == 1);
        /* Bytes skipped before the item: only the rest of a dropped line,
         * through its LF. (So a report that consumed nothing is never
         * followed by another: the loop always progresses.) */
        size_t skipped = kind == FRAME_LINE ? (size_t)(line - (buf + pos)) : n;
        if (kind == FRAME_LINE) {
            FUZZ_CHECK(line >= buf + pos && line < buf + pos + n);
            FUZZ_CHECKF(n > 0, "a line consumed nothing");
            FUZZ_CHECKF(ll <= max, "line of %zu bytes, max %zu", ll, max);
            FUZZ_CHECK(line + ll < buf + pos + n);
            FUZZ_CHECK(buf[pos + n - 1] == '\n');
            /* The ending is LF or CR LF, nothing else. */
            size_t ending = (size_t)(buf + pos + n - (line + ll));
            FUZZ_CHECKF(ending == 1 || (ending == 2 && line[ll] == '\r'), "ending of %zu bytes",
                        ending);
            FUZZ_CHECK(memchr(line, '\n', ll) == NULL);
            FUZZ_CHECK(f->discarding == 0);
            size_t off = base + (size_t)(line - buf);
            FUZZ_CHECK(memcmp(line, stream + off, ll) == 0);
            push(r, EV_LINE, off, ll);
        } else if (kind == FRAME_TOO_LONG) {
            FUZZ_CHECK(f->discarding == 1);
            push(r, EV_TOO_LONG, base + pos + n, 0);
        } else {
            FUZZ_CHECK(kind == FRAME_MORE);
        }
        if (was_discarding && (kind != FRAME_MORE || !f->discarding)) {
            FUZZ_CHECKF(skipped > 0 && buf[pos + skipped - 1] == '\n' &&
                            count_lf(buf + pos, skipped) == 1,
                        "dropping ended %zu bytes in, not at the LF", skipped);
        } else if (!was_discarding) {
            FUZZ_CHECKF(skipped == 0, "skipped %zu bytes while not dropping", skipped);
        }
        pos += n;
        if (kind == FRAME_MORE) {
            size_t rest = total - pos;
            if (f->discarding) {
                /* Everything belongs to the dropped line. */
                FUZZ_CHECK(rest == 0 && count_lf(buf + pos - n, n) == 0);
            } else {
                /* A partial line: no LF, and it can still become a line. */
                FUZZ_CHECK(memchr(buf + pos, '\n', rest) == NULL);
                FUZZ_CHECKF(rest <= max + 1, "kept %zu bytes, max %zu", rest, max);
                FUZZ_CHECK(rest <= max || buf[total - 1] == '\r');
                size_t pl = frame_partial(buf + pos, rest);
                FUZZ_CHECK(pl <= max);
                FUZZ_CHECK(pl == rest || (pl + 1 == rest && buf[total - 1] == '\r'));
            }
            return pos;
        }
    }
}

/* Feeds stream[0..n) in chunks: sizes[i % k], or all at once when k == 0,
 * or byte by byte when sizes is NULL. */
static void feed(const uint8_t *stream, size_t n, size_t max, const uint8_t *sizes, size_t k,
                 result *r)
{
    framer f = {0};
    char *kept = NULL;
    size_t nkept = 0, at = 0, chunks = 0;
    /* Empty chunks make no progress; after this many chunks the rest goes
     * in whole. */
    size_t chunk_cap = n + 2 * k + 16;

    do {
        size_t len;
        if (!sizes)
            len = 1;
        else if (k == 0 || chunks >= chunk_cap)
            len = n - at;
        else
            len = sizes[chunks % k];
        if (len > n - at)
            len = n - at;
        chunks++;

        /* The buffer is exactly kept + chunk bytes, so ASan sees any read
         * past its end. */
        size_t total = nkept + len;
        char *buf = malloc(total ? total : 1);
        if (!buf)
            abort();
        if (nkept)
            memcpy(buf, kept, nkept);
        if (len)
            memcpy(buf + nkept, stream + at, len);
        size_t base = at - nkept;
        at += len;

        size_t used = frame_buffer(&f, buf, total, base, max, stream, r);
        if (len == 0)
            FUZZ_CHECKF(used == 0, "presenting the kept bytes again consumed %zu", used);
        free(kept);
        nkept = total - used;
        kept = malloc(nkept ? nkept : 1);
        if (!kept)
            abort();
        memcpy(kept, buf + used, nkept);
        free(buf);
    } while (at < n);

    r->kept_off = n - nkept;
    r->kept_len = nkept;
    r->discarding = f.discarding;
    free(kept);
}

static void same(const result *want, const result *got, const char *how)
{
    FUZZ_CHECKF(want->n == got->n, "%s: %zu events, the model has %zu", how, got->n, want->n);
    for (size_t i = 0; i < want->n; i++) {
        const event *a = &want->ev[i], *b = &got->ev[i];
        FUZZ_CHECKF(a->kind == b->kind && a->off == b->off && a->len == b->len,
                    "%s: event %zu is (%d @%zu len %zu), the model says (%d @%zu len %zu)", how, i,
                    b->kind, b->off, b->len, a->kind, a->off, a->len);
    }
    FUZZ_CHECKF(want->kept_len == got->kept_len && want->kept_off == got->kept_off,
                "%s: kept %zu @%zu, the model keeps %zu @%zu", how, got->kept_len, got->kept_off,
                want->kept_len, want->kept_off);
    FUZZ_CHECKF(want->discarding == got->discarding, "%s: discarding %d, the model %d", how,
                got->discarding, want->discarding);
}

/* frame_line alone, on a buffer holding only the max + 2 bytes it may read:
 * ASan reports a read past them. The answer must match the model's. */
static void check_window(const uint8_t *d, size_t len, size_t max)
{
    size_t have = len < max + 2 ? len : max + 2;
    char *buf = calloc(have ? have : 1, 1);
    if (!buf)
        abort();
    if (have)
        memcpy(buf, d, have);
    size_t ll = (size_t)-1;
    long r = frame_line(buf, len, max, &ll);

    const uint8_t *lf = memchr(d, '\n', len);
    if (lf) {
        size_t c = (size_t)(lf - d);
        if (c > 0 && d[c - 1] == '\r')
            c--;
        if (c <= max)
            FUZZ_CHECKF(r == (long)(lf - d) + 1 && ll == c, "frame_line %ld/%zu, want %zu/%zu", r,
                        ll, (size_t)(lf - d) + 1, c);
        else
            FUZZ_CHECKF(r == -1, "frame_line %ld for a %zu-byte line, max %zu", r, c, max);
    } else if (len <= max || (len == max + 1 && d[len - 1] == '\r')) {
        FUZZ_CHECKF(r == 0, "frame_line %ld for %zu bytes that may still fit", r, len);
    } else {
        FUZZ_CHECKF(r == -1, "frame_line %ld for %zu bytes without LF, max %zu", r, len, max);
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t i = 0, max, k;

    if (size < 2)
        return 0;
    if (data[0] < 0xF0) {
        max = data[i++];
    } else {
        if (size < 3)
            return 0;
        max = 240 + ((size_t)(data[0] & 0x0F) << 8 | data[1]);
        i = 2;
    }
    k = data[i++] & 0x1F;
    if (size - i < k)
        k = size - i;
    const uint8_t *sizes = data + i;
    const uint8_t *stream = data + i + k;
    size_t n = size - i - k;

    result want = {0}, whole = {0}, chunked = {0}, bytewise = {0};
    model(stream, n, max, &want);
    feed(stream, n, max, sizes, 0, &whole);
    same(&want, &whole, "whole");
    feed(stream, n, max, sizes, k, &chunked);
    same(&want, &chunked, "chunked");
    if (n <= BYTEWISE_MAX) {
        feed(stream, n, max, NULL, 0, &bytewise);
        same(&want, &bytewise, "byte by byte");
    }

    /* frame_line from every line start the model found, and the tail. */
    size_t windows = 0;
    for (size_t e = 0; e < want.n && windows < WINDOWS_MAX; e++, windows++)
        check_window(stream + want.ev[e].off, n - want.ev[e].off, max);
    check_window(stream + want.kept_off, n - want.kept_off, max);

    free(want.ev);
    free(whole.ev);
    free(chunked.ev);
    free(bytewise.ev);
    return 0;
}
