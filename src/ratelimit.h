/* ratelimit.h - the token bucket of flood control, pure: no clock of its
 * own, no I/O, no allocation.
 *
 * A bucket holds up to `burst` lines and refills at `rate` lines a second,
 * counted in thousandths of a line so that refilling by the millisecond is
 * exact. A rate of 0 (or less) means no limit. */
#ifndef HICHAT_RATELIMIT_H
#define HICHAT_RATELIMIT_H

#include <stdint.h>

typedef struct {
    long rate;  /* lines a second; <= 0: unlimited */
    long burst; /* lines at once; at least 1 */
} rate_rule;

typedef struct {
    uint64_t tokens;    /* thousandths of a line */
    uint64_t refill_ms; /* when it was last refilled */
} bucket;

/* A full bucket at time now (ms). */
void bucket_init(bucket *b, const rate_rule *r, uint64_t now);
/* Takes one line's worth at time now (ms, never before the last call).
 * Returns 1 if there was one, else 0 (and takes nothing). */
int bucket_take(bucket *b, const rate_rule *r, uint64_t now);
/* When the bucket next holds a whole line: 0 if it holds one now (or there
 * is no limit), else a time in ms on the clock of now. */
uint64_t bucket_due(const bucket *b, const rate_rule *r);

#endif
