/* 1x1 convolution of the mve variant: hk_pointwise_conv2d_s8 as in hk_nn.h, with the portable
 * kernel's results bit for bit.
 *
 * The same 2 x 2 tiles as the 2-D convolution (hk_mve_conv.h): two output channels of two output
 * pixels, each pixel's C_IN inputs read in place (a 1x1 window with no padding is the pixel itself),
 * 16 taps costing four loads and four VMLADAVA.S8; the input offset enters through each channel's
 * effective bias, bias + input_offset * sum(w), computed once per call (hk_mve_dot.h). A
 * single-rounding requantizer with a shift >= 0 takes the portable path, the reference's loop; so
 * does a build without MVE. */
#include "hk_mve_conv.h"
#include "hk_nn.h"

/* No scratch: the inputs are read in place and the effective biases live on the stack. */
int32_t hk_pointwise_conv2d_s8_get_buffer_size(const hk_dims *input_dims)
{
    (void)input_dims;
    return 0;
}

#if HK_MVE

/* Every pixel pair of a block of n channels: the pixels' inputs in place, then the tiles. */
HK_MVE_INLINE void hk_mve_pw_block(const hk_mve_block *b, const int8_t *filter, int32_t n, int32_t k,
                                   const int8_t *input, int32_t step_x, int32_t step_y, int32_t out_w,
                                   int32_t pixels, int8_t *output, int32_t rounding)
{
    const uint32x4_t where = hk_mve_tile_where(b->out_c);
    const int32x4_t lo = vdupq_n_s32(b->act_min), hi = vdupq_n_s32(b->act_max);
    int32_t ox = 0;
    const int8_t *row = input, *x = input;
    for (int32_t p = 0; p < pixels; p += 2, output += 2 * b->out_c) {
        const int32_t pix2 = p + 1 < pixels;
        const int8_t *const x0 = x;
        if (++ox == out_w) {
            ox = 0;
            row += step_y;
            x = row;
        } else {
            x += step_x;
        }
        const int8_t *const x1 = pix2 ? x : x0;
        if (++ox == out_w) {
            ox = 0;
            row += step_y;
            x = row;
        } else {
            x += step_x;
        }
        hk_mve_tiles(b, filter, n, x0, x1, pix2, k, output, rounding, 0, where, lo, hi);
    }
}

HK_MVE_NOINLINE void hk_mve_pw_block_double(const hk_mve_block *b, const int8_t *filter, int32_t n, int32_t k,
                                            const int8_t *input, int32_t step_x, int32_t step_y, int32_t out_w,
                                            int32_t pixels, int8_t *output)
{
    hk_mve_pw_block(b, filter, n, k, input, step_x, step_y, out_w, pixels, output, HK_ROUND_DOUBLE);
}

HK_MVE_NOINLINE void hk_mve_pw_block_no_left(const hk_mve_block *b, const int8_t *filter, int32_t n, int32_t k,
                                             const int8_t *input, int32_t step_x, int32_t step_y, int32_t out_w,
                                             int32_t pixels, int8_t *output)
{
    hk_mve_pw_block(b, filter, n, k, input, step_x, step_y, out_w, pixels, output, HK_MVE_ROUND_DOUBLE_NO_LEFT);
}

HK_MVE_NOINLINE void hk_mve_pw_block_single(const hk_mve_block *b, const int8_t *filter, int32_t n, int32_t k,
                                            const int8_t *input, int32_t step_x, int32_t step_y, int32_t out_w,
                                            int32_t pixels, int8_t *output)
{
    hk_mve_pw_block(b, filter, n, k, input, step_x, step_y, out_w, pixels, output, HK_ROUND_SINGLE);
}

HK_MVE_INLINE void hk_mve_pointwise(const hk_conv_params *params, const hk_quant *quant, const hk_dims *input_dims,
                                    const int8_t *input, const int8_t *filter, const int32_t *bias,
                                    const hk_dims *output_dims, int8_t *output, int32_t rounding)
{
    const int32_t k = input_dims->c, in_w = input_dims->w;
    const int32_t out_c = output_dims->c, out_w = output_dims->w, pixels = output_dims->h * out_w;
    const int32_t step_x = params->stride.w * k, step_y = params->stride.h * in_w * k;
    const int32_t no_left = hk_mve_rounding(quant) == HK_MVE_ROUND_DOUBLE_NO_LEFT;
    hk_mve_block b;
    hk_mve_block_init(&b, params, out_c);
    for (int32_t oc0 = 0; oc0 < out_c; oc0 += HK_MVE_CV_BLOCK) {
        const int32_t n = out_c - oc0 < HK_MVE_CV_BLOCK ? out_c - oc0 : HK_MVE_CV_BLOCK;
        hk_mve_block_prep(&b, bias, filter, oc0, n, k, params->input_offset, quant, rounding);
        if (rounding == HK_ROUND_SINGLE) {
            hk_mve_pw_block_single(&b, filter + oc0 * k, n, k, input, step_x, step_y, out_w, pixels, output + oc0);
        } else if (no_left) {
            hk_mve_pw_block_no_left(&b, filter + oc0 * k, n, k, input, step_x, step_y, out_w, pixels, output + oc0);
        } else {
            hk_mve_pw_block_double(&b, filter + oc0 * k, n, k, input, step_x, step_y, out_w, pixels, output + oc0);
        }
    }
}

#endif /* HK_MVE */

hk_status hk_pointwise_conv2d_s8(const hk_context *ctx, const hk_conv_params *params, const hk_quant *quant,
                                 const hk_dims *input_dims, const int8_t *input, const int8_t *filter,
                                 const int32_t *bias, const hk_dims *output_dims, int8_t *output)
{
    (void)ctx;
#if HK_MVE
    if (hk_mve_quant_vectorizable(quant)) {
        if (quant->rounding == HK_ROUND_SINGLE) {
            hk_mve_pointwise(params, quant, input_dims, input, filter, bias, output_dims, output, HK_ROUND_SINGLE);
        } else {
            hk_mve_pointwise(params, quant, input_dims, input, filter, bias, output_dims, output, HK_ROUND_DOUBLE);
        }
        return HK_OK;
    }
#endif
    const int32_t in_w = input_dims->w, in_c = input_dims->c, out_c = output_dims->c;
    const int32_t per_channel = quant->count > 1;
    for (int32_t oy = 0; oy < output_dims->h; oy++) {
        for (int32_t ox = 0; ox < output_dims->w; ox++) {
            const int8_t *x = input + (oy * params->stride.h * in_w + ox * params->stride.w) * in_c;
            int8_t *out = output + (oy * output_dims->w + ox) * out_c;
            for (int32_t oc = 0; oc < out_c; oc++) {
                const int8_t *w = filter + oc * in_c;
                int32_t acc = bias ? bias[oc] : 0;
                for (int32_t ic = 0; ic < in_c; ic++) {
                    acc += (int32_t)w[ic] * ((int32_t)x[ic] + params->input_offset);
                }
                const int32_t q = per_channel ? oc : 0;
                out[oc] = hk_mve_out_scalar(acc, quant->multiplier[q], quant->shift[q], quant->rounding,
                                            params->output_offset, &params->activation);
            }
        }
    }
    return HK_OK;
}
