/* chat.h - the chat logic: rooms, nicks and the rules between them.
 *
 * It takes commands from members (parsed by each member's dialect) and
 * emits events, each encoded once per dialect and handed to every
 * recipient's deliver op. It does no I/O and knows nothing of sockets, so
 * it is unit-tested with members whose deliver op only records
 * (tests/unit/test_chat.c). */
#ifndef HICHAT_CHAT_H
#define HICHAT_CHAT_H

#include <stddef.h>
#include <stdint.h>

#include "dialect.h"
#include "event.h"
#include "nicks.h"
#include "room.h"

#define DEFAULT_ROOM       "#lobby"
#define DEFAULT_MAX_ROOMS  1000
#define DEFAULT_MAX_JOINED 32
/* /rooms lists at most this many rooms. */
#define ROOMS_LIST_MAX 200

typedef struct chat_opts {
    const char *default_room; /* a valid room name */
    size_t max_rooms;         /* rooms on the server */
    size_t max_joined;        /* rooms one member may be in */
    size_t announce_max;      /* joins and leaves are told in rooms of at
                                 most this many members; 0: always */
    size_t max_line;          /* the longest line a member may send */
    int has_password;         /* (for /pass's answer) */
} chat_opts;

/* What the chat asks of its server. */
typedef struct chat_hooks {
    void *ctx;
    /* /stats from m. */
    void (*stats)(void *ctx, member *m);
    /* A line for the log. */
    void (*log)(void *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
} chat_hooks;

typedef struct chat chat;

chat *chat_new(const chat_opts *o, const chat_hooks *h);
/* Frees the rooms and nicks; the members belong to their owners. */
void chat_free(chat *ch);

/* m (ops and dialect set) arrives: it gets want as its nick if that is
 * valid and free, else a guest nick (and an error saying want is taken),
 * joins the default room and, if welcome, is welcomed. The room is told
 * later (chat_announce), so a visit that ends at once never makes it
 * speak. */
void chat_enter(chat *ch, member *m, const char *want, int welcome);
/* Tells the default room (the members there before m) that m joined. */
void chat_announce(chat *ch, member *m);
/* m leaves the server: the rooms that were told it joined are told why it
 * left (why[0..len), already cleaned), once per member. */
void chat_leave(chat *ch, member *m, const char *why, size_t len);

/* One line from m in its dialect. */
void chat_input(chat *ch, member *m, const char *line, size_t len);
/* One command from m. */
void chat_do(chat *ch, member *m, const chat_cmd *cmd);

/* The next page of m's /who listing (m->who). Returns 1 when the listing is
 * done (m->who is then NULL). */
int chat_who_more(chat *ch, member *m);
/* Ends m's /who listing, telling it where it stopped. */
void chat_who_stop(chat *ch, member *m);

/* Sends ev to m alone, in m's dialect. */
void chat_tell(chat *ch, member *m, const chat_event *ev);
/* Sends a notice to every member (the server shutting down). */
void chat_notice_all(chat *ch, enum notice code);
/* From now on, leaves are not told (the server is stopping). */
void chat_quiet(chat *ch);

/* Loop passes: what one pass has queued, for the server's input budget. */
void chat_new_pass(chat *ch);
/* Bytes queued to each member of m's current room in this pass, how many
 * members it has and how many of them are over their queue's bound (all 0
 * when m is in no room). */
size_t chat_room_load(const chat *ch, const member *m, size_t *members, size_t *over);
/* m's queue went over its bound (over), or came back under. */
void chat_set_over(chat *ch, member *m, int over);
/* Bytes queued across every recipient in this pass. */
size_t chat_fanout(const chat *ch);

size_t chat_members(const chat *ch);
member *chat_member(const chat *ch, size_t i);
size_t chat_rooms(const chat *ch);
/* The room named name (NUL-terminated), or NULL. */
room *chat_room(const chat *ch, const char *name);

#endif
