/* text.c - see text.h. */
#include "text.h"

#include <string.h>
#include <wchar.h>

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

static int nick_char_ok(uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
               (cp && strchr("-_.[]{}|^", (int)cp));
    if (cp < 0xA1 || cp == 0xAD || cp == 0x3000 || cp == 0xFEFF)
        return 0;
    if ((cp >= 0x200B && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202E) ||
        (cp >= 0x2060 && cp <= 0x206F))
        return 0;
    return 1;
}

const char *text_nick_invalid(const char *s, size_t len)
{
    if (len == 0)
        return "a nick cannot be empty";
    if (len > NICK_MAX)
        return "a nick is at most 32 bytes";
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        int n = utf8_decode((const unsigned char *)s + i, len - i, &cp);
        if (n < 0)
            return "a nick must be valid UTF-8";
        if (!nick_char_ok(cp))
            return "use letters, digits, - _ . [ ] { } | ^ or non-ASCII "
                   "letters; no spaces or control characters";
        i += (size_t)n;
    }
    return NULL;
}

int text_width(uint32_t cp)
{
    int w = wcwidth((wchar_t)cp);
    return w < 0 ? 1 : w;
}
