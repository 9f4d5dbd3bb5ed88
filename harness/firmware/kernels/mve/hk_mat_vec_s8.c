/* Matrix-vector product of the mve variant: hk_mat_vec_s8 of hk_support.h (the core of the fully
 * connected kernel), with the portable kernel's results bit for bit.
 *
 * Rows go four at a time: two passes of two rows over the input (hk_mve_dot1x2_sum), each 16 taps
 * costing three loads, two VMLADAVA for the products and two VADDVA for the rows' weight sums, which
 * carry the input offset (hk_mve_dot.h: acc = bias + w . x + input_offset * sum(w), modulo 2^32 as
 * the reference's). The four sums are then requantized as one vector (hk_mve.h) and stored as four
 * bytes, the last incomplete group of rows with predication. A single-rounding requantizer with a
 * shift >= 0 (a scale of one half or more) takes the portable path, the reference's loop. */
#include "hk_mve_dot.h"
#include "hk_support.h"

#if HK_MVE

HK_MVE_INLINE void hk_mve_mat_vec_rows(const int8_t *input, const int8_t *weights, const int32_t *bias, int32_t rows,
                                       int32_t cols, int32_t input_offset, int32_t output_offset,
                                       const hk_quant *quant, const hk_activation *activation, int8_t *output,
                                       int32_t rounding)
{
    const int32x4_t lo = vdupq_n_s32(activation->min), hi = vdupq_n_s32(activation->max);
    const hk_mve_rq tensor_rq = hk_mve_rq_load(quant, 0, rounding);
    for (int32_t r = 0; r < rows; r += 4) {
        const int32_t left = rows - r;
        const int8_t *w = weights + r * cols;
        int32_t s[4] = {0, 0, 0, 0}, sw[4] = {0, 0, 0, 0};
        hk_mve_dot1x2_sum(w, left > 1 ? w + cols : w, input, cols, s, sw);
        if (left > 2) {
            hk_mve_dot1x2_sum(w + 2 * cols, left > 3 ? w + 3 * cols : w + 2 * cols, input, cols, s + 2, sw + 2);
        }
        const mve_pred16_t p = vctp32q((uint32_t)left);
        int32x4_t acc = vdupq_n_s32(0);
        acc = vsetq_lane_s32(s[0] + input_offset * sw[0], acc, 0);
        acc = vsetq_lane_s32(s[1] + input_offset * sw[1], acc, 1);
        acc = vsetq_lane_s32(s[2] + input_offset * sw[2], acc, 2);
        acc = vsetq_lane_s32(s[3] + input_offset * sw[3], acc, 3);
        if (bias) {
            acc = vaddq_s32(acc, vldrwq_z_s32(bias + r, p));
        }
        const hk_mve_rq rq = quant->count > 1 ? hk_mve_rq_load(quant, r, rounding) : tensor_rq;
        vstrbq_p_s32(output + r, hk_mve_out(hk_mve_rq_apply(&rq, acc, rounding), output_offset, lo, hi), p);
    }
}

#endif /* HK_MVE */

void hk_mat_vec_s8(const int8_t *input, const int8_t *weights, const int32_t *bias, int32_t rows, int32_t cols,
                   int32_t input_offset, int32_t output_offset, const hk_quant *quant,
                   const hk_activation *activation, int8_t *output)
{
#if HK_MVE
    if (hk_mve_quant_vectorizable(quant)) {
        if (quant->rounding == HK_ROUND_SINGLE) {
            hk_mve_mat_vec_rows(input, weights, bias, rows, cols, input_offset, output_offset, quant, activation,
                                output, HK_ROUND_SINGLE);
        } else {
            hk_mve_mat_vec_rows(input, weights, bias, rows, cols, input_offset, output_offset, quant, activation,
                                output, HK_ROUND_DOUBLE);
        }
        return;
    }
#endif
    const int32_t per_channel = quant->count > 1;
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *w = weights + r * cols;
        int32_t acc = bias ? bias[r] : 0;
        for (int32_t i = 0; i < cols; i++) {
            acc += (int32_t)w[i] * ((int32_t)input[i] + input_offset);
        }
        const int32_t q = per_channel ? r : 0;
        output[r] = hk_mve_out_scalar(acc, quant->multiplier[q], quant->shift[q], quant->rounding, output_offset,
                                      activation);
    }
}
