/* dialect.h - a protocol members speak: how it parses input into commands
 * and how it spells events.
 *
 * encode() makes one chunk that every recipient of the dialect shares: the
 * chat's fan-out calls it once per event per dialect (and per form: tagged
 * with the room's name, for members who must be told which room, or not).
 * The text dialect (dialect_text.c) is the one for people and nc; IRC and
 * WebSocket will be others beside it. */
#ifndef HICHAT_DIALECT_H
#define HICHAT_DIALECT_H

#include <stddef.h>

#include "event.h"
#include "outq.h"
#include "wording.h"

/* Dialects in a server; each has an index below this. */
#define DIALECT_MAX 4

typedef struct dialect dialect;
struct dialect {
    const char *name;
    int id; /* < DIALECT_MAX */
    /* One line of input into a command (pointers into line). 0, or -1 for
     * an empty line (nothing to do). */
    int (*parse)(const char *line, size_t len, chat_cmd *out);
    /* The event as bytes for its recipients; tagged: name ev->room. */
    chunk *(*encode)(const chat_event *ev, int tagged);
};

extern const dialect dialect_text;

/* The text dialect's lines that are not chat events: what a connection is
 * told about its own stream (limits, the gate). A notice's or error's text
 * is cut to DIALECT_TEXT_MAX bytes (its prefix and LF not counted). */
#define DIALECT_TEXT_MAX 1023
/* "*** ..." a notice from the server. */
chunk *dialect_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "! ..." an error in reply to the recipient. */
chunk *dialect_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
