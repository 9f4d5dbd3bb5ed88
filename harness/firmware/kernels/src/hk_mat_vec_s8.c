/* Portable int8 matrix-vector product with requantization: the core of the fully connected and
 * 1x1 convolution kernels. */
#include "hk_requant.h"
#include "hk_support.h"
#include "hk_weak.h"

/* The rows for one rounding; called with a constant rounding, so each copy tests it at compile
 * time rather than once per row. */
static inline void hk_mat_vec_rows(const int8_t *input, const int8_t *weights, const int32_t *bias,
                                   int32_t rows, int32_t cols, int32_t input_offset,
                                   int32_t output_offset, const hk_quant *quant,
                                   const hk_activation *activation, int8_t *output, int32_t rounding)
{
    const int32_t per_channel = quant->count > 1;
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *w = weights + r * cols;
        int32_t acc = bias ? bias[r] : 0;
        for (int32_t i = 0; i < cols; i++) {
            acc += (int32_t)w[i] * ((int32_t)input[i] + input_offset);
        }
        const int32_t q = per_channel ? r : 0;
        const int32_t v =
            hk_requantize_rounding(acc, quant->multiplier[q], quant->shift[q], rounding) + output_offset;
        output[r] = hk_clamp_s8(v, activation->min, activation->max);
    }
}

HK_WEAK
void hk_mat_vec_s8(const int8_t *input, const int8_t *weights, const int32_t *bias, int32_t rows,
                   int32_t cols, int32_t input_offset, int32_t output_offset, const hk_quant *quant,
                   const hk_activation *activation, int8_t *output)
{
    if (quant->rounding == HK_ROUND_SINGLE) {
        hk_mat_vec_rows(input, weights, bias, rows, cols, input_offset, output_offset, quant, activation,
                        output, HK_ROUND_SINGLE);
    } else {
        hk_mat_vec_rows(input, weights, bias, rows, cols, input_offset, output_offset, quant, activation,
                        output, HK_ROUND_DOUBLE);
    }
}
