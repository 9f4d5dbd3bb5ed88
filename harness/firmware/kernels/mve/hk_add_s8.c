/* Elementwise add of the mve variant: hk_add_s8 as in hk_nn.h (TFLite ADD), with the portable
 * kernel's results bit for bit: four elements per vector of int32 lanes, the last vector predicated.
 *
 * The reference computes, per element, a = rq((q1 + off1) << L, m1, s1), b = rq((q2 + off2) << L,
 * m2, s2), out = clamp(rq(a + b, m3, s3) + out_off, lo, hi), rq = hk_requantize: the operand shifted
 * left by max(s, 0) (modulo 2^32), a saturating rounding doubling high multiply, a rounding divide by
 * 2^max(-s, 0). Here:
 * - An input's operand ((q + off) << L) << max(s, 0), both shifts modulo 2^32, is (q + off) * 2^k
 *   modulo 2^32 with k = L + max(s, 0), which is q * 2^k + off * 2^k modulo 2^32: one VMLAS (the
 *   lanes times the vector 2^k, plus the scalar off * 2^k, wrapping; 2^31 is INT32_MIN, whose product
 *   modulo 2^32 is the shift's). For k >= 32 the operand is 0 for every q, and rq(0) = 0: the input's
 *   multiplier is then taken as 0 and k as 0, which gives that 0.
 * - The multiply and the rounding divide are hk_mve_rq_apply's (hk_mve.h: VQRDMULH, a -1 for
 *   negative values when the divide rounds, VRSHL), lane for lane equal to hk_srdhm and hk_rdbpot.
 * - a + b wraps as the reference's int32 sum does under -fwrapv (VADD), and the output stage is
 *   hk_mve_rq_apply and hk_mve_out. */
#include "hk_mve.h"
#include "hk_nn.h"

#if HK_MVE

/* One input's operand stage: the multiplier (0 when the operand is always 0), 2^k in every lane,
 * off * 2^k, and the divide's shift vector -max(-s, 0). */
typedef struct {
    int32_t m;
    int32x4_t pow;
    int32_t add;
    int32x4_t r;
} hk_mve_add_in;

HK_MVE_INLINE hk_mve_add_in hk_mve_add_in_make(int32_t off, int32_t m, int32_t s, int32_t left_shift)
{
    hk_mve_add_in in;
    int32_t k = left_shift + (s > 0 ? s : 0);
    in.m = m;
    if (k >= 32) {
        k = 0;
        in.m = 0;
    }
    in.pow = vdupq_n_s32((int32_t)(1u << k));
    in.add = (int32_t)((uint32_t)off << k);
    in.r = vdupq_n_s32(s < 0 ? s : 0);
    return in;
}

/* rq(x + off) for four int8 values x, already sign-extended. */
HK_MVE_INLINE int32x4_t hk_mve_add_input(const hk_mve_add_in *in, int32x4_t x)
{
    int32x4_t y = vqrdmulhq_n_s32(vmlasq_n_s32(x, in->pow, in->add), in->m);
    y = vqaddq_s32(y, vshrq_n_s32(vandq_s32(y, in->r), 31));
    return vrshlq_s32(y, in->r);
}

#endif /* HK_MVE */

hk_status hk_add_s8(const hk_add_params *params, int32_t size, const int8_t *input1, const int8_t *input2,
                    int8_t *output)
{
#if HK_MVE
    const hk_mve_add_in in1 =
        hk_mve_add_in_make(params->input1_offset, params->input1_multiplier, params->input1_shift, params->left_shift);
    const hk_mve_add_in in2 =
        hk_mve_add_in_make(params->input2_offset, params->input2_multiplier, params->input2_shift, params->left_shift);
    const hk_mve_rq rq3 = hk_mve_rq_make(vdupq_n_s32(params->output_multiplier), vdupq_n_s32(params->output_shift),
                                         HK_ROUND_DOUBLE);
    const int32x4_t lo = vdupq_n_s32(params->activation.min), hi = vdupq_n_s32(params->activation.max);
    const int32_t out_off = params->output_offset;
    for (int32_t i = 0; i < size; i += 4) {
        const mve_pred16_t p = vctp32q((uint32_t)(size - i));
        const int32x4_t a = hk_mve_add_input(&in1, vldrbq_z_s32(input1 + i, p));
        const int32x4_t b = hk_mve_add_input(&in2, vldrbq_z_s32(input2 + i, p));
        const int32x4_t r = hk_mve_rq_apply(&rq3, vaddq_s32(a, b), HK_ROUND_DOUBLE);
        vstrbq_p_s32(output + i, hk_mve_out(r, out_off, lo, hi), p);
    }
#else
    for (int32_t i = 0; i < size; i++) {
        const uint32_t a_shifted = (uint32_t)((int32_t)input1[i] + params->input1_offset) << params->left_shift;
        const uint32_t b_shifted = (uint32_t)((int32_t)input2[i] + params->input2_offset) << params->left_shift;
        const int32_t a = hk_requantize((int32_t)a_shifted, params->input1_multiplier, params->input1_shift);
        const int32_t b = hk_requantize((int32_t)b_shifted, params->input2_multiplier, params->input2_shift);
        const int32_t sum = hk_requantize(a + b, params->output_multiplier, params->output_shift);
        output[i] = hk_clamp_s8(sum + params->output_offset, params->activation.min, params->activation.max);
    }
#endif
    return HK_OK;
}
