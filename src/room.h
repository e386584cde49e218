/* room.h - the members of a room and their unique nicks.
 *
 * A member is embedded by its owner (a connection, the server console); the
 * room keeps pointers, never frees a member, and finds one by its nick's
 * comparison key (text_nick_key: nicks that look alike share one) in O(1).
 * Broadcasting hands one shared chunk to each member's deliver function:
 * nothing is copied per recipient. */
#ifndef HICHAT_ROOM_H
#define HICHAT_ROOM_H

#include <stddef.h>

#include "outq.h"
#include "text.h"

typedef struct member member;
struct member {
    char nick[NICK_MAX + 1];
    char key[NICK_KEY_MAX + 1]; /* text_nick_key(nick), set by the room */
    size_t keylen;
    size_t slot;            /* index in the room's member array */
    unsigned long long seq; /* order of joining: earlier members have smaller */
    member *hnext;          /* hash chain */
    /* Queues c (taking its own reference) for this member. */
    void (*deliver)(member *m, chunk *c);
    int kind; /* the owner's; the room does not look at it */
};

typedef struct room room;

room *room_new(void);
/* Frees the room's own memory; the members belong to their owners. */
void room_free(room *r);

/* Adds m under nick, which must be valid (text_nick_invalid) and free. */
void room_join(room *r, member *m, const char *nick);
/* Removes m. */
void room_leave(room *r, member *m);
/* The member whose nick has the comparison key of nick[0..len) (so equal
 * ignoring case, width and look-alike letters), or NULL; also NULL when
 * nick[0..len) has no key (not UTF-8, too long). Any bytes may be given. */
member *room_find(const room *r, const char *nick, size_t len);
/* Renames m; nick must be valid and its key not used by another member (m
 * may take a look-alike of its own nick, such as another case). */
void room_rename(room *r, member *m, const char *nick);
/* A free default nick "guestN" into out (NICK_MAX + 1 bytes): free by key,
 * so no member's nick looks like it either. */
void room_guest_nick(room *r, char *out);

/* Pages through the members in /who order - by nick under ascii_casecmp,
 * then strcmp - for listing a crowd a page at a time. Writes to out up to
 * max members whose nicks sort strictly after `after` (NULL or "" for from
 * the first), in that order, and returns how many; fewer than max means the
 * list is done. `after` is only a position in the order, so a page after a
 * nick that has since left or been renamed still starts at the right place.
 * The pointers are the members' owners'; use them before anyone leaves.
 * O(log n + max). */
size_t room_page(const room *r, const char *after, member **out, size_t max);

size_t room_count(const room *r);
member *room_member(const room *r, size_t i);

/* Delivers c to every member but except (which may be NULL). */
void room_broadcast(room *r, chunk *c, const member *except);
/* Delivers c to the members that joined before m. */
void room_broadcast_older(room *r, chunk *c, const member *m);

#endif
