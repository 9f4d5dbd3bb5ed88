/* The output stage of the dsp variant's 2-D convolution (hk_conv2d_s8.c): requantize(acc) plus the
 * output offset, exactly as hk_requant.h and the portable kernel compute them, in one 32 x 32 + 64-bit
 * multiply-accumulate (SMLAL) onto a per-channel constant and one arithmetic shift of its high word,
 * for the scales convolutions have (shift in [-22, -1] with the double rounding, [-23, -1] with the
 * single). Other shifts, and double-rounding accumulators outside [-2^30, 2^30), take hk_requant.h
 * itself. Portable C, static inline only (the variant defines no global symbol beside its API
 * functions); the tests compile it for the host against hk_requant.h.
 *
 * Notation: m the multiplier (>= 0), oo the output offset (|oo| <= 128), floor division throughout;
 * a floor of a floor of a quotient is one floor over the product of the divisors, and adding an
 * integer k to a floor of q / d is adding k * d to q.
 *
 * Single rounding, t = 31 - shift in [32, 54]: requantize(acc) = floor((p + 2^(t - 1)) / 2^t) with
 * p = acc * m, so the output is floor((p + K) / 2^t), K = 2^(t - 1) + oo * 2^t: the high word of the
 * 64-bit p + K shifted right by n = t - 32. |p| < 2^62 and |K| < 2^61, so the sum stays in int64, and
 * its high word, below 2^30 + 2^29 + 2^21 in size, in int32.
 *
 * Double rounding, n = -shift in [1, 22] (no left shift), a2 = 2 * acc within int32 (acc in
 * [-2^30, 2^30)): the high multiply is x = floor((a2 * m + 2^31) / 2^32) (see hk_dsp_mac.h,
 * hk_dsp_requantize_double) and the rounding divide floor((x + h - [x < 0]) / 2^n), h = 2^(n - 1)
 * (ties away from zero; hk_dsp_rq_apply). So the output is floor((a2 * m + K) / 2^(32 + n)) with
 * K = 2^31 + (h - [x < 0] + oo * 2^n) * 2^32, and [x < 0] may be taken as [acc < 0]: acc >= 0 gives
 * x >= 0, and where acc < 0 but x = 0 both give floor((h - [.]) / 2^n) = 0 (1 <= h < 2^n). K's low
 * word is 2^31, its high word h + oo * 2^n, less 1 for acc < 0 (adding acc >> 31). |a2 * m| < 2^62
 * and K's high word is below 2^29 + 2^21 + 1 in size: the high word of the sum fits int32. */
#ifndef HK_DSP_CONV_H
#define HK_DSP_CONV_H

#include <stdint.h>

#include "hk_nn_types.h"
#include "hk_requant.h"

/* One output channel's output stage (the output offset folded into K); two 8-byte pairs for two LDRD. */
typedef struct {
    int32_t lo;         /* K's low word */
    int32_t hi;         /* K's high word (double rounding: for acc >= 0) */
    int32_t multiplier; /* m */
    int32_t n;          /* the final right shift; -1: the shift is outside the ranges above */
    int32_t shift;      /* for the general form */
} hk_dsp_cv_rq;

static inline hk_dsp_cv_rq hk_dsp_cv_rq_prep(int32_t multiplier, int32_t shift, int32_t output_offset,
                                             int32_t rounding)
{
    hk_dsp_cv_rq q;
    q.multiplier = multiplier;
    q.shift = shift;
    q.lo = 0;
    q.hi = 0;
    q.n = -1;
    if (rounding == HK_ROUND_SINGLE) {
        if (shift >= -23 && shift <= -1) {
            const int32_t t = 31 - shift;
            const uint64_t k = ((uint64_t)1 << (t - 1)) + ((uint64_t)(int64_t)output_offset << t);
            q.lo = (int32_t)(uint32_t)k;
            q.hi = (int32_t)(uint32_t)(k >> 32);
            q.n = t - 32;
        }
    } else if (shift >= -22 && shift <= -1) {
        const int32_t n = -shift;
        q.lo = INT32_MIN; /* 2^31 as an unsigned low word */
        q.hi = (int32_t)(1u << (n - 1)) + (int32_t)((uint32_t)output_offset << n);
        q.n = n;
    }
    return q;
}

/* The high word of the 64-bit (hi, lo) + a * m, shifted right by n (SMLAL, ASR). */
static inline int32_t hk_dsp_cv_rq_mla(int32_t lo, int32_t hi, int32_t a, int32_t m, int32_t n)
{
    const uint64_t k = ((uint64_t)(uint32_t)hi << 32) | (uint32_t)lo;
    const uint64_t sum = k + (uint64_t)((int64_t)a * m);
    return (int32_t)(uint32_t)(sum >> 32) >> n;
}

/* requantize(acc) + output_offset by hk_requant.h itself, for the shifts and accumulators the fast
 * forms leave out (rare: kept out of line, so that the loops calling it keep their registers). */
static __attribute__((noinline, unused)) int32_t hk_dsp_cv_rq_general(const hk_dsp_cv_rq *q, int32_t acc,
                                                                      int32_t output_offset, int32_t rounding)
{
    return hk_requantize_rounding(acc, q->multiplier, q->shift, rounding) + output_offset;
}

/* requantize(acc) + output_offset for a channel whose n >= 0; the double rounding falls back on the
 * general form when 2 * acc overflows. */
static inline int32_t hk_dsp_cv_rq_fast(const hk_dsp_cv_rq *q, int32_t acc, int32_t output_offset,
                                        int32_t rounding)
{
    if (rounding == HK_ROUND_SINGLE) {
        return hk_dsp_cv_rq_mla(q->lo, q->hi, acc, q->multiplier, q->n);
    }
    int32_t a2;
    if (__builtin_add_overflow(acc, acc, &a2)) {
        return hk_dsp_cv_rq_general(q, acc, output_offset, rounding);
    }
    return hk_dsp_cv_rq_mla(q->lo, (int32_t)((uint32_t)q->hi + (uint32_t)(acc >> 31)), a2, q->multiplier, q->n);
}

/* requantize(acc) + output_offset for any channel. */
static inline int32_t hk_dsp_cv_rq_out(const hk_dsp_cv_rq *q, int32_t acc, int32_t output_offset, int32_t rounding)
{
    return q->n >= 0 ? hk_dsp_cv_rq_fast(q, acc, output_offset, rounding)
                     : hk_dsp_cv_rq_general(q, acc, output_offset, rounding);
}

#endif
