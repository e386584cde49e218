/* ratelimit: a burst goes through at once, then lines come at the rate;
 * the due time is exact to the millisecond; no limit means no limit; a
 * long idle neither overflows nor fills past the burst. */
#include <stdint.h>

#include "check.h"
#include "ratelimit.h"

void test_ratelimit(void)
{
    rate_rule r = {10, 3}; /* 10 lines a second, 3 at once */
    bucket b;
    bucket_init(&b, &r, 1000);
    CHECK(bucket_due(&b, &r) == 0);
    for (int i = 0; i < 3; i++)
        CHECK(bucket_take(&b, &r, 1000) == 1);
    CHECK(bucket_take(&b, &r, 1000) == 0); /* the burst is spent */
    CHECK(bucket_due(&b, &r) == 1100);      /* one line takes 100 ms */
    CHECK(bucket_take(&b, &r, 1099) == 0);
    CHECK(bucket_due(&b, &r) == 1100);      /* 990/1000 of a line: 1 ms more */
    CHECK(bucket_take(&b, &r, 1100) == 1);
    CHECK(bucket_take(&b, &r, 1100) == 0);
    /* A long idle fills it to the burst, not past it, and does not wrap. */
    CHECK(bucket_take(&b, &r, UINT64_MAX / 2) == 1);
    CHECK(bucket_take(&b, &r, UINT64_MAX / 2) == 1);
    CHECK(bucket_take(&b, &r, UINT64_MAX / 2) == 1);
    CHECK(bucket_take(&b, &r, UINT64_MAX / 2) == 0);
    /* A rate that does not divide 1000: the due time rounds up. */
    rate_rule odd = {3, 1};
    bucket_init(&b, &odd, 0);
    CHECK(bucket_take(&b, &odd, 0) == 1 && bucket_due(&b, &odd) == 334);
    CHECK(bucket_take(&b, &odd, 333) == 0 && bucket_take(&b, &odd, 334) == 1);
    /* No limit. */
    rate_rule none = {0, 1};
    bucket_init(&b, &none, 0);
    for (int i = 0; i < 100; i++)
        CHECK(bucket_take(&b, &none, 0) == 1);
    CHECK(bucket_due(&b, &none) == 0);
}
