/* Portable int8 depthwise convolution with a channel multiplier. */
#include "hk_nn.h"
#include "hk_requant.h"
#include "hk_weak.h"

HK_WEAK
int32_t hk_depthwise_conv2d_s8_get_buffer_size(const hk_dims *input_dims, const hk_dims *filter_dims)
{
    (void)input_dims;
    (void)filter_dims;
    return 0;
}

HK_WEAK
hk_status hk_depthwise_conv2d_s8(const hk_context *ctx, const hk_conv_params *params,
                                 const hk_quant *quant, const hk_dims *input_dims,
                                 const int8_t *input, const hk_dims *filter_dims,
                                 const int8_t *filter, const int32_t *bias,
                                 const hk_dims *output_dims, int8_t *output)
{
    (void)ctx;
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t out_c = output_dims->c, mult = out_c / in_c;
    const int32_t per_channel = quant->count > 1;
    const int32_t rounding = quant->rounding;
    for (int32_t oy = 0; oy < output_dims->h; oy++) {
        const int32_t y0 = oy * params->stride.h - params->padding.top;
        for (int32_t ox = 0; ox < output_dims->w; ox++) {
            const int32_t x0 = ox * params->stride.w - params->padding.left;
            for (int32_t oc = 0; oc < out_c; oc++) {
                const int32_t ic = oc / mult;
                int32_t acc = bias ? bias[oc] : 0;
                for (int32_t ky = 0; ky < filter_dims->h; ky++) {
                    const int32_t iy = y0 + ky * params->dilation.h;
                    if (iy < 0 || iy >= in_h) {
                        continue;
                    }
                    for (int32_t kx = 0; kx < filter_dims->w; kx++) {
                        const int32_t ix = x0 + kx * params->dilation.w;
                        if (ix < 0 || ix >= in_w) {
                            continue;
                        }
                        const int32_t x = input[(iy * in_w + ix) * in_c + ic];
                        const int32_t w = filter[(ky * filter_dims->w + kx) * out_c + oc];
                        acc += w * (x + params->input_offset);
                    }
                }
                const int32_t q = per_channel ? oc : 0;
                const int32_t v = hk_requantize_rounding(acc, quant->multiplier[q], quant->shift[q], rounding) +
                                  params->output_offset;
                output[(oy * output_dims->w + ox) * out_c + oc] =
                    hk_clamp_s8(v, params->activation.min, params->activation.max);
            }
        }
    }
    return HK_OK;
}
