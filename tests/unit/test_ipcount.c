/* ipcount: IPv4 and its v4-mapped IPv6 form are one host; counts go up and
 * down through table growth; an address back at zero takes no entry. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "check.h"
#include "ipcount.h"

void test_ipcount(void)
{
    ipcount *t = ipcount_new();
    ipkey a = v4("127.0.0.1"), a6 = v6("::ffff:127.0.0.1"), b = v6("::1");

    CHECK(memcmp(&a, &a6, sizeof a) == 0);
    CHECK(ipcount_get(t, &a) == 0);
    CHECK(ipcount_add(t, &a) == 1);
    CHECK(ipcount_add(t, &a6) == 2);
    CHECK(ipcount_add(t, &b) == 1);
    CHECK(ipcount_size(t) == 2);
    ipcount_del(t, &a);
    CHECK(ipcount_get(t, &a) == 1);
    ipcount_del(t, &a);
    CHECK(ipcount_get(t, &a) == 0 && ipcount_size(t) == 1);

    /* 5000 addresses, three connections each, then all gone. */
    char buf[32];
    int ok = 1;
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 5000; i++) {
            snprintf(buf, sizeof buf, "10.0.%d.%d", i / 250, i % 250);
            ipkey k = v4(buf);
            if (ipcount_add(t, &k) != (unsigned)round + 1)
                ok = 0;
        }
    CHECK(ok);
    CHECK(ipcount_size(t) == 5001);
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 5000; i++) {
            snprintf(buf, sizeof buf, "10.0.%d.%d", i / 250, i % 250);
            ipkey k = v4(buf);
            ipcount_del(t, &k);
        }
    CHECK(ipcount_size(t) == 1 && ipcount_get(t, &b) == 1);
    ipcount_free(t);
}
