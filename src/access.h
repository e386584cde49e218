/* access.h - who may come in: address lists (--allow, --deny), the room's
 * password, and the limit on wrong passwords per address.
 *
 * Addresses are ipcount keys (IPv4 as v4-mapped IPv6), so one rule syntax
 * covers both families and a v4 rule also matches a v4 peer that came in
 * on a dual-stack socket. */
#ifndef HICHAT_ACCESS_H
#define HICHAT_ACCESS_H

#include <stddef.h>
#include <stdint.h>

#include "ipcount.h"

typedef struct {
    ipkey net;     /* the network, host bits cleared */
    unsigned bits; /* prefix length over the 128-bit key */
} cidr;

/* "10.0.0.0/8", "192.168.1.7" (a /32), "2001:db8::/32", "::1". 0, or -1
 * with a reason in err. */
int cidr_parse(const char *s, cidr *out, char *err, size_t errsz);
int cidr_match(const cidr *c, const ipkey *k);

typedef struct {
    cidr *allow, *deny; /* owned */
    size_t nallow, ndeny;
} acl;

/* Adds a rule; 0, or -1 with a reason in err. */
int acl_add(acl *a, int allow, const char *s, char *err, size_t errsz);
/* Whether k may connect: not in a --deny network, and in an --allow one
 * when there are any (a deny wins over an allow). */
int acl_permits(const acl *a, const ipkey *k);
void acl_free(acl *a);

/* The password in path: its first line, without the line end. The file may
 * hold at most PASSWORD_MAX bytes on that line. Returns a new string, or
 * NULL with a reason in err. *loose says whether others than the owner may
 * read the file. */
#define PASSWORD_MAX 1024
char *password_load(const char *path, int *loose, char *err, size_t errsz);
/* Whether the two are equal, in time that does not depend on where they
 * differ (both are hashed, the hashes compared in constant time). */
int password_eq(const char *a, size_t alen, const char *b, size_t blen);

/* Wrong passwords per address. IPv6 peers count per /64 (ipkey_host), the
 * block one host is usually given, as for --max-per-ip. A bounded table: under a flood of addresses the
 * oldest entries are forgotten, which a many-address attacker could use
 * anyway by spreading its tries. */
#define AUTH_FAILS_MAX 10     /* wrong passwords before the address is locked out */
#define AUTH_WINDOW_MS 60000  /* ... counted while each comes within this of the last */
#define AUTH_LOCK_MS   60000  /* ... and the lockout lasts this after the last one */
typedef struct authlimit authlimit;
authlimit *authlimit_new(void);
void authlimit_free(authlimit *t);
/* Milliseconds k's address stays locked out, or 0. */
uint64_t authlimit_locked(const authlimit *t, const ipkey *k, uint64_t now);
/* Counts a wrong password from k; returns authlimit_locked after it. */
uint64_t authlimit_fail(authlimit *t, const ipkey *k, uint64_t now);

#endif
