/* session.h - the client's picture of the rooms it is in (docs/protocol.md,
 * "Rooms"), built from the server's text lines: which rooms, which one the
 * server sends our plain lines to (current), which one the person looks at
 * (view), who is in each, how many lines each has that were not seen. Each
 * line is routed to the room it is about, its tag taken off. Pure: no
 * terminal and no socket; what it has to say to the server goes out through
 * a hook, so a unit test drives it with strings.
 *
 * Only the server starts a line with '#' (W_ROOM_PREFIX): a member's line
 * starts with '<', '*' or '-'. So a tag is believed like a notice.
 *
 * The first room. The greeting does not name the room one is put in
 * ("*** welcome to hichat, NICK (N members here)"), and a server that knows
 * nothing of rooms never will; nothing extra is asked on connecting, so such
 * a server sees exactly the lines it always did. The first room stays
 * unnamed (shown "(lobby)") until a line names it: "now talking in #X" or
 * "you left #X" for an X we did not know; a message, action, join or leave
 * tagged with an unknown room while it is the one unnamed room; or, since a
 * switch back to it needs its name, the answer to a /topic the client sends
 * itself (hidden) just before the person's first /join while it is current. */
#ifndef HICHAT_SESSION_H
#define HICHAT_SESSION_H

#include <stddef.h>

#include "roster.h"
#include "text.h"
#include "wording.h"

/* Most rooms kept apart; lines of rooms past it are shown, tag and all, in
 * the room in view (each kept room may hold a scroll-back of its own). */
#define SESSION_ROOMS_MAX 64

typedef struct {
    char name[W_ROOM_MAX + 2]; /* "#rust" as the server spells it; "" unnamed */
    int gone;                  /* in no room at all: this one is kept to show lines */
    roster members;            /* those seen in it (complete after the hidden /who) */
    size_t count;              /* members, as the server last said, kept by joins and leaves */
    size_t unread;             /* messages and actions that came while not in view */
    size_t mentions;           /* of those, the ones naming us */
    unsigned long joined;      /* when we joined, for the current room after a part */
    int who_hidden;            /* our own /who of it is on its way: taken, not shown */
    size_t who_named;          /* names of it seen so far */
    void *ui;                  /* the caller's (room_new made it, room_free frees it) */
} session_room;

typedef struct {
    /* A line for the server, without its LF: 0 queued, -1 not. */
    int (*send)(void *ctx, const char *line, size_t len);
    /* What the caller keeps with a room (its scroll-back), made when the
     * room is and freed when it goes. Either may be NULL. */
    void *(*room_new)(void *ctx);
    void (*room_free)(void *ctx, void *ui);
    void *ctx;
} session_hooks;

typedef struct {
    session_hooks h;
    session_room *rooms[SESSION_ROOMS_MAX]; /* in the order shown (and joined); n >= 1 */
    size_t n;
    size_t current; /* where the server sends our plain lines */
    size_t view;    /* the one shown */
    unsigned long seq;
    char me[NICK_MAX + 1]; /* "" until the greeting */
    int topic_hidden;      /* our /topic naming the first room is on its way */
} session;

/* A line as routed: where to show it and from which byte. */
typedef struct {
    line_info li;   /* the line from off on (offsets into the line as given) */
    size_t off;     /* the tag and its space, taken off for showing (0: none) */
    size_t room;    /* the index of the room it is shown in */
    int hide;       /* the answer to the client's own question: not shown */
    int own_notice; /* a rooms notice (joined, left, now talking in, topic) */
} session_route;

/* Starts with one unnamed room (its ui made by room_new). h is copied. */
void session_init(session *s, const session_hooks *h);
/* Frees every room (room_free on each ui). */
void session_free(session *s);

/* A new connection: we are in one room, the server's default, unnamed
 * until it is named. The room in view keeps its scroll-back for it; the
 * others go (the server has forgotten them too). The greeting does this
 * again. */
void session_reset(session *s);

/* Takes a line from the server: updates the picture (which may add or drop
 * rooms, through the hooks, and move the view) and says where it goes. */
void session_line(session *s, const char *line, size_t len, session_route *r);

/* The person is about to send line[0..len) (before it is sent): a first
 * /join while the first room is unnamed and current sends a hidden /topic
 * ahead of it (see the top of the file). */
void session_sending(session *s, const char *line, size_t len);

/* Shows room i and asks the server to make it current ("/switch #NAME").
 * Returns 0, or -1 if there is no room i, or the server could not be asked
 * (the room is unnamed, or the line not sent): the view moves all the same
 * unless there is no room i. */
int session_view(session *s, size_t i);

/* The room named name[0..len) (ASCII case ignored), or -1. */
long session_find(const session *s, const char *name, size_t len);

/* The length of the room tag "#name " at the start of line[0..len) (the
 * space included), or 0 if the line has none. */
size_t session_tag(const char *line, size_t len);

/* The room in view and the current one. */
static inline session_room *session_viewed(const session *s)
{
    return s->rooms[s->view];
}

#endif
