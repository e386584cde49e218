/* chat: the chat logic with no sockets. Members are records whose deliver
 * op keeps the lines they got in the text dialect; each case drives
 * chat_input as a connection would and checks who got what: rooms, the
 * current room, tags for members in several rooms, leaves and renames told
 * once to each member sharing a room, limits and bad input answered with
 * one line that nobody else sees, and one encoding shared by every
 * recipient. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "check.h"
#include "util.h"

typedef struct {
    member m;
    char got[8192]; /* every line received, as received */
    size_t n;
    chunk *last;
    int quit;
} rec;

static void rec_deliver(member *m, chunk *c)
{
    rec *r = CONTAINER_OF(m, rec, m);
    size_t k = c->len < sizeof r->got - 1 - r->n ? c->len : sizeof r->got - 1 - r->n;
    memcpy(r->got + r->n, c->data, k);
    r->n += k;
    r->got[r->n] = '\0';
    r->last = c;
}

static void rec_quit(member *m, const char *why, size_t len)
{
    (void)why, (void)len;
    CONTAINER_OF(m, rec, m)->quit = 1;
}

static const member_ops rec_ops = {.deliver = rec_deliver, .quit = rec_quit};

static void rec_init(rec *r)
{
    memset(r, 0, sizeof *r);
    r->m.ops = &rec_ops;
    r->m.dialect = &dialect_text;
}

/* Takes what r got so far (and forgets it). */
static const char *took(rec *r)
{
    static char buf[8192];
    memcpy(buf, r->got, r->n + 1);
    r->n = 0;
    r->got[0] = '\0';
    return buf;
}

static void say(chat *ch, rec *r, const char *line)
{
    chat_input(ch, &r->m, line, strlen(line));
}

static chat *new_chat(size_t max_rooms, size_t max_joined)
{
    chat_opts o = {.default_room = "#lobby",
                   .max_rooms = max_rooms,
                   .max_joined = max_joined,
                   .announce_max = 1000,
                   .max_line = 4096};
    chat_hooks h = {0};
    return chat_new(&o, &h);
}

#define GOT(r, want)                                                                               \
    do {                                                                                           \
        const char *g_ = took(r);                                                                  \
        CHECKF(strcmp(g_, want) == 0, "%s got \"%s\"", #r, g_);                                    \
    } while (0)
#define GOT_NOTHING(r) CHECKF((r)->n == 0, "%s got \"%s\"", #r, (r)->got)

static void test_chat_rooms(void)
{
    chat *ch = new_chat(100, 8);
    rec a, b, c;
    rec_init(&a);
    rec_init(&b);
    rec_init(&c);

    chat_enter(ch, &a.m, "alice", 1);
    GOT(&a, "*** welcome to hichat, alice (1 member here); type /help for commands\n");
    chat_announce(ch, &a.m);          /* nobody to tell, but its leave is told */
    chat_enter(ch, &b.m, "Alice", 1); /* taken: a guest nick and why */
    GOT(&b, "*** welcome to hichat, guest1 (2 members here); type /help for commands\n"
            "! nick \"Alice\" is in use\n");
    GOT_NOTHING(&a); /* not told until announced */
    chat_announce(ch, &b.m);
    GOT(&a, "*** guest1 joined\n");
    say(ch, &b, "/nick bob");
    GOT(&a, "*** guest1 is now known as bob\n");
    GOT(&b, "*** guest1 is now known as bob\n");

    /* One room each: lines as ever, not to the sender. */
    say(ch, &a, "hi");
    GOT(&b, "<alice> hi\n");
    GOT_NOTHING(&a);

    /* alice in two rooms: tagged lines for her, untagged for bob. */
    say(ch, &a, "/join Rust");
    GOT(&a, "*** you joined #Rust (1 member here)\n");
    say(ch, &a, "/topic crabs \x1b[2J\xE2\x80\xAE");
    GOT(&a, "#Rust *** alice set the topic: crabs ^[[2J\xEF\xBF\xBD\n");
    say(ch, &b, "/join #rust");
    GOT(&b, "*** you joined #Rust (2 members here)\n"
            "*** topic of #Rust: crabs ^[[2J\xEF\xBF\xBD (set by alice)\n");
    GOT(&a, "#Rust *** bob joined\n");
    say(ch, &b, "in rust");
    GOT(&a, "#Rust <bob> in rust\n");
    say(ch, &b, "/msg #lobby in lobby");
    GOT(&a, "#lobby <bob> in lobby\n");
    say(ch, &b, "/me waves");
    GOT(&a, "#Rust * bob waves\n");

    /* chris only in the lobby sees only the lobby, untagged. */
    chat_enter(ch, &c.m, "chris", 0);
    chat_announce(ch, &c.m);
    GOT(&a, "#lobby *** chris joined\n");
    GOT(&b, "#lobby *** chris joined\n");
    say(ch, &a, "/switch #lobby");
    GOT(&a, "*** now talking in #lobby\n");
    say(ch, &a, "to the lobby");
    GOT(&c, "<alice> to the lobby\n");
    GOT(&b, "#lobby <alice> to the lobby\n");

    /* A rename is told once to each member sharing a room. */
    say(ch, &a, "/nick al");
    GOT(&a, "*** alice is now known as al\n");
    GOT(&b, "*** alice is now known as al\n");
    GOT(&c, "*** alice is now known as al\n");

    /* /who of a room: tagged for those in several. */
    say(ch, &b, "/who #RUST");
    GOT(&b, "#Rust *** 2 members: al, bob\n");
    say(ch, &c, "/who");
    GOT(&c, "*** 3 members: al, bob, chris\n");
    say(ch, &c, "/who #rust");
    GOT(&c, "#Rust *** 2 members: al, bob\n");

    /* /part: the room is told, the current room falls back. */
    say(ch, &b, "/part #rust gone fishing");
    GOT(&b, "*** you left #Rust\n");
    GOT(&a, "#Rust *** bob left (part: gone fishing)\n");
    say(ch, &b, "back in the lobby");
    GOT(&a, "#lobby <bob> back in the lobby\n");
    GOT(&c, "<bob> back in the lobby\n");

    /* A leave is told once, to those sharing a room only. */
    say(ch, &a, "/part #lobby");
    GOT(&a, "*** you left #lobby\n");
    GOT(&b, "*** al left (part)\n");
    GOT(&c, "*** al left (part)\n");
    say(ch, &a, "alone");
    GOT_NOTHING(&b);
    GOT_NOTHING(&c);
    chat_leave(ch, &a.m, "quit", 4);
    GOT_NOTHING(&b);                       /* shared no room with al any more */
    CHECK(chat_room(ch, "#rust") == NULL); /* emptied: gone, topic and all */
    say(ch, &b, "/rooms");
    GOT(&b, "*** 1 rooms:\n*** #lobby (2 members)\n");

    chat_leave(ch, &b.m, "connection closed", 17);
    GOT(&c, "*** bob left (connection closed)\n");
    chat_leave(ch, &c.m, "quit", 4);
    chat_free(ch);
}

static void test_chat_errors(void)
{
    chat *ch = new_chat(3, 2);
    rec a, b;
    rec_init(&a);
    rec_init(&b);
    chat_enter(ch, &a.m, "alice", 0);
    chat_enter(ch, &b.m, "bob", 0);
    chat_announce(ch, &a.m);
    chat_announce(ch, &b.m);
    took(&a);
    took(&b);

    static const struct {
        const char *line, *reply;
    } cases[] = {
        {"/join", "! usage: /join #ROOM\n"},
        {"/join #", "! invalid room name \"#\": empty after the #\n"},
        {"/join #a b!", "! usage: /join #ROOM\n"}, /* one room at a time */
        {"/join #a", "*** you joined #a (1 member here)\n"},
        {"/join #x\x1b", "! invalid room name \"#x^[\": only letters, digits, - _ and . may "
                         "follow the #\n"},
        {"/join #abcdefghijklmnopqrstuvwxyz0123456",
         "! invalid room name \"#abcdefghijklmnopqrstuvwxyz0123456\": longer than 32 bytes after "
         "the #\n"},
        {"/join #b", "! too many rooms: you are in 2 (max 2); /part one first\n"},
        {"/join #a", "*** now talking in #a\n"},
        {"/topic #a hello", "#a *** alice set the topic: hello\n"},
        {"/topic #lobby -", "#lobby *** alice cleared the topic\n"},
        {"/topic #x y", "! you are not in #x; /join #x first\n"},
        {"/part #nope", "! you are not in #nope; /join #nope first\n"},
        {"/switch #zzz", "! you are not in #zzz; /join #zzz first\n"},
        {"/switch", "! usage: /switch #ROOM\n"},
        {"/who #none", "! no such room #none; /rooms lists them\n"},
        {"/topic #none", "! no such room #none; /rooms lists them\n"},
        {"/topic #lobby", "*** #lobby has no topic\n"},
        {"/msg #none hi", "! you are not in #none; /join #none first\n"},
        {"/msg nobody hi", "! no such nick \"nobody\"\n"},
        {"/msg bob", "! usage: /msg NICK|#ROOM TEXT\n"},
        {"/nick a b", "! invalid nick \"a b\": use letters, digits, - _ . [ ] { } | ^ or "
                      "non-ASCII letters; no spaces or control characters\n"},
        {"/nick BOB", "! nick \"BOB\" is in use\n"},
        {"/frob x", "! unknown command \"/frob\"; type /help for the list\n"},
        {"/stats", "! /stats is for the server console\n"},
        {"/pass x", "! this room needs no password\n"},
        {"/hello", "*** hi\n"},
        {"/nick", "*** you are alice\n"},
        {"/nick alice", "*** you are already alice\n"},
        {"/part", "*** you left #a\n"},
        {"/part", "*** you left #lobby\n"},
        {"in no room", "! you are in no room; /join #NAME to talk\n"},
        {"/me x", "! you are in no room; /join #NAME to talk\n"},
        {"/who", "! you are in no room; /join #NAME to talk\n"},
        {"/topic", "! you are in no room; /join #NAME to talk\n"},
        {"/part", "! you are in no room; /join #NAME to talk\n"},
        {"", ""},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        say(ch, &a, cases[i].line);
        const char *g = took(&a);
        CHECKF(strcmp(g, cases[i].reply) == 0, "%s -> \"%s\"", cases[i].line, g);
    }
    /* The only lines bob saw from all that. */
    GOT(&b, "*** alice cleared the topic\n*** alice left (part)\n");

    /* Room limits: the server's, then one member's. */
    say(ch, &b, "/join #c");
    say(ch, &b, "/join #d");
    GOT(&b, "*** you joined #c (1 member here)\n! too many rooms: you are in 2 (max 2); "
            "/part one first\n");
    say(ch, &b, "/part #lobby");
    say(ch, &b, "/join #d"); /* #lobby (kept, empty), #c, #d */
    took(&b);
    say(ch, &a, "/join #e");
    GOT(&a, "! too many rooms on this server (max 3); /rooms lists them\n");
    say(ch, &b, "/switch #c");
    took(&b);
    /* A topic is at most 300 bytes as sent: longer is refused, not cut. */
    char topic[700] = "/topic ";
    for (int i = 0; i < 150; i++)
        strcat(topic, "\xC3\xA9"); /* é: 300 bytes */
    say(ch, &b, topic);
    const char *got = took(&b);
    CHECKF(strlen(got) == strlen("#c *** bob set the topic: \n") + 300, "%zu", strlen(got));
    strcat(topic, "!");
    say(ch, &b, topic);
    GOT(&b, "! topic too long (max 300 bytes); not set\n");
    say(ch, &b, "/topic -");
    GOT(&b, "#c *** bob cleared the topic\n");
    say(ch, &b, "/quit bye");
    CHECK(b.quit == 1);
    chat_leave(ch, &b.m, "quit: bye", 9);
    chat_leave(ch, &a.m, "quit", 4);
    chat_free(ch);
}

static int who_started;

static void rec_who(member *m)
{
    (void)m;
    who_started++;
}

/* One chunk for all recipients of a form; /who pages go on from where the
 * last ended. */
static void test_chat_sharing(void)
{
    chat *ch = new_chat(10, 10);
    enum { N = 600 };
    rec *r = calloc(N, sizeof *r);
    char nick[32];
    for (int i = 0; i < N; i++) {
        rec_init(&r[i]);
        snprintf(nick, sizeof nick, "member%03d", i);
        chat_enter(ch, &r[i].m, nick, 0);
    }
    say(ch, &r[0], "hello");
    CHECK(r[1].last == r[N - 1].last && r[1].last != NULL);
    say(ch, &r[1], "/join #side");
    say(ch, &r[0], "again");
    CHECK(r[2].last == r[N - 1].last && r[1].last != r[2].last); /* tagged for r[1] */
    CHECK(strstr(r[1].got, "#lobby <member000> again\n") != NULL);

    /* A member without a pacing op gets the list whole. */
    took(&r[5]);
    say(ch, &r[5], "/who");
    const char *all = took(&r[5]);
    CHECK(strstr(all, "*** 600 members: member000, member001") == all);
    CHECK(strstr(all, "member599\n") != NULL && strstr(all, "member001, member002") != NULL);

    /* One that paces gets a page at a time, on from the last. */
    static member_ops paced;
    paced = rec_ops;
    paced.who = rec_who;
    r[6].m.ops = &paced;
    took(&r[6]);
    say(ch, &r[6], "/who");
    CHECK(who_started == 1 && r[6].m.who != NULL && r[6].n == 0);
    int pages = 0;
    size_t total = 0;
    while (!chat_who_more(ch, &r[6].m)) {
        pages++;
        total += r[6].n;
        CHECKF(r[6].n >= 4096 && r[6].n < 4096 + 1024, "page of %zu", r[6].n);
        took(&r[6]);
    }
    total += r[6].n;
    CHECKF(pages == 1 && r[6].m.who == NULL, "%d pages", pages);
    CHECK(strstr(r[6].got, "member599\n") != NULL);
    CHECKF(total > 600 * 11 && total < 600 * 11 + 400, "%zu", total);
    /* Stopped halfway, the member is told where. */
    took(&r[6]);
    say(ch, &r[6], "/who");
    chat_who_more(ch, &r[6].m);
    took(&r[6]);
    chat_who_stop(ch, &r[6].m);
    CHECK(strncmp(r[6].got, "*** ... the list goes on after member", 37) == 0);

    for (int i = 0; i < N; i++)
        chat_leave(ch, &r[i].m, "quit", 4);
    free(r);
    chat_free(ch);
}

/* A line longer than max_line gets its error whoever sends it (the
 * console's editor takes 4 KB lines even with --max-line 64): the chat's
 * cleaning buffer is sized for max_line, and nothing else reaches it. */
static void test_chat_long_lines(void)
{
    chat_opts o = {.default_room = "#lobby", .max_rooms = 10, .max_joined = 10,
                   .announce_max = 1000, .max_line = 64};
    chat_hooks h = {0};
    chat *ch = chat_new(&o, &h);
    rec a, b;
    rec_init(&a);
    rec_init(&b);
    chat_enter(ch, &a.m, "alice", 0);
    chat_enter(ch, &b.m, "bob", 0);
    char line[4097];
    memset(line, 0x1b, sizeof line - 1); /* each byte cleans to two */
    line[sizeof line - 1] = '\0';
    say(ch, &a, line);
    GOT(&a, "! line too long (max 64 bytes); discarded\n");
    GOT_NOTHING(&b);
    line[64] = '\0';
    say(ch, &a, line); /* 64 bytes: fine */
    CHECK(strncmp(took(&b), "<alice> ^[^[", 12) == 0);
    chat_leave(ch, &a.m, "quit", 4);
    chat_leave(ch, &b.m, "quit", 4);
    chat_free(ch);
}

void test_chat(void)
{
    test_chat_long_lines();
    test_chat_rooms();
    test_chat_errors();
    test_chat_sharing();
}
