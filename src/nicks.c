/* nicks.c - see nicks.h. */
#include "nicks.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "util.h"

/* A member keeps only a hash of its nick's comparison key (4 bytes, not
 * the key's 129): a lookup whose hash matches computes that member's key
 * again to compare, so two keys never pass for one. */
struct nicks {
    member **all; /* in no order: swap-removal keeps it dense */
    size_t n, cap;
    member **buckets; /* chained hash on the nick's key */
    size_t nbuckets;  /* power of two */
    uint32_t seed;    /* random: chains cannot be aimed at */
    unsigned long next_guest;
};

static uint32_t key_hash(const nicks *t, const char *key, size_t len)
{
    uint32_t h = 2166136261u ^ t->seed; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    return h;
}

/* The key of nick into key (NICK_KEY_MAX + 1 bytes) and its length. A valid
 * nick always has one; should a caller break that contract, the nick itself
 * stands in, so the member can still be found and removed. */
static size_t nick_key(const char *nick, char *key)
{
    int n = text_nick_key(nick, strlen(nick), key, NICK_KEY_MAX + 1);
    if (n < 0)
        n = snprintf(key, NICK_KEY_MAX + 1, "%s", nick);
    return (size_t)n;
}

static void set_key(const nicks *t, member *m)
{
    char key[NICK_KEY_MAX + 1];
    size_t n = nick_key(m->nick, key);
    m->keyhash = key_hash(t, key, n);
}

nicks *nicks_new(void)
{
    nicks *t = xcalloc(1, sizeof *t);
    if (getrandom(&t->seed, sizeof t->seed, GRND_NONBLOCK) != (ssize_t)sizeof t->seed)
        t->seed = (uint32_t)now_ms();
    t->nbuckets = 64;
    t->buckets = xcalloc(t->nbuckets, sizeof *t->buckets);
    t->next_guest = 1;
    return t;
}

void nicks_free(nicks *t)
{
    if (!t)
        return;
    free(t->all);
    free(t->buckets);
    free(t);
}

static void hash_insert(nicks *t, member *m)
{
    uint32_t h = m->keyhash & (uint32_t)(t->nbuckets - 1);
    m->hnext = t->buckets[h];
    t->buckets[h] = m;
}

static void hash_remove(nicks *t, member *m)
{
    uint32_t h = m->keyhash & (uint32_t)(t->nbuckets - 1);
    for (member **pp = &t->buckets[h]; *pp; pp = &(*pp)->hnext) {
        if (*pp == m) {
            *pp = m->hnext;
            return;
        }
    }
}

void nicks_add(nicks *t, member *m, const char *nick)
{
    snprintf(m->nick, sizeof m->nick, "%s", nick);
    set_key(t, m);
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->all = xrealloc(t->all, t->cap * sizeof *t->all);
    }
    m->nslot = (uint32_t)t->n;
    t->all[t->n++] = m;
    if (t->n > t->nbuckets) {
        free(t->buckets);
        t->nbuckets *= 2;
        t->buckets = xcalloc(t->nbuckets, sizeof *t->buckets);
        for (size_t i = 0; i < t->n; i++)
            hash_insert(t, t->all[i]); /* m too */
    } else {
        hash_insert(t, m);
    }
}

void nicks_remove(nicks *t, member *m)
{
    hash_remove(t, m);
    member *last = t->all[--t->n];
    t->all[m->nslot] = last;
    last->nslot = m->nslot;
}

member *nicks_find(const nicks *t, const char *nick, size_t len)
{
    char key[NICK_KEY_MAX + 1], theirs[NICK_KEY_MAX + 1];
    int n = text_nick_key(nick, len, key, sizeof key);
    if (n < 0)
        return NULL;
    uint32_t h = key_hash(t, key, (size_t)n);
    for (member *m = t->buckets[h & (t->nbuckets - 1)]; m; m = m->hnext)
        if (m->keyhash == h && nick_key(m->nick, theirs) == (size_t)n &&
            memcmp(theirs, key, (size_t)n) == 0)
            return m;
    return NULL;
}

void nicks_rename(nicks *t, member *m, const char *nick)
{
    hash_remove(t, m);
    snprintf(m->nick, sizeof m->nick, "%s", nick);
    set_key(t, m);
    hash_insert(t, m);
}

void nicks_guest(nicks *t, char *out)
{
    for (;;) {
        int n = snprintf(out, NICK_MAX + 1, "guest%lu", t->next_guest++);
        if (!nicks_find(t, out, (size_t)n))
            return;
    }
}

size_t nicks_count(const nicks *t)
{
    return t->n;
}

member *nicks_at(const nicks *t, size_t i)
{
    return t->all[i];
}
