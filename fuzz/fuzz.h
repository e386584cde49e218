/* fuzz.h - what the fuzz harnesses share: the libFuzzer entry point, a check
 * that aborts (so libFuzzer and the replay driver both see a crash), and a
 * reference UTF-8 decoder written from the definition, not from text.c. */
#ifndef HICHAT_FUZZ_H
#define HICHAT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Runs one input; always returns 0. Each harness defines it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant broke: say which, where, then abort() so the input is kept
 * as a crash (libFuzzer) or counted as failed (fuzz/replay.c). */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The same, with a printf-style explanation. */
#define FUZZ_CHECKF(cond, ...)                                                                     \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant broken: %s: ", __FILE__, __LINE__, #cond);           \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* RFC 3629 by its letter: the lead byte gives the length, every other byte is
 * 10xxxxxx, and the value must need that length (no overlong form), must not
 * be a surrogate and must not pass U+10FFFF. Returns the length (1-4) and sets
 * *cp, or -1. Reads only s[0..len), len >= 1. */
static inline int ref_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned c = s[0];
    size_t n;
    uint32_t v, min;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xE0) == 0xC0) {
        n = 2, v = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, v = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return -1; /* a continuation byte or F8-FF */
    }
    if (len < n)
        return -1;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return -1;
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return -1;
    *cp = v;
    return (int)n;
}

/* What protocol.md says no line a client receives may hold: C0 controls but
 * TAB (so ESC too), DEL, C1 controls, and the bidi embedding, override and
 * isolate controls. */
static inline int ref_forbidden_cp(uint32_t cp)
{
    return (cp < 0x20 && cp != '\t') || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/* protocol.md "Nicks": 1-32 bytes of UTF-8; ASCII letters, digits and
 * - _ . [ ] { } | ^; from U+00A1 up anything but U+200B-U+200F,
 * U+2028-U+202E, U+2060-U+206F, U+FEFF, U+00AD and U+3000. */
static inline int ref_nick_ok(const unsigned char *s, size_t len)
{
    static const char ascii_punct[] = "-_.[]{}|^";
    if (len < 1 || len > 32)
        return 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int n = ref_utf8_decode(s + i, len - i, &cp);
        if (n < 0)
            return 0;
        i += (size_t)n;
        if (cp < 0x80) {
            int ok =
                (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
            for (const char *p = ascii_punct; *p && !ok; p++)
                ok = cp == (unsigned char)*p;
            if (!ok)
                return 0;
            continue;
        }
        if (cp < 0xA1 || cp == 0xAD || cp == 0x3000 || cp == 0xFEFF ||
            (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202E) ||
            (cp >= 0x2060 && cp <= 0x206F))
            return 0;
    }
    return 1;
}

#endif
