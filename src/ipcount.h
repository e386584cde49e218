/* ipcount.h - how many connections each peer address has, for the per-IP
 * limit. Keys are 16-byte IPv6 addresses; IPv4 peers are counted under their
 * v4-mapped form (::ffff:a.b.c.d), so one host is one key whichever socket
 * family it came in on. An address with no connection left takes no memory. */
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
/* Connections counted for k. */
unsigned ipcount_get(const ipcount *t, const ipkey *k);
/* Counts one more for k; returns the new count. */
unsigned ipcount_add(ipcount *t, const ipkey *k);
/* Counts one less for k (which must have been added). */
void ipcount_del(ipcount *t, const ipkey *k);
/* Distinct addresses counted. */
size_t ipcount_size(const ipcount *t);

#endif
