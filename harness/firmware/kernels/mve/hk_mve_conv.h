/* Shared pieces of the mve variant's 2-D and 1x1 convolutions: 2 x 2 tiles of output values (two
 * output channels of two pixels), their sums from VMLADAVA.S8 products (hk_mve_dot.h argues the
 * exactness of the split into products, weight sums and effective biases), requantized as one
 * vector.
 *
 * A tile's four sums are {w0 . x0, w1 . x0, w0 . x1, w1 . x1} (channels oc and oc + 1 of pixels 0 and
 * 1). The lanes' effective biases (bias + input_offset * sum(w)) and requantizers are prepared once
 * per call and per pair of channels as vectors in that lane order, {c, c + 1, c, c + 1} (a last odd
 * channel repeats itself), and the four bytes go out in one scatter store to out[p][oc],
 * out[p][oc + 1], out[p + 1][oc], out[p + 1][oc + 1], predicated for a missing channel or pixel.
 * Static inline only. */
#ifndef HK_MVE_CONV_H
#define HK_MVE_CONV_H

#include "hk_mve_dot.h"

#if HK_MVE

/* Output channels whose per-channel values are prepared at once (on the stack, 32 bytes each). */
#define HK_MVE_CV_BLOCK 64

/* What every tile of one block of channels shares: per pair of channels, four vectors (effective
 * bias, multiplier, left shift, right shift; the shifts as hk_mve_rq's) in the tile's lane order. */
typedef struct {
    int32_t pair[HK_MVE_CV_BLOCK / 2][16];
    int32_t out_c; /* output channels: a pixel's stride in the output */
    int32_t output_offset;
    int32_t act_min, act_max;
} hk_mve_block;

HK_MVE_INLINE void hk_mve_block_init(hk_mve_block *b, const hk_conv_params *params, int32_t out_c)
{
    b->out_c = out_c;
    b->output_offset = params->output_offset;
    b->act_min = params->activation.min;
    b->act_max = params->activation.max;
}

/* The block of n channels from oc0: effective biases of filter rows of k taps, requantizers. */
HK_MVE_INLINE void hk_mve_block_prep(hk_mve_block *b, const int32_t *bias, const int8_t *filter, int32_t oc0,
                                     int32_t n, int32_t k, int32_t input_offset, const hk_quant *quant,
                                     int32_t rounding)
{
    for (int32_t j = 0; j < n; j++) {
        const int32_t oc = oc0 + j, q = quant->count > 1 ? oc : 0, s = quant->shift[q];
        const int32_t beff = (bias ? bias[oc] : 0) + input_offset * hk_mve_row_sum(filter + oc * k, k);
        const int32_t l = rounding == HK_ROUND_SINGLE || s < 0 ? 0 : s;
        const int32_t r = rounding == HK_ROUND_SINGLE || s < 0 ? s : 0;
        /* lanes 0 and 2 for an even j, 1 and 3 for an odd one, all four for a last even one */
        int32_t *v = b->pair[j >> 1];
        const int32_t step = (j & 1) == 0 && j + 1 == n ? 1 : 2;
        for (int32_t lane = j & 1; lane < 4; lane += step) {
            v[lane] = beff;
            v[4 + lane] = quant->multiplier[q];
            v[8 + lane] = l;
            v[12 + lane] = r;
        }
    }
}

/* One tile: filter rows w0 and w1 (k taps) against the pixels' inputs x0 and x1, the lanes' vectors at
 * v, the bytes scattered from out at where, predicated by pred. With padded set, x0 and x1 hold zeros
 * up to the next multiple of 16 taps, so that only the weights of a last incomplete group need
 * predication (a weight read past its row then meets a 0); otherwise the inputs do too. */
HK_MVE_INLINE void hk_mve_tile(const int8_t *w0, const int8_t *w1, const int8_t *x0, const int8_t *x1,
                               int32_t groups, int32_t rest, mve_pred16_t tail, const int32_t *v, int8_t *out,
                               uint32x4_t where, mve_pred16_t pred, int32_t out_off, int32x4_t lo, int32x4_t hi,
                               int32_t rounding, int32_t padded)
{
    int32_t a00 = 0, a10 = 0, a01 = 0, a11 = 0;
    for (int32_t g = groups; g > 0; g--) {
        const int8x16_t p0 = vldrbq_s8(x0), p1 = vldrbq_s8(x1);
        const int8x16_t v0 = vldrbq_s8(w0), v1 = vldrbq_s8(w1);
        x0 += 16;
        x1 += 16;
        w0 += 16;
        w1 += 16;
        a00 = vmladavaq_s8(a00, v0, p0);
        a10 = vmladavaq_s8(a10, v1, p0);
        a01 = vmladavaq_s8(a01, v0, p1);
        a11 = vmladavaq_s8(a11, v1, p1);
    }
    if (rest) {
        const int8x16_t p0 = padded ? vldrbq_s8(x0) : vldrbq_z_s8(x0, tail);
        const int8x16_t p1 = padded ? vldrbq_s8(x1) : vldrbq_z_s8(x1, tail);
        const int8x16_t v0 = vldrbq_z_s8(w0, tail), v1 = vldrbq_z_s8(w1, tail);
        a00 = vmladavaq_s8(a00, v0, p0);
        a10 = vmladavaq_s8(a10, v1, p0);
        a01 = vmladavaq_s8(a01, v0, p1);
        a11 = vmladavaq_s8(a11, v1, p1);
    }
    int32x4_t acc = vdupq_n_s32(a00);
    acc = vsetq_lane_s32(a10, acc, 1);
    acc = vsetq_lane_s32(a01, acc, 2);
    acc = vsetq_lane_s32(a11, acc, 3);
    acc = vaddq_s32(acc, vldrwq_s32(v));
    hk_mve_rq rq;
    rq.m = vldrwq_s32(v + 4);
    rq.l = rounding == HK_ROUND_DOUBLE ? vldrwq_s32(v + 8) : vdupq_n_s32(0);
    rq.r = vldrwq_s32(v + 12);
    const int32x4_t r = hk_mve_out(hk_mve_rq_apply(&rq, acc, rounding), out_off, lo, hi);
    if (pred == 0xFFFF) {
        vstrbq_scatter_offset_s32(out, where, r);
    } else {
        vstrbq_scatter_offset_p_s32(out, where, r, pred);
    }
}

/* Every tile of one pixel pair: the n channels of the block whose filter rows (k taps) start at w,
 * against the pixels' inputs x0 and x1 (k taps each; x1 is x0 again and pix2 0 when there is no
 * second pixel), out at pixel 0's first channel of the block; padded as for hk_mve_tile. */
HK_MVE_INLINE void hk_mve_tiles(const hk_mve_block *b, const int8_t *w, int32_t n, const int8_t *x0,
                                const int8_t *x1, int32_t pix2, int32_t k, int8_t *out, int32_t rounding,
                                int32_t padded, uint32x4_t where, int32x4_t lo, int32x4_t hi)
{
    const int32_t groups = k >> 4, rest = k & 15, out_off = b->output_offset;
    const mve_pred16_t tail = vctp8q((uint32_t)rest);
    const int32_t *v = b->pair[0];
    const int32_t pairs = n >> 1;
    const mve_pred16_t pred = hk_mve_pred(pix2 ? 0xFFFFu : 0x00FFu);
    if (rest == 0 && pix2) { /* the common case, with constants for the tile's tests */
        for (int32_t t = pairs; t > 0; t--, w += 2 * k, out += 2, v += 16) {
            hk_mve_tile(w, w + k, x0, x1, groups, 0, tail, v, out, where, 0xFFFF, out_off, lo, hi, rounding, padded);
        }
    } else if (pix2) {
        for (int32_t t = pairs; t > 0; t--, w += 2 * k, out += 2, v += 16) {
            hk_mve_tile(w, w + k, x0, x1, groups, rest, tail, v, out, where, 0xFFFF, out_off, lo, hi, rounding, padded);
        }
    } else { /* a last single pixel */
        for (int32_t t = pairs; t > 0; t--, w += 2 * k, out += 2, v += 16) {
            hk_mve_tile(w, w + k, x0, x1, groups, rest, tail, v, out, where, pred, out_off, lo, hi, rounding, padded);
        }
    }
    if (n & 1) { /* the last odd channel, in lanes 0 and 2 */
        hk_mve_tile(w, w, x0, x1, groups, rest, tail, v, out, where, hk_mve_pred(pix2 ? 0x0F0Fu : 0x000Fu), out_off,
                    lo, hi, rounding, padded);
    }
}

/* {0, 1, out_c, out_c + 1}: a tile's lanes' offsets in the output. */
HK_MVE_INLINE uint32x4_t hk_mve_tile_where(int32_t out_c)
{
    const uint32x4_t idx = vidupq_n_u32(0, 1);
    return vmlaq_n_u32(vandq_u32(idx, vdupq_n_u32(1)), vshrq_n_u32(idx, 1), (uint32_t)out_c);
}

#endif /* HK_MVE */

#endif
