/* room: nicks are unique by their comparison key (case, width, look-alike
 * letters), lookups survive renames and removals at any position, pages in
 * /who order go on from where the last one ended whoever left or was
 * renamed, and a broadcast reaches everyone but the sender with one shared
 * chunk. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "room.h"
#include "util.h"

typedef struct {
    member m;
    int got;
    chunk *last;
} fake;

static void fake_deliver(member *m, chunk *c)
{
    fake *f = (fake *)(void *)m;
    f->got++;
    f->last = c;
}

/* Look-alikes of a member's nick find that member; guest nicks skip any
 * nick that looks like one in use. */
static void test_room_keys(void)
{
    static const struct {
        const char *nick; /* looked up with server and Alice in the room */
        int who;          /* 0: server, 1: Alice, -1: nobody */
    } finds[] = {
        {"server", 0},
        {"SERVER", 0},
        {"\xEF\xBC\xB3\xEF\xBC\xA5\xEF\xBC\xB2\xEF\xBC\xB6\xEF\xBC\xA5\xEF\xBC\xB2",
         0},                                /* ＳＥＲＶＥＲ */
        {"\xD1\x95\xD0\xB5rv\xD0\xB5r", 0}, /* Cyrillic ѕ and е */
        {"alice", 1},
        {"ALICE", 1},
        {"\xD0\x90lice", 1}, /* Cyrillic А */
        {"servers", -1},
        {"alic", -1},
        {"\xFF", -1},                              /* no key: not UTF-8 */
        {"abcdefghijklmnopqrstuvwxyz0123456", -1}, /* no key: too long */
    };
    fake f[3] = {
        {.m.deliver = fake_deliver}, {.m.deliver = fake_deliver}, {.m.deliver = fake_deliver}};
    room *r = room_new();
    char nick[NICK_MAX + 1];

    room_join(r, &f[0].m, "server");
    room_join(r, &f[1].m, "Alice");
    for (size_t i = 0; i < sizeof finds / sizeof finds[0]; i++) {
        member *want = finds[i].who < 0 ? NULL : &f[finds[i].who].m;
        CHECKF(room_find(r, finds[i].nick, strlen(finds[i].nick)) == want, "finds #%zu", i);
    }
    /* Renaming to a look-alike of one's own nick keeps one key. */
    room_rename(r, &f[1].m, "\xEF\xBC\xA1lice"); /* Ａlice */
    CHECK(room_find(r, "alice", 5) == &f[1].m);
    CHECK(room_count(r) == 2);

    /* guest1 and guestl are one key: with guestl here, guest1 is not free. */
    room_join(r, &f[2].m, "guestl");
    room_guest_nick(r, nick);
    CHECK(strcmp(nick, "guest2") == 0);
    room_leave(r, &f[2].m);
    CHECK(room_find(r, "guest1", 6) == NULL);
    room_free(r);
}

/* /who order, as server.c's cmp_nick spells it. */
static int who_order(const char *a, const char *b)
{
    int c = ascii_casecmp(a, b);
    return c ? c : strcmp(a, b);
}

/* Every member once, in strictly increasing /who order, paging by step. */
static int pages_in_order(const room *r, size_t step)
{
    member *page[16];
    const char *after = NULL;
    char last[NICK_MAX + 1] = "";
    size_t seen = 0, k;

    do {
        k = room_page(r, after, page, step);
        for (size_t i = 0; i < k; i++) {
            if (seen + i > 0 && who_order(last, page[i]->nick) >= 0)
                return 0;
            snprintf(last, sizeof last, "%s", page[i]->nick);
        }
        seen += k;
        after = last;
    } while (k == step);
    return seen == room_count(r);
}

/* Names of a page, ", "-joined, for comparing with what /who should say. */
static const char *page_names(const room *r, const char *after, size_t max)
{
    static char out[256];
    member *page[16];
    size_t k = room_page(r, after, page, max), o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < k; i++)
        o += (size_t)snprintf(out + o, sizeof out - o, "%s%s", i ? ", " : "", page[i]->nick);
    return out;
}

static void test_room_page(void)
{
    /* Joined out of order; sorted by bytes with ASCII letters lowered:
     * digits, [ and _ before letters, non-ASCII after everything. */
    static const char *const joins[] = {"carol", "Eve",    "bob",       "\xE5\xB0\x8F",
                                        "_x",    "Alice",  "9lives",    "dave",
                                        "[y]",   "alice2", "Zo\xC3\xAB"};
    enum { NJ = sizeof joins / sizeof joins[0] };
    static fake f[NJ];
    room *r = room_new();
    member *page[16];

    CHECK(room_page(r, NULL, page, 4) == 0); /* an empty room */
    for (size_t i = 0; i < NJ; i++) {
        f[i].m.deliver = fake_deliver;
        room_join(r, &f[i].m, joins[i]);
    }
    CHECK(
        strcmp(page_names(r, NULL, 16),
               "9lives, [y], _x, Alice, alice2, bob, carol, dave, Eve, Zo\xC3\xAB, \xE5\xB0\x8F") ==
        0);
    CHECK(strcmp(page_names(r, "", 3), "9lives, [y], _x") == 0);
    CHECK(strcmp(page_names(r, "alice2", 3), "bob, carol, dave") == 0);
    CHECK(strcmp(page_names(r, "ALICE2", 3), "alice2, bob, carol") == 0); /* ALICE2 < alice2 */
    CHECK(strcmp(page_names(r, "b", 2), "bob, carol") == 0);              /* not a member */
    CHECK(strcmp(page_names(r, "dave", 16), "Eve, Zo\xC3\xAB, \xE5\xB0\x8F") == 0);
    CHECK(room_page(r, "\xE5\xB0\x8F", page, 4) == 0); /* after the last */
    CHECK(room_page(r, NULL, page, 0) == 0);
    CHECK(pages_in_order(r, 1) && pages_in_order(r, 4) && pages_in_order(r, 16));

    /* Between pages, the last one shown leaves: the next page goes on after
     * where it was. */
    CHECK(strcmp(page_names(r, "_x", 3), "Alice, alice2, bob") == 0);
    room_leave(r, &f[2].m); /* bob */
    CHECK(strcmp(page_names(r, "bob", 4), "carol, dave, Eve, Zo\xC3\xAB") == 0);
    /* ... or is renamed: the next page goes on from the old place and meets
     * the new nick where it now sorts. */
    room_rename(r, &f[0].m, "mallory"); /* carol */
    CHECK(strcmp(page_names(r, "carol", 3), "dave, Eve, mallory") == 0);
    room_rename(r, &f[5].m, "aaron"); /* Alice, on a page already shown */
    CHECK(strcmp(page_names(r, "mallory", 16), "Zo\xC3\xAB, \xE5\xB0\x8F") == 0);
    CHECK(strcmp(page_names(r, NULL, 5), "9lives, [y], _x, aaron, alice2") == 0);
    /* Renamed to its own nick in capitals: listed once, in the same place. */
    room_rename(r, &f[7].m, "DAVE");
    CHECK(strcmp(page_names(r, "carol", 2), "DAVE, Eve") == 0);
    /* A newcomer sorts in at once. */
    room_join(r, &f[2].m, "Bob");
    CHECK(strcmp(page_names(r, "alice2", 2), "Bob, DAVE") == 0);
    CHECK(pages_in_order(r, 1) && pages_in_order(r, 5));
    room_free(r);
}

void test_room(void)
{
    test_room_keys();
    test_room_page();

    enum { N = 300 };
    static fake f[N];
    room *r = room_new();
    char nick[NICK_MAX + 1];

    for (int i = 0; i < N; i++) {
        f[i].m.deliver = fake_deliver;
        room_guest_nick(r, nick);
        room_join(r, &f[i].m, nick);
    }
    CHECK(room_count(r) == N);
    CHECK(strcmp(f[0].m.nick, "guest1") == 0 && strcmp(f[N - 1].m.nick, "guest300") == 0);
    int all_found = 1;
    for (int i = 0; i < N; i++) {
        snprintf(nick, sizeof nick, "GUEST%d", i + 1);
        if (room_find(r, nick, strlen(nick)) != &f[i].m)
            all_found = 0;
    }
    CHECK(all_found); /* through several hash growths, any case */
    CHECK(room_find(r, "guest", 5) == NULL);
    CHECK(room_find(r, "guest1x", 7) == NULL);

    room_rename(r, &f[5].m, "Alice");
    CHECK(room_find(r, "alice", 5) == &f[5].m);
    CHECK(room_find(r, "guest6", 6) == NULL);

    /* Remove from the front, the middle and the end. */
    room_leave(r, &f[0].m);
    room_leave(r, &f[N / 2].m);
    room_leave(r, &f[N - 1].m);
    CHECK(room_count(r) == N - 3);
    CHECK(room_find(r, "guest1", 6) == NULL);
    CHECK(room_find(r, "guest2", 6) == &f[1].m);
    CHECK(room_find(r, "ALICE", 5) == &f[5].m);

    /* Guest numbers move on: a departed guest's nick is not handed out at
     * once, and a taken one is skipped. */
    room_rename(r, &f[1].m, "guest301");
    room_guest_nick(r, nick);
    CHECK(strcmp(nick, "guest302") == 0);

    chunk *c = chunk_new("x\n", 2);
    room_broadcast(r, c, &f[7].m);
    int each_once = 1;
    for (int i = 0; i < N; i++) {
        int in_room = i != 0 && i != N / 2 && i != N - 1;
        int want = in_room && i != 7;
        if (f[i].got != want || (want && f[i].last != c))
            each_once = 0;
    }
    CHECK(each_once);
    chunk_unref(c);

    /* Announcing a join reaches only those who were there before it. */
    for (int i = 0; i < N; i++)
        f[i].got = 0;
    c = chunk_new("j\n", 2);
    room_broadcast_older(r, c, &f[10].m);
    int older_only = 1;
    for (int i = 0; i < N; i++) {
        int in_room = i != 0 && i != N / 2 && i != N - 1;
        int want = in_room && f[i].m.seq < f[10].m.seq;
        if (f[i].got != want)
            older_only = 0;
    }
    CHECK(older_only);
    CHECK(f[1].got == 1 && f[11].got == 0 && f[10].got == 0);
    chunk_unref(c);

    /* The sorted index after all of the above, and after much more churn. */
    CHECK(pages_in_order(r, 7));
    for (int i = 2; i < N - 1; i += 3) {
        if (i == N / 2)
            continue;
        if (i % 2) {
            room_leave(r, &f[i].m);
        } else {
            snprintf(nick, sizeof nick, "x%dy", N - i);
            room_rename(r, &f[i].m, nick);
        }
    }
    CHECK(pages_in_order(r, 1) && pages_in_order(r, 16));
    room_free(r);
}
