/* room.c - see room.h. */
#include "room.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct room {
    member **members; /* in no order: swap-removal keeps it dense */
    member **sorted;  /* the same members in /who order (nick_order) */
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

/* The order /who lists members in: by nick ignoring ASCII case, then by
 * byte, so that it is total over distinct nicks. */
static int nick_order(const char *a, const char *b)
{
    int c = ascii_casecmp(a, b);
    return c ? c : strcmp(a, b);
}

/* The first index in sorted[0..len) whose nick does not sort before nick,
 * or with after set, the first whose nick sorts after it. */
static size_t sorted_bound(const room *r, size_t len, const char *nick, int after)
{
    size_t lo = 0, hi = len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = nick_order(r->sorted[mid]->nick, nick);
        if (c < 0 || (after && c == 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Puts m into sorted[0..len), which has room for one more. A memmove of
 * pointers: 800 KB at 100k members, cheaper than a tree's per-node
 * allocations for the joins and leaves a room sees. */
static void sorted_insert(room *r, size_t len, member *m)
{
    size_t i = sorted_bound(r, len, m->nick, 0);
    memmove(r->sorted + i + 1, r->sorted + i, (len - i) * sizeof *r->sorted);
    r->sorted[i] = m;
}

/* Takes m out of sorted[0..len). */
static void sorted_remove(room *r, size_t len, member *m)
{
    size_t i = sorted_bound(r, len, m->nick, 0);
    /* Nicks are unique, so m is at i; should a caller have broken that,
     * m is among the equal nicks that follow. */
    while (i < len && r->sorted[i] != m)
        i++;
    if (i < len)
        memmove(r->sorted + i, r->sorted + i + 1, (len - i - 1) * sizeof *r->sorted);
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
    free(r->sorted);
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
        r->sorted = xrealloc(r->sorted, r->cap * sizeof *r->sorted);
    }
    sorted_insert(r, r->n, m);
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
    sorted_remove(r, r->n, m);
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
    sorted_remove(r, r->n, m);
    snprintf(m->nick, sizeof m->nick, "%s", nick);
    set_key(m);
    sorted_insert(r, r->n - 1, m);
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

size_t room_page(const room *r, const char *after, member **out, size_t max)
{
    size_t i = after && *after ? sorted_bound(r, r->n, after, 1) : 0, k = 0;
    while (k < max && i < r->n)
        out[k++] = r->sorted[i++];
    return k;
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
