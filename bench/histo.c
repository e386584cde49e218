/* histo.c - see histo.h. */
#include "histo.h"

#include <math.h>

static unsigned bucket(uint64_t v)
{
    if (v < HISTO_SUB)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= HISTO_SUB_BITS */
    unsigned shift = e - HISTO_SUB_BITS;
    return (shift + 1) * HISTO_SUB + (unsigned)((v >> shift) & (HISTO_SUB - 1));
}

/* The largest value that falls into bucket i. */
static uint64_t bucket_top(unsigned i)
{
    if (i < HISTO_SUB)
        return i;
    unsigned shift = i / HISTO_SUB - 1;
    uint64_t base = ((uint64_t)HISTO_SUB + (i % HISTO_SUB)) << shift;
    return base + ((1ull << shift) - 1);
}

void histo_add(histo *h, uint64_t v)
{
    h->b[bucket(v)]++;
    h->n++;
    if (v > h->max)
        h->max = v;
}

uint64_t histo_q(const histo *h, double q)
{
    if (h->n == 0)
        return 0;
    uint64_t want = (uint64_t)ceil(q * (double)h->n), seen = 0;
    if (want == 0)
        want = 1;
    for (unsigned i = 0; i < HISTO_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= want) {
            uint64_t top = bucket_top(i);
            return top < h->max ? top : h->max;
        }
    }
    return h->max;
}
