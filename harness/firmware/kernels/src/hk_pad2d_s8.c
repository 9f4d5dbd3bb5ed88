/* Constant 2-D padding of an NHWC tensor with the input zero point. */
#include "hk_nn.h"
#include "hk_weak.h"

HK_WEAK
hk_status hk_pad2d_s8(const hk_dims *input_dims, const int8_t *input, const hk_padding *padding,
                      int32_t fill, const hk_dims *output_dims, int8_t *output)
{
    const int32_t c = input_dims->c;
    for (int32_t oy = 0; oy < output_dims->h; oy++) {
        const int32_t iy = oy - padding->top;
        for (int32_t ox = 0; ox < output_dims->w; ox++) {
            const int32_t ix = ox - padding->left;
            int8_t *y = output + (oy * output_dims->w + ox) * c;
            if (iy >= 0 && iy < input_dims->h && ix >= 0 && ix < input_dims->w) {
                const int8_t *x = input + (iy * input_dims->w + ix) * c;
                for (int32_t ch = 0; ch < c; ch++) {
                    y[ch] = x[ch];
                }
            } else {
                for (int32_t ch = 0; ch < c; ch++) {
                    y[ch] = (int8_t)fill;
                }
            }
        }
    }
    return HK_OK;
}
