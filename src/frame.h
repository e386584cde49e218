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

/* What framer_next found. */
enum frame_kind {
    FRAME_MORE,     /* no complete line: keep the bytes not consumed */
    FRAME_LINE,     /* a line: *line, *line_len */
    FRAME_TOO_LONG, /* a line passed max: report it; its bytes are dropped
                       by the following calls, through its LF */
};

/* A connection's framing state: whether it is dropping an over-long line. */
typedef struct {
    int discarding;
} framer;

/* Takes the next item from buf[0..len): skips the rest of an over-long line
 * if one is being dropped, then looks for a line (frame_line). Returns the
 * bytes consumed and sets *kind; for FRAME_LINE also *line (inside buf) and
 * *line_len. With FRAME_MORE, bytes after the consumed ones are a partial
 * line that the caller keeps and presents again with more. */
size_t framer_next(framer *f, const char *buf, size_t len, size_t max, enum frame_kind *kind,
                   const char **line, size_t *line_len);

/* Length of the content of an unterminated line (buf holds no LF): len minus
 * a trailing CR. Used when a quiet pause turns waiting bytes into a line. */
size_t frame_partial(const char *buf, size_t len);

#endif
