/* wording.h - the fixed texts of the text dialect, written once for the side
 * that sends them (dialect_text.c, server.c) and the side that reads them
 * back (roster.c, client.c, tui.c, hello.c), so that rewording a notice
 * cannot silently break a client. The shapes are in docs/protocol.md.
 *
 * A server notice starts with W_NOTICE ("*** "); a member's line never can:
 * messages start with '<', actions with "* " and a nick, private lines with
 * '*' or "-> *" and a nick, and no nick contains '*'. So a line that starts
 * with W_NOTICE is the server's, whatever text a member sends. */
#ifndef HICHAT_WORDING_H
#define HICHAT_WORDING_H

/* Line prefixes. */
#define W_NOTICE "*** " /* the server's notices (and the client's own) */
#define W_ACTION "* "   /* "* nick text": a member's /me */
#define W_ERROR  "! "   /* an error in reply to the recipient */

/* What follows W_NOTICE. The format strings are for the server; the
 * fragments around them are what the client matches. */
#define W_WELCOME         "welcome to hichat, " /* NICK " (" N " member[s] here)..." */
#define W_WELCOME_FMT     W_WELCOME "%s (%zu member%s here); type /help for commands"
#define W_HERE            " member"           /* after the count in the welcome */
#define W_JOINED          " joined"           /* NICK W_JOINED */
#define W_LEFT            " left ("           /* NICK W_LEFT REASON ")" */
#define W_RENAMED         " is now known as " /* OLD W_RENAMED NEW */
#define W_MEMBERS         " members: "        /* N W_MEMBERS "a, b, c" */
#define W_MEMBER          " member: "         /* 1 W_MEMBER "a" */
#define W_MEMBERS_SEP     ", "
#define W_YOU_ARE         "you are "
#define W_YOU_ARE_ALREADY "you are already "
#define W_HI              "hi"  /* the answer to /hello */
#define W_BYE             "bye" /* the answer to /quit, then the server closes */
#define W_SHUTDOWN        "server shutting down"
#define W_PASSWORD        "password required" /* the first line of a room with one */
#define W_UDP_JOIN        "udp: to receive the room, send /join " /* + a token */

/* Rooms (docs/protocol.md, "Rooms"). A line about a room starts with the
 * room's name and a space (W_ROOM_PREFIX...) unless that room is the only one
 * its recipient is in; only the server starts a line with it. */
#define W_ROOM_PREFIX  '#'
#define W_ROOM_MAX     32                   /* bytes after the '#' */
#define W_YOU_JOINED   "you joined "        /* ROOM " (" N " member[s] here)" */
#define W_YOU_LEFT     "you left "          /* ROOM */
#define W_TALKING_IN   "now talking in "    /* ROOM */
#define W_TOPIC_OF     "topic of "          /* ROOM ": " TEXT " (set by " NICK ")" */
#define W_NO_TOPIC     " has no topic"      /* ROOM W_NO_TOPIC */
#define W_SET_TOPIC    " set the topic: "   /* NICK W_SET_TOPIC TEXT */
#define W_CLEARED_TOPIC " cleared the topic" /* NICK W_CLEARED_TOPIC */
#define W_ROOMS        " rooms:"            /* N W_ROOMS, then a line per room */
#define W_PART         "part"               /* the leave reason of /part */

/* After W_ERROR. */
#define W_WRONG_PASSWORD "wrong password"

#endif
