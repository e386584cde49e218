/* ipcount: IPv4 and its v4-mapped IPv6 form are one host, an IPv6 /64 is one
 * host; counts go up and down through table growth; an address back at zero
 * takes no entry. */
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
    ipcount_del(t, &b);
    CHECK(ipcount_size(t) == 0);

    /* An IPv6 host counts as its /64, as for the wrong-password limit; IPv4
     * (and v4-mapped) per address. */
    ipkey h1 = v6("2001:db8:1:2::1"), h2 = v6("2001:db8:1:2:ffff:ffff:ffff:ffff"),
          other = v6("2001:db8:1:3::1"), p1 = v4("192.0.2.1"), p2 = v4("192.0.2.2");
    CHECK(ipcount_add(t, &h1) == 1);
    CHECK(ipcount_add(t, &h2) == 2); /* same /64 */
    CHECKF(ipcount_get(t, &h1) == 2 && ipcount_get(t, &h2) == 2, "%u %u", ipcount_get(t, &h1),
           ipcount_get(t, &h2));
    CHECK(ipcount_get(t, &other) == 0 && ipcount_add(t, &other) == 1);
    CHECK(ipcount_add(t, &p1) == 1 && ipcount_add(t, &p2) == 1);
    CHECK(ipcount_size(t) == 4);
    ipcount_del(t, &h2); /* either address of the /64 gives its count back */
    ipcount_del(t, &h1);
    CHECK(ipcount_get(t, &h1) == 0 && ipcount_size(t) == 3);
    ipkey host = ipkey_host(&h2), four = ipkey_host(&p1);
    CHECK(memcmp(&host, &h1, 8) == 0 && memcmp(host.b + 8, "\0\0\0\0\0\0\0\0", 8) == 0);
    CHECK(memcmp(&four, &p1, sizeof four) == 0);
    ipcount_free(t);
}
