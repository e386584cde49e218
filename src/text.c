/* text.c - see text.h. */
#include "text.h"

#include <string.h>
#include <wchar.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uspoof.h>
#include <unicode/ustring.h>

int utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char c = s[0];
    uint32_t v;
    int n;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the 2nd byte */

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        v = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        v = c & 0x07;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return -1;
    }
    if (len < (size_t)n)
        return -1;
    if (s[1] < lo || s[1] > hi)
        return -1;
    v = (v << 6) | (s[1] & 0x3F);
    for (int i = 2; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return -1;
        v = (v << 6) | (s[i] & 0x3F);
    }
    *cp = v;
    return n;
}

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

static int is_bidi_control(uint32_t cp)
{
    return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

size_t utf8_step(const char *s, size_t len, size_t i, uint32_t *cp)
{
    int n = utf8_decode((const unsigned char *)s + i, len - i, cp);
    if (n < 0) {
        *cp = 0xFFFD;
        return 1;
    }
    return (size_t)n;
}

size_t text_clean(const char *in, size_t len, char *out)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t i = 0, o = 0;

    while (i < len) {
        /* Most text is printable ASCII: copy a run of it at once. */
        size_t j = i;
        while (j < len && ((s[j] >= 0x20 && s[j] < 0x7F) || s[j] == '\t'))
            j++;
        if (j > i) {
            memcpy(out + o, s + i, j - i);
            o += j - i;
            i = j;
            continue;
        }
        uint32_t cp;
        int n = utf8_decode(s + i, len - i, &cp);
        if (n < 0) {
            memcpy(out + o, replacement, 3);
            o += 3;
            i++;
        } else if ((cp < 0x20 && cp != '\t') || cp == 0x7F) {
            out[o++] = '^';
            out[o++] = cp == 0x7F ? '?' : (char)(cp + 0x40);
            i++;
        } else if ((cp >= 0x80 && cp <= 0x9F) || is_bidi_control(cp)) {
            memcpy(out + o, replacement, 3);
            o += 3;
            i += (size_t)n;
        } else {
            memcpy(out + o, s + i, (size_t)n);
            o += (size_t)n;
            i += (size_t)n;
        }
    }
    return o;
}

/* ---- nicks ---- */

/* UTF-16 room for a nick's case fold and skeleton. NFKC can make 18 code
 * units of 3 bytes (U+FDFA), so a NICK_MAX-byte nick folds to at most
 * 6 * NICK_MAX units; a skeleton longer than NICK_KEY_MAX units could not
 * fit NICK_KEY_MAX bytes of UTF-8 in any case. The slack keeps "does not
 * fit" a property of the key, not of these buffers. */
#define NICK_FOLD_UNITS (8 * NICK_MAX)
#define NICK_SKEL_UNITS (4 * NICK_KEY_MAX)

static const char nick_ascii_punct[] = "-_.[]{}|^";

static int nick_ascii_ok(uint32_t cp)
{
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
           (cp && strchr(nick_ascii_punct, (int)cp));
}

/* Letters in Unicode's eyes that show as nothing: the Hangul fillers and the
 * braille blank. The categories alone would let a nick of them through. */
static int is_blank_letter(uint32_t cp)
{
    return cp == 0x115F || cp == 0x1160 || cp == 0x3164 || cp == 0xFFA0 || cp == 0x2800;
}

/* The spoof checker holds the confusables table; opening it parses ICU data,
 * so it is done once, on the first nick. ICU keeps it reachable from here
 * until exit, which LeakSanitizer does not count as a leak. */
static USpoofChecker *spoof_checker(void)
{
    static USpoofChecker *sc;
    static int failed;
    if (!sc && !failed) {
        UErrorCode e = U_ZERO_ERROR;
        sc = uspoof_open(&e);
        if (U_FAILURE(e)) {
            uspoof_close(sc);
            sc = NULL;
            failed = 1; /* missing data does not come back: do not retry per nick */
        }
    }
    return sc;
}

enum nick_key_err { KEY_OK, KEY_BAD_INPUT, KEY_TOO_LONG, KEY_NO_ICU };

static enum nick_key_err nick_key(const char *s, size_t len, char *key, size_t size, int *klen)
{
    UChar src[NICK_MAX], fold[NICK_FOLD_UNITS], skel[NICK_SKEL_UNITS];
    int32_t n;
    UErrorCode e = U_ZERO_ERROR;

    if (len > NICK_MAX || memchr(s, '\0', len))
        return KEY_BAD_INPUT;
    USpoofChecker *sc = spoof_checker();
    const UNormalizer2 *nfkc_cf = unorm2_getNFKCCasefoldInstance(&e);
    if (!sc || U_FAILURE(e))
        return KEY_NO_ICU;
    u_strFromUTF8(src, NICK_MAX, &n, s, (int32_t)len, &e);
    if (U_FAILURE(e))
        return KEY_BAD_INPUT; /* ill-formed UTF-8 */
    n = unorm2_normalize(nfkc_cf, src, n, fold, NICK_FOLD_UNITS, &e);
    if (U_FAILURE(e))
        return KEY_TOO_LONG;
    /* The skeleton is defined on case-sensitive text and maps only to
     * prototypes: folding first makes Alice and alice one key. */
    n = uspoof_getSkeleton(sc, 0, fold, n, skel, NICK_SKEL_UNITS, &e);
    if (U_FAILURE(e))
        return KEY_TOO_LONG;
    if (size == 0)
        return KEY_TOO_LONG;
    /* One byte is kept for the NUL: ICU leaves a string that fills the
     * buffer exactly unterminated (a warning, not a failure). */
    int32_t cap = size - 1 > INT32_MAX ? INT32_MAX : (int32_t)(size - 1);
    u_strToUTF8(key, cap, &n, skel, n, &e);
    if (U_FAILURE(e) || (size_t)n >= size)
        return KEY_TOO_LONG;
    key[n] = '\0';
    *klen = n;
    return KEY_OK;
}

int text_nick_key(const char *s, size_t len, char *key, size_t size)
{
    int n;
    return nick_key(s, len, key, size, &n) == KEY_OK ? n : -1;
}

/* Why a code point from U+0080 up cannot be in a nick, or NULL. */
static const char *nick_char_invalid(uint32_t cp)
{
    uint32_t gc = (uint32_t)U_GET_GC_MASK((UChar32)cp);
    if ((gc & U_GC_Z_MASK) || is_blank_letter(cp))
        return "a nick cannot contain spaces or blank characters";
    if (gc & (U_GC_CC_MASK | U_GC_CF_MASK))
        return "a nick cannot contain control, format or bidi characters";
    if (gc & (U_GC_CN_MASK | U_GC_CO_MASK | U_GC_CS_MASK))
        return "a nick cannot contain unassigned or private-use characters";
    return NULL;
}

const char *text_nick_invalid(const char *s, size_t len)
{
    char key[NICK_KEY_MAX + 1];
    int klen = 0;

    if (len == 0)
        return "a nick cannot be empty";
    if (len > NICK_MAX)
        return "a nick is at most 32 bytes";
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int n = utf8_decode((const unsigned char *)s + i, len - i, &cp);
        if (n < 0)
            return "a nick must be valid UTF-8";
        if (cp < 0x80 && !nick_ascii_ok(cp))
            return "use letters, digits, - _ . [ ] { } | ^ or non-ASCII "
                   "letters; no spaces or control characters";
        const char *why = cp < 0x80 ? NULL : nick_char_invalid(cp);
        if (why)
            return why;
        /* A mark first would sit on whatever precedes the nick on the
         * screen; marks alone show nothing of their own. Everything else
         * that could come first is refused above, so this also gives every
         * nick a visible character. */
        if (i == 0 &&
            !(U_GET_GC_MASK((UChar32)cp) & (U_GC_L_MASK | U_GC_N_MASK | U_GC_P_MASK | U_GC_S_MASK)))
            return "a nick must start with a letter, digit, symbol or punctuation, "
                   "not a combining mark";
        i += (size_t)n;
    }
    switch (nick_key(s, len, key, sizeof key, &klen)) {
    case KEY_OK: break;
    case KEY_BAD_INPUT: return "a nick must be valid UTF-8"; /* NUL is refused above: not reached */
    case KEY_TOO_LONG: return "a nick is too long once folded for comparison";
    case KEY_NO_ICU: return "nicks cannot be checked: ICU's confusables data is missing";
    }
    if (klen == 0)
        return "a nick must have a visible character";
    for (int i = 0; i < klen; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c < 0x80 && !nick_ascii_ok(c))
            return "a nick cannot contain a look-alike of an ASCII character nicks may "
                   "not have (such as a fullwidth * or <)";
    }
    return NULL;
}

int text_width(uint32_t cp)
{
    int w = wcwidth((wchar_t)cp);
    return w < 0 ? 1 : w;
}
