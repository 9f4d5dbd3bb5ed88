/* 1x1 convolution of the dsp variant: hk_pointwise_conv2d_s8 as in hk_nn.h, with the same results
 * as the portable kernel, its multiply-accumulates on the DSP extension (hk_dsp_mac.h).
 *
 * Output pixels go in pairs. A pair's two input vectors are sign-extended and offset once per block
 * of output channels, into the kernel's scratch (4 bytes per input channel), interleaved as the inner
 * loop reads them; then every pair of filter rows runs over them, each group of four weights loaded
 * and extended once for both pixels: per four input channels, two rows and two pixels (16
 * multiply-accumulates), two LDRD of inputs, two LDR and four SXTB16 of weights and eight SMLAD (in
 * asm, four groups a turn: hk_dsp_group.h). The requantizers of a block of output channels are
 * prepared once per call, and each pair of rows is requantized and stored as soon as it is summed,
 * two bytes per pixel. With the double rounding, every shift in [-22, -1] and bounded sums, the
 * output stage is the convolution's (hk_dsp_conv.h, hk_dsp_cv_out2: requantization and output offset
 * in one SMLAL and a shift); otherwise hk_dsp_rq_apply, whose left shifts cost no call. Images whose
 * input channels are not a multiple of four, and a last odd pixel, take the matrix-vector product
 * (hk_mat_vec_s8.c) pixel by pixel. */
#include "hk_dsp_conv.h"
#include "hk_dsp_group.h"
#include "hk_dsp_mac.h"
#include "hk_nn.h"
#include "hk_support.h"

/* Output channels whose requantizers are prepared at once, on the stack (hk_dsp_pw_rq, 20 bytes
 * each): a pair's inputs are extended once per block. */
#define HK_DSP_PW_ROW_BLOCK 128

/* One channel's requantizer in either form. */
typedef union {
    hk_dsp_rq rq;
    hk_dsp_cv_rq cv;
} hk_dsp_pw_rq;

/* The scratch: a pixel pair's inputs, 4 bytes per input channel (two pixels, 16 bits each), where
 * the channels are a multiple of four (the pair path); none otherwise. Mirrored for the code
 * generator in harness/codegen/scratch.py. */
int32_t hk_pointwise_conv2d_s8_get_buffer_size(const hk_dims *input_dims)
{
    return (input_dims->c & 3) == 0 ? 4 * input_dims->c : 0;
}

#if HK_DSP_SIMD

/* The inputs of pixels x0 and x1, offset and sign-extended, for hk_dsp_pw_block: per group of
 * four channels, (x0 bytes 0 and 2), (x1 bytes 0 and 2), (x0 bytes 1 and 3), (x1 bytes 1 and 3). */
HK_DSP_ALWAYS_INLINE void hk_dsp_pw_expand(const int8_t *x0, const int8_t *x1, int32_t quads, int32_t off2,
                                           int32_t *buf)
{
    for (int32_t n = quads; n > 0; n--) {
        const uint32_t u = hk_dsp_load4(x0);
        const uint32_t v = hk_dsp_load4(x1);
        x0 += 4;
        x1 += 4;
        hk_dsp_store2_next(&buf, hk_dsp_sxtab16_even(off2, u), hk_dsp_sxtab16_even(off2, v));
        hk_dsp_store2_next(&buf, hk_dsp_sxtab16_odd(off2, u), hk_dsp_sxtab16_odd(off2, v));
    }
}

/* The geometry of one call, shared by the blocks. */
typedef struct {
    const int8_t *input;
    int32_t cols;   /* input channels */
    int32_t rows;   /* output channels */
    int32_t out_w;  /* output columns */
    int32_t pixels; /* output pixels */
    int32_t step_y; /* input bytes between output rows */
    int32_t step_x; /* input bytes between output columns */
} hk_dsp_pw_shape;

/* Output channels [r0, r0 + nb) of every pair of output pixels, for one rounding; rq[k] is channel
 * r0 + k's requantizer, its .cv form when cv (a constant) is 1. Returns the number of pixels done (the
 * even part). */
HK_DSP_ALWAYS_INLINE int32_t hk_dsp_pw_block(const hk_dsp_pw_shape *sh, const int8_t *filter, const int32_t *bias,
                                             const hk_conv_params *params, const hk_dsp_pw_rq *rq, int32_t r0,
                                             int32_t nb, int32_t *buf, int8_t *output, int32_t rounding,
                                             int32_t cv)
{
    const int32_t cols = sh->cols, rows = sh->rows;
    const int32_t input_offset = params->input_offset, output_offset = params->output_offset;
    const int32_t act_min = params->activation.min, act_max = params->activation.max;
    const uint32_t lo4 = hk_dsp_splat4(act_min), hi4 = hk_dsp_splat4(act_max);
    const int32_t off2 = hk_dsp_splat2(input_offset);
    const int32_t quads = cols >> 2;
    const int8_t *block_filter = filter + r0 * cols;
    int32_t p = 0;
    for (; p + 2 <= sh->pixels; p += 2) {
        const int8_t *x0, *x1;
        if (sh->step_y == sh->out_w * sh->step_x) { /* rows follow one another: pixel p at p * step_x */
            x0 = sh->input + p * sh->step_x;
            x1 = x0 + sh->step_x;
        } else {
            x0 = sh->input + (p / sh->out_w) * sh->step_y + (p % sh->out_w) * sh->step_x;
            x1 = sh->input + ((p + 1) / sh->out_w) * sh->step_y + ((p + 1) % sh->out_w) * sh->step_x;
        }
        int8_t *o0 = output + p * rows + r0;
        int8_t *o1 = o0 + rows;
        hk_dsp_pw_expand(x0, x1, quads, off2, buf);
        const int8_t *w0 = block_filter;
        int32_t k = 0;
        for (; k + 2 <= nb; k += 2) {
            const int8_t *w1 = w0 + cols;
            int32_t a00 = 0, a01 = 0, a10 = 0, a11 = 0; /* a<row><pixel> */
            if (bias) {
                a00 = a01 = bias[r0 + k];
                a10 = a11 = bias[r0 + k + 1];
            }
            const int32_t *b = buf;
            uint32_t u, v;
            int32_t x0, x1, t;
            HK_DSP_CV_GROUPS(quads);
            w0 = w1; /* the next pair of rows */
            int32_t v00, v01, v10, v11;
            if (cv) {
                hk_dsp_cv_out2(&rq[k].cv, &a00, &a01);
                hk_dsp_cv_out2(&rq[k + 1].cv, &a10, &a11);
                v00 = a00;
                v01 = a01;
                v10 = a10;
                v11 = a11;
            } else {
                {
                    const hk_dsp_rq q = rq[k].rq;
                    v00 = hk_dsp_rq_apply(&q, a00, rounding) + output_offset;
                    v01 = hk_dsp_rq_apply(&q, a01, rounding) + output_offset;
                }
                {
                    const hk_dsp_rq q = rq[k + 1].rq;
                    v10 = hk_dsp_rq_apply(&q, a10, rounding) + output_offset;
                    v11 = hk_dsp_rq_apply(&q, a11, rounding) + output_offset;
                }
            }
            const uint32_t out4 = hk_dsp_clamp4(hk_dsp_pack4(v00, v10, v01, v11), lo4, hi4);
            const uint16_t out0 = (uint16_t)out4, out1 = (uint16_t)(out4 >> 16);
            __builtin_memcpy(o0 + k, &out0, sizeof out0);
            __builtin_memcpy(o1 + k, &out1, sizeof out1);
        }
        if (k < nb) { /* the last of an odd number of rows */
            int32_t a0 = bias ? bias[r0 + k] : 0, a1 = a0;
            const int32_t *b = buf;
            for (int32_t n = quads; n > 0; n--, b += 4) {
                const uint32_t u = hk_dsp_load4(w0);
                w0 += 4;
                int32_t t = hk_dsp_sxtb16_even(u);
                a0 = __smlad(t, b[0], a0);
                a1 = __smlad(t, b[1], a1);
                t = hk_dsp_sxtb16_odd(u);
                a0 = __smlad(t, b[2], a0);
                a1 = __smlad(t, b[3], a1);
            }
            if (cv) {
                o0[k] = hk_dsp_clamp(hk_dsp_cv_rq_out(&rq[k].cv, a0, output_offset, rounding), act_min, act_max);
                o1[k] = hk_dsp_clamp(hk_dsp_cv_rq_out(&rq[k].cv, a1, output_offset, rounding), act_min, act_max);
            } else {
                o0[k] = hk_dsp_clamp(hk_dsp_rq_apply(&rq[k].rq, a0, rounding) + output_offset, act_min, act_max);
                o1[k] = hk_dsp_clamp(hk_dsp_rq_apply(&rq[k].rq, a1, rounding) + output_offset, act_min, act_max);
            }
        }
    }
    return p;
}

/* Every output channel of every pair of output pixels, a block of channels at a time; returns the
 * number of pixels done. */
HK_DSP_ALWAYS_INLINE int32_t hk_dsp_pw_pairs(const hk_dsp_pw_shape *sh, const int8_t *filter, const int32_t *bias,
                                             const hk_conv_params *params, const hk_quant *quant, int32_t *buf,
                                             int8_t *output, int32_t rounding, int32_t cv)
{
    const int32_t qstep = quant->count > 1 ? 1 : 0;
    hk_dsp_pw_rq rq[HK_DSP_PW_ROW_BLOCK];
    int32_t done = 0;
    for (int32_t r0 = 0; r0 < sh->rows; r0 += HK_DSP_PW_ROW_BLOCK) {
        const int32_t nb = sh->rows - r0 < HK_DSP_PW_ROW_BLOCK ? sh->rows - r0 : HK_DSP_PW_ROW_BLOCK;
        for (int32_t k = 0; k < nb; k++) {
            const int32_t q = (r0 + k) * qstep;
            if (cv) {
                rq[k].cv = hk_dsp_cv_rq_prep(quant->multiplier[q], quant->shift[q], params->output_offset, rounding);
            } else {
                rq[k].rq = hk_dsp_rq_prep(quant->multiplier[q], quant->shift[q], rounding);
            }
        }
        done = hk_dsp_pw_block(sh, filter, bias, params, rq, r0, nb, buf, output, rounding, cv);
    }
    return done;
}

static int32_t hk_dsp_pw_pairs_any(const hk_dsp_pw_shape *sh, const int8_t *filter, const int32_t *bias,
                                   const hk_conv_params *params, const hk_quant *quant, int32_t *buf,
                                   int8_t *output)
{
    if (quant->rounding == HK_ROUND_SINGLE) {
        return hk_dsp_pw_pairs(sh, filter, bias, params, quant, buf, output, HK_ROUND_SINGLE, 0);
    }
    /* The convolution's output stage (hk_dsp_cv_out2) when every shift is within its range and
     * every sum within [-2^30, 2^30): |sum| <= max |bias| + cols * 128 * 255 (|w| <= 128,
     * |x + input_offset| <= 255), compared in 64 bits. Otherwise hk_dsp_rq_apply, which tests each
     * sum for overflow. */
    int32_t cv = 1;
    for (int32_t k = 0; k < quant->count; k++) {
        cv &= quant->shift[k] >= -22 && quant->shift[k] <= -1;
    }
    uint32_t bmax = 0;
    for (int32_t k = 0; bias && k < sh->rows; k++) {
        const uint32_t b = bias[k] < 0 ? 0u - (uint32_t)bias[k] : (uint32_t)bias[k];
        bmax = b > bmax ? b : bmax;
    }
    cv &= (uint64_t)bmax + (uint64_t)sh->cols * (128u * 255u) < ((uint64_t)1 << 30);
    if (cv) {
        return hk_dsp_pw_pairs(sh, filter, bias, params, quant, buf, output, HK_ROUND_DOUBLE, 1);
    }
    return hk_dsp_pw_pairs(sh, filter, bias, params, quant, buf, output, HK_ROUND_DOUBLE, 0);
}

#endif /* HK_DSP_SIMD */

hk_status hk_pointwise_conv2d_s8(const hk_context *ctx, const hk_conv_params *params,
                                 const hk_quant *quant, const hk_dims *input_dims,
                                 const int8_t *input, const int8_t *filter, const int32_t *bias,
                                 const hk_dims *output_dims, int8_t *output)
{
    const int32_t in_w = input_dims->w, in_c = input_dims->c, out_c = output_dims->c;
    const int32_t out_w = output_dims->w, pixels = output_dims->h * out_w;
    const int32_t step_y = params->stride.h * in_w * in_c, step_x = params->stride.w * in_c;
    int32_t p = 0;
#if HK_DSP_SIMD
    if ((in_c & 3) == 0 && pixels >= 2) { /* its check has seen ctx hold 4 * in_c bytes */
        const hk_dsp_pw_shape sh = {input, in_c, out_c, out_w, pixels, step_y, step_x};
        p = hk_dsp_pw_pairs_any(&sh, filter, bias, params, quant, (int32_t *)ctx->buf, output);
    }
#else
    (void)ctx;
#endif
    for (; p < pixels; p++) {
        const int8_t *x = input + (p / out_w) * step_y + (p % out_w) * step_x;
        hk_mat_vec_s8(x, filter, bias, out_c, in_c, params->input_offset, params->output_offset, quant,
                      &params->activation, output + p * out_c);
    }
    return HK_OK;
}
