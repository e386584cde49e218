/* nicks.h - the server-wide nick namespace.
 *
 * Every member has one nick, unique by its comparison key (text_nick_key:
 * nicks that look alike share one), found in O(1). The table also lists
 * every member once, whatever rooms it is in. */
#ifndef HICHAT_NICKS_H
#define HICHAT_NICKS_H

#include <stddef.h>

#include "room.h"

typedef struct nicks nicks;

nicks *nicks_new(void);
/* Frees the table; the members belong to their owners. */
void nicks_free(nicks *t);

/* Adds m under nick, which must be valid (text_nick_invalid) and free. */
void nicks_add(nicks *t, member *m, const char *nick);
void nicks_remove(nicks *t, member *m);
/* The member whose nick has the comparison key of nick[0..len), or NULL;
 * also NULL when nick[0..len) has no key. Any bytes may be given. */
member *nicks_find(const nicks *t, const char *nick, size_t len);
/* Renames m; nick must be valid and its key free or m's own. */
void nicks_rename(nicks *t, member *m, const char *nick);
/* A free default nick "guestN" into out (NICK_MAX + 1 bytes). */
void nicks_guest(nicks *t, char *out);

size_t nicks_count(const nicks *t);
member *nicks_at(const nicks *t, size_t i);

#endif
