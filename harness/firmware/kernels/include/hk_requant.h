/* The int8 arithmetic of docs/arithmetic.md, shared by every kernel and variant. */
#ifndef HK_REQUANT_H
#define HK_REQUANT_H

#include <stdint.h>

#include "hk_nn_types.h"

#define HK_INT8_MIN (-128)
#define HK_INT8_MAX 127
#define HK_SHIFT_MIN (-31)
#define HK_SHIFT_MAX 30

/* Saturating rounding doubling high multiply (the only overflow case saturates). */
static inline int32_t hk_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int64_t nudge = ab >= 0 ? (int64_t)(1 << 30) : (int64_t)(1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* Rounding divide by 2^n, ties away from zero, 0 <= n <= 31. */
static inline int32_t hk_rdbpot(int32_t x, int32_t n)
{
    const int32_t mask = (int32_t)((1u << n) - 1u);
    const int32_t rem = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> n) + (rem > threshold ? 1 : 0);
}

/* acc * multiplier * 2^(shift - 31); the left shift wraps modulo 2^32 like TFLite's int32 code. */
static inline int32_t hk_requantize(int32_t acc, int32_t multiplier, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = shift > 0 ? 0 : -shift;
    const int32_t shifted = (int32_t)((uint32_t)acc << left);
    return hk_rdbpot(hk_srdhm(shifted, multiplier), right);
}

/* acc * multiplier * 2^(shift - 31) rounded once (TFLite's single rounding): the 64-bit product
 * plus half of 2^(31 - shift), shifted right arithmetically by 31 - shift (1 to 62). With
 * multiplier >= 0 the sum stays below 2^63; a result beyond int32 (large left shifts) wraps. */
static inline int32_t hk_requantize_single(int32_t acc, int32_t multiplier, int32_t shift)
{
    const int32_t total = 31 - shift;
    const int64_t product = (int64_t)acc * (int64_t)multiplier;
    return (int32_t)((product + ((int64_t)1 << (total - 1))) >> total);
}

/* hk_requantize or hk_requantize_single, as hk_quant.rounding says (HK_ROUND_SINGLE or not). */
static inline int32_t hk_requantize_rounding(int32_t acc, int32_t multiplier, int32_t shift, int32_t rounding)
{
    return rounding == HK_ROUND_SINGLE ? hk_requantize_single(acc, multiplier, shift)
                                       : hk_requantize(acc, multiplier, shift);
}

static inline int8_t hk_clamp_s8(int32_t v, int32_t lo, int32_t hi)
{
    return (int8_t)(v < lo ? lo : (v > hi ? hi : v));
}

#endif
