/* text.h - UTF-8 decoding, the text hygiene rule and the nick rule
 * (both documented in docs/protocol.md). Pure functions, but for the nick
 * rule's ICU confusable data, opened on first use and kept for the process's
 * life (reachable, so not a leak). Single-threaded use only. */
#ifndef HICHAT_TEXT_H
#define HICHAT_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Longest nick, in bytes. */
#define NICK_MAX 32

/* Longest comparison key of a nick (text_nick_key), in bytes. Folding and
 * the skeleton lengthen some nicks (U+FDFA alone folds to 18 letters); a
 * nick whose key does not fit is refused rather than cut, because a cut key
 * would make different nicks equal. */
#define NICK_KEY_MAX (4 * NICK_MAX)

/* Cleaning never more than triples a line: one bad byte becomes U+FFFD. */
#define TEXT_CLEAN_MAX(n) ((n)*3)

/* Decodes one strict UTF-8 sequence at s[0..len). Returns its length (1-4)
 * and sets *cp, or -1 when s[0] does not start a valid, complete sequence
 * (overlong forms, surrogates and values above U+10FFFF are invalid). */
int utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);
/* The code point at s[i..len) into *cp and its length; an invalid byte is
 * U+FFFD, one byte long (for measuring and drawing text as shown). */
size_t utf8_step(const char *s, size_t len, size_t i, uint32_t *cp);

/* Writes the cleaned form of in[0..len) to out, which must hold
 * TEXT_CLEAN_MAX(len) bytes: controls in caret notation (^[ for ESC), C1 and
 * bidi controls and invalid bytes as U+FFFD. Returns the bytes written. */
size_t text_clean(const char *in, size_t len, char *out);

/* Returns NULL if s[0..len) is a valid nick, else why not (a static
 * phrase). Valid: 1..NICK_MAX bytes of UTF-8; ASCII only letters, digits and
 * - _ . [ ] { } | ^; no spaces, blanks (Hangul fillers, braille blank),
 * controls, format or bidi characters, private-use, unassigned or surrogate
 * code points; the first character a letter, digit, symbol or punctuation
 * (not a combining mark); and a comparison key (text_nick_key) that fits in
 * NICK_KEY_MAX bytes and whose ASCII characters are ones a nick may have (so
 * a fullwidth * or < cannot stand in for the ASCII one). */
const char *text_nick_invalid(const char *s, size_t len);

/* Writes the comparison key of s[0..len) to key (size bytes, NUL-terminated)
 * and returns its length: the UTS #39 skeleton of the string's NFKC case
 * fold, so nicks with equal keys look alike (Alice, alice, ＡＬＩＣＥ and
 * Cyrillic аlice). Returns -1 when s is longer than NICK_MAX bytes, is not
 * valid UTF-8, contains NUL, the key does not fit in size, or ICU's
 * confusable data cannot be opened. Any s may be given; only a valid nick's
 * key is guaranteed (by text_nick_invalid) to fit in NICK_KEY_MAX + 1. */
int text_nick_key(const char *s, size_t len, char *key, size_t size);

/* Terminal columns taken by code point cp: 0, 1 or 2. */
int text_width(uint32_t cp);

#endif
