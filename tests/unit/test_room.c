/* room and nicks: nicks are unique by their comparison key (case, width,
 * look-alike letters) across the server, lookups survive renames and
 * removals at any position; rooms are found ignoring case, keep their
 * first spelling, go when they empty (but the kept one), keep each member's
 * rooms in joining order with the current one right after a part, and page
 * /who in nick order from wherever the last page ended. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "nicks.h"
#include "room.h"
#include "util.h"

static void test_nick_keys(void)
{
    static const struct {
        const char *nick; /* looked up with server and Alice in the table */
        int who;          /* 0: server, 1: Alice, -1: nobody */
    } finds[] = {
        {"server", 0},
        {"SERVER", 0},
        {"\xEF\xBC\xB3\xEF\xBC\xA5\xEF\xBC\xB2\xEF\xBC\xB6\xEF\xBC\xA5\xEF\xBC\xB2", 0},
        {"\xD1\x95\xD0\xB5rv\xD0\xB5r", 0}, /* Cyrillic ѕ and е */
        {"alice", 1},
        {"\xD0\x90lice", 1}, /* Cyrillic А */
        {"servers", -1},
        {"\xFF", -1},
        {"abcdefghijklmnopqrstuvwxyz0123456", -1},
    };
    member m[3];
    memset(m, 0, sizeof m);
    nicks *t = nicks_new();
    char nick[NICK_MAX + 1];

    nicks_add(t, &m[0], "server");
    nicks_add(t, &m[1], "Alice");
    for (size_t i = 0; i < ARRAY_LEN(finds); i++) {
        member *want = finds[i].who < 0 ? NULL : &m[finds[i].who];
        CHECKF(nicks_find(t, finds[i].nick, strlen(finds[i].nick)) == want, "%s", finds[i].nick);
    }
    nicks_rename(t, &m[1], "ALICE");
    CHECK(nicks_find(t, "alice", 5) == &m[1] && strcmp(m[1].nick, "ALICE") == 0);
    nicks_add(t, &m[2], "guest1");
    nicks_guest(t, nick); /* guest1 is taken */
    CHECK(strcmp(nick, "guest2") == 0);
    CHECK(nicks_count(t) == 3);
    nicks_remove(t, &m[0]); /* from the front: the last moves into its slot */
    CHECK(nicks_find(t, "server", 6) == NULL && nicks_count(t) == 2);
    CHECK(nicks_find(t, "guest1", 6) == &m[2] && nicks_find(t, "alice", 5) == &m[1]);
    CHECK((nicks_at(t, 0) == &m[2] || nicks_at(t, 1) == &m[2]));
    nicks_free(t);
}

static void test_room_names(void)
{
    static const struct {
        const char *name;
        int ok;
    } names[] = {
        {"#rust", 1},
        {"#a", 1},
        {"#team-2_v1.0", 1},
        {"#abcdefghijklmnopqrstuvwxyz012345", 1},
        {"#abcdefghijklmnopqrstuvwxyz0123456", 0}, /* 33 after the # */
        {"#", 0},
        {"rust", 0},
        {"", 0},
        {"#a b", 0},
        {"#a,b", 0},
        {"#\xC3\xA9", 0},
        {"##", 0},
        {"#a\x1b", 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(names); i++)
        CHECKF((room_name_invalid(names[i].name, strlen(names[i].name)) == NULL) == names[i].ok,
               "%s", names[i].name);
}

static void test_rooms_life(void)
{
    rooms *rs = rooms_new();
    member a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    snprintf(a.nick, sizeof a.nick, "alice");
    snprintf(b.nick, sizeof b.nick, "bob");

    room *lobby = room_make(rs, "#lobby", 6);
    room_set_keep(lobby);
    room *rust = room_make(rs, "#Rust", 5);
    CHECK(room_find(rs, "#rust", 5) == rust && room_find(rs, "#RUST", 5) == rust);
    CHECK(strcmp(room_name(rust), "#Rust") == 0);
    CHECK(room_find(rs, "#go", 3) == NULL);
    CHECK(rooms_count(rs) == 2);

    seat *al = room_join(lobby, &a);
    seat *ar = room_join(rust, &a);
    room_join(lobby, &b);
    CHECK(a.nrooms == 2 && a.rooms[0] == al && a.rooms[1] == ar && a.cur == ar);
    CHECK(room_seat(&a, rust) == ar && room_seat(&b, rust) == NULL);
    CHECK(al->seq < room_seat(&b, lobby)->seq);
    CHECK(room_count(lobby) == 2 && room_count(rust) == 1);

    /* Paging in nick order, after a nick that has since gone. */
    member *page[4];
    CHECK(room_page(lobby, NULL, page, 4) == 2 && page[0] == &a && page[1] == &b);
    CHECK(room_page(lobby, "alice", page, 4) == 1 && page[0] == &b);
    CHECK(room_page(lobby, "b", page, 4) == 1 && page[0] == &b); /* "b" < "bob" */
    CHECK(room_page(lobby, "zed", page, 4) == 0);
    snprintf(a.nick, sizeof a.nick, "zoe");
    /* (no index to update: pages sort as they go) */
    CHECK(room_page(lobby, NULL, page, 4) == 2 && page[0] == &b && page[1] == &a);

    /* A member over its bound counts in each of its rooms, as it joins
     * and parts too. */
    room_member_over(&a, 1);
    CHECK(room_nover(lobby) == 1 && room_nover(rust) == 1);
    room_member_over(&a, 1); /* (again: no change) */
    CHECK(room_nover(lobby) == 1);
    room *go = room_make(rs, "#go", 3);
    seat *ag = room_join(go, &a);
    CHECK(room_nover(go) == 1);
    room_part(rs, ag); /* (and #go goes) */
    room_member_over(&a, 0);
    CHECK(room_nover(lobby) == 0 && room_nover(rust) == 0);
    a.cur = ar;

    room_set_topic(rust, "talk", 4, "zoe", 123);
    const char *by;
    uint64_t when;
    CHECK(strcmp(room_topic(rust, &by, &when), "talk") == 0 && strcmp(by, "zoe") == 0 &&
          when == 123);

    /* Parting the current room: the last joined of the rest is current; an
     * emptied room goes, the kept one stays. */
    room_part(rs, ar);
    CHECK(a.nrooms == 1 && a.cur == al);
    CHECK(room_find(rs, "#rust", 5) == NULL && rooms_count(rs) == 1);
    room_part(rs, al);
    CHECK(a.nrooms == 0 && a.cur == NULL && a.rooms == NULL);
    room_part(rs, room_seat(&b, lobby));
    CHECK(room_find(rs, "#lobby", 6) == lobby && room_count(lobby) == 0);

    /* Many rooms: the registry grows and lists by name. */
    char name[16];
    for (int i = 0; i < 200; i++) {
        int n = snprintf(name, sizeof name, "#r%03d", i);
        room_join(room_make(rs, name, (size_t)n), &a);
    }
    room *list[8];
    CHECK(rooms_page(rs, NULL, list, 8) == 8 && list[0] == lobby);
    CHECK(rooms_page(rs, "#r197", list, 8) == 2 && strcmp(room_name(list[1]), "#r199") == 0);
    CHECK(room_find(rs, "#R150", 5) != NULL && a.nrooms == 200);
    rooms_free(rs); /* frees a's array too */
    CHECK(a.rooms == NULL && a.nrooms == 0);
}

static int by_who_order(const void *a, const void *b)
{
    const member *x = *(member *const *)a, *y = *(member *const *)b;
    int c = ascii_casecmp(x->nick, y->nick);
    return c ? c : strcmp(x->nick, y->nick);
}

/* Pages of any size, through a room in no order, come out in /who order,
 * each member once, whatever nicks sort alike ignoring case. */
static void test_room_pages(void)
{
    enum { N = 1000 };
    static member ms[N];
    member *want[N], *page[64];
    rooms *rs = rooms_new();
    room *r = room_make(rs, "#big", 4);
    unsigned x = 12345;
    for (int i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        memset(&ms[i], 0, sizeof ms[i]);
        snprintf(ms[i].nick, sizeof ms[i].nick, "%c%u_%d", (x >> 16) % 2 ? 'N' : 'n',
                 (x >> 8) % 500, i);
        room_join(r, &ms[i]);
        want[i] = &ms[i];
    }
    qsort(want, N, sizeof *want, by_who_order);
    static const size_t sizes[] = {1, 7, 64};
    for (size_t s = 0; s < ARRAY_LEN(sizes); s++) {
        char after[NICK_MAX + 1] = "";
        size_t got = 0, k;
        int ordered = 1;
        while ((k = room_page(r, after, page, sizes[s])) > 0) {
            for (size_t i = 0; i < k; i++)
                ordered &= got + i < N && page[i] == want[got + i];
            got += k;
            snprintf(after, sizeof after, "%s", page[k - 1]->nick);
        }
        CHECKF(ordered && got == N, "pages of %zu: %zu members", sizes[s], got);
    }
    rooms_free(rs);
}

void test_room(void)
{
    test_room_pages();
    test_nick_keys();
    test_room_names();
    test_rooms_life();
}
