/* frame.h - line framing for the text dialect. Pure: no I/O, no allocation. */
#ifndef HICHAT_FRAME_H
#define HICHAT_FRAME_H

#include <stddef.h>

/* Looks for one line at the start of buf[0..len). A line ends with LF; a CR
 * right before the LF is not part of it. max is the longest line content
 * allowed, in bytes.
 *
 * Returns the bytes the line occupies including its ending (> 0) and sets
 * *line_len to the content length; returns 0 when no LF has arrived yet and
 * the line can still fit; returns -1 when the line is longer than max (the
 * caller discards through the next LF). It reads at most max + 2 bytes. */
long frame_line(const char *buf, size_t len, size_t max, size_t *line_len);

/* Length of the content of an unterminated line (buf holds no LF): len minus
 * a trailing CR. Used when a quiet pause turns waiting bytes into a line. */
size_t frame_partial(const char *buf, size_t len);

#endif
