/* Inline helpers of the dsp variant's matrix-vector product and 1x1 convolution: loads and sign
 * extension for the Cortex-M4/M7 DSP extension (SXTB16, SXTAB16 and SMLAD through ACLE intrinsics),
 * and a requantization that gives exactly the results of hk_requant.h with fewer instructions.
 *
 * Exactness. The reference accumulates bias[r] + sum_i w[r][i] * (x[i] + input_offset) in int32
 * with -fwrapv, so its result is that sum modulo 2^32. SMLAD adds two 16x16-bit products to a
 * 32-bit accumulator modulo 2^32 as well, and every operand fits its 16-bit half: a weight is in
 * [-128, 127] and x + input_offset in [-255, 255]. Addition modulo 2^32 is associative and
 * commutative, so any order of the same products gives the same accumulator, bit for bit.
 *
 * Everything here is static: the variant defines no global symbol beside the API functions it
 * replaces. No floating point, no allocation, no state between calls. */
#ifndef HK_DSP_MAC_H
#define HK_DSP_MAC_H

#include <stdint.h>

#include "hk_nn_types.h"
#include "hk_requant.h"

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#define HK_DSP_SIMD 1
#else
#define HK_DSP_SIMD 0
#endif

#define HK_DSP_ALWAYS_INLINE static inline __attribute__((always_inline))
/* An inner loop kept out of line, so that it has every register to itself. */
#define HK_DSP_NOINLINE static __attribute__((noinline, unused))
/* The exact general form, for the rare values the fast paths do not cover. Inlined all the same: a
 * call there, however rarely taken, costs the fast path registers around it (measured: +4% on a
 * 1x1 convolution). */
#define HK_DSP_SLOW static inline __attribute__((always_inline))

/* ------------------------------------------------------------------------------------------------
 * Requantization, exactly as hk_requantize / hk_requantize_single for multiplier >= 0 and shift in
 * [HK_SHIFT_MIN, HK_SHIFT_MAX] (the kernels check both before any of this runs).
 * --------------------------------------------------------------------------------------------- */

/* hk_requantize. Its saturating rounding doubling high multiply is (p + nudge) / 2^31 truncated,
 * p = a * m, nudge = 2^30 for p >= 0 and 1 - 2^30 for p < 0; the saturation case needs
 * m == INT32_MIN, which a multiplier >= 0 never is. For p >= 0 the quotient is floor((p + 2^30) /
 * 2^31). For p < 0, q = p + 1 - 2^30 is negative, and truncating q / 2^31 is ceil(q / 2^31) =
 * floor((q + 2^31 - 1) / 2^31) = floor((p + 2^30) / 2^31): one arithmetic shift of p + 2^30 in both
 * cases (|p| < 2^62, so neither the sum nor the 32-bit result overflows). The rounding divide by
 * 2^n is the reference's own (remainder against threshold), with the comparison rem > thr done as
 * the sign of thr - rem (both in [0, 2^31), so the difference cannot overflow). */
HK_DSP_SLOW int32_t hk_dsp_requantize_double(int32_t acc, int32_t multiplier, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0;
    const int32_t right = left - shift; /* max(-shift, 0), in [0, 31] */
    const int32_t a = (int32_t)((uint32_t)acc << left);
    const int32_t x = (int32_t)(((int64_t)a * multiplier + ((int64_t)1 << 30)) >> 31);
    const uint32_t mask = (1u << right) - 1u;
    const int32_t rem = (int32_t)((uint32_t)x & mask);
    const int32_t thr = (int32_t)(mask >> 1) + (int32_t)((uint32_t)x >> 31);
    return (x >> right) + (int32_t)((uint32_t)(thr - rem) >> 31);
}

/* hk_requantize_single: (p + 2^(t - 1)) >> t with p = acc * m and t = 31 - shift in [1, 62].
 * Write p = h * 2^32 + l, 0 <= l < 2^32, h = p >> 32 (the high word of SMULL).
 * t == 32 (shift -1): (p + 2^31) >> 32, the high word rounded once (SMMULR's arithmetic).
 * t > 32: the rounding term 2^(t - 1) lies in h's bits, so (p + 2^(t-1)) >> t =
 * floor(((h + 2^(t-33)) * 2^32 + l) / 2^t) = (h + 2^(t - 33)) >> (t - 32): l < 2^32 never carries
 * across a multiple of 2^t. |h| <= 2^30 and 2^(t - 33) <= 2^29, so that sum stays within int32.
 * t < 32 (shift >= 0, scales of a half and more): the reference's 64-bit expression. */
HK_DSP_SLOW int32_t hk_dsp_requantize_single(int32_t acc, int32_t multiplier, int32_t shift)
{
    const int64_t p = (int64_t)acc * multiplier;
    if (shift < -1) {
        const int32_t k = -1 - shift; /* t - 32, in [1, 30] */
        const int32_t h = (int32_t)(p >> 32);
        return (h + (int32_t)(1u << (k - 1))) >> k;
    }
    if (shift == -1) {
        return (int32_t)((p + ((int64_t)1 << 31)) >> 32);
    }
    const int32_t t = 31 - shift;
    return (int32_t)((p + ((int64_t)1 << (t - 1))) >> t);
}

/* SMMULR: the high word of a * b rounded, (a * b + 2^31) >> 32. */
HK_DSP_ALWAYS_INLINE int32_t hk_dsp_smmulr(int32_t a, int32_t b)
{
#if HK_DSP_SIMD
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    return (int32_t)(((int64_t)a * b + ((int64_t)1 << 31)) >> 32);
#endif
}

/* One output channel's requantizer, with what the fast paths below need computed once per channel
 * (hk_dsp_rq_prep) rather than once per output value. */
typedef struct {
    int32_t multiplier;
    int32_t left;  /* double: max(shift, 0) */
    int32_t half;  /* double: 2^(right - 1), 0 when right = 0; single: low word of 2^(t - 1) */
    int32_t fix;   /* double: -1 when right > 0, else 0; single: high word of 2^(t - 1) */
    int32_t right; /* double: max(-shift, 0); single: t - 32 = -1 - shift (fast path when >= 0) */
} hk_dsp_rq;

HK_DSP_ALWAYS_INLINE hk_dsp_rq hk_dsp_rq_prep(int32_t multiplier, int32_t shift, int32_t rounding)
{
    hk_dsp_rq q;
    q.multiplier = multiplier;
    if (rounding == HK_ROUND_SINGLE) {
        q.left = 0;
        q.right = -1 - shift;
        q.half = q.right == 0 ? INT32_MIN : 0;                      /* t = 32: 2^31, all low word */
        q.fix = q.right > 0 ? (int32_t)(1u << (q.right - 1)) : 0; /* t > 32: 2^(t - 33) high */
    } else {
        q.left = shift > 0 ? shift : 0;
        q.right = q.left - shift;
        q.half = (int32_t)((1u << q.right) >> 1);
        q.fix = (int32_t)(0u - (uint32_t)q.right) >> 31;
    }
    return q;
}

/* hk_requantize_rounding(acc, q's multiplier, q's shift, rounding), exactly.
 *
 * Double rounding, when a = acc << left satisfies -2^30 <= a < 2^30 (2a does not overflow, which
 * holds for every accumulator of ordinary size): the high multiply is (a * m + 2^30) >> 31 (see
 * hk_dsp_requantize_double) = (2a * m + 2^31) >> 32, one SMMULR. Its result x then lies in
 * [-2^30 + 1, 2^30 - 1], so x + 2^(n - 1) - 1 cannot overflow, and the rounding divide by 2^n (ties
 * away from zero) is (x + 2^(n - 1) - [x < 0]) >> n for n >= 1, and x for n = 0 (half = fix = 0).
 * Check against the reference: for x >= 0 it rounds up when the remainder is >= 2^(n - 1); for
 * x < 0 when it is > 2^(n - 1), that is >= 2^(n - 1) + 1. Larger a: the general form.
 *
 * Single rounding with t = 31 - shift >= 32: (p + 2^(t - 1)) >> t with the rounding term split into
 * its two 32-bit words (SMLAL onto them), the high word of the sum shifted by t - 32. |p| < 2^62,
 * so the high word of the sum fits and the result equals the reference's (no wrap). t < 32: the
 * general form. */
HK_DSP_ALWAYS_INLINE int32_t hk_dsp_rq_apply(const hk_dsp_rq *q, int32_t acc, int32_t rounding)
{
    if (rounding == HK_ROUND_SINGLE) {
        if (q->right >= 0) {
            const uint64_t round = ((uint64_t)(uint32_t)q->fix << 32) | (uint32_t)q->half;
            const int64_t sum = (int64_t)acc * q->multiplier + (int64_t)round;
            return (int32_t)(sum >> 32) >> q->right;
        }
        return hk_dsp_requantize_single(acc, q->multiplier, -1 - q->right);
    }
    const int32_t a = (int32_t)((uint32_t)acc << q->left);
    int32_t a2;
    if (!__builtin_add_overflow(a, a, &a2)) {
        const int32_t x = hk_dsp_smmulr(a2, q->multiplier);
        return (x + q->half + ((x >> 31) & q->fix)) >> q->right;
    }
    return hk_dsp_requantize_double(acc, q->multiplier, q->left - q->right);
}

HK_DSP_ALWAYS_INLINE int8_t hk_dsp_clamp(int32_t v, int32_t act_min, int32_t act_max)
{
    v = v < act_min ? act_min : v;
    return (int8_t)(v > act_max ? act_max : v);
}

/* ------------------------------------------------------------------------------------------------
 * Loads, sign extension and the 4-lane output stage.
 * --------------------------------------------------------------------------------------------- */

/* Four int8 as one 32-bit word (byte k in bits 8k..8k+7): a single LDR, which the Cortex-M4 allows
 * at any alignment (LDRD and LDM it does not). */
HK_DSP_ALWAYS_INLINE uint32_t hk_dsp_load4(const int8_t *p)
{
    uint32_t v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

#if HK_DSP_SIMD

/* Bytes 1 and 3 of v, sign-extended into the two halfwords: SXTB16 with its built-in rotation
 * (ACLE's __sxtb16 has no rotation operand and GCC does not fold a separate rotate into it). */
HK_DSP_ALWAYS_INLINE int32_t hk_dsp_sxtb16_odd(uint32_t v)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

/* a + bytes 1 and 3 of v, halfword by halfword (SXTAB16 with rotation). */
HK_DSP_ALWAYS_INLINE int32_t hk_dsp_sxtab16_odd(int32_t a, uint32_t v)
{
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(v));
    return r;
}

/* Bytes 0 and 2 of v, sign-extended into the two halfwords. */
HK_DSP_ALWAYS_INLINE int32_t hk_dsp_sxtb16_even(uint32_t v)
{
    return __sxtb16(v);
}

/* a + bytes 0 and 2 of v, halfword by halfword. */
HK_DSP_ALWAYS_INLINE int32_t hk_dsp_sxtab16_even(int32_t a, uint32_t v)
{
    return __sxtab16(a, v);
}

/* acc + sum over the four bytes of w times the matching input, whose bytes 0 and 2 are xe's halves
 * and bytes 1 and 3 xo's. */
HK_DSP_ALWAYS_INLINE int32_t hk_dsp_mac4(int32_t acc, uint32_t w, int32_t xe, int32_t xo)
{
    acc = __smlad(hk_dsp_sxtb16_even(w), xe, acc);
    return __smlad(hk_dsp_sxtb16_odd(w), xo, acc);
}

/* The byte k (k = 0..3) of the result is v[k] clamped to [-128, 127] (SSAT, then BFI). */
HK_DSP_ALWAYS_INLINE uint32_t hk_dsp_pack4(int32_t v0, int32_t v1, int32_t v2, int32_t v3)
{
    uint32_t p = (uint32_t)__ssat(v0, 8);
    __asm__("bfi %0, %1, #8, #8" : "+r"(p) : "r"(__ssat(v1, 8)));
    __asm__("bfi %0, %1, #16, #8" : "+r"(p) : "r"(__ssat(v2, 8)));
    __asm__("bfi %0, %1, #24, #8" : "+r"(p) : "r"(__ssat(v3, 8)));
    return p;
}

/* Each byte of p clamped to [lo, hi], the activation replicated into every byte
 * (lo4 = lo * 0x01010101, hi4 likewise): SSUB8 sets a lane's GE flag where p >= the bound, SEL
 * picks by it. Clamping to [-128, 127] first (pack4) changes nothing, since -128 <= lo <= hi <= 127. */
HK_DSP_ALWAYS_INLINE uint32_t hk_dsp_clamp4(uint32_t p, uint32_t lo4, uint32_t hi4)
{
    (void)__ssub8((int8x4_t)p, (int8x4_t)lo4);
    p = (uint32_t)__sel((int8x4_t)p, (int8x4_t)lo4);
    (void)__ssub8((int8x4_t)p, (int8x4_t)hi4);
    return (uint32_t)__sel((int8x4_t)hi4, (int8x4_t)p);
}

HK_DSP_ALWAYS_INLINE uint32_t hk_dsp_splat4(int32_t v)
{
    return ((uint32_t)v & 0xFFu) * 0x01010101u;
}

/* The halfword pair (v, v): the input offset added to two sign-extended inputs at once. */
HK_DSP_ALWAYS_INLINE int32_t hk_dsp_splat2(int32_t v)
{
    return (int32_t)(((uint32_t)v & 0xFFFFu) * 0x00010001u);
}

/* Two consecutive words at *p, which is 4-byte aligned, in one LDRD that also advances p past them.
 * (GCC loads the pair with two LDRs or holds more registers than the loops have.) */
HK_DSP_ALWAYS_INLINE void hk_dsp_load2_next(const int32_t **p, int32_t *lo, int32_t *hi)
{
    const int32_t *q = *p;
    __asm__("ldrd %0, %1, [%2], #8" : "=r"(*lo), "=r"(*hi), "+r"(q) : "m"(*(const int32_t(*)[2])q));
    *p = q;
}

/* Two words to *p, which is 4-byte aligned, in one STRD that also advances p past them. */
HK_DSP_ALWAYS_INLINE void hk_dsp_store2_next(int32_t **p, int32_t lo, int32_t hi)
{
    int32_t *q = *p;
    __asm__("strd %2, %3, [%1], #8" : "=m"(*(int32_t(*)[2])q), "+r"(q) : "r"(lo), "r"(hi));
    *p = q;
}

/* Eight int8 at *p, which is 4-byte aligned, in one LDRD that also advances p past them. */
HK_DSP_ALWAYS_INLINE void hk_dsp_load8_next(const int8_t **p, uint32_t *lo, uint32_t *hi)
{
    const int8_t *q = *p;
    __asm__("ldrd %0, %1, [%2], #8" : "=r"(*lo), "=r"(*hi), "+r"(q) : "m"(*(const int8_t(*)[8])q));
    *p = q;
}

#endif /* HK_DSP_SIMD */

#endif
