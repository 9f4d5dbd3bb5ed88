/* The depthwise kernel's one-multiply requantization (hk_depthwise_conv2d_s8.c): for the usual
 * scales (shift in [-22, -1] for the double rounding, [-23, -1] for the single) each output is
 * requantize(acc) + output_offset, exactly, from one 32x32 + 64-bit multiply-accumulate (SMLAL) of
 * a per-channel 64-bit constant and one arithmetic shift of its high word. Portable C, static
 * inline only (the variant defines no global symbol beside its API functions); the host tests
 * compile it against hk_requant.h.
 *
 * Single rounding, t = 31 - shift in [32, 54]: requantize(acc) = floor((p + 2^(t - 1)) / 2^t),
 * p = acc * m. Adding oo = output_offset to a floor of a quotient by 2^t is adding oo * 2^t to the
 * dividend, so the output is floor((p + R) / 2^t) with R = 2^(t - 1) + oo * 2^t; that is the high
 * word of p + R shifted right by t - 32. |p| < 2^62 and |R| <= 2^61 + 2^53 (|oo| <= 128, t <= 54),
 * so p + R never leaves int64, and the high word of the sum, below 2^30 + 2^29 in size, fits int32.
 *
 * Double rounding, n = -shift in [1, 22] (no left shift), |acc| < 2^30 (the caller bounds the
 * accumulators of a channel group before choosing this path, so a2 = 2 * acc does not overflow):
 * the high multiply is x = floor((a2 * m + 2^31) / 2^32) (hk_dsp_mac.h, hk_dsp_requantize_double),
 * the rounding divide is floor((x + h - [x < 0]) / 2^n) with h = 2^(n - 1) (ties away from zero;
 * hk_dsp_rq_apply). A floor of (a floor of a quotient plus an integer) over 2^n is one floor over
 * 2^(32 + n): output = floor((a2 * m + 2^31 + (h - s + oo * 2^n) * 2^32) / 2^(32 + n)), s =
 * [x < 0]. s may be replaced by [acc < 0]: x >= 1 needs a2 * m >= 2^31 (acc > 0), x <= -1 needs
 * a2 * m < -2^31 (acc < 0), and for x = 0 both values of s give floor((h - s) / 2^n) = 0 since
 * 1 <= h < 2^n. So the 64-bit constant is 2^31 in the low word and h + oo * 2^n in the high word,
 * less 1 when acc < 0 (one ADD of acc >> 31), and the output is the high word of the sum shifted
 * right by n. |a2 * m| < 2^62 and the constant's high word is at most 2^29 + 2^21 + 1 in size, so
 * no overflow anywhere. */
#ifndef HK_DSP_DEPTHWISE_H
#define HK_DSP_DEPTHWISE_H

#include <stdint.h>

#include "hk_nn_types.h"
#include "hk_requant.h"

/* One output channel: the 64-bit constant's words (lo, hi), the multiplier and the final shift,
 * two 8-byte pairs for two LDRD. */
typedef struct {
    int32_t lo;
    int32_t hi;
    int32_t multiplier;
    int32_t n;
} hk_dw_rq;

/* The channel's constants; returns 0 when its shift is outside the ranges above (the caller then
 * takes the general requantization). The double rounding also needs the caller's bound on acc. */
static inline int32_t hk_dw_rq_prep(hk_dw_rq *q, int32_t multiplier, int32_t shift, int32_t output_offset,
                                    int32_t rounding)
{
    q->multiplier = multiplier;
    if (rounding == HK_ROUND_SINGLE) {
        if (shift > -1 || shift < -23) {
            return 0;
        }
        const int32_t t = 31 - shift;
        const uint64_t r = ((uint64_t)1 << (t - 1)) + (uint64_t)((int64_t)output_offset * ((int64_t)1 << t));
        q->lo = (int32_t)(uint32_t)r;
        q->hi = (int32_t)(uint32_t)(r >> 32);
        q->n = t - 32;
        return 1;
    }
    if (shift > -1 || shift < -22) {
        return 0;
    }
    const int32_t n = -shift;
    q->lo = INT32_MIN; /* 2^31 as the low word */
    q->hi = (int32_t)(1u << (n - 1)) + output_offset * (int32_t)(1u << n);
    q->n = n;
    return 1;
}

/* requantize(acc) + output_offset for a channel prepared with the single rounding; lo, hi,
 * multiplier and n are its hk_dw_rq. */
static inline int32_t hk_dw_rq_single(int32_t lo, int32_t hi, int32_t multiplier, int32_t n, int32_t acc)
{
    const uint64_t r = ((uint64_t)(uint32_t)hi << 32) | (uint32_t)lo;
    const uint64_t sum = r + (uint64_t)((int64_t)acc * multiplier);
    return (int32_t)(uint32_t)(sum >> 32) >> n;
}

/* The same with the double rounding, |acc| < 2^30. */
static inline int32_t hk_dw_rq_double(int32_t lo, int32_t hi, int32_t multiplier, int32_t n, int32_t acc)
{
    return hk_dw_rq_single(lo, (int32_t)((uint32_t)hi + (uint32_t)(acc >> 31)), multiplier, n, acc + acc);
}

#endif
