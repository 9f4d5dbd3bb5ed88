/* The 2x2 multiply-accumulate step shared by the dsp variant's 2-D and 1x1 convolutions
 * (hk_conv2d_s8.c, hk_pointwise_conv2d_s8.c): four taps of two filter rows (w0, w1) against a pixel
 * pair's buffer b, laid out per group of four taps as (pixel 0 taps 0, 2), (pixel 1 taps 0, 2),
 * (pixel 0 taps 1, 3), (pixel 1 taps 1, 3), int16 halfwords with the input offset added: the order
 * SXTB16 takes a weight word's bytes in. Exactness: see hk_dsp_mac.h (the same products, summed
 * modulo 2^32 in another order). Also their output stage for two sums of a channel. Static inline
 * and asm strings only: no symbol. */
#ifndef HK_DSP_GROUP_H
#define HK_DSP_GROUP_H

#include "hk_dsp_conv.h"
#include "hk_dsp_mac.h"

/* One group of four taps of filter rows w0 and w1 for the two pixels: two LDR and four SXTB16 of
 * weights, two LDRD of the patch, eight SMLAD. (In assembly: compiled from C, the loop's sixteen
 * live values spill or the accumulators get shuffled between registers.) */
#define HK_DSP_CV_GROUP                                                                                       \
    "ldr    %[u], [%[w0]], #4\n\t"                                                                           \
    "ldr    %[v], [%[w1]], #4\n\t"                                                                           \
    "ldrd   %[x0], %[x1], [%[b]], #8\n\t"                                                                    \
    "sxtb16 %[t], %[u]\n\t"                                                                                  \
    "smlad  %[a00], %[t], %[x0], %[a00]\n\t"                                                                 \
    "smlad  %[a01], %[t], %[x1], %[a01]\n\t"                                                                 \
    "sxtb16 %[t], %[v]\n\t"                                                                                  \
    "smlad  %[a10], %[t], %[x0], %[a10]\n\t"                                                                 \
    "smlad  %[a11], %[t], %[x1], %[a11]\n\t"                                                                 \
    "ldrd   %[x0], %[x1], [%[b]], #8\n\t"                                                                    \
    "sxtb16 %[t], %[u], ror #8\n\t"                                                                          \
    "smlad  %[a00], %[t], %[x0], %[a00]\n\t"                                                                 \
    "smlad  %[a01], %[t], %[x1], %[a01]\n\t"                                                                 \
    "sxtb16 %[t], %[v], ror #8\n\t"                                                                          \
    "smlad  %[a10], %[t], %[x0], %[a10]\n\t"                                                                 \
    "smlad  %[a11], %[t], %[x1], %[a11]\n\t"

#define HK_DSP_CV_GROUP_OPERANDS                                                                              \
    [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [b] "+r"(b), [w0] "+r"(w0),            \
        [w1] "+r"(w1), [u] "=&r"(u), [v] "=&r"(v), [x0] "=&r"(x0), [x1] "=&r"(x1), [t] "=&r"(t)

/* All `quads` groups of a pair of rows: four per turn of a loop, then the two and the one left over
 * (the variables of HK_DSP_CV_GROUP_OPERANDS in scope). */
#define HK_DSP_CV_GROUPS(quads)                                                                               \
    do {                                                                                                      \
        int32_t fours = (quads) >> 2;                                                                         \
        if (fours > 0) {                                                                                      \
            __asm__("1:\n\t" HK_DSP_CV_GROUP HK_DSP_CV_GROUP HK_DSP_CV_GROUP HK_DSP_CV_GROUP                   \
                    "subs   %[n], %[n], #1\n\t"                                                               \
                    "bne    1b"                                                                               \
                    : HK_DSP_CV_GROUP_OPERANDS, [n] "+r"(fours)                                               \
                    :                                                                                         \
                    : "cc", "memory");                                                                        \
        }                                                                                                     \
        if ((quads) & 2) {                                                                                    \
            __asm__(HK_DSP_CV_GROUP HK_DSP_CV_GROUP : HK_DSP_CV_GROUP_OPERANDS : : "memory");                 \
        }                                                                                                     \
        if ((quads) & 1) {                                                                                    \
            __asm__(HK_DSP_CV_GROUP : HK_DSP_CV_GROUP_OPERANDS : : "memory");                                 \
        }                                                                                                     \
    } while (0)

#if HK_DSP_SIMD

/* requantize + output offset of two sums x and y of one channel (its output stage q, hk_dsp_conv.h),
 * in place, with the double rounding: hk_dsp_cv_rq_fast instruction for instruction, for a call
 * whose every shift is within the fast range (so q->n >= 0) and every sum within [-2^30, 2^30) (so
 * 2 * sum does not overflow: the callers check a bound on the biases). In asm so that the channel's
 * four words come in two LDRD and stay in registers for both sums. */
HK_DSP_ALWAYS_INLINE void hk_dsp_cv_out2(const hk_dsp_cv_rq *q, int32_t *x, int32_t *y)
{
    int32_t lo, hi, m, n, h;
    __asm__("ldrd   %[lo], %[hi], [%[q]]\n\t"
            "ldrd   %[m], %[n], [%[q], #8]\n\t"
            "add    %[h], %[hi], %[x], asr #31\n\t" /* less 1 when x < 0 */
            "add    %[x], %[x], %[x]\n\t"
            "add    %[hi], %[hi], %[y], asr #31\n\t"
            "add    %[y], %[y], %[y]\n\t"
            "smlal  %[lo], %[h], %[x], %[m]\n\t"
            "ldr    %[lo], [%[q]]\n\t"
            "asr    %[x], %[h], %[n]\n\t"
            "smlal  %[lo], %[hi], %[y], %[m]\n\t"
            "asr    %[y], %[hi], %[n]"
            : [lo] "=&r"(lo), [hi] "=&r"(hi), [m] "=&r"(m), [n] "=&r"(n), [h] "=&r"(h), [x] "+r"(*x), [y] "+r"(*y)
            : [q] "r"(q), "m"(*q));
}

#endif

#endif
