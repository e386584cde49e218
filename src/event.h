/* event.h - what the chat logic takes in and gives out: plain data, no
 * English, no bytes on a wire.
 *
 * A dialect parses its protocol's input into a chat_cmd; chat.c acts on it
 * and emits chat_events; a dialect encodes each event once into the bytes
 * every recipient of that dialect shares (see dialect.h). */
#ifndef HICHAT_EVENT_H
#define HICHAT_EVENT_H

#include <stddef.h>
#include <stdint.h>

/* What a member asked for. */
enum cmd_kind {
    CMD_SAY,    /* text to the current room */
    CMD_ACTION, /* /me text */
    CMD_MSG,    /* target (a nick, or a room) and text */
    CMD_NICK,   /* arg: the new nick, or empty to ask */
    CMD_JOIN,   /* target: a room name */
    CMD_PART,   /* target: a room name or empty; text: a reason */
    CMD_SWITCH, /* target: a room name */
    CMD_ROOMS,  /* list the rooms */
    CMD_TOPIC,  /* target: a room to show, or text: a topic to set */
    CMD_WHO,    /* target: a room name or empty */
    CMD_QUIT,   /* text: a reason */
    CMD_HELP,
    CMD_HELLO,
    CMD_STATS,
    CMD_PASS,    /* text: the password, as sent */
    CMD_USAGE,   /* a command without the argument it needs: name */
    CMD_UNKNOWN, /* name: what was typed */
};

typedef struct chat_cmd {
    enum cmd_kind kind;
    const char *target; /* a nick or room name, not NUL-terminated */
    size_t tlen;
    const char *text; /* the rest */
    size_t len;
    const char *name; /* CMD_USAGE, CMD_UNKNOWN: the command (not terminated) */
    size_t nlen;
} chat_cmd;

/* What happened. Events about a room name it (room); the fan-out decides
 * per recipient whether the name must be shown (see dialect.h). */
enum ev_kind {
    EV_MESSAGE, /* from said text in room */
    EV_ACTION,  /* from did text (/me) in room */
    EV_PRIVATE, /* from said text to to (n: 1 for the sender's own copy) */
    EV_JOIN,    /* from joined room */
    EV_PART,    /* from left room; text: the reason, if any */
    EV_QUIT,    /* from left the server; text: why */
    EV_NICK,    /* from is now known as to */
    EV_TOPIC,   /* from set room's topic to text (len 0: cleared) */
    /* Replies to one member. */
    EV_WELCOME,  /* you are from, n members in the default room */
    EV_ENTERED,  /* you joined room, n members */
    EV_LEFT,     /* you left room */
    EV_CURRENT,  /* room is now your current room */
    EV_TOPIC_IS, /* room's topic is text, set by from (len 0: none) */
    EV_NAMES,    /* n members in room; names[0..count) are some of them */
    EV_ROOMS,    /* n rooms follow */
    EV_ROOM,     /* one of them: room, n members, topic text */
    EV_HELP,     /* the dialect's own list of its commands */
    EV_NOTICE,   /* code: which (enum notice) */
    EV_ERROR,    /* code: which (enum error) */
};

enum notice {
    N_HI,              /* the answer to /hello */
    N_BYE,             /* the answer to /quit */
    N_SHUTDOWN,        /* the server is stopping */
    N_YOU_ARE,         /* from: your nick */
    N_YOU_ARE_ALREADY, /* from: the nick you asked for is yours */
    N_WHO_MORE,        /* from: the last nick a listing reached */
    N_ROOMS_MORE,      /* n more rooms not listed */
    /* About the member's own stream (the gate, a UDP address). */
    N_PASSWORD,  /* the room needs a password: send it */
    N_UDP_TOKEN, /* arg: the token a UDP address must send back */
};

enum error {
    E_USAGE,           /* text: the command's name, arg: its arguments */
    E_UNKNOWN,         /* text: what was typed */
    E_NICK_INVALID,    /* text: the nick, arg: why */
    E_NICK_IN_USE,     /* text: the nick */
    E_NO_SUCH_NICK,    /* text: the nick */
    E_ROOM_INVALID,    /* text: the name, arg: why */
    E_NO_SUCH_ROOM,    /* room */
    E_NOT_IN_ROOM,     /* room */
    E_NO_ROOM,         /* a line to say, but no room to say it in */
    E_TOO_MANY_JOINED, /* n: the most rooms one may be in */
    E_TOO_MANY_ROOMS,  /* n: the most rooms the server keeps */
    E_STATS_CONSOLE,   /* /stats from a member */
    E_NO_PASSWORD,     /* /pass where none is needed */
    E_ALREADY_IN,      /* /pass when past the gate */
    /* About the member's own stream: its limits, the gate. */
    E_LINE_TOO_LONG,  /* n: --max-line; the line was discarded */
    E_SLOW_DOWN,      /* n: --msg-rate; its lines are held back */
    E_FLOODING,       /* n: seconds held back; closing */
    E_LINE_TIMEOUT,   /* n: seconds a line may take; closing */
    E_FELL_BEHIND,    /* n: --max-queue; closing */
    E_BINARY,         /* not text; closing */
    E_NOT_TLS,        /* plaintext on the TLS port; closing */
    E_NEED_PASSWORD,  /* a line before the password */
    E_WRONG_PASSWORD, /* n: the tries when it closes for them, else 0 */
    E_LOCKED_OUT,     /* n: seconds the address is locked out; closing */
    E_LOGIN_TIMEOUT,  /* n: seconds given for the password; closing */
    E_REFUSED,        /* arg: why (a phrase of the server's); closing */
    E_TOPIC_TOO_LONG, /* n: the most bytes a topic may have; not set */
};

typedef struct chat_event {
    enum ev_kind kind;
    int code;              /* EV_NOTICE, EV_ERROR */
    const char *room;      /* its name, or NULL */
    const char *from, *to; /* nicks */
    const char *text;      /* cleaned; not NUL-terminated */
    size_t len;
    const char *arg;          /* a second string (NUL-terminated), or NULL */
    size_t n;                 /* a count */
    const char *const *names; /* EV_NAMES */
    size_t count;
    uint64_t time_ms; /* when it happened (wall clock) */
} chat_event;

#endif
