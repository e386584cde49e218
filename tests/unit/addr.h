/* addr.h - ipcount keys from address text, for the unit tests. */
#ifndef HICHAT_TEST_ADDR_H
#define HICHAT_TEST_ADDR_H

#include <arpa/inet.h>
#include <netinet/in.h>

#include "ipcount.h"

static inline ipkey v4(const char *a)
{
    struct sockaddr_in in = {.sin_family = AF_INET};
    inet_pton(AF_INET, a, &in.sin_addr);
    return ipcount_key((struct sockaddr *)&in);
}

static inline ipkey v6(const char *a)
{
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, a, &in6.sin6_addr);
    return ipcount_key((struct sockaddr *)&in6);
}

#endif
