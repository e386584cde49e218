/* fuzz_text.c - UTF-8 decoding, the text hygiene rule and the nick rule
 * (src/text.h) against references written from docs/protocol.md.
 *
 * Input: any bytes. The whole input is decoded at every offset, cleaned, and
 * checked as a nick; so is each piece between LFs (short pieces are where
 * nicks live).
 *
 *   utf8_decode      == ref_utf8_decode (fuzz.h) at every offset, and with
 *                       the length cut to 1..4 bytes;
 *   text_clean       writes at most TEXT_CLEAN_MAX(len) bytes into a buffer
 *                    of exactly that size; its output is valid UTF-8 without
 *                    C0 controls but TAB, DEL, C1 or bidi controls; it equals
 *                    the protocol.md table applied by ref_clean; cleaning it
 *                    again changes nothing;
 *   text_nick_invalid accepts exactly what ref_nick_ok accepts, a valid
 *                    nick's text_nick_key is ref_nick_ok's key, and a
 *                    valid nick is unchanged by cleaning;
 *   text_width       is 0, 1 or 2;
 *   line_parse       (the client's reading of server lines, src/roster.h)
 *                    of each piece, copied to a buffer of exactly its size:
 *                    every name it returns lies inside the line and is a
 *                    valid nick, its text offset is inside the line, and a
 *                    /who list adds no more names to a roster than it has
 *                    ", "-separated parts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "roster.h"
#include "text.h"

/* Pieces checked as nicks per input, so a long input stays fast. */
#define PIECES_MAX 256

static const char fffd[] = "\xEF\xBF\xBD";

/* The table in protocol.md "Text hygiene", one row at a time. */
static size_t ref_clean(const unsigned char *s, size_t len, char *out)
{
    size_t i = 0, o = 0;
    while (i < len) {
        uint32_t cp;
        int n = ref_utf8_decode(s + i, len - i, &cp);
        if (n < 0) { /* not valid UTF-8: one U+FFFD per bad byte */
            memcpy(out + o, fffd, 3);
            o += 3, i++;
        } else if (cp == '\t') {
            out[o++] = '\t';
            i++;
        } else if (cp < 0x20) { /* C0: ^@ ^A ... ^[ ... ^_ */
            out[o++] = '^';
            out[o++] = (char)('@' + cp);
            i++;
        } else if (cp == 0x7F) {
            out[o++] = '^';
            out[o++] = '?';
            i++;
        } else if ((cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
                   (cp >= 0x2066 && cp <= 0x2069)) { /* C1, bidi */
            memcpy(out + o, fffd, 3);
            o += 3, i += (size_t)n;
        } else {
            memcpy(out + o, s + i, (size_t)n);
            o += (size_t)n, i += (size_t)n;
        }
    }
    return o;
}

static void check_decode(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        /* Whole rest, then cut to 1..4 bytes (truncated sequences). */
        for (size_t cut = 0; cut <= 4; cut++) {
            size_t n = cut == 0 ? len - i : cut;
            if (n > len - i)
                break;
            uint32_t a = 0xFFFFFFFF, b = 0xFFFFFFFF;
            int ra = utf8_decode(s + i, n, &a);
            int rb = ref_utf8_decode(s + i, n, &b);
            FUZZ_CHECKF(ra == rb, "utf8_decode at %zu (len %zu) gives %d, the reference %d", i, n,
                        ra, rb);
            if (ra > 0)
                FUZZ_CHECKF(a == b, "utf8_decode at %zu gives U+%04X, the reference U+%04X", i,
                            (unsigned)a, (unsigned)b);
        }
    }
}

/* Output that no terminal can be driven by: valid UTF-8, nothing forbidden. */
static void check_clean_output(const char *out, size_t n)
{
    const unsigned char *u = (const unsigned char *)out;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int k = ref_utf8_decode(u + i, n - i, &cp);
        FUZZ_CHECKF(k > 0, "cleaned text is not valid UTF-8 at byte %zu (0x%02x)", i, u[i]);
        FUZZ_CHECKF(!ref_forbidden_cp(cp), "cleaned text holds U+%04X at byte %zu", (unsigned)cp,
                    i);
        int w = text_width(cp);
        FUZZ_CHECKF(w >= 0 && w <= 2, "text_width(U+%04X) = %d", (unsigned)cp, w);
        i += (size_t)k;
    }
}

static void check_clean(const unsigned char *s, size_t len)
{
    size_t cap = TEXT_CLEAN_MAX(len);
    /* Exactly the documented size: ASan catches a byte more. */
    char *out = malloc(cap ? cap : 1), *ref = malloc(cap ? cap : 1);
    if (!out || !ref)
        abort();

    size_t n = text_clean((const char *)s, len, out);
    FUZZ_CHECKF(n <= cap, "text_clean wrote %zu bytes for %zu in", n, len);
    check_clean_output(out, n);

    size_t rn = ref_clean(s, len, ref);
    FUZZ_CHECKF(n == rn && memcmp(out, ref, n) == 0,
                "text_clean differs from protocol.md's table (%zu bytes, want %zu)", n, rn);

    /* Idempotent: clean text is left as it is. text_clean may need
     * TEXT_CLEAN_MAX(n) bytes for n bytes in, so give it that. */
    char *again = malloc(n ? TEXT_CLEAN_MAX(n) : 1);
    if (!again)
        abort();
    size_t n2 = text_clean(out, n, again);
    FUZZ_CHECKF(n2 == n && memcmp(out, again, n) == 0, "cleaning twice changes %zu bytes to %zu", n,
                n2);
    free(out);
    free(ref);
    free(again);
}

static void check_nick(const unsigned char *s, size_t len)
{
    char ref_key[NICK_KEY_MAX + 1], key[NICK_KEY_MAX + 1];
    const char *why = text_nick_invalid((const char *)s, len);
    int ok = ref_nick_ok(s, len, ref_key);
    FUZZ_CHECKF((why == NULL) == ok, "text_nick_invalid says %s for %zu bytes; protocol.md: %s",
                why ? why : "valid", len, ok ? "valid" : "invalid");
    if (why) {
        FUZZ_CHECK(why[0] != '\0');
        return;
    }
    /* A valid nick's key fits the room's buffer and is protocol.md's. */
    int kn = text_nick_key((const char *)s, len, key, sizeof key);
    FUZZ_CHECK(kn > 0 && strcmp(key, ref_key) == 0);
    /* A nick is shown raw in "<nick> text": it must already be clean. */
    char out[TEXT_CLEAN_MAX(NICK_MAX)];
    size_t n = text_clean((const char *)s, len, out);
    FUZZ_CHECK(n == len && memcmp(out, s, len) == 0);
}

static void check_name(const char *line, size_t n, const char *a, size_t alen)
{
    FUZZ_CHECK(a >= line && a + alen <= line + n);
    FUZZ_CHECKF(alen > 0 && text_nick_invalid(a, alen) == NULL, "line_parse named a non-nick");
}

static void check_line(const unsigned char *s, size_t len)
{
    char *line = malloc(len); /* exactly the line (even none): ASan sees overreads */
    line_info li;
    if (!line && len)
        abort();
    memcpy(line, s, len);
    line_parse(line, len, &li);
    FUZZ_CHECK(li.text <= len);
    switch (li.kind) {
    case LINE_RENAME: check_name(line, len, li.b, li.blen); /* fall through */
    case LINE_MSG:
    case LINE_PRIV_IN:
    case LINE_PRIV_OUT:
    case LINE_WELCOME:
    case LINE_JOIN:
    case LINE_LEAVE:
    case LINE_YOU_ARE: check_name(line, len, li.a, li.alen); break;
    case LINE_WHO: {
        FUZZ_CHECK(li.a >= line && li.a + li.alen <= line + len);
        roster r;
        roster_init(&r);
        size_t named = roster_add_list(&r, li.a, li.alen);
        FUZZ_CHECK(r.n <= named);
        for (size_t i = 0; i < r.n; i++)
            FUZZ_CHECK(roster_has(&r, r.v[i], strlen(r.v[i])));
        roster_clear(&r);
        break;
    }
    default: break;
    }
    free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_decode(data, size);
    check_clean(data, size);
    check_nick(data, size);

    /* Each piece between LFs, as a line and as a nick. */
    size_t start = 0, pieces = 0;
    while (start <= size && pieces++ < PIECES_MAX) {
        const uint8_t *lf = memchr(data + start, '\n', size - start);
        size_t end = lf ? (size_t)(lf - data) : size;
        check_line(data + start, end - start);
        if (end - start <= 2 * NICK_MAX) {
            check_nick(data + start, end - start);
            if (lf)
                check_clean(data + start, end - start);
        }
        if (!lf)
            break;
        start = end + 1;
    }
    return 0;
}
