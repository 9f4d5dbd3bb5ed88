/* Global average pooling of the dsp variant: hk_global_avgpool2d_s8 as in hk_nn.h, with the
 * portable kernel's results, four channels per 32-bit word. The caller has checked the parameters
 * (hk_global_avgpool2d_s8_check).
 *
 * Sums go in 16-bit lanes, two channels per register (SXTAB16, as in hk_avgpool2d_s8.c): a lane adds
 * modulo 2^16 and a sum of at most 256 int8 values lies in [-32768, 32512], so it holds the exact
 * sum of up to 256 pixels. Images of at most 256 pixels go eight channels per pass over the pixels;
 * larger ones four, the lanes added into 32-bit sums every 256 pixels. Each channel's mean is the
 * reference's rounding division (hk_dsp_mean), which always lies in [-128, 127], so the reference's
 * clamp to int8 changes nothing and is left out. Channels beyond a multiple of four go one by one. */
#include "hk_dsp_simd.h"
#include "hk_nn.h"

#define HK_DSP_GAP_CHUNK 256 /* pixels whose int8 sum a 16-bit lane always holds exactly */

hk_status hk_global_avgpool2d_s8(const hk_dims *input_dims, const int8_t *input, int8_t *output)
{
    const int32_t count = input_dims->h * input_dims->w, c = input_dims->c;
    const int32_t half = count / 2;
    const int8_t *const last = input + count * c; /* one past the last pixel */
    int32_t ch = 0;
#if HK_DSP_SIMD
    if (count <= HK_DSP_GAP_CHUNK) {
        for (; ch + 8 <= c; ch += 8) {
            int32_t e0 = 0, o0 = 0, e1 = 0, o1 = 0;
            for (const int8_t *p = input + ch; p < last; p += c) {
                const uint32_t u = hk_dsp_load4(p), v = hk_dsp_load4(p + 4);
                e0 = hk_dsp_sxtab16_even(e0, u);
                o0 = hk_dsp_sxtab16_odd(o0, u);
                e1 = hk_dsp_sxtab16_even(e1, v);
                o1 = hk_dsp_sxtab16_odd(o1, v);
            }
            hk_dsp_store4(output + ch, hk_dsp_means4(e0, o0, count, half));
            hk_dsp_store4(output + ch + 4, hk_dsp_means4(e1, o1, count, half));
        }
    }
    for (; ch + 4 <= c; ch += 4) {
        int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0; /* 32-bit sums of the four channels */
        for (const int8_t *p = input + ch; p < last;) {
            const int8_t *end = last - p > HK_DSP_GAP_CHUNK * c ? p + HK_DSP_GAP_CHUNK * c : last;
            int32_t e = 0, o = 0;
            for (; p < end; p += c) {
                const uint32_t u = hk_dsp_load4(p);
                e = hk_dsp_sxtab16_even(e, u);
                o = hk_dsp_sxtab16_odd(o, u);
            }
            s0 += (int16_t)e;
            s1 += (int16_t)o;
            s2 += e >> 16;
            s3 += o >> 16;
        }
        hk_dsp_store4(output + ch, hk_dsp_bytes4(hk_dsp_mean(s0, count, half), hk_dsp_mean(s1, count, half),
                                                 hk_dsp_mean(s2, count, half), hk_dsp_mean(s3, count, half)));
    }
#endif
    for (; ch < c; ch++) {
        int32_t sum = 0;
        for (const int8_t *p = input + ch; p < last; p += c) {
            sum += *p;
        }
        output[ch] = (int8_t)hk_dsp_mean(sum, count, half);
    }
    return HK_OK;
}
