/* Portable int8 mean over H and W onto another grid (TFLite MEAN): per channel, the int32 sum of
 * (value - zero point), requantized by input_scale / (output_scale * H * W). */
#include "hk_nn.h"
#include "hk_requant.h"
#include "hk_weak.h"

HK_WEAK
int32_t hk_mean_hw_s8_get_buffer_size(const hk_dims *input_dims)
{
    (void)input_dims;
    return 0;
}

HK_WEAK
hk_status hk_mean_hw_s8(const hk_context *ctx, const hk_fc_params *params, const hk_quant *quant,
                        const hk_dims *input_dims, const int8_t *input, int8_t *output)
{
    (void)ctx;
    const int32_t count = input_dims->h * input_dims->w, c = input_dims->c;
    const int32_t input_offset = params->input_offset, output_offset = params->output_offset;
    const int32_t lo = params->activation.min, hi = params->activation.max;
    const int32_t per_channel = quant->count > 1, rounding = quant->rounding;
    for (int32_t ch = 0; ch < c; ch++) {
        /* |value + input_offset| <= 255, so the sum of at most 2^23 of them stays inside int32 */
        int32_t acc = 0;
        for (int32_t i = 0; i < count; i++) {
            acc += (int32_t)input[i * c + ch] + input_offset;
        }
        const int32_t q = per_channel ? ch : 0;
        const int32_t v = hk_requantize_rounding(acc, quant->multiplier[q], quant->shift[q], rounding);
        output[ch] = hk_clamp_s8(v + output_offset, lo, hi);
    }
    return HK_OK;
}
