/* ipcount.c - see ipcount.h. A chained hash table that doubles as it fills. */
#include "ipcount.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct entry {
    ipkey key;
    unsigned count;
    struct entry *next;
} entry;

struct ipcount {
    entry **b;
    size_t nb; /* power of two */
    size_t n;
};

ipcount *ipcount_new(void)
{
    ipcount *t = xcalloc(1, sizeof *t);
    t->nb = 64;
    t->b = xcalloc(t->nb, sizeof *t->b);
    return t;
}

void ipcount_free(ipcount *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nb; i++) {
        entry *e = t->b[i];
        while (e) {
            entry *next = e->next;
            free(e);
            e = next;
        }
    }
    free(t->b);
    free(t);
}

ipkey ipcount_key(const struct sockaddr *sa)
{
    ipkey k;
    memset(&k, 0, sizeof k);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)sa;
        k.b[10] = k.b[11] = 0xff;
        memcpy(k.b + 12, &in->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const void *)sa;
        memcpy(k.b, &in6->sin6_addr, 16);
    }
    return k;
}

ipkey ipkey_host(const ipkey *k)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    ipkey h = *k;
    if (memcmp(k->b, mapped, sizeof mapped) != 0)
        memset(h.b + 8, 0, 8);
    return h;
}

static size_t slot(const ipcount *t, const ipkey *k)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (int i = 0; i < 16; i++)
        h = (h ^ k->b[i]) * 1099511628211ull;
    return (size_t)(h ^ (h >> 32)) & (t->nb - 1);
}

static entry *find(const ipcount *t, const ipkey *k)
{
    for (entry *e = t->b[slot(t, k)]; e; e = e->next)
        if (memcmp(e->key.b, k->b, 16) == 0)
            return e;
    return NULL;
}

unsigned ipcount_get(const ipcount *t, const ipkey *addr)
{
    ipkey k = ipkey_host(addr);
    const entry *e = find(t, &k);
    return e ? e->count : 0;
}

static void grow(ipcount *t)
{
    entry **old = t->b;
    size_t oldn = t->nb;
    t->nb *= 2;
    t->b = xcalloc(t->nb, sizeof *t->b);
    for (size_t i = 0; i < oldn; i++) {
        entry *e = old[i];
        while (e) {
            entry *next = e->next;
            size_t s = slot(t, &e->key);
            e->next = t->b[s];
            t->b[s] = e;
            e = next;
        }
    }
    free(old);
}

unsigned ipcount_add(ipcount *t, const ipkey *addr)
{
    ipkey k = ipkey_host(addr);
    entry *e = find(t, &k);
    if (e)
        return ++e->count;
    if (t->n >= t->nb)
        grow(t);
    e = xmalloc(sizeof *e);
    e->key = k;
    e->count = 1;
    size_t s = slot(t, &k);
    e->next = t->b[s];
    t->b[s] = e;
    t->n++;
    return 1;
}

void ipcount_del(ipcount *t, const ipkey *addr)
{
    ipkey k = ipkey_host(addr);
    for (entry **pp = &t->b[slot(t, &k)]; *pp; pp = &(*pp)->next) {
        entry *e = *pp;
        if (memcmp(e->key.b, k.b, 16) != 0)
            continue;
        if (--e->count == 0) {
            *pp = e->next;
            free(e);
            t->n--;
        }
        return;
    }
}

size_t ipcount_size(const ipcount *t)
{
    return t->n;
}
