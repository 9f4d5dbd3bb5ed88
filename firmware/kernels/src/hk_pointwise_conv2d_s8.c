/* Portable int8 1x1 convolution: a matrix product per pixel (with an optional stride). */
#include "hk_check.h"
#include "hk_nn.h"
#include "hk_requant.h"

int32_t hk_pointwise_conv2d_s8_get_buffer_size(const hk_dims *input_dims)
{
    (void)input_dims;
    return 0;
}

hk_status hk_pointwise_conv2d_s8(const hk_context *ctx, const hk_conv_params *params,
                                 const hk_quant *quant, const hk_dims *input_dims,
                                 const int8_t *input, const int8_t *filter, const int32_t *bias,
                                 const hk_dims *output_dims, int8_t *output)
{
    (void)ctx;
    if (input == 0 || filter == 0 || output == 0) {
        return HK_ERR_NULL;
    }
    hk_status st = hk_check_conv(params, quant, input_dims, 1, 1, output_dims);
    if (st != HK_OK) {
        return st;
    }
    const hk_padding *pad = &params->padding;
    if (pad->top != 0 || pad->bottom != 0 || pad->left != 0 || pad->right != 0) {
        return HK_ERR_DIMS;
    }
    const int32_t in_w = input_dims->w, in_c = input_dims->c, out_c = output_dims->c;
    const int32_t per_channel = quant->count > 1;
    for (int32_t oy = 0; oy < output_dims->h; oy++) {
        for (int32_t ox = 0; ox < output_dims->w; ox++) {
            const int8_t *x = input + (oy * params->stride.h * in_w + ox * params->stride.w) * in_c;
            int8_t *y = output + (oy * output_dims->w + ox) * out_c;
            for (int32_t oc = 0; oc < out_c; oc++) {
                const int8_t *w = filter + oc * in_c;
                int32_t acc = bias ? bias[oc] : 0;
                for (int32_t ic = 0; ic < in_c; ic++) {
                    acc += (int32_t)w[ic] * ((int32_t)x[ic] + params->input_offset);
                }
                const int32_t q = per_channel ? oc : 0;
                const int32_t v = hk_requantize(acc, quant->multiplier[q], quant->shift[q]) + params->output_offset;
                y[oc] = hk_clamp_s8(v, params->activation.min, params->activation.max);
            }
        }
    }
    return HK_OK;
}
