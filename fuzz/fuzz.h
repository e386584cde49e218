/* fuzz.h - what the fuzz harnesses share: the libFuzzer entry point, a check
 * that aborts (so libFuzzer and the replay driver both see a crash), and
 * references (UTF-8 decoding, the nick rule) written from the definitions,
 * not from text.c. */
#ifndef HICHAT_FUZZ_H
#define HICHAT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uspoof.h>
#include <unicode/ustring.h>

#include "text.h"

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
 * - _ . [ ] { } | ^; from U+0080 up nothing of the categories Z*, Cc, Cf,
 * Co, Cn, Cs, nor U+115F, U+1160, U+3164, U+FFA0, U+2800; the first
 * character of category L, N, S or P; and a key - the skeleton of the
 * NFKC case fold - of at most NICK_KEY_MAX bytes with no ASCII a nick may not
 * have. Computed here from code points (UTF-32), not text.c's way. The key
 * goes to key (NICK_KEY_MAX + 1 bytes, or NULL) when the nick is valid. */
static inline int ref_nick_ascii(uint32_t cp)
{
    static const char ascii_punct[] = "-_.[]{}|^";
    int ok = (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
    for (const char *p = ascii_punct; *p && !ok; p++)
        ok = cp == (unsigned char)*p;
    return ok;
}

static inline int ref_nick_ok(const unsigned char *s, size_t len, char *key)
{
    UChar32 cps[32];
    int32_t ncp = 0;
    if (len < 1 || len > 32)
        return 0;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int n = ref_utf8_decode(s + i, len - i, &cp);
        if (n < 0)
            return 0;
        i += (size_t)n;
        if (cp < 0x80) {
            if (!ref_nick_ascii(cp))
                return 0;
        } else {
            switch (u_charType((UChar32)cp)) {
            case U_SPACE_SEPARATOR: case U_LINE_SEPARATOR: case U_PARAGRAPH_SEPARATOR:
            case U_CONTROL_CHAR: case U_FORMAT_CHAR: case U_PRIVATE_USE_CHAR:
            case U_UNASSIGNED: case U_SURROGATE:
                return 0;
            default:
                break;
            }
            if (cp == 0x115F || cp == 0x1160 || cp == 0x3164 || cp == 0xFFA0 || cp == 0x2800)
                return 0;
        }
        if (ncp == 0) {
            switch (u_charType((UChar32)cp)) {
            case U_NON_SPACING_MARK: case U_ENCLOSING_MARK: case U_COMBINING_SPACING_MARK:
                return 0;
            default:
                break;
            }
        }
        cps[ncp++] = (UChar32)cp;
    }
    UErrorCode e = U_ZERO_ERROR;
    UChar u[64], fold[1024], skel[1024];
    int32_t n;
    u_strFromUTF32(u, 64, &n, cps, ncp, &e);
    const UNormalizer2 *cf = unorm2_getNFKCCasefoldInstance(&e);
    n = unorm2_normalize(cf, u, n, fold, 1024, &e);
    USpoofChecker *sc = uspoof_open(&e);
    n = uspoof_getSkeleton(sc, 0, fold, n, skel, 1024, &e);
    uspoof_close(sc);
    char k[4096];
    int32_t kn;
    u_strToUTF8(k, sizeof k, &kn, skel, n, &e);
    if (U_FAILURE(e))
        abort(); /* the buffers are ample: ICU itself broke */
    if (kn == 0 || kn > NICK_KEY_MAX)
        return 0;
    for (int32_t i = 0; i < kn; i++)
        if ((unsigned char)k[i] < 0x80 && !ref_nick_ascii((unsigned char)k[i]))
            return 0;
    if (key) {
        memcpy(key, k, (size_t)kn);
        key[kn] = '\0';
    }
    return 1;
}

#endif
