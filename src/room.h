/* room.h - members, named rooms and who is in which.
 *
 * A member is embedded by its owner (a connection, a UDP peer, the server
 * console); rooms keep pointers to it and never free it. A member may be in
 * many rooms: each stay is a `seat`, owned by the room system, on the
 * room's array (dense, for fan-out) and
 * on the member's array (in the order joined, for the current room).
 *
 * Rooms are found by name ignoring ASCII case (room_key) and live while
 * they have members; the default room (room_set_keep) lives always. No
 * English here, no I/O: chat.c decides what is said about all this. */
#ifndef HICHAT_ROOM_H
#define HICHAT_ROOM_H

#include <stddef.h>
#include <stdint.h>

#include "outq.h"
#include "text.h"
#include "wording.h"

/* "#" + W_ROOM_MAX bytes + NUL */
#define ROOM_NAME_SIZE (W_ROOM_MAX + 2)
/* The longest topic, in bytes as sent (cleaning may lengthen it). */
#define TOPIC_MAX 300

typedef struct room room;
typedef struct member member;
typedef struct dialect dialect;
struct who_cursor;

/* One member in one room: 24 bytes, for a member in many rooms. */
typedef struct seat {
    room *room;
    member *m;
    uint32_t slot : 31; /* index in the room's dense array */
    uint32_t heard : 1; /* the room was told it joined, so hears it leave */
    uint32_t seq;       /* order of joining the room: earlier is smaller
                           (4 billion joins of one room before it wraps) */
} seat;

/* What a member's owner does for the chat. */
typedef struct member_ops {
    /* Queues c (taking a reference of its own) for the member. */
    void (*deliver)(member *m, chunk *c);
    /* /quit REASON: the owner says goodbye and closes, in its own time. */
    void (*quit)(member *m, const char *why, size_t len);
    /* A /who listing began (m->who is set): the owner pages it with
     * chat_who_more at its own pace. NULL: listed whole at once. */
    void (*who)(member *m);
    /* Where the member is, for the log ("127.0.0.1:5555", "console"). */
    const char *(*addr)(const member *m);
} member_ops;

struct member {
    char nick[NICK_MAX + 1];
    uint32_t keyhash; /* of text_nick_key(nick), set by nicks.c */
    uint32_t nslot;   /* index in the nick table's dense array */
    member *hnext;    /* nick hash chain (nicks.c) */
    seat **rooms;     /* the rooms it is in, in the order joined; owned */
    uint32_t nrooms, rcap;
    seat *cur; /* its current room, or NULL */
    const member_ops *ops;
    const dialect *dialect; /* how it speaks */
    struct who_cursor *who; /* a /who being listed, owned by chat.c */
    unsigned long mark;     /* fan-out generation (chat.c) */
    int over;               /* its queue is over its bound (room_member_over) */
    int kind;               /* the owner's; rooms do not look at it */
};

typedef struct rooms rooms;

rooms *rooms_new(void);
/* Frees every room and seat; the members belong to their owners (their
 * room arrays are freed too). */
void rooms_free(rooms *rs);

/* Why name[0..len) is not a room name (a static phrase), or NULL. A name
 * is '#' and 1..W_ROOM_MAX bytes of ASCII letters, digits, '-', '_', '.'. */
const char *room_name_invalid(const char *name, size_t len);

/* The room named name[0..len) ignoring ASCII case, or NULL. */
room *room_find(const rooms *rs, const char *name, size_t len);
/* Makes a room; name must be valid and not taken. */
room *room_make(rooms *rs, const char *name, size_t len);
/* Keeps r when it empties (the default room). */
void room_set_keep(room *r);
size_t rooms_count(const rooms *rs);
/* Up to max rooms in name order after `after` (NULL: from the first):
 * for /rooms. Returns how many. */
size_t rooms_page(const rooms *rs, const char *after, room **out, size_t max);

/* Puts m in r (it must not be in it) and makes it m's current room. */
seat *room_join(room *r, member *m);
/* Takes m out of r (through its seat); r is freed if it empties and is not
 * kept. m's current room becomes the one it joined last, if any. */
void room_part(rooms *rs, seat *k);
/* m's seat to r, or NULL. */
seat *room_seat(const member *m, const room *r);

const char *room_name(const room *r);
size_t room_count(const room *r);
seat *room_at(const room *r, size_t i);
/* Pages through r's members in /who order (see nick_order in room.c):
 * up to max after nick `after` (NULL or "": from the first). O(n log max):
 * the room keeps no sorted copy. */
size_t room_page(const room *r, const char *after, member **out, size_t max);

/* Marks m as over its queue's bound (over) or back under: each of its
 * rooms counts its members that are over, now and as m joins and parts. */
void room_member_over(member *m, int over);
/* How many of r's members are over their bound. */
size_t room_nover(const room *r);

/* The topic: text (NULL: none), who set it, when (ms since the epoch). */
const char *room_topic(const room *r, const char **by, uint64_t *when);
void room_set_topic(room *r, const char *text, size_t len, const char *by, uint64_t when);

/* The bytes queued for r's members in the current pass (chat.c keeps it,
 * the server's input budget reads it); reset when pass differs. */
size_t room_pass_bytes(room *r, unsigned long pass);
void room_pass_add(room *r, unsigned long pass, size_t bytes);

#endif
