/* Max pooling of the dsp variant: hk_maxpool2d_s8 as in hk_nn.h, with the portable kernel's results,
 * four channels per 32-bit word (hk_dsp_simd.h: SSUB8 + SEL is a signed byte max of four lanes).
 * The caller has checked the parameters (hk_maxpool2d_s8_check).
 *
 * Windows go run by run (hk_dsp_pool); within a run, channels go eight at a time, then four, then one
 * by one, each group across the run's pixels. A lane's running max starts at the activation's lower
 * bound, taps are folded in with the byte max, and the upper bound comes last:
 * min(max(lo, taps...), hi) is the reference's clamp of the max, since lo <= hi. */
#include "hk_dsp_simd.h"
#include "hk_nn.h"

/* Out of line, so that its loops get every register. */
HK_DSP_NOINLINE void hk_dsp_mp_run(const hk_dsp_pool_run *g, const int8_t *win, int8_t *out, int32_t n)
{
    const int32_t c = g->c, rows = g->rows, cols_c = g->cols * c, next_row = g->next_row, step = g->step;
    int32_t ch = 0;
#if HK_DSP_SIMD
    const uint32_t lo4 = hk_dsp_splat4(g->act_min), hi4 = hk_dsp_splat4(g->act_max);
    const int pair = g->cols == 2;
    const int32_t row = cols_c + next_row; /* bytes per input row */
    for (; ch + 8 <= c; ch += 8) {
        const int8_t *w = win + ch;
        int8_t *o = out + ch;
        for (int32_t i = n; i > 0; i--, w += step, o += c) {
            const int8_t *p = w;
            uint32_t m0 = lo4, m1 = lo4;
            if (pair) { /* windows two taps wide (2x2 pools): a row a step */
                for (int32_t r = rows; r > 0; r--, p += row) {
                    m0 = hk_dsp_max4(m0, hk_dsp_load4(p));
                    m1 = hk_dsp_max4(m1, hk_dsp_load4(p + 4));
                    m0 = hk_dsp_max4(m0, hk_dsp_load4(p + c));
                    m1 = hk_dsp_max4(m1, hk_dsp_load4(p + c + 4));
                }
            } else {
                for (int32_t r = rows; r > 0; r--, p += next_row) {
                    const int8_t *end = p + cols_c;
                    do {
                        m0 = hk_dsp_max4(m0, hk_dsp_load4(p));
                        m1 = hk_dsp_max4(m1, hk_dsp_load4(p + 4));
                        p += c;
                    } while (p != end);
                }
            }
            hk_dsp_store4(o, hk_dsp_min4(m0, hi4));
            hk_dsp_store4(o + 4, hk_dsp_min4(m1, hi4));
        }
    }
    if (ch + 4 <= c) {
        const int8_t *w = win + ch;
        int8_t *o = out + ch;
        for (int32_t i = n; i > 0; i--, w += step, o += c) {
            const int8_t *p = w;
            uint32_t m0 = lo4;
            for (int32_t r = rows; r > 0; r--, p += next_row) {
                const int8_t *end = p + cols_c;
                do {
                    m0 = hk_dsp_max4(m0, hk_dsp_load4(p));
                    p += c;
                } while (p != end);
            }
            hk_dsp_store4(o, hk_dsp_min4(m0, hi4));
        }
        ch += 4;
    }
#endif
    for (; ch < c; ch++) {
        const int8_t *w = win + ch;
        int8_t *o = out + ch;
        for (int32_t i = n; i > 0; i--, w += step, o += c) {
            const int8_t *p = w;
            int32_t m = g->act_min;
            for (int32_t r = rows; r > 0; r--, p += next_row) {
                const int8_t *end = p + cols_c;
                do {
                    m = *p > m ? *p : m;
                    p += c;
                } while (p != end);
            }
            *o = (int8_t)(m < g->act_max ? m : g->act_max);
        }
    }
}

hk_status hk_maxpool2d_s8(const hk_pool_params *params, const hk_dims *input_dims, const int8_t *input,
                          const hk_hw *pool, const hk_dims *output_dims, int8_t *output)
{
    hk_dsp_pool(params, input_dims, input, pool, output_dims, output, hk_dsp_mp_run);
    return HK_OK;
}
