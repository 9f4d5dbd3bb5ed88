/* Portable int8 max pooling; padded positions are left out; output keeps the input grid. */
#include "hk_nn.h"
#include "hk_requant.h"
#include "hk_weak.h"

HK_WEAK
hk_status hk_maxpool2d_s8(const hk_pool_params *params, const hk_dims *input_dims,
                          const int8_t *input, const hk_hw *pool, const hk_dims *output_dims,
                          int8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, c = input_dims->c;
    for (int32_t oy = 0; oy < output_dims->h; oy++) {
        const int32_t y0 = oy * params->stride.h - params->padding.top;
        for (int32_t ox = 0; ox < output_dims->w; ox++) {
            const int32_t x0 = ox * params->stride.w - params->padding.left;
            for (int32_t ch = 0; ch < c; ch++) {
                int32_t best = HK_INT8_MIN;
                for (int32_t ky = 0; ky < pool->h; ky++) {
                    const int32_t iy = y0 + ky;
                    if (iy < 0 || iy >= in_h) {
                        continue;
                    }
                    for (int32_t kx = 0; kx < pool->w; kx++) {
                        const int32_t ix = x0 + kx;
                        if (ix < 0 || ix >= in_w) {
                            continue;
                        }
                        const int32_t v = input[(iy * in_w + ix) * c + ch];
                        best = v > best ? v : best;
                    }
                }
                output[(oy * output_dims->w + ox) * c + ch] =
                    hk_clamp_s8(best, params->activation.min, params->activation.max);
            }
        }
    }
    return HK_OK;
}
