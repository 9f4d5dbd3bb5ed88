/* Portable int8 fully connected layer, weights [out][in]. */
#include "hk_check.h"
#include "hk_nn.h"
#include "hk_requant.h"

int32_t hk_fully_connected_s8_get_buffer_size(int32_t input_size)
{
    (void)input_size;
    return 0;
}

hk_status hk_fully_connected_s8(const hk_context *ctx, const hk_fc_params *params,
                                const hk_quant *quant, int32_t input_size, const int8_t *input,
                                int32_t output_size, const int8_t *weights, const int32_t *bias,
                                int8_t *output)
{
    (void)ctx;
    if (params == 0 || input == 0 || weights == 0 || output == 0) {
        return HK_ERR_NULL;
    }
    if (input_size <= 0 || output_size <= 0) {
        return HK_ERR_DIMS;
    }
    hk_status st;
    if ((st = hk_check_offsets(params->input_offset, params->output_offset)) != HK_OK ||
        (st = hk_check_activation(&params->activation)) != HK_OK ||
        (st = hk_check_quant(quant, output_size)) != HK_OK) {
        return st;
    }
    const int32_t per_channel = quant->count > 1;
    for (int32_t o = 0; o < output_size; o++) {
        const int8_t *w = weights + o * input_size;
        int32_t acc = bias ? bias[o] : 0;
        for (int32_t i = 0; i < input_size; i++) {
            acc += (int32_t)w[i] * ((int32_t)input[i] + params->input_offset);
        }
        const int32_t q = per_channel ? o : 0;
        const int32_t v = hk_requantize(acc, quant->multiplier[q], quant->shift[q]) + params->output_offset;
        output[o] = hk_clamp_s8(v, params->activation.min, params->activation.max);
    }
    return HK_OK;
}
