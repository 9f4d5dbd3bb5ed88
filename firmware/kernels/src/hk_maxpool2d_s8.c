/* Portable int8 max pooling (valid windows); output keeps the input grid. */
#include "hk_check.h"
#include "hk_nn.h"
#include "hk_requant.h"

hk_status hk_maxpool2d_s8(const hk_pool_params *params, const hk_dims *input_dims,
                          const int8_t *input, const hk_hw *pool, const hk_dims *output_dims,
                          int8_t *output)
{
    if (params == 0 || input == 0 || pool == 0 || output == 0) {
        return HK_ERR_NULL;
    }
    hk_status st;
    if ((st = hk_check_dims(input_dims)) != HK_OK || (st = hk_check_dims(output_dims)) != HK_OK ||
        (st = hk_check_activation(&params->activation)) != HK_OK) {
        return st;
    }
    if (output_dims->c != input_dims->c) {
        return HK_ERR_DIMS;
    }
    const hk_hw one = {1, 1};
    const hk_padding none = {0, 0, 0, 0};
    st = hk_check_window(input_dims, pool->h, pool->w, &params->stride, &one, &none, output_dims);
    if (st != HK_OK) {
        return st;
    }
    const int32_t in_w = input_dims->w, c = input_dims->c;
    for (int32_t oy = 0; oy < output_dims->h; oy++) {
        for (int32_t ox = 0; ox < output_dims->w; ox++) {
            for (int32_t ch = 0; ch < c; ch++) {
                int32_t best = HK_INT8_MIN;
                for (int32_t ky = 0; ky < pool->h; ky++) {
                    const int32_t iy = oy * params->stride.h + ky;
                    for (int32_t kx = 0; kx < pool->w; kx++) {
                        const int32_t ix = ox * params->stride.w + kx;
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
