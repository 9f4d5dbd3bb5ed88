/* Inline helpers of the mve variant (Cortex-M55 Helium, MVE integer instructions through the ACLE
 * intrinsics of <arm_mve.h>): the requantization of four int32 lanes at once, exactly as
 * hk_requant.h computes it per value, and the output stage (offset, clamp, narrowing store).
 *
 * Everything here is static inline: the variant defines no global symbol beside the API functions it
 * replaces, and has no data, no state, no allocation and no floating point (the MVE instructions used
 * are integer ones; the Q registers they name alias the FPU's, which is all they share with it).
 *
 * Without MVE (the host, a Cortex-M4) HK_MVE is 0 and every kernel file takes its portable path, the
 * reference's own arithmetic. */
#ifndef HK_MVE_H
#define HK_MVE_H

#include <stdint.h>

#include "hk_nn_types.h"
#include "hk_requant.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>
#define HK_MVE 1
#else
#define HK_MVE 0
#endif

#define HK_MVE_INLINE static inline __attribute__((always_inline))
/* Kept out of line: rare paths, or loops that should have every register to themselves. */
#define HK_MVE_NOINLINE static __attribute__((noinline, unused))

/* True when every shift of quant lets the vector requantization below run: the double rounding
 * always; the single rounding when every shift is <= -1 (the scales below one half, which is what
 * real layers have). Otherwise the kernels take their portable path for the whole call. */
HK_MVE_INLINE int hk_mve_quant_vectorizable(const hk_quant *quant)
{
    if (quant->rounding != HK_ROUND_SINGLE) {
        return 1;
    }
    for (int32_t i = 0; i < quant->count; i++) {
        if (quant->shift[i] >= 0) {
            return 0;
        }
    }
    return 1;
}

#if HK_MVE

/* A predicate from a constant bit pattern, passed through a register so that the compiler cannot
 * fold it: GCC 12.2 miscompiles constant predicates of 32-bit lanes (a constant 0x00FF reached the
 * VPR as 0xFFFF, all lanes, in a scatter store: found by the fuzzer, seen in the disassembly). */
HK_MVE_INLINE mve_pred16_t hk_mve_pred(uint32_t bits)
{
    __asm__("" : "+r"(bits));
    return (mve_pred16_t)bits;
}

/* ------------------------------------------------------------------------------------------------
 * Four lanes' requantization, lane by lane equal to hk_requantize_rounding.
 *
 * Double rounding (hk_requantize), any shift s in [-31, 30], l = max(s, 0), r = min(s, 0):
 * - (uint32)acc << l: VSHL by a positive register amount, which keeps the low 32 bits (wraps) like
 *   the reference's unsigned shift.
 * - hk_srdhm(a, m): VQRDMULH computes sat((2 * a * m + 2^31) >> 32) = floor((a * m + 2^30) / 2^31),
 *   and hk_srdhm's (a * m + nudge) / 2^31 truncated is that same floor for either sign of a * m
 *   (for a * m < 0, truncating (a * m + 1 - 2^30) / 2^31 is flooring (a * m + 2^30) / 2^31); both
 *   saturate only for a = m = INT32_MIN, which m >= 0 excludes.
 * - hk_rdbpot(x, n), n = -r, ties away from zero: VRSHL by -n rounds half up, (x + 2^(n-1)) >> n in
 *   exact arithmetic, which differs from the reference only on negative ties (x < 0 with remainder
 *   exactly 2^(n-1): the reference rounds down). Subtracting 1 from a negative x first fixes that
 *   and nothing else: for x = q * 2^n + rem < 0, (x - 1 + 2^(n-1)) >> n is q when rem = 0 and
 *   q + [rem - 1 >= 2^(n-1)] = q + [rem > 2^(n-1)] otherwise, the reference's rule. The -1 is
 *   (x & r) >> 31, which is -1 only when x < 0 and r < 0 (n = 0 must not touch x), added with
 *   saturation (VQADD): for x = INT32_MIN the saturated x gives (-2^31 + 2^(n-1)) >> n = -2^(31-n),
 *   the reference's value as well.
 *
 * Single rounding (hk_requantize_single), shift s <= -1, n = -s in [1, 31]: the reference is
 * floor((p + 2^(30 + n)) / 2^(31 + n)), p = acc * m. VQDMULH gives floor(2p / 2^32) = floor(p / 2^31)
 * exactly (no saturation for m >= 0), and a floor of a floor is one floor, so VRSHL by -n of it,
 * floor((floor(p / 2^31) + 2^(n-1)) / 2^n), is floor((p + 2^(30+n)) / 2^(31+n)): the reference.
 * The result of either is then offset (wrapping VADD, as the reference's int32 addition under
 * -fwrapv), clamped (VMAX, VMIN) and narrowed by a truncating byte store, exact since the clamped
 * values lie in [-128, 127].
 * --------------------------------------------------------------------------------------------- */

/* The three per-lane vectors of a requantizer: multiplier, left shift (double) and right shift
 * (<= 0; for the single rounding the shift itself). */
typedef struct {
    int32x4_t m;
    int32x4_t l;
    int32x4_t r;
} hk_mve_rq;

HK_MVE_INLINE hk_mve_rq hk_mve_rq_make(int32x4_t m, int32x4_t s, int32_t rounding)
{
    hk_mve_rq q;
    const int32x4_t zero = vdupq_n_s32(0);
    q.m = m;
    q.l = vmaxq_s32(s, zero);
    q.r = rounding == HK_ROUND_SINGLE ? s : vminq_s32(s, zero);
    return q;
}

/* Lanes q..q+3 of a per-channel requantizer (first < count), or the per-tensor one in every lane.
 * Lanes past the count read nothing (predicated loads) and hold 0 multipliers. */
HK_MVE_INLINE hk_mve_rq hk_mve_rq_load(const hk_quant *quant, int32_t first, int32_t rounding)
{
    if (quant->count > 1) {
        const mve_pred16_t p = vctp32q((uint32_t)(quant->count - first));
        return hk_mve_rq_make(vldrwq_z_s32(quant->multiplier + first, p), vldrwq_z_s32(quant->shift + first, p),
                              rounding);
    }
    return hk_mve_rq_make(vdupq_n_s32(quant->multiplier[0]), vdupq_n_s32(quant->shift[0]), rounding);
}

/* An internal rounding value: HK_ROUND_DOUBLE where every shift is <= 0 (every left shift 0, so
 * that the VSHL by it, the identity, is left out). Never a value of hk_quant.rounding. */
#define HK_MVE_ROUND_DOUBLE_NO_LEFT 2

/* The rounding the kernels' fast paths run quant with: HK_ROUND_SINGLE, HK_ROUND_DOUBLE, or
 * HK_MVE_ROUND_DOUBLE_NO_LEFT. */
HK_MVE_INLINE int32_t hk_mve_rounding(const hk_quant *quant)
{
    if (quant->rounding == HK_ROUND_SINGLE) {
        return HK_ROUND_SINGLE;
    }
    for (int32_t i = 0; i < quant->count; i++) {
        if (quant->shift[i] > 0) {
            return HK_ROUND_DOUBLE;
        }
    }
    return HK_MVE_ROUND_DOUBLE_NO_LEFT;
}

/* requantize(acc) lane by lane, rounding a compile-time constant at every call site. */
HK_MVE_INLINE int32x4_t hk_mve_rq_apply(const hk_mve_rq *q, int32x4_t acc, int32_t rounding)
{
    if (rounding == HK_ROUND_SINGLE) {
        return vrshlq_s32(vqdmulhq_s32(acc, q->m), q->r);
    }
    int32x4_t x = vqrdmulhq_s32(rounding == HK_MVE_ROUND_DOUBLE_NO_LEFT ? acc : vshlq_s32(acc, q->l), q->m);
    x = vqaddq_s32(x, vshrq_n_s32(vandq_s32(x, q->r), 31));
    return vrshlq_s32(x, q->r);
}

/* The output stage after the requantization: + output offset, clamped to [lo, hi]. */
HK_MVE_INLINE int32x4_t hk_mve_out(int32x4_t v, int32_t output_offset, int32x4_t lo, int32x4_t hi)
{
    return vminq_s32(vmaxq_s32(vaddq_n_s32(v, output_offset), lo), hi);
}

#endif /* HK_MVE */

/* The reference's output value, for the portable paths. */
HK_MVE_INLINE int8_t hk_mve_out_scalar(int32_t acc, int32_t multiplier, int32_t shift, int32_t rounding,
                                       int32_t output_offset, const hk_activation *act)
{
    const int32_t v = hk_requantize_rounding(acc, multiplier, shift, rounding) + output_offset;
    return hk_clamp_s8(v, act->min, act->max);
}

#endif
