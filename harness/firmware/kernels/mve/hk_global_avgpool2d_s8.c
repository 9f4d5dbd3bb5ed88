/* Global average pooling of the mve variant: hk_global_avgpool2d_s8 as in hk_nn.h, the reference's
 * results bit for bit. Four channels per vector, four vectors per pass: every pixel's bytes loaded
 * widened to int32 lanes (VLDRB.S32, lanes past the last channel switched off by VCTP.32, so that
 * nothing past the channels is read) and added, exact in int32; each sum is then divided by the
 * pixel count with the reference's rounding (hk_mve_pool.h). Without MVE nothing is defined here and
 * the reference's kernel is linked. */
#include "hk_mve.h"
#include "hk_mve_pool.h"
#include "hk_nn.h"
#include "hk_requant.h"

#if HK_MVE

/* The lanes of a group of four channels starting at `from`: none once the channels have run out. */
static inline mve_pred16_t hk_mve_gap_lanes(int32_t c, int32_t from)
{
    return vctp32q(c > from ? (uint32_t)(c - from) : 0u);
}

hk_status hk_global_avgpool2d_s8(const hk_dims *input_dims, const int8_t *input, int8_t *output)
{
    const int32_t count = input_dims->h * input_dims->w, c = input_dims->c;
    /* Sixteen channels per pass over the pixels, in four vectors, so that the loop's own
     * instructions are shared by sixteen sums. */
    for (int32_t ch = 0; ch < c; ch += 16) {
        const mve_pred16_t p0 = hk_mve_gap_lanes(c, ch), p1 = hk_mve_gap_lanes(c, ch + 4);
        const mve_pred16_t p2 = hk_mve_gap_lanes(c, ch + 8), p3 = hk_mve_gap_lanes(c, ch + 12);
        int32x4_t s0 = vdupq_n_s32(0), s1 = s0, s2 = s0, s3 = s0;
        const int8_t *x = input + ch;
        for (int32_t i = 0; i < count; i++, x += c) {
            s0 = vaddq_s32(s0, vldrbq_z_s32(x, p0));
            s1 = vaddq_s32(s1, vldrbq_z_s32(x + 4, p1));
            s2 = vaddq_s32(s2, vldrbq_z_s32(x + 8, p2));
            s3 = vaddq_s32(s3, vldrbq_z_s32(x + 12, p3));
        }
        int32_t sums[16];
        vst1q_s32(sums, s0);
        vst1q_s32(sums + 4, s1);
        vst1q_s32(sums + 8, s2);
        vst1q_s32(sums + 12, s3);
        for (int32_t i = 0; i < 16 && ch + i < c; i++) {
            output[ch + i] = hk_clamp_s8(hk_mve_pool_mean(sums[i], count), HK_INT8_MIN, HK_INT8_MAX);
        }
    }
    return HK_OK;
}

#endif /* HK_MVE */
