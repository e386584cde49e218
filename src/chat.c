/* chat.c - see chat.h. */
#include "chat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

/* /who replies are lines of about WHO_LINE bytes, and a page of about
 * WHO_PAGE bytes at a time (see chat_who_more). */
#define WHO_LINE 400
#define WHO_PAGE 4096
/* A name or nick quoted back in an error is cut to this many bytes. */
#define QUOTE_MAX 64
/* A /part reason is cut to this many bytes, as a /quit reason is. */
#define REASON_MAX 160

struct who_cursor {
    char room[ROOM_NAME_SIZE]; /* the room listed (found again per page) */
    char after[NICK_MAX + 1];  /* the last nick listed */
    size_t total;              /* members when it was asked */
};

struct chat {
    chat_opts opt;
    chat_hooks hooks;
    rooms *rooms;
    nicks *nicks;
    room *lobby;
    char *clean;        /* TEXT_CLEAN_MAX(max_line) bytes */
    unsigned long mark; /* fan-out generation */
    unsigned long pass;
    size_t fanout;
    int quiet;
};

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

chat *chat_new(const chat_opts *o, const chat_hooks *h)
{
    chat *ch = xcalloc(1, sizeof *ch);
    ch->opt = *o;
    ch->hooks = *h;
    ch->rooms = rooms_new();
    ch->nicks = nicks_new();
    size_t cap = o->max_line > 4 * TOPIC_MAX ? o->max_line : 4 * TOPIC_MAX;
    ch->clean = xmalloc(TEXT_CLEAN_MAX(cap + 2));
    ch->lobby = room_make(ch->rooms, o->default_room, strlen(o->default_room));
    room_set_keep(ch->lobby);
    return ch;
}

void chat_free(chat *ch)
{
    if (!ch)
        return;
    for (size_t i = 0; i < nicks_count(ch->nicks); i++) {
        member *m = nicks_at(ch->nicks, i);
        free(m->who);
        m->who = NULL;
    }
    rooms_free(ch->rooms);
    nicks_free(ch->nicks);
    free(ch->clean);
    free(ch);
}

/* ---- delivery ---- */

/* Whether m must be told which room a line is about: unless r is the only
 * room m is in. */
static int tagged(const member *m, const room *r)
{
    return !(m->nrooms == 1 && m->rooms[0]->room == r);
}

typedef struct {
    chunk *c[DIALECT_MAX][2]; /* [dialect][tagged] */
} encodings;

/* ev for m, encoded at most once per dialect and form. */
static chunk *encoding(encodings *e, const chat_event *ev, const member *m, int tag)
{
    chunk **c = &e->c[m->dialect->id][tag];
    if (!*c)
        *c = m->dialect->encode(ev, tag);
    return *c;
}

static void encodings_free(encodings *e)
{
    for (int d = 0; d < DIALECT_MAX; d++)
        for (int t = 0; t < 2; t++)
            if (e->c[d][t])
                chunk_unref(e->c[d][t]);
}

static void deliver(chat *ch, member *m, chunk *c)
{
    if (!c)
        return;
    m->ops->deliver(m, c);
    ch->fanout += c->len;
}

/* ev to the members of r but except, or with before set only to those who
 * joined r before that seat. */
static void fanout(chat *ch, room *r, const chat_event *ev, const member *except,
                   const seat *before)
{
    encodings e = {{{0}}};
    size_t most = 0;
    for (size_t i = 0; i < room_count(r); i++) {
        seat *k = room_at(r, i);
        member *m = k->m;
        if (m == except || (before && k->seq >= before->seq))
            continue;
        chunk *c = encoding(&e, ev, m, tagged(m, r));
        deliver(ch, m, c);
        if (c->len > most)
            most = c->len;
    }
    room_pass_add(r, ch->pass, most);
    encodings_free(&e);
}

/* ev (about no one room) once to each member sharing a room with m (the
 * rooms for which `counts` says so), and to m itself if also_m. */
static void fanout_shared(chat *ch, member *m, const chat_event *ev, int also_m,
                          int (*counts)(const chat *, const seat *))
{
    encodings e = {{{0}}};
    unsigned long gen = ++ch->mark;
    m->mark = gen;
    if (also_m)
        deliver(ch, m, encoding(&e, ev, m, 0));
    for (size_t i = 0; i < m->nrooms; i++) {
        seat *own = m->rooms[i];
        if (counts && !counts(ch, own))
            continue;
        room *r = own->room;
        for (size_t j = 0; j < room_count(r); j++) {
            member *o = room_at(r, j)->m;
            if (o->mark == gen)
                continue;
            o->mark = gen;
            deliver(ch, o, encoding(&e, ev, o, 0));
        }
        room_pass_add(r, ch->pass, e.c[0][0] ? e.c[0][0]->len : 0);
    }
    encodings_free(&e);
}

void chat_tell(chat *ch, member *m, const chat_event *ev)
{
    chunk *c = m->dialect->encode(ev, 0);
    deliver(ch, m, c);
    if (c)
        chunk_unref(c);
}

/* A reply about room r: tagged when m is not in r alone. */
static void tell_about(chat *ch, member *m, const room *r, const chat_event *ev)
{
    chunk *c = m->dialect->encode(ev, tagged(m, r));
    deliver(ch, m, c);
    chunk_unref(c);
}

static void tell_error(chat *ch, member *m, enum error code)
{
    chat_event ev = {.kind = EV_ERROR, .code = code};
    chat_tell(ch, m, &ev);
}

/* An error quoting what the member typed, cleaned and cut. */
static void tell_error_quoting(chat *ch, member *m, enum error code, const char *what, size_t len,
                               const char *why)
{
    size_t cl = text_clean(what, len > QUOTE_MAX ? QUOTE_MAX : len, ch->clean);
    chat_event ev = {.kind = EV_ERROR, .code = code, .text = ch->clean, .len = cl, .arg = why};
    chat_tell(ch, m, &ev);
}

static void tell_notice(chat *ch, member *m, enum notice code, const char *nick)
{
    chat_event ev = {.kind = EV_NOTICE, .code = code, .from = nick};
    chat_tell(ch, m, &ev);
}

/* Whether r tells joins and leaves with n members (a crowd does not: N
 * arrivals would cost N notices to each of N members). */
static int announces(const chat *ch, size_t n)
{
    return ch->opt.announce_max == 0 || n <= ch->opt.announce_max;
}

/* ---- arriving and leaving ---- */

void chat_enter(chat *ch, member *m, const char *want, int welcome)
{
    char nick[NICK_MAX + 1];
    size_t wl = want ? strlen(want) : 0;
    int taken = 0;

    if (wl && !text_nick_invalid(want, wl) && !nicks_find(ch->nicks, want, wl)) {
        memcpy(nick, want, wl + 1);
    } else {
        taken = wl > 0;
        nicks_guest(ch->nicks, nick);
    }
    nicks_add(ch->nicks, m, nick);
    room_join(ch->lobby, m);
    if (welcome) {
        chat_event ev = {.kind = EV_WELCOME, .from = m->nick, .n = room_count(ch->lobby)};
        chat_tell(ch, m, &ev);
    }
    if (taken)
        tell_error_quoting(ch, m, E_NICK_IN_USE, want, wl, NULL);
}

/* Tells r's members (those before k joined, or all) that k's member joined. */
static void tell_join(chat *ch, seat *k, int older_only)
{
    if (!announces(ch, room_count(k->room)))
        return;
    chat_event ev = {
        .kind = EV_JOIN, .room = room_name(k->room), .from = k->m->nick, .time_ms = wall_ms()};
    fanout(ch, k->room, &ev, k->m, older_only ? k : NULL);
    k->heard = 1;
}

void chat_announce(chat *ch, member *m)
{
    seat *k = room_seat(m, ch->lobby);
    if (k && !k->heard)
        tell_join(ch, k, 1); /* later arrivals counted m in their welcome */
}

/* Whether k's room hears its member leave: it heard it join, and is no
 * crowd without it. */
static int hears_leave(const chat *ch, const seat *k)
{
    return !ch->quiet && k->heard && announces(ch, room_count(k->room) - 1);
}

void chat_leave(chat *ch, member *m, const char *why, size_t len)
{
    free(m->who);
    m->who = NULL;
    chat_event ev = {
        .kind = EV_QUIT, .from = m->nick, .text = why, .len = len, .time_ms = wall_ms()};
    int told = 0;
    for (size_t i = 0; i < m->nrooms && !told; i++)
        told = hears_leave(ch, m->rooms[i]);
    if (told)
        fanout_shared(ch, m, &ev, 0, hears_leave); /* (not to m itself) */
    while (m->nrooms > 0)
        room_part(ch->rooms, m->rooms[m->nrooms - 1]);
    nicks_remove(ch->nicks, m);
}

/* ---- commands ---- */

/* A room name as typed: the '#' may be left out. Into name (ROOM_NAME_SIZE
 * bytes); returns its length, or 0 after telling m why it is not a name. */
static size_t room_arg(chat *ch, member *m, const char *arg, size_t len, char *name)
{
    size_t n = 0;
    const char *why;
    if (len > 0 && arg[0] != W_ROOM_PREFIX)
        name[n++] = W_ROOM_PREFIX;
    if (len + n >= ROOM_NAME_SIZE) {
        why = "longer than 32 bytes after the #";
    } else {
        memcpy(name + n, arg, len);
        n += len;
        name[n] = '\0';
        why = room_name_invalid(name, n);
    }
    if (why) {
        tell_error_quoting(ch, m, E_ROOM_INVALID, arg, len, why);
        return 0;
    }
    return n;
}

/* The existing room named by arg, or NULL after telling m why not. */
static room *room_named(chat *ch, member *m, const char *arg, size_t len)
{
    char name[ROOM_NAME_SIZE];
    size_t n = room_arg(ch, m, arg, len, name);
    if (!n)
        return NULL;
    room *r = room_find(ch->rooms, name, n);
    if (!r) {
        chat_event ev = {.kind = EV_ERROR, .code = E_NO_SUCH_ROOM, .room = name};
        chat_tell(ch, m, &ev);
    }
    return r;
}

/* m's seat in the room named by arg (or its current room when len is 0),
 * or NULL after telling m why not. */
static seat *my_room(chat *ch, member *m, const char *arg, size_t len)
{
    if (len == 0) {
        if (!m->cur)
            tell_error(ch, m, E_NO_ROOM);
        return m->cur;
    }
    char name[ROOM_NAME_SIZE];
    size_t n = room_arg(ch, m, arg, len, name);
    if (!n)
        return NULL;
    room *r = room_find(ch->rooms, name, n);
    seat *k = r ? room_seat(m, r) : NULL;
    if (!k) {
        chat_event ev = {.kind = EV_ERROR, .code = E_NOT_IN_ROOM, .room = r ? room_name(r) : name};
        chat_tell(ch, m, &ev);
    }
    return k;
}

/* A line of text (or an action) from m to the room of seat k. */
static void say(chat *ch, member *m, seat *k, enum ev_kind kind, const char *text, size_t len)
{
    size_t cl = text_clean(text, len, ch->clean);
    chat_event ev = {.kind = kind,
                     .room = room_name(k->room),
                     .from = m->nick,
                     .text = ch->clean,
                     .len = cl,
                     .time_ms = wall_ms()};
    fanout(ch, k->room, &ev, m, NULL);
}

static void cmd_msg(chat *ch, member *m, const chat_cmd *c)
{
    if (c->tlen > 0 && c->target[0] == W_ROOM_PREFIX) {
        seat *k = my_room(ch, m, c->target, c->tlen);
        if (k)
            say(ch, m, k, EV_MESSAGE, c->text, c->len);
        return;
    }
    member *to = nicks_find(ch->nicks, c->target, c->tlen);
    if (!to) {
        tell_error_quoting(ch, m, E_NO_SUCH_NICK, c->target, c->tlen, NULL);
        return;
    }
    size_t cl = text_clean(c->text, c->len, ch->clean);
    chat_event ev = {.kind = EV_PRIVATE,
                     .from = m->nick,
                     .to = to->nick,
                     .text = ch->clean,
                     .len = cl,
                     .time_ms = wall_ms()};
    chat_tell(ch, to, &ev);
    ev.n = 1; /* the sender's copy */
    chat_tell(ch, m, &ev);
}

static void cmd_nick(chat *ch, member *m, const char *arg, size_t len)
{
    char nick[NICK_MAX + 1], old[NICK_MAX + 1];
    const char *why;

    if (len == 0) {
        tell_notice(ch, m, N_YOU_ARE, m->nick);
        return;
    }
    if ((why = text_nick_invalid(arg, len)) != NULL) {
        tell_error_quoting(ch, m, E_NICK_INVALID, arg, len, why);
        return;
    }
    memcpy(nick, arg, len);
    nick[len] = '\0';
    member *other = nicks_find(ch->nicks, nick, len);
    if (other && other != m) {
        tell_error_quoting(ch, m, E_NICK_IN_USE, nick, len, NULL);
        return;
    }
    if (strcmp(nick, m->nick) == 0) {
        tell_notice(ch, m, N_YOU_ARE_ALREADY, nick);
        return;
    }
    memcpy(old, m->nick, sizeof old);
    if (ch->hooks.log && m->ops->addr)
        ch->hooks.log(ch->hooks.ctx, "nick %s %s %s", m->ops->addr(m), old, nick);
    nicks_rename(ch->nicks, m, nick);
    chat_event ev = {.kind = EV_NICK, .from = old, .to = m->nick, .time_ms = wall_ms()};
    fanout_shared(ch, m, &ev, 1, NULL);
}

static void cmd_join(chat *ch, member *m, const char *arg, size_t len)
{
    char name[ROOM_NAME_SIZE];
    size_t n = room_arg(ch, m, arg, len, name);
    if (!n)
        return;
    room *r = room_find(ch->rooms, name, n);
    seat *k = r ? room_seat(m, r) : NULL;
    if (k) { /* already there: it becomes current */
        m->cur = k;
        chat_event ev = {.kind = EV_CURRENT, .room = room_name(r)};
        chat_tell(ch, m, &ev);
        return;
    }
    if (m->nrooms >= ch->opt.max_joined) {
        chat_event ev = {.kind = EV_ERROR, .code = E_TOO_MANY_JOINED, .n = ch->opt.max_joined};
        chat_tell(ch, m, &ev);
        return;
    }
    if (!r && rooms_count(ch->rooms) >= ch->opt.max_rooms) {
        chat_event ev = {.kind = EV_ERROR, .code = E_TOO_MANY_ROOMS, .n = ch->opt.max_rooms};
        chat_tell(ch, m, &ev);
        return;
    }
    if (!r)
        r = room_make(ch->rooms, name, n);
    k = room_join(r, m);
    tell_join(ch, k, 0);
    chat_event ev = {.kind = EV_ENTERED, .room = room_name(r), .n = room_count(r)};
    chat_tell(ch, m, &ev);
    const char *by;
    const char *topic = room_topic(r, &by, NULL);
    if (topic) {
        chat_event t = {.kind = EV_TOPIC_IS,
                        .room = room_name(r),
                        .from = by,
                        .text = topic,
                        .len = strlen(topic)};
        chat_tell(ch, m, &t);
    }
}

static void cmd_part(chat *ch, member *m, const chat_cmd *c)
{
    seat *k = my_room(ch, m, c->target, c->tlen);
    if (!k)
        return;
    room *r = k->room;
    char name[ROOM_NAME_SIZE];
    snprintf(name, sizeof name, "%s", room_name(r)); /* r may go with m */
    if (hears_leave(ch, k)) {
        size_t cl = text_clean(c->text, c->len > REASON_MAX ? REASON_MAX : c->len, ch->clean);
        chat_event ev = {.kind = EV_PART,
                         .room = name,
                         .from = m->nick,
                         .text = ch->clean,
                         .len = cl,
                         .time_ms = wall_ms()};
        fanout(ch, r, &ev, m, NULL);
    }
    room_part(ch->rooms, k);
    chat_event ev = {.kind = EV_LEFT, .room = name};
    chat_tell(ch, m, &ev);
}

static void cmd_switch(chat *ch, member *m, const char *arg, size_t len)
{
    seat *k = my_room(ch, m, arg, len);
    if (!k)
        return;
    m->cur = k;
    chat_event ev = {.kind = EV_CURRENT, .room = room_name(k->room)};
    chat_tell(ch, m, &ev);
}

static void cmd_rooms(chat *ch, member *m)
{
    room *batch[64];
    char after[ROOM_NAME_SIZE] = "";
    size_t total = rooms_count(ch->rooms), listed = 0;
    chat_event head = {.kind = EV_ROOMS, .n = total};
    chat_tell(ch, m, &head);
    while (listed < ROOMS_LIST_MAX) {
        size_t want = ROOMS_LIST_MAX - listed;
        size_t k = rooms_page(ch->rooms, after, batch, want < 64 ? want : 64);
        for (size_t i = 0; i < k; i++) {
            const char *topic = room_topic(batch[i], NULL, NULL);
            chat_event ev = {.kind = EV_ROOM,
                             .room = room_name(batch[i]),
                             .n = room_count(batch[i]),
                             .text = topic,
                             .len = topic ? strlen(topic) : 0};
            chat_tell(ch, m, &ev);
        }
        listed += k;
        if (k == 0)
            break;
        snprintf(after, sizeof after, "%s", room_name(batch[k - 1]));
    }
    if (total > listed) {
        chat_event more = {.kind = EV_NOTICE, .code = N_ROOMS_MORE, .n = total - listed};
        chat_tell(ch, m, &more);
    }
}

static void show_topic(chat *ch, member *m, room *r)
{
    const char *by;
    const char *topic = room_topic(r, &by, NULL);
    chat_event ev = {.kind = EV_TOPIC_IS,
                     .room = room_name(r),
                     .from = by,
                     .text = topic,
                     .len = topic ? strlen(topic) : 0};
    chat_tell(ch, m, &ev);
}

/* /topic [#ROOM] [TEXT|-]: any room's topic may be read; one's own rooms'
 * set. */
static void cmd_topic(chat *ch, member *m, const chat_cmd *c)
{
    if (c->tlen > 0 && c->len == 0) {
        room *r = room_named(ch, m, c->target, c->tlen);
        if (r)
            show_topic(ch, m, r);
        return;
    }
    seat *k = my_room(ch, m, c->target, c->tlen);
    if (!k)
        return;
    if (c->len == 0) {
        show_topic(ch, m, k->room);
        return;
    }
    if (c->len > TOPIC_MAX) {
        chat_event ev = {.kind = EV_ERROR, .code = E_TOPIC_TOO_LONG, .n = TOPIC_MAX};
        chat_tell(ch, m, &ev);
        return;
    }
    int clear = c->len == 1 && c->text[0] == '-';
    size_t cl = 0;
    if (!clear)
        cl = text_clean(c->text, c->len, ch->clean);
    uint64_t now = wall_ms();
    room_set_topic(k->room, clear ? NULL : ch->clean, cl, m->nick, now);
    chat_event ev = {.kind = EV_TOPIC,
                     .room = room_name(k->room),
                     .from = m->nick,
                     .text = ch->clean,
                     .len = cl,
                     .time_ms = now};
    fanout(ch, k->room, &ev, NULL, NULL);
}

static void cmd_who(chat *ch, member *m, const chat_cmd *c)
{
    room *r;
    if (c->tlen > 0) {
        r = room_named(ch, m, c->target, c->tlen);
    } else {
        seat *k = my_room(ch, m, NULL, 0);
        r = k ? k->room : NULL;
    }
    if (!r)
        return;
    if (!m->who)
        m->who = xmalloc(sizeof *m->who);
    snprintf(m->who->room, sizeof m->who->room, "%s", room_name(r));
    m->who->after[0] = '\0';
    m->who->total = room_count(r);
    if (m->ops->who) {
        m->ops->who(m);
        return;
    }
    while (!chat_who_more(ch, m)) {
    }
}

int chat_who_more(chat *ch, member *m)
{
    struct who_cursor *w = m->who;
    member *batch[256]; /* a page of short nicks in one or two passes over the room */
    const char *names[WHO_LINE / 2];
    size_t nn = 0, len = 0, bytes = 0;
    if (!w)
        return 1;
    room *r = room_find(ch->rooms, w->room, strlen(w->room));
    chat_event ev = {.kind = EV_NAMES, .room = w->room, .n = w->total, .names = names};
    int done = r == NULL; /* gone since: nothing more to list */

    while (!done) {
        size_t k = room_page(r, w->after, batch, ARRAY_LEN(batch));
        for (size_t i = 0; i < k && bytes < WHO_PAGE; i++) {
            names[nn++] = batch[i]->nick;
            len += strlen(batch[i]->nick) + 2;
            snprintf(w->after, sizeof w->after, "%s", batch[i]->nick);
            if (len >= WHO_LINE || nn == ARRAY_LEN(names)) {
                ev.count = nn;
                tell_about(ch, m, r, &ev);
                bytes += len;
                nn = len = 0;
            }
        }
        if (bytes >= WHO_PAGE)
            break;
        if (k < ARRAY_LEN(batch))
            done = 1;
    }
    if (nn > 0) {
        ev.count = nn;
        tell_about(ch, m, r, &ev);
    }
    if (done) {
        free(m->who);
        m->who = NULL;
    }
    return done;
}

void chat_who_stop(chat *ch, member *m)
{
    if (!m->who)
        return;
    tell_notice(ch, m, N_WHO_MORE, m->who->after);
    free(m->who);
    m->who = NULL;
}

static void cmd_help(chat *ch, member *m)
{
    for (size_t n = 0;; n++) {
        chat_event ev = {.kind = EV_HELP, .n = n};
        chunk *c = m->dialect->encode(&ev, 0);
        if (!c)
            return;
        deliver(ch, m, c);
        chunk_unref(c);
    }
}

void chat_do(chat *ch, member *m, const chat_cmd *c)
{
    switch (c->kind) {
    case CMD_SAY:
    case CMD_ACTION:
        if (!m->cur)
            tell_error(ch, m, E_NO_ROOM);
        else
            say(ch, m, m->cur, c->kind == CMD_SAY ? EV_MESSAGE : EV_ACTION, c->text, c->len);
        break;
    case CMD_MSG: cmd_msg(ch, m, c); break;
    case CMD_NICK: cmd_nick(ch, m, c->text, c->len); break;
    case CMD_JOIN: cmd_join(ch, m, c->target, c->tlen); break;
    case CMD_PART: cmd_part(ch, m, c); break;
    case CMD_SWITCH: cmd_switch(ch, m, c->target, c->tlen); break;
    case CMD_ROOMS: cmd_rooms(ch, m); break;
    case CMD_TOPIC: cmd_topic(ch, m, c); break;
    case CMD_WHO: cmd_who(ch, m, c); break;
    case CMD_QUIT: m->ops->quit(m, c->text, c->len); break;
    case CMD_HELP: cmd_help(ch, m); break;
    case CMD_HELLO: tell_notice(ch, m, N_HI, NULL); break;
    case CMD_STATS:
        if (ch->hooks.stats)
            ch->hooks.stats(ch->hooks.ctx, m);
        else
            tell_error(ch, m, E_STATS_CONSOLE);
        break;
    case CMD_PASS: tell_error(ch, m, ch->opt.has_password ? E_ALREADY_IN : E_NO_PASSWORD); break;
    case CMD_USAGE: {
        chat_event ev = {
            .kind = EV_ERROR, .code = E_USAGE, .text = c->name, .len = c->nlen, .arg = c->name};
        chat_tell(ch, m, &ev);
        break;
    }
    case CMD_UNKNOWN: tell_error_quoting(ch, m, E_UNKNOWN, c->name, c->nlen, NULL); break;
    }
}

void chat_input(chat *ch, member *m, const char *line, size_t len)
{
    chat_cmd c;
    if (len > ch->opt.max_line) {
        /* Connections and datagrams are held to it before; the console's
         * editor takes longer lines, and the cleaning buffer is sized by it. */
        chat_event ev = {.kind = EV_ERROR, .code = E_LINE_TOO_LONG, .n = ch->opt.max_line};
        chat_tell(ch, m, &ev);
        return;
    }
    if (m->dialect->parse(line, len, &c) == 0)
        chat_do(ch, m, &c);
}

void chat_notice_all(chat *ch, enum notice code)
{
    encodings e = {{{0}}};
    chat_event ev = {.kind = EV_NOTICE, .code = code};
    for (size_t i = 0; i < nicks_count(ch->nicks); i++) {
        member *m = nicks_at(ch->nicks, i);
        deliver(ch, m, encoding(&e, &ev, m, 0));
    }
    encodings_free(&e);
}

void chat_quiet(chat *ch)
{
    ch->quiet = 1;
}

void chat_new_pass(chat *ch)
{
    ch->pass++;
    ch->fanout = 0;
}

size_t chat_room_load(const chat *ch, const member *m, size_t *members, size_t *over)
{
    if (!m->cur) {
        *members = *over = 0;
        return 0;
    }
    *members = room_count(m->cur->room);
    *over = room_nover(m->cur->room);
    return room_pass_bytes(m->cur->room, ch->pass);
}

void chat_set_over(chat *ch, member *m, int over)
{
    (void)ch;
    room_member_over(m, over);
}

size_t chat_fanout(const chat *ch)
{
    return ch->fanout;
}

size_t chat_members(const chat *ch)
{
    return nicks_count(ch->nicks);
}

member *chat_member(const chat *ch, size_t i)
{
    return nicks_at(ch->nicks, i);
}

size_t chat_rooms(const chat *ch)
{
    return rooms_count(ch->rooms);
}

room *chat_room(const chat *ch, const char *name)
{
    return room_find(ch->rooms, name, strlen(name));
}
