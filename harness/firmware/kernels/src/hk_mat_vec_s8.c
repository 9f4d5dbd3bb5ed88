/* Portable int8 matrix-vector product with requantization: the core of the fully connected and
 * 1x1 convolution kernels. */
#include "hk_requant.h"
#include "hk_support.h"

void hk_mat_vec_s8(const int8_t *input, const int8_t *weights, const int32_t *bias, int32_t rows,
                   int32_t cols, int32_t input_offset, int32_t output_offset, const hk_quant *quant,
                   const hk_activation *activation, int8_t *output)
{
    const int32_t per_channel = quant->count > 1;
    for (int32_t r = 0; r < rows; r++) {
        const int8_t *w = weights + r * cols;
        int32_t acc = bias ? bias[r] : 0;
        for (int32_t i = 0; i < cols; i++) {
            acc += (int32_t)w[i] * ((int32_t)input[i] + input_offset);
        }
        const int32_t q = per_channel ? r : 0;
        const int32_t v = hk_requantize(acc, quant->multiplier[q], quant->shift[q]) + output_offset;
        output[r] = hk_clamp_s8(v, activation->min, activation->max);
    }
}
