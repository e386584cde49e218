/* histo.h - a latency histogram for the load generator.
 *
 * Values (nanoseconds) fall into 32 linear sub-buckets per power of two, so a
 * reported quantile is the top of its bucket: never below the true value and
 * at most about 3% above it (exact below 32). Adding is O(1) with no
 * allocation; a histogram is 16 KiB. */
#ifndef HICHAT_HISTO_H
#define HICHAT_HISTO_H

#include <stdint.h>

#define HISTO_SUB_BITS 5
#define HISTO_SUB      (1 << HISTO_SUB_BITS)
#define HISTO_BUCKETS  (64 * HISTO_SUB)

typedef struct {
    uint64_t n, max;
    uint64_t b[HISTO_BUCKETS];
} histo;

void histo_add(histo *h, uint64_t v);
/* The value at quantile q in (0, 1]: the smallest bucket top with at least
 * q of the values at or below it, capped at the largest value seen; 0 for an
 * empty histogram. */
uint64_t histo_q(const histo *h, double q);

#endif
