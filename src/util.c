/* util.c - see util.h. */
#include "util.h"

#include <errno.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void oom(size_t n)
{
    /* One write(2): stdio may itself need memory we do not have. */
    char msg[80];
    int len = snprintf(msg, sizeof msg, "hichat: out of memory (%zu bytes)\n", n);
    if (len > 0 && write(STDERR_FILENO, msg, (size_t)len) < 0)
        abort();
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void heap_tidy(size_t keep)
{
#ifdef __GLIBC__
    /* glibc returns only the top of the heap by itself; memory freed below
     * a live block stays in the process until malloc_trim hands its pages
     * back with MADV_DONTNEED. */
    if (mallinfo2().fordblks > keep)
        malloc_trim(0);
#else
    (void)keep;
#endif
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

const char *errno_name(int err)
{
    const char *name = strerrorname_np(err);
    return name ? name : "E?";
}

void errno_describe(char *out, size_t outsz, int err, const char *target)
{
    const char *t = target ? target : "that address";
    char hint[160] = "";

    switch (err) {
    case ECONNREFUSED:
        snprintf(hint, sizeof hint, " \u2014 is hichat serve running on %s?", t);
        break;
    case ENOENT:
        snprintf(hint, sizeof hint, " \u2014 nothing at %s; is hichat serve --unix running?", t);
        break;
    case EADDRINUSE:
        snprintf(hint, sizeof hint, " \u2014 port in use; is another server running on %s?", t);
        break;
    case EACCES:
        snprintf(hint, sizeof hint, " \u2014 ports below 1024 need privileges; pick a higher port");
        break;
    case EADDRNOTAVAIL:
        snprintf(hint, sizeof hint,
                 " \u2014 that address is not on this machine; try 127.0.0.1 or ::");
        break;
    case ETIMEDOUT:
        snprintf(hint, sizeof hint, " \u2014 no answer from %s; is the host up and the port open?",
                 t);
        break;
    case EHOSTUNREACH:
    case ENETUNREACH:
        snprintf(hint, sizeof hint, " \u2014 no route to %s; check the address and the network", t);
        break;
    case EMFILE:
    case ENFILE:
        snprintf(hint, sizeof hint, " \u2014 out of file descriptors; raise ulimit -n");
        break;
    default: break;
    }
    snprintf(out, outsz, "%s (%s)%s", errno_name(err), strerror(err), hint);
}

int parse_num(const char *s, long long min, long long max, long long *out, const char **why)
{
    char *end;
    long long v;

    errno = 0;
    if (*s == '\0' || *s == ' ' || *s == '+') {
        *why = "not a number";
        return -1;
    }
    v = strtoll(s, &end, 10);
    if (*end != '\0') {
        *why = "not a number";
        return -1;
    }
    if ((errno == ERANGE && v == LLONG_MIN) || v < min) {
        *why = "too small";
        return -1;
    }
    if (errno == ERANGE || v > max) {
        *why = "too large";
        return -1;
    }
    *out = v;
    return 0;
}

int ascii_casecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int ca = ascii_lower((unsigned char)*a), cb = ascii_lower((unsigned char)*b);
        if (ca != cb || ca == '\0')
            return ca - cb;
    }
}
