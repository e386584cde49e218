/* room.c - see room.h. */
#include "room.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct room {
    member **members;
    size_t n, cap;
    member **buckets; /* chained hash on the nick's key */
    size_t nbuckets;  /* power of two */
    unsigned long next_guest;
    unsigned long long next_seq;
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

room *room_new(void)
{
    room *r = xcalloc(1, sizeof *r);
    r->nbuckets = 64;
    r->buckets = xcalloc(r->nbuckets, sizeof *r->buckets);
    r->next_guest = 1;
    return r;
}

void room_free(room *r)
{
    if (!r)
        return;
    free(r->members);
    free(r->buckets);
    free(r);
}

static void hash_insert(room *r, member *m)
{
    uint32_t h = key_hash(m->key, m->keylen) & (uint32_t)(r->nbuckets - 1);
    m->hnext = r->buckets[h];
    r->buckets[h] = m;
}

static void hash_remove(room *r, member *m)
{
    uint32_t h = key_hash(m->key, m->keylen) & (uint32_t)(r->nbuckets - 1);
    for (member **pp = &r->buckets[h]; *pp; pp = &(*pp)->hnext) {
        if (*pp == m) {
            *pp = m->hnext;
            return;
        }
    }
}

static void hash_grow(room *r)
{
    free(r->buckets);
    r->nbuckets *= 2;
    r->buckets = xcalloc(r->nbuckets, sizeof *r->buckets);
    for (size_t i = 0; i < r->n; i++)
        hash_insert(r, r->members[i]);
}

void room_join(room *r, member *m, const char *nick)
{
    snprintf(m->nick, sizeof m->nick, "%s", nick);
    set_key(m);
    m->seq = ++r->next_seq;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->members = xrealloc(r->members, r->cap * sizeof *r->members);
    }
    m->slot = r->n;
    r->members[r->n++] = m;
    if (r->n > r->nbuckets)
        hash_grow(r); /* re-inserts m too */
    else
        hash_insert(r, m);
}

void room_leave(room *r, member *m)
{
    hash_remove(r, m);
    /* Swap-remove keeps the array dense for broadcasting. */
    member *last = r->members[--r->n];
    r->members[m->slot] = last;
    last->slot = m->slot;
}

member *room_find(const room *r, const char *nick, size_t len)
{
    char key[NICK_KEY_MAX + 1];
    int n = text_nick_key(nick, len, key, sizeof key);
    if (n < 0)
        return NULL;
    uint32_t h = key_hash(key, (size_t)n) & (uint32_t)(r->nbuckets - 1);
    for (member *m = r->buckets[h]; m; m = m->hnext)
        if (m->keylen == (size_t)n && memcmp(m->key, key, (size_t)n) == 0)
            return m;
    return NULL;
}

void room_rename(room *r, member *m, const char *nick)
{
    hash_remove(r, m);
    snprintf(m->nick, sizeof m->nick, "%s", nick);
    set_key(m);
    hash_insert(r, m);
}

void room_guest_nick(room *r, char *out)
{
    for (;;) {
        int n = snprintf(out, NICK_MAX + 1, "guest%lu", r->next_guest++);
        if (!room_find(r, out, (size_t)n))
            return;
    }
}

size_t room_count(const room *r)
{
    return r->n;
}

member *room_member(const room *r, size_t i)
{
    return r->members[i];
}

void room_broadcast(room *r, chunk *c, const member *except)
{
    for (size_t i = 0; i < r->n; i++) {
        member *m = r->members[i];
        if (m != except)
            m->deliver(m, c);
    }
}

void room_broadcast_older(room *r, chunk *c, const member *m)
{
    for (size_t i = 0; i < r->n; i++) {
        member *o = r->members[i];
        if (o->seq < m->seq)
            o->deliver(o, c);
    }
}
