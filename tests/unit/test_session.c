/* session: the client's rooms from the server's lines (docs/protocol.md,
 * "Rooms"): tags taken off and lines routed, the first room named late,
 * joins, parts and switches moving the current room and the view, member
 * counts, unread counts, the hidden questions and their answers. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "session.h"

static session S;
static session_route R;
static char sent[8][64]; /* what the session said to the server */
static size_t nsent;
static int made, freed, refuse;

static int send_hook(void *ctx, const char *line, size_t len)
{
    (void)ctx;
    if (refuse)
        return -1;
    if (nsent < 8)
        snprintf(sent[nsent++], sizeof sent[0], "%.*s", (int)len, line);
    return 0;
}

static void *new_hook(void *ctx)
{
    (void)ctx;
    return (void *)(long)++made; /* a token to tell the rooms' ui apart */
}

static void free_hook(void *ctx, void *ui)
{
    (void)ctx;
    (void)ui;
    freed++;
}

/* Feeds a line; returns the index of the room it is shown in. */
static size_t in(const char *line)
{
    session_line(&S, line, strlen(line), &R);
    return R.room;
}

static const char *name(size_t i)
{
    return S.rooms[i]->name;
}

/* The shown text of the last line routed is s. */
static int shows(const char *line, const char *s)
{
    return strlen(line) - R.off == strlen(s) && memcmp(line + R.off, s, strlen(s)) == 0;
}

static int said(const char *line)
{
    for (size_t i = 0; i < nsent; i++)
        if (strcmp(sent[i], line) == 0)
            return 1;
    return 0;
}

static void start(void)
{
    session_hooks h = {send_hook, new_hook, free_hook, NULL};
    nsent = 0;
    made = freed = refuse = 0;
    session_init(&S, &h);
}

void test_session(void)
{
    const char *l;

    /* tags */
    CHECK(session_tag("#rust <a> hi", 12) == 6);
    CHECK(session_tag("#rust", 5) == 0);    /* no line after it */
    CHECK(session_tag("#ru st x", 8) == 4); /* "#ru" and a space */
    CHECK(session_tag("# x", 3) == 0);      /* no name */
    CHECK(session_tag("#a/b x", 6) == 0);   /* '/' cannot be in a name */
    CHECK(session_tag("<#rust> hi", 10) == 0);
    CHECK(session_tag("#"
                      "abcdefghijabcdefghijabcdefghij12 x",
                      35) == 34); /* 32 bytes */
    CHECK(session_tag("#"
                      "abcdefghijabcdefghijabcdefghij123 x",
                      36) == 0); /* 33 */

    /* one room, as before rooms: nothing tagged, all in room 0 */
    start();
    CHECK(S.n == 1 && made == 1 && !name(0)[0]);
    CHECK(in("*** welcome to hichat, me (3 members here); type /help for commands") == 0);
    CHECK(strcmp(S.me, "me") == 0 && S.rooms[0]->count == 3 && said("/who"));
    CHECK(S.rooms[0]->who_hidden);
    CHECK(in("*** 3 members: a, b, me") == 0 && R.hide && !S.rooms[0]->who_hidden);
    CHECK(roster_has(&S.rooms[0]->members, "a", 1) && S.rooms[0]->members.n == 3);
    CHECK(in("<a> hello") == 0 && !R.hide && R.off == 0 && R.li.kind == LINE_MSG);
    CHECK(in("*** c joined") == 0 && S.rooms[0]->count == 4);
    CHECK(in("*** c left (quit)") == 0 && S.rooms[0]->count == 3);
    CHECK(in("*** 3 members: a, b, me") == 0 && !R.hide); /* asked by the person */
    CHECK(S.rooms[0]->unread == 0);

    /* the first /join: a hidden /topic names the first room */
    nsent = 0;
    l = "/join #rust";
    session_sending(&S, l, strlen(l));
    CHECK(said("/topic") && S.topic_hidden);
    session_sending(&S, l, strlen(l)); /* asked once */
    CHECK(nsent == 1);
    CHECK(in("*** #lobby has no topic") == 0 && R.hide && strcmp(name(0), "#lobby") == 0);
    CHECK(!S.topic_hidden);
    nsent = 0;
    CHECK(in("*** you joined #Rust (2 members here)") == 1 && R.own_notice);
    CHECK(S.n == 2 && made == 2 && strcmp(name(1), "#Rust") == 0);
    CHECK(S.current == 1 && S.view == 1 && S.rooms[1]->count == 2);
    CHECK(said("/who #Rust") && S.rooms[1]->who_hidden);
    l = "#Rust *** 2 members: me, zed";
    CHECK(in(l) == 1 && R.hide && roster_has(&S.rooms[1]->members, "zed", 3));
    l = "#rust <zed> hi";
    CHECK(in(l) == 1 && shows(l, "<zed> hi") && R.li.kind == LINE_MSG);
    CHECK(R.li.alen == 3 && memcmp(R.li.a, "zed", 3) == 0);
    l = "#lobby <a> over here, me";
    CHECK(in(l) == 0 && shows(l, "<a> over here, me"));
    CHECK(S.rooms[0]->unread == 1 && S.rooms[0]->mentions == 1);
    l = "#lobby * b waves";
    CHECK(in(l) == 0 && S.rooms[0]->unread == 2 && S.rooms[0]->mentions == 1);
    l = "#lobby *** d joined";
    CHECK(in(l) == 0 && S.rooms[0]->count == 4 && S.rooms[0]->unread == 2);
    /* untagged: private lines and errors go where one looks */
    CHECK(in("*a* psst") == 1 && in("! no such room #x") == 1 && in("-> *a* yes") == 1);
    /* a tag of a room not ours (a /who #other): shown as it came */
    l = "#other *** 2 members: p, q";
    CHECK(in(l) == 1 && R.off == 0 && !R.hide && S.n == 2);
    /* a quit (untagged, once): out of every room that had NICK */
    CHECK(!roster_has(&S.rooms[1]->members, "a", 1)); /* a private line is not about a room */
    CHECK(roster_add(&S.rooms[1]->members, "a", 1));
    S.rooms[1]->count++;
    CHECK(in("*** a left (quit: bye)") == 1 && S.rooms[0]->count == 3 && S.rooms[1]->count == 2);
    CHECK(!roster_has(&S.rooms[0]->members, "a", 1) && !roster_has(&S.rooms[1]->members, "a", 1));
    /* a rename: everywhere, us included */
    CHECK(in("*** me is now known as moi") == 1 && strcmp(S.me, "moi") == 0);
    CHECK(roster_has(&S.rooms[0]->members, "moi", 3) && roster_has(&S.rooms[1]->members, "moi", 3));

    /* switching the view asks the server; its answer moves the view too */
    nsent = 0;
    CHECK(session_view(&S, 0) == 0 && said("/switch #lobby") && S.view == 0);
    CHECK(S.rooms[0]->unread == 0 && S.rooms[0]->mentions == 0 && S.current == 1);
    CHECK(in("*** now talking in #lobby") == 0 && S.current == 0 && S.view == 0);
    CHECK(session_view(&S, 2) == -1 && S.view == 0);
    l = "#rust <zed> over there";
    CHECK(in(l) == 1 && S.rooms[1]->unread == 1);
    CHECK(in("#rust *** now talking in #rust") == 1 && S.view == 1 && S.rooms[1]->unread == 0);

    /* a third room; parting the current one makes the last joined current */
    CHECK(in("*** you joined #c (1 member here)") == 2 && S.rooms[2]->count == 1);
    CHECK(!S.rooms[2]->who_hidden); /* alone: nothing to ask */
    CHECK(in("*** now talking in #lobby") == 0 && S.current == 0);
    CHECK(in("*** you left #lobby") == 1 && S.n == 2 && freed == 1);
    CHECK(S.current == 1 && S.view == 1 && strcmp(name(1), "#c") == 0);
    CHECK(in("*** you left #c") == 0 && S.n == 1 && S.current == 0 && S.view == 0);
    /* one room left: its lines come untagged again */
    CHECK(in("<zed> alone now") == 0 && S.rooms[0]->unread == 0);
    /* the last one too: kept, gone, to show lines in; a join reuses it */
    CHECK(in("*** you left #rust") == 0 && S.n == 1 && S.rooms[0]->gone && freed == 2);
    CHECK(session_find(&S, "#rust", 5) == -1);
    CHECK(in("! you are in no room; /join #NAME to talk") == 0);
    CHECK(in("*** you joined #x (1 member here)") == 0 && S.n == 1 && made == 3);
    CHECK(!S.rooms[0]->gone && strcmp(name(0), "#x") == 0);
    session_free(&S);
    CHECK(freed == 3);

    /* the first room named by a tagged message, a switch or a part */
    start();
    in("*** welcome to hichat, me (1 member here); type /help for commands");
    refuse = 1; /* the /topic did not go: the room stays unnamed */
    session_sending(&S, "/join #b", 8);
    CHECK(!S.topic_hidden);
    refuse = 0;
    CHECK(in("*** you joined #b (1 member here)") == 1 && !name(0)[0]);
    CHECK(session_view(&S, 0) == -1 && S.view == 0); /* cannot ask for an unnamed room */
    CHECK(in("#lobby *** 5 members: p, q, r, s, me") == 0 && R.off == 0 && !name(0)[0]);
    CHECK(in("#Lobby <p> hi") == 0 && strcmp(name(0), "#Lobby") == 0 &&
          shows("#Lobby <p> hi", "<p> hi"));
    session_free(&S);

    start();
    in("*** welcome to hichat, me (1 member here); type /help for commands");
    in("*** you joined #b (1 member here)");
    CHECK(in("*** now talking in #main") == 0 && strcmp(name(0), "#main") == 0 && S.current == 0);
    session_free(&S);

    start();
    in("*** welcome to hichat, me (1 member here); type /help for commands");
    in("*** you joined #b (1 member here)");
    CHECK(in("*** you left #main") == 0 && S.n == 1 && strcmp(name(0), "#b") == 0);
    /* an old server: the hidden /topic gets an error, shown, and nothing named */
    session_free(&S);

    start();
    in("*** welcome to hichat, me (1 member here); type /help for commands");
    session_sending(&S, "/JOIN b", 7);
    CHECK(S.topic_hidden);
    CHECK(in("! unknown command \"/topic\"; type /help for the list") == 0 && !R.hide);
    CHECK(!S.topic_hidden && !name(0)[0]);
    CHECK(in("*** topic of #b: x (set by y)") == 0 && !R.hide && !name(0)[0]);
    /* a topic with a colon-free name is read up to ':' */
    session_sending(&S, "/join c", 7);
    CHECK(in("*** topic of #lobby: a: b (set by y)") == 0 && R.hide);
    CHECK(strcmp(name(0), "#lobby") == 0);
    /* the view sends nothing when not connected, yet moves */
    in("*** you joined #c (1 member here)");
    refuse = 1;
    CHECK(session_view(&S, 0) == -1 && S.view == 0);
    refuse = 0;

    /* a new connection: the room in view keeps its lines, the others go */
    made = freed = 0;
    in("*** welcome to hichat, me2 (2 members here); type /help for commands");
    CHECK(S.n == 1 && freed == 1 && made == 0 && !name(0)[0] && S.rooms[0]->count == 2);
    CHECK(strcmp(S.me, "me2") == 0 && S.view == 0 && S.current == 0);
    session_free(&S);
    CHECK(freed == 2);

    /* a rename and a leave in one room are that room's */
    start();
    in("*** welcome to hichat, me (2 members here); type /help for commands");
    in("*** 2 members: me, x");
    CHECK(in("*** x is now known as y") == 0 && roster_has(&S.rooms[0]->members, "y", 1));
    CHECK(in("*** y left (connection closed)") == 0 && S.rooms[0]->count == 1);
    /* a line starting with '#' that is not a tag is just a line */
    CHECK(in("#") == 0 && R.off == 0);
    session_free(&S);
}
