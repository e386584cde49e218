/* roster.h - the client's picture of the room, built from the server's text
 * lines (docs/protocol.md, "Lines the server sends"): what kind each line is,
 * who is here, who I am. Pure: no terminal, no I/O; the full-screen client
 * (tui.c) styles and completes with it and the client (client.c) remembers
 * its nick across reconnects with it.
 *
 * A line is recognised by its shape. The server's notices start with "*** "
 * (W_NOTICE in wording.h), which no member's line can: a member named "x"
 * who types "/me joined" makes the action "* x joined", never the notice
 * "*** x joined". So joins, leaves, renames and the welcome are believed
 * only from notices. */
#ifndef HICHAT_ROSTER_H
#define HICHAT_ROSTER_H

#include <stddef.h>
#include <string.h>

/* Most nicks kept; a bigger room's others are simply not completed. */
#define ROSTER_MAX 20000

typedef enum {
    LINE_OTHER,    /* none of the shapes below */
    LINE_MSG,      /* <nick> text                      a = nick */
    LINE_PRIV_IN,  /* *nick* text                      a = nick */
    LINE_PRIV_OUT, /* -> *nick* text                   a = nick */
    LINE_ACTION,   /* * nick text                      a = nick */
    LINE_NOTICE,   /* *** anything else                a = its first word */
    LINE_ERROR,    /* ! text */
    LINE_WELCOME,  /* *** welcome to hichat, NICK (N members here) ...  a, count */
    LINE_JOIN,     /* *** NICK joined                  a */
    LINE_LEAVE,    /* *** NICK left (REASON)           a */
    LINE_RENAME,   /* *** OLD is now known as NEW      a = old, b = new */
    LINE_YOU_ARE,  /* *** you are NICK, *** you are already NICK   a */
    LINE_WHO,      /* *** N members: a, b, c           count, a = the list */
} line_kind;

typedef struct {
    line_kind kind;
    const char *a, *b; /* point into the parsed line */
    size_t alen, blen;
    size_t count;
    size_t text; /* offset of the text after the prefix (MSG, PRIV_*, ACTION, NOTICE) */
} line_info;

/* What line s[0..n) is. Nicks it names are valid nicks (text_nick_invalid),
 * or the line is taken for a plain notice or message. */
void line_parse(const char *s, size_t n, line_info *li);

/* A set of nicks, unique ignoring ASCII case (as the server has them), kept
 * sorted that way for completion. */
typedef struct {
    char **v;
    size_t n, cap;
} roster;

void roster_init(roster *r);
void roster_clear(roster *r);
/* Adds nick[0..len) unless present or full; returns 1 if added. */
int roster_add(roster *r, const char *nick, size_t len);
/* Removes it; returns 1 if it was there. */
int roster_remove(roster *r, const char *nick, size_t len);
int roster_has(const roster *r, const char *nick, size_t len);
/* Adds each name of a /who list "a, b, c"; returns how many it named. */
size_t roster_add_list(roster *r, const char *list, size_t len);

/* Whether two nicks are the same one (ASCII case ignored, as the server
 * has it). */
int nick_eq(const char *a, size_t alen, const char *b, size_t blen);

/* Completion: the first of cands[0..n) (sorted ignoring ASCII case) that
 * starts with prefix[0..plen) ignoring ASCII case and comes after `after`
 * (NULL: the first match); wraps round to the first match. NULL if none. */
const char *complete_next(char *const *cands, size_t n, const char *prefix, size_t plen,
                          const char *after);

/* A nick's colour: the same number for the same nick (ASCII case ignored)
 * in every client and every run, in [0, ncolours). */
unsigned nick_colour(const char *nick, size_t len, unsigned ncolours);

/* Whether text[0..n) names nick as a word of its own (ASCII case ignored;
 * "alice," and "@alice" do, "malice" does not). */
int mentions(const char *text, size_t n, const char *nick, size_t nlen);

/* Whether s[0..n) starts (ends) with the text lit: the client's readers
 * (roster.c, session.c) match the server's wording.h fragments with these. */
static inline int line_starts(const char *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n >= l && memcmp(s, lit, l) == 0;
}

static inline int line_ends(const char *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n >= l && memcmp(s + n - l, lit, l) == 0;
}

#endif
