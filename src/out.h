/* out.h - a bounded, non-blocking writer for stdout (the terminal, a pipe or
 * a file), driven by the loop.
 *
 * Writing to a terminal or pipe can block when the reader is slow; hichat must
 * never block in its loop, so a terminal or pipe is reopened through
 * /proc/self/fd with O_NONBLOCK (a file description of our own: the shell's
 * stays blocking) and what does not fit is queued, up to a hard cap. */
#ifndef HICHAT_OUT_H
#define HICHAT_OUT_H

#include <stddef.h>

#include "loop.h"

typedef struct out out;

/* Writes to fd through l, queueing at most max bytes. */
out *out_new(loop *l, int fd, size_t max);
/* Writes or queues p[0..n). Returns 0, or -1 (nothing queued) when the queue
 * would pass its cap, or after a write error (then everything is dropped). */
int out_write(out *o, const void *p, size_t n);
/* Like out_write for p[0..n) followed by a LF: both or neither. */
int out_line(out *o, const void *p, size_t n);
/* Bytes queued and not yet written. */
size_t out_pending(const out *o);
/* Whether a write failed for good (the reader is gone); then everything is
 * dropped and out_write fails. */
int out_failed(const out *o);
/* Calls fn(data) each time the queue empties or writing fails. */
void out_on_drain(out *o, void (*fn)(void *data), void *data);
/* Tries to write what is queued for at most timeout_ms; used at exit. */
void out_flush(out *o, int timeout_ms);
/* Frees o and closes the fd it opened (never the caller's fd). */
void out_free(out *o);

#endif
