/* access.c - see access.h. */
#include "access.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "util.h"

/* ---- address lists ---- */

static void mask_bits(ipkey *k, unsigned bits)
{
    for (unsigned i = 0; i < 16; i++) {
        unsigned keep = bits >= 8 * (i + 1) ? 8 : bits > 8 * i ? bits - 8 * i : 0;
        k->b[i] &= (unsigned char)(0xff00u >> keep);
    }
}

/* A prefix length as ip(8) and every CIDR list write it: "0", or a digit 1-9
 * then digits, at most max. Not strtol, which also takes " 8", "-0" and "+8". */
static int prefix_parse(const char *p, unsigned max, unsigned *out)
{
    unsigned v = 0;
    size_t n = 0;
    if (p[0] == '0' && p[1] == '\0') {
        *out = 0;
        return 0;
    }
    if (p[0] < '1' || p[0] > '9')
        return -1;
    for (; p[n] >= '0' && p[n] <= '9'; n++) {
        v = v * 10 + (unsigned)(p[n] - '0');
        if (v > max)
            return -1;
    }
    if (p[n] != '\0')
        return -1;
    *out = v;
    return 0;
}

int cidr_parse(const char *s, cidr *out, char *err, size_t errsz)
{
    char addr[INET6_ADDRSTRLEN + 8];
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    unsigned char raw[16];
    unsigned max;

    memset(out, 0, sizeof *out);
    if (alen == 0 || alen >= sizeof addr) {
        snprintf(err, errsz, "\"%s\" is not an address or network (like 10.0.0.0/8 or fd00::/8)",
                 s);
        return -1;
    }
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    if (inet_pton(AF_INET, addr, raw) == 1) {
        out->net.b[10] = out->net.b[11] = 0xff;
        memcpy(out->net.b + 12, raw, 4);
        max = 32;
    } else if (inet_pton(AF_INET6, addr, raw) == 1) {
        memcpy(out->net.b, raw, 16);
        max = 128;
    } else {
        snprintf(err, errsz, "\"%s\" is not an address or network (like 10.0.0.0/8 or fd00::/8)",
                 s);
        return -1;
    }
    unsigned bits = max;
    if (slash && prefix_parse(slash + 1, max, &bits) < 0) {
        snprintf(err, errsz,
                 "\"%s\": the prefix length must be 0-%u in plain decimal digits (no sign, "
                 "space or leading zero)",
                 s, max);
        return -1;
    }
    out->bits = bits + (max == 32 ? 96 : 0);
    mask_bits(&out->net, out->bits);
    return 0;
}

int cidr_match(const cidr *c, const ipkey *k)
{
    ipkey m = *k;
    mask_bits(&m, c->bits);
    return memcmp(&m, &c->net, sizeof m) == 0;
}

int acl_add(acl *a, int allow, const char *s, char *err, size_t errsz)
{
    cidr c;
    if (cidr_parse(s, &c, err, errsz) < 0)
        return -1;
    cidr **list = allow ? &a->allow : &a->deny;
    size_t *n = allow ? &a->nallow : &a->ndeny;
    *list = xrealloc(*list, (*n + 1) * sizeof **list);
    (*list)[(*n)++] = c;
    return 0;
}

int acl_permits(const acl *a, const ipkey *k)
{
    for (size_t i = 0; i < a->ndeny; i++)
        if (cidr_match(&a->deny[i], k))
            return 0;
    if (a->nallow == 0)
        return 1;
    for (size_t i = 0; i < a->nallow; i++)
        if (cidr_match(&a->allow[i], k))
            return 1;
    return 0;
}

void acl_free(acl *a)
{
    free(a->allow);
    free(a->deny);
    memset(a, 0, sizeof *a);
}

/* ---- the password ---- */

char *password_load(const char *path, int *loose, char *err, size_t errsz)
{
    char buf[PASSWORD_MAX + 2];
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(err, errsz, "cannot read the password file %s: %s (%s)", path, errno_name(errno),
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf && (r = read(fd, buf + n, sizeof buf - n)) > 0)
        n += (size_t)r;
    close(fd);
    *loose = (st.st_mode & 077) != 0;
    size_t len = 0;
    while (len < n && buf[len] != '\n')
        len++;
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    if (len > PASSWORD_MAX) {
        snprintf(err, errsz, "the password in %s is longer than %d bytes", path, PASSWORD_MAX);
        return NULL;
    }
    if (len == 0 || memchr(buf, '\0', len)) {
        snprintf(err, errsz, "%s: the first line must be the password (it is %s)", path,
                 len ? "binary" : "empty");
        return NULL;
    }
    char *p = xstrndup(buf, len);
    OPENSSL_cleanse(buf, sizeof buf);
    return p;
}

int password_eq(const char *a, size_t alen, const char *b, size_t blen)
{
    unsigned char ha[SHA256_DIGEST_LENGTH], hb[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)a, alen, ha);
    SHA256((const unsigned char *)b, blen, hb);
    return CRYPTO_memcmp(ha, hb, sizeof ha) == 0;
}

/* ---- wrong passwords per address ---- */

#define AUTH_SLOTS 4096 /* a power of two */
#define AUTH_WAYS  4    /* slots probed per key; the oldest is replaced */

typedef struct {
    ipkey key;
    uint64_t last; /* ms of the last wrong password; 0: a free slot */
    unsigned fails;
} authslot;

struct authlimit {
    authslot slot[AUTH_SLOTS];
};

authlimit *authlimit_new(void)
{
    return xcalloc(1, sizeof(authlimit));
}

void authlimit_free(authlimit *t)
{
    free(t);
}

static size_t auth_hash(const ipkey *k)
{
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < 16; i++)
        h = (h ^ k->b[i]) * 1099511628211ull;
    return (size_t)(h ^ (h >> 29));
}

static authslot *auth_find(const authlimit *t, const ipkey *k)
{
    size_t h = auth_hash(k);
    for (size_t i = 0; i < AUTH_WAYS; i++) {
        const authslot *s = &t->slot[(h + i) & (AUTH_SLOTS - 1)];
        if (s->last && memcmp(&s->key, k, sizeof *k) == 0)
            return (authslot *)s;
    }
    return NULL;
}

uint64_t authlimit_locked(const authlimit *t, const ipkey *addr, uint64_t now)
{
    ipkey k = ipkey_host(addr); /* the same host as --max-per-ip's */
    const authslot *s = auth_find(t, &k);
    if (!s || s->fails < AUTH_FAILS_MAX || now >= s->last + AUTH_LOCK_MS)
        return 0;
    return s->last + AUTH_LOCK_MS - now;
}

uint64_t authlimit_fail(authlimit *t, const ipkey *addr, uint64_t now)
{
    ipkey k = ipkey_host(addr); /* the same host as --max-per-ip's */
    authslot *s = auth_find(t, &k);
    if (!s) {
        size_t h = auth_hash(&k);
        s = &t->slot[h & (AUTH_SLOTS - 1)];
        for (size_t i = 1; i < AUTH_WAYS; i++) {
            authslot *o = &t->slot[(h + i) & (AUTH_SLOTS - 1)];
            if (o->last < s->last)
                s = o;
        }
        s->key = k;
        s->fails = 0;
    } else if (now >= s->last + AUTH_WINDOW_MS) {
        s->fails = 0; /* a fresh start after a quiet minute */
    }
    s->fails++;
    s->last = now ? now : 1;
    return authlimit_locked(t, addr, now);
}
