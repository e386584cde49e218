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

    /* nicks: each class of character, accepted or refused and why */
    static const struct {
        const char *s;
        const char *why; /* NULL: valid; else a word of the reason */
    } nicks[] = {
        {"alice", NULL},
        {"Bob_2", NULL},
        {"[x]-y.z{|}^", NULL},
        {"\xE5\xB0\x8F\xE6\x98\x8E", NULL},             /* 小明 */
        {"Zo\xC3\xAB", NULL},                           /* Zoë, precomposed */
        {"Zoe\xCC\x88", NULL},                          /* Zoë, e + U+0308 */
        {"\xF0\x9F\xA6\x80rust", NULL},                 /* 🦀rust */
        {"\xE2\x9D\xA4\xEF\xB8\x8F", NULL},             /* ❤️ with VS16 */
        {"\xC2\xA1hola", NULL},                         /* ¡hola */
        {"\xEF\xBC\xB3\xEF\xBC\xA5\xEF\xBC\xB2", NULL}, /* ＳＥＲ: valid, found by key */
        {"\xD1\x95\xD0\xB5rv\xD0\xB5r", NULL},          /* ѕеrvеr: likewise */
        {"abcdefghijklmnopqrstuvwxyz012345", NULL},     /* 32 bytes */
        {"", "empty"},
        {"abcdefghijklmnopqrstuvwxyz0123456", "32 bytes"}, /* 33 */
        {"x\xFF", "UTF-8"},
        {"\xE4\xBD", "UTF-8"}, /* cut sequence */
        {"a b", "letters, digits"},
        {"<x>", "letters, digits"},
        {"a*", "letters, digits"},
        {"a/b", "letters, digits"},
        {"bad\x1b", "letters, digits"},
        /* spaces, visible or not */
        {"x\xC2\xA0", "spaces or blank"},      /* U+00A0 no-break space */
        {"x\xE2\x80\x80y", "spaces or blank"}, /* U+2000 en quad */
        {"x\xE2\x80\x85y", "spaces or blank"}, /* U+2005 */
        {"x\xE2\x80\x8Ay", "spaces or blank"}, /* U+200A hair space */
        {"x\xE2\x80\xAFy", "spaces or blank"}, /* U+202F narrow no-break space */
        {"x\xE2\x81\x9Fy", "spaces or blank"}, /* U+205F medium mathematical space */
        {"x\xE1\x9A\x80y", "spaces or blank"}, /* U+1680 ogham space mark */
        {"x\xE3\x80\x80", "spaces or blank"},  /* U+3000 ideographic space */
        {"x\xE2\x80\xA8", "spaces or blank"},  /* U+2028 line separator */
        {"x\xE2\x80\xA9", "spaces or blank"},  /* U+2029 paragraph separator */
        /* blanks that Unicode calls letters or symbols */
        {"\xE3\x85\xA4", "blank characters"},  /* U+3164 Hangul filler */
        {"x\xE3\x85\xA4", "blank characters"}, /* ... after a letter */
        {"\xE1\x85\x9F", "blank characters"},  /* U+115F */
        {"\xE1\x85\xA0", "blank characters"},  /* U+1160 */
        {"\xEF\xBE\xA0", "blank characters"},  /* U+FFA0 halfwidth Hangul filler */
        {"\xE2\xA0\x80", "blank characters"},  /* U+2800 braille blank */
        /* controls, format and bidi characters */
        {"x\xC2\x85", "format"},     /* U+0085 NEL (C1) */
        {"x\xC2\xAD", "format"},     /* U+00AD soft hyphen */
        {"x\xD8\x9C", "format"},     /* U+061C Arabic letter mark */
        {"x\xE1\xA0\x8E", "format"}, /* U+180E Mongolian vowel separator */
        {"x\xE2\x80\x8B", "format"}, /* U+200B zero-width space */
        {"x\xE2\x80\x8D"
         "y",
         "format"},                              /* U+200D zero-width joiner */
        {"x\xE2\x80\x8E", "format"},             /* U+200E LRM */
        {"x\xE2\x80\xAE", "format"},             /* U+202E RLO */
        {"x\xE2\x81\xA0", "format"},             /* U+2060 word joiner */
        {"\xE2\x81\xA6x\xE2\x81\xA9", "format"}, /* isolates */
        {"x\xEF\xBB\xBF", "format"},             /* U+FEFF */
        {"x\xEF\xBF\xB9", "format"},             /* U+FFF9 interlinear annotation */
        {"x\xEF\xBF\xBA", "format"},             /* U+FFFA */
        {"x\xEF\xBF\xBB", "format"},             /* U+FFFB */
        {"x\xF3\xA0\x80\x81", "format"},         /* U+E0001 language tag */
        {"x\xF3\xA0\x81\x81", "format"},         /* U+E0041 tag A */
        {"x\xF3\xA0\x81\xBF", "format"},         /* U+E007F cancel tag */
        /* unassigned and private use */
        {"x\xF3\xA0\x80\x80", "unassigned"},  /* U+E0000 (in the tag block, unassigned) */
        {"x\xCD\xB8", "unassigned"},          /* U+0378 */
        {"x\xF4\x8F\xBF\xBF", "unassigned"},  /* U+10FFFF */
        {"x\xEE\x80\x80", "private-use"},     /* U+E000 */
        {"x\xF3\xB0\x80\x80", "private-use"}, /* U+F0000 */
        /* combining marks: alone, or first */
        {"\xCC\x81", "combining"},         /* U+0301 */
        {"\xCC\x81\xCC\x82", "combining"}, /* marks only */
        {"\xCC\x81x", "combining"},        /* a mark first */
        {"\xE2\x83\x9D", "combining"},     /* U+20DD enclosing circle (Me) */
        {"\xE0\xA4\x83", "combining"},     /* U+0903 (Mc) */
        /* look-alikes of ASCII a nick may not have, once folded */
        {"\xEF\xBC\x8A", "look-alike"},              /* ＊ */
        {"a\xEF\xBC\x8A", "look-alike"},             /* a＊ */
        {"\xEF\xBC\x9Cx\xEF\xBC\x9E", "look-alike"}, /* ＜x＞ */
        {"x\xEF\xBC\x81", "look-alike"},             /* x！ */
        {"x\xEF\xBC\x9A", "look-alike"},             /* x： */
        {"\xC7\x83", "look-alike"},                  /* U+01C3, a letter like ! */
        {"a\xE2\x80\x9A"
         "b",
         "look-alike"}, /* U+201A, like , */
        {"a\xE2\x81\x84"
         "b",
         "look-alike"},                 /* U+2044 fraction slash */
        {"\xC2\xBC", "look-alike"},     /* ¼ folds to 1/4 */
        {"\xE2\x91\xB5", "look-alike"}, /* ⑵ folds to (2) */
        {"\xEF\xB7\xBA", "look-alike"}, /* U+FDFA folds to words */
        /* a key too long to keep */
        {"\xEF\xB7\xBA\xEF\xB7\xBA\xEF\xB7\xBA\xEF\xB7\xBA\xEF\xB7\xBA"
         "\xEF\xB7\xBA\xEF\xB7\xBA\xEF\xB7\xBA\xEF\xB7\xBA\xEF\xB7\xBA",
         "folded"},
    };
    for (size_t i = 0; i < sizeof nicks / sizeof nicks[0]; i++) {
        const char *why = text_nick_invalid(nicks[i].s, strlen(nicks[i].s));
        if (!nicks[i].why)
            CHECKF(why == NULL, "nick #%zu refused: %s", i, why);
        else
            CHECKF(why && strstr(why, nicks[i].why), "nick #%zu: want \"%s\", got %s", i,
                   nicks[i].why, why ? why : "valid");
    }
    CHECK(text_nick_invalid(S("a\0b")) != NULL);

    /* comparison keys: look-alikes are one key, different nicks are not */
    static const struct {
        const char *a, *b;
        int same;
    } keys[] = {
        {"Alice", "alice", 1},
        {"ALICE", "alice", 1},
        {"server", "\xEF\xBC\xB3\xEF\xBC\xA5\xEF\xBC\xB2\xEF\xBC\xB6\xEF\xBC\xA5\xEF\xBC\xB2",
         1},                                          /* ＳＥＲＶＥＲ */
        {"server", "\xD1\x95\xD0\xB5rv\xD0\xB5r", 1}, /* Cyrillic ѕ and е */
        {"Zo\xC3\xAB", "zoe\xCC\x88", 1},             /* composed or not */
        {"mike", "rnike", 1},                         /* m and rn */
        {"guest1", "guestl", 1},                      /* 1 and l */
        {"ab",
         "a\xCD\x8F"
         "b",
         1},                         /* U+034F grapheme joiner is ignorable */
        {"\xEF\xAC\x81x", "fix", 1}, /* ﬁ ligature */
        {"alice", "alicf", 0},
        {"\xE5\xB0\x8F\xE6\x98\x8E", "\xE5\xB0\x8F\xE6\x9C\x8B", 0}, /* 小明, 小朋 */
        {"bob", "bob_", 0},
        {"[x]", "{x}", 0},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char ka[NICK_KEY_MAX + 1], kb[NICK_KEY_MAX + 1];
        int na = text_nick_key(keys[i].a, strlen(keys[i].a), ka, sizeof ka);
        int nb = text_nick_key(keys[i].b, strlen(keys[i].b), kb, sizeof kb);
        CHECKF(na > 0 && nb > 0 && (size_t)na == strlen(ka) && (size_t)nb == strlen(kb),
               "keys #%zu: %d %d", i, na, nb);
        CHECKF((strcmp(ka, kb) == 0) == keys[i].same, "keys #%zu: \"%s\" and \"%s\"", i, ka, kb);
    }
    /* what text_nick_key does not take, and a buffer it must not overrun */
    char key[NICK_KEY_MAX + 1];
    CHECK(text_nick_key(S("abcdefghijklmnopqrstuvwxyz0123456"), key, sizeof key) == -1);
    CHECK(text_nick_key(S("x\xFF"), key, sizeof key) == -1);
    CHECK(text_nick_key(S("a\0b"), key, sizeof key) == -1);
    CHECK(text_nick_key(S("alice"), key, 5) == -1);
    CHECK(text_nick_key(S("alice"), key, 6) == 5 && strcmp(key, "alice") == 0);
    CHECK(text_nick_key(S("alice"), key, 0) == -1);

    CHECK(text_width('a') == 1);
    CHECK(text_width(0x4F60) == 2 || text_width(0x4F60) == 1); /* 2 with a UTF-8 locale */
}
