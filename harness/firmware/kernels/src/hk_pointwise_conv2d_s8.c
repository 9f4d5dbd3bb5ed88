/* Portable int8 1x1 convolution: a matrix product per pixel (with an optional stride). */
#include "hk_nn.h"
#include "hk_support.h"
#include "hk_weak.h"

HK_WEAK
int32_t hk_pointwise_conv2d_s8_get_buffer_size(const hk_dims *input_dims)
{
    (void)input_dims;
    return 0;
}

HK_WEAK
hk_status hk_pointwise_conv2d_s8(const hk_context *ctx, const hk_conv_params *params,
                                 const hk_quant *quant, const hk_dims *input_dims,
                                 const int8_t *input, const int8_t *filter, const int32_t *bias,
                                 const hk_dims *output_dims, int8_t *output)
{
    (void)ctx;
    const int32_t in_w = input_dims->w, in_c = input_dims->c, out_c = output_dims->c;
    for (int32_t oy = 0; oy < output_dims->h; oy++) {
        for (int32_t ox = 0; ox < output_dims->w; ox++) {
            const int8_t *x = input + (oy * params->stride.h * in_w + ox * params->stride.w) * in_c;
            hk_mat_vec_s8(x, filter, bias, out_c, in_c, params->input_offset, params->output_offset, quant,
                          &params->activation, output + (oy * output_dims->w + ox) * out_c);
        }
    }
    return HK_OK;
}
