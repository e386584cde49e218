/* roster.c - see roster.h. */
#include "roster.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "wording.h"
#include "util.h"

static int is_nick(const char *s, size_t n)
{
    return n > 0 && n <= NICK_MAX && text_nick_invalid(s, n) == NULL;
}

/* A decimal count at s[0..n); the digits it took, or 0. */
static size_t number(const char *s, size_t n, size_t *v)
{
    size_t i = 0;
    *v = 0;
    while (i < n && i < 9 && s[i] >= '0' && s[i] <= '9')
        *v = *v * 10 + (size_t)(s[i++] - '0');
    return i;
}

static const char *find(const char *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    for (size_t i = 0; i + l <= n; i++)
        if (memcmp(s + i, lit, l) == 0)
            return s + i;
    return NULL;
}

/* The server's notices: s[0..n) is what follows W_NOTICE. Only the server
 * can start a line with it (wording.h), so these are believed. */
static void notice(const char *s, size_t n, line_info *li)
{
    static const size_t wl = sizeof W_WELCOME - 1, jl = sizeof W_JOINED - 1, ll = sizeof W_LEFT - 1,
                        rl = sizeof W_RENAMED - 1;
    const char *p;
    size_t v, d;

    li->kind = LINE_NOTICE;
    li->text = sizeof W_NOTICE - 1;
    p = memchr(s, ' ', n);
    li->a = s;
    li->alen = p ? (size_t)(p - s) : n;

    if (line_starts(s, n, W_WELCOME) && (p = find(s, n, " (")) != NULL) {
        const char *nick = s + wl;
        size_t nl = (size_t)(p - nick), rest = n - (size_t)(p + 2 - s);
        if (is_nick(nick, nl) && (d = number(p + 2, rest, &v)) > 0 &&
            line_starts(p + 2 + d, rest - d, W_HERE)) {
            li->kind = LINE_WELCOME;
            li->a = nick, li->alen = nl, li->count = v;
        }
        return;
    }
    if ((d = number(s, n, &v)) > 0 &&
        (line_starts(s + d, n - d, W_MEMBERS) || line_starts(s + d, n - d, W_MEMBER))) {
        const char *list = memchr(s, ':', n) + 2;
        li->kind = LINE_WHO;
        li->count = v;
        li->a = list, li->alen = n - (size_t)(list - s);
        return;
    }
    if (line_starts(s, n, W_YOU_ARE)) {
        size_t k = sizeof W_YOU_ARE - 1;
        if (line_starts(s, n, W_YOU_ARE_ALREADY))
            k = sizeof W_YOU_ARE_ALREADY - 1;
        if (is_nick(s + k, n - k)) {
            li->kind = LINE_YOU_ARE;
            li->a = s + k, li->alen = n - k;
        }
        return;
    }
    if (line_ends(s, n, W_JOINED) && is_nick(s, n - jl)) {
        li->kind = LINE_JOIN;
        li->alen = n - jl;
        return;
    }
    if ((p = find(s, n, W_LEFT)) != NULL && line_ends(s, n, ")") && (size_t)(p - s) + ll < n &&
        is_nick(s, (size_t)(p - s))) {
        li->kind = LINE_LEAVE;
        li->alen = (size_t)(p - s);
        return;
    }
    if ((p = find(s, n, W_RENAMED)) != NULL) {
        const char *nw = p + rl;
        size_t ol = (size_t)(p - s), nl = n - (size_t)(nw - s);
        if (is_nick(s, ol) && is_nick(nw, nl)) {
            li->kind = LINE_RENAME;
            li->alen = ol;
            li->b = nw, li->blen = nl;
        }
    }
}

/* "* nick text": s[0..n) is what follows W_ACTION. */
static void action(const char *s, size_t n, line_info *li)
{
    const char *sp = memchr(s, ' ', n);
    size_t nl = sp ? (size_t)(sp - s) : 0;
    if (!sp || !is_nick(s, nl))
        return;
    li->kind = LINE_ACTION;
    li->a = s, li->alen = nl;
    li->text = sizeof W_ACTION - 1 + nl + 1;
}

void line_parse(const char *s, size_t n, line_info *li)
{
    const char *p;

    memset(li, 0, sizeof *li);
    li->kind = LINE_OTHER;
    if (n == 0)
        return;
    if (line_starts(s, n, W_NOTICE)) {
        notice(s + sizeof W_NOTICE - 1, n - (sizeof W_NOTICE - 1), li);
        return;
    }
    if (line_starts(s, n, W_ACTION)) {
        action(s + sizeof W_ACTION - 1, n - (sizeof W_ACTION - 1), li);
        return;
    }
    if (line_starts(s, n, W_ERROR)) {
        li->kind = LINE_ERROR;
        li->text = sizeof W_ERROR - 1;
        return;
    }
    /* "<nick> text", "*nick* text", "-> *nick* text" */
    size_t off = line_starts(s, n, "-> *") ? 4 : 1;
    char close = off == 4 || s[0] == '*' ? '*' : '>';
    if (n < off + 1 || (off == 1 && s[0] != '<' && s[0] != '*'))
        return;
    if ((p = memchr(s + off, close, n - off)) == NULL)
        return;
    size_t nl = (size_t)(p - s) - off;
    if (!is_nick(s + off, nl) || (size_t)(p - s) + 1 >= n || p[1] != ' ')
        return;
    li->kind = off == 4 ? LINE_PRIV_OUT : close == '*' ? LINE_PRIV_IN : LINE_MSG;
    li->a = s + off, li->alen = nl;
    li->text = (size_t)(p - s) + 2;
}

/* ---- the set of nicks ---- */

void roster_init(roster *r)
{
    memset(r, 0, sizeof *r);
}

void roster_clear(roster *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[i]);
    free(r->v);
    roster_init(r);
}

static int ncase_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    for (size_t i = 0; i < al && i < bl; i++) {
        int x = ascii_lower((unsigned char)a[i]), y = ascii_lower((unsigned char)b[i]);
        if (x != y)
            return x - y;
    }
    return al < bl ? -1 : al > bl;
}

int nick_eq(const char *a, size_t alen, const char *b, size_t blen)
{
    return ncase_cmp(a, alen, b, blen) == 0;
}

/* Where nick is, or would go: the first entry not below it. */
static size_t slot(const roster *r, const char *nick, size_t len)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ncase_cmp(r->v[mid], strlen(r->v[mid]), nick, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int at(const roster *r, size_t i, const char *nick, size_t len)
{
    return i < r->n && nick_eq(r->v[i], strlen(r->v[i]), nick, len);
}

int roster_has(const roster *r, const char *nick, size_t len)
{
    return at(r, slot(r, nick, len), nick, len);
}

int roster_add(roster *r, const char *nick, size_t len)
{
    size_t i = slot(r, nick, len);
    if (at(r, i, nick, len) || r->n >= ROSTER_MAX || !is_nick(nick, len))
        return 0;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->v = xrealloc(r->v, r->cap * sizeof *r->v);
    }
    memmove(r->v + i + 1, r->v + i, (r->n - i) * sizeof *r->v);
    r->v[i] = xmalloc(len + 1);
    memcpy(r->v[i], nick, len);
    r->v[i][len] = '\0';
    r->n++;
    return 1;
}

int roster_remove(roster *r, const char *nick, size_t len)
{
    size_t i = slot(r, nick, len);
    if (!at(r, i, nick, len))
        return 0;
    free(r->v[i]);
    memmove(r->v + i, r->v + i + 1, (r->n - i - 1) * sizeof *r->v);
    r->n--;
    return 1;
}

size_t roster_add_list(roster *r, const char *list, size_t len)
{
    size_t named = 0, i = 0;
    while (i < len) {
        const char *comma = find(list + i, len - i, W_MEMBERS_SEP);
        size_t e = comma ? (size_t)(comma - list) : len;
        roster_add(r, list + i, e - i);
        named++;
        i = comma ? e + sizeof W_MEMBERS_SEP - 1 : len;
    }
    return named;
}

const char *complete_next(char *const *cands, size_t n, const char *prefix, size_t plen,
                          const char *after)
{
    const char *first = NULL;
    int past = after == NULL;
    for (size_t i = 0; i < n; i++) {
        size_t cl = strlen(cands[i]);
        if (cl < plen || ncase_cmp(cands[i], plen, prefix, plen) != 0)
            continue;
        if (!first)
            first = cands[i];
        if (past)
            return cands[i];
        if (strcmp(cands[i], after) == 0)
            past = 1;
    }
    return first;
}

unsigned nick_colour(const char *nick, size_t len, unsigned ncolours)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (uint32_t)ascii_lower((unsigned char)nick[i]);
        h *= 16777619u;
    }
    return ncolours ? h % ncolours : 0;
}

static int wordch(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

int mentions(const char *text, size_t n, const char *nick, size_t nlen)
{
    if (nlen == 0)
        return 0;
    for (size_t i = 0; i + nlen <= n; i++) {
        if (ncase_cmp(text + i, nlen, nick, nlen) != 0)
            continue;
        if ((i == 0 || !wordch((unsigned char)text[i - 1])) &&
            (i + nlen == n || !wordch((unsigned char)text[i + nlen])))
            return 1;
    }
    return 0;
}
