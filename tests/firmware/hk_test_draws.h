/* Random draws for the host programs of the dsp tests (tests/test_dsp_*.py), which hold a fast path
 * against hk_requant.h: a xorshift64 generator (seeded by HK_TEST_SEED, defined before including this
 * to draw another sequence), accumulators biased to the edges of int32 and of the fast paths' bounds,
 * and multipliers biased to the ends of [0, 2^31). */
#ifndef HK_TEST_DRAWS_H
#define HK_TEST_DRAWS_H

#include <stdint.h>

#ifndef HK_TEST_SEED
#define HK_TEST_SEED 0x9E3779B97F4A7C15ull
#endif

static uint64_t state = HK_TEST_SEED;

static inline uint32_t next(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (uint32_t)state;
}

static inline int32_t draw_acc(void)
{
    static const int32_t edges[] = {0, 1, -1, 2, -2, INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1,
                                    1 << 30, -(1 << 30), (1 << 30) - 1, -(1 << 30) - 1, 255, -255, 128, -128};
    switch (next() % 4) {
    case 0: return edges[next() % (sizeof edges / sizeof edges[0])];
    case 1: return (int32_t)next() >> (next() % 32);
    default: return (int32_t)next();
    }
}

static inline int32_t draw_multiplier(void)
{
    switch (next() % 5) {
    case 0: return INT32_MAX - (int32_t)(next() % 1000);
    case 1: return (int32_t)(next() % 1001);
    case 2: return (1 << 30) + (int32_t)(next() % (1u << 30));
    case 3: return 1 << 30;
    default: return (int32_t)(next() & 0x7FFFFFFFu);
    }
}

#endif
