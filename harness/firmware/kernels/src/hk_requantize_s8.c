/* Portable int8 elementwise rescale onto another grid, with the clamp of a fused activation
 * (TFLite's RELU, RELU6 when the output grid differs from the input's). */
#include "hk_nn.h"
#include "hk_requant.h"
#include "hk_weak.h"

HK_WEAK
int32_t hk_requantize_s8_get_buffer_size(int32_t size)
{
    (void)size;
    return 0;
}

HK_WEAK
hk_status hk_requantize_s8(const hk_context *ctx, const hk_fc_params *params, const hk_quant *quant,
                           int32_t size, const int8_t *input, int8_t *output)
{
    (void)ctx;
    /* copied out before the loop: stores through output (int8_t) may alias anything */
    const int32_t input_offset = params->input_offset, output_offset = params->output_offset;
    const int32_t lo = params->activation.min, hi = params->activation.max;
    const int32_t multiplier = quant->multiplier[0], shift = quant->shift[0], rounding = quant->rounding;
    for (int32_t i = 0; i < size; i++) {
        const int32_t v = hk_requantize_rounding((int32_t)input[i] + input_offset, multiplier, shift, rounding);
        output[i] = hk_clamp_s8(v + output_offset, lo, hi);
    }
    return HK_OK;
}
