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
    member **buckets; /* chained hash on the ASCII-lowered nick */
    size_t nbuckets;  /* power of two */
    unsigned long next_guest;
    unsigned long long next_seq;
};

static uint32_t nick_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        h = (h ^ c) * 16777619u;
    }
    return h;
}

static int nick_eq(const char *a, const char *b, size_t blen)
{
    size_t alen = strlen(a);
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++) {
        unsigned char ca = (unsigned char)a[i], cb = (unsigned char)b[i];
        if (ca >= 'A' && ca <= 'Z')
            ca = (unsigned char)(ca - 'A' + 'a');
        if (cb >= 'A' && cb <= 'Z')
            cb = (unsigned char)(cb - 'A' + 'a');
        if (ca != cb)
            return 0;
    }
    return 1;
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
    uint32_t h = nick_hash(m->nick, strlen(m->nick)) & (uint32_t)(r->nbuckets - 1);
    m->hnext = r->buckets[h];
    r->buckets[h] = m;
}

static void hash_remove(room *r, member *m)
{
    uint32_t h = nick_hash(m->nick, strlen(m->nick)) & (uint32_t)(r->nbuckets - 1);
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
    uint32_t h = nick_hash(nick, len) & (uint32_t)(r->nbuckets - 1);
    for (member *m = r->buckets[h]; m; m = m->hnext)
        if (nick_eq(m->nick, nick, len))
            return m;
    return NULL;
}

void room_rename(room *r, member *m, const char *nick)
{
    hash_remove(r, m);
    snprintf(m->nick, sizeof m->nick, "%s", nick);
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
