/* ipcount.h - how many connections each peer host has, for the per-IP
 * limit. Keys are 16-byte IPv6 addresses; IPv4 peers are counted under their
 * v4-mapped form (::ffff:a.b.c.d), so one host is one key whichever socket
 * family it came in on. An IPv6 peer counts as its /64 (ipkey_host), the
 * block one host is usually given: it could otherwise take a fresh address
 * per connection. A host with no connection left takes no memory. */
#ifndef HICHAT_IPCOUNT_H
#define HICHAT_IPCOUNT_H

#include <stddef.h>
#include <sys/socket.h>

typedef struct ipcount ipcount;

typedef struct {
    unsigned char b[16];
} ipkey;

ipcount *ipcount_new(void);
void ipcount_free(ipcount *t);

/* The key of a peer address (AF_INET or AF_INET6; anything else is all zero). */
ipkey ipcount_key(const struct sockaddr *sa);
/* The host a per-address limit applies to (connections here, wrong
 * passwords in access.c): an IPv4 or v4-mapped address itself, any other
 * IPv6 address its /64, low 64 bits cleared. */
ipkey ipkey_host(const ipkey *k);
/* Connections counted for k's host (k is any address: ipkey_host is taken
 * here, so callers keep the full address for --allow/--deny and logs). */
unsigned ipcount_get(const ipcount *t, const ipkey *k);
/* Counts one more for k's host; returns the new count. */
unsigned ipcount_add(ipcount *t, const ipkey *k);
/* Counts one less for k's host (k must have been added). */
void ipcount_del(ipcount *t, const ipkey *k);
/* Distinct hosts counted. */
size_t ipcount_size(const ipcount *t);

#endif
