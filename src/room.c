/* room.c - see room.h. */
#include "room.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct room {
    rooms *rs;
    char name[ROOM_NAME_SIZE]; /* as first spelt */
    char key[ROOM_NAME_SIZE];  /* in lower case */
    seat **seats;              /* in no order: swap-removal keeps it dense */
    size_t n, cap;
    char *topic; /* owned, or NULL */
    char topic_by[NICK_MAX + 1];
    uint64_t topic_ms;
    unsigned long long next_seq;
    size_t nover; /* members over their queue's bound */
    room *hnext;  /* hash chain */
    int keep;
    unsigned long pass; /* the pass pass_bytes counts */
    size_t pass_bytes;
};

struct rooms {
    room **buckets; /* chained hash on the key */
    size_t nbuckets;
    room **sorted; /* by key, for /rooms */
    size_t n, cap;
};

static uint32_t key_hash(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 16777619u;
    return h;
}

static int name_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

const char *room_name_invalid(const char *name, size_t len)
{
    if (len == 0 || name[0] != W_ROOM_PREFIX)
        return "a room name starts with #";
    if (len == 1)
        return "empty after the #";
    if (len - 1 > W_ROOM_MAX)
        return "longer than 32 bytes after the #";
    for (size_t i = 1; i < len; i++)
        if (!name_char((unsigned char)name[i]))
            return "only letters, digits, - _ and . may follow the #";
    return NULL;
}

/* The key of name[0..len) into key (ROOM_NAME_SIZE bytes); 0, or -1 when
 * it cannot be a room's (too long). */
static int make_key(const char *name, size_t len, char *key)
{
    if (len >= ROOM_NAME_SIZE)
        return -1;
    for (size_t i = 0; i < len; i++)
        key[i] = (char)ascii_lower((unsigned char)name[i]);
    key[len] = '\0';
    return 0;
}

rooms *rooms_new(void)
{
    rooms *rs = xcalloc(1, sizeof *rs);
    rs->nbuckets = 64;
    rs->buckets = xcalloc(rs->nbuckets, sizeof *rs->buckets);
    return rs;
}

static void room_free(room *r)
{
    for (size_t i = 0; i < r->n; i++) {
        member *m = r->seats[i]->m;
        free(m->rooms); /* every room goes: so do the members' arrays */
        m->rooms = NULL;
        m->nrooms = m->rcap = 0;
        m->cur = NULL;
        free(r->seats[i]);
    }
    free(r->seats);
    free(r->topic);
    free(r);
}

void rooms_free(rooms *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->n; i++)
        room_free(rs->sorted[i]);
    free(rs->sorted);
    free(rs->buckets);
    free(rs);
}

room *room_find(const rooms *rs, const char *name, size_t len)
{
    char key[ROOM_NAME_SIZE];
    if (make_key(name, len, key) < 0)
        return NULL;
    for (room *r = rs->buckets[key_hash(key) & (rs->nbuckets - 1)]; r; r = r->hnext)
        if (strcmp(r->key, key) == 0)
            return r;
    return NULL;
}

/* The first index in rs->sorted whose key is not before key (after: the
 * first after it). */
static size_t rooms_bound(const rooms *rs, const char *key, int after)
{
    size_t lo = 0, hi = rs->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(rs->sorted[mid]->key, key);
        if (c < 0 || (after && c == 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void rooms_grow(rooms *rs)
{
    room **old = rs->buckets;
    size_t on = rs->nbuckets;
    rs->nbuckets *= 2;
    rs->buckets = xcalloc(rs->nbuckets, sizeof *rs->buckets);
    for (size_t i = 0; i < on; i++) {
        for (room *r = old[i], *next; r; r = next) {
            next = r->hnext;
            size_t h = key_hash(r->key) & (rs->nbuckets - 1);
            r->hnext = rs->buckets[h];
            rs->buckets[h] = r;
        }
    }
    free(old);
}

room *room_make(rooms *rs, const char *name, size_t len)
{
    room *r = xcalloc(1, sizeof *r);
    r->rs = rs;
    memcpy(r->name, name, len);
    r->name[len] = '\0';
    make_key(name, len, r->key);
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 16;
        rs->sorted = xrealloc(rs->sorted, rs->cap * sizeof *rs->sorted);
    }
    size_t i = rooms_bound(rs, r->key, 0);
    memmove(rs->sorted + i + 1, rs->sorted + i, (rs->n - i) * sizeof *rs->sorted);
    rs->sorted[i] = r;
    if (++rs->n > rs->nbuckets)
        rooms_grow(rs);
    size_t h = key_hash(r->key) & (rs->nbuckets - 1);
    r->hnext = rs->buckets[h];
    rs->buckets[h] = r;
    return r;
}

/* Takes an empty room out of the registry and frees it. */
static void room_drop(room *r)
{
    rooms *rs = r->rs;
    size_t i = rooms_bound(rs, r->key, 0);
    memmove(rs->sorted + i, rs->sorted + i + 1, (rs->n - i - 1) * sizeof *rs->sorted);
    rs->n--;
    for (room **pp = &rs->buckets[key_hash(r->key) & (rs->nbuckets - 1)]; *pp; pp = &(*pp)->hnext) {
        if (*pp == r) {
            *pp = r->hnext;
            break;
        }
    }
    room_free(r);
}

void room_set_keep(room *r)
{
    r->keep = 1;
}

size_t rooms_count(const rooms *rs)
{
    return rs->n;
}

size_t rooms_page(const rooms *rs, const char *after, room **out, size_t max)
{
    char key[ROOM_NAME_SIZE];
    size_t i = 0, k = 0;
    if (after && *after && make_key(after, strlen(after), key) == 0)
        i = rooms_bound(rs, key, 1);
    while (k < max && i < rs->n)
        out[k++] = rs->sorted[i++];
    return k;
}

/* The order /who lists members in: by nick ignoring ASCII case, then by
 * byte, so that it is total over distinct nicks. */
static int nick_order(const char *a, const char *b)
{
    int c = ascii_casecmp(a, b);
    return c ? c : strcmp(a, b);
}

seat *room_join(room *r, member *m)
{
    seat *k = xmalloc(sizeof *k);
    k->room = r;
    k->m = m;
    k->seq = ++r->next_seq;
    k->heard = 0;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 4;
        r->seats = xrealloc(r->seats, r->cap * sizeof *r->seats);
    }
    k->slot = (uint32_t)r->n;
    r->seats[r->n++] = k;
    if (m->nrooms == m->rcap) {
        /* One more at a time: joins are rare, and an idle member in five
         * rooms should not carry room for eight. */
        m->rcap++;
        m->rooms = xrealloc(m->rooms, m->rcap * sizeof *m->rooms);
    }
    m->rooms[m->nrooms++] = k;
    m->cur = k;
    if (m->over)
        r->nover++;
    return k;
}

void room_part(rooms *rs, seat *k)
{
    room *r = k->room;
    member *m = k->m;
    (void)rs;
    if (m->over)
        r->nover--;
    seat *last = r->seats[--r->n];
    r->seats[k->slot] = last;
    last->slot = k->slot;
    for (size_t i = 0; i < m->nrooms; i++) {
        if (m->rooms[i] == k) {
            memmove(m->rooms + i, m->rooms + i + 1, (m->nrooms - i - 1) * sizeof *m->rooms);
            m->nrooms--;
            break;
        }
    }
    if (m->cur == k)
        m->cur = m->nrooms ? m->rooms[m->nrooms - 1] : NULL;
    if (m->nrooms == 0) { /* an idle member keeps no array */
        free(m->rooms);
        m->rooms = NULL;
        m->rcap = 0;
    }
    free(k);
    if (r->n == 0 && !r->keep)
        room_drop(r);
}

seat *room_seat(const member *m, const room *r)
{
    for (size_t i = 0; i < m->nrooms; i++)
        if (m->rooms[i]->room == r)
            return m->rooms[i];
    return NULL;
}

void room_member_over(member *m, int over)
{
    over = over != 0;
    if (m->over == over)
        return;
    m->over = over;
    for (size_t i = 0; i < m->nrooms; i++) {
        if (over)
            m->rooms[i]->room->nover++;
        else
            m->rooms[i]->room->nover--;
    }
}

size_t room_nover(const room *r)
{
    return r->nover;
}

const char *room_name(const room *r)
{
    return r->name;
}

size_t room_count(const room *r)
{
    return r->n;
}

seat *room_at(const room *r, size_t i)
{
    return r->seats[i];
}

/* out[0..n) as a heap with the member that sorts last on top. */
static void heap_down(member **out, size_t n, size_t i)
{
    for (;;) {
        size_t big = i, l = 2 * i + 1, r = l + 1;
        if (l < n && nick_order(out[l]->nick, out[big]->nick) > 0)
            big = l;
        if (r < n && nick_order(out[r]->nick, out[big]->nick) > 0)
            big = r;
        if (big == i)
            return;
        member *t = out[i];
        out[i] = out[big];
        out[big] = t;
        i = big;
    }
}

size_t room_page(const room *r, const char *after, member **out, size_t max)
{
    size_t k = 0;
    if (max == 0)
        return 0;
    /* The max first nicks after `after`: one pass keeping the best so far
     * in a heap whose top is the worst of them, then the heap sorted. A
     * room keeps no sorted copy of itself: joins and renames cost nothing,
     * and a listing costs O(n log max) a page. */
    for (size_t i = 0; i < r->n; i++) {
        member *m = r->seats[i]->m;
        if (after && *after && nick_order(m->nick, after) <= 0)
            continue;
        if (k < max) {
            out[k] = m;
            for (size_t c = k++; c > 0;) { /* up */
                size_t p = (c - 1) / 2;
                if (nick_order(out[c]->nick, out[p]->nick) <= 0)
                    break;
                member *t = out[c];
                out[c] = out[p];
                out[p] = t;
                c = p;
            }
        } else if (nick_order(m->nick, out[0]->nick) < 0) {
            out[0] = m;
            heap_down(out, k, 0);
        }
    }
    for (size_t n = k; n > 1; n--) { /* the heap into ascending order */
        member *t = out[0];
        out[0] = out[n - 1];
        out[n - 1] = t;
        heap_down(out, n - 1, 0);
    }
    return k;
}

const char *room_topic(const room *r, const char **by, uint64_t *when)
{
    if (by)
        *by = r->topic_by;
    if (when)
        *when = r->topic_ms;
    return r->topic;
}

void room_set_topic(room *r, const char *text, size_t len, const char *by, uint64_t when)
{
    free(r->topic);
    r->topic = text ? xstrndup(text, len) : NULL;
    snprintf(r->topic_by, sizeof r->topic_by, "%s", by);
    r->topic_ms = when;
}

size_t room_pass_bytes(room *r, unsigned long pass)
{
    return r->pass == pass ? r->pass_bytes : 0;
}

void room_pass_add(room *r, unsigned long pass, size_t bytes)
{
    if (r->pass != pass) {
        r->pass = pass;
        r->pass_bytes = 0;
    }
    r->pass_bytes += bytes;
}
