/* Average pooling of the dsp variant: hk_avgpool2d_s8 as in hk_nn.h, with the portable kernel's
 * results, four channels per 32-bit word. The caller has checked the parameters
 * (hk_avgpool2d_s8_check).
 *
 * Windows go run by run (hk_dsp_pool). A window's count is its number of in-bound taps, as the
 * reference's. Sums go in 16-bit lanes, two channels per register (SXTAB16 adds bytes 0 and 2, or
 * with its rotation bytes 1 and 3, of a word to the two halves): the halves add modulo 2^16, and a
 * sum of at most 256 int8 values lies in [-32768, 32512], so the lane holds the exact sum (whatever
 * its partial sums did) when the window has at most 256 taps; larger windows take the scalar 32-bit
 * loop. Each channel's mean is then the reference's rounding division (hk_dsp_mean), and the four
 * means are clamped to the activation together (hk_dsp_clamp4). Channels beyond a multiple of four
 * go one by one with the same arithmetic. */
#include "hk_dsp_simd.h"
#include "hk_nn.h"

#define HK_DSP_AP_MAX_LANE_TAPS 256 /* taps whose int8 sum a 16-bit lane always holds exactly */

/* Out of line, so that its loops get every register. */
HK_DSP_NOINLINE void hk_dsp_ap_run(const hk_dsp_pool_run *g, const int8_t *win, int8_t *out, int32_t n)
{
    const int32_t c = g->c, rows = g->rows, cols_c = g->cols * c, next_row = g->next_row;
    const int32_t count = rows * g->cols, half = count / 2;
#if HK_DSP_SIMD
    const uint32_t lo4 = hk_dsp_splat4(g->act_min), hi4 = hk_dsp_splat4(g->act_max);
    const int32_t quads = count <= HK_DSP_AP_MAX_LANE_TAPS ? c >> 2 : 0;
#endif
    for (; n > 0; n--, win += g->step, out += c) {
        int32_t ch = 0;
#if HK_DSP_SIMD
        for (; ch + 8 <= 4 * quads; ch += 8) {
            const int8_t *p = win + ch;
            int32_t e0 = 0, o0 = 0, e1 = 0, o1 = 0;
            for (int32_t r = rows; r > 0; r--, p += next_row) {
                const int8_t *end = p + cols_c;
                do {
                    const uint32_t u = hk_dsp_load4(p), v = hk_dsp_load4(p + 4);
                    e0 = hk_dsp_sxtab16_even(e0, u);
                    o0 = hk_dsp_sxtab16_odd(o0, u);
                    e1 = hk_dsp_sxtab16_even(e1, v);
                    o1 = hk_dsp_sxtab16_odd(o1, v);
                    p += c;
                } while (p != end);
            }
            hk_dsp_store4(out + ch, hk_dsp_clamp4(hk_dsp_means4(e0, o0, count, half), lo4, hi4));
            hk_dsp_store4(out + ch + 4, hk_dsp_clamp4(hk_dsp_means4(e1, o1, count, half), lo4, hi4));
        }
        if (ch < 4 * quads) {
            const int8_t *p = win + ch;
            int32_t e0 = 0, o0 = 0;
            for (int32_t r = rows; r > 0; r--, p += next_row) {
                const int8_t *end = p + cols_c;
                do {
                    const uint32_t u = hk_dsp_load4(p);
                    e0 = hk_dsp_sxtab16_even(e0, u);
                    o0 = hk_dsp_sxtab16_odd(o0, u);
                    p += c;
                } while (p != end);
            }
            hk_dsp_store4(out + ch, hk_dsp_clamp4(hk_dsp_means4(e0, o0, count, half), lo4, hi4));
            ch += 4;
        }
#endif
        for (; ch < c; ch++) {
            const int8_t *p = win + ch;
            int32_t sum = 0;
            for (int32_t r = rows; r > 0; r--, p += next_row) {
                const int8_t *end = p + cols_c;
                do {
                    sum += *p;
                    p += c;
                } while (p != end);
            }
            const int32_t mean = hk_dsp_mean(sum, count, half);
            out[ch] = (int8_t)(mean < g->act_min ? g->act_min : (mean > g->act_max ? g->act_max : mean));
        }
    }
}

hk_status hk_avgpool2d_s8(const hk_pool_params *params, const hk_dims *input_dims, const int8_t *input,
                          const hk_hw *pool, const hk_dims *output_dims, int8_t *output)
{
    hk_dsp_pool(params, input_dims, input, pool, output_dims, output, hk_dsp_ap_run);
    return HK_OK;
}
