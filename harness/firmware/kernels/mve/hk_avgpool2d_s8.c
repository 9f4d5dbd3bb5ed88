/* Average pooling of the mve variant: hk_avgpool2d_s8 as in hk_nn.h, the reference's results bit for
 * bit. Four channels per vector: each in-bounds pixel's bytes loaded widened to int32 lanes (VLDRB.S32,
 * the last vector predicated by VCTP.32) and added; the sums are exact in int32 (a window of int8
 * values). Each sum is then divided by the window's in-bounds count with the reference's rounding
 * (hk_mve_pool.h), lane by lane, and clamped. Without MVE nothing is defined here and the reference's
 * kernel is linked. */
#include "hk_mve.h"
#include "hk_mve_pool.h"
#include "hk_nn.h"
#include "hk_requant.h"

#if HK_MVE

hk_status hk_avgpool2d_s8(const hk_pool_params *params, const hk_dims *input_dims, const int8_t *input,
                          const hk_hw *pool, const hk_dims *output_dims, int8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, c = input_dims->c;
    const int32_t lo = params->activation.min, hi = params->activation.max;
    for (int32_t oy = 0; oy < output_dims->h; oy++) {
        const int32_t y0 = oy * params->stride.h - params->padding.top;
        int32_t ky0, ky1;
        hk_mve_pool_span(y0, pool->h, in_h, &ky0, &ky1);
        for (int32_t ox = 0; ox < output_dims->w; ox++) {
            const int32_t x0 = ox * params->stride.w - params->padding.left;
            int32_t kx0, kx1;
            hk_mve_pool_span(x0, pool->w, in_w, &kx0, &kx1);
            const int32_t count = (ky1 - ky0) * (kx1 - kx0);
            int8_t *out = output + (oy * output_dims->w + ox) * c;
            for (int32_t ch = 0; ch < c; ch += 4) {
                const mve_pred16_t p = vctp32q((uint32_t)(c - ch));
                int32x4_t sum = vdupq_n_s32(0);
                for (int32_t ky = ky0; ky < ky1; ky++) {
                    const int32_t row = ((y0 + ky) * in_w + x0) * c + ch; /* an index: x0 may be < 0 */
                    for (int32_t kx = kx0; kx < kx1; kx++) {
                        sum = vaddq_s32(sum, vldrbq_z_s32(input + row + kx * c, p));
                    }
                }
                int32_t sums[4];
                vst1q_s32(sums, sum);
                for (int32_t i = 0; i < 4 && ch + i < c; i++) {
                    out[ch + i] = hk_clamp_s8(hk_mve_pool_mean(sums[i], count), lo, hi);
                }
            }
        }
    }
    return HK_OK;
}

#endif /* HK_MVE */
