/* roster: the server's lines told apart by shape, the set of nicks (ASCII
 * case ignored, bounded), completion, nick colours and mentions. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "dialect.h"
#include "roster.h"

static line_info L;

static int parsed(const char *s, line_kind k, const char *a, const char *b, size_t count)
{
    line_parse(s, strlen(s), &L);
    if (L.kind != k)
        return 0;
    if (a && (L.alen != strlen(a) || memcmp(L.a, a, L.alen) != 0))
        return 0;
    if (b && (L.blen != strlen(b) || memcmp(L.b, b, L.blen) != 0))
        return 0;
    return L.count == count;
}

/* c, an encoded line, parses as kind with a, b and count (as parsed()); c
 * is released. */
static int round_trip(chunk *c, line_kind k, const char *a, const char *b, size_t count)
{
    char line[256];
    int ok = c->len > 0 && c->len < sizeof line && c->data[c->len - 1] == '\n';
    if (ok) {
        memcpy(line, c->data, c->len - 1);
        line[c->len - 1] = '\0';
        ok = parsed(line, k, a, b, count);
        if (!ok)
            printf("  round trip of \"%s\" parsed as kind %d\n", line, (int)L.kind);
    }
    chunk_unref(c);
    return ok;
}

#define XIAOMING "\xe5\xb0\x8f\xe6\x98\x8e" /* 小明 */

/* An event as the text dialect spells it for a member of its room alone. */
static chunk *enc(enum ev_kind kind, const char *from, const char *to, const char *text, size_t n)
{
    chat_event ev = {.kind = kind,
                     .room = "#lobby",
                     .from = from,
                     .to = to,
                     .text = text,
                     .len = strlen(text),
                     .n = n};
    return dialect_text.encode(&ev, 0);
}

static chunk *ev_welcome(const char *nick, size_t members)
{
    chat_event ev = {.kind = EV_WELCOME, .from = nick, .n = members};
    return dialect_text.encode(&ev, 0);
}

void test_roster(void)
{
    /* the shapes of docs/protocol.md */
    CHECK(parsed("<alice> hi there", LINE_MSG, "alice", NULL, 0) && L.text == 8);
    CHECK(parsed("<" XIAOMING "> \xe4\xbd\xa0\xe5\xa5\xbd", LINE_MSG, XIAOMING, NULL, 0));
    CHECK(parsed("*bob* psst", LINE_PRIV_IN, "bob", NULL, 0) && L.text == 6);
    CHECK(parsed("-> *bob* psst", LINE_PRIV_OUT, "bob", NULL, 0) && L.text == 9);
    CHECK(parsed("! nick \"x y\" is in use", LINE_ERROR, NULL, NULL, 0) && L.text == 2);
    CHECK(parsed("*** welcome to hichat, guest7 (3 members here); type /help for commands",
                 LINE_WELCOME, "guest7", NULL, 3));
    CHECK(parsed("*** welcome to hichat, solo (1 member here); type /help", LINE_WELCOME, "solo",
                 NULL, 1));
    CHECK(parsed("*** alice joined", LINE_JOIN, "alice", NULL, 0));
    CHECK(parsed("*** alice left (quit: bye now)", LINE_LEAVE, "alice", NULL, 0));
    CHECK(parsed("*** alice left (connection closed)", LINE_LEAVE, "alice", NULL, 0));
    CHECK(parsed("*** al is now known as alice", LINE_RENAME, "al", "alice", 0));
    CHECK(parsed("*** you are alice", LINE_YOU_ARE, "alice", NULL, 0));
    CHECK(parsed("*** you are already alice", LINE_YOU_ARE, "alice", NULL, 0));
    CHECK(parsed("*** 3 members: alice, bob, carol", LINE_WHO, "alice, bob, carol", NULL, 3));
    CHECK(parsed("*** 1 member: me", LINE_WHO, "me", NULL, 1));
    CHECK(parsed("*** bye", LINE_NOTICE, "bye", NULL, 0) && L.text == 4);
    CHECK(parsed("* bob waves", LINE_ACTION, "bob", NULL, 0) && L.text == 6);
    CHECK(parsed("* " XIAOMING " waves", LINE_ACTION, XIAOMING, NULL, 0) && L.text == 9);
    /* a member's /me is an action, whatever it says: never a notice */
    CHECK(parsed("* alice left (quit: bye)", LINE_ACTION, "alice", NULL, 0));
    CHECK(parsed("* alice joined", LINE_ACTION, "alice", NULL, 0));
    CHECK(parsed("* al is now known as alice", LINE_ACTION, "al", NULL, 0));
    CHECK(parsed("* welcome to hichat, x (1 member here)", LINE_ACTION, "welcome", NULL, 0));
    CHECK(parsed("* you are alice", LINE_ACTION, "you", NULL, 0));
    CHECK(parsed("* 3 members: a, b", LINE_OTHER, NULL, NULL, 0) ||
          parsed("* 3 members: a, b", LINE_ACTION, "3", NULL, 0));
    /* near misses are notices or plain lines, never half-parsed */
    CHECK(parsed("*** the whole room joined", LINE_NOTICE, "the", NULL, 0));
    CHECK(parsed("*** a b is now known as c", LINE_NOTICE, NULL, NULL, 0));
    CHECK(parsed("*** x left early", LINE_NOTICE, NULL, NULL, 0));
    CHECK(parsed("*** x left (", LINE_NOTICE, NULL, NULL, 0));
    CHECK(parsed("*** you are not welcome", LINE_NOTICE, NULL, NULL, 0));
    CHECK(parsed("*** welcome to hichat, a b (3 members here)", LINE_NOTICE, NULL, NULL, 0));
    CHECK(parsed("*** 3 apples: a, b", LINE_NOTICE, NULL, NULL, 0));
    CHECK(parsed("* a:b waves", LINE_OTHER, NULL, NULL, 0));
    CHECK(parsed("* bob", LINE_OTHER, NULL, NULL, 0));
    CHECK(parsed("** x", LINE_OTHER, NULL, NULL, 0));
    CHECK(parsed("<a b> hi", LINE_OTHER, NULL, NULL, 0));
    CHECK(parsed("<alice>hi", LINE_OTHER, NULL, NULL, 0));
    CHECK(parsed("<alice>", LINE_OTHER, NULL, NULL, 0));
    CHECK(parsed("<", LINE_OTHER, NULL, NULL, 0));
    CHECK(parsed("*", LINE_OTHER, NULL, NULL, 0));
    CHECK(parsed("", LINE_OTHER, NULL, NULL, 0));
    CHECK(parsed("hello", LINE_OTHER, NULL, NULL, 0));
    CHECK(parsed("<\x1b[31m> hi", LINE_OTHER, NULL, NULL, 0));
    /* every prefix of every shape parses without reading past its end */
    {
        static const char *const all[] = {"*** welcome to hichat, guest7 (3 members here)",
                                          "*** al is now known as alice",
                                          "-> *bob* x",
                                          "*** 12 members: a, b",
                                          "*** you are already x",
                                          "*** x left (why)",
                                          "* bob waves"};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            for (size_t n = 0; n <= strlen(all[i]); n++) {
                char copy[64];
                memcpy(copy, all[i], n); /* no terminator: ASan sees overreads */
                line_parse(copy, n, &L);
                CHECK(L.alen <= n && L.text <= n);
            }
    }

    /* the server's encoders and the client's parser share wording.h: what one
     * spells, the other reads back */
    {
        CHECK(round_trip(ev_welcome("guest7", 3), LINE_WELCOME, "guest7", NULL, 3));
        CHECK(round_trip(ev_welcome("solo", 1), LINE_WELCOME, "solo", NULL, 1));
        CHECK(round_trip(enc(EV_JOIN, "alice", NULL, "", 0), LINE_JOIN, "alice", NULL, 0));
        CHECK(
            round_trip(enc(EV_QUIT, "alice", NULL, "quit: bye", 0), LINE_LEAVE, "alice", NULL, 0));
        CHECK(round_trip(enc(EV_PART, "alice", NULL, "", 0), LINE_LEAVE, "alice", NULL, 0));
        CHECK(round_trip(enc(EV_NICK, "al", "alice", "", 0), LINE_RENAME, "al", "alice", 0));
        CHECK(round_trip(dialect_notice(W_YOU_ARE "%s", "bob"), LINE_YOU_ARE, "bob", NULL, 0));
        CHECK(round_trip(dialect_notice("2" W_MEMBERS "a, b"), LINE_WHO, "a, b", NULL, 2));
        CHECK(round_trip(enc(EV_ACTION, "alice", NULL, "left (quit: bye)", 0), LINE_ACTION, "alice",
                         NULL, 0));
        CHECK(round_trip(enc(EV_MESSAGE, "bob", NULL, "hi", 0), LINE_MSG, "bob", NULL, 0));
        CHECK(round_trip(enc(EV_PRIVATE, "bob", "me", "hi", 0), LINE_PRIV_IN, "bob", NULL, 0));
        CHECK(round_trip(enc(EV_PRIVATE, "me", "bob", "hi", 1), LINE_PRIV_OUT, "bob", NULL, 0));
        /* no member's line starts like a notice, whatever its text */
        static const char *const texts[] = {"", "joined", "left (quit: bye)", "*** x joined"};
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
            chunk *m[] = {
                enc(EV_MESSAGE, "a", NULL, texts[i], 0), enc(EV_ACTION, "a", NULL, texts[i], 0),
                enc(EV_PRIVATE, "a", "b", texts[i], 0), enc(EV_PRIVATE, "a", "b", texts[i], 1)};
            for (size_t j = 0; j < 4; j++) {
                CHECK(memcmp(m[j]->data, W_NOTICE, sizeof W_NOTICE - 1) != 0);
                chunk_unref(m[j]);
            }
        }
    }

    /* the set: sorted, unique ignoring case, removable */
    roster r;
    roster_init(&r);
    CHECK(roster_add(&r, "bob", 3) == 1);
    CHECK(roster_add(&r, "Alice", 5) == 1);
    CHECK(roster_add(&r, "alice", 5) == 0);
    CHECK(roster_add(&r, "carol", 5) == 1);
    CHECK(roster_add(&r, "a b", 3) == 0);
    CHECK(r.n == 3 && strcmp(r.v[0], "Alice") == 0 && strcmp(r.v[2], "carol") == 0);
    CHECK(roster_has(&r, "ALICE", 5) && !roster_has(&r, "al", 2));
    CHECK(roster_remove(&r, "BOB", 3) == 1 && roster_remove(&r, "bob", 3) == 0 && r.n == 2);
    CHECK(roster_add_list(&r, "dave, eve, alice", 16) == 3 && r.n == 4);
    roster_clear(&r);
    CHECK(r.n == 0);
    char nick[16];
    for (int i = 0; i < ROSTER_MAX + 5; i++) {
        int n = snprintf(nick, sizeof nick, "n%d", i);
        roster_add(&r, nick, (size_t)n);
    }
    CHECK(r.n == ROSTER_MAX);
    roster_clear(&r);

    /* completion cycles through the matches in order and wraps */
    char *sorted[] = {"Alan", "alfred", "alice", "bob"};
    CHECK(strcmp(complete_next(sorted, 4, "al", 2, NULL), "Alan") == 0);
    CHECK(strcmp(complete_next(sorted, 4, "AL", 2, "Alan"), "alfred") == 0);
    CHECK(strcmp(complete_next(sorted, 4, "al", 2, "alice"), "Alan") == 0);
    CHECK(strcmp(complete_next(sorted, 4, "", 0, "alice"), "bob") == 0);
    CHECK(complete_next(sorted, 4, "z", 1, NULL) == NULL);
    CHECK(strcmp(complete_next(sorted, 4, "bob", 3, "bob"), "bob") == 0);

    /* colours: stable, case-blind, spread */
    CHECK(nick_colour("alice", 5, 12) == nick_colour("ALICE", 5, 12));
    CHECK(nick_colour("alice", 5, 12) < 12 && nick_colour("x", 1, 0) == 0);
    {
        int used[12] = {0}, kinds = 0;
        for (int i = 0; i < 100; i++) {
            int n = snprintf(nick, sizeof nick, "guest%d", i);
            used[nick_colour(nick, (size_t)n, 12)] = 1;
        }
        for (int i = 0; i < 12; i++)
            kinds += used[i];
        CHECKF(kinds >= 10, "100 nicks used %d of 12 colours", kinds);
    }

    /* the same nick, ASCII case ignored */
    CHECK(nick_eq("Alice", 5, "aLICE", 5) && !nick_eq("alice", 5, "alic", 4) &&
          !nick_eq("al", 2, "alice", 5));

    /* mentions: a word of its own, case ignored */
    CHECK(mentions("hi alice!", 9, "alice", 5));
    CHECK(mentions("ALICE: look", 11, "alice", 5));
    CHECK(mentions("@alice", 6, "alice", 5));
    CHECK(!mentions("malice", 6, "alice", 5));
    CHECK(!mentions("alice_b", 7, "alice", 5));
    CHECK(!mentions("alic", 4, "alice", 5));
    CHECK(!mentions("anything", 8, "", 0));
    CHECK(mentions("\xe4\xbd\xa0\xe5\xa5\xbd" XIAOMING, 12, XIAOMING, 6));
}
