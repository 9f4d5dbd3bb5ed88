/* 2-D convolution of the mve variant: hk_conv2d_s8 as in hk_nn.h, with the portable kernel's
 * results bit for bit.
 *
 * Output pixels go in pairs. Each pixel's patch (the KH * KW * C_IN inputs its window covers, in the
 * filter's [KH][KW][C_IN] order) is copied into the scratch (ctx->buf) as int8, a tap in the padding
 * as the input zero point, 16 bytes per vector load and store (a window row inside the input, with
 * dilation.w 1, is one run of KW * C_IN bytes). Then every pair of filter rows runs over the two
 * patches (hk_mve_tile, hk_mve_conv.h): 16 taps cost four loads and four VMLADAVA.S8. The input
 * offset enters through each channel's effective bias, bias + input_offset * sum(w), computed once
 * per call (hk_mve_dot.h argues why that is exact, padding included), and the four sums of a tile
 * are requantized as one vector (hk_mve.h). A single-rounding requantizer with a shift >= 0 takes the
 * portable path, the reference's loop; so does a build without MVE. */
#include "hk_mve_conv.h"
#include "hk_nn.h"

/* Two patches of KH * KW * C_IN bytes, each rounded up to a multiple of 16 (the same without MVE, so
 * that the code generator's mirror has one formula). */
int32_t hk_conv2d_s8_get_buffer_size(const hk_dims *input_dims, const hk_dims *filter_dims)
{
    (void)input_dims;
    return 2 * ((filter_dims->h * filter_dims->w * filter_dims->c + 15) & ~15);
}

#if HK_MVE

/* The geometry of one call. */
typedef struct {
    const int8_t *input;
    int32_t in_h, in_w, in_c;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w, dil_h, dil_w, pad_top, pad_left;
    int32_t zp; /* the input zero point, -input_offset */
} hk_mve_cv_shape;

/* A run of 16 * groups + rest bytes (tail: the predicate of rest lanes) from s to d, or of the byte
 * vector z when s is NULL; returns the end of the run at d. */
HK_MVE_INLINE int8_t *hk_mve_cv_put(int8_t *d, const int8_t *s, int32_t groups, int32_t rest, mve_pred16_t tail,
                                    int8x16_t z)
{
    if (s) {
        for (int32_t g = groups; g > 0; g--, s += 16, d += 16) {
            vstrbq_s8(d, vldrbq_s8(s));
        }
        if (rest) {
            vstrbq_p_s8(d, vldrbq_z_s8(s, tail), tail);
        }
    } else {
        for (int32_t g = groups; g > 0; g--, d += 16) {
            vstrbq_s8(d, z);
        }
        if (rest) {
            vstrbq_p_s8(d, z, tail);
        }
    }
    return d + rest;
}

/* The patch of output pixel (oy, ox) into d. */
HK_MVE_NOINLINE void hk_mve_cv_patch(const hk_mve_cv_shape *sh, int32_t oy, int32_t ox, int8_t *d)
{
    const int32_t in_c = sh->in_c, row_bytes = sh->in_w * in_c, run_bytes = sh->k_w * in_c;
    const int8x16_t z = vdupq_n_s8((int8_t)sh->zp);
    const int32_t ix0 = ox * sh->stride_w - sh->pad_left;
    const int32_t run = sh->dil_w == 1 && ix0 >= 0 && ix0 + sh->k_w <= sh->in_w;
    const int32_t run_groups = run_bytes >> 4, run_rest = run_bytes & 15;
    const mve_pred16_t run_tail = vctp8q((uint32_t)run_rest);
    int32_t iy = oy * sh->stride_h - sh->pad_top;
    for (int32_t ky = 0; ky < sh->k_h; ky++, iy += sh->dil_h) {
        const int8_t *row = sh->input + iy * row_bytes;
        if ((uint32_t)iy >= (uint32_t)sh->in_h) {
            d = hk_mve_cv_put(d, (const int8_t *)0, run_groups, run_rest, run_tail, z);
        } else if (run) {
            d = hk_mve_cv_put(d, row + ix0 * in_c, run_groups, run_rest, run_tail, z);
        } else {
            const int32_t groups = in_c >> 4, rest = in_c & 15;
            const mve_pred16_t tail = vctp8q((uint32_t)rest);
            for (int32_t kx = 0, ix = ix0; kx < sh->k_w; kx++, ix += sh->dil_w) {
                const int32_t in = (uint32_t)ix < (uint32_t)sh->in_w;
                d = hk_mve_cv_put(d, in ? row + ix * in_c : (const int8_t *)0, groups, rest, tail, z);
            }
        }
    }
}

/* Every pixel pair of a block of n channels from oc0: patches into x0 and x1, then the tiles. */
HK_MVE_INLINE void hk_mve_conv_block(const hk_mve_cv_shape *sh, const hk_mve_block *b, const int8_t *filter,
                                     int32_t n, int32_t k, int32_t out_w, int32_t pixels, int8_t *x0, int8_t *x1,
                                     int8_t *output, int32_t rounding)
{
    const uint32x4_t where = hk_mve_tile_where(b->out_c);
    const int32x4_t lo = vdupq_n_s32(b->act_min), hi = vdupq_n_s32(b->act_max);
    int32_t oy = 0, ox = 0;
    for (int32_t p = 0; p < pixels; p += 2, output += 2 * b->out_c) {
        const int32_t pix2 = p + 1 < pixels;
        hk_mve_cv_patch(sh, oy, ox, x0);
        if (++ox == out_w) {
            ox = 0;
            oy++;
        }
        if (pix2) {
            hk_mve_cv_patch(sh, oy, ox, x1);
            if (++ox == out_w) {
                ox = 0;
                oy++;
            }
        }
        hk_mve_tiles(b, filter, n, x0, pix2 ? x1 : x0, pix2, k, output, rounding, 1, where, lo, hi);
    }
}

HK_MVE_NOINLINE void hk_mve_conv_block_double(const hk_mve_cv_shape *sh, const hk_mve_block *b,
                                              const int8_t *filter, int32_t n, int32_t k, int32_t out_w,
                                              int32_t pixels, int8_t *x0, int8_t *x1, int8_t *output)
{
    hk_mve_conv_block(sh, b, filter, n, k, out_w, pixels, x0, x1, output, HK_ROUND_DOUBLE);
}

HK_MVE_NOINLINE void hk_mve_conv_block_no_left(const hk_mve_cv_shape *sh, const hk_mve_block *b,
                                               const int8_t *filter, int32_t n, int32_t k, int32_t out_w,
                                               int32_t pixels, int8_t *x0, int8_t *x1, int8_t *output)
{
    hk_mve_conv_block(sh, b, filter, n, k, out_w, pixels, x0, x1, output, HK_MVE_ROUND_DOUBLE_NO_LEFT);
}

HK_MVE_NOINLINE void hk_mve_conv_block_single(const hk_mve_cv_shape *sh, const hk_mve_block *b,
                                              const int8_t *filter, int32_t n, int32_t k, int32_t out_w,
                                              int32_t pixels, int8_t *x0, int8_t *x1, int8_t *output)
{
    hk_mve_conv_block(sh, b, filter, n, k, out_w, pixels, x0, x1, output, HK_ROUND_SINGLE);
}

HK_MVE_INLINE void hk_mve_conv(const hk_context *ctx, const hk_conv_params *params, const hk_quant *quant,
                               const hk_dims *input_dims, const int8_t *input, const hk_dims *filter_dims,
                               const int8_t *filter, const int32_t *bias, const hk_dims *output_dims,
                               int8_t *output, int32_t rounding)
{
    const hk_mve_cv_shape sh = {input, input_dims->h, input_dims->w, input_dims->c, filter_dims->h, filter_dims->w,
                                params->stride.h, params->stride.w, params->dilation.h, params->dilation.w,
                                params->padding.top, params->padding.left, -params->input_offset};
    const int32_t k = filter_dims->h * filter_dims->w * filter_dims->c, k16 = (k + 15) & ~15;
    const int32_t out_c = output_dims->c, out_w = output_dims->w, pixels = output_dims->h * out_w;
    int8_t *const x0 = (int8_t *)ctx->buf, *const x1 = x0 + k16;
    if (k16 > k) { /* the patches' padding to a whole group: zeros, never written by the patches */
        const mve_pred16_t pad = vctp8q((uint32_t)(k16 - k));
        vstrbq_p_s8(x0 + k, vdupq_n_s8(0), pad);
        vstrbq_p_s8(x1 + k, vdupq_n_s8(0), pad);
    }
    const int32_t no_left = hk_mve_rounding(quant) == HK_MVE_ROUND_DOUBLE_NO_LEFT;
    hk_mve_block b;
    hk_mve_block_init(&b, params, out_c);
    for (int32_t oc0 = 0; oc0 < out_c; oc0 += HK_MVE_CV_BLOCK) {
        const int32_t n = out_c - oc0 < HK_MVE_CV_BLOCK ? out_c - oc0 : HK_MVE_CV_BLOCK;
        hk_mve_block_prep(&b, bias, filter, oc0, n, k, params->input_offset, quant, rounding);
        if (rounding == HK_ROUND_SINGLE) {
            hk_mve_conv_block_single(&sh, &b, filter + oc0 * k, n, k, out_w, pixels, x0, x1, output + oc0);
        } else if (no_left) {
            hk_mve_conv_block_no_left(&sh, &b, filter + oc0 * k, n, k, out_w, pixels, x0, x1, output + oc0);
        } else {
            hk_mve_conv_block_double(&sh, &b, filter + oc0 * k, n, k, out_w, pixels, x0, x1, output + oc0);
        }
    }
}

#endif /* HK_MVE */

hk_status hk_conv2d_s8(const hk_context *ctx, const hk_conv_params *params, const hk_quant *quant,
                       const hk_dims *input_dims, const int8_t *input, const hk_dims *filter_dims,
                       const int8_t *filter, const int32_t *bias, const hk_dims *output_dims, int8_t *output)
{
#if HK_MVE
    if (hk_mve_quant_vectorizable(quant)) {
        if (quant->rounding == HK_ROUND_SINGLE) {
            hk_mve_conv(ctx, params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output,
                        HK_ROUND_SINGLE);
        } else {
            hk_mve_conv(ctx, params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output,
                        HK_ROUND_DOUBLE);
        }
        return HK_OK;
    }
#else
    (void)ctx;
#endif
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w, out_c = output_dims->c;
    const int32_t per_channel = quant->count > 1;
    for (int32_t oy = 0; oy < output_dims->h; oy++) {
        const int32_t y0 = oy * params->stride.h - params->padding.top;
        for (int32_t ox = 0; ox < output_dims->w; ox++) {
            const int32_t x0 = ox * params->stride.w - params->padding.left;
            for (int32_t oc = 0; oc < out_c; oc++) {
                int32_t acc = bias ? bias[oc] : 0;
                for (int32_t ky = 0; ky < k_h; ky++) {
                    const int32_t iy = y0 + ky * params->dilation.h;
                    for (int32_t kx = 0; iy >= 0 && iy < in_h && kx < k_w; kx++) {
                        const int32_t ix = x0 + kx * params->dilation.w;
                        if (ix < 0 || ix >= in_w) {
                            continue;
                        }
                        const int8_t *x = input + (iy * in_w + ix) * in_c;
                        const int8_t *w = filter + ((oc * k_h + ky) * k_w + kx) * in_c;
                        for (int32_t ic = 0; ic < in_c; ic++) {
                            acc += (int32_t)w[ic] * ((int32_t)x[ic] + params->input_offset);
                        }
                    }
                }
                const int32_t q = per_channel ? oc : 0;
                output[(oy * output_dims->w + ox) * out_c + oc] =
                    hk_mve_out_scalar(acc, quant->multiplier[q], quant->shift[q], quant->rounding,
                                      params->output_offset, &params->activation);
            }
        }
    }
    return HK_OK;
}
