/* text.h - UTF-8 decoding, the text hygiene rule and the nick rule
 * (both documented in docs/protocol.md). Pure functions. */
#ifndef HICHAT_TEXT_H
#define HICHAT_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Longest nick, in bytes. */
#define NICK_MAX 32

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

/* Returns NULL if s[0..len) is a valid nick, else why not (a phrase). */
const char *text_nick_invalid(const char *s, size_t len);

/* Terminal columns taken by code point cp: 0, 1 or 2. */
int text_width(uint32_t cp);

#endif
