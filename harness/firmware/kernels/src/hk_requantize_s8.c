/* Portable int8 elementwise rescale onto another grid, with the clamp of a fused activation
 * (TFLite's RELU, RELU6 when the output grid differs from the input's). */
#include "hk_check.h"
#include "hk_nn.h"
#include "hk_requant.h"
#include "hk_weak.h"

/* The scratch this kernel needs for these shapes. Its own check calls this, not the public
 * function below, which a kernel variant may replace (hk_weak.h). */
static int32_t buffer_size(int32_t size)
{
    (void)size;
    return 0;
}

HK_WEAK
int32_t hk_requantize_s8_get_buffer_size(int32_t size)
{
    return buffer_size(size);
}

HK_WEAK
hk_status hk_requantize_s8(const hk_context *ctx, const hk_fc_params *params, const hk_quant *quant,
                           int32_t size, const int8_t *input, int8_t *output)
{
    if (input == 0 || output == 0) {
        return HK_ERR_NULL;
    }
    if (size <= 0) {
        return HK_ERR_DIMS;
    }
    hk_status st;
    if ((st = hk_check_rescale(params, quant, 1)) != HK_OK ||
        (st = hk_check_context(ctx, buffer_size(size))) != HK_OK) {
        return st;
    }
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
