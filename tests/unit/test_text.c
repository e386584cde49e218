/* text: the hygiene rule and nick rule of docs/protocol.md, case by case,
 * plus strict UTF-8 decoding at its edges. */
#include <string.h>

#include "check.h"
#include "text.h"

#define S(x) x, sizeof(x) - 1

static int cleans_to(const char *in, size_t len, const char *want, size_t wlen)
{
    char out[TEXT_CLEAN_MAX(64)];
    size_t n = text_clean(in, len, out);
    return n == wlen && memcmp(out, want, n) == 0;
}

#define FFFD "\xEF\xBF\xBD"

void test_text(void)
{
    uint32_t cp;
    const unsigned char *u;

    /* decoding */
    u = (const unsigned char *)"A";
    CHECK(utf8_decode(u, 1, &cp) == 1 && cp == 'A');
    u = (const unsigned char *)"\xC3\xA9";
    CHECK(utf8_decode(u, 2, &cp) == 2 && cp == 0xE9);
    u = (const unsigned char *)"\xE4\xBD\xA0";
    CHECK(utf8_decode(u, 3, &cp) == 3 && cp == 0x4F60);
    u = (const unsigned char *)"\xF0\x9F\x98\x80";
    CHECK(utf8_decode(u, 4, &cp) == 4 && cp == 0x1F600);
    CHECK(utf8_decode((const unsigned char *)"\xC0\x80", 2, &cp) == -1);         /* overlong NUL */
    CHECK(utf8_decode((const unsigned char *)"\xE0\x80\x80", 3, &cp) == -1);     /* overlong */
    CHECK(utf8_decode((const unsigned char *)"\xED\xA0\x80", 3, &cp) == -1);     /* surrogate */
    CHECK(utf8_decode((const unsigned char *)"\xF4\x90\x80\x80", 4, &cp) == -1); /* > 10FFFF */
    CHECK(utf8_decode((const unsigned char *)"\xE4\xBD", 2, &cp) == -1);         /* truncated */
    CHECK(utf8_decode((const unsigned char *)"\x80", 1, &cp) == -1);
    CHECK(utf8_decode((const unsigned char *)"\xFF", 1, &cp) == -1);
    CHECK(utf8_decode((const unsigned char *)"\xF4\x8F\xBF\xBF", 4, &cp) == 4 && cp == 0x10FFFF);
    /* stepping through text as shown: a bad byte is one U+FFFD */
    CHECK(utf8_step("a\xE4\xBD\xA0\xFF", 5, 0, &cp) == 1 && cp == 'a');
    CHECK(utf8_step("a\xE4\xBD\xA0\xFF", 5, 1, &cp) == 3 && cp == 0x4F60);
    CHECK(utf8_step("a\xE4\xBD\xA0\xFF", 5, 4, &cp) == 1 && cp == 0xFFFD);
    CHECK(utf8_step("\xE4\xBD", 2, 0, &cp) == 1 && cp == 0xFFFD); /* truncated */

    /* cleaning */
    CHECK(cleans_to(S("hello, world"), S("hello, world")));
    CHECK(cleans_to(S("\xE4\xBD\xA0\xE5\xA5\xBD \xF0\x9F\x98\x80"),
                    S("\xE4\xBD\xA0\xE5\xA5\xBD \xF0\x9F\x98\x80")));
    CHECK(cleans_to(S("a\tb"), S("a\tb")));
    CHECK(cleans_to(S("\x1b[31mred"), S("^[[31mred")));
    CHECK(cleans_to(S("nul\0x"), S("nul^@x")));
    CHECK(cleans_to(S("\x7f\x01\x1f\r"), S("^?^A^_^M")));
    CHECK(cleans_to(S("\xC2\x9B"
                      "31m"),
                    S(FFFD "31m"))); /* C1 CSI */
    CHECK(cleans_to(S("a\xE2\x80\xAE"
                      "b"),
                    S("a" FFFD "b")));                                  /* U+202E RLO */
    CHECK(cleans_to(S("\xE2\x81\xA6x\xE2\x81\xA9"), S(FFFD "x" FFFD))); /* isolates */
    CHECK(cleans_to(S("\xFF\xFE"), S(FFFD FFFD)));
    CHECK(cleans_to(S("\xE4\xBD"), S(FFFD FFFD))); /* cut sequence */
    CHECK(cleans_to(S("\xC0\xAF"), S(FFFD FFFD)));
    CHECK(cleans_to(S("\xE2\x80\x8F"), S("\xE2\x80\x8F"))); /* RLM is kept */
    /* worst case: every byte invalid triples */
    char worst[64], out[TEXT_CLEAN_MAX(64)];
    memset(worst, 0xFF, sizeof worst);
    CHECK(text_clean(worst, sizeof worst, out) == TEXT_CLEAN_MAX(sizeof worst));

    /* nicks */
    CHECK(text_nick_invalid(S("alice")) == NULL);
    CHECK(text_nick_invalid(S("Bob_2")) == NULL);
    CHECK(text_nick_invalid(S("[x]-y.z{|}^")) == NULL);
    CHECK(text_nick_invalid(S("\xE5\xB0\x8F\xE6\x98\x8E")) == NULL); /* 小明 */
    CHECK(text_nick_invalid(S("")) != NULL);
    CHECK(text_nick_invalid(S("a b")) != NULL);
    CHECK(text_nick_invalid(S("<x>")) != NULL);
    CHECK(text_nick_invalid(S("a*")) != NULL);
    CHECK(text_nick_invalid(S("a/b")) != NULL);
    CHECK(text_nick_invalid(S("bad\x1b")) != NULL);
    CHECK(text_nick_invalid(S("x\xE2\x80\xAE")) != NULL); /* RLO */
    CHECK(text_nick_invalid(S("x\xE2\x80\x8B")) != NULL); /* zero-width space */
    CHECK(text_nick_invalid(S("x\xE3\x80\x80")) != NULL); /* ideographic space */
    CHECK(text_nick_invalid(S("x\xC2\xA0")) != NULL);     /* no-break space */
    CHECK(text_nick_invalid(S("x\xFF")) != NULL);
    CHECK(text_nick_invalid(S("abcdefghijklmnopqrstuvwxyz012345")) == NULL);  /* 32 */
    CHECK(text_nick_invalid(S("abcdefghijklmnopqrstuvwxyz0123456")) != NULL); /* 33 */

    CHECK(text_width('a') == 1);
    CHECK(text_width(0x4F60) == 2 || text_width(0x4F60) == 1); /* 2 with a UTF-8 locale */
}
