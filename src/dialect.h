/* dialect.h - how the text dialect (for people and nc) spells each event.
 *
 * Each function encodes one event once, into a chunk that every recipient's
 * queue then shares. The shapes are documented in docs/protocol.md. Texts
 * passed in are already cleaned (text_clean). */
#ifndef HICHAT_DIALECT_H
#define HICHAT_DIALECT_H

#include <stddef.h>

#include "outq.h"

/* "<nick> text" */
chunk *dialect_message(const char *nick, const char *text, size_t len);
/* "* nick text" */
chunk *dialect_action(const char *nick, const char *text, size_t len);
/* "*from* text" to the recipient of a private message. */
chunk *dialect_private(const char *from, const char *text, size_t len);
/* "-> *to* text" back to its sender. */
chunk *dialect_private_echo(const char *to, const char *text, size_t len);
/* "* ..." a notice. */
chunk *dialect_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "! ..." an error in reply to the recipient. */
chunk *dialect_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
