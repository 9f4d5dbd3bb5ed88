/* Depthwise convolution of the mve variant: hk_depthwise_conv2d_s8 as in hk_nn.h, with the portable
 * kernel's results bit for bit.
 *
 * Vectors of four output channels, int32 lanes: per tap, a load of four weights and one of the four
 * matching inputs (VLDRB.S32 sign-extends bytes into words; with a channel multiplier M > 1 the
 * inputs are a gather at byte offsets (oc + i) / M - oc / M), then a VMUL and a VADD (MVE's VMLA
 * takes a scalar operand only). Each block of four channels gets its constants (bias, full-window
 * base, requantizer vectors) once per call, in a table on the stack; then output rows go outermost,
 * so that a row's and a pixel's clipping of the window by the input's edges is worked out once for
 * every block. Pixels whose windows lie inside the input (without channel multiplier) go through
 * spans that take two blocks and two pixels at a time (hk_mve_dw_span8: per tap two weight loads and
 * four input loads, the second block's at an immediate +4 bytes, for 32 products); windows cut by
 * the edges through the clipped loops. A last incomplete block is predicated (lanes past C_OUT load
 * nothing and are not stored).
 *
 * Exactness. The reference sums bias + sum over the window's taps inside the input of w * (x + off)
 * in int32 modulo 2^32 (off the input offset). Where the whole window lies inside the input, that is
 * bias + off * S + sum w * x with S the sum of all the channel's weights, computed once per block
 * (each product of two int8, every sum modulo 2^32: the same residue). At the borders, where taps
 * are left out, each input gets the offset added before its product (VADD, exact: |x + off| <= 255),
 * and the taps outside are skipped, as in the reference. The sums are then requantized as in
 * hk_mve.h. A single-rounding requantizer with a shift >= 0 takes the portable path, the
 * reference's loop; so does a build without MVE. */
#include "hk_mve.h"
#include "hk_nn.h"

/* No scratch. */
int32_t hk_depthwise_conv2d_s8_get_buffer_size(const hk_dims *input_dims, const hk_dims *filter_dims)
{
    (void)input_dims;
    (void)filter_dims;
    return 0;
}

#if HK_MVE

/* Four channels' inputs at x (input channel ic0 of a pixel): contiguous for M = 1, else a gather;
 * predicated only in a last incomplete block (VPST is an instruction of its own). */
HK_MVE_INLINE int32x4_t hk_mve_dw_load(const int8_t *x, int32_t mult1, uint32x4_t offs, mve_pred16_t p, int32_t all)
{
    if (all) {
        return mult1 ? vldrbq_s32(x) : vldrbq_gather_offset_s32(x, offs);
    }
    return mult1 ? vldrbq_z_s32(x, p) : vldrbq_gather_offset_z_s32(x, offs, p);
}

/* Four channels' weights at w. */
HK_MVE_INLINE int32x4_t hk_mve_dw_weights(const int8_t *w, mve_pred16_t p, int32_t all)
{
    return all ? vldrbq_s32(w) : vldrbq_z_s32(w, p);
}

/* P (a constant: 1, 2 or 4) output pixels whose windows lie wholly inside the input, for a complete
 * block of four channels of a layer without channel multiplier, sharing each weight load: the
 * window of the first at x (its top-left tap, the block's first channel), the next pixel's window
 * step bytes on, outputs from out, out_c bytes apart. */
HK_MVE_INLINE void hk_mve_dw_pixels(const int8_t *x, int32_t step, const int8_t *filter, int32_t k_h, int32_t k_w,
                                    int32_t tap_x, int32_t tap_y, int32_t out_c, int8_t *out, int32x4_t base,
                                    const hk_mve_rq *rq, int32_t out_off, int32x4_t lo, int32x4_t hi,
                                    int32_t rounding, int32_t pixels)
{
    int32x4_t acc0 = base, acc1 = base, acc2 = base, acc3 = base;
    const int8_t *w = filter, *xr = x;
    for (int32_t ky = k_h; ky > 0; ky--, xr += tap_y) {
        const int8_t *xt = xr;
        for (int32_t kx = k_w; kx > 0; kx--, xt += tap_x, w += out_c) {
            const int32x4_t wv = vldrbq_s32(w);
            acc0 = vaddq_s32(acc0, vmulq_s32(wv, vldrbq_s32(xt)));
            if (pixels > 1) {
                acc1 = vaddq_s32(acc1, vmulq_s32(wv, vldrbq_s32(xt + step)));
            }
            if (pixels > 2) {
                acc2 = vaddq_s32(acc2, vmulq_s32(wv, vldrbq_s32(xt + 2 * step)));
                acc3 = vaddq_s32(acc3, vmulq_s32(wv, vldrbq_s32(xt + 3 * step)));
            }
        }
    }
    vstrbq_s32(out, hk_mve_out(hk_mve_rq_apply(rq, acc0, rounding), out_off, lo, hi));
    if (pixels > 1) {
        vstrbq_s32(out + out_c, hk_mve_out(hk_mve_rq_apply(rq, acc1, rounding), out_off, lo, hi));
    }
    if (pixels > 2) {
        vstrbq_s32(out + 2 * out_c, hk_mve_out(hk_mve_rq_apply(rq, acc2, rounding), out_off, lo, hi));
        vstrbq_s32(out + 3 * out_c, hk_mve_out(hk_mve_rq_apply(rq, acc3, rounding), out_off, lo, hi));
    }
}

/* n such pixels: four at a time, then two, then one. */
HK_MVE_INLINE void hk_mve_dw_span(const int8_t *x, int32_t step, int32_t n, const int8_t *filter, int32_t k_h,
                                  int32_t k_w, int32_t tap_x, int32_t tap_y, int32_t out_c, int8_t *out,
                                  int32x4_t base, const hk_mve_rq *rq, int32_t out_off, int32x4_t lo, int32x4_t hi,
                                  int32_t rounding)
{
    for (; n >= 4; n -= 4, x += 4 * step, out += 4 * out_c) {
        hk_mve_dw_pixels(x, step, filter, k_h, k_w, tap_x, tap_y, out_c, out, base, rq, out_off, lo, hi, rounding, 4);
    }
    if (n >= 2) {
        hk_mve_dw_pixels(x, step, filter, k_h, k_w, tap_x, tap_y, out_c, out, base, rq, out_off, lo, hi, rounding, 2);
        n -= 2;
        x += 2 * step;
        out += 2 * out_c;
    }
    if (n) {
        hk_mve_dw_pixels(x, step, filter, k_h, k_w, tap_x, tap_y, out_c, out, base, rq, out_off, lo, hi, rounding, 1);
    }
}

/* hk_mve_dw_span for each rounding, out of line (all its registers to itself). */
HK_MVE_NOINLINE void hk_mve_dw_span_double(const int8_t *x, int32_t step, int32_t n, const int8_t *filter,
                                           int32_t k_h, int32_t k_w, int32_t tap_x, int32_t tap_y, int32_t out_c,
                                           int8_t *out, int32x4_t base, const hk_mve_rq *rq, int32_t out_off,
                                           int32x4_t lo, int32x4_t hi)
{
    hk_mve_dw_span(x, step, n, filter, k_h, k_w, tap_x, tap_y, out_c, out, base, rq, out_off, lo, hi,
                   HK_ROUND_DOUBLE);
}

HK_MVE_NOINLINE void hk_mve_dw_span_no_left(const int8_t *x, int32_t step, int32_t n, const int8_t *filter,
                                            int32_t k_h, int32_t k_w, int32_t tap_x, int32_t tap_y, int32_t out_c,
                                            int8_t *out, int32x4_t base, const hk_mve_rq *rq, int32_t out_off,
                                            int32x4_t lo, int32x4_t hi)
{
    hk_mve_dw_span(x, step, n, filter, k_h, k_w, tap_x, tap_y, out_c, out, base, rq, out_off, lo, hi,
                   HK_MVE_ROUND_DOUBLE_NO_LEFT);
}

HK_MVE_NOINLINE void hk_mve_dw_span_single(const int8_t *x, int32_t step, int32_t n, const int8_t *filter,
                                           int32_t k_h, int32_t k_w, int32_t tap_x, int32_t tap_y, int32_t out_c,
                                           int8_t *out, int32x4_t base, const hk_mve_rq *rq, int32_t out_off,
                                           int32x4_t lo, int32x4_t hi)
{
    hk_mve_dw_span(x, step, n, filter, k_h, k_w, tap_x, tap_y, out_c, out, base, rq, out_off, lo, hi,
                   HK_ROUND_SINGLE);
}

/* Blocks of four channels whose constants are prepared at once (on the stack, 96 bytes each). */
#define HK_MVE_DW_CHUNK 16

/* One block's constants: bias, full-window base (bias + off * sum of the weights), requantizer
 * vectors, and the byte offsets of the lanes' input channels (a channel multiplier M > 1). */
typedef struct {
    int32_t b[4], base[4], m[4], l[4], r[4];
    uint32_t offs[4];
} hk_mve_dw_consts;

/* n output pixels whose windows lie wholly inside the input, for two complete blocks of four
 * channels (eight channels, constants c[0] and c[1]) of a layer without channel multiplier, two
 * pixels at a time: per tap, two weight loads and four input loads (the second block's at +4 bytes,
 * an immediate offset) for 32 products. x is the first pixel's window's top-left tap at the first
 * channel, the next pixel's step bytes on; outputs from out, out_c bytes apart. */
HK_MVE_INLINE void hk_mve_dw_span8(const int8_t *x, int32_t step, int32_t n, const int8_t *filter, int32_t k_h,
                                   int32_t k_w, int32_t tap_x, int32_t tap_y, int32_t out_c, int8_t *out,
                                   const hk_mve_dw_consts *c, int32_t out_off, int32x4_t lo, int32x4_t hi,
                                   int32_t rounding)
{
    for (; n > 0; n -= 2, x += 2 * step, out += 2 * out_c) {
        const int32_t two = n > 1;
        int32x4_t a00 = vldrwq_s32(c[0].base), a01 = vldrwq_s32(c[1].base);
        int32x4_t a10 = a00, a11 = a01;
        const int8_t *w = filter, *xr = x, *xr1 = two ? x + step : x;
        for (int32_t ky = k_h; ky > 0; ky--, xr += tap_y, xr1 += tap_y) {
            const int8_t *xt = xr, *xt1 = xr1;
            for (int32_t kx = k_w; kx > 0; kx--, xt += tap_x, xt1 += tap_x, w += out_c) {
                const int32x4_t w0 = vldrbq_s32(w), w1 = vldrbq_s32(w + 4);
                a00 = vaddq_s32(a00, vmulq_s32(w0, vldrbq_s32(xt)));
                a01 = vaddq_s32(a01, vmulq_s32(w1, vldrbq_s32(xt + 4)));
                a10 = vaddq_s32(a10, vmulq_s32(w0, vldrbq_s32(xt1)));
                a11 = vaddq_s32(a11, vmulq_s32(w1, vldrbq_s32(xt1 + 4)));
            }
        }
        for (int32_t i = 0; i < 2; i++) {
            hk_mve_rq rq;
            rq.m = vldrwq_s32(c[i].m);
            rq.l = vldrwq_s32(c[i].l);
            rq.r = vldrwq_s32(c[i].r);
            vstrbq_s32(out + 4 * i, hk_mve_out(hk_mve_rq_apply(&rq, i ? a01 : a00, rounding), out_off, lo, hi));
            if (two) {
                vstrbq_s32(out + out_c + 4 * i,
                           hk_mve_out(hk_mve_rq_apply(&rq, i ? a11 : a10, rounding), out_off, lo, hi));
            }
        }
    }
}

HK_MVE_NOINLINE void hk_mve_dw_span8_double(const int8_t *x, int32_t step, int32_t n, const int8_t *filter,
                                            int32_t k_h, int32_t k_w, int32_t tap_x, int32_t tap_y, int32_t out_c,
                                            int8_t *out, const hk_mve_dw_consts *c, int32_t out_off, int32x4_t lo,
                                            int32x4_t hi)
{
    hk_mve_dw_span8(x, step, n, filter, k_h, k_w, tap_x, tap_y, out_c, out, c, out_off, lo, hi, HK_ROUND_DOUBLE);
}

HK_MVE_NOINLINE void hk_mve_dw_span8_no_left(const int8_t *x, int32_t step, int32_t n, const int8_t *filter,
                                             int32_t k_h, int32_t k_w, int32_t tap_x, int32_t tap_y, int32_t out_c,
                                             int8_t *out, const hk_mve_dw_consts *c, int32_t out_off, int32x4_t lo,
                                             int32x4_t hi)
{
    hk_mve_dw_span8(x, step, n, filter, k_h, k_w, tap_x, tap_y, out_c, out, c, out_off, lo, hi, HK_MVE_ROUND_DOUBLE_NO_LEFT);
}

HK_MVE_NOINLINE void hk_mve_dw_span8_single(const int8_t *x, int32_t step, int32_t n, const int8_t *filter,
                                            int32_t k_h, int32_t k_w, int32_t tap_x, int32_t tap_y, int32_t out_c,
                                            int8_t *out, const hk_mve_dw_consts *c, int32_t out_off, int32x4_t lo,
                                            int32x4_t hi)
{
    hk_mve_dw_span8(x, step, n, filter, k_h, k_w, tap_x, tap_y, out_c, out, c, out_off, lo, hi, HK_ROUND_SINGLE);
}

/* The taps of one output pixel for one block, rows x taps of them from the input at x (the block's
 * input channel of the first tap inside the input) and the weights at w, each input offset first:
 * the window cut by the input's edges. */
HK_MVE_INLINE int32x4_t hk_mve_dw_clipped(int32x4_t acc, const int8_t *x, const int8_t *w, int32_t rows, int32_t taps,
                                          int32_t tap_x, int32_t tap_y, int32_t w_row, int32_t out_c, int32_t off,
                                          int32_t mult1, uint32x4_t offs, mve_pred16_t p, int32_t all)
{
    for (int32_t ky = rows; ky > 0; ky--, x += tap_y, w += w_row) {
        const int8_t *xt = x, *wt = w;
        for (int32_t kx = taps; kx > 0; kx--, xt += tap_x, wt += out_c) {
            const int32x4_t xv = vaddq_n_s32(hk_mve_dw_load(xt, mult1, offs, p, all), off);
            acc = vaddq_s32(acc, vmulq_s32(hk_mve_dw_weights(wt, p, all), xv));
        }
    }
    return acc;
}

/* hk_mve_dw_clipped for two complete blocks of a layer without channel multiplier at once (the
 * second block's inputs and weights at +4 bytes, immediate offsets): *acc0 and *acc1. */
HK_MVE_INLINE void hk_mve_dw_clipped8(int32x4_t *acc0, int32x4_t *acc1, const int8_t *x, const int8_t *w,
                                      int32_t rows, int32_t taps, int32_t tap_x, int32_t tap_y, int32_t w_row,
                                      int32_t out_c, int32_t off)
{
    int32x4_t a0 = *acc0, a1 = *acc1;
    for (int32_t ky = rows; ky > 0; ky--, x += tap_y, w += w_row) {
        const int8_t *xt = x, *wt = w;
        for (int32_t kx = taps; kx > 0; kx--, xt += tap_x, wt += out_c) {
            a0 = vaddq_s32(a0, vmulq_s32(vldrbq_s32(wt), vaddq_n_s32(vldrbq_s32(xt), off)));
            a1 = vaddq_s32(a1, vmulq_s32(vldrbq_s32(wt + 4), vaddq_n_s32(vldrbq_s32(xt + 4), off)));
        }
    }
    *acc0 = a0;
    *acc1 = a1;
}

/* The nblk blocks of four channels from c_first, every output pixel; rows outermost, so that each
 * row's and pixel's window clipping is worked out once for all the blocks. */
HK_MVE_INLINE void hk_mve_dw_chunk(const hk_conv_params *params, const hk_quant *quant, const hk_dims *input_dims,
                                   const int8_t *input, const hk_dims *filter_dims, const int8_t *filter,
                                   const int32_t *bias, const hk_dims *output_dims, int8_t *output, int32_t rounding,
                                   int32_t mult1, int32_t c_first, int32_t nblk)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c, mult = out_c / in_c;
    const int32_t off = params->input_offset, out_off = params->output_offset;
    const int32_t sh = params->stride.h, sw = params->stride.w, dh = params->dilation.h, dw = params->dilation.w;
    const int32_t pad_t = params->padding.top, pad_l = params->padding.left;
    const int32_t row_bytes = in_w * in_c, tap_x = dw * in_c, tap_y = dh * row_bytes, w_row = k_w * out_c;
    const int32x4_t lo = vdupq_n_s32(params->activation.min), hi = vdupq_n_s32(params->activation.max);
    hk_mve_dw_consts cs[HK_MVE_DW_CHUNK];
    for (int32_t i = 0; i < nblk; i++) {
        const int32_t c0 = c_first + 4 * i, ic0 = c0 / mult;
        const mve_pred16_t p = vctp32q((uint32_t)(out_c - c0));
        const hk_mve_rq rq = hk_mve_rq_load(quant, quant->count > 1 ? c0 : 0, rounding);
        const int32x4_t b = bias ? vldrwq_z_s32(bias + c0, p) : vdupq_n_s32(0);
        int32x4_t s = vdupq_n_s32(0);
        for (int32_t t = 0; t < k_h * k_w; t++) {
            s = vaddq_s32(s, vldrbq_z_s32(filter + t * out_c + c0, p));
        }
        vstrwq_s32(cs[i].b, b);
        vstrwq_s32(cs[i].base, vmlaq_n_s32(b, s, off));
        vstrwq_s32(cs[i].m, rq.m);
        vstrwq_s32(cs[i].l, rq.l);
        vstrwq_s32(cs[i].r, rq.r);
        for (int32_t lane = 0; lane < 4; lane++) {
            cs[i].offs[lane] = (uint32_t)((c0 + lane) / mult - ic0);
        }
    }
    for (int32_t oy = 0; oy < out_h; oy++) {
        const int32_t y0 = oy * sh - pad_t;
        /* the window rows inside the input: ky in [ky_lo, ky_hi) */
        const int32_t ky_lo = y0 < 0 ? (dh - 1 - y0) / dh : 0;
        int32_t ky_hi = in_h - 1 - y0 < 0 ? 0 : (in_h - 1 - y0) / dh + 1;
        ky_hi = ky_hi < k_h ? ky_hi : k_h;
        const int32_t rows = ky_hi - ky_lo;
        /* the pixels [ox_lo, ox_hi) of this row whose windows lie inside the input (the span path,
         * for M = 1) */
        int32_t ox_lo = 0, ox_hi = 0;
        if (rows == k_h && mult1) {
            ox_lo = pad_l > 0 ? (pad_l + sw - 1) / sw : 0;
            const int32_t last = in_w - 1 - (k_w - 1) * dw + pad_l; /* largest x0 + pad_l */
            ox_hi = last < 0 ? 0 : last / sw + 1;
            ox_hi = ox_hi < out_w ? ox_hi : out_w;
            ox_lo = ox_lo < ox_hi ? ox_lo : ox_hi;
        }
        const int8_t *const in_row = input + (y0 + ky_lo * dh) * row_bytes;
        const int8_t *const w_first = filter + ky_lo * w_row;
        int8_t *const out_row = output + oy * out_w * out_c;
        for (int32_t ox = 0; ox < out_w; ox++) {
            if (ox == ox_lo && ox_hi > ox_lo) {
                const int8_t *x = in_row + (ox * sw - pad_l) * in_c;
                for (int32_t i = 0; i < nblk; i++) {
                    const int32_t c0 = c_first + 4 * i;
                    int8_t *const out = out_row + ox * out_c + c0;
                    if (i + 1 < nblk && c0 + 8 <= out_c) { /* two complete blocks at once */
                        if (rounding == HK_ROUND_SINGLE) {
                            hk_mve_dw_span8_single(x + c0, sw * in_c, ox_hi - ox_lo, filter + c0, k_h, k_w, tap_x,
                                                   tap_y, out_c, out, cs + i, out_off, lo, hi);
                        } else if (rounding == HK_MVE_ROUND_DOUBLE_NO_LEFT) {
                            hk_mve_dw_span8_no_left(x + c0, sw * in_c, ox_hi - ox_lo, filter + c0, k_h, k_w, tap_x,
                                                    tap_y, out_c, out, cs + i, out_off, lo, hi);
                        } else {
                            hk_mve_dw_span8_double(x + c0, sw * in_c, ox_hi - ox_lo, filter + c0, k_h, k_w, tap_x,
                                                   tap_y, out_c, out, cs + i, out_off, lo, hi);
                        }
                        i++;
                        continue;
                    }
                    hk_mve_rq rq;
                    rq.m = vldrwq_s32(cs[i].m);
                    rq.l = vldrwq_s32(cs[i].l);
                    rq.r = vldrwq_s32(cs[i].r);
                    if (c0 + 4 <= out_c) {
                        if (rounding == HK_ROUND_SINGLE) {
                            hk_mve_dw_span_single(x + c0, sw * in_c, ox_hi - ox_lo, filter + c0, k_h, k_w, tap_x,
                                                  tap_y, out_c, out, vldrwq_s32(cs[i].base), &rq, out_off, lo, hi);
                        } else if (rounding == HK_MVE_ROUND_DOUBLE_NO_LEFT) {
                            hk_mve_dw_span_no_left(x + c0, sw * in_c, ox_hi - ox_lo, filter + c0, k_h, k_w, tap_x,
                                                   tap_y, out_c, out, vldrwq_s32(cs[i].base), &rq, out_off, lo, hi);
                        } else {
                            hk_mve_dw_span_double(x + c0, sw * in_c, ox_hi - ox_lo, filter + c0, k_h, k_w, tap_x,
                                                  tap_y, out_c, out, vldrwq_s32(cs[i].base), &rq, out_off, lo, hi);
                        }
                        continue;
                    }
                    /* a last incomplete block: the same sums with predication, pixel by pixel */
                    const mve_pred16_t p = vctp32q((uint32_t)(out_c - c0));
                    for (int32_t j = 0; j < ox_hi - ox_lo; j++) {
                        const int32x4_t acc =
                            hk_mve_dw_clipped(vldrwq_s32(cs[i].b), x + j * sw * in_c + c0, filter + c0, k_h, k_w,
                                              tap_x, tap_y, w_row, out_c, off, 1, vldrwq_u32(cs[i].offs), p, 0);
                        vstrbq_p_s32(out + j * out_c, hk_mve_out(hk_mve_rq_apply(&rq, acc, rounding), out_off, lo, hi),
                                     p);
                    }
                }
                ox = ox_hi - 1;
                continue;
            }
            /* a window cut by the input's edges (or any window, with a channel multiplier): the
             * taps inside the input, kx in [kx_lo, kx_hi) */
            const int32_t x0 = ox * sw - pad_l;
            int32_t kx_lo, kx_hi;
            if (dw == 1) {
                kx_lo = x0 < 0 ? -x0 : 0;
                kx_hi = in_w - x0;
            } else {
                kx_lo = x0 < 0 ? (dw - 1 - x0) / dw : 0;
                kx_hi = in_w - 1 - x0 < 0 ? 0 : (in_w - 1 - x0) / dw + 1;
            }
            kx_hi = kx_hi < k_w ? kx_hi : k_w;
            const int32_t taps = kx_hi - kx_lo, rows_taps = taps > 0 ? rows : 0;
            const int8_t *const x = in_row + (x0 + kx_lo * dw) * in_c;
            const int8_t *const w = w_first + kx_lo * out_c;
            int8_t *const out = out_row + ox * out_c;
            for (int32_t i = 0; i < nblk; i++) {
                const int32_t c0 = c_first + 4 * i, ic0 = c0 / mult;
                if (mult1 && i + 1 < nblk && c0 + 8 <= out_c) { /* two complete blocks at once */
                    int32x4_t acc0 = vldrwq_s32(cs[i].b), acc1 = vldrwq_s32(cs[i + 1].b);
                    hk_mve_dw_clipped8(&acc0, &acc1, x + c0, w + c0, rows_taps, taps, tap_x, tap_y, w_row, out_c, off);
                    for (int32_t j = 0; j < 2; j++) {
                        hk_mve_rq rq;
                        rq.m = vldrwq_s32(cs[i + j].m);
                        rq.l = vldrwq_s32(cs[i + j].l);
                        rq.r = vldrwq_s32(cs[i + j].r);
                        vstrbq_s32(out + c0 + 4 * j,
                                   hk_mve_out(hk_mve_rq_apply(&rq, j ? acc1 : acc0, rounding), out_off, lo, hi));
                    }
                    i++;
                    continue;
                }
                hk_mve_rq rq;
                rq.m = vldrwq_s32(cs[i].m);
                rq.l = vldrwq_s32(cs[i].l);
                rq.r = vldrwq_s32(cs[i].r);
                const int32x4_t b = vldrwq_s32(cs[i].b);
                if (mult1 && c0 + 4 <= out_c) {
                    const int32x4_t acc = hk_mve_dw_clipped(b, x + ic0, w + c0, rows_taps, taps, tap_x, tap_y, w_row,
                                                            out_c, off, 1, vdupq_n_u32(0), 0, 1);
                    vstrbq_s32(out + c0, hk_mve_out(hk_mve_rq_apply(&rq, acc, rounding), out_off, lo, hi));
                } else {
                    const mve_pred16_t p = vctp32q((uint32_t)(out_c - c0));
                    const int32x4_t acc = hk_mve_dw_clipped(b, x + ic0, w + c0, rows_taps, taps, tap_x, tap_y, w_row,
                                                            out_c, off, mult1, vldrwq_u32(cs[i].offs), p, 0);
                    vstrbq_p_s32(out + c0, hk_mve_out(hk_mve_rq_apply(&rq, acc, rounding), out_off, lo, hi), p);
                }
            }
        }
    }
}

HK_MVE_INLINE void hk_mve_depthwise(const hk_conv_params *params, const hk_quant *quant, const hk_dims *input_dims,
                                    const int8_t *input, const hk_dims *filter_dims, const int8_t *filter,
                                    const int32_t *bias, const hk_dims *output_dims, int8_t *output,
                                    int32_t rounding, int32_t mult1)
{
    const int32_t blocks = (output_dims->c + 3) >> 2;
    for (int32_t first = 0; first < blocks; first += HK_MVE_DW_CHUNK) {
        const int32_t n = blocks - first < HK_MVE_DW_CHUNK ? blocks - first : HK_MVE_DW_CHUNK;
        hk_mve_dw_chunk(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output, rounding,
                        mult1, 4 * first, n);
    }
}

#endif /* HK_MVE */

hk_status hk_depthwise_conv2d_s8(const hk_context *ctx, const hk_conv_params *params, const hk_quant *quant,
                                 const hk_dims *input_dims, const int8_t *input, const hk_dims *filter_dims,
                                 const int8_t *filter, const int32_t *bias, const hk_dims *output_dims,
                                 int8_t *output)
{
    (void)ctx;
#if HK_MVE
    if (hk_mve_quant_vectorizable(quant)) {
        const int32_t mult1 = output_dims->c == input_dims->c;
        if (quant->rounding == HK_ROUND_SINGLE) {
            if (mult1) {
                hk_mve_depthwise(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output,
                                 HK_ROUND_SINGLE, 1);
            } else {
                hk_mve_depthwise(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output,
                                 HK_ROUND_SINGLE, 0);
            }
        } else if (mult1 && hk_mve_rounding(quant) == HK_MVE_ROUND_DOUBLE_NO_LEFT) {
            hk_mve_depthwise(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output,
                             HK_MVE_ROUND_DOUBLE_NO_LEFT, 1);
        } else if (mult1) {
            hk_mve_depthwise(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output,
                             HK_ROUND_DOUBLE, 1);
        } else {
            hk_mve_depthwise(params, quant, input_dims, input, filter_dims, filter, bias, output_dims, output,
                             HK_ROUND_DOUBLE, 0);
        }
        return HK_OK;
    }
#endif
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t out_c = output_dims->c, mult = out_c / in_c;
    const int32_t per_channel = quant->count > 1;
    for (int32_t oy = 0; oy < output_dims->h; oy++) {
        const int32_t y0 = oy * params->stride.h - params->padding.top;
        for (int32_t ox = 0; ox < output_dims->w; ox++) {
            const int32_t x0 = ox * params->stride.w - params->padding.left;
            for (int32_t oc = 0; oc < out_c; oc++) {
                int32_t acc = bias ? bias[oc] : 0;
                for (int32_t ky = 0; ky < filter_dims->h; ky++) {
                    const int32_t iy = y0 + ky * params->dilation.h;
                    for (int32_t kx = 0; iy >= 0 && iy < in_h && kx < filter_dims->w; kx++) {
                        const int32_t ix = x0 + kx * params->dilation.w;
                        if (ix < 0 || ix >= in_w) {
                            continue;
                        }
                        const int32_t x = input[(iy * in_w + ix) * in_c + oc / mult];
                        acc += (int32_t)filter[(ky * filter_dims->w + kx) * out_c + oc] * (x + params->input_offset);
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
