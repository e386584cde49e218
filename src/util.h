/* util.h - allocation, time and errno helpers shared by every module. */
#ifndef HICHAT_UTIL_H
#define HICHAT_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Out of memory is not a condition hichat can serve through: every buffer it
 * allocates is bounded, so failing to get one means the machine is in trouble.
 * These abort with a message instead of returning NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* Gives free heap memory back to the system when more than keep bytes of it
 * lie unused (after a burst: a join storm, a slow reader's queue). Without
 * glibc it does nothing. */
void heap_tidy(size_t keep);

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t now_ms(void);

/* The errno name ("ECONNREFUSED"), or "E?" for an unknown value. */
const char *errno_name(int err);

/* Writes "ENAME (strerror text)" and, for an errno a user can act on, a hint
 * ("; is hichat serve running on TARGET?") into out. target names what was
 * being reached or bound ("localhost:6666"); it may be NULL. */
void errno_describe(char *out, size_t outsz, int err, const char *target);

/* Parses a decimal integer in [min, max]. Returns 0, or -1 with a reason in
 * *why ("not a number", "too small", "too large"). */
int parse_num(const char *s, long long min, long long max, long long *out, const char **why);

/* Case-insensitive (ASCII only) comparison of two byte strings. */
int ascii_casecmp(const char *a, const char *b);
static inline int ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

#define ARRAY_LEN(a)                  (sizeof(a) / sizeof((a)[0]))
#define CONTAINER_OF(p, type, member) ((type *)(void *)((char *)(p)-offsetof(type, member)))

/* An intrusive first-in first-out line: the owner embeds a fifo_link (and
 * knows itself whether it is on the line), and takes it out again in O(1)
 * from anywhere in the line. The line owns nothing. */
typedef struct fifo_link {
    struct fifo_link *prev, *next;
} fifo_link;
typedef struct {
    fifo_link *head, *tail;
    size_t count;
} fifo;

/* Puts k (not on any line) at the end of f. */
static inline void fifo_push(fifo *f, fifo_link *k)
{
    k->next = NULL;
    k->prev = f->tail;
    if (f->tail)
        f->tail->next = k;
    else
        f->head = k;
    f->tail = k;
    f->count++;
}

/* Takes k, which is on f, out of it. */
static inline void fifo_remove(fifo *f, fifo_link *k)
{
    if (k->prev)
        k->prev->next = k->next;
    else
        f->head = k->next;
    if (k->next)
        k->next->prev = k->prev;
    else
        f->tail = k->prev;
    k->prev = k->next = NULL;
    f->count--;
}

#endif
