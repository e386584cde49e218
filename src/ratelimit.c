/* ratelimit.c - see ratelimit.h. */
#include "ratelimit.h"

/* Thousandths in a line. */
#define LINE 1000

static uint64_t cap(const rate_rule *r)
{
    return (uint64_t)(r->burst > 0 ? r->burst : 1) * LINE;
}

void bucket_init(bucket *b, const rate_rule *r, uint64_t now)
{
    b->tokens = cap(r);
    b->refill_ms = now;
}

int bucket_take(bucket *b, const rate_rule *r, uint64_t now)
{
    if (r->rate <= 0)
        return 1;
    /* Refilled, but never past the burst; an idle so long that the
     * product would overflow fills it just the same. */
    uint64_t elapsed = now - b->refill_ms, rate = (uint64_t)r->rate, room = cap(r) - b->tokens;
    b->tokens = elapsed > room / rate ? cap(r) : b->tokens + elapsed * rate;
    b->refill_ms = now;
    if (b->tokens < LINE)
        return 0;
    b->tokens -= LINE;
    return 1;
}

uint64_t bucket_due(const bucket *b, const rate_rule *r)
{
    if (r->rate <= 0 || b->tokens >= LINE)
        return 0;
    uint64_t need = LINE - b->tokens, rate = (uint64_t)r->rate;
    return b->refill_ms + (need + rate - 1) / rate;
}
