/* Max pooling of the mve variant: hk_maxpool2d_s8 as in hk_nn.h, the reference's results bit for bit.
 * Sixteen channels per vector (VMAX.S8 over the window's in-bounds pixels, the last vector predicated
 * by VCTP.8), then the activation clamp and a predicated store. The max of int8 values is exact in
 * int8 lanes, and starting from -128 is the reference's start. Without MVE nothing is defined here
 * and the reference's kernel is linked. */
#include "hk_mve.h"
#include "hk_mve_pool.h"
#include "hk_nn.h"

#if HK_MVE

hk_status hk_maxpool2d_s8(const hk_pool_params *params, const hk_dims *input_dims, const int8_t *input,
                          const hk_hw *pool, const hk_dims *output_dims, int8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, c = input_dims->c;
    const int8x16_t lo = vdupq_n_s8((int8_t)params->activation.min);
    const int8x16_t hi = vdupq_n_s8((int8_t)params->activation.max);
    for (int32_t oy = 0; oy < output_dims->h; oy++) {
        const int32_t y0 = oy * params->stride.h - params->padding.top;
        int32_t ky0, ky1;
        hk_mve_pool_span(y0, pool->h, in_h, &ky0, &ky1);
        for (int32_t ox = 0; ox < output_dims->w; ox++) {
            const int32_t x0 = ox * params->stride.w - params->padding.left;
            int32_t kx0, kx1;
            hk_mve_pool_span(x0, pool->w, in_w, &kx0, &kx1);
            int8_t *out = output + (oy * output_dims->w + ox) * c;
            for (int32_t ch = 0; ch < c; ch += 16) {
                const mve_pred16_t p = vctp8q((uint32_t)(c - ch));
                int8x16_t best = vdupq_n_s8(INT8_MIN);
                for (int32_t ky = ky0; ky < ky1; ky++) {
                    const int32_t row = ((y0 + ky) * in_w + x0) * c + ch; /* an index: x0 may be < 0 */
                    for (int32_t kx = kx0; kx < kx1; kx++) {
                        best = vmaxq_s8(best, vldrbq_z_s8(input + row + kx * c, p));
                    }
                }
                vstrbq_p_s8(out + ch, vminq_s8(vmaxq_s8(best, lo), hi), p);
            }
        }
    }
    return HK_OK;
}

#endif /* HK_MVE */
