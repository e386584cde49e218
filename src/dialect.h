/* dialect.h - how the text dialect (for people and nc) spells each event.
 *
 * Each function encodes one event once, into a chunk that every recipient's
 * queue then shares. The shapes are documented in docs/protocol.md. Texts
 * passed in are already cleaned (text_clean). */
#ifndef HICHAT_DIALECT_H
#define HICHAT_DIALECT_H

#include <stddef.h>

#include "outq.h"
#include "wording.h"

/* A notice's or error's text is cut to this many bytes (its prefix and LF
 * not counted). */
#define DIALECT_TEXT_MAX 1023

/* "<nick> text" */
chunk *dialect_message(const char *nick, const char *text, size_t len);
/* "* nick text": an action (/me) */
chunk *dialect_action(const char *nick, const char *text, size_t len);
/* "*from* text" to the recipient of a private message. */
chunk *dialect_private(const char *from, const char *text, size_t len);
/* "-> *to* text" back to its sender. */
chunk *dialect_private_echo(const char *to, const char *text, size_t len);
/* "*** ..." a notice: the server speaking (W_NOTICE, which no member's line
 * can start with). fmt is the text after the prefix. */
chunk *dialect_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The notices the client reads back (roster.c), spelt from wording.h:
 * "*** welcome to hichat, NICK (N members here); type /help for commands" */
chunk *dialect_welcome(const char *nick, size_t members);
/* "*** NICK joined" */
chunk *dialect_joined(const char *nick);
/* "*** NICK left (WHY)" */
chunk *dialect_left(const char *nick, const char *why);
/* "*** OLD is now known as NEW" */
chunk *dialect_renamed(const char *old, const char *nick);
/* "! ..." an error in reply to the recipient. */
chunk *dialect_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
