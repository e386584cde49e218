/* nicks.c - see nicks.h. */
#include "nicks.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct nicks {
    member **all; /* in no order: swap-removal keeps it dense */
    size_t n, cap;
    member **buckets; /* chained hash on the nick's key */
    size_t nbuckets;  /* power of two */
    unsigned long next_guest;
};

static uint32_t key_hash(const char *key, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 16777619u;
    return h;
}

/* Sets m's key from its nick. A valid nick always has one; should the
 * caller break that contract, the nick itself stands in, so the member can
 * still be found and removed. */
static void set_key(member *m)
{
    int n = text_nick_key(m->nick, strlen(m->nick), m->key, sizeof m->key);
    if (n < 0)
        n = snprintf(m->key, sizeof m->key, "%s", m->nick);
    m->keylen = (size_t)n;
}

nicks *nicks_new(void)
{
    nicks *t = xcalloc(1, sizeof *t);
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
    uint32_t h = key_hash(m->key, m->keylen) & (uint32_t)(t->nbuckets - 1);
    m->hnext = t->buckets[h];
    t->buckets[h] = m;
}

static void hash_remove(nicks *t, member *m)
{
    uint32_t h = key_hash(m->key, m->keylen) & (uint32_t)(t->nbuckets - 1);
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
    set_key(m);
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->all = xrealloc(t->all, t->cap * sizeof *t->all);
    }
    m->nslot = t->n;
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
    char key[NICK_KEY_MAX + 1];
    int n = text_nick_key(nick, len, key, sizeof key);
    if (n < 0)
        return NULL;
    uint32_t h = key_hash(key, (size_t)n) & (uint32_t)(t->nbuckets - 1);
    for (member *m = t->buckets[h]; m; m = m->hnext)
        if (m->keylen == (size_t)n && memcmp(m->key, key, (size_t)n) == 0)
            return m;
    return NULL;
}

void nicks_rename(nicks *t, member *m, const char *nick)
{
    hash_remove(t, m);
    snprintf(m->nick, sizeof m->nick, "%s", nick);
    set_key(m);
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
