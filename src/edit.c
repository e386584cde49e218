/* edit.c - see edit.h. */
#include "edit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "util.h"

#define ZWJ 0x200D

void edit_init(edit *e)
{
    memset(e, 0, sizeof *e);
}

void edit_free(edit *e)
{
    for (size_t i = 0; i < e->nhist; i++)
        free(e->hist[i]);
    free(e->draft);
    edit_init(e);
}

size_t edit_next(const char *s, size_t len, size_t i)
{
    uint32_t cp;
    if (i >= len)
        return len;
    i += utf8_step(s, len, i, &cp);
    while (i < len) {
        size_t n = utf8_step(s, len, i, &cp);
        if (cp == ZWJ) {
            i += n; /* the joiner and what it joins */
            if (i < len)
                i += utf8_step(s, len, i, &cp);
        } else if (cp >= 0x20 && text_width(cp) == 0) {
            i += n; /* a combining mark or variation selector */
        } else {
            break;
        }
    }
    return i;
}

size_t edit_prev(const char *s, size_t len, size_t i)
{
    size_t b = 0;
    if (i > len)
        i = len;
    for (;;) {
        size_t n = edit_next(s, len, b);
        if (n >= i || n == b)
            return b;
        b = n;
    }
}

size_t edit_width(const char *s, size_t from, size_t to)
{
    size_t w = 0;
    for (size_t i = from; i < to; i = edit_next(s, to, i)) {
        uint32_t cp;
        /* A cluster takes the columns of its first character. */
        utf8_step(s, to, i, &cp);
        w += (size_t)text_width(cp);
    }
    return w;
}

int edit_insert(edit *e, const char *s, size_t n)
{
    if (e->len + n > EDIT_MAX)
        return -1;
    memmove(e->line + e->cur + n, e->line + e->cur, e->len - e->cur);
    memcpy(e->line + e->cur, s, n);
    e->len += n;
    e->cur += n;
    return 0;
}

/* Removes [from, to), the cursor going to from; keep: into the kill buffer. */
static void cut(edit *e, size_t from, size_t to, int keep)
{
    if (to <= from)
        return;
    if (keep) {
        memcpy(e->kill, e->line + from, to - from);
        e->killlen = to - from;
    }
    memmove(e->line + from, e->line + to, e->len - to);
    e->len -= to - from;
    e->cur = from;
}

int edit_replace(edit *e, size_t from, const char *s, size_t n)
{
    if (from > e->cur || e->len - (e->cur - from) + n > EDIT_MAX)
        return -1;
    cut(e, from, e->cur, 0);
    return edit_insert(e, s, n);
}

int edit_ctrl(edit *e, int c)
{
    switch (c) {
    case 0x01: edit_home(e); return 1;
    case 0x05: edit_end(e); return 1;
    case 0x02: edit_left(e); return 1;
    case 0x06: edit_right(e); return 1;
    case 0x10: edit_history_prev(e); return 1;
    case 0x0e: edit_history_next(e); return 1;
    case 0x15: edit_kill_start(e); return 1;
    case 0x0b: edit_kill_end(e); return 1;
    case 0x17: edit_kill_word_left(e); return 1;
    case 0x19: edit_yank(e); return 1;
    case 0x7f:
    case 0x08: edit_backspace(e); return 1;
    default: return 0;
    }
}

int edit_alt(edit *e, int c)
{
    switch (c) {
    case 'b':
    case 'B': edit_word_left(e); return 1;
    case 'f':
    case 'F': edit_word_right(e); return 1;
    case 'd':
    case 'D': edit_kill_word_right(e); return 1;
    case 0x7f:
    case 0x08: edit_kill_word_left(e); return 1;
    default: return 0;
    }
}

void edit_left(edit *e)
{
    e->cur = edit_prev(e->line, e->len, e->cur);
}

void edit_right(edit *e)
{
    e->cur = edit_next(e->line, e->len, e->cur);
}

void edit_home(edit *e)
{
    e->cur = 0;
}

void edit_end(edit *e)
{
    e->cur = e->len;
}

static size_t word_start(const edit *e)
{
    size_t i = e->cur;
    while (i > 0 && e->line[i - 1] == ' ')
        i--;
    while (i > 0 && e->line[i - 1] != ' ')
        i--;
    return i;
}

static size_t word_end(const edit *e)
{
    size_t i = e->cur;
    while (i < e->len && e->line[i] == ' ')
        i++;
    while (i < e->len && e->line[i] != ' ')
        i++;
    return i;
}

void edit_word_left(edit *e)
{
    e->cur = word_start(e);
}

void edit_word_right(edit *e)
{
    e->cur = word_end(e);
}

void edit_backspace(edit *e)
{
    cut(e, edit_prev(e->line, e->len, e->cur), e->cur, 0);
}

void edit_delete(edit *e)
{
    size_t cur = e->cur;
    cut(e, cur, edit_next(e->line, e->len, cur), 0);
}

void edit_kill_start(edit *e)
{
    cut(e, 0, e->cur, 1);
}

void edit_kill_end(edit *e)
{
    cut(e, e->cur, e->len, 1);
}

void edit_kill_word_left(edit *e)
{
    cut(e, word_start(e), e->cur, 1);
}

void edit_kill_word_right(edit *e)
{
    size_t cur = e->cur;
    cut(e, cur, word_end(e), 1);
}

void edit_yank(edit *e)
{
    edit_insert(e, e->kill, e->killlen);
}

static void load(edit *e, const char *s)
{
    size_t n = strlen(s);
    memcpy(e->line, s, n);
    e->len = e->cur = n;
}

void edit_history_prev(edit *e)
{
    if (e->hpos == 0)
        return;
    if (e->hpos == e->nhist) {
        free(e->draft);
        e->draft = xstrndup(e->line, e->len);
    }
    load(e, e->hist[--e->hpos]);
}

void edit_history_next(edit *e)
{
    if (e->hpos >= e->nhist)
        return;
    if (++e->hpos < e->nhist) {
        load(e, e->hist[e->hpos]);
        return;
    }
    load(e, e->draft ? e->draft : "");
    free(e->draft);
    e->draft = NULL;
}

size_t edit_take(edit *e, char *out)
{
    size_t n = e->len;
    memcpy(out, e->line, n);
    /* History entries are C strings: a line with a NUL in it is not kept. */
    if (n > 0 && !memchr(e->line, '\0', n) &&
        !(e->nhist > 0 && strlen(e->hist[e->nhist - 1]) == n &&
          memcmp(e->hist[e->nhist - 1], e->line, n) == 0)) {
        if (e->nhist == EDIT_HISTORY) {
            free(e->hist[0]);
            memmove(e->hist, e->hist + 1, (EDIT_HISTORY - 1) * sizeof *e->hist);
            e->nhist--;
        }
        e->hist[e->nhist++] = xstrndup(e->line, n);
    }
    e->hpos = e->nhist;
    free(e->draft);
    e->draft = NULL;
    e->len = e->cur = 0;
    return n;
}

void edit_window(const edit *e, size_t avail, size_t *from, size_t *to, size_t *col)
{
    /* Start where as much as fits lies left of the cursor: drop clusters
     * from the front until the rest up to the cursor fits. */
    size_t f = 0, left = edit_width(e->line, 0, e->cur);
    while (left > avail) {
        size_t nx = edit_next(e->line, e->len, f);
        left -= edit_width(e->line, f, nx);
        f = nx;
    }
    size_t t = f, w = 0;
    while (t < e->len) {
        size_t nx = edit_next(e->line, e->len, t), cw = edit_width(e->line, t, nx);
        if (w + cw > avail)
            break;
        w += cw;
        t = nx;
    }
    *from = f;
    *to = t;
    *col = left;
}
