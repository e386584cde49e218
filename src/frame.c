/* frame.c - see frame.h. */
#include "frame.h"

#include <string.h>

long frame_line(const char *buf, size_t len, size_t max, size_t *line_len)
{
    /* A fitting line, CR and LF included, is at most max + 2 bytes, so no
     * LF further than that could end a line we would accept. */
    size_t span = len < max + 2 ? len : max + 2;
    const char *lf = memchr(buf, '\n', span);

    if (lf) {
        size_t n = (size_t)(lf - buf);
        if (n > 0 && buf[n - 1] == '\r')
            n--;
        if (n > max)
            return -1;
        *line_len = n;
        return (long)(lf - buf) + 1;
    }
    if (len <= max)
        return 0;
    if (len == max + 1 && buf[max] == '\r')
        return 0; /* the LF may still come right after the CR */
    return -1;
}

size_t frame_partial(const char *buf, size_t len)
{
    return len > 0 && buf[len - 1] == '\r' ? len - 1 : len;
}

size_t framer_next(framer *f, const char *buf, size_t len, size_t max, enum frame_kind *kind,
                   const char **line, size_t *line_len)
{
    size_t skip = 0;

    if (f->discarding) {
        const char *lf = memchr(buf, '\n', len);
        if (!lf) {
            *kind = FRAME_MORE;
            return len; /* all of it belongs to the dropped line */
        }
        skip = (size_t)(lf - buf) + 1;
        f->discarding = 0;
    }
    long r = frame_line(buf + skip, len - skip, max, line_len);
    if (r > 0) {
        *kind = FRAME_LINE;
        *line = buf + skip;
        return skip + (size_t)r;
    }
    if (r < 0) {
        f->discarding = 1;
        *kind = FRAME_TOO_LONG;
        return skip;
    }
    *kind = FRAME_MORE;
    return skip;
}
