/* session.c - see session.h. */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---- names and the rooms notices ---- */

static int room_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

/* The length of a room name "#name" at the start of s[0..n) (up to the first
 * byte that cannot be in one), or 0 if there is none. */
static size_t name_len(const char *s, size_t n)
{
    size_t i = 1;
    if (n < 2 || s[0] != W_ROOM_PREFIX)
        return 0;
    while (i < n && i <= W_ROOM_MAX && room_char((unsigned char)s[i]))
        i++;
    if (i == 1 || (i < n && room_char((unsigned char)s[i])))
        return 0; /* empty, or too long */
    return i;
}

/* Whether s[0..n) is exactly a room name. */
static int is_name(const char *s, size_t n)
{
    return n > 0 && name_len(s, n) == n;
}

size_t session_tag(const char *line, size_t len)
{
    size_t l = name_len(line, len);
    return l && l < len && line[l] == ' ' ? l + 1 : 0;
}

enum { R_NONE, R_JOINED, R_LEFT, R_TALKING, R_TOPIC };

/* A notice about our rooms in s[0..n) (a line less its tag): which, with
 * the room's name in *name[0..*nl) and, for "you joined", the count. */
static int rooms_notice(const char *s, size_t n, const char **name, size_t *nl, size_t *count)
{
    static const size_t pl = sizeof W_NOTICE - 1;
    if (!line_starts(s, n, W_NOTICE))
        return R_NONE;
    s += pl, n -= pl;
    if (line_starts(s, n, W_YOU_JOINED)) {
        size_t k = sizeof W_YOU_JOINED - 1, l = name_len(s + k, n - k), v = 0, d = 0;
        const char *p = s + k + l;
        size_t rest = n - k - l;
        if (!l || !line_starts(p, rest, " ("))
            return R_NONE;
        for (p += 2, rest -= 2; d < rest && d < 9 && p[d] >= '0' && p[d] <= '9'; d++)
            v = v * 10 + (size_t)(p[d] - '0');
        if (d == 0 || !line_starts(p + d, rest - d, W_HERE))
            return R_NONE;
        *name = s + k, *nl = l, *count = v;
        return R_JOINED;
    }
    if (line_starts(s, n, W_YOU_LEFT) &&
        is_name(s + sizeof W_YOU_LEFT - 1, n - (sizeof W_YOU_LEFT - 1))) {
        *name = s + sizeof W_YOU_LEFT - 1, *nl = n - (sizeof W_YOU_LEFT - 1);
        return R_LEFT;
    }
    if (line_starts(s, n, W_TALKING_IN) &&
        is_name(s + sizeof W_TALKING_IN - 1, n - (sizeof W_TALKING_IN - 1))) {
        *name = s + sizeof W_TALKING_IN - 1, *nl = n - (sizeof W_TALKING_IN - 1);
        return R_TALKING;
    }
    if (line_starts(s, n, W_TOPIC_OF)) {
        size_t k = sizeof W_TOPIC_OF - 1, l = name_len(s + k, n - k);
        if (l && k + l < n && s[k + l] == ':') {
            *name = s + k, *nl = l;
            return R_TOPIC;
        }
        return R_NONE;
    }
    if (line_ends(s, n, W_NO_TOPIC) && is_name(s, n - (sizeof W_NO_TOPIC - 1))) {
        *name = s, *nl = n - (sizeof W_NO_TOPIC - 1);
        return R_TOPIC;
    }
    return R_NONE;
}

/* ---- the rooms ---- */

static session_room *room_make(session *s)
{
    session_room *r = xcalloc(1, sizeof *r);
    roster_init(&r->members);
    r->ui = s->h.room_new ? s->h.room_new(s->h.ctx) : NULL;
    r->joined = ++s->seq;
    return r;
}

static void set_name(session_room *r, const char *name, size_t len)
{
    memcpy(r->name, name, len); /* a room name: at most W_ROOM_MAX + 1 bytes */
    r->name[len] = '\0';
}

/* A room we are in now: its members are us alone until told more. */
static void room_start(session *s, session_room *r, size_t count)
{
    roster_clear(&r->members);
    if (s->me[0])
        roster_add(&r->members, s->me, strlen(s->me));
    r->count = count;
    r->gone = 0;
    r->unread = r->mentions = 0;
    r->who_hidden = 0;
    r->joined = ++s->seq;
}

static void room_drop(session *s, size_t i)
{
    session_room *r = s->rooms[i];
    if (s->h.room_free)
        s->h.room_free(s->h.ctx, r->ui);
    roster_clear(&r->members);
    free(r);
    memmove(s->rooms + i, s->rooms + i + 1, (s->n - i - 1) * sizeof *s->rooms);
    s->n--;
    if (s->view > i)
        s->view--;
    if (s->current > i)
        s->current--;
}

long session_find(const session *s, const char *name, size_t len)
{
    for (size_t i = 0; i < s->n; i++)
        if (!s->rooms[i]->gone && s->rooms[i]->name[0] &&
            nick_eq(s->rooms[i]->name, strlen(s->rooms[i]->name), name, len))
            return (long)i;
    return -1;
}

/* The unnamed first room, or -1. */
static long unnamed(const session *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (!s->rooms[i]->gone && !s->rooms[i]->name[0])
            return (long)i;
    return -1;
}

/* The room name[0..len) is, naming the unnamed room after it if there is
 * no room by that name; -1 if neither. Only for lines that can be about no
 * room but one of ours. */
static long find_or_name(session *s, const char *name, size_t len)
{
    long i = session_find(s, name, len), u;
    if (i < 0 && (u = unnamed(s)) >= 0) {
        set_name(s->rooms[u], name, len);
        i = u;
    }
    return i;
}

static void show(session *s, size_t i)
{
    s->view = i;
    s->rooms[i]->unread = s->rooms[i]->mentions = 0;
}

void session_init(session *s, const session_hooks *h)
{
    memset(s, 0, sizeof *s);
    s->h = *h;
    s->rooms[0] = room_make(s);
    s->n = 1;
}

void session_free(session *s)
{
    while (s->n > 0)
        room_drop(s, s->n - 1);
}

void session_reset(session *s)
{
    size_t keep = s->view;
    while (s->n > keep + 1)
        room_drop(s, s->n - 1);
    while (s->n > 1)
        room_drop(s, 0);
    s->view = s->current = 0;
    s->topic_hidden = 0;
    s->rooms[0]->name[0] = '\0';
    room_start(s, s->rooms[0], 0);
}

/* A new connection's greeting: we are in its default room, which has not
 * said its name. */
static void welcome(session *s, const line_info *li)
{
    memcpy(s->me, li->a, li->alen); /* a valid nick */
    s->me[li->alen] = '\0';
    session_reset(s);
    session_room *r = s->rooms[0];
    r->count = li->count;
    if (s->h.send && s->h.send(s->h.ctx, "/who", 4) == 0) {
        r->who_hidden = 1;
        r->who_named = 0;
    }
}

static void joined(session *s, const char *name, size_t nl, size_t count)
{
    long i = session_find(s, name, nl);
    if (i < 0 && s->n == 1 && s->rooms[0]->gone)
        i = 0; /* in no room till now: that one's lines go on here */
    if (i < 0) {
        if (s->n == SESSION_ROOMS_MAX)
            return; /* not kept apart: its lines show tagged in the view */
        s->rooms[s->n] = room_make(s);
        i = (long)s->n++;
    }
    session_room *r = s->rooms[i];
    set_name(r, name, nl);
    room_start(s, r, count);
    s->current = (size_t)i;
    show(s, (size_t)i);
    if (count > 1 && s->h.send) { /* who else is there, for completion */
        char q[sizeof "/who " + W_ROOM_MAX + 1];
        int ql = snprintf(q, sizeof q, "/who %s", r->name);
        if (s->h.send(s->h.ctx, q, (size_t)ql) == 0) {
            r->who_hidden = 1;
            r->who_named = 0;
        }
    }
}

static void left(session *s, size_t i)
{
    session_room *r = s->rooms[i];
    if (s->n == 1) { /* in no room now: kept, to show lines in */
        roster_clear(&r->members);
        r->gone = 1;
        r->count = 0;
        r->who_hidden = 0;
        return;
    }
    room_drop(s, i);
    if (s->current == i || s->current >= s->n) {
        /* as the server has it: the one joined last of those left */
        size_t best = 0;
        for (size_t k = 1; k < s->n; k++)
            if (s->rooms[k]->joined > s->rooms[best]->joined)
                best = k;
        s->current = best;
    }
    show(s, s->current);
}

/* Joins, leaves and talk as they tell who is in room r. (A private line's
 * sender may share no room with us: not counted anywhere.) */
static void track(session_room *r, const line_info *li)
{
    switch (li->kind) {
    case LINE_JOIN:
        if (roster_add(&r->members, li->a, li->alen))
            r->count++;
        break;
    case LINE_LEAVE:
        if (roster_remove(&r->members, li->a, li->alen) && r->count > 0)
            r->count--;
        break;
    case LINE_MSG:
    case LINE_ACTION: roster_add(&r->members, li->a, li->alen); break;
    default: break;
    }
}

/* A rename or a quit is told once, untagged, to everyone sharing a room
 * with NICK: it is about each of our rooms that has NICK in it. */
static void track_everywhere(session *s, const line_info *li)
{
    for (size_t i = 0; i < s->n; i++) {
        session_room *r = s->rooms[i];
        if (li->kind == LINE_RENAME) {
            if (roster_remove(&r->members, li->a, li->alen))
                roster_add(&r->members, li->b, li->blen);
        } else if (roster_remove(&r->members, li->a, li->alen) && r->count > 0) {
            r->count--;
        }
    }
    if (li->kind == LINE_RENAME && nick_eq(s->me, strlen(s->me), li->a, li->alen)) {
        memcpy(s->me, li->b, li->blen);
        s->me[li->blen] = '\0';
    }
}

/* A /who reply for room r; returns 1 if it answers our hidden /who. */
static int who_reply(session_room *r, const line_info *li)
{
    r->count = li->count;
    if (!r->who_hidden) {
        roster_add_list(&r->members, li->a, li->alen);
        return 0;
    }
    r->who_named += roster_add_list(&r->members, li->a, li->alen);
    if (r->who_named >= li->count)
        r->who_hidden = 0;
    return 1;
}

void session_line(session *s, const char *line, size_t len, session_route *rt)
{
    const char *name = NULL;
    size_t nl = 0, count = 0, tag = session_tag(line, len);
    long at = -1;

    memset(rt, 0, sizeof *rt);
    int what = rooms_notice(line + tag, len - tag, &name, &nl, &count);
    line_parse(line + tag, len - tag, &rt->li);
    rt->off = tag;
    rt->own_notice = what != R_NONE;

    switch (what) {
    case R_JOINED: joined(s, name, nl, count); break;
    case R_LEFT:
        if ((at = find_or_name(s, name, nl)) >= 0)
            left(s, (size_t)at);
        break;
    case R_TALKING:
        if ((at = find_or_name(s, name, nl)) >= 0) {
            s->current = (size_t)at;
            show(s, (size_t)at);
        }
        break;
    case R_TOPIC:
        if (s->topic_hidden) {
            long u = unnamed(s);
            s->topic_hidden = 0;
            if (u >= 0 && (size_t)u == s->current)
                set_name(s->rooms[u], name, nl);
            rt->hide = 1;
            rt->room = s->view;
            return;
        }
        break;
    default: break;
    }
    if (what != R_NONE) { /* shown where the view now is */
        rt->room = s->view;
        return;
    }
    if (rt->li.kind == LINE_ERROR)
        s->topic_hidden = 0; /* not answered as hoped: an old server */
    if (rt->li.kind == LINE_WELCOME && !tag) {
        welcome(s, &rt->li);
        rt->room = 0;
        return;
    }

    if (tag) {
        switch (rt->li.kind) {
        case LINE_MSG:
        case LINE_ACTION:
        case LINE_JOIN:
        case LINE_LEAVE: /* can only be about a room we are in */
            at = find_or_name(s, line, tag - 1);
            break;
        default: at = session_find(s, line, tag - 1); break;
        }
        if (at < 0) { /* a room not ours (/who #other): shown as it came */
            rt->off = 0;
            line_parse(line, len, &rt->li);
            rt->room = s->view;
            return;
        }
    } else if (s->n == 1) {
        at = 0;                             /* about our only room, or about none */
    } else if (rt->li.kind == LINE_LEAVE) { /* a quit: about each room with NICK */
        track_everywhere(s, &rt->li);
        rt->room = s->view;
        return;
    } else {
        at = (long)s->view; /* private, errors, the greeting: where one looks */
    }

    session_room *r = s->rooms[at];
    rt->room = (size_t)at;
    if (r->who_hidden && rt->li.kind != LINE_WHO && r->who_named > 0)
        r->who_hidden = 0; /* the reply ended early: show what follows */
    if (rt->li.kind == LINE_WHO) {
        rt->hide = who_reply(r, &rt->li);
        return;
    }
    if (rt->li.kind == LINE_YOU_ARE) {
        memcpy(s->me, rt->li.a, rt->li.alen);
        s->me[rt->li.alen] = '\0';
    }
    if (rt->li.kind == LINE_RENAME)
        track_everywhere(s, &rt->li);
    else
        track(r, &rt->li);
    if ((size_t)at != s->view && (rt->li.kind == LINE_MSG || rt->li.kind == LINE_ACTION)) {
        r->unread++;
        if (s->me[0] &&
            mentions(line + tag + rt->li.text, len - tag - rt->li.text, s->me, strlen(s->me)))
            r->mentions++;
    }
}

/* Whether line[0..len) is the command cmd, alone or with arguments. */
static int is_cmd(const char *line, size_t len, const char *cmd)
{
    size_t n = strlen(cmd);
    if (len < n || (len > n && line[n] != ' '))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (ascii_lower((unsigned char)line[i]) != cmd[i])
            return 0;
    return 1;
}

void session_sending(session *s, const char *line, size_t len)
{
    long u = unnamed(s);
    if (!is_cmd(line, len, "/join") || s->topic_hidden || u < 0 || (size_t)u != s->current ||
        !s->h.send)
        return;
    if (s->h.send(s->h.ctx, "/topic", 6) == 0)
        s->topic_hidden = 1;
}

int session_view(session *s, size_t i)
{
    char q[sizeof "/switch " + W_ROOM_MAX + 1];
    if (i >= s->n)
        return -1;
    show(s, i);
    session_room *r = s->rooms[i];
    if (!r->name[0] || r->gone || !s->h.send)
        return -1;
    int ql = snprintf(q, sizeof q, "/switch %s", r->name);
    return s->h.send(s->h.ctx, q, (size_t)ql);
}
