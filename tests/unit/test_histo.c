/* The load generator's latency histogram: exact below 32, never under the
 * true quantile and at most 1/32 over it, whatever the scale. */
#include <stdlib.h>

#include "check.h"
#include "histo.h"

/* The true q-quantile of 1..n (the smallest v with at least q*n values <= v). */
static uint64_t true_q(uint64_t n, double q)
{
    uint64_t v = (uint64_t)(q * (double)n);
    return (double)v < q * (double)n ? v + 1 : v;
}

static void within(const histo *h, double q, uint64_t want, const char *what)
{
    uint64_t got = histo_q(h, q);
    CHECKF(got >= want && (double)got <= (double)want * (1.0 + 1.0 / HISTO_SUB) + 1,
           "%s: q=%g got %llu, true %llu", what, q, (unsigned long long)got,
           (unsigned long long)want);
}

void test_histo(void)
{
    histo *h = calloc(1, sizeof *h);

    CHECKF(histo_q(h, 0.99) == 0, "empty: 0");
    histo_add(h, 7);
    CHECKF(histo_q(h, 0.5) == 7 && histo_q(h, 1.0) == 7, "one value: itself");
    CHECKF(h->max == 7 && h->n == 1, "max and count");

    /* Small values are exact. */
    *h = (histo){0};
    for (uint64_t v = 1; v <= 31; v++)
        histo_add(h, v);
    CHECKF(histo_q(h, 0.5) == 16, "median of 1..31 is 16");
    CHECKF(histo_q(h, 1.0) == 31, "max of 1..31");

    /* 1..N at several scales, from microseconds to seconds in ns. */
    static const uint64_t scales[] = {1000, 100000, 10000000};
    static const double qs[] = {0.5, 0.9, 0.99, 0.999};
    for (size_t s = 0; s < sizeof scales / sizeof *scales; s++) {
        *h = (histo){0};
        uint64_t n = scales[s], step = n / 100000 ? n / 100000 : 1, count = 0;
        for (uint64_t v = step; v <= n; v += step, count++)
            histo_add(h, v);
        for (size_t i = 0; i < sizeof qs / sizeof *qs; i++)
            within(h, qs[i], true_q(count, qs[i]) * step, "uniform quantile within 1/32");
        CHECKF(histo_q(h, 1.0) == n, "the max is exact");
    }

    /* A tail: 990 fast, 10 slow; p99 is the fast bucket, p99.9 the slow. */
    *h = (histo){0};
    for (int i = 0; i < 990; i++)
        histo_add(h, 200000);
    for (int i = 0; i < 10; i++)
        histo_add(h, 50000000);
    within(h, 0.99, 200000, "p99 below the tail");
    within(h, 0.999, 50000000, "p99.9 in the tail");

    /* Huge values do not overflow the buckets. */
    histo_add(h, UINT64_MAX);
    CHECKF(histo_q(h, 1.0) == UINT64_MAX, "UINT64_MAX is kept");
    free(h);
}
